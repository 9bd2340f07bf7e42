"""The attention chime, synthesised from arithmetic (no recorded or copyrighted asset).

Three soft bell notes a major triad apart: rising (C5 E5 G5, "listen") before a bulletin, falling
after it when a closing chime is asked for. Each note is a fundamental plus two quieter partials,
each a damped sinusoid, so it rings out like a small bell instead of beeping. The result is
deterministic to the sample, which keeps rendered programmes byte-identical and their
content hashes stable.
"""

from __future__ import annotations

import math
import sys
from array import array
from functools import lru_cache

from pydub import AudioSegment

__all__ = ["make_chime", "CHIME_KINDS"]

CHIME_KINDS = ("open", "close")
_NOTES_HZ = (523.25, 659.25, 783.99)  # C5, E5, G5: consonant, and well inside a horn speaker's band
_NOTE_SPACING_S = 0.34
_RING_S = 1.1  # how long the last note rings before the chime ends
_DECAY_S = 0.42  # time constant of the fundamental; partials die faster
_PARTIALS = ((1.0, 1.0), (2.0, 0.30), (3.0, 0.10))  # (frequency ratio, relative amplitude)
_ATTACK_S = 0.006  # a few ms of fade-in avoids a click at each strike
_PEAK = 10 ** (-1.0 / 20)  # -1 dBFS before the programme sets its level


def make_chime(kind: str = "open", sample_rate: int = 24000) -> AudioSegment:
    """The chime as 16-bit mono audio at ``sample_rate``, peaking at -1 dBFS (about 1.7 s)."""
    if kind not in CHIME_KINDS:
        raise ValueError(f"unknown chime {kind!r} (expected one of: {', '.join(CHIME_KINDS)})")
    return AudioSegment(
        data=_render(kind, sample_rate), sample_width=2, frame_rate=sample_rate, channels=1
    )


@lru_cache(maxsize=8)
def _render(kind: str, sample_rate: int) -> bytes:
    notes = _NOTES_HZ if kind == "open" else tuple(reversed(_NOTES_HZ))
    total = int((_NOTE_SPACING_S * (len(notes) - 1) + _RING_S) * sample_rate)
    mix = [0.0] * total
    attack = max(1, int(_ATTACK_S * sample_rate))
    for index, freq in enumerate(notes):
        start = int(index * _NOTE_SPACING_S * sample_rate)
        for ratio, amp in _PARTIALS:
            # Damped sinusoid by its two-term recurrence: x[n] = 2 r cos(w) x[n-1] - r^2 x[n-2],
            # a few multiplications per sample instead of a sin() and an exp() call.
            w = 2 * math.pi * freq * ratio / sample_rate
            r = math.exp(-ratio / (_DECAY_S * sample_rate))
            c1, c2 = 2 * r * math.cos(w), r * r
            prev2, prev1 = 0.0, amp * math.sin(w)  # starts at sin(w), not sin(0): one sample, inaudible
            for n in range(start, total):
                value = prev1
                if n - start < attack:
                    value *= 0.5 - 0.5 * math.cos(math.pi * (n - start) / attack)
                mix[n] += value
                prev2, prev1 = prev1, c1 * prev1 - c2 * prev2
    # Fade the tail to exact silence so the programme's next silence does not start with a step.
    tail = int(0.08 * sample_rate)
    for i in range(tail):
        mix[total - tail + i] *= 1 - i / tail
    peak = max(abs(v) for v in mix) or 1.0
    scale = _PEAK * 32767 / peak
    samples = array("h", (round(v * scale) for v in mix))
    if sys.byteorder == "big":
        samples.byteswap()  # WAV and pydub's raw data are little-endian
    return samples.tobytes()
