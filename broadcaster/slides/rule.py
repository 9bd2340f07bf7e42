"""The reading rule of the reception-TV slides, as numbers a test can hold every slide to.

Derivation (docs/slides.md): legibility guidance for text read at a glance asks for a character
(cap) height of at least 16 arcminutes, 20–24 preferred (ANSI/HFES 100-2007 §6; ISO 9241-303 gives
the same 16/20–22 range). The waiting bench of a reception desk is 3–4 m from a 43–55" TV; the
worst case is the smallest screen seen from the farthest seat. Noto Sans has a cap height of
0.714 em, so a 58 px body line has 41 px capitals: 17.6′ at 4 m and 20.2′ at 3.5 m on a 43" TV,
23.5′ at 3 m; on a 55" TV 22.6′ at 4 m. Lines stop at 60 characters, inside the 45–75 range that
reading research gives for comfortable line length, and short enough that the eye finds the next
line from across a room.
"""

from __future__ import annotations

import math
from typing import Final

MIN_TEXT_PX: Final = 58  # every line a citizen reads, at 1080p
MIN_HEADER_PX: Final = 48  # only a ward name too long for the header band
MAX_LINE_CHARS: Final = 60
CAP_HEIGHT_EM: Final = 0.714  # Noto Sans (capHeight 1462 / unitsPerEm 2048)
MIN_ARCMIN: Final = 16.0  # at the farthest seat, smallest screen
PREFERRED_ARCMIN: Final = 20.0
SCREENS_IN: Final = (43, 55)
DISTANCES_M: Final = (3.0, 3.5, 4.0)


def pixel_pitch_mm(diagonal_in: float, rows: int = 1080, aspect: tuple[int, int] = (16, 9)) -> float:
    w, h = aspect
    height_mm = diagonal_in * 25.4 * h / math.hypot(w, h)
    return height_mm / rows


def arcminutes(px: float, diagonal_in: float, distance_m: float) -> float:
    """Visual angle of ``px`` pixels of a 1080p picture on a ``diagonal_in`` TV seen from ``distance_m``."""
    size_mm = px * pixel_pitch_mm(diagonal_in)
    return math.degrees(2 * math.atan(size_mm / 2 / (distance_m * 1000))) * 60
