"""The SQLite store: migrations in place, persistence across reopen, idempotent as-run, counters."""

from __future__ import annotations

import multiprocessing.synchronize
import sqlite3
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from broadcaster import protocol
from broadcaster.central import store as st
from broadcaster.config import ScheduleSpec, load_ward
from broadcaster.errors import NotFoundError, ScheduleError
from broadcaster.media import MediaStore

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
UTC = timezone.utc


def _ann(store: st.Store, media: MediaStore, tmp: Path, ann_id: str = "a1") -> st.StoredAnnouncement:
    f = tmp / f"{ann_id}.mp3"
    f.write_bytes(b"ID3" + ann_id.encode() * 50)
    m = store.add_media(media.put_file(f))
    return store.add_announcement(
        st.StoredAnnouncement(
            id=ann_id, title="Tiêm chủng", text="Trạm Y tế phường...", spoken_text="trạm y tế phường", priority="normal",
            readings=2, chime=True, show_on_tv=True, zones=("kp1", "kp2"),
            schedule=ScheduleSpec("once", at=datetime(2026, 12, 1, 17, 5, tzinfo=TZ)),
            audio=m.name, duration_ms=12_000, engine="espeak", slides=(), queue_seq=0,
            queued_at=datetime(2026, 11, 30, 2, tzinfo=UTC),
        )
    )


def test_round_trip_and_persistence(tmp_path: Path) -> None:
    media = MediaStore(tmp_path / "media")
    path = tmp_path / "store.sqlite"
    with st.Store(path, tz=TZ) as s:
        assert s.schema_version == st.SCHEMA_VERSION
        assert s._one("PRAGMA journal_mode")[0] == "wal"  # type: ignore[index]
        a = _ann(s, media, tmp_path)
        b = _ann(s, media, tmp_path, "a2")
        assert b.queue_seq == a.queue_seq + 1
        seqs = [s.next_seq() for _ in range(3)]
        assert seqs == sorted(set(seqs)) and seqs[0] >= int(datetime.now(UTC).timestamp() * 1000) - 60_000
        assert s.publish_version("zone/kp1", "d1") == (1, True)
        assert s.publish_version("zone/kp1", "d1") == (1, False)
        assert s.publish_version("zone/kp1", "d2") == (2, True)
        rev = s.plan_revision
        s.cancel("a2")
        assert s.plan_revision == rev + 1
    with st.Store(path, tz=TZ) as s:  # reopened: nothing lost
        got = s.announcement("a1")
        assert got.schedule.at == datetime(2026, 12, 1, 17, 5, tzinfo=TZ)
        assert got.zones == ("kp1", "kp2") and got.title == "Tiêm chủng"
        assert [x.id for x in s.announcements()] == ["a1"]
        assert s.announcement("a2").status == "cancelled"
        assert s.next_seq() > seqs[-1]  # reopened: still growing
        assert s.versions() == {"zone/kp1": 2}
        with pytest.raises(ScheduleError, match="already"):
            _ann(s, media, tmp_path)
        with pytest.raises(NotFoundError):
            s.cancel("nope")


def test_failed_transaction_changes_nothing(tmp_path: Path) -> None:
    with st.Store(tmp_path / "s.sqlite") as s:
        with pytest.raises(RuntimeError):
            with s.transaction() as c:
                c.execute("INSERT INTO meta(key, value) VALUES ('x', '1')")
                raise RuntimeError("boom")
        assert s._one("SELECT COUNT(*) FROM meta WHERE key = 'x'")[0] == 0  # type: ignore[index]


def test_asrun_idempotent(tmp_path: Path) -> None:
    with st.Store(tmp_path / "s.sqlite") as s:
        t = datetime(2026, 12, 1, 10, tzinfo=UTC)
        ev = protocol.AsRunEvent("ev1", "kp1-loa1", "a1.kp1.20261201T1000Z", "a1", "played", t, t, t + timedelta(seconds=12))
        now = datetime.now(UTC)
        assert s.add_event(ev, zone="kp1", received_at=now)
        assert not s.add_event(ev, zone="kp1", received_at=now)
        assert len(s.events()) == 1


def test_device_state_and_clock_offset(ward_dir: Path) -> None:
    ward = load_ward()
    with st.Store.for_ward(ward) as s:
        s.sync_ward(ward)
        now = datetime.now(UTC)
        state = protocol.DeviceState("kp1-loa1", "speaker", True, zone="kp1", volume=70, applied={"zone/kp1": 3},
                                     cache_items=2, cache_bytes=1000, clock=now + timedelta(seconds=2))
        s.update_device_state(state, received_at=now, live=True)
        d = {x.id: x for x in s.devices()}["kp1-loa1"]
        assert d.online and d.applied == {"zone/kp1": 3} and d.clock_offset_ms == 2000 and d.reported_volume == 70
        assert len(s.devices()) == len(ward.devices)
        # the last will says only "offline": what the node said before is kept
        s.update_device_state(protocol.DeviceState("kp1-loa1", "speaker", False), received_at=now + timedelta(minutes=5), live=True)
        d = {x.id: x for x in s.devices()}["kp1-loa1"]
        assert not d.online and d.applied == {"zone/kp1": 3} and d.cache_items == 2
        assert d.last_seen is not None and abs((d.last_seen - now).total_seconds()) < 0.001  # stored to the ms


def test_upgrade_older_store_in_place(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    conn = sqlite3.connect(path, isolation_level=None)
    st.migrate(conn, target=1)  # a store written by the first release
    conn.execute("INSERT INTO devices(id, kind, zone, name) VALUES ('kp1-loa1', 'speaker', 'kp1', 'Loa')")
    conn.execute(
        "INSERT INTO asrun VALUES ('e1', 'kp1-loa1', 'kp1', 'i1', 'a1', 'played', '2026-12-01T10:00:00.000Z', NULL, NULL, '', "
        "'2026-12-01T10:00:01.000Z')"
    )
    conn.execute("INSERT INTO meta VALUES ('envelope_seq', '41')")
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 1
    conn.close()
    with st.Store(path) as s:
        assert s.schema_version == st.SCHEMA_VERSION
        assert [d.id for d in s.devices()] == ["kp1-loa1"] and s.devices()[0].clock_offset_ms is None
        assert [e.event_id for e in s.events()] == ["e1"]
        # never below the clock in ms (a store made anew must not restart at 1: nodes would refuse it)...
        assert s.next_seq() > int(datetime.now(UTC).timestamp() * 1000) - 60_000
        # ...and never below what was issued (a clock set back must not make seqs go back either)
        s._conn.execute("UPDATE meta SET value = ? WHERE key = 'envelope_seq'", (str(10**15),))
        assert s.next_seq() == 10**15 + 1
        assert s.plan_items() == []


def test_newer_store_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "new.sqlite"
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {st.SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(Exception, match="newer broadcaster"):
        st.Store(path)


def _open_at_once(path: str, barrier: multiprocessing.synchronize.Barrier) -> None:
    barrier.wait()
    st.Store(Path(path)).close()


def test_processes_creating_the_store_at_once_all_succeed(tmp_path: Path) -> None:
    """`serve` and a CLI command opening a brand-new store together: one sets it up, none fails."""
    import multiprocessing

    ctx = multiprocessing.get_context("fork")
    for n in range(5):
        barrier = ctx.Barrier(4)
        procs = [ctx.Process(target=_open_at_once, args=(str(tmp_path / f"s{n}.sqlite"), barrier)) for _ in range(4)]
        for p in procs:
            p.start()
        for p in procs:
            p.join(30)
        assert [p.exitcode for p in procs] == [0, 0, 0, 0]
        with st.Store(tmp_path / f"s{n}.sqlite") as s:
            assert s.schema_version == st.SCHEMA_VERSION


def test_a_locked_store_is_a_clear_error_and_changes_nothing(tmp_path: Path) -> None:
    import sqlite3

    from broadcaster.errors import StoreError

    path = tmp_path / "store.sqlite"
    with st.Store(path, tz=TZ, busy_timeout_s=0.2) as s:
        other = sqlite3.connect(path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")  # a backup or a long command holds the write lock
        try:
            with pytest.raises(StoreError, match="locked by another program"):
                s.set_meta("k", "v")
        finally:
            other.execute("ROLLBACK")
            other.close()
        assert s.get_meta("k") is None
        s.set_meta("k", "v")  # and usable again at once
        assert s.get_meta("k") == "v"


@pytest.mark.parametrize("garbage", [b"not a database at all" * 100, b"SQLite format 3\x00" + b"\xff" * 8000])
def test_a_corrupt_store_is_a_clear_error_for_list_and_serve(ward_dir: Path, garbage: bytes, capsys: pytest.CaptureFixture[str]) -> None:
    import os
    import subprocess
    import sys

    from broadcaster.cli.main import main
    from broadcaster.config import load_ward

    ward = load_ward()
    path = st.store_path(ward)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(garbage)
    assert main(["list"]) == 78
    err = capsys.readouterr().err
    assert "is damaged" in err and "restore" in err and "Traceback" not in err
    res = subprocess.run([sys.executable, "-m", "broadcaster", "serve", "--engine", "espeak"], capture_output=True, text=True,
                         env=dict(os.environ), cwd=ward_dir, timeout=60)
    assert res.returncode == 78 and "is damaged" in res.stderr and "Traceback" not in res.stderr
