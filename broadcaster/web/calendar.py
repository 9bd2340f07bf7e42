"""The week (or day) of one khu phố, as the nodes will play it.

Upcoming airings come from ``planner.plan`` called exactly as the running service calls it (same
announcements, same delivered and decided sets), so the calendar cannot disagree with what is
published; past airings come from what the service recorded (``plan_items``) and what the nodes
reported (as-run). Each airing carries its state on every node of the zone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from broadcaster.central import planner
from broadcaster.central.records import Records
from broadcaster.central.store import Store
from broadcaster.config import Ward

RANK = {"played": 0, "playing": 1, "interrupted": 2, "failed": 3, "missed": 4, "acknowledged": 5, "sent": 6, "planned": 7}


@dataclass
class Airing:
    item_id: str
    announcement_id: str
    title: str
    priority: str
    requested: datetime
    start: datetime
    duration_ms: int
    window_start: datetime | None
    status: str  # planned | missed | cancelled
    late: bool = False
    moves: int = 0
    reason: str = ""
    nodes: dict[str, str] = field(default_factory=dict)  # device -> state
    started: dict[str, datetime] = field(default_factory=dict)  # device -> actual start
    replayed: bool = False  # a «phát lại» copy of it is queued already

    @property
    def end(self) -> datetime:
        return self.start + timedelta(milliseconds=self.duration_ms)

    @property
    def summary(self) -> str:
        if self.status == "cancelled":
            return "cancelled"
        if not self.nodes:
            return "missed" if self.status == "missed" else "planned"
        return min(self.nodes.values(), key=lambda s: RANK.get(s, 9))

    @property
    def replayable(self) -> bool:
        return self.status != "cancelled" and not self.replayed and self.summary in ("interrupted", "missed", "failed")


@dataclass
class Slot:
    label_start: datetime | None  # window start, None for airings outside windows
    label_end: datetime | None
    airings: list[Airing] = field(default_factory=list)


@dataclass
class Day:
    day: date
    slots: list[Slot]


@dataclass
class Week:
    zone: str
    start: date
    days: list[Day]
    overflows: list[planner.Overflow]


def build_week(ward: Ward, store: Store, zone_id: str, first: date, days: int, now: datetime) -> Week:
    tz = ward.tz
    zone = ward.zone(zone_id)
    t0 = datetime.combine(first, datetime.min.time(), tz).astimezone(planner.UTC)
    t1 = datetime.combine(first + timedelta(days=days), datetime.min.time(), tz).astimezone(planner.UTC)
    records = Records(store)
    anns = store.announcements()
    titles = {a.id: a for a in store.announcements(include_cancelled=True)}
    airings: dict[str, Airing] = {}
    # past (and anything the service already recorded): plan_items
    for p in store.plan_items(t0 - timedelta(days=1), t1):
        if p.zone != zone_id or not (t0 <= p.start < t1 or t0 <= p.requested < t1):
            continue
        a = titles.get(p.announcement_id)
        airings[p.item_id] = Airing(p.item_id, p.announcement_id, a.title if a else p.announcement_id, p.priority, p.requested,
                                    p.start, p.duration_ms, None, p.status, reason=p.reason)
    # upcoming: the planner, as the service runs it
    plan = planner.plan(ward, anns, now, max(t1, now), delivered=store.delivered_ids(), decided=store.decided_ids())
    for it in [*plan.for_zone(zone_id), *[e for e in plan.emergencies if e.zone == zone_id]]:
        if not (t0 <= it.start < t1):
            continue
        prev = airings.get(it.item_id)
        airings[it.item_id] = Airing(it.item_id, it.announcement_id, it.title, it.priority, it.requested, it.start, it.duration_ms,
                                     it.window_start, "planned", it.late, it.moves, prev.reason if prev else "")
    for m in plan.missed:
        if m.zone == zone_id and t0 <= m.requested < t1 and m.item_id not in airings:
            a = titles.get(m.announcement_id)
            airings[m.item_id] = Airing(m.item_id, m.announcement_id, a.title if a else m.announcement_id, m.priority, m.requested,
                                        m.requested, m.duration_ms, None, "missed", reason=m.reason)
    for iid, row in records.skipped().items():
        if iid in airings:
            airings[iid].status, airings[iid].reason = "cancelled", row["reason"]
        elif row["zone"] == zone_id:
            # a cancelled airing the service never delivered: still shown, struck through
            req = datetime.strptime(iid.rsplit(".", 1)[1], "%Y%m%dT%H%MZ").replace(tzinfo=planner.UTC)
            a = titles.get(row["announcement_id"])
            if a is not None and t0 <= req < t1:
                airings[iid] = Airing(iid, a.id, a.title, a.priority, req, req, a.duration_ms, None, "cancelled",
                                      reason=row["reason"])
    # the airings a «phát lại» copy was queued for (usecases.replay records it as the copy's source)
    from broadcaster.central.usecases import REPLAY_SOURCE

    for ann in anns:
        if ann.source.startswith(REPLAY_SOURCE) and ann.source[len(REPLAY_SOURCE):] in airings:
            airings[ann.source[len(REPLAY_SOURCE):]].replayed = True
    # per-node state
    speakers = [d for d in store.devices() if d.kind == "speaker" and d.zone == zone_id]
    delivered = {p.item_id for p in store.plan_items(t0 - timedelta(days=1), t1) if p.delivered_at is not None}
    versions = records.item_versions(list(airings))
    events: dict[tuple[str, str], tuple[str, datetime | None]] = {}
    for ev in store.events(t0 - timedelta(days=1), t1 + timedelta(days=1)):
        key = (ev.item_id, ev.device)
        old = events.get(key)
        if old is None or RANK.get(ev.kind, 9) < RANK.get(old[0], 9):
            events[key] = (ev.kind, ev.started)
    for airing in airings.values():
        for dev in speakers:
            seen = events.get((airing.item_id, dev.id))
            if seen:
                airing.nodes[dev.id] = seen[0]
                if seen[1]:
                    airing.started[dev.id] = seen[1]
            elif dev.playing == airing.item_id:
                airing.nodes[dev.id] = "playing"
            elif airing.item_id in versions and dev.applied.get(f"zone/{zone_id}", 0) >= versions[airing.item_id]:
                airing.nodes[dev.id] = "acknowledged"
            elif airing.item_id in delivered:
                airing.nodes[dev.id] = "sent"
            elif airing.status == "missed" or (airing.end < now and airing.status != "cancelled"):
                airing.nodes[dev.id] = "missed"
            else:
                airing.nodes[dev.id] = "planned"
    # lay out: per day, each window occurrence, then airings outside windows
    out_days = []
    for k in range(days):
        day = first + timedelta(days=k)
        d0, d1 = planner.day_range(day, tz)
        slots = [Slot(ws, we) for ws, we in planner.window_occurrences(zone, tz, d0, d1) if d0 <= ws < d1]
        loose = Slot(None, None)
        for airing in sorted((x for x in airings.values() if d0 <= x.start < d1), key=lambda x: x.start):
            for s in slots:
                if (s.label_start and s.label_end and s.label_start <= airing.start < s.label_end
                        and not airing.late and airing.priority != "emergency"):
                    s.airings.append(airing)
                    break
            else:
                loose.airings.append(airing)
        if loose.airings:
            slots.append(loose)
        slots.sort(key=lambda s: s.label_start or (s.airings[0].start if s.airings else d0))
        out_days.append(Day(day, slots))
    overflows = [o for o in plan.overflows if o.zone == zone_id and t0 <= o.window_start < t1]
    return Week(zone_id, first, out_days, overflows)
