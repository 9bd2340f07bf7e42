"""The file-system helpers: atomic writes (also on a real full disk), hashing, keyed locks, safe names."""

from __future__ import annotations

import errno
import hashlib
import os
import stat
import subprocess
import threading
import time
from pathlib import Path

import pytest

from broadcaster.fsutil import KeyedLocks, atomic_file, atomic_path, atomic_write, safe_name, sha256_file


def _leftovers(d: Path) -> list[str]:
    return sorted(p.name for p in d.iterdir() if p.name.endswith(".tmp"))


def test_atomic_write_replaces_whole_with_the_asked_mode(tmp_path: Path) -> None:
    p = tmp_path / "a.bin"
    atomic_write(p, b"old")
    assert p.read_bytes() == b"old" and stat.S_IMODE(p.stat().st_mode) == 0o644
    atomic_write(p, "mới", mode=0o600)
    assert p.read_text(encoding="utf-8") == "mới" and stat.S_IMODE(p.stat().st_mode) == 0o600
    atomic_write(p, lambda f: f.write(b"via function"))
    assert p.read_bytes() == b"via function"
    assert _leftovers(tmp_path) == []


def test_a_private_file_is_never_readable_by_others_even_while_written(tmp_path: Path) -> None:
    p = tmp_path / "key"
    with atomic_file(p, mode=0o600) as f:
        tmps = [q for q in tmp_path.iterdir() if q.name.endswith(".tmp")]
        assert len(tmps) == 1 and stat.S_IMODE(tmps[0].stat().st_mode) & 0o077 == 0
        f.write(b"secret")
    assert stat.S_IMODE(p.stat().st_mode) == 0o600


def test_a_failing_writer_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    p = tmp_path / "state.json"
    atomic_write(p, b"{}")

    def boom(f: object) -> None:
        raise RuntimeError("writer failed half-way")

    with pytest.raises(RuntimeError):
        atomic_write(p, boom)
    with pytest.raises(ValueError):
        with atomic_path(p) as tmp:
            tmp.write_bytes(b"half")
            raise ValueError("encoder failed")
    assert p.read_bytes() == b"{}" and _leftovers(tmp_path) == []


def test_atomic_path_hands_a_name_to_an_external_writer(tmp_path: Path) -> None:
    out = tmp_path / "prog.mp3"
    with atomic_path(out) as tmp:
        assert tmp.parent == tmp_path and tmp.exists() and not out.exists()
        subprocess.run(["sh", "-c", f"printf abc > '{tmp}'"], check=True)
    assert out.read_bytes() == b"abc" and _leftovers(tmp_path) == []


def test_a_full_disk_raises_enospc_keeps_the_old_file_and_frees_the_temporary(tmp_path: Path) -> None:
    disk = tmp_path / "disk"
    disk.mkdir()
    if os.geteuid() != 0:
        pytest.skip("needs root to mount a small tmpfs")
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(disk)], capture_output=True).returncode:
        pytest.skip("cannot mount a tmpfs here")
    try:
        p = disk / "state.json"
        atomic_write(p, b"x" * 1000)
        with pytest.raises(OSError) as exc:
            atomic_write(p, b"y" * (2 << 20))  # twice the disk
        assert exc.value.errno == errno.ENOSPC
        assert p.read_bytes() == b"x" * 1000 and _leftovers(disk) == []
        atomic_write(p, b"z" * 1000)  # the failed temporary gave its blocks back: a small write fits
        assert p.read_bytes() == b"z" * 1000
    finally:
        subprocess.run(["umount", "-l", str(disk)], capture_output=True)


def test_sha256_file_matches_hashlib_over_several_chunks(tmp_path: Path) -> None:
    p = tmp_path / "m"
    data = os.urandom(3 * 1024 * 1024 + 17)
    p.write_bytes(data)
    assert sha256_file(p) == hashlib.sha256(data).hexdigest() == sha256_file(p, chunk=4096)


def test_keyed_locks_serialise_one_key_not_others_and_are_pruned(tmp_path: Path) -> None:
    locks = KeyedLocks()
    inside: list[str] = []
    overlap: list[bool] = []
    release = threading.Event()

    def hold(key: str, tag: str) -> None:
        with locks.hold(key):
            inside.append(tag)
            overlap.append(sum(1 for t in inside if t.startswith(key)) > 1)
            release.wait(5)
            inside.remove(tag)

    a1 = threading.Thread(target=hold, args=("a", "a1"))
    a1.start()
    while "a1" not in inside:
        time.sleep(0.01)
    a2 = threading.Thread(target=hold, args=("a", "a2"))
    b = threading.Thread(target=hold, args=("b", "b1"))
    a2.start()
    b.start()
    deadline = time.monotonic() + 5
    while "b1" not in inside and time.monotonic() < deadline:
        time.sleep(0.01)
    assert "b1" in inside and "a2" not in inside  # another key goes ahead; the same key waits
    assert len(locks) == 2
    release.set()
    for t in (a1, a2, b):
        t.join(5)
    assert overlap == [False, False, False]
    assert len(locks) == 0  # nothing kept once nobody uses a key
    for i in range(1000):
        with locks.hold(f"k{i}"):
            pass
    assert len(locks) == 0


@pytest.mark.parametrize(
    ("raw", "want"),
    [("Họp Tổ 6/kp3", "Họp_Tổ_6_kp3"), ("../../etc/passwd", "_.._.._etc_passwd"), ("..", "_.."), ("", "_"),
     ("bulletin-1_a.b", "bulletin-1_a.b")],
)
def test_safe_name_keeps_a_name_inside_its_folder(raw: str, want: str, tmp_path: Path) -> None:
    got = safe_name(raw)
    assert got == want
    assert (tmp_path / got).resolve().parent == tmp_path.resolve()
    assert len(safe_name("x" * 500)) == 80
