"""Slides for the TV at the reception desk (Bộ phận Tiếp nhận và Trả kết quả): 1920x1080 PNG.

Three kinds, each available as a pure layout (``layout_*``, list of :class:`SlideLayout`) and as files
(``render_*``, list of PNG paths):

- an announcement: ward header, title, body, hotline footer, optional priority badge;
- a procedure from the TTHC catalog: name, field, documents, processing time, fee, online level,
  and a QR code when the entry has a link;
- the hotline / feedback (phản ánh, kiến nghị) slide.

Text is normalised to NFC, wrapped by measured width and shrunk step by step down to a readable
minimum (:class:`SlideStyle`: 36 px body, 48 px titles by default, for a TV read from across a room);
what still does not fit continues on further slides marked "(tiếp theo)" and "1/2". The same input
gives byte-identical PNGs, so media can be addressed by sha256.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal

import segno
from PIL import Image, ImageDraw

from broadcaster.catalog import Procedure
from broadcaster.fsutil import atomic_write
from broadcaster.slides.facts import KeyFacts, key_facts, shorten
from broadcaster.slides.layout import (
    Block,
    Box,
    Item,
    Para,
    Placed,
    PlacedBlock,
    PlacedLine,
    RoleStyle,
    content_bottom,
    ellipsize,
    fit_line,
    flow,
    get_font,
    line_height,
    measure,
    missing_glyphs,
    remainder,
)

log = logging.getLogger(__name__)

Priority = Literal["normal", "priority", "emergency"]
PRIORITIES: Final[tuple[str, ...]] = ("normal", "priority", "emergency")

CONTINUED: Final = "(tiếp theo)"
_STEM_RE: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


@dataclass(frozen=True, slots=True)
class SlideStyle:
    """Geometry, type sizes and colours of every slide.

    Sizes are pixels of the 1920x1080 image. The reading rule (docs/slides.md) is that every line a
    citizen reads is at least ``min_body_size`` = 58 px (cap height 41 px): on a 43" TV, the smallest
    the ward would hang, that is 20 arcminutes of cap height at 3.5 m and 17.6 at 4 m, within the
    16–24 arcminute range legibility guidance gives for text read at a glance; a 55" TV does better.
    Text starts large and shrinks step by step only as far as that minimum, and never past
    ``layout.MAX_LINE_CHARS`` characters a line; what does not fit moves on to another slide.
    Short texts keep the largest size that fits, so they fill the screen.
    """

    width: int = 1920
    height: int = 1080
    # 5 % on every side: the title-safe area, because some TVs still crop the edges (overscan).
    margin_x: int = 96
    margin_y: int = 54
    header_height: int = 150
    footer_height: int = 140
    gutter: int = 56
    panel_widths: tuple[int, ...] = (720, 840, 600, 960)  # side panel widths tried, preferred first
    panel_padding: int = 28

    title_size: int = 112
    min_title_size: int = 72
    body_size: int = 100
    min_body_size: int = 58
    note_size: int = 100
    min_note_size: int = 58
    big_size: int = 150
    min_big_size: int = 110
    header_size: int = 58
    min_header_size: int = 48  # only a ward name too long for the header band goes below 58 px
    size_step: int = 6  # body 100 → 94 → ... → 58; the other roles follow proportionally
    qr_size: int = 260  # about 16 cm on a 55" TV: scans from a couple of metres

    background: str = "#F6F8FA"
    text: str = "#111C26"
    muted: str = "#3E4C59"
    accent: str = "#0B5374"  # calm deep blue-teal: header band, headings, list numbers
    header_text: str = "#FFFFFF"
    footer_band: str = "#DDE8F0"
    footer_text: str = "#0A2E44"
    panel: str = "#E5EDF3"
    emergency: str = "#B3261E"
    priority_badge: str = "#F2C14E"
    priority_text: str = "#1F1A0A"
    png_compress_level: int = 3  # zlib 3: a flat-colour slide saves in a few ms, only ~10 % bigger than 9

    def colors(self) -> dict[str, str]:
        return {"text": self.text, "muted": self.muted, "accent": self.accent}

    def levels(self) -> list[dict[str, RoleStyle]]:
        """Type sizes for each shrink step, largest first."""
        steps = max(0, (self.body_size - self.min_body_size) // max(1, self.size_step))

        def at(big: int, small: int, i: int) -> int:
            return big if steps == 0 else round(big - (big - small) * i / steps)

        return [
            {
                "title": RoleStyle(at(self.title_size, self.min_title_size, i), True),
                "heading": RoleStyle(at(self.body_size, self.min_body_size, i), True),
                "body": RoleStyle(at(self.body_size, self.min_body_size, i), False),
                "note": RoleStyle(at(self.note_size, self.min_note_size, i), False),
                "big": RoleStyle(at(self.big_size, self.min_big_size, i), True),
            }
            for i in range(steps + 1)
        ]

    @property
    def safe(self) -> Box:
        return Box(self.margin_x, self.margin_y, self.width - 2 * self.margin_x, self.height - 2 * self.margin_y)


DEFAULT_STYLE: Final = SlideStyle()


@dataclass(frozen=True, slots=True)
class Rect:
    box: Box
    fill: str
    radius: int = 0


@dataclass(frozen=True, slots=True)
class SlideLayout:
    """Everything drawn on one slide, already placed; :func:`draw_slide` only paints it.

    ``lines`` holds every text line (header and footer included), each with the box it must stay in;
    ``body_size`` is the body type size the slide settled on.
    """

    width: int
    height: int
    background: str
    safe: Box
    content: Box
    page: int
    pages: int
    body_size: int
    rects: tuple[Rect, ...]
    lines: tuple[PlacedLine, ...]
    blocks: tuple[PlacedBlock, ...]


@dataclass(frozen=True, slots=True)
class _Column:
    """A column under the title. ``width`` None shares what is left; a panel gets a tinted background
    and tries each of ``SlideStyle.panel_widths`` to balance against its neighbour."""

    items: Sequence[Item]
    panel: bool = False
    width: int | None = None
    repeat: bool = False  # shown again on every slide (the QR code of the item's public page)


@dataclass(frozen=True, slots=True)
class _Header:
    ward_name: str
    hotline: str
    band: str
    badge: tuple[str, str, str] | None = None  # text, fill, text colour


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


# ------------------------------------------------------------------------------------------ compose

def _header_footer(style: SlideStyle, head: _Header, page: int, pages: int) -> tuple[list[Rect], list[PlacedLine]]:
    safe = style.safe
    band_top = Box(0, 0, style.width, style.header_height)
    band_bottom = Box(0, style.height - style.footer_height, style.width, style.footer_height)
    rects = [Rect(band_top, head.band), Rect(band_bottom, style.footer_band)]
    lines: list[PlacedLine] = []
    # Text sits in the part of each band that is inside the safe area; the band colour runs to the edge.
    head_box = Box(safe.x, safe.y, safe.w, style.header_height - safe.y)
    right = head_box.right

    def put(text: str, size: int, bold: bool, color: str, x: int, box: Box, band: Box) -> PlacedLine:
        # Centred in the coloured band, but never out of the safe area.
        lh = line_height(size, bold)
        y = min(max(band.y + (band.h - lh) // 2, box.y), box.bottom - lh)
        line = PlacedLine(text, x, y, measure(text, size, bold), lh, size, bold, color, box)
        lines.append(line)
        return line

    if pages > 1:
        marker = f"{page}/{pages}"
        w = measure(marker, style.header_size, False)
        put(marker, style.header_size, False, style.header_text, right - w, head_box, band_top)
        right -= w + 40
    if head.badge:
        text, fill, color = head.badge
        size = style.header_size
        pad = size // 2
        w = measure(text, size, True)
        line = put(text, size, True, color, right - w - pad, head_box, band_top)
        rects.append(Rect(Box(line.x - pad, line.y - 4, w + 2 * pad, line.height + 8), fill, radius=12))
        right -= w + 2 * pad + 40
    ward, size = fit_line(head.ward_name, style.header_size, style.min_header_size, True, right - safe.x)
    put(ward, size, True, style.header_text, safe.x, head_box, band_top)

    footer_top = style.height - style.footer_height
    foot_box = Box(safe.x, footer_top, safe.w, safe.bottom - footer_top)
    text, size = fit_line(f"Đường dây nóng: {head.hotline}", style.header_size, style.min_header_size, True, safe.w)
    put(text, size, True, style.footer_text, safe.x, foot_box, band_bottom)
    return rects, lines


def _continuation_line(title: str, roles: dict[str, RoleStyle], style: SlideStyle, box: Box) -> PlacedLine:
    """"<title> (tiếp theo)" on one line: the title is cut, the marker never is."""
    role = roles["heading"]
    suffix = f" {CONTINUED}"
    text = ellipsize(title, role.size, role.bold, box.w - measure(suffix, role.size, role.bold)) + suffix
    return PlacedLine(text, box.x, box.y, measure(text, role.size, role.bold), line_height(role.size, role.bold),
                      role.size, role.bold, style.accent, box)


def _compose(
    style: SlideStyle,
    head: _Header,
    *,
    title: str,
    top: Sequence[Item],
    aside: Block | None,
    columns: Sequence[_Column],
    page_offset: int = 0,
    of_pages: int | None = None,
) -> list[SlideLayout]:
    """Fit ``top`` (with an ``aside`` picture at its right) above side-by-side ``columns``.

    Tries each type-size step, largest first, and at each step each panel width, and keeps the first
    combination that puts everything on one slide; if none does, the smallest step is paginated
    with the panel width giving the fewest slides. A title so long that it leaves no room for the
    columns even at the smallest step makes everything flow as one column, so nothing can overflow.
    """
    safe, colors = style.safe, style.colors()
    gap = 28
    content_top = style.header_height + 32
    content = Box(safe.x, content_top, safe.w, style.height - style.footer_height - 28 - content_top)
    min_col_h = 3 * line_height(style.min_body_size)
    has_panel = any(c.panel for c in columns)
    panel_widths = style.panel_widths if has_panel else (0,)

    def widths(panel_w: int) -> list[int]:
        fixed = sum(panel_w if c.panel else (c.width or 0) for c in columns) + style.gutter * (len(columns) - 1)
        n_free = sum(1 for c in columns if not c.panel and c.width is None) or 1
        return [panel_w if c.panel else c.width or (content.w - fixed) // n_free for c in columns]

    # placed title area, each column's slides, each column's area, where each column's slides break
    Attempt = tuple[list[Placed], list[list[list[Placed]]], list[Box], list[list[tuple[int, int]]]]

    def attempt(roles: dict[str, RoleStyle], panel_w: int) -> Attempt | None:
        top_w = content.w - (aside.size + style.gutter if aside else 0)
        top_box = Box(content.x, content.y, top_w, content.h)
        top_pages = flow(top, top_box, top_box, roles, colors)
        if len(top_pages) > 1:
            return None
        placed_top: list[Placed] = list(top_pages[0])
        text_bottom = content_bottom(placed_top, content.y)
        side: Box | None = None
        if aside:
            side = Box(content.right - aside.size, content.y, aside.size, aside.size)
            placed_top.append(PlacedBlock(aside.kind, side, aside.payload, content))
        next_y = content.y + line_height(roles["heading"].size, True) + gap
        col_pages: list[list[list[Placed]]] = []
        panels: list[Box] = []
        col_breaks: list[list[tuple[int, int]]] = []
        x = content.x
        for col, w in zip(columns, widths(panel_w)):
            # A column starts under the title text, or under the aside picture if it lies beneath it.
            under_aside = side is not None and x + w > side.x
            start = max(text_bottom, side.bottom if under_aside and side else 0)
            first_y = start + gap if placed_top else content.y
            pad = style.panel_padding if col.panel else 0
            first = Box(x + pad, first_y + pad, w - 2 * pad, content.bottom - first_y - 2 * pad)
            following = Box(x + pad, next_y + pad, w - 2 * pad, content.bottom - next_y - 2 * pad)
            if first.h < min_col_h:
                return None
            col_breaks.append([])
            col_pages.append(flow(col.items, first, following, roles, colors, col_breaks[-1]))
            panels.append(Box(x, first_y, w, content.bottom - first_y))
            x += w + style.gutter
        return placed_top, col_pages, panels, col_breaks

    def n_pages(result: Attempt) -> int:
        return max((len(p) for p in result[1]), default=1)

    def cost(result: Attempt) -> tuple[int, int]:
        # Fewest slides; among equals, the width that splits the fewest columns (keeps the panel whole).
        return n_pages(result), sum(len(p) for p in result[1])

    chosen: tuple[dict[str, RoleStyle], Attempt] | None = None
    for roles in style.levels():
        tries = [r for r in (attempt(roles, w) for w in panel_widths) if r is not None]
        if not tries:
            continue
        best = min(tries, key=cost)  # min() keeps the first of equals: the preferred width
        chosen = roles, best
        if n_pages(best) == 1:
            break
    if chosen is None:
        # Even the smallest title leaves no room for the columns: one column, one flow.
        items: list[Item] = [*([aside] if aside else []), *top]
        for col in columns:
            items.extend(col.items)
        roles = style.levels()[-1]
        cont_h = line_height(roles["heading"].size, True) + gap
        following = Box(content.x, content.y + cont_h, content.w, content.h - cont_h)
        chosen = roles, ([], [flow(items, content, following, roles, colors)], [content], [[]])
        columns = [_Column(items)]

    roles, (placed_top, col_pages, panels, col_breaks) = chosen
    next_y = content.y + line_height(roles["heading"].size, True) + gap
    long_cols = [i for i, pages in enumerate(col_pages) if len(pages) > 1]
    widened: set[int] = set()
    if len(columns) > 1 and len(long_cols) == 1 and not any(c.repeat for c in columns):
        # Only one column goes on: after the first slide it gets the full width, not a half-empty slide.
        k = long_cols[0]
        width = panels[k].w - (2 * style.panel_padding if columns[k].panel else 0)
        rest = remainder(columns[k].items, col_breaks[k][0], roles, width)
        wide = Box(content.x, next_y, content.w, content.bottom - next_y)
        col_pages = list(col_pages)
        col_pages[k] = [col_pages[k][0], *flow(rest, wide, wide, roles, colors)]
        widened.add(k)
    total = max(len(p) for p in col_pages)
    slides: list[SlideLayout] = []
    shown_total = of_pages or page_offset + total  # slides of the same item laid out before or after
    for i in range(total):
        rects, lines = _header_footer(style, head, page_offset + i + 1, shown_total)
        blocks: list[PlacedBlock] = []
        placed: list[Placed] = list(placed_top) if i == 0 else [_continuation_line(title, roles, style, content)]
        for k, (col, pages, panel) in enumerate(zip(columns, col_pages, panels)):
            if col.repeat and i > 0 and pages and pages[0]:
                dy = next_y - min(p.y if isinstance(p, PlacedLine) else p.box.y for p in pages[0])
                placed.extend(
                    PlacedBlock(p.kind, Box(p.box.x, p.box.y + dy, p.box.w, p.box.h), p.payload,
                                Box(p.container.x, next_y, p.container.w, content.bottom - next_y))
                    if isinstance(p, PlacedBlock) else p
                    for p in pages[0] if isinstance(p, PlacedBlock)
                )
                continue
            if i < len(pages) and pages[i]:
                if col.panel and (i == 0 or k not in widened):
                    top_y = panel.y if i == 0 else next_y
                    rects.append(Rect(Box(panel.x, top_y, panel.w, content.bottom - top_y), style.panel, radius=16))
                placed.extend(pages[i])
        for p in placed:
            if isinstance(p, PlacedLine):
                lines.append(p)
            else:
                blocks.append(p)
        slides.append(SlideLayout(style.width, style.height, style.background, safe, content, page_offset + i + 1, shown_total,
                                  roles["body"].size, tuple(rects), tuple(lines), tuple(blocks)))
    _warn_missing(slides)
    return slides


def _warn_missing(slides: Sequence[SlideLayout]) -> None:
    missing: set[str] = set()
    for slide in slides:
        for line in slide.lines:
            missing |= missing_glyphs(line.text, line.bold)
    if missing:
        names = ", ".join(f"{c!r} U+{ord(c):04X}" for c in sorted(missing))
        log.warning("the slide font has no glyph for %s; they will show as empty boxes", names)


def _body_items(body: str) -> list[Item]:
    """Paragraphs from the officer's text: one per line; "-", "•", "*" or "+" at line start make a bullet."""
    items: list[Item] = []
    blank = False
    for raw in body.splitlines():
        line = raw.strip()
        if not line:
            blank = True
            continue
        space = 0.0 if not items else (0.7 if blank else 0.35)
        blank = False
        m = re.match(r"^[-•*+]\s+(.*)$", line)
        if m:
            items.append(Para(m.group(1), "body", marker="•", space_before=space))
        else:
            items.append(Para(line, "body", space_before=space))
    return items


# --------------------------------------------------------------------------------------- slide kinds

def _badge(priority: str, style: SlideStyle) -> tuple[str, tuple[str, str, str] | None]:
    if priority not in PRIORITIES:
        raise ValueError(f"priority {priority!r} is not one of {', '.join(PRIORITIES)}")
    if priority == "emergency":
        return style.emergency, ("KHẨN CẤP", "#FFFFFF", style.emergency)
    if priority == "priority":
        return style.accent, ("ƯU TIÊN", style.priority_badge, style.priority_text)
    return style.accent, None


def _labelled(pairs: Sequence[tuple[str, str | None]], *, space: float = 0.35) -> list[Item]:
    """Facts as "Label  value" rows: the label in bold accent colour in a hanging column, so the
    value's wrapped lines align and no line is spent on a heading."""
    present = [(label, value) for label, value in pairs if value]
    if not present:
        return []
    widest = max((label for label, _ in present), key=len)
    return [Para(value, "body", marker=label, hang=widest + "  ", marker_bold=True, space_before=space if i else 0.0)
            for i, (label, value) in enumerate(present)]


def _facts_items(facts: KeyFacts, what_limit: int, *, emergency: bool, where: str | None, hotline: str) -> list[Item]:
    what = shorten(facts.what, what_limit) if what_limit else None  # 0: the title says what
    if emergency:
        items = _labelled([("Việc gì", what), ("Ở đâu", where or facts.where)])
        if facts.todo:
            items.append(Para("Việc cần làm", "heading", "accent", space_before=0.5, keep_with_next=True))
            items += [Para(t, "body", marker="•", space_before=0.2) for t in facts.todo]
        return items  # the hotline is in the footer of every slide
    # the venue the text names ("tại Nhà văn hóa KP2") tells a citizen where to go; the khu phố the
    # announcement is for only when the text names none (an emergency's "where" is its khu phố)
    return _labelled([("Nội dung", what), ("Thời gian", facts.when), ("Địa điểm", facts.where or where),
                      ("Liên hệ", facts.contact)])


def _facts_slide(style: SlideStyle, head: _Header, title: str, facts: KeyFacts, qr: Block | None, *,
                 emergency: bool, where: str | None, hotline: str, of_pages: int) -> SlideLayout:
    """One slide of key facts; the "what" is cut shorter (then instructions dropped) until it fits."""
    attempts = [(limit, facts) for limit in (140, 100, 70, 0)]
    if facts.todo:
        attempts += [(70, KeyFacts(facts.what, facts.when, facts.where, facts.contact, facts.todo[:1]))]
    for limit, f in attempts:
        items = _facts_items(f, limit, emergency=emergency, where=where, hotline=hotline)
        # the QR code in a column of its own at the right, so the facts start right under the title
        columns = [_Column(items), *([_Column([qr], width=qr.size, repeat=True)] if qr else [])]
        slides = _compose(style, head, title=title, top=[Para(title, "title")], aside=None, columns=columns,
                          of_pages=of_pages)
        if len(slides) == 1:
            return slides[0]
    return slides[0]  # the title alone fills the slide: the rest is on the continuation slides


def layout_announcement(
    title: str,
    body: str,
    *,
    ward_name: str,
    hotline: str,
    priority: Priority = "normal",
    link: str | None = None,
    where: str | None = None,
    style: SlideStyle = DEFAULT_STYLE,
) -> list[SlideLayout]:
    """Lay out an announcement; an emergency gets a red header band and a "KHẨN CẤP" badge.

    Text that fits one slide is set as large as it fits. A longer one starts with a key-facts slide
    (what, when, where, contact, from :func:`facts.key_facts`) followed by the full text. An emergency
    always gets its own slide first: where (``where``, e.g. the khu phố it is sent to), what to do,
    what, and the hotline; the full text follows only if it does not fit there. ``link`` (the
    announcement's public page) is drawn as a QR code on the first slide.
    """
    title, body = _nfc(title).strip(), _nfc(body)
    if not title:
        raise ValueError("an announcement needs a title")
    band, badge = _badge(priority, style)
    head = _Header(_nfc(ward_name), _nfc(hotline), band, badge)
    qr = _qr_block(link, style)
    emergency = priority == "emergency"
    qr_col = [_Column([qr], width=qr.size, repeat=True)] if qr else []
    whole = _compose(style, head, title=title, top=[Para(title, "title")], aside=None,
                     columns=[_Column(_body_items(body)), *qr_col])
    facts = key_facts(title, body)
    if len(whole) == 1 and not emergency:
        return whole
    if not emergency and not facts.found():
        return whole  # nothing to pull out: the text itself, on as many slides as it needs
    full = [] if len(whole) == 1 else _compose(style, head, title=title, top=[Para(title, "title")], aside=None,
                                                 columns=[_Column(_body_items(body)), *qr_col], page_offset=1)
    first = _facts_slide(style, head, title, facts, qr, emergency=emergency, where=where and _nfc(where),
                         hotline=_nfc(hotline), of_pages=1 + len(full))
    return [first, *full]


def online_level_text(level: str | None) -> str:
    """How the catalog's online level reads on the TV."""
    if level is None:
        return "không (nộp hồ sơ trực tiếp)"
    return level


def _qr_block(link: str | None, style: SlideStyle) -> Block | None:
    return Block("qr", style.qr_size, link) if link else None


def layout_procedure(
    proc: Procedure, *, ward_name: str, hotline: str, link: str | None = None, style: SlideStyle = DEFAULT_STYLE
) -> list[SlideLayout]:
    """Lay out one catalog procedure: name, field and online level on top, the documents on the left,
    processing time and fee in a side panel, and a QR code at the top right: to ``link`` (the
    procedure's public page) if given, else to the procedure's own link (the national portal)."""
    name = _nfc(proc.name)
    # One full-width column: at the reading size two columns would hold a few words a line each.
    facts = _labelled([
        ("Thời hạn", _nfc(proc.processing_time)),
        ("Phí, lệ phí", _nfc(proc.fee)),
        ("Trực tuyến", online_level_text(proc.online_level)),
    ])
    top: list[Item] = [
        Para(name, "title"),
        Para(f"Lĩnh vực: {_nfc(proc.field)}", "body", "muted", space_before=0.1),
    ]
    docs: list[Item] = [Para("Thành phần hồ sơ", "heading", "accent", space_before=0.5, keep_with_next=True)]
    widest = f"{len(proc.documents)}."
    docs += [Para(_nfc(d), "body", marker=f"{i}.", hang=widest, space_before=0.25)
             for i, d in enumerate(proc.documents, 1)]
    head = _Header(_nfc(ward_name), _nfc(hotline), style.accent)
    qr = _qr_block(link or proc.link, style)
    # the QR code at the right of every slide of the procedure, not only the first
    return _compose(style, head, title=name, top=top, aside=None,
                    columns=[_Column([*facts, *docs]), *([_Column([qr], width=qr.size, repeat=True)] if qr else [])])


def layout_hotline(
    *, ward_name: str, hotline: str, feedback_address: str, link: str | None = None,
    style: SlideStyle = DEFAULT_STYLE,
) -> list[SlideLayout]:
    """Lay out the feedback slide: the hotline in large type and where to send phản ánh, kiến nghị;
    a QR code at the right when ``link`` is given (e.g. the online feedback page)."""
    title = "Tiếp nhận phản ánh, kiến nghị"
    address = [line.strip() for line in _nfc(feedback_address).splitlines() if line.strip()]
    items: list[Item] = [
        Para("Gọi đường dây nóng", "heading", "accent", keep_with_next=True),
        Para(_nfc(hotline), "big"),
        Para("Gửi phản ánh, kiến nghị tại", "heading", "accent", space_before=0.5, keep_with_next=True),
        *[Para(line, "body", space_before=0.3 if i else 0.0) for i, line in enumerate(address)],
    ]
    columns = [_Column(items)]
    qr = _qr_block(link, style)
    if qr:
        columns.append(_Column([qr], width=qr.size))
    head = _Header(_nfc(ward_name), _nfc(hotline), style.accent)
    return _compose(style, head, title=title, top=[Para(title, "title")], aside=None, columns=columns)


# ------------------------------------------------------------------------------------------- drawing

def _qr_image(payload: str, side: int) -> Image.Image:
    """The QR code as a crisp white square of ``side`` px: whole-pixel modules, 4-module quiet zone."""
    qr = segno.make(payload, error="m", micro=False)
    n = len(qr.matrix)
    border = 4
    scale = max(1, side // (n + 2 * border))
    data = bytes(0 if bit else 255 for row in qr.matrix for bit in row)
    modules = Image.frombytes("L", (n, n), data).resize((n * scale, n * scale), Image.Resampling.NEAREST)
    out = Image.new("L", (side, side), 255)
    offset = (side - n * scale) // 2
    out.paste(modules, (offset, offset))
    return out.convert("RGB")


def draw_slide(layout: SlideLayout) -> Image.Image:
    """Paint a laid-out slide (RGB, ``layout.width`` x ``layout.height``)."""
    image = Image.new("RGB", (layout.width, layout.height), layout.background)
    draw = ImageDraw.Draw(image)
    for rect in layout.rects:
        b = rect.box
        if rect.radius:
            draw.rounded_rectangle((b.x, b.y, b.right - 1, b.bottom - 1), rect.radius, fill=rect.fill)
        else:
            draw.rectangle((b.x, b.y, b.right - 1, b.bottom - 1), fill=rect.fill)
    for line in layout.lines:
        draw.text((line.x, line.y), line.text, font=get_font(line.size, line.bold), fill=line.color, anchor="la")
    for block in layout.blocks:
        if block.kind == "qr":
            image.paste(_qr_image(block.payload, block.box.w), (block.box.x, block.box.y))
    return image


def save_png(image: Image.Image, path: str | Path, *, compress_level: int = 3) -> Path:
    """Write ``image`` as PNG atomically: a reader sees the old file or the complete new one, never half.

    Pillow writes no timestamps into PNGs, so equal pixels give equal bytes.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # 0644: the media server must be able to read the file
    return atomic_write(path, lambda fh: image.save(fh, format="PNG", compress_level=compress_level), mode=0o644)


def save_slides(slides: Sequence[SlideLayout], out_dir: str | Path, stem: str,
                style: SlideStyle = DEFAULT_STYLE) -> list[Path]:
    """Draw and save ``slides`` as ``<stem>-01.png``, ``<stem>-02.png``, ... in ``out_dir``."""
    if not _STEM_RE.match(stem):
        raise ValueError(f"stem {stem!r} must be letters, digits, '_', '-' or '.', and not start with '.' or '-'")
    out = Path(out_dir)
    paths = []
    for slide in slides:
        path = out / f"{stem}-{slide.page:02d}.png"
        save_png(draw_slide(slide), path, compress_level=style.png_compress_level)
        paths.append(path)
    log.debug("wrote %d slide(s) for %s in %s", len(paths), stem, out)
    return paths


def render_announcement(
    title: str,
    body: str,
    *,
    ward_name: str,
    hotline: str,
    priority: Priority = "normal",
    out_dir: str | Path,
    stem: str,
    link: str | None = None,
    where: str | None = None,
    style: SlideStyle = DEFAULT_STYLE,
) -> list[Path]:
    """Announcement slide(s) as PNG files; see :func:`layout_announcement`."""
    slides = layout_announcement(title, body, ward_name=ward_name, hotline=hotline, priority=priority, link=link,
                                 where=where, style=style)
    return save_slides(slides, out_dir, stem, style)


def render_procedure(
    proc: Procedure, *, ward_name: str, hotline: str, out_dir: str | Path, stem: str, link: str | None = None,
    style: SlideStyle = DEFAULT_STYLE,
) -> list[Path]:
    """Procedure slide(s) as PNG files; see :func:`layout_procedure`."""
    return save_slides(layout_procedure(proc, ward_name=ward_name, hotline=hotline, link=link, style=style),
                       out_dir, stem, style)


def render_hotline(
    *, ward_name: str, hotline: str, feedback_address: str, out_dir: str | Path, stem: str,
    link: str | None = None, style: SlideStyle = DEFAULT_STYLE,
) -> list[Path]:
    """Hotline / feedback slide(s) as PNG files; see :func:`layout_hotline`."""
    slides = layout_hotline(ward_name=ward_name, hotline=hotline, feedback_address=feedback_address, link=link,
                            style=style)
    return save_slides(slides, out_dir, stem, style)


def render_deck(
    procedures: Iterable[Procedure],
    *,
    ward_name: str,
    hotline: str,
    out_dir: str | Path,
    feedback_address: str | None = None,
    progress: bool = False,
    style: SlideStyle = DEFAULT_STYLE,
) -> list[Path]:
    """The reception-TV deck: the feedback slide first (if an address is given), then each procedure
    in catalog order, named ``00-phan-anh-kien-nghi-01.png``, ``01-<code>-01.png``, ...

    The returned list is the play order. ``progress`` shows a tqdm bar on stderr.
    """
    procs = list(procedures)
    paths: list[Path] = []
    if feedback_address:
        paths += render_hotline(ward_name=ward_name, hotline=hotline, feedback_address=feedback_address,
                                out_dir=out_dir, stem="00-phan-anh-kien-nghi", style=style)
    iterator: Iterable[tuple[int, Procedure]] = enumerate(procs, 1)
    if progress:
        from tqdm import tqdm  # only when asked: the TV agent never needs it

        iterator = tqdm(iterator, total=len(procs), desc="slides", unit="thủ tục")
    for i, proc in iterator:
        if not proc.verified:
            log.info("procedure %s is not marked verified; check its facts before showing it publicly", proc.code)
        paths += render_procedure(proc, ward_name=ward_name, hotline=hotline, out_dir=out_dir,
                                  stem=f"{i:02d}-{proc.code}", style=style)
    return paths
