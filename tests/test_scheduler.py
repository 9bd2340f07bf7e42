"""The trigger engine's one-off jobs: many "run soon" requests (MQTT reconnects, console commits)
must never stop the scheduler thread, and none may be lost after the last request."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

import pytest

from broadcaster.central.scheduler import CentralScheduler
from broadcaster.config import load_ward


def wait_for(cond, timeout: float = 20.0) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return
        time.sleep(0.02)
    raise AssertionError("condition not met in time")


def test_run_soon_storm_keeps_the_scheduler_alive(ward_dir: Path, caplog: pytest.LogCaptureFixture) -> None:
    ward = load_ward(ward_dir / "devices" / "ward.toml")
    sched = CentralScheduler(ward.tz)
    ticks: list[int] = []
    runs: list[float] = []
    sched.start(ward, watch=lambda: ticks.append(1), refresh=lambda: None, missed=lambda: None, housekeeping=lambda: None)
    try:
        caplog.set_level(logging.ERROR)

        def slow() -> None:
            runs.append(time.monotonic())
            time.sleep(0.005)  # still running while the next request comes

        requested: list[float] = []

        def hammer() -> None:
            for _ in range(300):
                requested.append(time.monotonic())
                sched.run_soon(slow, "refresh")
                time.sleep(0.0005)

        threads = [threading.Thread(target=hammer) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        last_request = max(requested)
        # a run starts after the last request (a request made while one is queued joins it): none is lost
        wait_for(lambda: any(r >= last_request for r in runs))
        # requests were merged, not queued one by one
        assert len(runs) < 1200
        # and the scheduler thread still runs its periodic jobs
        n = len(ticks)
        wait_for(lambda: len(ticks) > n + 3)
        assert not [r for r in caplog.records if "JobLookupError" in r.getMessage() or r.exc_info]
    finally:
        sched.stop()
