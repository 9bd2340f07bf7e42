"""The test clock of ``scripts/test --at`` (tests/fakeclock.py): it must move this process and the
Python processes a test starts together, and nothing in the package may pick it up by itself."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import fakeclock
from broadcaster.protocol import utc_now

CHILD = "from broadcaster.protocol import utc_now; print(utc_now().isoformat())"


def _child_now(env: dict[str, str]) -> datetime:
    res = subprocess.run([sys.executable, "-c", CHILD], env=env, capture_output=True, text=True, timeout=60, check=True)
    return datetime.fromisoformat(res.stdout.strip())


def test_shifted_clock_is_shared_with_child_processes_and_only_them() -> None:
    at = datetime(2031, 2, 28, 23, 59, 30, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))
    with fakeclock.shifted_to(at):
        here = utc_now()
        there = _child_now(dict(os.environ))
        # the same shift without the test-only hook on PYTHONPATH: a production process ignores it
        plain = _child_now({k: v for k, v in os.environ.items() if k != "PYTHONPATH"})
    after = utc_now()
    assert at <= here <= there < at + timedelta(minutes=5)  # generous: a busy machine starts Python slowly
    assert abs(plain - at) > timedelta(days=30) and abs(after - at) > timedelta(days=30)


def test_at_is_the_example_wards_local_time() -> None:
    at = fakeclock.parse_at("2026-12-31 23:59")
    assert at.utcoffset() == timedelta(hours=7) and at.astimezone(ZoneInfo("UTC")).hour == 16
    assert fakeclock.parse_at("2026-12-31T23:59+00:00").utcoffset() == timedelta(0)
