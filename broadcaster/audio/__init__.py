"""Audio for the loudspeakers: the attention chime and the assembled, loudness-normalised programme."""

from __future__ import annotations

from broadcaster.audio.chime import make_chime
from broadcaster.audio.program import (
    CEILING_DBFS,
    TARGET_DBFS,
    Program,
    load_audio,
    measure_loudness,
    render_announcement,
    render_program,
)

__all__ = [
    "CEILING_DBFS",
    "TARGET_DBFS",
    "Program",
    "load_audio",
    "make_chime",
    "measure_loudness",
    "render_announcement",
    "render_program",
]
