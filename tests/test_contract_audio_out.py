"""One contract for every loudspeaker output (``broadcaster.agents.audio_out``), run over each of them
as ``make_output`` builds it: the file output, and the real players (ffplay, aplay, mpg123) on real
sinks that need no sound card: SDL's dummy audio device for ffplay, which consumes the samples at
the real rate, and ALSA's ``null`` device for aplay and mpg123, which takes them as fast as they come.

A new output is added to ``KINDS`` and must pass the suite unchanged. What only a sink that plays in
real time can show (still playing a moment after the start, cut short by an emergency) runs over the
paced ones.
"""

from __future__ import annotations

import array
import logging
import shutil
import threading
import wave
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import pytest

from agent_support import make_mp3
from broadcaster.agents.audio_out import PLAYERS, AudioOutput, make_output
from broadcaster.errors import MediaError

# kind given to make_output, its ALSA device, whether the sink plays in real time
KINDS = {
    "file": (None, True),
    "ffplay": (None, True),
    "aplay": ("null", False),
    "mpg123": ("null", False),
}
PACED = [k for k, (_dev, paced) in KINDS.items() if paced]


@dataclass
class Built:
    kind: str
    output: AudioOutput
    work: Path


def _build(kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Built:
    if kind in PLAYERS and shutil.which(kind) is None:
        pytest.skip(f"{kind} is not installed (scripts/_setup.sh installs it)")
    monkeypatch.setenv("SDL_AUDIODRIVER", "dummy")  # ffplay: SDL's real dummy device, paced like a sound card
    work = tmp_path / "work"
    out = make_output(kind, device="kp1-loa1", out_dir=tmp_path / "out", work_dir=work, alsa_device=KINDS[kind][0])
    return Built(kind, out, work)


@pytest.fixture(params=list(KINDS))
def built(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Built]:
    yield _build(request.param, tmp_path, monkeypatch)


@pytest.fixture(params=PACED)
def paced(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Built]:
    yield _build(request.param, tmp_path, monkeypatch)


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("clips")
    made = {"short": (0.6, 440), "other": (0.4, 660), "long": (20.0, 440)}
    for name, (seconds, freq) in made.items():
        make_mp3(d / f"{name}.mp3", seconds, freq)
    return {name: d / f"{name}.mp3" for name in made}


def _peak(path: Path) -> int:
    with wave.open(str(path), "rb") as w:
        samples = array.array("h", w.readframes(w.getnframes()))
    return max(abs(s) for s in samples)


def _leftovers(work: Path) -> list[str]:
    return sorted(p.name for p in work.rglob("*.wav")) if work.exists() else []


def test_the_factory_builds_the_output_it_was_asked_for(built: Built) -> None:
    assert built.output.name == built.kind


def test_prepare_decodes_the_clip_with_the_volume_applied(built: Built, clips: dict[str, Path]) -> None:
    loud = built.output.prepare(clips["short"], "loud", 100)
    quiet = built.output.prepare(clips["short"], "quiet", 25)
    try:
        assert (loud.item_id, loud.source, loud.volume) == ("loud", clips["short"], 100)
        assert abs(loud.duration_s - 0.6) < 0.1 and abs(quiet.duration_s - 0.6) < 0.1
        assert loud.wav.exists() and quiet.wav.exists()
        assert _peak(quiet.wav) < _peak(loud.wav) * 0.35  # 25 % of the level
    finally:
        built.output.discard(loud)
        built.output.discard(quiet)


def test_an_item_plays_to_its_end_and_leaves_nothing_behind(built: Built, clips: dict[str, Path],
                                                             caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="broadcaster")
    prepared = built.output.prepare(clips["short"], "kp1.20261205T0730Z", 80)
    before = datetime.now(timezone.utc)
    pb = built.output.play(prepared, before)
    assert pb.started.tzinfo is not None and before <= pb.started <= datetime.now(timezone.utc)
    assert pb.wait(30), "the playback never ended"
    assert not pb.interrupted
    assert pb.returncode == 0, "the audio did not really go out"
    assert pb.wait(0)  # ended stays ended
    # a player that could not play (no such device, unreadable file) says so in the node's log
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []
    # a node plays for years: what prepare decoded is gone once the item has played
    assert not prepared.wav.exists() and _leftovers(built.work) == []


def test_items_play_one_after_another(built: Built, clips: dict[str, Path]) -> None:
    first = built.output.prepare(clips["short"], "a", 80)
    second = built.output.prepare(clips["other"], "b", 80)  # prepared ahead, as the speaker does
    pb1 = built.output.play(first, datetime.now(timezone.utc))
    assert pb1.wait(30) and not pb1.interrupted
    pb2 = built.output.play(second, datetime.now(timezone.utc))
    assert pb2.wait(30) and not pb2.interrupted
    assert pb2.started >= pb1.started
    assert _leftovers(built.work) == []


def test_discard_frees_what_prepare_made(built: Built, clips: dict[str, Path]) -> None:
    prepared = built.output.prepare(clips["short"], "cancelled", 80)
    built.output.discard(prepared)
    assert not prepared.wav.exists() and _leftovers(built.work) == []
    assert clips["short"].exists()  # the cached MP3 is the cache's, never the output's to delete


def test_media_that_is_not_audio_is_a_media_error(built: Built, tmp_path: Path) -> None:
    bad = tmp_path / "damaged.mp3"
    bad.write_bytes(b"ID3 but then nothing an audio decoder could read" * 20)
    with pytest.raises(MediaError, match="cannot decode"):
        built.output.prepare(bad, "damaged", 80)
    assert _leftovers(built.work) == []


def test_media_that_is_missing_is_a_media_error(built: Built, tmp_path: Path) -> None:
    with pytest.raises(MediaError):
        built.output.prepare(tmp_path / "evicted.mp3", "gone", 80)


def test_a_paced_output_is_still_playing_after_the_start(paced: Built, clips: dict[str, Path]) -> None:
    pb = paced.output.play(paced.output.prepare(clips["long"], "long", 80), datetime.now(timezone.utc))
    try:
        assert not pb.wait(1.0), "a 20 s clip ended within a second: not played in real time"
        assert not pb.interrupted
    finally:
        pb.stop()
        pb.wait(10)


def test_stop_cuts_an_item_short(paced: Built, clips: dict[str, Path]) -> None:
    pb = paced.output.play(paced.output.prepare(clips["long"], "long", 80), datetime.now(timezone.utc))
    assert not pb.wait(0.5)
    pb.stop()  # an emergency cuts in
    assert pb.wait(10), "stop did not end the playback (the clip lasts 20 s)"
    assert pb.interrupted
    assert _leftovers(paced.work) == []


def test_stop_may_come_from_another_thread_while_one_waits(paced: Built, clips: dict[str, Path]) -> None:
    pb = paced.output.play(paced.output.prepare(clips["long"], "long", 80), datetime.now(timezone.utc))
    ended = threading.Event()

    def waiter() -> None:
        if pb.wait(60):
            ended.set()

    t = threading.Thread(target=waiter, daemon=True)
    t.start()
    assert not ended.wait(0.5)
    pb.stop()
    assert ended.wait(10) and pb.interrupted
    t.join(10)


def test_unknown_kinds_and_missing_players_are_refused_with_what_to_do(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(MediaError, match="unknown audio output"):
        make_output("speakers", device="d", out_dir=tmp_path, work_dir=tmp_path)
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))  # a node without any player installed
    for kind in ("auto", *PLAYERS):
        with pytest.raises(MediaError, match="install"):
            make_output(kind, device="d", out_dir=tmp_path, work_dir=tmp_path / "w")
