"""One contract for every TV output (``broadcaster.agents.display_out``), run over each of them as
``make_display`` builds it: the headless output (the frame on screen is a file) and the fullscreen
window on a real X server (Xvfb), read back from the screen.

Each implementation comes with a way to see what is on its screen now (the middle pixel): the
headless output's ``current.*`` file, the X server's framebuffer. A new output is added to
``KINDS`` with its way of looking, and must pass the suite unchanged.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from PIL import Image, ImageGrab

from agent_support import xvfb
from broadcaster.agents.display_out import DisplayOutput, make_display
from broadcaster.errors import MediaError

KINDS = ["headless", "window"]
RED, BLUE, GREEN = (0xB2, 0x22, 0x22), (0x0B, 0x53, 0x94), (0x38, 0x76, 0x1D)

RGB = tuple[int, int, int]


@dataclass
class Screen:
    kind: str
    output: DisplayOutput
    seen: Callable[[], RGB | None]  # the middle pixel of what is on screen now, None before anything


def _middle(im: Image.Image) -> RGB:
    rgb = im.convert("RGB")
    px = rgb.getpixel((rgb.width // 2, rgb.height // 2))
    assert isinstance(px, tuple)
    return (int(px[0]), int(px[1]), int(px[2]))


@pytest.fixture(params=KINDS)
def screen(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Screen]:
    kind: str = request.param
    if kind == "window":
        with xvfb(monkeypatch, 140, 190) as display:
            out = make_display("window", device="tv-ubnd", out_dir=tmp_path / "out", fullscreen=True)

            def seen_window() -> RGB | None:
                return _middle(ImageGrab.grab(xdisplay=display))

            try:
                yield Screen(kind, out, seen_window)
            finally:
                out.close()
        return
    out = make_display("headless", device="tv-ubnd", out_dir=tmp_path / "out")

    def seen_file() -> RGB | None:
        current = sorted((tmp_path / "out" / "tv-ubnd").glob("current.*"))
        if not current:
            return None
        assert len(current) == 1, current  # one frame on screen, never two
        with Image.open(current[0]) as im:
            return _middle(im)

    try:
        yield Screen(kind, out, seen_file)
    finally:
        out.close()


def _slide(path: Path, color: RGB, size: tuple[int, int] = (1920, 1080)) -> Path:
    Image.new("RGB", size, color).save(path)
    return path


def _close(a: RGB | None, b: RGB, tol: int = 0) -> bool:
    return a is not None and all(abs(x - y) <= tol for x, y in zip(a, b))


def _shows(s: Screen, color: RGB, tol: int = 0, timeout: float = 10) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _close(s.seen(), color, tol):
            return True
        time.sleep(0.05)
    return False


def test_the_factory_builds_the_output_it_was_asked_for(screen: Screen) -> None:
    assert screen.output.name == screen.kind


def test_each_slide_shown_replaces_the_one_before(screen: Screen, tmp_path: Path) -> None:
    for n, (color, reason) in enumerate([(RED, "deck"), (BLUE, "announcement"), (GREEN, "emergency"), (RED, "idle")]):
        screen.output.show(_slide(tmp_path / f"{n}.png", color), f"slide-{n}", reason)
        assert _shows(screen, color), f"{screen.kind} shows {screen.seen()} instead of {color}"


def test_a_jpeg_slide_is_shown_too(screen: Screen, tmp_path: Path) -> None:
    jpg = tmp_path / "photo.jpg"
    Image.new("RGB", (1280, 720), BLUE).save(jpg, quality=95)
    screen.output.show(jpg, "photo", "deck")
    assert _shows(screen, BLUE, tol=8), f"{screen.kind} shows {screen.seen()}"


def test_a_slide_of_another_shape_is_shown_whole(screen: Screen, tmp_path: Path) -> None:
    # a 4:3 photo on a 16:9 TV: its middle is the photo's middle, whatever the output adds around it
    screen.output.show(_slide(tmp_path / "square.png", GREEN, (800, 600)), "square", "deck")
    assert _shows(screen, GREEN)


def test_show_may_be_called_from_any_thread(screen: Screen, tmp_path: Path) -> None:
    slides = [_slide(tmp_path / f"t{n}.png", c) for n, c in enumerate((RED, BLUE))]
    threads = [threading.Thread(target=screen.output.show, args=(p, p.stem, "deck")) for p in slides]
    for t in threads:
        t.start()
        t.join(10)
    assert _shows(screen, BLUE)  # the last one shown stays


def test_the_cached_slide_is_left_as_it_was(screen: Screen, tmp_path: Path) -> None:
    src = _slide(tmp_path / "cached.png", RED)
    before = src.read_bytes()
    screen.output.show(src, "cached", "deck")
    assert _shows(screen, RED)
    screen.output.show(_slide(tmp_path / "next.png", BLUE), "next", "deck")
    assert _shows(screen, BLUE)
    assert src.read_bytes() == before  # the node's cache owns it; the output only reads it


def test_a_slide_on_screen_stays_when_the_cache_evicts_its_file(screen: Screen, tmp_path: Path) -> None:
    src = _slide(tmp_path / "evicted.png", GREEN)
    screen.output.show(src, "evicted", "deck")
    assert _shows(screen, GREEN)
    src.unlink()
    time.sleep(0.5)
    assert _close(screen.seen(), GREEN)


def test_close_returns(screen: Screen, tmp_path: Path) -> None:
    screen.output.show(_slide(tmp_path / "a.png", RED), "a", "deck")
    assert _shows(screen, RED)
    done = threading.Event()

    def close() -> None:
        screen.output.close()
        done.set()

    threading.Thread(target=close, daemon=True).start()
    assert done.wait(30), "close() did not return"


def test_unknown_kinds_are_refused(tmp_path: Path) -> None:
    with pytest.raises(MediaError, match="unknown display output"):
        make_display("projector", device="tv", out_dir=tmp_path)
