"""The store speaks the wire's words: a TV's deck is versioned as ``device/<id>`` (its target on the
wire and in a node's ``applied``), and a zone's emergency and its clear are columns, not a prefix."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from broadcaster.central import store as st

# the migration this module's test upgrades across (the one that gave emergencies a table)
EMERGENCY_TABLE = next(n for n, m in enumerate(st.MIGRATIONS, 1) if "CREATE TABLE zone_emergencies" in m)


def test_older_store_moves_deck_targets_and_emergency_clears(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    conn = sqlite3.connect(path, isolation_level=None)
    st.migrate(conn, target=EMERGENCY_TABLE - 1)
    rows = [
        ("zone/kp1", 7, "d1"), ("deck/tv-tnkq", 4, "d2"), ("deck/tv-2", 2, "d3"),
        ("device/tv-2", 9, ""),  # a floor lifted under the wire's spelling before: the deck row wins
        ("emergency/kp1", 1, "clear:bao-lu.kp1.1"), ("emergency/kp2", 1, "chay.kp2.1"),
    ]
    conn.executemany("INSERT INTO versions(target, version, digest, published_at) VALUES (?, ?, ?, '2026-12-01T10:00:00.000Z')", rows)
    conn.close()
    with st.Store(path) as s:
        assert s.versions() == {"zone/kp1": 7, "device/tv-tnkq": 4, "device/tv-2": 2}
        assert s.last_digest("device/tv-tnkq") == "d2"
        assert s.zone_emergency("kp1") == ("bao-lu.kp1.1", True)
        assert s.zone_emergency("kp2") == ("chay.kp2.1", False)
        assert s.zone_emergency("kp3") is None
        s.set_zone_emergency("kp2", "chay.kp2.1", cleared=True)
        assert s.zone_emergency("kp2") == ("chay.kp2.1", True)
