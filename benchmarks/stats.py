"""Small statistics and reporting helpers: medians with spread, percentiles, the table and the JSON.

Every headline figure of the benchmark is a :class:`Figure`: a name, a unit, the per-repetition
values (the figure is their median, the spread their min–max and inter-quartile range), an optional
baseline measured in the same run the same way, and an optional target with its comparison.
"""

from __future__ import annotations

import json
import math
import os
import platform
import subprocess
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any


def percentile(values: Sequence[float], p: float) -> float:
    """The ``p``-th percentile (0-100) with linear interpolation between order statistics."""
    if not values:
        return math.nan
    xs = sorted(values)
    if len(xs) == 1:
        return float(xs[0])
    k = (len(xs) - 1) * p / 100.0
    lo, hi = math.floor(k), math.ceil(k)
    return float(xs[lo] + (xs[hi] - xs[lo]) * (k - lo))


def median(values: Sequence[float]) -> float:
    return percentile(values, 50.0)


def spread(values: Sequence[float]) -> dict[str, float]:
    """Median, quartiles and range of ``values`` (what the table and the JSON show)."""
    return {
        "median": median(values),
        "q1": percentile(values, 25.0),
        "q3": percentile(values, 75.0),
        "min": float(min(values)) if values else math.nan,
        "max": float(max(values)) if values else math.nan,
        "n": len(values),
    }


def latency_summary(samples: Sequence[float]) -> dict[str, float]:
    """p50 / p99 / max of one repetition's samples (e.g. the ack times of N nodes)."""
    return {
        "p50": percentile(samples, 50.0),
        "p99": percentile(samples, 99.0),
        "max": float(max(samples)) if samples else math.nan,
        "n": len(samples),
    }


@dataclass
class Figure:
    """One line of the results table."""

    section: str
    name: str
    unit: str
    values: list[float]  # one per repetition; the figure is their median
    baseline: list[float] | None = None  # same measurement without broadcaster, same run
    baseline_label: str = ""
    target: float | None = None
    target_op: str = "<"  # "<" (lower is better) or ">" (higher is better)
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    judge: str = "median"  # what the target is checked against: "median" or "max" (worst repetition)

    @property
    def value(self) -> float:
        return median(self.values)

    @property
    def baseline_value(self) -> float | None:
        return median(self.baseline) if self.baseline else None

    @property
    def ratio(self) -> float | None:
        b = self.baseline_value
        if b is None or b == 0 or math.isnan(b):
            return None
        return self.value / b

    @property
    def judged(self) -> float:
        if self.judge == "max" and self.values:
            return float(max(self.values)) if self.target_op == "<" else float(min(self.values))
        return self.value

    @property
    def passed(self) -> bool | None:
        if self.target is None:
            return None
        v = self.judged
        if math.isnan(v) or any(math.isnan(x) for x in self.values):
            return False
        return v < self.target if self.target_op == "<" else v > self.target

    def to_json(self) -> dict[str, Any]:
        return {
            "section": self.section,
            "name": self.name,
            "unit": self.unit,
            "median": _clean(self.value),
            "spread": {k: _clean(v) for k, v in spread(self.values).items()} if self.values else None,
            "values": [_clean(v) for v in self.values],
            "baseline": (
                {"label": self.baseline_label, **{k: _clean(v) for k, v in spread(self.baseline).items()},
                 "values": [_clean(v) for v in self.baseline]}
                if self.baseline else None
            ),
            "ratio": _clean(self.ratio) if self.ratio is not None else None,
            "target": {"op": self.target_op, "value": self.target} if self.target is not None else None,
            "judged_on": self.judge,
            "pass": self.passed,
            "note": self.note,
            **({"extra": self.extra} if self.extra else {}),
        }


def _clean(v: float) -> float | None:
    if v is None or (isinstance(v, float) and (math.isnan(v) or math.isinf(v))):
        return None
    return round(float(v), 4)


def fmt_num(v: float | None, unit: str = "") -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    a = abs(v)
    s = f"{v:.0f}" if a >= 100 else f"{v:.1f}" if a >= 10 else f"{v:.2f}" if a >= 1 else f"{v:.3f}"
    return f"{s} {unit}".rstrip()


def fmt_figure_value(values: Sequence[float], unit: str) -> str:
    if not values:
        return "-"
    s = spread(values)
    if len(values) == 1:
        return fmt_num(s["median"], unit)
    return f"{fmt_num(s['median'], unit)} [{fmt_num(s['min'])}–{fmt_num(s['max'])}]"


def table(figures: Iterable[Figure]) -> str:
    """The results as a plain-text table: median [min–max] over repetitions."""
    rows = [("section", "figure", "target", "measured: median [min–max]", "baseline", "ratio", "pass")]
    for f in figures:
        target = f"{f.target_op} {fmt_num(f.target, f.unit)}" if f.target is not None else ""
        base = fmt_figure_value(f.baseline, f.unit) if f.baseline else ""
        if base and f.baseline_label:
            base = f"{base} ({f.baseline_label})"
        ratio = f"{f.ratio:.2f}x" if f.ratio is not None else ""
        ok = {True: "PASS", False: "FAIL", None: ""}[f.passed]
        rows.append((f.section, f.name, target, fmt_figure_value(f.values, f.unit), base, ratio, ok))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = []
    for n, r in enumerate(rows):
        lines.append("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def mosquitto_version() -> str:
    from broadcaster.localbroker import find_mosquitto

    try:
        out = subprocess.run([find_mosquitto(), "-h"], capture_output=True, text=True, timeout=5)
        first = (out.stdout or out.stderr).splitlines()[0]
        return first.replace("mosquitto version", "").strip()
    except Exception:  # noqa: BLE001 - informational only
        return "unknown"


def environment() -> dict[str, Any]:
    """What a later reader needs to compare runs: machine, versions, date."""
    try:
        import paho.mqtt as paho

        paho_version = paho.__version__
    except Exception:  # noqa: BLE001
        paho_version = "unknown"
    try:
        load = os.getloadavg()
    except OSError:
        load = (math.nan, math.nan, math.nan)
    return {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "cores": os.cpu_count(),
        "cores_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "machine": platform.machine(),
        "mosquitto": mosquitto_version(),
        "paho_mqtt": paho_version,
        "loadavg_at_start": [round(x, 2) for x in load],
    }


def write_json(path: Path, report: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(report, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
    os.replace(tmp, path)
