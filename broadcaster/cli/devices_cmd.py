"""``broadcaster devices``: which loudspeakers and TVs are online, and whether they have the latest schedule.

From what the nodes reported (retained state and last will), as stored by the running service.
"Schedule" compares the version each node says it applied with the version the central sent.

Example::

    broadcaster devices
"""

from __future__ import annotations

import argparse
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("devices", help="speaker and TV nodes: online, last seen, volume, cache, clock, schedule version",
                       description="Tình trạng thiết bị / device status.")
    p.add_argument("--ward", type=Path, help="ward file (default: $BROADCASTER_WARD or devices/ward.toml)")
    p.set_defaults(func=run)


def _mb(n: int) -> str:
    return f"{n / 1e6:.1f} MB"


def run(args: argparse.Namespace) -> int:
    from broadcaster.central.health import clock_warning
    from broadcaster.central.store import Store
    from broadcaster.central.textfmt import ago, local, table
    from broadcaster.config import load_ward
    from broadcaster.wire.times import utc_now

    ward = load_ward(args.ward)
    now = utc_now()
    with Store.for_ward(ward) as store:
        store.sync_ward(ward)
        devices = store.devices()
        current = store.versions()
    rows = []
    warnings: list[str | None] = []
    stale = 0
    for d in devices:
        target = f"zone/{d.zone}" if d.kind == "speaker" else f"device/{d.id}"  # a TV's deck: its own target
        cur, got = current.get(target), d.applied.get(target)
        if cur is None:
            sched = "—"
        elif got == cur:
            sched = f"v{got} ✓"
        else:
            stale += 1
            sched = f"v{got if got is not None else '?'} / v{cur} ✗"
        offset = "—" if d.clock_offset_ms is None else f"{d.clock_offset_ms / 1000:+.1f} s"
        if clock_warning(d.id, d.clock_offset_ms):
            offset += " ⚠"
            warnings.append(clock_warning(d.id, d.clock_offset_ms))
        vol = f"{d.reported_volume if d.reported_volume is not None else '?'} (set {d.volume})"
        cached = f"{d.cache_items} · {_mb(d.cache_bytes)}" + (f" · thiếu {len(d.missing)}" if d.missing else "")
        rows.append([
            d.id, d.zone or "—", d.kind, "có / yes" if d.online else "KHÔNG / no",
            f"{local(d.last_seen, ward.tz, '%H:%M:%S %d/%m')} ({ago(d.last_seen, now)})" if d.last_seen else "chưa / never",
            vol, cached, offset, sched,
        ])
    print(table(["Thiết bị", "Khu phố", "Loại", "Trực tuyến", "Lần cuối / last seen", "Âm lượng", "Đã tải / cached",
                 "Lệch giờ / clock", "Lịch applied/current"], rows))
    online = sum(d.online for d in devices)
    print(f"\n{online}/{len(devices)} online; {stale} with an older schedule than the central's.")
    for w in warnings:
        print(f"⚠ {w}")
    return 0
