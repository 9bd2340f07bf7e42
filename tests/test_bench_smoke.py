"""``python -m benchmarks --quick --only preparation --json PATH`` runs and writes the report.

A smoke test of the benchmark harness only: no figure is asserted against a time.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_bench_quick_preparation_writes_json(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    res = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--only", "preparation", "--reps", "1", "--json", str(out)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )
    assert res.returncode == 0, res.stderr[-2000:]
    assert "preparation" in res.stdout  # the table was printed
    report = json.loads(out.read_text(encoding="utf-8"))
    assert set(report) >= {"environment", "mode", "sections", "figures"}
    assert report["mode"] == "quick"
    env_ = report["environment"]
    assert env_["cores"] >= 1 and env_["date"] and env_["python"] and "mosquitto" in env_
    assert report["sections"]["preparation"]["error"] is None
    names = [f["name"] for f in report["figures"]]
    assert any("cache hit" in n for n in names) and any(n.startswith("deck") for n in names)
    for fig in report["figures"]:
        assert {"section", "name", "unit", "median", "spread", "values", "baseline", "ratio", "target", "pass"} <= set(fig)
        assert fig["section"] == "preparation"
        assert fig["values"], fig
