"""Assemble a loudspeaker programme: chime, N readings with pauses, optional closing, one MP3.

Timeline (silences exact, because each clip's own leading/trailing silence is trimmed first)::

    [chime] 600 ms | reading | pause | reading ... (repeats) | [pause | closing] | [600 ms | closing chime] | 400 ms

Loudness target: every spoken clip is normalised to ``TARGET_DBFS`` = -18 dBFS *speech-gated RMS*
(RMS over 100 ms blocks, ignoring blocks below -70 dBFS and blocks 20 dB under the clip's mean,
i.e. pauses between words; the same gating idea as EBU R128, without K-weighting). For speech this
lands at about -18 LUFS integrated; the chime sits 3 dB under the speech. Sample peaks are limited
to ``CEILING_DBFS`` = -1.5 dBFS by ffmpeg's look-ahead limiter, so a quiet clip boosted by 20 dB
is limited, never clipped. Why RMS and not LUFS for the gain: it is computed in-process in
milliseconds, and the export still reports the true EBU R128 figure (``Program.loudness_lufs``)
measured by ffmpeg on the very samples it encodes.

Speed: the mix is built as raw 32-bit PCM in memory, with 24 dB of headroom so gains never clip
before the limiter; ffmpeg runs once to export (limit, resample, measure, encode) and once more
only to decode an MP3 input (gTTS). Output is 24 kHz mono MP3 at 64 kbps (speech on horn
speakers), written to a temporary name and renamed, with bit-exact flags so the same input always
gives the same bytes and the same sha256.
"""

from __future__ import annotations

import io
import logging
import math
import os
import re
import shutil
import subprocess
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TypedDict, Unpack

from pydub import AudioSegment
from pydub.silence import detect_leading_silence

from broadcaster.audio.chime import make_chime
from broadcaster.errors import MediaError
from broadcaster.fsutil import atomic_path, sha256_file

with warnings.catch_warnings():
    # audioop is the C module pydub itself uses; deprecated in 3.11 (removed in 3.13, where pydub
    # falls back to the pyaudioop/audioop-lts package).
    warnings.simplefilter("ignore", DeprecationWarning)
    try:
        import audioop
    except ImportError:  # pragma: no cover - Python >= 3.13
        import pyaudioop as audioop  # type: ignore[no-redef]

if TYPE_CHECKING:
    from broadcaster.tts.base import Speech, TTSEngine

__all__ = [
    "BITRATE",
    "CEILING_DBFS",
    "DEFAULT_PAUSE_MS",
    "DEFAULT_REPEATS",
    "SAMPLE_RATE",
    "TARGET_DBFS",
    "Program",
    "load_audio",
    "measure_loudness",
    "render_announcement",
    "render_program",
]

log = logging.getLogger(__name__)

TARGET_DBFS = -18.0
CEILING_DBFS = -1.5
SAMPLE_RATE = 24000
BITRATE = "64k"
DEFAULT_REPEATS = 2
DEFAULT_PAUSE_MS = 1500
CHIME_GAP_MS = 600
TAIL_MS = 400
CHIME_BELOW_SPEECH_DB = 3.0
MAX_REPEATS = 5

_HEADROOM_DB = 24.0  # the internal mix runs this far below int32 full scale
_KEEP_EDGE_MS = 40  # kept around speech when trimming, so soft onsets are not cut
_BLOCK_MS = 100


@dataclass(frozen=True)
class Program:
    """A rendered programme, ready for the media store."""

    path: Path
    duration_ms: int
    sha256: str
    engines: tuple[str, ...]  # engines that spoke the clips, in order of appearance ("gtts", "espeak")
    loudness_dbfs: float  # speech-gated RMS of the readings as mixed (target TARGET_DBFS)
    loudness_lufs: float | None  # EBU R128 integrated loudness of the whole programme, chime included
    true_peak_dbfs: float | None  # EBU R128 true peak of the programme
    repeats: int
    sample_rate: int
    bitrate: str


def measure_loudness(segment: AudioSegment) -> float:
    """Speech-gated RMS level of ``segment`` in dBFS (full-scale square wave = 0); -inf if silent."""
    mono = segment.set_channels(1) if segment.channels != 1 else segment
    width = mono.sample_width
    block = max(1, mono.frame_rate * _BLOCK_MS // 1000) * width
    data = mono.raw_data
    full = float(mono.max_possible_amplitude)
    powers = []
    for start in range(0, len(data), block):
        chunk = data[start : start + block]
        if len(chunk) < block // 2:
            break  # a sliver at the end would weigh as much as a whole block
        powers.append((audioop.rms(chunk, width) / full) ** 2)
    powers = [p for p in powers if p > 1e-7]  # absolute gate, -70 dBFS
    if not powers:
        return -math.inf
    relative = sum(powers) / len(powers) * 10 ** (-20 / 10)
    gated = [p for p in powers if p >= relative]
    return 10 * math.log10(sum(gated) / len(gated))


def load_audio(source: Speech | str | os.PathLike[str], sample_rate: int = SAMPLE_RATE) -> AudioSegment:
    """Decode a clip to mono 16-bit audio. WAV is read in-process at its own rate; anything else
    (MP3 from gTTS) is decoded by one ffmpeg call straight to ``sample_rate``."""
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise MediaError(f"cannot read audio file {path}: {exc}") from exc
        fmt, label = ("wav" if data[:4] == b"RIFF" else "other"), str(path)
    else:
        data, fmt = source.audio, source.format
        label = str(source.path) if source.path else f"{source.engine} clip"
    if fmt == "wav":
        try:
            segment = AudioSegment.from_file(io.BytesIO(data), format="wav")
        except Exception as exc:  # pydub raises bare exceptions of several kinds on bad headers
            raise MediaError(f"{label}: not a readable WAV file: {exc}") from exc
        if segment.sample_width != 2:
            segment = segment.set_sample_width(2)
        return segment.set_channels(1) if segment.channels != 1 else segment
    pcm = _run_ffmpeg(
        ["-i", "pipe:0", "-vn", "-ac", "1", "-ar", str(sample_rate), "-f", "s16le", "pipe:1"],
        data,
        f"decode {label}",
    ).stdout
    if not pcm:
        raise MediaError(f"{label}: decodes to no audio (empty or corrupt file)")
    return AudioSegment(data=pcm, sample_width=2, frame_rate=sample_rate, channels=1)


def render_program(
    reading: Speech | str | os.PathLike[str],
    out_path: str | os.PathLike[str],
    *,
    repeats: int = DEFAULT_REPEATS,
    pause_ms: int = DEFAULT_PAUSE_MS,
    closing: Speech | str | os.PathLike[str] | None = None,
    chime: bool = True,
    closing_chime: bool = False,
    target_dbfs: float = TARGET_DBFS,
    sample_rate: int = SAMPLE_RATE,
    bitrate: str = BITRATE,
) -> Program:
    """Build the programme around ``reading`` (read ``repeats`` times) and write it to ``out_path``.

    ``reading`` and ``closing`` are ``Speech`` from a TTS engine or audio file paths. The file is
    replaced atomically; on any error nothing is left at ``out_path`` or beside it.
    """
    if not 1 <= repeats <= MAX_REPEATS:
        raise ValueError(f"repeats must be between 1 and {MAX_REPEATS}, not {repeats}")
    if not 0 <= pause_ms <= 60_000:
        raise ValueError(f"pause_ms must be between 0 and 60000, not {pause_ms}")
    out_path = Path(out_path)

    speech = load_audio(reading, sample_rate)
    mix_rate = speech.frame_rate  # mix at the speech's own rate; ffmpeg resamples once on export
    spoken = [_engine_of(reading)]
    body, level = _level(_trim(speech), target_dbfs, "reading")

    pieces: list[bytes] = []
    if chime:
        tone, _ = _level(make_chime("open", mix_rate), target_dbfs - CHIME_BELOW_SPEECH_DB, "chime")
        pieces += [tone, _silence(CHIME_GAP_MS, mix_rate)]
    for index in range(repeats):
        if index:
            pieces.append(_silence(pause_ms, mix_rate))
        pieces.append(body)
    if closing is not None:
        end = load_audio(closing, mix_rate)
        if end.frame_rate != mix_rate:
            end = end.set_frame_rate(mix_rate)
        end_pcm, _ = _level(_trim(end), target_dbfs, "closing")
        pieces += [_silence(pause_ms, mix_rate), end_pcm]
        spoken.append(_engine_of(closing))
    if closing_chime:
        tone, _ = _level(make_chime("close", mix_rate), target_dbfs - CHIME_BELOW_SPEECH_DB, "chime")
        pieces += [_silence(CHIME_GAP_MS, mix_rate), tone]
    pieces.append(_silence(TAIL_MS, mix_rate))
    pcm = b"".join(pieces)

    lufs, peak = _export_mp3(pcm, mix_rate, out_path, sample_rate=sample_rate, bitrate=bitrate)
    digest = sha256_file(out_path)
    duration_ms = round(len(pcm) / 4 / mix_rate * 1000)
    engines = tuple(dict.fromkeys(e for e in spoken if e))
    log.info(
        "programme %s: %.1f s, %s, speech %.1f dBFS, %s LUFS",
        out_path.name, duration_ms / 1000, "+".join(engines) or "files", level, lufs,
    )  # fmt: skip
    return Program(
        path=out_path, duration_ms=duration_ms, sha256=digest, engines=engines, loudness_dbfs=round(level, 2),
        loudness_lufs=lufs, true_peak_dbfs=peak, repeats=repeats, sample_rate=sample_rate, bitrate=bitrate,
    )  # fmt: skip


class ProgramOptions(TypedDict, total=False):
    """``render_program``'s keyword arguments that ``render_announcement`` passes on."""

    repeats: int
    pause_ms: int
    chime: bool
    closing_chime: bool
    target_dbfs: float
    sample_rate: int
    bitrate: str


def render_announcement(
    text: str,
    engine: TTSEngine,
    out_path: str | os.PathLike[str],
    *,
    closing_text: str | None = None,
    voice: str | None = None,
    **options: Unpack[ProgramOptions],
) -> Program:
    """Synthesise ``text`` (already normalised to spoken words) and render it with ``render_program``.

    ``options`` are ``render_program``'s keyword arguments (repeats, pause_ms, chime, ...).
    """
    reading = engine.synthesize(text, voice)
    closing = engine.synthesize(closing_text, voice) if closing_text else None
    return render_program(reading, out_path, closing=closing, **options)


def _engine_of(source: object) -> str:
    return getattr(source, "engine", "") or ""


def _silence(ms: int, rate: int) -> bytes:
    return bytes(rate * ms // 1000 * 4)


def _trim(segment: AudioSegment) -> AudioSegment:
    """Cut the engine's own silence at both ends so pauses are exactly what the programme says."""
    level = measure_loudness(segment)
    if level == -math.inf:
        return segment
    threshold = max(level - 40.0, -65.0)
    lead = detect_leading_silence(segment, silence_threshold=threshold, chunk_size=10)
    trail = detect_leading_silence(segment.reverse(), silence_threshold=threshold, chunk_size=10)
    start = max(0, lead - _KEEP_EDGE_MS)
    end = len(segment) - max(0, trail - _KEEP_EDGE_MS)
    return segment[start:end] if end > start else segment


def _level(segment: AudioSegment, target_dbfs: float, what: str) -> tuple[bytes, float]:
    """Raw 32-bit PCM of ``segment`` at ``target_dbfs`` (in the headroom-shifted mix), and its level."""
    level = measure_loudness(segment)
    if level == -math.inf:
        raise MediaError(f"the {what} is silent: the TTS engine produced no audible speech")
    gain = target_dbfs - level
    peak_after = segment.max_dBFS + gain
    if peak_after > _HEADROOM_DB:  # only for a clip quieter than about -42 dBFS: boost what is safe
        log.warning("the %s is very quiet (%.1f dBFS); it will end %.1f dB under target", what, level,
                    peak_after - _HEADROOM_DB)  # fmt: skip
        gain -= peak_after - _HEADROOM_DB
    wide = segment.set_sample_width(4).apply_gain(gain - _HEADROOM_DB)
    return wide.raw_data, level + gain


_LUFS_RE = re.compile(r"Integrated loudness:\s*I:\s*(-?[\d.]+|-inf) LUFS", re.S)
_PEAK_RE = re.compile(r"True peak:\s*Peak:\s*(-?[\d.]+|-inf) dBFS", re.S)


def _export_mp3(
    pcm: bytes, rate: int, out_path: Path, *, sample_rate: int, bitrate: str
) -> tuple[float | None, float | None]:
    """One ffmpeg run: undo the headroom, limit peaks, resample, measure EBU R128, encode MP3."""
    limit = 10 ** (CEILING_DBFS / 20)
    chain = ",".join([
        f"volume={_HEADROOM_DB}dB:precision=float",
        f"alimiter=limit={limit:.4f}:level=disabled:attack=5:release=50:latency=1",
        f"aresample={sample_rate}",
        "ebur128=peak=true:framelog=verbose",
    ])  # fmt: skip
    try:
        out_path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(out_path, mode=0o644) as tmp:  # programmes are served to devices
            proc = _run_ffmpeg(
                [
                    "-f", "s32le", "-ar", str(rate), "-ac", "1", "-i", "pipe:0",
                    "-af", chain, "-ac", "1", "-ar", str(sample_rate),
                    "-c:a", "libmp3lame", "-b:a", bitrate,
                    "-map_metadata", "-1", "-fflags", "+bitexact", "-flags:a", "+bitexact",
                    "-f", "mp3", "-y", str(tmp),
                ],
                pcm,
                f"encode {out_path.name}",
                loglevel="info",  # the ebur128 summary is logged at info level
            )  # fmt: skip
            if tmp.stat().st_size == 0:
                raise MediaError(f"ffmpeg wrote an empty file for {out_path}")
    except OSError as exc:  # the folder not writable, or the disk full at the rename
        raise MediaError(f"cannot write {out_path}: {exc}") from exc
    log_text = proc.stderr.decode("utf-8", "replace")
    summary = log_text[log_text.rfind("Summary:") :]
    return _number(_LUFS_RE, summary), _number(_PEAK_RE, summary)


def _number(pattern: re.Pattern[str], text: str) -> float | None:
    match = pattern.search(text)
    if not match:
        return None
    return -math.inf if match.group(1) == "-inf" else float(match.group(1))


def _run_ffmpeg(args: list[str], data: bytes, what: str, loglevel: str = "error") -> subprocess.CompletedProcess[bytes]:
    exe = shutil.which(AudioSegment.converter) or shutil.which("ffmpeg")
    if exe is None:
        raise MediaError("ffmpeg is not installed or not on PATH: install the Debian package ffmpeg")
    cmd = [exe, "-hide_banner", "-nostdin", "-nostats", "-loglevel", loglevel, *args]
    try:
        proc = subprocess.run(cmd, input=data, capture_output=True, check=False, timeout=600)
    except subprocess.TimeoutExpired as exc:
        raise MediaError(f"ffmpeg did not finish within 600 s ({what})") from exc
    if proc.returncode != 0:
        tail = proc.stderr.decode("utf-8", "replace").strip().splitlines()[-3:]
        raise MediaError(f"ffmpeg could not {what}: {' / '.join(tail) or f'exit {proc.returncode}'}")
    return proc
