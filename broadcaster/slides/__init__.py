"""Slides for the reception TV: announcements, TTHC procedures and the hotline, as 1920x1080 PNG.

Only :mod:`broadcaster.slides.render` draws; :mod:`broadcaster.slides.layout` measures and places
text with the Noto Sans fonts bundled in ``fonts/`` (SIL Open Font License, ``fonts/OFL.txt``).
"""

from __future__ import annotations

from broadcaster.slides.layout import Box, PlacedBlock, PlacedLine, get_font, has_glyph, missing_glyphs
from broadcaster.slides.render import (
    CONTINUED,
    DEFAULT_STYLE,
    PRIORITIES,
    Priority,
    Rect,
    SlideLayout,
    SlideStyle,
    draw_slide,
    layout_announcement,
    layout_hotline,
    layout_procedure,
    render_announcement,
    render_deck,
    render_hotline,
    render_procedure,
    save_png,
)

__all__ = [
    "CONTINUED", "DEFAULT_STYLE", "PRIORITIES", "Box", "PlacedBlock", "PlacedLine", "Priority", "Rect",
    "SlideLayout", "SlideStyle", "draw_slide", "get_font", "has_glyph", "layout_announcement",
    "layout_hotline", "layout_procedure", "missing_glyphs", "render_announcement", "render_deck",
    "render_hotline", "render_procedure", "save_png",
]
