"""Audio output of a speaker node: the seam between "play this now" and a sound device.

Two steps, so that the instant of airtime costs nothing but starting: ``prepare`` decodes the
cached MP3 (with ffmpeg, volume applied) into a WAV file well before the instant; ``play`` starts
it and returns a ``Playback`` at once. Implementations:

* ``PlayerOutput``: a real sound device through whichever player is installed (aplay, ffplay or
  mpg123, detected in that order: aplay plays the prepared WAV with the least start-up latency).
* ``FileOutput``: for machines without a sound device (tests, the demo, a bench): writes what was
  played as ``<out>/<device>/<UTC start>_<item>.wav`` — cut at the interruption point if
  interrupted — and appends one JSON line per item to ``<out>/<device>/as-played.jsonl`` with the
  scheduled and actual start and the lateness in milliseconds.

Decoding uses an ffmpeg subprocess so that a node needs no Python audio library.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import threading
import time
import wave
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Protocol

from broadcaster.errors import MediaError
from broadcaster.fsutil import safe_name
from broadcaster.wire.times import format_time as fmt_time

log = logging.getLogger(__name__)

SAMPLE_RATE = 22050  # speech; halves memory and disk against 44.1 kHz


@dataclass
class PreparedAudio:
    item_id: str
    wav: Path  # decoded PCM, volume applied
    source: Path  # the cached MP3
    duration_s: float
    volume: int


class Playback(Protocol):
    started: datetime  # wall clock when output actually began

    def wait(self, timeout: float | None = None) -> bool:
        """True once playing has ended (finished or stopped)."""
        ...

    def stop(self) -> None:
        """Interrupt now (an emergency); ``wait`` then returns True."""
        ...

    @property
    def interrupted(self) -> bool: ...

    @property
    def returncode(self) -> int | None:
        """The player's exit status once ended (None: none yet, or no process): non-zero means the
        audio did not really go out, and the airing is reported failed."""
        ...


class AudioOutput(Protocol):
    name: str

    def prepare(self, media: Path, item_id: str, volume: int) -> PreparedAudio: ...

    def play(self, prepared: PreparedAudio, scheduled: datetime) -> Playback: ...

    def discard(self, prepared: PreparedAudio) -> None:
        """Free what ``prepare`` made when the item will not play after all."""
        ...


# --------------------------------------------------------------------------------------------
# decoding
# --------------------------------------------------------------------------------------------


def find_ffmpeg() -> str:
    exe = shutil.which("ffmpeg")
    if not exe:
        raise MediaError("ffmpeg is not installed: install the Debian package `ffmpeg` on this node")
    return exe


def decode_to_wav(media: Path, wav: Path, volume: int) -> float:
    """Decode ``media`` to mono 16-bit WAV at SAMPLE_RATE with linear gain volume/100; returns seconds."""
    wav.parent.mkdir(parents=True, exist_ok=True)
    tmp = wav.with_suffix(".tmp.wav")
    cmd = [
        find_ffmpeg(), "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
        "-i", str(media),
        "-af", f"volume={max(0, min(volume, 100)) / 100:.2f}",
        "-ac", "1", "-ar", str(SAMPLE_RATE), "-c:a", "pcm_s16le", "-f", "wav", str(tmp),
    ]
    try:
        res = subprocess.run(cmd, capture_output=True, timeout=120)
    except subprocess.TimeoutExpired as exc:
        raise MediaError(f"decoding {media.name} took over 120 s: file damaged?") from exc
    if res.returncode != 0:
        tmp.unlink(missing_ok=True)
        raise MediaError(f"ffmpeg cannot decode {media.name}: {res.stderr.decode(errors='replace').strip()[-300:]}")
    os.replace(tmp, wav)
    with wave.open(str(wav), "rb") as w:
        return w.getnframes() / float(w.getframerate())


class _Decoding:
    """Shared ``prepare``/``discard`` for outputs that play a decoded WAV."""

    work: Path

    def prepare(self, media: Path, item_id: str, volume: int) -> PreparedAudio:
        wav = self.work / f"{item_id}-{time.monotonic_ns()}.wav"
        dur = decode_to_wav(media, wav, volume)
        return PreparedAudio(item_id=item_id, wav=wav, source=media, duration_s=dur, volume=volume)

    def discard(self, prepared: PreparedAudio) -> None:
        prepared.wav.unlink(missing_ok=True)


# --------------------------------------------------------------------------------------------
# file output
# --------------------------------------------------------------------------------------------


class _FilePlayback:
    """Plays in real time against the wall clock, so an interruption cuts at the right frame."""

    def __init__(self, out: FileOutput, prepared: PreparedAudio, scheduled: datetime, final: Path, started: datetime, t0: float) -> None:
        self.started = started
        self._t0 = t0
        self._out, self._prep, self._scheduled, self._final = out, prepared, scheduled, final
        self._stop = threading.Event()
        self._done = threading.Event()
        self._interrupted = False
        self._thread = threading.Thread(target=self._run, name=f"file-play-{prepared.item_id}", daemon=True)
        self._thread.start()

    @property
    def interrupted(self) -> bool:
        return self._interrupted

    @property
    def returncode(self) -> int | None:
        return 0 if self._done.is_set() else None  # writing a file has no player to fail

    def wait(self, timeout: float | None = None) -> bool:
        return self._done.wait(timeout)

    def stop(self) -> None:
        self._stop.set()
        self._done.wait(5)

    def _run(self) -> None:
        try:
            self._interrupted = self._stop.wait(self._prep.duration_s)
            played_s = min(time.monotonic() - self._t0, self._prep.duration_s)
            ended = datetime.now(timezone.utc)
            if self._interrupted:
                _truncate_wav(self._final, played_s)
            self._out.log(
                {
                    "item": self._prep.item_id,
                    "file": self._final.name,
                    "scheduled": fmt_time(self._scheduled),
                    "started": fmt_time(self.started),
                    "ended": fmt_time(ended),
                    "lateness_ms": round((self.started - self._scheduled).total_seconds() * 1000, 1),
                    "played_s": round(played_s, 3),
                    "duration_s": round(self._prep.duration_s, 3),
                    "volume": self._prep.volume,
                    "interrupted": self._interrupted,
                }
            )
        except Exception:
            log.exception("file output failed for %s", self._prep.item_id)
        finally:
            self._done.set()


class FileOutput(_Decoding):
    """Writes what was played as WAV files plus an as-played log (no sound device needed)."""

    name = "file"

    def __init__(self, out_dir: Path, device: str) -> None:
        self.dir = Path(out_dir) / device
        self.work = self.dir / ".work"
        self.work.mkdir(parents=True, exist_ok=True)
        self.log_path = self.dir / "as-played.jsonl"
        self._log_lock = threading.Lock()

    def play(self, prepared: PreparedAudio, scheduled: datetime) -> Playback:
        # "Sound" starts now; the rename is a metadata operation on one file system (microseconds).
        started, t0 = datetime.now(timezone.utc), time.monotonic()
        stamp = started.strftime("%Y%m%dT%H%M%S.%f")[:-3] + "Z"
        final = self.dir / f"{stamp}_{safe_name(prepared.item_id)}.wav"
        os.replace(prepared.wav, final)
        return _FilePlayback(self, prepared, scheduled, final, started, t0)

    def log(self, record: dict[str, object]) -> None:
        with self._log_lock, open(self.log_path, "a", encoding="utf-8") as f:
            f.write(json.dumps(record, ensure_ascii=False) + "\n")


def _truncate_wav(path: Path, seconds: float) -> None:
    with wave.open(str(path), "rb") as r:
        params = r.getparams()
        frames = r.readframes(int(seconds * r.getframerate()))
    tmp = path.with_suffix(".cut.wav")
    with wave.open(str(tmp), "wb") as w:
        w.setparams(params)
        w.writeframes(frames)
    os.replace(tmp, path)


# --------------------------------------------------------------------------------------------
# real players
# --------------------------------------------------------------------------------------------

PLAYERS = ("aplay", "ffplay", "mpg123")


def detect_player() -> str | None:
    for p in PLAYERS:
        if shutil.which(p):
            return p
    return None


class _ProcessPlayback:
    def __init__(self, proc: subprocess.Popen[bytes], started: datetime, cleanup: Path | None) -> None:
        self.started = started
        self._proc = proc
        self._interrupted = False
        self._cleanup = cleanup

    @property
    def interrupted(self) -> bool:
        return self._interrupted

    def wait(self, timeout: float | None = None) -> bool:
        try:
            rc = self._proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return False
        if rc not in (0, None) and not self._interrupted:
            err = self._proc.stderr.read().decode(errors="replace").strip() if self._proc.stderr else ""
            log.warning("player exited with %s: %s", rc, err[-300:])
        if self._cleanup:
            self._cleanup.unlink(missing_ok=True)
        return True

    @property
    def returncode(self) -> int | None:
        return self._proc.returncode

    def stop(self) -> None:
        self._interrupted = True
        if self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(2)
            except subprocess.TimeoutExpired:
                self._proc.kill()
        self.wait(2)


class PlayerOutput(_Decoding):
    """A sound device through aplay / ffplay / mpg123 (``player=None`` picks the first installed)."""

    def __init__(self, work_dir: Path, player: str | None = None, device: str | None = None) -> None:
        chosen = player or detect_player()
        if not chosen or not shutil.which(chosen):
            raise MediaError(
                f"no audio player found ({player or ', '.join(PLAYERS)}): install alsa-utils, ffmpeg or mpg123, "
                "or run with --output file"
            )
        self.name = chosen
        self.alsa_device = device
        self.work = Path(work_dir)
        self.work.mkdir(parents=True, exist_ok=True)

    def _cmd(self, prepared: PreparedAudio) -> list[str]:
        if self.name == "aplay":
            return ["aplay", "-q"] + (["-D", self.alsa_device] if self.alsa_device else []) + [str(prepared.wav)]
        if self.name == "ffplay":
            return ["ffplay", "-nodisp", "-autoexit", "-loglevel", "error", str(prepared.wav)]
        # mpg123 reads the MP3 itself; its -f scale factor (32768 = unity) applies the volume
        scale = int(32768 * prepared.volume / 100)
        return ["mpg123", "-q", "-f", str(scale)] + (["-a", self.alsa_device] if self.alsa_device else []) + [str(prepared.source)]

    def play(self, prepared: PreparedAudio, scheduled: datetime) -> Playback:
        cmd = self._cmd(prepared)
        started = datetime.now(timezone.utc)
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        return _ProcessPlayback(proc, started, prepared.wav)


def make_output(kind: str, *, device: str, out_dir: Path, work_dir: Path, alsa_device: str | None = None) -> AudioOutput:
    """``file`` → FileOutput; ``auto`` → a detected player; or a player name (aplay, ffplay, mpg123)."""
    if kind == "file":
        return FileOutput(out_dir, device)
    if kind == "auto":
        return PlayerOutput(work_dir, None, alsa_device)
    if kind in PLAYERS:
        return PlayerOutput(work_dir, kind, alsa_device)
    raise MediaError(f"unknown audio output {kind!r}: use auto, file, {', '.join(PLAYERS)}")
