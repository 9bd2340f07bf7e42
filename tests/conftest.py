"""Shared fixtures: a real Mosquitto on a free loopback port, and a ward in a temporary folder."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

import fakeclock
from agent_support import MediaServer
from broadcaster.localbroker import LocalMosquitto

ROOT = Path(__file__).resolve().parent.parent


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--at", metavar="WHEN", default=None,
        help='run every test as if it started at WHEN, e.g. "2026-12-31 23:59" (local time of the example '
             "ward, Asia/Ho_Chi_Minh): proves the suite does not depend on the hour or the date (tests/fakeclock.py)",
    )


def _fake_at(config: pytest.Config) -> datetime | None:
    at = config.getoption("--at")
    if at is None:
        return None
    try:
        return fakeclock.parse_at(at)
    except ValueError as exc:
        raise pytest.UsageError(str(exc)) from None


def pytest_report_header(config: pytest.Config) -> str | None:
    at = _fake_at(config)
    if at is None:
        return None
    return f"clock: every test starts at {at.isoformat()} ({at.tzinfo}), real time runs on from there"


@pytest.fixture(autouse=True)
def _clock_at(request: pytest.FixtureRequest) -> Iterator[None]:
    """With ``--at``: this test (and the Python processes it starts) see that date and time."""
    at = _fake_at(request.config)
    if at is None:
        yield
        return
    with fakeclock.shifted_to(at):
        yield


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # gTTS style: tests that need the internet are marked `net` and run only when asked.
    if os.environ.get("BROADCASTER_NET_TESTS") == "1":
        return
    skip = pytest.mark.skip(reason="needs the internet; set BROADCASTER_NET_TESTS=1")
    for item in items:
        if "net" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def mosquitto(tmp_path: Path) -> Iterator[LocalMosquitto]:
    """A fresh Mosquitto process for one test (restartable: .restart(), .kill(), .start())."""
    broker = LocalMosquitto(tmp_path / "mosquitto").start()
    try:
        yield broker
    finally:
        broker.stop()


@pytest.fixture
def server() -> Iterator[MediaServer]:
    """A real HTTP media server on loopback (tests/agent_support.py), for the agents' downloads."""
    s = MediaServer()
    yield s
    s.close()


@pytest.fixture
def ward_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the example ward and playlists in a temp folder, data kept under it."""
    root = tmp_path / "ward"
    shutil.copytree(ROOT / "devices", root / "devices")
    shutil.copytree(ROOT / "playlists", root / "playlists")
    monkeypatch.setenv("BROADCASTER_WARD", str(root / "devices" / "ward.toml"))
    monkeypatch.setenv("BROADCASTER_HOME", str(root / "var"))
    monkeypatch.delenv("BROADCASTER_MQTT_URL", raising=False)
    monkeypatch.delenv("BROADCASTER_MEDIA_URL", raising=False)
    return root
