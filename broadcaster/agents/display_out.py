"""Display output of the reception TV: the seam between "show this slide" and a screen.

* ``HeadlessOutput`` writes the frame on screen as ``<out>/<device>/current.<ext>`` (a hard link,
  or a copy, of the cached slide, swapped in atomically), keeps each frame it showed under
  ``<out>/<device>/frames/<UTC time>_<reason>_<label>.<ext>`` (the last ``keep_frames``), and appends
  one JSON line per change to ``<out>/<device>/shown.jsonl``: what was shown, why (deck slide,
  announcement, emergency), when, and which frame file.
* ``WindowOutput`` shows slides fullscreen with Tk (tkinter + Pillow's ImageTk, imported only when
  this output is built). Tk runs in its own thread, which alone touches Tk objects.

Both receive image files (PNG or JPEG) that the agent has already fetched and verified.
"""

from __future__ import annotations

import gc
import json
import logging
import os
import queue
import shutil
import threading
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Protocol

from broadcaster.errors import MediaError
from broadcaster.wire.times import format_time as fmt_time

log = logging.getLogger(__name__)


class DisplayOutput(Protocol):
    name: str

    def show(self, image: Path, label: str, reason: str) -> None:
        """Put ``image`` on screen now; ``label`` names it (slide id, item id), ``reason`` is
        ``deck``, ``announcement``, ``emergency`` or ``idle``."""
        ...

    def close(self) -> None: ...


class HeadlessOutput:
    """Writes the current frame and a log of what was shown when (no screen needed)."""

    name = "headless"

    def __init__(self, out_dir: Path, device: str, keep_frames: int = 500) -> None:
        self.dir = Path(out_dir) / device
        self.frames = self.dir / "frames"
        self.frames.mkdir(parents=True, exist_ok=True)
        self.log_path = self.dir / "shown.jsonl"
        self.keep_frames = keep_frames
        self._lock = threading.Lock()

    @staticmethod
    def _link(src: Path, dst: Path) -> None:
        try:
            os.link(src, dst)  # cheap, and the cache file is never modified in place
        except OSError:
            shutil.copyfile(src, dst)

    def show(self, image: Path, label: str, reason: str) -> None:
        ext = _image_ext(image)
        target = self.dir / f"current{ext}"
        tmp = self.dir / f".current-{os.getpid()}{ext}"
        with self._lock:
            tmp.unlink(missing_ok=True)
            self._link(image, tmp)
            os.replace(tmp, target)
            for other in self.dir.glob("current.*"):
                if other != target:
                    other.unlink(missing_ok=True)
            at = datetime.now(timezone.utc)
            safe_label = "".join(c if c.isalnum() or c in "-_." else "-" for c in label)[:80]
            frame = self.frames / f"{at:%Y%m%dT%H%M%S}.{at.microsecond // 1000:03d}Z_{reason}_{safe_label}{ext}"
            self._link(image, frame)
            old = sorted(self.frames.iterdir())
            for f in old[: max(0, len(old) - self.keep_frames)]:
                f.unlink(missing_ok=True)
            rec: dict[str, Any] = {"at": fmt_time(at), "label": label, "reason": reason, "file": f"frames/{frame.name}"}
            with open(self.log_path, "a", encoding="utf-8") as log_file:
                log_file.write(json.dumps(rec, ensure_ascii=False) + "\n")

    def close(self) -> None:
        pass


def _image_ext(p: Path) -> str:
    with open(p, "rb") as f:
        head = f.read(8)
    if head.startswith(b"\x89PNG"):
        return ".png"
    if head.startswith(b"\xff\xd8"):
        return ".jpg"
    return p.suffix or ".img"


class WindowOutput:
    """Fullscreen Tk window. ``show`` may be called from any thread; Tk lives in its own thread."""

    name = "window"

    def __init__(self, fullscreen: bool = True, title: str = "broadcaster") -> None:
        try:
            import tkinter  # noqa: F401  (lazy: a headless TV never loads Tk)

            from PIL import ImageTk  # noqa: F401
        except ImportError as exc:
            raise MediaError(
                "the window output needs tkinter and Pillow: install python3-tk, or run with --output headless"
            ) from exc
        if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
            raise MediaError("no screen: DISPLAY is not set (start from the TV's X session, or use --output headless)")
        self._q: queue.Queue[tuple[Path, str, str] | None] = queue.Queue()
        self._ready = threading.Event()
        self._error: Exception | None = None
        self._fullscreen, self._title = fullscreen, title
        self._thread = threading.Thread(target=self._run, name="tk", daemon=True)
        self._thread.start()
        self._ready.wait(10)
        if self._error:
            raise MediaError(f"cannot open the TV window: {self._error}") from self._error

    def show(self, image: Path, label: str, reason: str) -> None:
        self._q.put((image, label, reason))

    def close(self) -> None:
        self._q.put(None)
        self._thread.join(5)

    def _run(self) -> None:
        import tkinter as tk

        from PIL import Image, ImageOps, ImageTk

        try:
            root = tk.Tk()
        except Exception as exc:  # TclError: no display
            self._error = exc
            self._ready.set()
            return
        root.title(self._title)
        root.configure(background="black", cursor="none")
        if self._fullscreen:
            # Also set the geometry: on a bare X server (a kiosk without a window manager) the
            # fullscreen attribute alone leaves a 1x1 window.
            root.geometry(f"{root.winfo_screenwidth()}x{root.winfo_screenheight()}+0+0")
            root.attributes("-fullscreen", True)
        else:
            root.geometry("1280x720")
        label = tk.Label(root, background="black", borderwidth=0)
        label.pack(fill="both", expand=True)
        holder: dict[str, Any] = {}
        self._ready.set()

        def poll() -> None:
            try:
                while True:
                    msg = self._q.get_nowait()
                    if msg is None:
                        root.destroy()
                        return
                    path = msg[0]
                    root.update_idletasks()
                    w, h = root.winfo_width(), root.winfo_height()
                    if w < 2 or h < 2:  # not laid out yet: the screen is what it will fill
                        w, h = root.winfo_screenwidth(), root.winfo_screenheight()
                    with Image.open(path) as im:
                        # fit the screen either way (a 4K TV gets the 1080p slide scaled up)
                        fitted = ImageOps.contain(im.convert("RGB"), (max(w, 2), max(h, 2)))
                        holder["img"] = ImageTk.PhotoImage(fitted)  # keep a reference
                    label.configure(image=holder["img"])
            except queue.Empty:
                pass
            except Exception:
                log.exception("cannot show slide")
            root.after(100, poll)

        root.protocol("WM_DELETE_WINDOW", lambda: None)  # a kiosk: closing it would leave show() unheard
        root.after(50, poll)
        try:
            root.mainloop()
        finally:
            # Tk objects must die in the thread that made them: left to the garbage collector of
            # another thread, Tcl aborts the whole process ("async handler deleted by the wrong thread").
            holder.clear()
            del label, poll, root
            gc.collect()


def make_display(kind: str, *, device: str, out_dir: Path, fullscreen: bool = True) -> DisplayOutput:
    if kind == "headless":
        return HeadlessOutput(out_dir, device)
    if kind == "window":
        return WindowOutput(fullscreen=fullscreen, title=device)
    raise MediaError(f"unknown display output {kind!r}: use window or headless")
