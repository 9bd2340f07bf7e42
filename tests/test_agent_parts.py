"""The parts the speaker and the TV are composed of, each on its own: the emergency book, the
desired-state store and its writer thread (real files, a real full disk when run as root)."""

from __future__ import annotations

import json
import os
import subprocess
import threading
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from agent_support import item
from broadcaster.agents.emergencies import EmergencyBook, EmergencyStatus
from broadcaster.agents.memory import DesiredStateStore, JsonFile, NodeMemory, airing_key
from broadcaster.protocol import Emergency, MediaRef, Schedule, utc_now

REF = MediaRef(url="http://127.0.0.1:1/m.mp3", sha256="ab" * 32, size=10, type="audio/mpeg")


def _em(eid: str, start_s: float = 0, valid_min: float = 10, now: datetime | None = None) -> Emergency:
    now = now or utc_now()
    return Emergency(eid, item(f"kc-{eid}", now + timedelta(seconds=start_s), REF, priority="emergency"), now + timedelta(minutes=valid_min))


# -- the emergency book ----------------------------------------------------------------------


def test_the_first_copy_wins_and_an_aired_emergency_is_never_pending_again() -> None:
    book, now = EmergencyBook(), utc_now()
    assert book.receive(_em("e1"), now) is True
    assert book.due(now + timedelta(seconds=1)) is not None
    book.settle("e1", "played")
    assert book.receive(_em("e1"), now) is False  # the retained copy again, after a reconnect
    assert book.status("e1") is EmergencyStatus.PLAYED and book.due(now + timedelta(seconds=1)) is None


def test_a_clear_before_the_emergency_books_it_cleared() -> None:
    book, now = EmergencyBook(), utc_now()
    assert book.clear("e2", now) is True
    assert book.receive(_em("e2"), now) is False
    assert book.status("e2") is EmergencyStatus.CLEARED and book.is_cleared("e2") and book.pending() == []
    assert book.clear("e2", now) is False  # the retained clear again: nothing changes


def test_a_clear_while_pending_or_after_airing() -> None:
    book, now = EmergencyBook(), utc_now()
    book.receive(_em("a"), now)
    book.receive(_em("b"), now)
    book.settle("b", "interrupted")
    book.clear("a", now)
    book.clear("b", now)
    assert book.status("a") is EmergencyStatus.CLEARED
    assert book.status("b") is EmergencyStatus.INTERRUPTED  # what happened on air stays said
    assert book.is_cleared("a") and book.is_cleared("b")


def test_settling_a_forgotten_emergency_still_blocks_its_replay() -> None:
    book, now = EmergencyBook(), utc_now()
    book.settle("lost", "played")  # from the airing journal, the memory file having been lost
    assert book.receive(_em("lost"), now) is False and book.pending() == []


def test_the_book_forgets_a_week_after_validity_and_round_trips() -> None:
    book, now = EmergencyBook(), utc_now()
    book.receive(_em("old", valid_min=1, now=now - timedelta(days=8)), now - timedelta(days=8))
    book.receive(_em("new"), now)
    book.clear("gone", now - timedelta(days=9))
    book.prune(now)
    assert book.status("old") is None and book.status("gone") is None and book.status("new") is EmergencyStatus.PENDING
    again = EmergencyBook.from_json(json.loads(json.dumps(book.to_json())))
    assert again.to_json() == book.to_json()


def test_the_book_reads_what_the_speaker_and_the_tv_wrote_before_it_was_shared() -> None:
    em = _em("x")
    raw = {
        "tv": {"body": em.to_body(), "status": "active"},
        "tv-clr": {"body": em.to_body(), "status": "cleared"},
        "spk": {"body": em.to_body(), "status": "played", "cleared": True},
        "broken": {"body": {"emergency_id": ""}, "status": "pending"},
    }
    book = EmergencyBook.from_json(raw)
    assert book.status("tv") is EmergencyStatus.PENDING and not book.is_cleared("tv")
    assert book.status("tv-clr") is EmergencyStatus.CLEARED and book.is_cleared("tv-clr")
    assert book.status("spk") is EmergencyStatus.PLAYED and book.is_cleared("spk")
    assert book.status("broken") is None  # dropped, the others kept
    assert {e["status"] for e in book.to_json().values()} <= {s.value for s in EmergencyStatus}


# -- the desired-state store -------------------------------------------------------------------


def _schedule(version: int, *ids: str) -> Schedule:
    start = utc_now() + timedelta(hours=1)
    return Schedule(target="zone/kp1", version=version, items=tuple(item(i, start, REF) for i in ids), horizon=start + timedelta(hours=48))


def test_highest_version_wins_and_everything_survives_a_restart(tmp_path: Path) -> None:
    store = DesiredStateStore(tmp_path / "state.json")
    store.start()
    with store.lock:
        assert store.accept("schedule", "zone/kp1", 2, _schedule(2, "a"))
        assert not store.accept("schedule", "zone/kp1", 1, _schedule(1, "old"))
        store.settle(airing_key("a", utc_now()), "played", utc_now())
        store.book.receive(_em("e"), utc_now())
        store.memory.volume = 40
        store.bump()
    assert store.flush()
    store.stop()
    again = DesiredStateStore(tmp_path / "state.json")
    m = again.memory
    assert m.applied == {"zone/kp1": 2} and isinstance(m.desired["zone/kp1"], Schedule)
    assert [i.item_id for i in m.desired["zone/kp1"].items] == ["a"]
    assert [a.kind for a in m.done.values()] == ["played"] and m.volume == 40 and m.book.status("e") is EmergencyStatus.PENDING
    assert (os.stat(tmp_path / "state.json").st_mode & 0o077) == 0  # the node's memory is its own


def test_only_the_writer_thread_writes_and_changes_never_wait_for_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    writers: list[str] = []
    entered, release = threading.Event(), threading.Event()
    real = JsonFile.save

    def held_save(self: JsonFile, data: dict[str, object]) -> None:
        writers.append(threading.current_thread().name)
        entered.set()
        release.wait(10)  # an SD card busy for a long time
        real(self, data)

    monkeypatch.setattr(JsonFile, "save", held_save)
    store = DesiredStateStore(tmp_path / "state.json")
    store.start()
    with store.lock:
        store.memory.volume = 1
        store.mark_dirty()
    assert entered.wait(10)
    for v in range(2, 50):  # changes go on while the disk is stuck; none waits
        with store.lock:
            store.memory.volume = v
            store.mark_dirty()
    assert store.flush(timeout=0.2) is False  # not on disk yet, and flush says so
    release.set()
    assert store.flush(timeout=10)
    store.stop()
    assert json.loads((tmp_path / "state.json").read_text())["volume"] == 49
    assert set(writers) == {f"memory-{tmp_path.name}"} and len(writers) < 10  # coalesced, one thread


def test_an_unreadable_part_is_dropped_not_the_whole_memory(tmp_path: Path) -> None:
    good = _schedule(3, "keep").to_body()
    (tmp_path / "state.json").write_text(json.dumps({
        "applied": {"zone/kp1": 3, "device/kp1-loa1": 7},
        "desired": {"zone/kp1": good, "device/kp1-loa1": {"target": "device/kp1-loa1", "version": 7, "items": "nope"}},
        "done": {"x@t": {"kind": "played", "at": "garbage"}},
        "volume": True,
        "guard": {"central|t": [5, "id"]},
    }))
    m = DesiredStateStore(tmp_path / "state.json").memory
    assert m.applied == {"zone/kp1": 3}  # the unreadable target is applied again from the retained copy
    assert list(m.desired) == ["zone/kp1"] and m.done == {} and m.volume is None
    assert m.guard.snapshot() == {"central|t": [5, "id"]}
    (tmp_path / "state.json").write_text(json.dumps({"guard": {"central|t": "x"}, "volume": 30}))
    m = DesiredStateStore(tmp_path / "state.json").memory
    assert m.guard.snapshot() == {} and m.volume == 30


def test_a_corrupt_file_falls_back_to_the_previous_copy(tmp_path: Path) -> None:
    store = DesiredStateStore(tmp_path / "state.json")
    for v in (10, 20):
        with store.lock:
            store.memory.volume = v
            store.mark_dirty()
        store.flush()
    (tmp_path / "state.json").write_bytes(b"\x00garbage{")
    assert DesiredStateStore(tmp_path / "state.json").memory.volume == 10
    assert (tmp_path / "state.json.corrupt").exists()


def test_a_full_disk_is_survived_in_memory_and_saved_once_there_is_room(tmp_path: Path) -> None:
    disk = tmp_path / "disk"
    disk.mkdir()
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(disk)], capture_output=True).returncode:
        pytest.skip("needs root to mount a small tmpfs")
    try:
        store = DesiredStateStore(disk / "state.json")
        store.start()
        with store.lock:
            store.memory.volume = 10
            store.mark_dirty()
        assert store.flush()
        filler = disk / "filler"
        fd = os.open(filler, os.O_WRONLY | os.O_CREAT)
        try:
            while True:
                os.write(fd, b"\0" * 4096)
        except OSError:
            pass
        finally:
            os.close(fd)
        with store.lock:
            store.memory.volume = 20
            store.memory.applied = {f"zone/z{i}": i for i in range(2000)}  # bigger than what is left
            store.mark_dirty()
        assert store.flush() is False and store.memory.volume == 20  # working from memory
        assert json.loads((disk / "state.json").read_text())["volume"] == 10  # the old file intact
        assert not [p for p in disk.iterdir() if p.name.endswith(".tmp")]
        filler.unlink()
        with store.lock:
            store.mark_dirty()
        assert store.flush()
        store.stop()
        assert NodeMemory.from_json(json.loads((disk / "state.json").read_text())).volume == 20
    finally:
        subprocess.run(["umount", "-l", str(disk)], capture_output=True)
