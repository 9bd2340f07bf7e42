"""The order and timing of a TV deck: its cycle time, and the hotline slide brought round often.

The ward's plan wants the hotline and feedback address public at the reception desk; a citizen who
sits down must not wait through a whole catalog for it. So whatever the deck's length, the hotline
slide(s) come round at least every ``HOTLINE_PERIOD`` (120 s): :func:`interleave_hotline` inserts
them between other slides where needed, keeping the author's order and the author's own hotline
entries. Pure functions over (id, seconds, is-hotline) triples, so the console, ``broadcaster deck
check`` and the producer agree on what the TV will do.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final, Generic, TypeVar

HOTLINE_PERIOD: Final = 120.0  # seconds between the starts of two showings of the hotline slide

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Timed(Generic[T]):
    item: T
    seconds: float
    hotline: bool


def interleave_hotline(slides: Sequence[Timed[T]], hotline: Sequence[Timed[T]], period: float = HOTLINE_PERIOD) -> list[Timed[T]]:
    """``slides`` in order, with the ``hotline`` group inserted so that, played in a loop, a hotline
    showing starts at most every ``period`` seconds (if any single slide plus the group is longer
    than ``period``, as close to it as the slides allow). The cycle starts with a hotline showing."""
    if not hotline:
        return list(slides)
    group = sum(h.seconds for h in hotline)
    out: list[Timed[T]] = []
    since = 0.0  # seconds since the start of the last hotline showing
    if not slides or not slides[0].hotline:
        out += hotline
        since = group
    for s in slides:
        if s.hotline:
            # the author's own hotline entry: a showing if it starts a run of hotline slides
            if not (out and out[-1].hotline):
                since = 0.0
            out.append(s)
            since += s.seconds
            continue
        if since + s.seconds > period and not (out and out[-1].hotline):
            out += hotline
            since = group
        out.append(s)
        since += s.seconds
    return out


def cycle_seconds(slides: Sequence[Timed[T]]) -> float:
    return sum(s.seconds for s in slides)


def max_hotline_gap(slides: Sequence[Timed[T]]) -> float | None:
    """The longest time between the starts of two hotline showings, the loop closing on itself;
    None if the deck never shows the hotline."""
    starts: list[float] = []
    t = 0.0
    prev_hot = slides[-1].hotline if slides else False
    for s in slides:
        if s.hotline and not prev_hot:
            starts.append(t)
        prev_hot = s.hotline
        t += s.seconds
    if not starts:
        return t if any(s.hotline for s in slides) else None  # nothing but the hotline
    total = t
    gaps = [b - a for a, b in zip(starts, starts[1:])] + [total - starts[-1] + starts[0]]
    return max(gaps)


def describe(seconds: float) -> str:
    m, s = divmod(round(seconds), 60)
    return f"{m} phút {s:02d} giây" if m else f"{s} giây"


def summarise(slides: Sequence[Timed[T]], label: Callable[[T], str] = str) -> str:
    gap = max_hotline_gap(slides)
    g = describe(gap) if gap is not None else "không có"
    return f"{len(slides)} slide, một vòng {describe(cycle_seconds(slides))}; đường dây nóng tối đa mỗi {g}"
