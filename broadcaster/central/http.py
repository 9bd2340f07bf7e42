"""The media server alone: ``/media/<sha256>.<ext>`` on the ward's one web server implementation.

``broadcaster serve`` runs the whole web application (console + media, ``broadcaster.web``); this
class serves only the media, with the very same route (``broadcaster.web.media``) and server
(``broadcaster.web.server``: uvicorn with bounds against slow clients). Range, ETag and
If-None-Match behave as documented there.
"""

from __future__ import annotations

from starlette.applications import Starlette

from broadcaster.media import MediaStore
from broadcaster.web.media import media_routes
from broadcaster.web.server import WebServer


class MediaServer(WebServer):
    """Serves one MediaStore; ``start()`` runs it on a daemon thread, ``stop()`` shuts it down."""

    def __init__(self, store: MediaStore, listen: str) -> None:
        self.store = store
        super().__init__(Starlette(routes=media_routes(store)), listen)
