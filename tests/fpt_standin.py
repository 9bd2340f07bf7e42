"""A local stand-in for FPT.AI's Text to Speech v5, speaking its documented protocol.

``POST /hmi/tts/v5`` with the text as body and the ``api_key``/``voice``/``speed``/``format``
headers; answers ``{"async": <link>, "error": 0, "message": ..., "request_id": ...}``. The audio
file at the link does not exist at first (404, as the documentation warns: "this file may not
exist right at the time of response") and appears after ``pending_polls`` GETs.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

VALID_KEY = "test-key-0123456789"
VOICES = ("banmai", "lannhi", "leminh", "myan", "thuminh", "giahuy", "linhsan")


@dataclass
class FptStandIn:
    audio: bytes
    mode: str = "ok"  # ok | quota | down | never | notmp3
    pending_polls: int = 2
    url: str = ""
    requests: list[dict[str, str]] = field(default_factory=list)
    polls: int = 0
    files: dict[str, int] = field(default_factory=dict)  # file id -> GETs so far


@contextmanager
def fpt_standin(audio: bytes) -> Iterator[FptStandIn]:
    state = FptStandIn(audio)

    class Handler(BaseHTTPRequestHandler):
        def _json(self, status: int, body: dict[str, object]) -> None:
            out = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(out)))
            self.end_headers()
            self.wfile.write(out)

        def do_POST(self) -> None:  # noqa: N802
            text = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode("utf-8")
            state.requests.append({"text": text, **{k.lower(): v for k, v in self.headers.items()}})
            if self.path != "/hmi/tts/v5":
                self._json(404, {"error": 404, "message": "not found"})
                return
            if state.mode == "down":
                self._json(503, {"error": 503, "message": "Service Unavailable"})
                return
            if self.headers.get("api_key") != VALID_KEY:
                self._json(401, {"error": 401, "message": "Invalid API key"})
                return
            if state.mode == "quota":
                self._json(200, {"error": 1, "message": "Your quota has been exceeded"})
                return
            if not 3 <= len(text) <= 5000 or self.headers.get("voice", "banmai") not in VOICES:
                self._json(200, {"error": 2, "message": "Invalid request"})
                return
            fid = uuid.uuid4().hex
            state.files[fid] = 0
            self._json(200, {
                "async": f"{state.url}/text2speech-v5/short/{fid}.mp3", "error": 0,
                "message": "The content will be returned after a few seconds under the async link.",
                "request_id": str(uuid.uuid4()),
            })

        def do_GET(self) -> None:  # noqa: N802
            fid = self.path.rsplit("/", 1)[-1].removesuffix(".mp3")
            if fid not in state.files:
                self.send_error(404)
                return
            state.polls += 1
            state.files[fid] += 1
            if state.mode == "never" or state.files[fid] <= state.pending_polls:
                self.send_error(404)
                return
            body = b"<html>oops</html>" if state.mode == "notmp3" else state.audio
            self.send_response(200)
            self.send_header("Content-Type", "audio/mpeg")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
