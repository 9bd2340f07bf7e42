"""Benchmarks of broadcaster, run with ``scripts/bench`` (``python -m benchmarks``).

One module per measurement: ``nodecpu`` (a node's CPU per schedule message, old and new wire code),
``fanout`` (one schedule change to N speaker nodes over a real
Mosquitto), ``ontime`` (scheduled instant vs the moment each node's output starts),
``preparation`` (speech, cache, slides, the procedure deck) and ``footprint`` (resident memory of
the device agents), ``console`` (page times of the officer's console with a year of history).
``stats`` holds the medians, percentiles, table and JSON. docs/benchmarks.md
says what each figure means.
"""

from __future__ import annotations

import resource
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.stats import Figure

SECTIONS = ("preparation", "nodecpu", "fanout", "ontime", "footprint", "intelligibility", "console")


@dataclass
class BenchConfig:
    quick: bool = False
    reps: int | None = None  # None: the section's default for quick/full
    work: Path = Path(".")  # scratch folder for this run (removed at the end unless kept)
    max_nodes: int | None = None  # fan-out: the largest N tried
    workers: int | None = None  # fan-out / on-time: node processes

    def pick(self, quick: Any, full: Any) -> Any:
        return quick if self.quick else full


@dataclass
class SectionResult:
    name: str
    figures: list[Figure] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    seconds: float = 0.0


def raise_nofile(want: int = 65536) -> tuple[int, int]:
    """Raise this process's open-file limit (sockets) towards ``want``; children inherit it.

    Thousands of MQTT clients on one machine need thousands of sockets in the node processes and
    as many again in Mosquitto (a child of this process, so it inherits the raised limit).
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    new = hard if hard != resource.RLIM_INFINITY and hard < want else want
    if new > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (new, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)
