"""The ward's public pages: rendered once here, served by Starlette or written to a folder.

:class:`Site` renders every page from a :class:`Source` (what is public now) with Jinja templates
(``templates/*.html``, autoescaped). The same pages are served read-only, without login, by
:func:`routes` (mounted at ``/`` by the central's web server) and written to a folder by
:meth:`Site.export` (``broadcaster publish --out DIR``, for a ward's existing web site). Every
link is relative, so the exported folder works wherever it is uploaded.

Paths (trailing slash: the exported folder holds ``<path>/index.html``)::

    /                      current announcements, hotline, links
    /thong-bao/            current and recent announcements
    /thong-bao/<id>/       one announcement: text, times, khu phố, audio
    /thu-tuc/?q=...        the procedure catalog, searchable (also without JavaScript)
    /thu-tuc/<code>/       one procedure: documents, time, fee, online level, national portal link
    /lien-he/              hotline and where to send feedback
    /feed.atom             the announcements as an Atom feed
    /static/public/...     style sheet and the search script
"""

from __future__ import annotations

import logging
import shutil
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any, Protocol

from jinja2 import Environment, PackageLoader, select_autoescape

from broadcaster.catalog import Procedure
from broadcaster.config import Ward
from broadcaster.wire.times import format_time as fmt_time, utc_now
from broadcaster.public import strings as S
from broadcaster.public.data import PublicAnnouncement, public_announcements, public_procedures, search, search_text

log = logging.getLogger(__name__)

HEADERS = {
    # Read-only pages with no third-party content: nothing but our own files may load.
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; "
                               "media-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "public, max-age=60",
}
STATIC_FILES = {"style.css": "text/css", "search.js": "text/javascript", "icon.svg": "image/svg+xml"}


class Source(Protocol):
    """What is public at ``now``."""

    def announcements(self, now: datetime) -> list[PublicAnnouncement]: ...

    def procedures(self) -> list[Procedure]: ...


class StoreSource:
    """The real source: the ward's store (opened per call: the CLI may write it meanwhile) and catalog."""

    def __init__(self, ward: Ward) -> None:
        self.ward = ward

    def announcements(self, now: datetime) -> list[PublicAnnouncement]:
        from broadcaster.central.store import Store

        with Store.for_ward(self.ward) as store:
            return public_announcements(self.ward, store, now)

    def procedures(self) -> list[Procedure]:
        return public_procedures(self.ward)


@dataclass(frozen=True)
class Page:
    status: int
    content_type: str
    body: bytes


class Site:
    def __init__(self, ward: Ward, source: Source, clock: Callable[[], datetime] = utc_now) -> None:
        self.ward = ward
        self.source = source
        self.clock = clock
        self.env = Environment(
            loader=PackageLoader("broadcaster.public", "templates"),
            autoescape=select_autoescape(["html"]),
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.filters["local"] = self._local
        self.env.filters["paragraphs"] = lambda text: [p.strip() for p in str(text).splitlines() if p.strip()]

    def _local(self, t: datetime | None, fmt: str = "%H:%M ngày %d/%m/%Y") -> str:
        return t.astimezone(self.ward.tz).strftime(fmt) if t else ""

    # -- pages -------------------------------------------------------------------------------

    def _html(self, template: str, depth: int, status: int = 200, **ctx: Any) -> Page:
        root = "../" * depth
        html = self.env.get_template(template).render(S=S, ward=self.ward, root=root, **ctx)
        return Page(status, "text/html; charset=utf-8", html.encode("utf-8"))

    def not_found(self, depth: int = 0) -> Page:
        return self._html("not_found.html", depth, 404)

    def index(self) -> Page:
        anns = self.source.announcements(self.clock())
        return self._html("index.html", 0, current=[a for a in anns if a.current][:10],
                          recent=[a for a in anns if not a.current][:5])

    def announcements(self) -> Page:
        anns = self.source.announcements(self.clock())
        return self._html("announcements.html", 1, current=[a for a in anns if a.current],
                          recent=[a for a in anns if not a.current])

    def announcement(self, ann_id: str) -> Page:
        for a in self.source.announcements(self.clock()):
            if a.id == ann_id:
                return self._html("announcement.html", 2, a=a)
        return self.not_found(2)

    def procedures(self, query: str = "") -> Page:
        procs = self.source.procedures()
        hits = search(procs, query)
        fields: dict[str, list[Procedure]] = {}
        for p in hits:
            fields.setdefault(p.field, []).append(p)
        return self._html("procedures.html", 1, query=query, fields=fields, total=len(procs),
                          folded={p.code: search_text(p) for p in procs})

    def procedure(self, code: str) -> Page:
        for p in self.source.procedures():
            if p.code == code:
                return self._html("procedure.html", 2, p=p)
        return self.not_found(2)

    def contact(self) -> Page:
        return self._html("contact.html", 1)

    def feed(self) -> Page:
        return Page(200, "application/atom+xml; charset=utf-8", self._atom(self.source.announcements(self.clock())))

    def _atom(self, anns: list[PublicAnnouncement]) -> bytes:
        ns = "http://www.w3.org/2005/Atom"
        ET.register_namespace("", ns)
        base = self.ward.public.base_url

        def el(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
            e = ET.SubElement(parent, f"{{{ns}}}{tag}", attrs)
            if text is not None:
                e.text = text
            return e

        def ident(path: str) -> str:
            # Atom ids must be absolute and never change: the public address if known, else a tag URI
            return f"{base}{path}" if base else f"tag:broadcaster.local,2026:{self.ward.id}/{path}"

        feed = ET.Element(f"{{{ns}}}feed")
        el(feed, "title", S.FEED_TITLE.format(ward=self.ward.name))
        el(feed, "id", ident(""))
        el(feed, "link", href=f"{base}feed.atom" if base else "feed.atom", rel="self")
        el(feed, "link", href=base or "./", rel="alternate", type="text/html")
        el(feed, "updated", fmt_time(max((a.first_aired for a in anns), default=self.clock())))
        author = el(feed, "author")
        el(author, "name", self.ward.name)
        for a in anns:
            entry = el(feed, "entry")
            el(entry, "title", a.title)
            el(entry, "id", ident(f"thong-bao/{a.id}/"))
            el(entry, "link", href=f"{base or ''}thong-bao/{a.id}/", rel="alternate", type="text/html")
            if a.audio:
                el(entry, "link", href=f"{base or ''}media/{a.audio}", rel="enclosure", type="audio/mpeg")
            el(entry, "updated", fmt_time(a.first_aired))
            el(entry, "published", fmt_time(a.first_aired))
            # the term stays machine-readable; the label is what a feed reader shows
            el(entry, "category", term=a.priority, label=S.FEED_CATEGORY.get(a.priority, a.priority))
            el(entry, "summary", f"{S.ZONES}: {', '.join(a.zones)}. {S.FIRST_AIRED}: {self._local(a.first_aired)}.")
            el(entry, "content", a.text, type="text")
        return ET.tostring(feed, encoding="utf-8", xml_declaration=True)

    # -- export ------------------------------------------------------------------------------

    def export(self, out: Path, media: Callable[[str], Path | None] | None = None) -> list[Path]:
        """Write every page into ``out`` (``<path>/index.html``), the feed, the static files, and the
        audio of each public announcement (``media`` resolves a media name to its file, e.g.
        ``MediaStore.get``) under ``media/``. The folder is replaced whole."""
        now = self.clock()
        anns = self.source.announcements(now)
        procs = self.source.procedures()
        pages: dict[str, Page] = {
            "index.html": self.index(),
            "thong-bao/index.html": self.announcements(),
            "thu-tuc/index.html": self.procedures(),
            "lien-he/index.html": self.contact(),
            "feed.atom": self.feed(),
        }
        pages |= {f"thong-bao/{a.id}/index.html": self.announcement(a.id) for a in anns}
        pages |= {f"thu-tuc/{p.code}/index.html": self.procedure(p.code) for p in procs}
        written = []
        tmp = out.with_name(f".{out.name}.tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        for rel, page in pages.items():
            path = tmp / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(page.body)
            written.append(out / rel)
        static = tmp / "static" / "public"
        static.mkdir(parents=True, exist_ok=True)
        for name in STATIC_FILES:
            (static / name).write_bytes(static_file(name))
            written.append(out / "static" / "public" / name)
        if media is not None:
            for a in anns:
                src = media(a.audio) if a.audio else None
                if src is not None:
                    (tmp / "media").mkdir(exist_ok=True)
                    shutil.copyfile(src, tmp / "media" / src.name)
                    written.append(out / "media" / src.name)
        # swap in whole: a web server syncing the folder never sees half an export
        if out.exists():
            old = out.with_name(f".{out.name}.old")
            shutil.rmtree(old, ignore_errors=True)
            out.rename(old)
            tmp.rename(out)
            shutil.rmtree(old, ignore_errors=True)
        else:
            out.parent.mkdir(parents=True, exist_ok=True)
            tmp.rename(out)
        log.info("public pages written to %s: %d files", out, len(written))
        return written


def static_file(name: str) -> bytes:
    return resources.files("broadcaster.public").joinpath("static", name).read_bytes()


def routes(ward: Ward, source: Source | None = None, *, clock: Callable[[], datetime] = utc_now) -> list[Any]:
    """Starlette routes of the public pages, to mount at ``/``: GET and HEAD only, no login, no
    cookies, nothing written. ``source`` defaults to the ward's store and catalog."""
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    site = Site(ward, source or StoreSource(ward), clock)

    def respond(page: Page) -> Response:
        return Response(page.body, page.status, headers=HEADERS, media_type=page.content_type)

    async def index(request: Request) -> Response:
        return respond(site.index())

    async def announcements(request: Request) -> Response:
        return respond(site.announcements())

    async def announcement(request: Request) -> Response:
        return respond(site.announcement(request.path_params["ann_id"]))

    async def procedures(request: Request) -> Response:
        return respond(site.procedures(request.query_params.get("q", "")[:200]))

    async def procedure(request: Request) -> Response:
        return respond(site.procedure(request.path_params["code"]))

    async def contact(request: Request) -> Response:
        return respond(site.contact())

    async def feed(request: Request) -> Response:
        return respond(site.feed())

    async def static(request: Request) -> Response:
        name = request.path_params["name"]
        if name not in STATIC_FILES:  # a fixed list: no path reaches the file system
            return respond(site.not_found(2))
        return Response(static_file(name), headers=HEADERS, media_type=f"{STATIC_FILES[name]}; charset=utf-8")

    return [
        Route("/", index),
        Route("/thong-bao/", announcements),
        Route("/thong-bao/{ann_id}/", announcement),
        Route("/thu-tuc/", procedures),
        Route("/thu-tuc/{code}/", procedure),
        Route("/lien-he/", contact),
        Route("/feed.atom", feed),
        Route("/static/public/{name}", static),
    ]
