"""A recording the officer uploads instead of synthesised speech (MP3, WAV, M4A/AAC from a phone).

``import_recording`` checks it with ffmpeg and returns a clean mono WAV: a file that does not
decode, is too short or too long, or is silent is refused with a Vietnamese message saying what to
do. ``produce_with_recording`` then builds the programme exactly as for speech (chime, readings,
pauses, loudness: ``audio.program.render_program``) plus the TV slide.
"""

from __future__ import annotations

import re
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from broadcaster.errors import MediaError

ALLOWED = (".mp3", ".wav", ".m4a", ".aac", ".mp4", ".ogg", ".opus", ".3gp", ".amr", ".webm")
MIN_S, MAX_S = 1.0, 10 * 60.0
SILENT_DB = -50.0  # a loudest sample below this is no speech at all
MAX_BYTES = 50 * 1024 * 1024


class RecordingError(MediaError):
    """The uploaded file cannot be used (message in Vietnamese, for the officer)."""


@dataclass(frozen=True)
class Recording:
    wav: Path  # 24 kHz mono PCM, what render_program reads
    duration_s: float
    max_db: float
    original_name: str


def import_recording(path: Path, *, original_name: str = "", work_dir: Path | None = None) -> Recording:
    name = original_name or path.name
    ext = Path(name).suffix.lower()
    if ext not in ALLOWED:
        raise RecordingError(f"Tệp «{name}» không phải tệp âm thanh được nhận (MP3, WAV, M4A/AAC): hãy chọn tệp ghi âm khác.")
    size = path.stat().st_size
    if size == 0:
        raise RecordingError(f"Tệp «{name}» rỗng (0 byte): hãy ghi âm lại rồi tải lên.")
    if size > MAX_BYTES:
        raise RecordingError(f"Tệp «{name}» quá lớn ({size // (1024 * 1024)} MB, tối đa {MAX_BYTES // (1024 * 1024)} MB).")
    out_dir = Path(tempfile.mkdtemp(prefix="rec-", dir=work_dir))
    wav = out_dir / "recording.wav"
    res = subprocess.run(
        ["ffmpeg", "-nostdin", "-hide_banner", "-v", "error", "-y", "-i", str(path), "-vn", "-ac", "1", "-ar", "24000",
         "-c:a", "pcm_s16le", str(wav)],
        capture_output=True, text=True, timeout=120,
    )
    if res.returncode != 0 or not wav.exists() or wav.stat().st_size <= 44:
        raise RecordingError(f"Tệp «{name}» bị hỏng hoặc không đọc được (ffmpeg: {_first_line(res.stderr)}): "
                             "hãy xuất lại tệp từ điện thoại hoặc ghi âm lại.")
    stats = subprocess.run(
        ["ffmpeg", "-nostdin", "-hide_banner", "-i", str(wav), "-af", "volumedetect", "-f", "null", "-"],
        capture_output=True, text=True, timeout=120,
    ).stderr
    dur = _duration(stats)
    max_db = _db(stats, "max_volume")
    if dur is None or dur < MIN_S:
        raise RecordingError(f"Tệp «{name}» quá ngắn ({dur or 0:.1f} giây): cần ít nhất {MIN_S:.0f} giây lời nói.")
    if dur > MAX_S:
        raise RecordingError(f"Tệp «{name}» dài {dur / 60:.1f} phút, quá {MAX_S / 60:.0f} phút: hãy cắt ngắn.")
    if max_db is None or max_db < SILENT_DB:
        raise RecordingError(f"Tệp «{name}» không có tiếng (im lặng, đỉnh {max_db if max_db is not None else -99:.0f} dB): "
                             "kiểm tra micrô rồi ghi âm lại.")
    return Recording(wav, dur, max_db, name)


def produce_with_recording(producer: Any, ann: Any, recording: Recording) -> Any:
    """Like ``Producer.announcement`` but the readings are the recording (chime, pauses, loudness as for speech)."""
    from broadcaster.audio import render_program
    from broadcaster.production import ProducedAnnouncement
    from broadcaster.slides import render_announcement

    with producer._tmpdir() as tmp:  # noqa: SLF001 - the producer's own scratch folder
        d = Path(tmp)
        program = render_program(recording.wav, d / "recording.mp3", repeats=ann.readings, chime=ann.chime)
        slides = []
        if ann.show_on_tv:
            slides = render_announcement(ann.title, ann.text, ward_name=producer.ward.name, hotline=producer.ward.hotline,
                                         priority=ann.priority, out_dir=d, stem="recording")
        return ProducedAnnouncement(
            audio=producer.store.put_file(program.path),
            duration_ms=program.duration_ms,
            engine="recording",
            spoken_text=f"(bản ghi âm «{recording.original_name}», {recording.duration_s:.0f} giây)",
            slides=tuple(producer.store.put_file(p) for p in slides),
        )


def _first_line(s: str) -> str:
    lines = [x.strip() for x in s.strip().splitlines() if x.strip()]
    return lines[-1][:160] if lines else "không rõ lỗi"


def _duration(s: str) -> float | None:
    m = re.search(r"Duration: (\d+):(\d+):(\d+(?:\.\d+)?)", s)
    return int(m.group(1)) * 3600 + int(m.group(2)) * 60 + float(m.group(3)) if m else None


def _db(s: str, key: str) -> float | None:
    m = re.search(rf"{key}: (-?\d+(?:\.\d+)?) dB", s)
    return float(m.group(1)) if m else None
