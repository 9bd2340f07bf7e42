"""The ward's public pages for citizens: announcements, the procedure catalog, hotline and feedback.

Read-only, no login. :func:`routes` gives the Starlette routes to mount at ``/``;
:class:`Site` renders the same pages for ``broadcaster publish --out DIR``; :func:`is_public` is
the one rule deciding which announcement may be shown.
"""

from __future__ import annotations

from broadcaster.public.data import PublicAnnouncement, is_public, procedure_is_public
from broadcaster.public.site import Site, StoreSource, routes

__all__ = ["PublicAnnouncement", "Site", "StoreSource", "is_public", "procedure_is_public", "routes"]
