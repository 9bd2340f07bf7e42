"""The officer is told when a node's clock is off (inside the accepted skew, so nothing else says it)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from broadcaster import protocol
from broadcaster.central.health import clock_warning
from broadcaster.central.store import Store
from broadcaster.cli.main import main
from broadcaster.config import load_ward

T0 = datetime(2026, 12, 1, 10, 0, tzinfo=timezone.utc)


def test_clock_warning_threshold() -> None:
    assert clock_warning("kp1-loa1", None) is None
    assert clock_warning("kp1-loa1", 400) is None  # network delay
    w = clock_warning("kp1-loa1", -120_000)
    assert w and "chậm 120 giây" in w and "muộn" in w and "chrony" in w
    assert "nhanh" in (clock_warning("kp1-loa1", 90_000) or "")


def test_devices_command_warns_of_a_skewed_node_clock(ward_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ward = load_ward()
    with Store.for_ward(ward) as s:
        s.sync_ward(ward)
        st = protocol.DeviceState("kp2-loa1", "speaker", True, zone="kp2", clock=T0 - timedelta(minutes=2))
        s.update_device_state(st, received_at=T0, live=True)  # a live state: its clock says 2 minutes earlier
        ok = protocol.DeviceState("kp1-loa1", "speaker", True, zone="kp1", clock=T0 + timedelta(milliseconds=300))
        s.update_device_state(ok, received_at=T0, live=True)
    assert main(["devices"]) == 0
    out = capsys.readouterr().out
    assert "-120.0 s ⚠" in out
    warnings = [line for line in out.splitlines() if line.startswith("⚠")]
    assert len(warnings) == 1 and "kp2-loa1" in warnings[0] and "chậm 120 giây" in warnings[0]
