"""``broadcaster list``: the queued announcements and when each plays next in each khu phố.

Overflow warnings (a window too full for its items) are shown under the table, with where the
items go instead; an airing that can no longer air before its schedule's last day is shown as
"không phát được (hết thời hạn)" with its reason, never as still to come.

Example::

    broadcaster list            # active announcements, next occurrences over the coming 14 days
    broadcaster list --days 3 --all
"""

from __future__ import annotations

import argparse
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from broadcaster.central.store import Store
    from broadcaster.config import Ward


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("list", help="queued announcements and their next occurrences per zone",
                       description="Danh sách thông báo đã xếp lịch / queued announcements.")
    p.add_argument("--days", type=int, default=14, help="how far ahead to look for next occurrences (default 14)")
    p.add_argument("--all", action="store_true", help="also show cancelled announcements")
    p.add_argument("--ward", type=Path, help="ward file (default: $BROADCASTER_WARD or devices/ward.toml)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from broadcaster.central.store import Store
    from broadcaster.config import load_ward
    from broadcaster.wire.times import utc_now

    ward = load_ward(args.ward)
    with Store.for_ward(ward) as store:
        lines = report(ward, store, utc_now(), days=args.days, include_cancelled=args.all)
    print("\n".join(lines))
    _print_decks(ward)
    return 0


def report(ward: Ward, store: Store, now: datetime, *, days: int = 14, include_cancelled: bool = False) -> list[str]:
    """The table and its warnings at ``now``: what plays next, what overflows, and what can no
    longer air in its period (never shown as still to come)."""
    from broadcaster.announce import messages_vi as M
    from broadcaster.central import planner
    from broadcaster.central.textfmt import PRIORITY_VI, duration, local, table
    from broadcaster.tts import messages_vi as vi

    tz = ward.tz
    active = store.announcements()
    shown = store.announcements(include_cancelled=True) if include_cancelled else active
    until = planner.reach_first_airings(active, tz, now, now + timedelta(days=max(1, days)))
    plan = planner.plan(ward, active, now, until, delivered=store.delivered_ids(), decided=store.decided_ids())
    voices = store.voices()
    if not shown:
        return ["Chưa có thông báo nào / nothing queued. Use `broadcaster queue`."]
    nexts: dict[str, dict[str, str]] = {}
    for it in sorted([*plan.emergencies, *plan.items], key=lambda i: i.start):
        nexts.setdefault(it.announcement_id, {}).setdefault(it.zone, local(it.start, tz, "%H:%M %d/%m"))
    # airings that can no longer air in their period: this plan's, and those the service recorded
    expired: dict[str, dict[str, tuple[str, str]]] = {}
    recorded = [(r.announcement_id, r.item_id, r.zone, r.reason) for r in store.plan_items(now - timedelta(days=400))
                if r.status == "missed" and r.reason.startswith(M.EXPIRED_MARK)]
    for ann_id, iid, zone, reason in [*((m.announcement_id, m.item_id, m.zone, m.reason) for m in plan.missed
                                        if m.reason.startswith(M.EXPIRED_MARK)), *recorded]:
        expired.setdefault(ann_id, {})[iid] = (zone, reason)
    today = now.astimezone(tz).date()
    rows = []
    for a in shown:
        per_zone = nexts.get(a.id, {})
        if a.status == "cancelled":
            nxt = f"đã hủy / cancelled {local(a.cancelled_at, tz)}"
        elif per_zone:
            # zones with the same time are grouped: "kp1,kp2 17:00 01/12"
            groups: dict[str, list[str]] = {}
            for z, t in per_zone.items():
                groups.setdefault(t, []).append(z)
            nxt = "; ".join(f"{','.join(zs)} {t}" for t, zs in groups.items())
        elif a.id in expired:
            nxt = M.EXPIRED_SHORT
        elif a.schedule.end_date is not None and a.schedule.end_date < today:
            nxt = M.ENDED.format(end=f"{a.schedule.end_date:%d/%m/%Y}")
        else:
            nxt = "— (none in the coming days)"
        v = voices.get(a.id)
        voice = (vi.RECORDED_VOICE if a.engine == "recording" else a.engine) + (" ⚠" if v is not None and v.fallback else "")
        rows.append([a.id, a.title[:40], PRIORITY_VI[a.priority], ",".join(a.zones) if len(a.zones) < len(ward.zones) else "all",
                     a.schedule.describe(), duration(a.duration_ms), voice, nxt])
    out = [table(["ID", "Tiêu đề / title", "Mức", "Khu phố", "Lịch / schedule", "Dài", "Giọng / voice", "Lần phát kế tiếp / next"], rows)]
    fallbacks = [a for a in shown if a.status == "active" and (v := voices.get(a.id)) is not None and v.fallback]
    if fallbacks:
        out.append("")
        for a in fallbacks:
            out.append(f"{a.id}: {vi.FALLBACK_WARNING.format(engine=a.engine, preferred=voices[a.id].preferred)}")
    if plan.overflows:
        out += ["", "⚠ Quá khung giờ / overflow (the window cannot hold every item):"]
        for o in plan.overflows:
            where = f"→ {local(o.moved_to, tz)}" if o.moved_to else "→ không phát được / given up"
            out.append(f"  {o.zone}: {o.announcement_id} does not fit the window of {local(o.window_start, tz)} {where}")
    shown_ids = {a.id for a in shown if a.status == "active"}
    gone = [(ann_id, zone, reason) for ann_id, its in expired.items() if ann_id in shown_ids for zone, reason in its.values()]
    if gone:
        out += ["", M.NOT_AIRABLE]
        out += [f"  {zone}: {ann_id}: {reason}" for ann_id, zone, reason in gone]
    return out


def _print_decks(ward: object) -> None:
    """The cycle of each TV's deck, so whoever edits a deck sees how long the TV takes to come round."""
    from broadcaster.config import Ward, find_deck
    from broadcaster.errors import BroadcasterError
    from broadcaster.production import deck_report

    assert isinstance(ward, Ward)
    for dev in ward.displays():
        if not dev.deck:
            continue
        try:
            rep = deck_report(find_deck(ward, dev.deck), ward)
        except BroadcasterError as exc:
            print(f"\nTV {dev.id}: bộ slide {dev.deck} lỗi / deck error: {exc}")
            continue
        print(f"\nTV {dev.id}: {rep.summary()} (`broadcaster deck check` for details)")
