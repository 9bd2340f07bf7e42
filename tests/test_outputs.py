"""Audio and display outputs: the file output (WAV + as-played log) and the headless TV output."""

from __future__ import annotations

import array
import time
import wave
from datetime import datetime, timezone
from pathlib import Path

import pytest

from agent_support import make_mp3, make_png, read_jsonl
from broadcaster.agents.audio_out import FileOutput, PlayerOutput, make_output
from broadcaster.agents.display_out import HeadlessOutput, make_display
from broadcaster.errors import MediaError


def _peak(path: Path) -> int:
    with wave.open(str(path), "rb") as w:
        samples = array.array("h", w.readframes(w.getnframes()))
    return max(abs(s) for s in samples)


def _seconds(path: Path) -> float:
    with wave.open(str(path), "rb") as w:
        return w.getnframes() / w.getframerate()


def test_file_output_writes_wav_and_log_with_volume(tmp_path: Path) -> None:
    mp3 = tmp_path / "a.mp3"
    make_mp3(mp3, 0.5)
    out = FileOutput(tmp_path / "out", "kp1-loa1")
    loud = out.prepare(mp3, "loud", 100)
    quiet = out.prepare(mp3, "quiet", 25)
    assert abs(loud.duration_s - 0.5) < 0.1
    scheduled = datetime.now(timezone.utc)
    pb = out.play(loud, scheduled)
    assert pb.wait(10) and not pb.interrupted
    pb2 = out.play(quiet, datetime.now(timezone.utc))
    assert pb2.wait(10)
    log = read_jsonl(out.log_path)
    assert [r["item"] for r in log] == ["loud", "quiet"]
    assert log[0]["scheduled"].endswith("Z") and log[0]["lateness_ms"] >= 0
    wavs = sorted((tmp_path / "out" / "kp1-loa1").glob("*.wav"))
    assert [w.name.split("_", 1)[1] for w in wavs] == ["loud.wav", "quiet.wav"]
    assert _peak(wavs[1]) < _peak(wavs[0]) * 0.35  # 25 % volume


def test_file_output_interrupt_truncates(tmp_path: Path) -> None:
    mp3 = tmp_path / "long.mp3"
    make_mp3(mp3, 10.0)
    out = FileOutput(tmp_path / "out", "kp1-loa1")
    pb = out.play(out.prepare(mp3, "long", 80), datetime.now(timezone.utc))
    time.sleep(0.5)
    pb.stop()
    assert pb.wait(10) and pb.interrupted
    rec = read_jsonl(out.log_path)[0]
    # cut after what was played (at least the 0.5 s slept; more on a busy machine), long before the end
    assert rec["interrupted"] is True and 0.4 < rec["played_s"] < 8.0
    wav = next((tmp_path / "out" / "kp1-loa1").glob("*_long.wav"))
    assert abs(_seconds(wav) - rec["played_s"]) < 0.05  # the file holds exactly what was played


def test_bad_media_is_a_media_error(tmp_path: Path) -> None:
    bad = tmp_path / "x.mp3"
    bad.write_bytes(b"not audio at all")
    with pytest.raises(MediaError, match="cannot decode"):
        FileOutput(tmp_path / "out", "d").prepare(bad, "x", 50)


def test_player_output_commands(tmp_path: Path) -> None:
    mp3 = tmp_path / "a.mp3"
    make_mp3(mp3, 0.2)
    try:
        out = PlayerOutput(tmp_path / "w", "ffplay")
    except MediaError:
        pytest.skip("ffplay not installed")
    prep = out.prepare(mp3, "a", 50)
    assert out._cmd(prep)[:2] == ["ffplay", "-nodisp"]
    out.discard(prep)
    assert not prep.wav.exists()
    with pytest.raises(MediaError, match="unknown audio output"):
        make_output("speakers", device="d", out_dir=tmp_path, work_dir=tmp_path)


def test_headless_display_writes_current_frame_and_log(tmp_path: Path) -> None:
    a, b = tmp_path / "a.png", tmp_path / "b.png"
    make_png(a, "blue")
    make_png(b, "red")
    out = make_display("headless", device="tv", out_dir=tmp_path / "out")
    assert isinstance(out, HeadlessOutput)
    out.show(a, "s1", "deck")
    out.show(b, "kc", "emergency")
    cur = tmp_path / "out" / "tv" / "current.png"
    assert cur.read_bytes() == b.read_bytes()
    assert a.read_bytes() != b.read_bytes()  # the link was replaced, the source untouched
    log = read_jsonl(out.log_path)
    assert [(r["label"], r["reason"]) for r in log] == [("s1", "deck"), ("kc", "emergency")]
    # every frame shown is kept, named by time and reason, for inspection afterwards
    frames = [tmp_path / "out" / "tv" / r["file"] for r in log]
    assert [f.read_bytes() for f in frames] == [a.read_bytes(), b.read_bytes()]
    assert frames[1].name.endswith("_emergency_kc.png")


def test_headless_display_keeps_a_bounded_frame_history(tmp_path: Path) -> None:
    a = tmp_path / "a.png"
    make_png(a, "blue")
    out = HeadlessOutput(tmp_path / "out", "tv", keep_frames=3)
    for n in range(5):
        out.show(a, f"s{n}", "deck")
    kept = sorted(p.name for p in out.frames.iterdir())
    assert len(kept) == 3 and kept[-1].endswith("_deck_s4.png")


def test_player_output_really_plays_in_real_time_and_stops(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """ffplay on SDL's dummy audio device: consumes the samples at the real rate, without hardware."""
    monkeypatch.setenv("SDL_AUDIODRIVER", "dummy")
    try:
        out = PlayerOutput(tmp_path / "w", "ffplay")
    except MediaError:
        pytest.skip("ffplay not installed")
    short, long_ = tmp_path / "short.mp3", tmp_path / "long.mp3"
    make_mp3(short, 1.0)
    make_mp3(long_, 15.0)
    t0 = time.monotonic()
    pb = out.play(out.prepare(short, "s", 80), datetime.now(timezone.utc))
    assert pb.wait(15)
    assert pb.returncode == 0 and time.monotonic() - t0 >= 0.9  # played through, in real time
    pb = out.play(out.prepare(long_, "l", 80), datetime.now(timezone.utc))
    time.sleep(0.5)
    t1 = time.monotonic()
    pb.stop()  # an emergency cuts in
    assert pb.interrupted and time.monotonic() - t1 < 10  # cut: the file would play 15 s
