"""A recorded voice instead of synthesis: check an officer's recording and make it a reading.

Phones record M4A/AAC, recorders MP3 or WAV; ffmpeg reads them all. ``import_recording`` refuses
what must not go on air (not audio, corrupt, silent, too short, too long) with a Vietnamese message
saying what is wrong and what to do, and returns the recording as a ``Speech`` (16-bit mono WAV),
so ``render_program`` treats it exactly like synthesised speech: its silence trimmed, its loudness
evened to the same target, chime and readings around it.

Typical use (the CLI's ``--audio``; the console's upload)::

    from broadcaster.audio.recording import import_recording, RecordingError
    try:
        reading = import_recording(uploaded_path)          # or import_recording(data=bytes, name="x.m4a")
    except RecordingError as exc:
        show(str(exc))                                     # Vietnamese, for the officer
    program = render_program(reading, out_mp3, repeats=2, chime=True)
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import math
import shutil
import subprocess
import wave
from pathlib import Path

from broadcaster.audio import messages_vi as vi
from broadcaster.errors import MediaError
from broadcaster.tts.base import Speech

__all__ = ["MAX_SECONDS", "MIN_SPEECH_SECONDS", "RECORDING_ENGINE", "RecordingError", "import_recording"]

log = logging.getLogger(__name__)

RECORDING_ENGINE = "recording"
MAX_SECONDS = 10 * 60.0  # a bulletin read twice in a 60-minute window; longer is a mistake (wrong file)
MIN_SPEECH_SECONDS = 0.5
SILENT_DBFS = -55.0  # speech-gated level under which nothing audible was recorded
MAX_BYTES = 200 * 1024 * 1024
_RATE = 24000


class RecordingError(MediaError):
    """The recording cannot be aired; the message (Vietnamese) says why and what to do."""


def import_recording(
    path: str | Path | None = None, *, data: bytes | None = None, name: str = "", max_seconds: float = MAX_SECONDS
) -> Speech:
    """Check a recording (a file ``path``, or its bytes ``data`` with its file ``name``) and return
    it as a ``Speech`` with ``engine="recording"`` and ``voice`` = its file name and short hash.

    Raises ``RecordingError`` for a file that is not audio or is corrupt, silent, shorter than
    ``MIN_SPEECH_SECONDS`` of sound or longer than ``max_seconds``.
    """
    src: Path | None = None
    if data is None:
        if path is None:
            raise ValueError("import_recording needs a path or data")
        p = src = Path(path)
        name = name or p.name
        try:
            if p.stat().st_size > MAX_BYTES:
                raise RecordingError(vi.RECORDING_TOO_BIG.format(name=name, mb=MAX_BYTES // (1024 * 1024)))
            data = p.read_bytes()
        except FileNotFoundError as exc:
            raise RecordingError(vi.RECORDING_MISSING.format(name=str(p))) from exc
        except OSError as exc:
            raise RecordingError(vi.RECORDING_UNREADABLE.format(name=str(p), why=exc.strerror or exc)) from exc
    name = name or "recording"
    if not data:
        raise RecordingError(vi.RECORDING_EMPTY.format(name=name))
    if len(data) > MAX_BYTES:
        raise RecordingError(vi.RECORDING_TOO_BIG.format(name=name, mb=MAX_BYTES // (1024 * 1024)))

    seconds = _probe_seconds(data, name, src)
    if seconds is not None and seconds > max_seconds:
        raise RecordingError(vi.RECORDING_TOO_LONG.format(name=name, minutes=seconds / 60, limit=max_seconds / 60))
    pcm = _decode(data, name, max_seconds, src)
    decoded_s = len(pcm) / 2 / _RATE
    if decoded_s > max_seconds:  # a container without a duration header
        raise RecordingError(vi.RECORDING_TOO_LONG.format(name=name, minutes=decoded_s / 60, limit=max_seconds / 60))

    from pydub import AudioSegment

    from broadcaster.audio.program import _trim, measure_loudness

    segment = AudioSegment(data=pcm, sample_width=2, frame_rate=_RATE, channels=1)
    level = measure_loudness(segment)
    if level == -math.inf or level < SILENT_DBFS:
        raise RecordingError(vi.RECORDING_SILENT.format(name=name))
    spoken_s = len(_trim(segment)) / 1000
    if spoken_s < MIN_SPEECH_SECONDS:
        raise RecordingError(vi.RECORDING_TOO_SHORT.format(name=name, seconds=spoken_s))

    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(_RATE)
        w.writeframes(pcm)
    digest = hashlib.sha256(data).hexdigest()[:12]
    log.info("recording %s: %.1f s, %.1f dBFS speech level", name, decoded_s, level)
    return Speech(audio=buf.getvalue(), format="wav", engine=RECORDING_ENGINE, voice=f"{Path(name).name}#{digest}")


def _ffmpeg(tool: str) -> str:
    exe = shutil.which(tool)
    if exe is None:
        raise MediaError(f"{tool} is not installed or not on PATH: install the Debian package ffmpeg")
    return exe


def _source(data: bytes, src: Path | None) -> tuple[str, bytes | None]:
    # A file is read by path (seekable: an M4A whose index is at the end is read without holding
    # it all); bytes go through a pipe.
    # "file:" so that a name such as "http:x" or "pipe:1" is only ever a file name
    return (f"file:{src.resolve()}", None) if src is not None else ("pipe:0", data)


def _probe_seconds(data: bytes, name: str, src: Path | None = None) -> float | None:
    """The duration the container declares (None when it declares none); refuses non-audio."""
    where, stdin = _source(data, src)
    proc = subprocess.run(
        [_ffmpeg("ffprobe"), "-v", "error", "-show_entries", "format=duration:stream=codec_type",
         "-of", "json", "-i", where],
        input=stdin, capture_output=True, timeout=60, check=False,
    )  # fmt: skip
    try:
        info = json.loads(proc.stdout or b"{}")
    except ValueError:
        info = {}
    streams = [s.get("codec_type") for s in info.get("streams", [])]
    if proc.returncode != 0 or "audio" not in streams:
        raise RecordingError(vi.RECORDING_NOT_AUDIO.format(name=name))
    try:
        return float(info.get("format", {}).get("duration"))
    except (TypeError, ValueError):
        return None


def _decode(data: bytes, name: str, max_seconds: float, src: Path | None = None) -> bytes:
    where, stdin = _source(data, src)
    proc = subprocess.run(
        [_ffmpeg("ffmpeg"), "-hide_banner", "-loglevel", "error", "-i", where,
         "-vn", "-ac", "1", "-ar", str(_RATE), "-t", f"{max_seconds + 1:g}", "-f", "s16le", "pipe:1"],
        input=stdin if stdin is not None else b"", capture_output=True, timeout=600, check=False,
    )  # fmt: skip
    if proc.returncode != 0 or not proc.stdout:
        log.info("ffmpeg could not decode %s: %s", name, proc.stderr.decode("utf-8", "replace")[-300:])
        raise RecordingError(vi.RECORDING_CORRUPT.format(name=name))
    return proc.stdout
