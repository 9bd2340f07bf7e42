"""A recorded voice instead of synthesis (``--audio``), and which voice each item airs with.

Recordings are made here by ffmpeg in the formats phones and recorders produce (M4A/AAC, MP3,
WAV), from real espeak-ng speech; the refusals use a corrupt file, silence and an hour-long file.
"""

from __future__ import annotations

import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
from test_central_service import in_window_soon

from broadcaster.audio import TARGET_DBFS, load_audio, measure_loudness, render_program
from broadcaster.audio.recording import RECORDING_ENGINE, RecordingError, import_recording
from broadcaster.central.store import Store
from broadcaster.cli.main import main
from broadcaster.config import load_ward


def ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-v", "error", "-y", *args], check=True)


@pytest.fixture(scope="module")
def speech_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("rec")
    raw = d / "raw.wav"
    subprocess.run(["espeak-ng", "-v", "vi", "-w", str(raw), "Thông báo của ủy ban nhân dân phường một"], check=True)
    # a phone recording: a second of room silence before and after, and quiet (-20 dB)
    out = d / "phone.wav"
    ffmpeg("-f", "lavfi", "-i", "anullsrc=r=22050:cl=mono", "-i", str(raw), "-filter_complex",
           "[0]atrim=0:1[a];[0]atrim=0:1.5[b];[1]volume=-20dB[s];[a][s][b]concat=n=3:v=0:a=1", str(out))
    return out


@pytest.fixture(scope="module")
def recordings(speech_wav: Path) -> dict[str, Path]:
    d = speech_wav.parent
    files = {"wav": speech_wav, "mp3": d / "r.mp3", "m4a": d / "r.m4a", "aac": d / "r.aac"}
    ffmpeg("-i", str(speech_wav), "-c:a", "libmp3lame", str(files["mp3"]))
    ffmpeg("-i", str(speech_wav), "-c:a", "aac", "-b:a", "64k", str(files["m4a"]))
    ffmpeg("-i", str(speech_wav), "-c:a", "aac", "-f", "adts", str(files["aac"]))
    silent = d / "silent.m4a"
    ffmpeg("-f", "lavfi", "-i", "anullsrc=r=44100:cl=mono", "-t", "5", "-c:a", "aac", str(silent))
    files["silent"] = silent
    corrupt = d / "corrupt.m4a"
    data = files["m4a"].read_bytes()
    corrupt.write_bytes(data[:64] + bytes(len(data) - 64))
    files["corrupt"] = corrupt
    notaudio = d / "notes.m4a"
    notaudio.write_text("biên bản cuộc họp", encoding="utf-8")
    files["notaudio"] = notaudio
    long = d / "hour.mp3"
    ffmpeg("-f", "lavfi", "-i", "sine=f=300:r=8000", "-t", "3700", "-ac", "1", "-c:a", "libmp3lame", "-b:a", "8k", str(long))
    files["long"] = long
    return files


@pytest.mark.parametrize("fmt", ["wav", "mp3", "m4a", "aac"])
def test_recording_becomes_a_reading_like_speech(recordings: dict[str, Path], fmt: str, tmp_path: Path) -> None:
    reading = import_recording(recordings[fmt])
    assert reading.engine == RECORDING_ENGINE and reading.voice.startswith(recordings[fmt].name + "#")
    program = render_program(reading, tmp_path / "p.mp3", repeats=2, chime=True)
    # the second of leading silence is trimmed away: chime, 600 ms, speech..., not a second of nothing
    raw = load_audio(recordings["wav"])
    assert program.duration_ms < 600 + 2 * (len(raw) - 2000) + 1500 + 400 + 1000 + 500
    # loudness evened to the same target as synthesised speech, though recorded 20 dB quieter
    assert abs(measure_loudness(load_audio(program.path)) - TARGET_DBFS) < 4.0


@pytest.mark.parametrize(
    ("which", "message"),
    [
        ("silent", "không có tiếng"),
        ("corrupt", "bị hỏng|không phải tệp âm thanh"),  # ffprobe or ffmpeg gives up on it
        ("notaudio", "không phải tệp âm thanh"),
        ("long", "vượt quá 10 phút"),
    ],
)
def test_bad_recordings_are_refused_clearly(recordings: dict[str, Path], which: str, message: str) -> None:
    with pytest.raises(RecordingError, match=message):
        import_recording(recordings[which])


def test_missing_and_empty_recordings(tmp_path: Path) -> None:
    with pytest.raises(RecordingError, match="Không tìm thấy"):
        import_recording(tmp_path / "none.m4a")
    with pytest.raises(RecordingError, match="trống"):
        import_recording(data=b"", name="x.m4a")


def test_render_and_queue_with_audio(ward_dir: Path, recordings: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    out = ward_dir / "out"
    assert main(["render", "--text", "Thông báo họp tổ dân phố", "--audio", str(recordings["m4a"]), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "engine recording" in printed and "ghi âm (r.m4a#" in printed and "⚠" not in printed
    assert (out / "announcement.mp3").is_file() and list(out.glob("announcement-*.png"))

    assert main(["render", "--text", "Thông báo", "--audio", str(recordings["silent"]), "--out", str(ward_dir / "o2")]) == 1
    assert "không có tiếng" in capsys.readouterr().err

    ward = load_ward()
    at = f"{in_window_soon(ward, 'kp1'):%d/%m/%Y %H:%M}"
    assert main(["queue", "--text", "Họp tổ dân phố", "--audio", str(recordings["long"]), "--zones", "kp1", "--at", at,
                 "--id", "too-long"]) == 1
    assert "vượt quá 10 phút" in capsys.readouterr().err
    assert main(["queue", "--text", "Họp tổ dân phố", "--audio", str(recordings["mp3"]), "--zones", "kp1", "--at", at,
                 "--id", "ghi-am"]) == 0
    assert "ghi âm" in capsys.readouterr().out
    with Store.for_ward(ward) as s:
        assert [a.id for a in s.announcements()] == ["ghi-am"]  # the refused one left nothing behind
        assert s.announcement("ghi-am").engine == "recording"
        v = s.voices()["ghi-am"]
        assert v.engine == "recording" and not v.fallback


def test_fallback_voice_is_shown_and_warned(ward_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from broadcaster.localbroker import free_port

    wf = ward_dir / "devices" / "ward.toml"
    (ward_dir / "devices" / "fpt.key").write_text("k")
    wf.write_text(wf.read_text(encoding="utf-8") + f"""
[speech]
engines = ["fpt", "espeak"]
[speech.fpt]
api_key_file = "fpt.key"
base_url = "http://127.0.0.1:{free_port()}"
""", encoding="utf-8")  # FPT.AI unreachable: espeak-ng speaks
    assert main(["render", "--text", "Lệ phí 50.000 đồng", "--out", str(ward_dir / "o")]) == 0
    out = capsys.readouterr().out
    assert "voice:   espeak (vi s110 p50 a100 g3)" in out and "giọng dự phòng espeak" in out and "fpt" in out
    ward = load_ward()
    at = f"{in_window_soon(ward, 'kp2'):%d/%m/%Y %H:%M}"
    assert main(["queue", "--text", "Lệ phí 50.000 đồng", "--zones", "kp2", "--at", at, "--id", "le-phi"]) == 0
    assert "giọng dự phòng espeak" in capsys.readouterr().out
    assert main(["list"]) == 0
    listed = capsys.readouterr().out
    assert "espeak ⚠" in listed and "le-phi: ⚠ sẽ phát bằng giọng dự phòng espeak" in listed
    with Store.for_ward(ward) as s:
        v = s.voices()["le-phi"]
        assert (v.engine, v.preferred, v.fallback) == ("espeak", "fpt", True)
    assert timedelta(minutes=ward.speech.swap_margin_minutes) == timedelta(minutes=20)


def test_uploaded_bytes_are_imported_the_same_way(recordings: dict[str, Path]) -> None:
    from_file = import_recording(recordings["m4a"])
    from_bytes = import_recording(data=recordings["m4a"].read_bytes(), name="upload.m4a")
    assert from_bytes.audio == from_file.audio and from_bytes.voice.startswith("upload.m4a#")
    with pytest.raises(RecordingError, match="vượt quá 10 phút"):
        import_recording(data=recordings["long"].read_bytes(), name="hour.mp3")
