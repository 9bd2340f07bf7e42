"""The media server with real HTTP requests: full, HEAD, Range (resume), ETag, 404s, no traversal."""

from __future__ import annotations

import hashlib
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from broadcaster.central.http import MediaServer
from broadcaster.media import MediaStore, StoredMedia, media_url


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, StoredMedia, bytes]]:
    data = bytes(range(256)) * 400
    src = tmp_path / "clip.mp3"
    src.write_bytes(data)
    store = MediaStore(tmp_path / "media")
    m = store.put_file(src)
    srv = MediaServer(store, "127.0.0.1:0").start()
    try:
        yield f"http://127.0.0.1:{srv.port}/", m, data
    finally:
        srv.stop()


def _get(url: str, headers: dict[str, str] | None = None, method: str = "GET") -> tuple[int, dict[str, str], bytes]:
    req = urllib.request.Request(url, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def test_full_and_head(served: tuple[str, StoredMedia, bytes]) -> None:
    base, m, data = served
    url = media_url(base, m.name)
    code, h, body = _get(url)
    assert code == 200 and body == data and hashlib.sha256(body).hexdigest() == m.sha256
    assert h["ETag"] == f'"{m.sha256}"' and "immutable" in h["Cache-Control"] and h["Content-Type"] == "audio/mpeg"
    code, h, body = _get(url, method="HEAD")
    assert code == 200 and body == b"" and int(h["Content-Length"]) == len(data)
    code, _, _ = _get(url, {"If-None-Match": f'"{m.sha256}"'})
    assert code == 304
    for inm in (f'"other", W/"{m.sha256}"', "*"):  # lists, weak tags and * as browsers and proxies send them
        assert _get(url, {"If-None-Match": inm})[0] == 304
    assert _get(url, {"If-None-Match": '"other"'})[0] == 200


def test_range_resume(served: tuple[str, StoredMedia, bytes]) -> None:
    base, m, data = served
    url = media_url(base, m.name)
    code, h, first = _get(url, {"Range": "bytes=0-9999"})
    assert code == 206 and first == data[:10000] and h["Content-Range"] == f"bytes 0-9999/{len(data)}"
    code, h, rest = _get(url, {"Range": "bytes=10000-"})
    assert code == 206 and first + rest == data
    code, _, tail = _get(url, {"Range": "bytes=-100"})
    assert code == 206 and tail == data[-100:]
    code, h, _ = _get(url, {"Range": f"bytes={len(data)}-"})
    assert code == 416 and h["Content-Range"] == f"bytes */{len(data)}"
    code, _, whole = _get(url, {"Range": "bytes=5-3"})  # invalid: ignored, the whole file
    assert code == 200 and whole == data
    for absurd in ("bytes=" + "9" * 5000 + "-", "bytes=0-" + "9" * 5000, "bytes=-" + "1" * 5000):
        code, _, whole = _get(url, {"Range": absurd})  # no offset of 5,000 digits: ignored, not a 500
        assert code == 200 and whole == data


@pytest.mark.parametrize(
    "path",
    ["", "media/", "media/../store.sqlite", "media/%2e%2e/%2e%2e/etc/passwd", "media/" + "0" * 64 + ".mp3", "media/abc.mp3", "etc/passwd"],
)
def test_anything_else_is_404(served: tuple[str, StoredMedia, bytes], path: str) -> None:
    base, _, _ = served
    code, _, _ = _get(base + path)
    assert code == 404
