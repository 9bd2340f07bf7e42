"""Text fitting for the reception-TV slides: bundled fonts, measured word wrap, shrink, paginate.

Everything here works in pixels of the final 1920x1080 image and only measures; drawing is done by
:mod:`broadcaster.slides.render` from the placed lines this module returns. Keeping layout pure makes
the "nothing overflows" promise testable: every :class:`PlacedLine` carries the box it must stay in
and its measured ink width.

Fonts are Noto Sans Regular/Bold shipped inside the package (never a system font: the TV computer
and the central server must draw the same pixels so media can be addressed by its sha256). Pillow's
basic layout engine is used on purpose: Vietnamese in NFC needs no shaping (every letter with its
tone mark is one precomposed code point), and the optional Raqm engine depends on libraries found
at run time, which would make the output differ between machines.
"""

from __future__ import annotations

import io
import math
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Final, Literal

from PIL import ImageFont

FONT_FILES: Final[dict[bool, str]] = {False: "NotoSans-Regular.ttf", True: "NotoSans-Bold.ttf"}
LICENCE_FILE: Final = "OFL.txt"
KEEP_TOGETHER_LINES: Final = 3  # paragraphs up to this many lines are never split across slides
# At most this many characters on a line, whatever the width: a longer line is hard to follow from
# the waiting bench (the eye loses the start of the next line). See docs/slides.md.
MAX_LINE_CHARS: Final = 60  # same as slides.rule.MAX_LINE_CHARS (layout has no imports of its own)

Role = Literal["title", "heading", "body", "note", "big"]


@dataclass(frozen=True, slots=True)
class Box:
    """An axis-aligned rectangle in image pixels; ``right``/``bottom`` are exclusive."""

    x: int
    y: int
    w: int
    h: int

    @property
    def right(self) -> int:
        return self.x + self.w

    @property
    def bottom(self) -> int:
        return self.y + self.h

    def contains(self, other: Box) -> bool:
        return (self.x <= other.x and self.y <= other.y
                and other.right <= self.right and other.bottom <= self.bottom)


@dataclass(frozen=True, slots=True)
class Para:
    """A paragraph to flow into a column.

    ``marker`` is drawn in a hanging indent before the first line (list numbers, bullets) so wrapped
    lines align with the text, not with the marker; ``hang`` (e.g. the widest number of the list)
    sets that indent so every item of a list aligns. ``keep_with_next`` stops a heading from being
    left alone at the bottom of a slide while its content moves to the next.
    """

    text: str
    role: Role = "body"
    color: str = "text"
    marker: str | None = None
    hang: str | None = None
    space_before: float = 0.0  # in multiples of the paragraph's own font size
    keep_with_next: bool = False
    marker_bold: bool = False  # a label ("Thời gian") as the marker rather than a number


@dataclass(frozen=True, slots=True)
class Block:
    """A fixed-size picture in the flow (a QR code); it is never split across slides."""

    kind: str
    size: int  # square side in pixels
    payload: str
    space_before: int = 0


Item = Para | Block


@dataclass(frozen=True, slots=True)
class PlacedLine:
    """One line of text at its final position.

    ``x``/``y`` is the top-left of the line box (Pillow anchor ``"la"``: left, ascender), ``height`` the
    font's ascent + descent, which holds Vietnamese stacked marks (Ễ, Ẫ) and descenders (g, ặ).
    ``width`` is the ink/advance width actually measured for ``text``. ``box`` is the area the line
    must stay in.
    """

    text: str
    x: int
    y: int
    width: int
    height: int
    size: int
    bold: bool
    color: str
    box: Box

    @property
    def bounds(self) -> Box:
        return Box(self.x, self.y, self.width, self.height)


@dataclass(frozen=True, slots=True)
class PlacedBlock:
    kind: str
    box: Box
    payload: str
    container: Box


Placed = PlacedLine | PlacedBlock


# --------------------------------------------------------------------------------------------- fonts

@lru_cache(maxsize=2)
def font_bytes(bold: bool = False) -> bytes:
    """The bundled TTF, read once from the installed package (works from a wheel or a zip too)."""
    return resources.files("broadcaster.slides").joinpath("fonts", FONT_FILES[bold]).read_bytes()


@lru_cache(maxsize=128)
def get_font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont:
    """The bundled font at ``size`` px; cached because FreeType set-up costs more than drawing a line."""
    return ImageFont.truetype(io.BytesIO(font_bytes(bold)), size, layout_engine=ImageFont.Layout.BASIC)


@lru_cache(maxsize=128)
def line_height(size: int, bold: bool = False) -> int:
    ascent, descent = get_font(size, bold).getmetrics()
    return ascent + descent


@lru_cache(maxsize=16384)
def _word_metrics(word: str, size: int, bold: bool) -> tuple[float, float, float]:
    """(advance, ink left, ink right) of one space-free run of text, from its own origin."""
    font = get_font(size, bold)
    left, _top, right, _bottom = font.getbbox(word, anchor="la")
    return font.getlength(word), left, right


@lru_cache(maxsize=128)
def _space(size: int, bold: bool) -> float:
    return get_font(size, bold).getlength(" ")


@lru_cache(maxsize=8192)
def measure(text: str, size: int, bold: bool = False) -> int:
    """Width in pixels that ``text`` occupies when drawn from x=0: the larger of its advance and ink.

    Ink can pass the advance (the horn of "ự" does), and a line is only safe if both fit. FreeType
    measuring costs several microseconds per glyph, so a line is measured from its cached words: the
    basic layout engine places glyphs by adding advances (no kerning, no shaping), so the sum is exact;
    a test checks it against measuring whole lines.
    """
    x = 0.0
    left = 0.0
    right = 0.0
    space = _space(size, bold)
    for i, word in enumerate(text.split(" ")):
        if i:
            x += space
        if word:
            advance, ink_left, ink_right = _word_metrics(word, size, bold)
            left = min(left, x + ink_left)
            right = max(right, x + ink_right)
            x += advance
    return math.ceil(max(right, x)) - math.floor(left)


@lru_cache(maxsize=4)
def _notdef_signature(bold: bool) -> tuple[tuple[float, float, float, float], bytes]:
    font = get_font(48, bold)
    probe = "\U0010fffd"  # a private-use code point no text font maps; it draws the .notdef glyph
    return font.getbbox(probe, anchor="la"), bytes(font.getmask(probe))


@lru_cache(maxsize=4096)
def has_glyph(char: str, bold: bool = False) -> bool:
    """Whether the bundled font draws ``char`` with a glyph of its own rather than the .notdef box.

    Pillow does not expose the font's character map, so a character counts as missing when it renders
    exactly like a code point that no font maps. Spaces and invisible format characters count as present.
    """
    if unicodedata.category(char) in ("Zs", "Cc", "Cf", "Zl", "Zp"):
        return True
    font = get_font(48, bold)
    return (font.getbbox(char, anchor="la"), bytes(font.getmask(char))) != _notdef_signature(bold)


def missing_glyphs(text: str, bold: bool = False) -> set[str]:
    """The characters of ``text`` (after NFC) that the bundled font cannot draw."""
    return {c for c in set(unicodedata.normalize("NFC", text)) if not has_glyph(c, bold)}


# ---------------------------------------------------------------------------------------------- wrap

def _split_long_word(word: str, size: int, bold: bool, max_width: int, max_chars: int = MAX_LINE_CHARS) -> list[str]:
    """Cut a word wider than the box (a long URL, a run of digits) where it has to be cut."""
    pieces: list[str] = []
    rest = word
    while rest:
        if measure(rest, size, bold) <= max_width and len(rest) <= max_chars:
            pieces.append(rest)
            break
        lo, hi = 1, min(len(rest), max_chars)  # largest prefix that fits; at least one character
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if measure(rest[:mid], size, bold) <= max_width:
                lo = mid
            else:
                hi = mid - 1
        pieces.append(rest[:lo])
        rest = rest[lo:]
    return pieces


_BREAKABLE: Final = re.compile(r"[ \t\r\n\f\v\u2028\u2029]+")


@lru_cache(maxsize=2048)
def wrap(text: str, size: int, bold: bool, max_width: int, max_chars: int = MAX_LINE_CHARS) -> tuple[str, ...]:
    """Greedy word wrap by measured width and at most ``max_chars`` characters a line; whitespace runs
    collapse to one space.

    Each candidate line is measured whole (not as a sum of word widths) so what is measured is exactly
    what is drawn.
    """
    lines: list[str] = []
    current = ""
    # Split on ordinary white space only: a no-break space (U+00A0) keeps a phone number whole.
    for word in _BREAKABLE.split(text):
        if not word:
            continue
        candidate = f"{current} {word}" if current else word
        if len(candidate) <= max_chars and measure(candidate, size, bold) <= max_width:
            current = candidate
            continue
        if current:
            lines.append(current)
        if measure(word, size, bold) <= max_width and len(word) <= max_chars:
            current = word
        else:
            *head, current = _split_long_word(word, size, bold, max_width, max_chars)
            lines.extend(head)
    if current:
        lines.append(current)
    return tuple(lines)


def ellipsize(text: str, size: int, bold: bool, max_width: int) -> str:
    """``text`` on one line, cut with "…" if it does not fit (only for repeated captions and headers)."""
    text = " ".join(text.split())
    if measure(text, size, bold) <= max_width:
        return text
    lo, hi = 0, len(text)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if measure(text[:mid].rstrip() + "…", size, bold) <= max_width:
            lo = mid
        else:
            hi = mid - 1
    return text[:lo].rstrip() + "…"


def fit_line(text: str, size: int, min_size: int, bold: bool, max_width: int, step: int = 2) -> tuple[str, int]:
    """One line that fits ``max_width``: shrink from ``size`` to ``min_size``, then cut with "…"."""
    for s in range(size, min_size - 1, -step):
        if measure(text, s, bold) <= max_width:
            return text, s
    return ellipsize(text, min_size, bold, max_width), min_size


# ---------------------------------------------------------------------------------------------- flow

@dataclass(frozen=True, slots=True)
class RoleStyle:
    size: int
    bold: bool


def flow(
    items: Sequence[Item],
    first: Box,
    following: Box,
    roles: dict[str, RoleStyle],
    colors: dict[str, str],
    breaks: list[tuple[int, int]] | None = None,
) -> list[list[Placed]]:
    """Place ``items`` top to bottom into ``first``, then into ``following`` on each further slide.

    Returns the placed items of each slide: at least one (possibly empty) slide. A line or block is
    only ever placed outside its box when the box cannot hold even one of it on an empty slide; the
    caller avoids such boxes. If ``breaks`` is given, (item index, line index) of the start of each
    slide after the first is appended to it (see :func:`remainder`).
    """
    if first.w != following.w:
        raise ValueError("first and following boxes must have the same width (lines are wrapped once)")
    pages: list[list[Placed]] = [[]]
    box = first
    y = box.y

    def new_page(at: tuple[int, int]) -> None:
        nonlocal box, y
        if breaks is not None:
            breaks.append(at)
        pages.append([])
        box = following
        y = box.y

    def page_empty() -> bool:
        return y == box.y

    wrapped: list[tuple[str, tuple[str, ...], int] | None] = []
    for item in items:
        if isinstance(item, Para):
            role = roles[item.role]
            hang = item.hang or item.marker
            indent = measure(hang + " ", role.size, role.bold or item.marker_bold) if hang else 0
            wrapped.append((item.marker or "", wrap(item.text, role.size, role.bold, first.w - indent), indent))
        else:
            wrapped.append(None)

    def first_line_height(i: int) -> int:
        nxt = items[i] if i < len(items) else None
        if isinstance(nxt, Para):
            role = roles[nxt.role]
            return round(nxt.space_before * role.size) + line_height(role.size, role.bold)
        if isinstance(nxt, Block):
            return nxt.space_before + nxt.size
        return 0

    for i, item in enumerate(items):
        if isinstance(item, Block):
            side = min(item.size, box.w, following.h)
            gap = 0 if page_empty() else item.space_before
            if y + gap + side > box.bottom and not page_empty():
                new_page((i, 0))
                gap = 0
            side = min(side, box.bottom - y - gap)
            pages[-1].append(PlacedBlock(item.kind, Box(box.x, y + gap, side, side), item.payload, box))
            y += gap + side
            continue

        para = wrapped[i]
        assert para is not None  # wrapped holds None only at the blocks, handled above
        marker, lines, indent = para
        if not lines:
            continue
        role = roles[item.role]
        lh = line_height(role.size, role.bold)
        gap = 0 if page_empty() else round(item.space_before * role.size)
        # Short paragraphs (a list item, a fee) move whole rather than leave a stray line behind.
        need = gap + lh * (len(lines) if len(lines) <= KEEP_TOGETHER_LINES else 2)
        if item.keep_with_next:
            need = gap + lh * len(lines) + first_line_height(i + 1)
        if y + need > box.bottom and not page_empty():
            new_page((i, 0))
            gap = 0
        y += gap
        color = colors[item.color]
        for n, text in enumerate(lines):
            if y + lh > box.bottom and not page_empty():
                new_page((i, n))
            if n == 0 and marker:
                mb = role.bold or item.marker_bold
                pages[-1].append(PlacedLine(marker, box.x, y, measure(marker, role.size, mb), lh,
                                            role.size, mb, colors["accent"], box))
            pages[-1].append(PlacedLine(text, box.x + indent, y, measure(text, role.size, role.bold), lh,
                                        role.size, role.bold, color, box))
            y += lh
    return pages


def remainder(items: Sequence[Item], at: tuple[int, int], roles: dict[str, RoleStyle], width: int) -> list[Item]:
    """The items from break ``at`` on, to flow again at another width; a paragraph cut at line n
    continues as a paragraph of its remaining words, indented like the item it belongs to."""
    index, line = at
    if line == 0:
        return list(items[index:])
    item = items[index]
    assert isinstance(item, Para)
    role = roles[item.role]
    hang = item.hang or item.marker
    indent = measure(hang + " ", role.size, role.bold or item.marker_bold) if hang else 0
    rest = " ".join(wrap(item.text, role.size, role.bold, width - indent)[line:])
    return [Para(rest, item.role, item.color, hang=hang, marker_bold=item.marker_bold), *items[index + 1:]]


def content_bottom(placed: Sequence[Placed], default: int) -> int:
    """The lowest pixel row used by ``placed`` (``default`` when nothing was placed)."""
    bottoms = [p.y + p.height if isinstance(p, PlacedLine) else p.box.bottom for p in placed]
    return max(bottoms, default=default)
