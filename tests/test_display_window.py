"""The TV's fullscreen window output on a real X server (Xvfb), read back from the screen."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image, ImageGrab

from agent_support import xvfb
from broadcaster.agents.display_out import WindowOutput
from broadcaster.errors import MediaError

pytestmark = pytest.mark.skipif(shutil.which("Xvfb") is None, reason="Xvfb not installed (scripts/test installs it)")


@pytest.fixture
def screen(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    with xvfb(monkeypatch, 90, 140) as display:
        yield display


def _slide(path: Path, color: str) -> Path:
    Image.new("RGB", (1920, 1080), color).save(path)
    return path


def _center(display: str) -> tuple[int, int, int]:
    shot = ImageGrab.grab(xdisplay=display)
    assert shot.size == (1280, 720)
    return shot.convert("RGB").getpixel((640, 360))  # type: ignore[return-value]


def _wait_for(display: str, rgb: tuple[int, int, int], timeout: float = 10) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _center(display) == rgb:
            return True
        time.sleep(0.1)
    return False


def test_window_fills_the_screen_with_each_slide(screen: str, tmp_path: Path) -> None:
    out = WindowOutput(fullscreen=True)
    try:
        out.show(_slide(tmp_path / "a.png", "#b22222"), "a", "deck")
        assert _wait_for(screen, (0xB2, 0x22, 0x22)), f"screen shows {_center(screen)}"
        # a 1920x1080 slide is scaled to this 1280x720 screen: the corner is the slide, not a border
        assert ImageGrab.grab(xdisplay=screen).convert("RGB").getpixel((5, 5)) == (0xB2, 0x22, 0x22)
        out.show(_slide(tmp_path / "b.png", "#0b5394"), "b", "emergency")
        assert _wait_for(screen, (0x0B, 0x53, 0x94)), f"screen shows {_center(screen)}"
    finally:
        out.close()


def test_window_without_a_screen_says_what_to_do(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    with pytest.raises(MediaError, match="--output headless"):
        WindowOutput()
