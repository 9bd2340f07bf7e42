"""``scripts/bench [--quick] [--only SECTION,...] [--json PATH]``: run the benchmarks, print the table."""

from __future__ import annotations

import argparse
import importlib
import logging
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks import SECTIONS, BenchConfig, SectionResult, raise_nofile
from benchmarks.stats import environment, table, write_json

log = logging.getLogger("benchmarks")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="scripts/bench",
        description="Measure broadcaster: fan-out, on-time playback, preparation, footprint. "
        "Each figure is a median over repetitions with its spread, beside a baseline measured in the same run.",
    )
    p.add_argument("--quick", action="store_true", help="fewer repetitions and smaller N (about a minute)")
    p.add_argument(
        "--only", action="append", default=[],
        help=f"run only these sections (comma-separated or repeated): {', '.join(SECTIONS)}",
    )
    p.add_argument("--json", type=Path, help="write every figure, the settings and the machine to this file")
    p.add_argument("--reps", type=int, help="repetitions per figure (default: 3 quick, 5 full)")
    p.add_argument("--max-nodes", type=int, help="fan-out: largest number of simulated nodes")
    p.add_argument("--workers", type=int, help="node processes for fan-out and on-time (default: one per core, at least 2)")
    p.add_argument("--keep", action="store_true", help="keep the scratch folder (broker logs, outputs)")
    p.add_argument("-v", "--verbose", action="store_true", help="log progress")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if not args.verbose:
        logging.getLogger("benchmarks").setLevel(logging.INFO)
        # the agents' own INFO lines (one per node) would drown the progress lines
        logging.getLogger("broadcaster").setLevel(logging.ERROR)
    only = [s.strip() for o in args.only for s in o.split(",") if s.strip()] or list(SECTIONS)
    unknown = [s for s in only if s not in SECTIONS]
    if unknown:
        print(f"unknown section(s): {', '.join(unknown)}; choose from {', '.join(SECTIONS)}", file=sys.stderr)
        return 2
    nofile = raise_nofile()
    work = Path(tempfile.mkdtemp(prefix="broadcaster-bench-"))
    cfg = BenchConfig(quick=args.quick, reps=args.reps, work=work, max_nodes=args.max_nodes, workers=args.workers)
    env = environment()
    env["rlimit_nofile"] = list(nofile)
    results: list[SectionResult] = []
    t_all = time.monotonic()
    try:
        for name in SECTIONS:
            if name not in only:
                continue
            mod = importlib.import_module(f"benchmarks.{name}")
            log.info("== %s ==", name)
            t0 = time.monotonic()
            try:
                res: SectionResult = mod.run(cfg)
            except Exception as exc:  # one broken section must not lose the others' figures
                log.exception("section %s failed", name)
                res = SectionResult(name=name, error=f"{type(exc).__name__}: {exc}")
            res.seconds = round(time.monotonic() - t0, 1)
            results.append(res)
    finally:
        if args.keep:
            log.info("scratch folder kept: %s", work)
        else:
            shutil.rmtree(work, ignore_errors=True)
    figures = [f for r in results for f in r.figures]
    print()
    print(f"broadcaster benchmarks — {env['date']} — {env['cores']} cores — Python {env['python']} — "
          f"Mosquitto {env['mosquitto']} — {'quick' if args.quick else 'full'} run, {time.monotonic() - t_all:.0f} s")
    print(table(figures))
    for r in results:
        if r.error:
            print(f"section {r.name} FAILED: {r.error}")
        for line in r.details.get("notes", []):
            print(f"[{r.name}] {line}")
    if args.json:
        report: dict[str, Any] = {
            "environment": env,
            "mode": "quick" if args.quick else "full",
            "seconds": round(time.monotonic() - t_all, 1),
            "sections": {
                r.name: {"seconds": r.seconds, "error": r.error, "details": r.details} for r in results
            },
            "figures": [f.to_json() for f in figures],
        }
        write_json(args.json, report)
        print(f"figures written to {args.json}")
    return 1 if any(r.error for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
