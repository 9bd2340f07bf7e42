"""Chime and programme assembly with real espeak-ng and ffmpeg; loudness measured on the output MP3."""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
from pathlib import Path

import pytest
from pydub import AudioSegment

from broadcaster.audio import (
    CEILING_DBFS,
    TARGET_DBFS,
    load_audio,
    make_chime,
    measure_loudness,
    render_program,
)
from broadcaster.audio.program import CHIME_GAP_MS, TAIL_MS, render_announcement
from broadcaster.errors import MediaError
from broadcaster.tts import Speech, make_engine
from broadcaster.tts.espeak_engine import EspeakEngine

TEXT = "Ngày mai phường tổ chức tiêm chủng cho trẻ em tại trạm y tế, đề nghị bà con đưa trẻ đến đúng giờ"
CLOSING = "Xin cảm ơn bà con đã lắng nghe"


@pytest.fixture(scope="module")
def reading() -> Speech:
    return EspeakEngine().synthesize(TEXT)


def ffprobe_seconds(path: Path) -> float:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "format=duration:stream=sample_rate,channels,codec_name",
         "-of", "json", str(path)],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    info = json.loads(out)
    stream = info["streams"][0]
    assert (stream["codec_name"], int(stream["sample_rate"]), stream["channels"]) == ("mp3", 24000, 1)
    return float(info["format"]["duration"])


def ebur128(path: Path) -> tuple[float, float]:
    """(integrated LUFS, true peak dBFS) of a file, measured by ffmpeg independently of the code."""
    err = subprocess.run(
        ["ffmpeg", "-hide_banner", "-nostats", "-i", str(path), "-af", "ebur128=peak=true:framelog=verbose",
         "-f", "null", "-"],
        check=True, capture_output=True, text=True,
    ).stderr  # fmt: skip
    summary = err[err.rfind("Summary:") :]
    lufs = float(re.search(r"I:\s*(-?[\d.]+) LUFS", summary).group(1))  # type: ignore[union-attr]
    peak = float(re.search(r"Peak:\s*(-?[\d.]+) dBFS", summary).group(1))  # type: ignore[union-attr]
    return lufs, peak


# --- chime -----------------------------------------------------------------------------------------


def test_chime_is_a_deterministic_three_note_bell() -> None:
    chime = make_chime("open", 24000)
    assert (chime.channels, chime.sample_width, chime.frame_rate) == (1, 2, 24000)
    assert 1500 < len(chime) < 2000
    assert -1.2 < chime.max_dBFS <= -0.9
    assert make_chime("open", 24000).raw_data == chime.raw_data
    assert make_chime("close", 24000).raw_data != chime.raw_data
    assert len(make_chime("open", 22050)) == len(chime)
    # it ends in silence rather than with a step
    assert chime[-5:].max_dBFS < -45
    with pytest.raises(ValueError):
        make_chime("siren")


# --- programme -------------------------------------------------------------------------------------


def test_programme_timeline_and_decoding(reading: Speech, tmp_path: Path) -> None:
    single = render_program(reading, tmp_path / "one.mp3", repeats=1, chime=False)
    spoken_ms = single.duration_ms - TAIL_MS  # the reading after its own silence was trimmed
    assert 0.5 * 1000 * len(load_audio(reading)) / 1000 < spoken_ms <= len(load_audio(reading))

    prog = render_program(reading, tmp_path / "prog.mp3", repeats=2, pause_ms=1500)
    chime_ms = len(make_chime("open", 22050))
    expected = chime_ms + CHIME_GAP_MS + 2 * spoken_ms + 1500 + TAIL_MS
    assert abs(prog.duration_ms - expected) <= 2
    assert prog.path == tmp_path / "prog.mp3"
    assert prog.engines == ("espeak",) and prog.repeats == 2
    assert (prog.sample_rate, prog.bitrate) == (24000, "64k")
    assert prog.sha256 == hashlib.sha256(prog.path.read_bytes()).hexdigest()

    # The MP3 decodes, with the duration the programme reports (MP3 adds encoder padding only).
    assert abs(ffprobe_seconds(prog.path) * 1000 - prog.duration_ms) < 150
    decoded = load_audio(prog.path)
    assert abs(len(decoded) - prog.duration_ms) < 150
    # the second reading starts after the first reading and the pause: silence there
    pause_at = chime_ms + CHIME_GAP_MS + spoken_ms + 200
    assert decoded[pause_at : pause_at + 1000].dBFS < -60


def test_loudness_is_even_across_very_different_inputs(tmp_path: Path) -> None:
    quiet = EspeakEngine(amplitude=20).synthesize(TEXT)
    loud = EspeakEngine(amplitude=200).synthesize(TEXT)
    before = [measure_loudness(load_audio(s)) for s in (quiet, loud)]
    assert before[1] - before[0] > 15  # really different inputs

    results = []
    for name, speech in (("quiet", quiet), ("loud", loud)):
        prog = render_program(speech, tmp_path / f"{name}.mp3", repeats=1, chime=False)
        decoded = load_audio(prog.path)
        level = measure_loudness(decoded)
        lufs, true_peak = ebur128(prog.path)
        results.append((level, lufs))
        # measured on the decoded MP3, not trusted from the code
        assert abs(level - TARGET_DBFS) <= 1.0, (name, level)
        assert decoded.max_dBFS < -0.3, (name, decoded.max_dBFS)  # limited, never clipped
        assert true_peak <= CEILING_DBFS + 1.0
        assert prog.loudness_lufs is not None and abs(prog.loudness_lufs - lufs) <= 1.0
        assert prog.true_peak_dbfs is not None and prog.true_peak_dbfs <= CEILING_DBFS + 0.5
    assert abs(results[0][0] - results[1][0]) <= 1.0
    assert abs(results[0][1] - results[1][1]) <= 1.0  # and by EBU R128 too


def test_closing_from_another_engine_is_levelled_and_recorded(reading: Speech, tmp_path: Path) -> None:
    # A gTTS-style MP3 clip (24 kHz mono) for the closing, made offline, 12 dB quieter than usual.
    wav = tmp_path / "closing.wav"
    subprocess.run(["espeak-ng", "-v", "vi", "-a", "40", "-w", str(wav), CLOSING], check=True)
    mp3 = tmp_path / "closing.mp3"
    subprocess.run(["ffmpeg", "-v", "error", "-i", str(wav), "-ar", "24000", "-ac", "1", "-b:a", "32k", str(mp3)],
                   check=True)  # fmt: skip
    closing = Speech(audio=mp3.read_bytes(), format="mp3", engine="gtts", voice="vi", text=CLOSING)

    prog = render_program(reading, tmp_path / "p.mp3", repeats=1, closing=closing, closing_chime=True)
    assert prog.engines == ("espeak", "gtts")
    decoded = load_audio(prog.path)
    chime_ms = len(make_chime("open", 22050))
    end_chime_ms = len(make_chime("close", 22050))
    # Cut out the reading and the closing and measure each one on the output.
    spoken_ms = render_program(reading, tmp_path / "r.mp3", repeats=1, chime=False).duration_ms - TAIL_MS
    first = decoded[chime_ms + CHIME_GAP_MS : chime_ms + CHIME_GAP_MS + spoken_ms]
    tail_start = prog.duration_ms - TAIL_MS - end_chime_ms - CHIME_GAP_MS
    closing_cut = decoded[tail_start - 1500 : tail_start]
    assert abs(measure_loudness(first) - TARGET_DBFS) <= 1.0
    assert abs(measure_loudness(closing_cut) - TARGET_DBFS) <= 1.5  # a short window of a short phrase


def test_same_input_gives_identical_bytes(reading: Speech, tmp_path: Path) -> None:
    a = render_program(reading, tmp_path / "a.mp3")
    b = render_program(reading, tmp_path / "b.mp3")
    assert a.sha256 == b.sha256 and a.duration_ms == b.duration_ms


def test_render_from_file_paths(tmp_path: Path) -> None:
    wav = tmp_path / "in.wav"
    wav.write_bytes(EspeakEngine().synthesize(CLOSING).audio)
    prog = render_program(wav, tmp_path / "out.mp3", repeats=3, pause_ms=500)
    assert prog.engines == () and prog.repeats == 3
    assert abs(ffprobe_seconds(prog.path) * 1000 - prog.duration_ms) < 150


def test_failed_export_leaves_nothing(reading: Speech, tmp_path: Path) -> None:
    out = tmp_path / "out"
    with pytest.raises(MediaError, match="ffmpeg could not encode"):
        render_program(reading, out / "p.mp3", bitrate="not-a-bitrate")
    assert list(out.iterdir()) == []


def test_replacing_an_existing_programme_is_atomic(reading: Speech, tmp_path: Path) -> None:
    target = tmp_path / "p.mp3"
    target.write_bytes(b"old")
    with pytest.raises(MediaError):
        render_program(reading, target, bitrate="not-a-bitrate")
    assert target.read_bytes() == b"old"  # a failed render never damages what is on air
    render_program(reading, target)
    assert target.read_bytes()[:3] != b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.mp3"]


def test_silent_or_bad_input_is_a_media_error(tmp_path: Path) -> None:
    silent = tmp_path / "silent.wav"
    AudioSegment.silent(2000, frame_rate=22050).export(silent, format="wav")
    with pytest.raises(MediaError, match="silent"):
        render_program(silent, tmp_path / "x.mp3")
    junk = tmp_path / "junk.mp3"
    junk.write_bytes(b"this is not audio")
    with pytest.raises(MediaError, match="junk.mp3"):
        render_program(junk, tmp_path / "y.mp3")
    with pytest.raises(ValueError, match="repeats"):
        render_program(silent, tmp_path / "z.mp3", repeats=0)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["junk.mp3", "silent.wav"]


def test_render_announcement_offline_end_to_end(tmp_path: Path) -> None:
    # auto with Google unreachable (".invalid" never resolves): espeak-ng speaks, cache fills once.
    engine = make_engine("auto", tmp_path / "tts", gtts_tld="invalid")
    prog = render_announcement(TEXT, engine, tmp_path / "a.mp3", closing_text=CLOSING)
    assert prog.engines == ("espeak",)
    assert len(list((tmp_path / "tts").rglob("*.wav"))) == 2
    again = render_announcement(TEXT, engine, tmp_path / "b.mp3", closing_text=CLOSING)
    assert again.sha256 == prog.sha256
    assert len(list((tmp_path / "tts").rglob("*.wav"))) == 2
