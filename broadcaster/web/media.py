"""``/media/<sha256>.<ext>``: what the nodes download (audio, slides), and the console's player.

Same behaviour as the service always had: names that are not a sha256 with a known extension never
reach the file system (so no path escapes the store); ETag = the sha256, ``If-None-Match`` lists
and ``*`` answered 304; Range (start-end, open end, suffix) answered 206, beyond the end 416, an
invalid range ignored (the whole file, RFC 9110 14.2); immutable caching (content-addressed).
"""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator
from email.utils import formatdate
from pathlib import Path

import anyio
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from broadcaster.media import TYPES, MediaStore

log = logging.getLogger(__name__)

NAME_RE = re.compile(r"^([0-9a-f]{64}\.[a-z0-9]{2,4})$")
# at most 18 digits: a larger offset is no file of ours, and int() of thousands of digits raises
RANGE_RE = re.compile(r"^bytes=(\d{0,18})-(\d{0,18})$")
CHUNK = 64 * 1024


def _cased(resp: Response) -> Response:
    """Header names as HTTP/1.1 servers usually spell them ("ETag", "Content-Range"): names are
    case-insensitive, but some node-side and test clients compare them as written."""
    resp.raw_headers = [(b"-".join(w[:1].upper() + w[1:] for w in k.split(b"-")).replace(b"Etag", b"ETag"), v)
                        for k, v in resp.raw_headers]
    return resp


def _not_found(head: bool) -> Response:
    return Response(b"" if head else b"not found\n", 404, media_type="text/plain",
                    headers={"Content-Length": "10"} if head else None)


async def _file_chunks(path: Path, start: int, length: int) -> AsyncIterator[bytes]:
    async with await anyio.open_file(path, "rb") as f:
        await f.seek(start)
        left = length
        while left > 0:
            block = await f.read(min(CHUNK, left))
            if not block:
                break
            left -= len(block)
            yield block


def media_routes(store: MediaStore) -> list[Route]:
    async def media(request: Request) -> Response:
        return _cased(await _media(request))

    async def _media(request: Request) -> Response:
        head = request.method == "HEAD"
        name = request.path_params["name"]
        path = store.get(name) if NAME_RE.match(name) else None
        if path is None:
            return _not_found(head)
        sha = name.split(".", 1)[0]
        st = path.stat()
        size = st.st_size
        etag = f'"{sha}"'
        inm = request.headers.get("if-none-match")
        if inm and (inm.strip() == "*" or etag in {t.strip().removeprefix("W/") for t in inm.split(",")}):
            return Response(status_code=304, headers={"ETag": etag, "Content-Length": "0"})
        start, end, status = 0, size - 1, 200
        rng = request.headers.get("range")
        if rng and request.headers.get("if-range", etag) == etag:
            r = RANGE_RE.match(rng.strip())
            if r and (r.group(1) or r.group(2)) and not (r.group(1) and r.group(2) and int(r.group(2)) < int(r.group(1))):
                if r.group(1):
                    start = int(r.group(1))
                    end = min(int(r.group(2)), size - 1) if r.group(2) else size - 1
                else:
                    start = max(0, size - int(r.group(2)))
                if start >= size:
                    return Response(status_code=416, headers={"Content-Range": f"bytes */{size}", "Content-Length": "0"})
                status = 206
        length = end - start + 1
        headers = {
            "Content-Length": str(length), "Accept-Ranges": "bytes", "ETag": etag,
            "Cache-Control": "public, max-age=31536000, immutable",
            "Last-Modified": formatdate(st.st_mtime, usegmt=True),
        }
        if status == 206:
            headers["Content-Range"] = f"bytes {start}-{end}/{size}"
        media_type = TYPES.get(path.suffix, "application/octet-stream")
        if head:
            return Response(status_code=status, headers=headers, media_type=media_type)
        return StreamingResponse(_file_chunks(path, start, length), status_code=status, headers=headers, media_type=media_type)

    async def other(request: Request) -> Response:
        return _not_found(request.method == "HEAD")

    return [
        Route("/media/{name}", media, methods=["GET", "HEAD"]),
        Route("/media/{rest:path}", other, methods=["GET", "HEAD"]),
    ]
