"""TTS engines, cache and fallback, against real espeak-ng and a local stand-in for Google's endpoint.

Google's TTS endpoint is not reachable from the build machines, so the gTTS path is exercised
against an HTTP server on a loopback port that answers ``batchexecute`` POSTs the way Google does
(the ``jQ1olc`` line with base64 MP3 that gTTS parses), serving real MP3 made by espeak-ng+ffmpeg.
"""

from __future__ import annotations

import base64
import json
import os
import socket
import subprocess
import threading
import time
import unicodedata
import wave
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import BytesIO
from pathlib import Path
from urllib.parse import parse_qs

import pytest

from broadcaster.errors import TTSError, TTSUnavailableError
from broadcaster.tts import (
    AutoEngine,
    CachedEngine,
    Speech,
    TTSCache,
    TTSEngine,
    make_engine,
    normalize_for_tts,
)
from broadcaster.tts.espeak_engine import EspeakEngine
from broadcaster.tts.gtts_engine import BATCHEXECUTE_PATH, GTTSEngine

TEXT = "Ngày mai phường tổ chức tiêm chủng cho trẻ em tại trạm y tế"
LONG_TEXT = (
    "Thông báo của ủy ban nhân dân phường về việc tổ chức tiêm chủng mở rộng cho trẻ em dưới năm tuổi, "
    "đề nghị các gia đình đưa trẻ đến trạm y tế phường đúng giờ và mang theo sổ tiêm chủng"
)


# --- the stand-in for translate.google.com -------------------------------------------------------


@pytest.fixture(scope="module")
def standin_mp3(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """Real MP3 bytes, 24 kHz mono like Google's, made offline."""
    d = tmp_path_factory.mktemp("standin")
    subprocess.run(["espeak-ng", "-v", "vi", "-w", str(d / "s.wav"), "xin chào"], check=True)
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-i", str(d / "s.wav"), "-ar", "24000", "-ac", "1",
         "-c:a", "libmp3lame", "-b:a", "32k", str(d / "s.mp3")],
        check=True,
    )  # fmt: skip
    return (d / "s.mp3").read_bytes()


class StandIn:
    """What the server saw, and how it should behave ("ok", "hang", "500", "noaudio")."""

    def __init__(self, audio: bytes) -> None:
        self.audio = audio
        self.mode = "ok"
        self.requests: list[tuple[str, str]] = []  # (text, lang) per POST
        self.release = threading.Event()
        self.url = ""
        self.handler: type[BaseHTTPRequestHandler] | None = None


@pytest.fixture
def google(standin_mp3: bytes, monkeypatch: pytest.MonkeyPatch) -> Iterator[StandIn]:
    # gTTS sends through urllib's proxy settings without honouring no_proxy; keep loopback direct.
    for var in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    state = StandIn(standin_mp3)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
            rpc = json.loads(parse_qs(body)["f.req"][0])
            text, lang = json.loads(rpc[0][0][1])[:2]
            state.requests.append((text, lang))
            if self.path != "/" + BATCHEXECUTE_PATH:
                self.send_error(404)
                return
            if state.mode == "hang":
                state.release.wait(30)
                return
            if state.mode == "500":
                self.send_error(500)
                return
            payload = base64.b64encode(state.audio).decode() if state.mode == "ok" else ""
            # Google's framing: an anti-XSSI prefix, a length line, then JSON whose "jQ1olc" entry
            # holds a JSON-encoded list with the base64 MP3.
            rpc_line = json.dumps(
                [["wrb.fr", "jQ1olc", json.dumps([payload]) if payload else None, None, None, None, "generic"]],
                separators=(",", ":"),  # compact, as Google sends it and as gTTS's regex expects
            )
            out = f")]}}'\n\n{len(rpc_line)}\n{rpc_line}\n25\n[[\"e\",4,null,null,123]]\n".encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(out)))
            self.end_headers()
            self.wfile.write(out)

        def log_message(self, *args: object) -> None:
            pass

    state.handler = Handler
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield state
    state.release.set()
    server.shutdown()
    server.server_close()


@pytest.fixture
def refused_url() -> str:
    """A loopback URL where nothing listens: connections are refused at once."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"


class Counting:
    """A real engine that counts how often it really synthesises."""

    def __init__(self, inner: TTSEngine) -> None:
        self.inner = inner
        self.name = inner.name
        self.calls = 0

    def resolve_voice(self, voice: str | None = None) -> str:
        return self.inner.resolve_voice(voice)

    def synthesize(self, text: str, voice: str | None = None) -> Speech:
        self.calls += 1
        return self.inner.synthesize(text, voice)


def files_under(path: Path) -> list[Path]:
    return [p for p in path.rglob("*") if p.is_file()]


def wav_seconds(audio: bytes) -> float:
    with wave.open(BytesIO(audio)) as w:
        return w.getnframes() / w.getframerate()


# --- espeak-ng -------------------------------------------------------------------------------------


def test_espeak_speaks_vietnamese_offline() -> None:
    speech = EspeakEngine().synthesize(TEXT)
    assert (speech.engine, speech.format) == ("espeak", "wav")
    assert speech.voice == "vi s110 p50 a100 g3"  # the settings chosen by the intelligibility bench
    assert speech.text == TEXT
    assert 1.5 < wav_seconds(speech.audio) < 15


def test_espeak_text_starting_with_dash_is_read_not_parsed_as_option() -> None:
    assert wav_seconds(EspeakEngine().synthesize("-năm mươi nghìn đồng").audio) > 0.5


def test_espeak_missing_says_which_package_to_install() -> None:
    with pytest.raises(TTSUnavailableError, match=r"install the Debian package espeak-ng"):
        EspeakEngine(binary="espeak-ng-not-installed").synthesize(TEXT)


def test_espeak_unknown_voice_is_reported() -> None:
    with pytest.raises(TTSUnavailableError, match=r"no voice 'xx-nowhere'"):
        EspeakEngine().synthesize(TEXT, voice="xx-nowhere")


def test_empty_text_is_refused_by_every_engine() -> None:
    for engine in (EspeakEngine(), GTTSEngine(), AutoEngine([EspeakEngine()])):
        with pytest.raises(TTSError, match="nothing to say"):
            engine.synthesize("  \n ")


# --- gTTS through the stand-in ---------------------------------------------------------------------


def test_gtts_returns_the_servers_audio(google: StandIn) -> None:
    speech = GTTSEngine(base_url=google.url).synthesize(TEXT)
    assert speech.audio == google.audio
    assert (speech.engine, speech.format, speech.voice) == ("gtts", "mp3", "vi")
    assert google.requests == [(TEXT, "vi")]


def test_gtts_long_text_is_sent_in_parts_and_joined(google: StandIn) -> None:
    speech = GTTSEngine(base_url=google.url).synthesize(LONG_TEXT)
    assert len(google.requests) >= 2
    assert all(len(text) <= 100 for text, _ in google.requests)
    assert speech.audio == google.audio * len(google.requests)


def test_gtts_hanging_server_fails_fast_and_leaves_nothing(google: StandIn, tmp_path: Path) -> None:
    google.mode = "hang"
    engine = CachedEngine(GTTSEngine(base_url=google.url), TTSCache(tmp_path))
    start = time.monotonic()
    with pytest.raises(TTSUnavailableError) as info:
        engine.synthesize(TEXT)
    assert time.monotonic() - start < 20  # the 5 s default read timeout, not the server's 30 s hang
    assert "127.0.0.1" in str(info.value) and "--engine espeak" in str(info.value)
    assert files_under(tmp_path) == []


def test_gtts_refused_connection_says_so(refused_url: str, tmp_path: Path) -> None:
    engine = CachedEngine(GTTSEngine(base_url=refused_url), TTSCache(tmp_path))
    with pytest.raises(TTSUnavailableError, match="connection refused"):
        engine.synthesize(TEXT)
    assert files_under(tmp_path) == []


def test_gtts_unresolvable_host_means_no_internet() -> None:
    # ".invalid" never resolves (RFC 6761), so this is the offline case on any machine.
    start = time.monotonic()
    with pytest.raises(TTSUnavailableError, match=r"cannot reach translate\.google\.invalid: the name does not"):
        GTTSEngine(tld="invalid").synthesize(TEXT)
    assert time.monotonic() - start < 20  # generous: a busy machine, but no endless retrying


def test_gtts_server_error_and_missing_audio(google: StandIn) -> None:
    engine = GTTSEngine(base_url=google.url)
    google.mode = "500"
    with pytest.raises(TTSUnavailableError, match="HTTP 500"):
        engine.synthesize(TEXT)
    google.mode = "noaudio"
    with pytest.raises(TTSError, match="without audio") as info:
        engine.synthesize(TEXT)
    assert not isinstance(info.value, TTSUnavailableError)  # the server works; this clip does not


@pytest.mark.net
@pytest.mark.skipif(os.environ.get("BROADCASTER_NET_TESTS") != "1", reason="needs the internet (Google TTS)")
def test_gtts_real_google() -> None:
    speech = GTTSEngine().synthesize("xin chào bà con")
    assert speech.engine == "gtts" and speech.audio[:3] in (b"ID3", b"\xff\xf3", b"\xff\xfb")


# --- auto ------------------------------------------------------------------------------------------


def test_auto_uses_gtts_when_it_answers(google: StandIn, tmp_path: Path) -> None:
    engine = make_engine("auto", tmp_path, gtts_base_url=google.url)
    speech = engine.synthesize(TEXT)
    assert speech.engine == "gtts" and speech.audio == google.audio
    assert speech.path is not None and speech.path.read_bytes() == google.audio


def test_auto_falls_back_to_espeak_fast_and_remembers(google: StandIn, tmp_path: Path) -> None:
    google.mode = "hang"
    engine = make_engine("auto", tmp_path, gtts_base_url=google.url, read_timeout_s=2)
    start = time.monotonic()
    first = engine.synthesize(TEXT)
    assert time.monotonic() - start < 20  # the 2 s read timeout, not the server's 30 s hang
    assert first.engine == "espeak" and first.format == "wav" and not first.cached
    assert len(google.requests) == 1

    # Google is remembered as down: the next clips go straight to espeak-ng.
    for i in range(3):
        assert engine.synthesize(f"{TEXT} số {i}").engine == "espeak"
    assert len(google.requests) == 1
    # nothing half-written in the cache: exactly the four espeak clips
    assert sorted(p.suffix for p in files_under(tmp_path)) == [".wav"] * 4


def test_auto_retries_google_after_the_down_period(google: StandIn, refused_url: str) -> None:
    now = [1000.0]
    gtts = GTTSEngine(base_url=refused_url)
    engine = AutoEngine([gtts, EspeakEngine()], down_for_s=60, clock=lambda: now[0])
    assert engine.synthesize(TEXT).engine == "espeak"
    assert engine.is_down("gtts")
    gtts.base_url = google.url  # the link comes back
    now[0] += 30
    assert engine.synthesize(TEXT).engine == "espeak" and google.requests == []
    now[0] += 31
    assert engine.synthesize(TEXT).engine == "gtts" and len(google.requests) == 1


def test_auto_serves_any_cached_clip_without_network(google: StandIn, tmp_path: Path) -> None:
    make_engine("espeak", tmp_path).synthesize(TEXT)
    # Google is up, but the bulletin was already rendered offline: keep that clip (same media hash).
    speech = make_engine("auto", tmp_path, gtts_base_url=google.url).synthesize(TEXT)
    assert speech.engine == "espeak" and speech.cached
    assert google.requests == []


def test_auto_reports_every_engine_when_all_fail(refused_url: str) -> None:
    engine = AutoEngine([GTTSEngine(base_url=refused_url), EspeakEngine(binary="espeak-ng-not-installed")])
    with pytest.raises(TTSUnavailableError) as info:
        engine.synthesize(TEXT)
    assert "gtts: cannot reach" in str(info.value) and "espeak: espeak-ng-not-installed" in str(info.value)


# --- cache -----------------------------------------------------------------------------------------


def test_cache_synthesises_the_same_text_once(tmp_path: Path) -> None:
    counting = Counting(EspeakEngine())
    engine = CachedEngine(counting, TTSCache(tmp_path))
    first = engine.synthesize(TEXT)
    assert counting.calls == 1 and not first.cached and first.path is not None
    mtime = first.path.stat().st_mtime_ns

    # Same words typed differently: decomposed accents (NFD) and stray spaces.
    variant = "  " + unicodedata.normalize("NFD", TEXT).replace(" ", "   ") + "\n"
    again = engine.synthesize(variant)
    assert counting.calls == 1 and again.cached
    assert again.audio == first.audio and again.path == first.path
    assert first.path.stat().st_mtime_ns == mtime
    assert (engine.synthesized, engine.hits) == (1, 1)

    engine.synthesize(TEXT + " nhé")
    engine.synthesize(TEXT, voice="vi+f3")
    assert counting.calls == 3
    assert len(files_under(tmp_path)) == 3


def test_cache_survives_a_new_process_worth_of_objects(tmp_path: Path) -> None:
    make_engine("espeak", tmp_path).synthesize(TEXT)
    counting = Counting(EspeakEngine())
    hit = CachedEngine(counting, TTSCache(tmp_path)).synthesize(TEXT)
    assert hit.cached and counting.calls == 0 and hit.engine == "espeak"


def test_cache_key_covers_text_engine_voice() -> None:
    key = TTSCache.key
    base = key(TEXT, "espeak", "vi")
    assert base == key(unicodedata.normalize("NFD", TEXT), "espeak", "vi")
    assert len({base, key(TEXT, "gtts", "vi"), key(TEXT, "espeak", "vi+f3"), key(TEXT + ".", "espeak", "vi")}) == 4


def test_cache_treats_an_empty_file_as_a_miss(tmp_path: Path) -> None:
    counting = Counting(EspeakEngine())
    engine = CachedEngine(counting, TTSCache(tmp_path))
    path = engine.synthesize(TEXT).path
    assert path is not None
    path.write_bytes(b"")  # as left by a power cut on a file system without ordered writes
    again = engine.synthesize(TEXT)
    assert counting.calls == 2 and again.path == path and path.stat().st_size > 1000


def test_cache_hit_does_not_need_the_engine_to_work(tmp_path: Path) -> None:
    make_engine("espeak", tmp_path).synthesize(TEXT)
    hit = make_engine("espeak", tmp_path, espeak_binary="espeak-ng-not-installed").synthesize(TEXT)
    assert hit.cached


def test_make_engine_names() -> None:
    assert make_engine("gtts").name == "gtts"
    assert make_engine("espeak").name == "espeak"
    auto = make_engine("auto")
    assert auto.name == "auto" and isinstance(auto, TTSEngine)
    with pytest.raises(ValueError, match="unknown TTS engine 'festival'"):
        make_engine("festival")


def test_normalize_for_tts() -> None:
    assert normalize_for_tts(" a \n b\t") == "a b"
    assert normalize_for_tts(unicodedata.normalize("NFD", "phường")) == "phường"


def _self_signed(tmp_path: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 that no public authority signed."""
    import datetime as dt
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "translate.google.com")])
    # Valid whatever the date: OpenSSL checks it against the real clock, also under scripts/test --at.
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc))
        .not_valid_after(dt.datetime(2100, 1, 1, tzinfo=dt.timezone.utc))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_pem, key_pem = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_pem.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_pem.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return cert_pem, key_pem


def test_gtts_checks_the_tls_certificate(google: StandIn, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An interceptor with a certificate we do not trust gets no words onto the loudspeakers."""
    import ssl

    cert, key = _self_signed(tmp_path)
    # The same stand-in behind TLS with a certificate nobody vouches for: a man in the middle.
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    assert google.handler is not None
    server = ThreadingHTTPServer(("127.0.0.1", 0), google.handler)
    server.daemon_threads = True
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    port = server.server_address[1]
    try:
        monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
        monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
        with pytest.raises(TTSUnavailableError, match="TLS certificate check failed"):
            GTTSEngine(base_url=f"https://127.0.0.1:{port}").synthesize(TEXT)
        # The same server, once its certificate is trusted, is used: the check is real, not a refusal of all TLS.
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(cert))
        speech = GTTSEngine(base_url=f"https://127.0.0.1:{port}").synthesize(TEXT)
        assert speech.engine == "gtts" and speech.audio == google.audio
    finally:
        server.shutdown()
        server.server_close()
