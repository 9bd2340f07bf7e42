"""Shared fixtures: a real Mosquitto on a free loopback port, and a ward in a temporary folder."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from agent_support import MediaServer
from broadcaster.localbroker import LocalMosquitto

ROOT = Path(__file__).resolve().parent.parent


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
