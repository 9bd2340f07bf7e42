"""Planning, pure: from queued announcements and the ward's windows to each zone's bulletins.

No I/O, no clock: every function takes ``now`` and returns values, so the rules below are tested
exactly (tests/test_planner.py) and the service, ``broadcaster queue`` and ``broadcaster list`` all
get the same answer.

Rules (Thông tư 39/2020/TT-BTTTT levels; docs/protocol.md "Scheduling" says the same in prose):

* A schedule expands into *occurrences*: the local times the officer typed (Asia/Ho_Chi_Minh, no
  daylight saving), turned into UTC. ``now`` is the moment it was queued.
* **Emergency** (khẩn cấp): plays at its occurrence on every targeted node, windows ignored; it
  stays valid (a node that comes back plays it) until ``valid_until`` = end + the missed grace.
* **Normal and priority**: an occurrence picks the zone window that contains it; a normal or
  priority item typed outside every window is refused at queue time ("now" outside a window goes
  to the next window). The items of one window occurrence form that zone's *bulletin*, laid back to
  back with a short gap, starting at the window start. An item never starts before the time typed
  or before it was queued (+ a lead time for delivery); among items ready to play, priority items go
  first, then queue order. This is non-preemptive priority scheduling with release times, chosen
  because it is stable: adding an item never moves one that already started.
* **Overflow**: an item that would end after its window closes moves to the zone's next window
  occurrence (where it competes again); the officer is told. After ``MAX_MOVES`` moves it is given
  up and reported as missed. A daily or weekly item never moves past its last day (``until``):
  when no window left in its period can hold it, it is reported missed at once, with the reason
  (``messages_vi.EXPIRED``), and never shown as still to play. An item longer than the windows its
  typed times fall in is refused at queue time (``schedule_problems``), so it cannot drift at all.
* **Missed while the service was down**: an item whose start has passed and that was never
  delivered to the nodes plays at once ("late") if it is late by at most ``missed_grace`` and now
  is outside the quiet hours (emergencies ignore quiet hours); otherwise it is recorded as missed
  and never plays. Delivered items are the nodes' business: they play from their own clocks.
"""

from __future__ import annotations

import heapq
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from broadcaster.announce import messages_vi as M
from broadcaster.announce.spec import CLI_DOOR, Door, Problem
from broadcaster.config import ScheduleSpec, Ward, Window, Zone
from broadcaster.errors import ScheduleError, UnknownZoneError
from broadcaster.wire.vocabulary import Priority

GAP = timedelta(seconds=5)  # silence between two items of a bulletin
LEAD = timedelta(seconds=30)  # earliest start after queueing: time to publish and for nodes to fetch
MAX_MOVES = 3  # overflow moves before an item is given up
PRIORITY_RANK = {p.value: p.rank for p in Priority}  # the one rank order (broadcaster.wire.vocabulary)
LOOKBACK = timedelta(days=2)  # planning starts this far back so open windows and carried overflow stay stable


class Schedulable(Protocol):
    """What the queue-time checks need of an announcement (``config.Announcement`` has it).

    Read-only members, so frozen dataclasses (``Announcement``, ``StoredAnnouncement``, ``Probe``) fit."""

    @property
    def id(self) -> str: ...
    @property
    def priority(self) -> str: ...
    @property
    def zones(self) -> tuple[str, ...]: ...
    @property
    def schedule(self) -> ScheduleSpec: ...


class Plannable(Schedulable, Protocol):
    """What the planner needs of an announcement (``store.StoredAnnouncement`` has it)."""

    # read-only: the frozen dataclasses that fulfil it (StoredAnnouncement, Probe) cannot be written to
    @property
    def title(self) -> str: ...
    @property
    def duration_ms(self) -> int: ...
    @property
    def queue_seq(self) -> int: ...
    @property
    def queued_at(self) -> datetime: ...


@dataclass(frozen=True)
class Probe:
    """An announcement as the planner sees it before it is stored (queue-time checks)."""

    id: str
    title: str
    priority: str
    zones: tuple[str, ...]
    schedule: ScheduleSpec
    duration_ms: int
    queue_seq: int
    queued_at: datetime


@dataclass(frozen=True)
class PlannedItem:
    item_id: str
    announcement_id: str
    title: str
    zone: str
    priority: str
    requested: datetime  # the occurrence as typed, UTC
    start: datetime  # when it plays, UTC
    duration_ms: int
    window_start: datetime | None  # None for emergencies and late items
    window_end: datetime | None
    moves: int = 0  # how many windows it overflowed from
    late: bool = False  # played late after a service outage (missed-grace policy)

    @property
    def end(self) -> datetime:
        return self.start + timedelta(milliseconds=self.duration_ms)


@dataclass(frozen=True)
class Overflow:
    """An item that did not fit its window; ``moved_to`` is the next window start, or None if given up."""

    announcement_id: str
    title: str
    zone: str
    requested: datetime
    window_start: datetime
    moved_to: datetime | None


@dataclass(frozen=True)
class Missed:
    item_id: str
    announcement_id: str
    zone: str
    priority: str
    requested: datetime
    duration_ms: int
    reason: str


@dataclass
class Plan:
    items: list[PlannedItem] = field(default_factory=list)  # normal/priority (incl. late), by zone then start
    emergencies: list[PlannedItem] = field(default_factory=list)
    overflows: list[Overflow] = field(default_factory=list)
    missed: list[Missed] = field(default_factory=list)

    def for_zone(self, zone: str) -> list[PlannedItem]:
        return [i for i in self.items if i.zone == zone]


# --------------------------------------------------------------------------------------------
# Time helpers
# --------------------------------------------------------------------------------------------


def to_utc(t: datetime) -> datetime:
    if t.tzinfo is None:
        raise ScheduleError(f"time {t} has no time zone: times typed by a person are local (Asia/Ho_Chi_Minh)")
    return t.astimezone(UTC)


def window_occurrences(zone: Zone, tz: ZoneInfo, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """Every window occurrence of a zone that overlaps [start, end), as UTC (start, end), sorted."""
    out = []
    day = start.astimezone(tz).date() - timedelta(days=1)  # a window crossing midnight starts the day before
    last = end.astimezone(tz).date()
    while day <= last:
        for w in zone.windows:
            ws, we = w.occurrence(day, tz)
            ws, we = ws.astimezone(UTC), we.astimezone(UTC)
            if we > start and ws < end:
                out.append((ws, we))
        day += timedelta(days=1)
    return sorted(set(out))


def window_containing(zone: Zone, tz: ZoneInfo, t: datetime) -> tuple[datetime, datetime] | None:
    for ws, we in window_occurrences(zone, tz, t - timedelta(days=1), t + timedelta(seconds=1)):
        if ws <= t < we:
            return ws, we
    return None


def next_window(zone: Zone, tz: ZoneInfo, after: datetime) -> tuple[datetime, datetime]:
    """The first window occurrence starting at or after ``after``."""
    for ws, we in window_occurrences(zone, tz, after, after + timedelta(days=2)):
        if ws >= after:
            return ws, we
    raise ScheduleError(f"zone {zone.id} has no broadcast window in the two days after {after:%d/%m/%Y %H:%M}")


def in_quiet_hours(quiet: Window | None, t: datetime, tz: ZoneInfo) -> bool:
    return quiet is not None and quiet.contains(t.astimezone(tz).time().replace(second=0, microsecond=0))


def occurrences(spec: ScheduleSpec, tz: ZoneInfo, queued_at: datetime, start: datetime, end: datetime) -> list[datetime]:
    """Occurrences of a schedule in [start, end), UTC. "now" is the moment it was queued."""
    if spec.kind == "now":
        times = [queued_at]
    elif spec.kind == "once":
        if spec.at is None:
            raise ScheduleError("a one-off schedule needs a date and time (at)")
        times = [to_utc(spec.at if spec.at.tzinfo else spec.at.replace(tzinfo=tz))]
    elif spec.kind in ("daily", "weekly"):
        if not spec.start_date or not spec.end_date or not spec.times:
            raise ScheduleError(f"a {spec.kind} schedule needs times, a from date and an until date")
        first = max(spec.start_date, start.astimezone(tz).date() - timedelta(days=1))
        last = min(spec.end_date, end.astimezone(tz).date())
        times = []
        day = first
        while day <= last:
            if spec.kind == "daily" or day.weekday() in spec.weekdays:
                times += [datetime.combine(day, t, tz).astimezone(UTC) for t in spec.times]
            day += timedelta(days=1)
    else:
        raise ScheduleError(f"unknown schedule kind {spec.kind!r}: use now, once, daily or weekly")
    return sorted(t for t in times if start <= t < end)


def reach_first_airings(anns: Sequence[Plannable], tz: ZoneInfo, now: datetime, until: datetime) -> datetime:
    """``until``, pushed out to the day after each announcement's next occurrence (at most 400 days):
    a plan that long shows where every announcement lands and what overflows, even beyond the
    horizon sent to the nodes."""
    for ann in anns:
        first = occurrences(ann.schedule, tz, to_utc(ann.queued_at), now, now + timedelta(days=400))
        if first:
            until = max(until, first[0] + timedelta(days=1))
    return until


def item_id(announcement_id: str, zone: str, requested: datetime) -> str:
    """Stable id of one occurrence in one zone: the same across re-plans, so as-run events match it."""
    return f"{announcement_id}.{zone}.{requested.astimezone(UTC):%Y%m%dT%H%MZ}"


def emergency_valid_until(item: PlannedItem, grace: timedelta) -> datetime:
    # A node that was offline at airtime still plays the warning if it comes back within the grace.
    return item.end + max(grace, timedelta(minutes=1))


# --------------------------------------------------------------------------------------------
# Validation at queue time
# --------------------------------------------------------------------------------------------


def _fmt_local(t: datetime, tz: ZoneInfo) -> str:
    return f"{t.astimezone(tz):%H:%M %d/%m/%Y}"


def schedule_problems(ann: Schedulable, ward: Ward, now: datetime, *, duration_ms: int | None = None,
                      door: Door = CLI_DOOR) -> tuple[list[Problem], list[str]]:
    """What cannot be scheduled (``Problem``s, in Vietnamese, by field) and notes for the officer.

    The one check of the schedule against the clock, the windows and the length on air, for
    ``broadcaster queue``, programme files and the console alike. ``duration_ms`` may be left out
    to check the schedule before the audio exists.
    """
    tz = ward.tz
    problems: list[Problem] = []
    notes: list[str] = []

    def refuse(name: str, message: str, gloss: str = "") -> None:
        problems.append(Problem(name, door.where(name), message, gloss))

    if not ann.zones:
        refuse("zones", M.ZONES_NONE)
        return problems, notes
    known = {z.id: z for z in ward.zones}
    zones = []
    for z in ann.zones:
        if z in known:
            zones.append(known[z])
        else:
            refuse("zones", M.ZONE_UNKNOWN.format(v=z, known=", ".join(known)), M.ZONE_UNKNOWN_EN.format(v=z))
    spec = ann.schedule
    today = now.astimezone(tz).date()
    if spec.kind == "once":
        at = to_utc(spec.at) if spec.at else None
        if at is None or at < now - timedelta(minutes=1):
            shown = _fmt_local(at, tz) if at else "?"
            refuse("schedule.at", M.PAST.format(at=shown, now=_fmt_local(now, tz)), M.PAST_EN.format(at=shown))
    elif spec.kind in ("daily", "weekly"):
        assert spec.start_date and spec.end_date
        if spec.end_date < today:
            end = f"{spec.end_date:%d/%m/%Y}"
            refuse("schedule.until", M.PERIOD_OVER.format(end=end), M.PERIOD_OVER_EN.format(end=end))
        elif spec.start_date > spec.end_date:
            refuse("schedule.until", M.UNTIL_BEFORE_FROM.format(end=f"{spec.end_date:%d/%m/%Y}", start=f"{spec.start_date:%d/%m/%Y}"))
        else:
            horizon_end = datetime.combine(spec.end_date + timedelta(days=1), datetime.min.time(), tz).astimezone(UTC)
            if not occurrences(spec, tz, now, now, horizon_end):
                refuse("schedule.weekdays" if spec.kind == "weekly" else "schedule.times",
                       M.NO_OCCURRENCE.format(spec=spec.describe()), M.NO_OCCURRENCE_EN)
    if ann.priority == "emergency" or problems:
        return problems, notes
    # normal / priority: every typed time inside a window of every target zone, and the item no
    # longer than the windows it may air in (else it overflows window after window, never airing)
    minutes = f"{duration_ms / 60000:.1f}" if duration_ms is not None else ""
    long = timedelta(milliseconds=duration_ms) if duration_ms is not None else None
    for zone in zones:
        windows = ", ".join(str(w) for w in zone.windows)
        longest = max(w.length for w in zone.windows)
        if spec.kind == "now":
            if window_containing(zone, tz, now) is None:
                ws, _ = next_window(zone, tz, now)
                notes.append(M.NOW_OUTSIDE.format(zone=zone.name, windows=windows, next=_fmt_local(ws, tz)))
            if long is not None and long > longest:
                refuse("text", M.TOO_LONG.format(minutes=minutes, zone=zone.name, longest=f"{longest.total_seconds() / 60:.0f}"),
                       M.TOO_LONG_EN.format(zone_id=zone.id))
            continue
        typed = [spec.at.astimezone(tz).time()] if spec.kind == "once" and spec.at else list(spec.times)
        for t in typed:
            inside = [w for w in zone.windows if w.contains(t)]
            shown = f"{t:%H:%M}"
            if not inside:
                refuse("schedule.at" if spec.kind == "once" else "schedule.times",
                       M.OUTSIDE_WINDOW.format(zone=zone.name, t=shown, windows=windows),
                       M.OUTSIDE_WINDOW_EN.format(t=shown, zone_id=zone.id))
                break
            if long is None:
                continue
            if long > longest:
                refuse("text", M.TOO_LONG.format(minutes=minutes, zone=zone.name, longest=f"{longest.total_seconds() / 60:.0f}"),
                       M.TOO_LONG_EN.format(zone_id=zone.id))
                break
            w = max(inside, key=lambda x: x.length)
            if long > w.length:
                longer = ", ".join(str(x) for x in zone.windows if x.length >= long) or M.NO_LONGER_WINDOW
                refuse("text", M.TOO_LONG_FOR_WINDOW.format(zone=zone.name, minutes=minutes, window=w, t=shown,
                                                            length=f"{w.length.total_seconds() / 60:.0f}", longer=longer),
                       M.TOO_LONG_FOR_WINDOW_EN.format(window=w, t=shown, zone_id=zone.id))
                break
    return problems, notes


def validate(ann: Schedulable, ward: Ward, now: datetime, *, duration_ms: int | None = None) -> list[str]:
    """Refuse what cannot be scheduled (``ScheduleError`` naming why, in Vietnamese with an English
    gloss); return notes for the officer. See ``schedule_problems``."""
    problems, notes = schedule_problems(ann, ward, now, duration_ms=duration_ms)
    if problems:
        cls = UnknownZoneError if problems[0].field == "zones" and "zone" in problems[0].gloss else ScheduleError
        raise cls(f"announcement {ann.id}: " + "; ".join(p.said() for p in problems))
    return notes


# --------------------------------------------------------------------------------------------
# Planning
# --------------------------------------------------------------------------------------------


@dataclass
class _Pending:
    ann: Plannable
    zone: str
    requested: datetime
    release: datetime
    moves: int = 0


def _layout(
    pending: list[_Pending], ws: datetime, we: datetime, gap: timedelta
) -> tuple[list[tuple[_Pending, datetime]], list[_Pending]]:
    """Non-preemptive priority scheduling with release times inside one window: (placed, overflowing)."""
    waiting = sorted(pending, key=lambda p: (p.release, p.ann.queue_seq))
    ready: list[tuple[int, int, str, int, _Pending]] = []
    placed: list[tuple[_Pending, datetime]] = []
    over: list[_Pending] = []
    cursor, i, n = ws, 0, 0
    while i < len(waiting) or ready:
        while i < len(waiting) and waiting[i].release <= cursor:
            p = waiting[i]
            heapq.heappush(ready, (PRIORITY_RANK[p.ann.priority], p.ann.queue_seq, p.requested.isoformat(), n, p))
            i, n = i + 1, n + 1
        if not ready:
            cursor = max(cursor, waiting[i].release)
            continue
        p = heapq.heappop(ready)[-1]
        end = cursor + timedelta(milliseconds=p.ann.duration_ms)
        if end > we:
            over.append(p)  # the window cannot hold it; the rest may still fit (shorter items)
            continue
        placed.append((p, cursor))
        cursor = end + gap
    return placed, over


def plan(
    ward: Ward,
    anns: Iterable[Plannable],
    now: datetime,
    until: datetime,
    *,
    delivered: Mapping[str, datetime] | set[str] | frozenset[str] = frozenset(),
    decided: set[str] | frozenset[str] = frozenset(),
    gap: timedelta = GAP,
    lead: timedelta = LEAD,
    lookback: timedelta = LOOKBACK,
) -> Plan:
    """Everything that plays from ``now`` until ``until``, plus what overflowed or was missed.

    ``delivered``: item ids the nodes already received before their start (they play on their own),
    best with the start last sent to them: once that start has passed, it is the truth (a late
    catch-up item keeps its late start instead of falling back to its window slot).
    ``decided``: item ids already recorded as missed (left out).
    ``lookback``: how far back to look for what was missed (the service passes its downtime).
    """
    tz, grace, quiet = ward.tz, ward.service.missed_grace, ward.service.quiet_hours
    lookback = max(lookback, LOOKBACK)
    start = now - lookback
    zones = {z.id: z for z in ward.zones}
    result = Plan()
    buckets: dict[str, dict[tuple[datetime, datetime], list[_Pending]]] = defaultdict(lambda: defaultdict(list))

    for ann in anns:
        queued = to_utc(ann.queued_at)
        for occ in occurrences(ann.schedule, tz, queued, start, until):
            for zid in ann.zones:
                zone = zones.get(zid)
                if zone is None:
                    continue  # zone removed from the ward file since queueing: nothing to play there
                iid = item_id(ann.id, zid, occ)
                if iid in decided:
                    continue
                if ann.priority == "emergency":
                    if occ < queued - timedelta(minutes=1):
                        continue  # before it existed: never meant to play
                    result.emergencies.append(
                        PlannedItem(iid, ann.id, ann.title, zid, ann.priority, occ, max(occ, queued), ann.duration_ms, None, None)
                    )
                    continue
                win = window_containing(zone, tz, occ)
                if win is None:
                    # "now" outside a window (or windows changed since queueing): the next window
                    win = next_window(zone, tz, occ)
                if win[1] <= queued:
                    continue  # that window was over before the item was queued: never meant to play
                if _expired(ann.schedule, win[0], tz):
                    result.missed.append(_expired_missed(ann, zid, occ, tz))
                    continue
                release = max(win[0], occ, queued + lead)
                buckets[zid][win].append(_Pending(ann, zid, occ, release))

    for zid, by_window in buckets.items():
        zone = zones[zid]
        # windows in time order; overflow adds to later windows, so use a heap of window starts
        todo = sorted(by_window)
        seen = set(todo)
        k = 0
        while k < len(todo):
            ws, we = todo[k]
            k += 1
            placed, over = _layout(by_window[(ws, we)], ws, we, gap)
            for p, st in placed:
                result.items.append(
                    PlannedItem(
                        item_id(p.ann.id, zid, p.requested), p.ann.id, p.ann.title, zid, p.ann.priority, p.requested,
                        st, p.ann.duration_ms, ws, we, p.moves,
                    )
                )
            for p in over:
                if p.moves + 1 > MAX_MOVES:
                    result.overflows.append(Overflow(p.ann.id, p.ann.title, zid, p.requested, ws, None))
                    result.missed.append(
                        Missed(item_id(p.ann.id, zid, p.requested), p.ann.id, zid, p.ann.priority, p.requested, p.ann.duration_ms,
                               f"did not fit {MAX_MOVES + 1} windows in a row")
                    )
                    continue
                nxt = next_window(zone, tz, we)
                if _expired(p.ann.schedule, nxt[0], tz):
                    # the next window is past its last day: it must not drift beyond what the officer asked
                    result.overflows.append(Overflow(p.ann.id, p.ann.title, zid, p.requested, ws, None))
                    result.missed.append(_expired_missed(p.ann, zid, p.requested, tz))
                    continue
                result.overflows.append(Overflow(p.ann.id, p.ann.title, zid, p.requested, ws, nxt[0]))
                if nxt[0] >= until:
                    continue  # beyond the horizon: a later plan places it
                by_window[nxt].append(_Pending(p.ann, zid, p.requested, nxt[0], p.moves + 1))
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
                    todo[k:] = sorted(todo[k:])

    _apply_missed_policy(result, now, delivered, grace, quiet, tz, gap, lead)
    result.items.sort(key=lambda i: (i.zone, i.start))
    result.emergencies.sort(key=lambda i: (i.zone, i.start))
    result.overflows = [o for o in result.overflows if (o.moved_to or o.window_start) >= now - timedelta(days=1)]
    return result


def valid_until(spec: ScheduleSpec, tz: ZoneInfo) -> datetime | None:
    """The end of a daily or weekly schedule's last day (UTC): no airing of it starts later. None
    for one-off and "now" items (bounded by ``MAX_MOVES`` instead)."""
    if spec.kind in ("daily", "weekly") and spec.end_date is not None:
        return datetime.combine(spec.end_date + timedelta(days=1), datetime.min.time(), tz).astimezone(UTC)
    return None


def _expired(spec: ScheduleSpec, window_start: datetime, tz: ZoneInfo) -> bool:
    end = valid_until(spec, tz)
    return end is not None and window_start >= end


def _expired_missed(ann: Plannable, zone: str, requested: datetime, tz: ZoneInfo) -> Missed:
    assert ann.schedule.end_date is not None
    reason = M.EXPIRED.format(end=f"{ann.schedule.end_date:%d/%m/%Y}", requested=_fmt_local(requested, tz))
    return Missed(item_id(ann.id, zone, requested), ann.id, zone, ann.priority, requested, ann.duration_ms, reason)


def _apply_missed_policy(
    result: Plan, now: datetime, delivered: Mapping[str, datetime] | set[str] | frozenset[str], grace: timedelta,
    quiet: Window | None, tz: ZoneInfo, gap: timedelta, lead: timedelta,
) -> None:
    """Past items never delivered: late play within the grace (not in quiet hours), else missed."""
    keep: list[PlannedItem] = []
    late: list[PlannedItem] = []
    sent_starts = delivered if isinstance(delivered, Mapping) else {}
    for it in result.items:
        if it.start < now and it.item_id in sent_starts and sent_starts[it.item_id] != it.start:
            # its slot has passed but the nodes were told another start (a late catch-up): keep that
            it = replace(it, start=sent_starts[it.item_id], late=True)
        if it.start >= now or it.item_id in delivered:
            if it.end > now:  # still to play, or on air: the nodes need it
                keep.append(it)
            continue
        if now - it.start <= grace and not in_quiet_hours(quiet, now, tz):
            late.append(it)
        else:
            why = "quiet hours" if in_quiet_hours(quiet, now, tz) and now - it.start <= grace else f"more than {grace.total_seconds() / 60:.0f} min late"
            result.missed.append(
                Missed(it.item_id, it.announcement_id, it.zone, it.priority, it.requested, it.duration_ms,
                       f"the service was not running at airtime ({why})")
            )
    # late items: one catch-up bulletin per zone from now + lead, priority first then queue order
    by_zone: dict[str, list[PlannedItem]] = defaultdict(list)
    for it in late:
        by_zone[it.zone].append(it)
    for zid, its in by_zone.items():
        busy_until = max([k.end + gap for k in keep if k.zone == zid and k.start <= now + lead] or [now + lead])
        cursor = max(now + lead, busy_until)
        for it in sorted(its, key=lambda i: (PRIORITY_RANK[i.priority], i.start)):
            keep.append(replace(it, start=cursor, window_start=None, window_end=None, late=True))
            cursor = keep[-1].end + gap
    result.items = keep
    em_keep = []
    for e in result.emergencies:
        valid_until = emergency_valid_until(e, grace)
        if e.start >= now or e.item_id in delivered or valid_until > now:
            if valid_until > now:
                em_keep.append(e)
            continue
        result.missed.append(
            Missed(e.item_id, e.announcement_id, e.zone, e.priority, e.requested, e.duration_ms,
                   "the service was not running while the emergency was valid")
        )
    result.emergencies = em_keep


def zone_bulletins(items: Sequence[PlannedItem]) -> dict[tuple[str, datetime | None], list[PlannedItem]]:
    """Group planned items into bulletins: (zone, window start) -> items in play order."""
    out: dict[tuple[str, datetime | None], list[PlannedItem]] = defaultdict(list)
    for it in sorted(items, key=lambda i: (i.zone, i.start)):
        out[(it.zone, it.window_start)].append(it)
    return dict(out)


def day_range(d: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    start = datetime.combine(d, datetime.min.time(), tz)
    return start.astimezone(UTC), (start + timedelta(days=1)).astimezone(UTC)
