"""The node's media cache against a real HTTP server on loopback."""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

import pytest

from agent_support import MediaServer
from broadcaster.agents.cache import MediaCache
from broadcaster.errors import MediaError
from broadcaster.protocol import MediaRef



def test_fetch_verifies_and_caches(tmp_path: Path, server: MediaServer) -> None:
    ref = server.add("a.mp3", os.urandom(200_000))
    cache = MediaCache(tmp_path / "c")
    p = cache.fetch(ref)
    assert hashlib.sha256(p.read_bytes()).hexdigest() == ref.sha256
    n = len(server.requests)
    assert cache.fetch(ref) == p and len(server.requests) == n  # second time from disk


def test_corrupt_download_is_refetched(tmp_path: Path, server: MediaServer) -> None:
    ref = server.add("a.mp3", os.urandom(50_000))
    server.bad["a.mp3"] = 1  # first response: wrong bytes, right length
    cache = MediaCache(tmp_path / "c")
    p = cache.fetch(ref)
    assert p.read_bytes() == server.files["a.mp3"]
    assert len(server.requests) == 2


def test_wrong_bytes_every_time_raises_and_keeps_nothing(tmp_path: Path, server: MediaServer) -> None:
    ref = server.add("a.mp3", os.urandom(10_000))
    server.bad["a.mp3"] = 99
    cache = MediaCache(tmp_path / "c")
    with pytest.raises(MediaError, match="sha256"):
        cache.fetch(ref)
    assert cache.get(ref) is None and not list((tmp_path / "c").iterdir())


def test_partial_download_resumes_with_range(tmp_path: Path, server: MediaServer) -> None:
    data = os.urandom(100_000)
    ref = server.add("a.mp3", data)
    cache = MediaCache(tmp_path / "c")
    (tmp_path / "c" / f"{ref.sha256}.part").write_bytes(data[:30_000])  # a download cut by the link
    cache.fetch(ref)
    assert server.requests[-1] == ("a.mp3", "bytes=30000-")
    assert cache.path(ref.sha256).read_bytes() == data


def test_corrupt_cached_file_is_refetched(tmp_path: Path, server: MediaServer) -> None:
    ref = server.add("a.mp3", os.urandom(5_000))
    MediaCache(tmp_path / "c").fetch(ref)
    p = tmp_path / "c" / ref.sha256
    p.write_bytes(b"\0" * ref.size)  # rotted on the SD card while the node was off
    cache = MediaCache(tmp_path / "c")  # a new process: verifies on first use
    assert cache.get(ref) is None
    assert cache.fetch(ref).read_bytes() == server.files["a.mp3"]


def test_unreachable_server_is_a_media_error(tmp_path: Path) -> None:
    ref = MediaRef(url="http://127.0.0.1:9/x.mp3", sha256="0" * 64, size=10)
    with pytest.raises(MediaError, match="cannot download"):
        MediaCache(tmp_path / "c", timeout=2).fetch(ref, attempts=1)


def test_lru_eviction_spares_scheduled_media(tmp_path: Path, server: MediaServer) -> None:
    cache = MediaCache(tmp_path / "c", max_bytes=25_000)
    refs = [server.add(f"{n}.mp3", os.urandom(10_000)) for n in range(4)]
    for n, r in enumerate(refs):
        cache.fetch(r)
        os.utime(cache.path(r.sha256), (time.time() - 100 + n, time.time() - 100 + n))
    removed = cache.evict(keep={refs[0].sha256})  # the oldest is still scheduled
    assert refs[0].sha256 not in removed
    assert removed == [refs[1].sha256, refs[2].sha256]
    assert cache.stats().items == 2


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_a_full_disk_on_the_node_is_named_as_such(tmp_path: Path, server: MediaServer) -> None:
    """ENOSPC while storing is the node's problem, not the server's: say so, keep what is cached."""
    kept = server.add("kept.mp3", os.urandom(10_000))
    ref = server.add("big.mp3", os.urandom(100_000))
    cache = MediaCache(tmp_path / "c")
    assert cache.fetch(kept).exists()
    part = cache.path(ref.sha256).with_name(ref.sha256 + ".part")
    part.parent.mkdir(parents=True, exist_ok=True)
    part.symlink_to("/dev/full")  # every write there fails with "No space left on device"
    with pytest.raises(MediaError, match="No space left on device on this node"):
        cache.fetch(ref)
    assert cache.get(kept) is not None  # what is already cached still plays


def test_a_trickling_download_gives_up_in_time_and_resumes(tmp_path: Path, server: MediaServer) -> None:
    """A media server drowned by a flood of slow clients sends a byte now and then: the per-read
    timeout never fires, so each attempt has a deadline; what arrived is kept and resumed."""
    ref = server.add("slow.mp3", os.urandom(100_000))
    server.trickle["slow.mp3"] = 0.05
    cache = MediaCache(tmp_path / "c", timeout=5, min_deadline=1.5, min_rate=10**9)
    t0 = time.monotonic()
    with pytest.raises(MediaError, match="slower than"):
        cache.fetch(ref, attempts=1)
    assert time.monotonic() - t0 < 15  # generous: the point is that it ends at all
    part = tmp_path / "c" / (ref.sha256 + ".part")
    got = part.stat().st_size
    assert 0 < got < 100_000
    del server.trickle["slow.mp3"]  # the flood is over
    p = cache.fetch(ref)
    assert p.read_bytes() == server.files["slow.mp3"]
    assert server.requests[-1] == ("slow.mp3", f"bytes={got}-")  # resumed, not started over


def test_verify_now_catches_a_file_corrupted_after_it_was_checked(tmp_path: Path, server: MediaServer) -> None:
    ref = server.add("a.mp3", os.urandom(20_000))
    cache = MediaCache(tmp_path / "c")
    p = cache.fetch(ref)
    assert cache.get(ref) == p
    data = bytearray(p.read_bytes())
    data[100] ^= 0xFF
    p.write_bytes(bytes(data))
    assert cache.get(ref) == p  # the cheap check (size; hash once per process) does not see it
    assert cache.get(ref, verify=True) is None and not p.exists()


def test_concurrent_fetches_of_one_file_download_it_once_and_keep_no_lock(tmp_path: Path, server: MediaServer) -> None:
    import threading

    refs = [server.add(f"m{i}.mp3", os.urandom(20_000)) for i in range(20)]
    cache = MediaCache(tmp_path / "c")
    threads = [threading.Thread(target=cache.fetch, args=(r,)) for r in refs for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert all(cache.get(r) is not None for r in refs)
    assert sorted(r[0] for r in server.requests) == sorted(f"m{i}.mp3" for i in range(20))  # once each
    assert len(cache._fetch_locks) == 0  # a lock per file only while it is fetched: months of media leave none
