"""Provenance: which rule produced each span of the spoken text (``broadcaster normalize --explain``).

The pipeline hands every step's before and after text to a ``Trace`` while it runs. The trace keeps
the current text as segments, each knowing the span of the original line it came from and the
rules that rewrote it; a step's change is found by aligning its before and after tokens, so the
steps themselves need not know they are watched and nothing is run twice. Without a trace the
pipeline does none of this.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

_TOKEN_RE = re.compile(r"\w+\s*|[^\w\s]+\s*|\s+")


def _opcodes(old: list[str], new: list[str]) -> list[tuple[str, int, int, int, int]]:
    """Token alignment of a step's before and after text.

    The common head and tail are matched first, so a full stop is not paired with one inside a
    rewritten span; a run of punctuation left "equal" next to a change is counted as part of it.
    """
    head = 0
    while head < min(len(old), len(new)) and old[head] == new[head]:
        head += 1
    tail = 0
    while tail < min(len(old), len(new)) - head and old[-1 - tail] == new[-1 - tail]:
        tail += 1
    ops: list[tuple[str, int, int, int, int]] = []
    if head:
        ops.append(("equal", 0, head, 0, head))
    matcher = difflib.SequenceMatcher(None, old[head : len(old) - tail], new[head : len(new) - tail], autojunk=False)
    middle = [(op, i1 + head, i2 + head, j1 + head, j2 + head) for op, i1, i2, j1, j2 in matcher.get_opcodes()]
    merged: list[list[Any]] = []  # [op, i1, i2, j1, j2], widened in place
    for k, (op, i1, i2, j1, j2) in enumerate(middle):
        weak = op == "equal" and not any(_WORD_RE.search(t) for t in old[i1:i2])
        if weak and 0 < k < len(middle) - 1:
            op = "replace"
        if merged and op != "equal" and merged[-1][0] != "equal":
            merged[-1][0], merged[-1][2], merged[-1][4] = "replace", i2, j2
        else:
            merged.append([op, i1, i2, j1, j2])
    ops += [(m[0], m[1], m[2], m[3], m[4]) for m in merged]
    if tail:
        ops.append(("equal", len(old) - tail, len(old), len(new) - tail, len(new)))
    return ops


_WORD_RE = re.compile(r"\w")


@dataclass
class _Segment:
    text: str
    start: int  # span of the original line
    end: int
    rules: tuple[str, ...] = ()


@dataclass(frozen=True)
class Span:
    source: str  # as typed
    rule: str  # the rules that produced the reading, last one last; "" if read as written
    reading: str


@dataclass
class Trace:
    original: str = ""
    _segments: list[_Segment] = field(default_factory=list)

    def start(self, text: str) -> None:
        self.original = text
        self._segments = [_Segment(text, 0, len(text))] if text else []

    def record(self, rule: str, before: str, after: str) -> None:
        """Attribute the difference between ``before`` and ``after`` to ``rule``."""
        if before == after:
            return
        old = _TOKEN_RE.findall(before)
        new = _TOKEN_RE.findall(after)
        if "".join(old) != before or "".join(new) != after:  # cannot happen with this tokeniser
            old, new = list(before), list(after)
        offsets = [0]
        for tok in old:
            offsets.append(offsets[-1] + len(tok))
        segments: list[_Segment] = []
        for op, i1, i2, j1, j2 in _opcodes(old, new):
            a, b = offsets[i1], offsets[i2]
            if op == "equal":
                segments += self._slice(a, b)
                continue
            covered = self._slice(a, b) if b > a else []
            if covered:
                start, end = min(s.start for s in covered), max(s.end for s in covered)
                rules = tuple(dict.fromkeys(r for s in covered for r in s.rules))
            else:  # an insertion: it belongs where it was put
                neighbour = self._at(a)
                start = end = neighbour.start if neighbour else len(self.original)
                rules = ()
            rules = tuple(r for r in rules if r != rule) + (rule,)
            segments.append(_Segment("".join(new[j1:j2]), start, end, rules))
        self._segments = [s for s in segments if s.text]

    def _at(self, pos: int) -> _Segment | None:
        at = 0
        for seg in self._segments:
            if at + len(seg.text) > pos:
                return seg
            at += len(seg.text)
        return self._segments[-1] if self._segments else None

    def _slice(self, a: int, b: int) -> list[_Segment]:
        """The segments covering current text [a, b), cut at a and b."""
        out: list[_Segment] = []
        at = 0
        for seg in self._segments:
            s0, s1 = at, at + len(seg.text)
            at = s1
            lo, hi = max(a, s0), min(b, s1)
            if lo >= hi:
                continue
            piece = seg.text[lo - s0 : hi - s0]
            if seg.rules:  # a rule's output keeps the whole source span it came from
                out.append(_Segment(piece, seg.start, seg.end, seg.rules))
            else:  # text as written maps character for character
                out.append(_Segment(piece, seg.start + (lo - s0), seg.start + (hi - s0)))
        return out

    def spans(self, finish: Callable[[str], str] = lambda s: s) -> list[Span]:
        """Merged spans in reading order; ``finish`` is applied to each reading (lowercasing)."""
        merged: list[_Segment] = []
        for seg in self._segments:
            last = merged[-1] if merged else None
            overlapping = bool(last and last.rules and seg.rules and seg.start < last.end and seg.end > last.start)
            if last and (overlapping or (last.rules == seg.rules and (
                (seg.rules and seg.start <= last.end and seg.end >= last.start) or (not seg.rules and not seg.text.strip())
            ))):
                last.text += seg.text
                last.start, last.end = min(last.start, seg.start), max(last.end, seg.end)
                last.rules = tuple(dict.fromkeys(last.rules + seg.rules))
            elif last and not seg.rules and not last.rules:
                last.text += seg.text
                last.end = max(last.end, seg.end)
            else:
                merged.append(_Segment(seg.text, seg.start, seg.end, seg.rules))
        out = []
        for seg in merged:
            reading = finish(seg.text).strip()
            if not reading and not seg.rules:
                continue
            out.append(Span(self.original[seg.start : seg.end].strip(), " ← ".join(reversed(seg.rules)), reading))
        return out
