"""The planner's rules: windows, priority order, overflow, missed policy, local time, refusals."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from broadcaster.central import planner
from broadcaster.config import ScheduleSpec, Ward, load_ward
from broadcaster.errors import ScheduleError, UnknownZoneError

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
UTC = timezone.utc


@dataclass(frozen=True)
class Ann:
    id: str
    priority: str
    zones: tuple[str, ...]
    schedule: ScheduleSpec
    duration_ms: int
    queue_seq: int
    queued_at: datetime
    title: str = "t"


def local(y: int, mo: int, d: int, h: int, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=TZ)


@pytest.fixture
def ward(ward_dir: Path) -> Ward:
    return load_ward()


QUEUED = local(2026, 11, 30, 9).astimezone(UTC)


def once(at: datetime) -> ScheduleSpec:
    return ScheduleSpec("once", at=at)


def test_local_time_is_ho_chi_minh_without_dst(ward: Ward) -> None:
    spec = ScheduleSpec("daily", times=(time(17, 0),), start_date=date(2026, 1, 1), end_date=date(2026, 12, 31))
    occ = planner.occurrences(spec, TZ, QUEUED, datetime(2026, 1, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC))
    assert len(occ) == 365
    assert {o.hour for o in occ} == {10}  # 17:00 at UTC+7 every day of the year, no DST shift
    assert occ[0] == datetime(2026, 1, 1, 10, 0, tzinfo=UTC)


def test_weekly_expands_on_weekdays_only(ward: Ward) -> None:
    spec = ScheduleSpec("weekly", times=(time(5, 30),), start_date=date(2026, 11, 30), end_date=date(2026, 12, 13), weekdays=(0, 3))
    occ = planner.occurrences(spec, TZ, QUEUED, QUEUED - timedelta(days=1), QUEUED + timedelta(days=30))
    assert [o.astimezone(TZ).date() for o in occ] == [date(2026, 11, 30), date(2026, 12, 3), date(2026, 12, 7), date(2026, 12, 10)]


def test_priority_first_then_queue_order_back_to_back(ward: Ward) -> None:
    at = once(local(2026, 12, 1, 17, 0))
    anns = [
        Ann("n1", "normal", ("kp1",), at, 60_000, 1, QUEUED),
        Ann("n2", "normal", ("kp1",), at, 60_000, 2, QUEUED),
        Ann("p1", "priority", ("kp1",), at, 60_000, 3, QUEUED),
    ]
    now = QUEUED + timedelta(minutes=1)
    p = planner.plan(ward, anns, now, now + timedelta(days=2))
    items = p.for_zone("kp1")
    assert [i.announcement_id for i in items] == ["p1", "n1", "n2"]
    assert items[0].start == local(2026, 12, 1, 17, 0)
    assert items[1].start == items[0].end + planner.GAP
    assert items[2].start == items[1].end + planner.GAP
    assert all(i.window_end == local(2026, 12, 1, 18, 0) for i in items)


def test_typed_time_inside_window_is_the_earliest_start(ward: Ward) -> None:
    anns = [
        Ann("a", "normal", ("kp4",), once(local(2026, 12, 5, 17, 10)), 60_000, 1, QUEUED),
        Ann("b", "priority", ("kp4",), once(local(2026, 12, 5, 17, 30)), 60_000, 2, QUEUED),
    ]
    p = planner.plan(ward, anns, QUEUED, QUEUED + timedelta(days=7))
    got = {i.announcement_id: i.start for i in p.items}
    assert got == {"a": local(2026, 12, 5, 17, 10), "b": local(2026, 12, 5, 17, 30)}


def test_adding_a_priority_item_never_moves_one_already_started(ward: Ward) -> None:
    at = once(local(2026, 12, 1, 17, 0))
    base = [Ann("n1", "normal", ("kp1",), at, 10 * 60_000, 1, QUEUED), Ann("n2", "normal", ("kp1",), at, 10 * 60_000, 2, QUEUED)]
    before = {i.announcement_id: i.start for i in planner.plan(ward, base, QUEUED, QUEUED + timedelta(days=2)).items}
    mid = local(2026, 12, 1, 17, 5).astimezone(UTC)  # n1 on air
    late_prio = Ann("p", "priority", ("kp1",), ScheduleSpec("now"), 60_000, 3, mid)
    after = planner.plan(ward, [*base, late_prio], mid, mid + timedelta(days=2), delivered={"n1.kp1.20261201T1000Z", "n2.kp1.20261201T1000Z"})
    got = {i.announcement_id: i.start for i in after.items}
    assert got["n1"] == before["n1"]  # on air: untouched
    assert got["p"] == before["n1"] + timedelta(minutes=10) + planner.GAP  # first after the item on air
    assert got["n2"] > got["p"]


def test_overflow_moves_to_next_window_and_is_reported(ward: Ward) -> None:
    at = once(local(2026, 12, 1, 17, 0))
    anns = [Ann(f"n{k}", "normal", ("kp2",), at, 25 * 60_000, k, QUEUED) for k in range(1, 4)]
    p = planner.plan(ward, anns, QUEUED, QUEUED + timedelta(days=3))
    assert [(o.announcement_id, o.moved_to) for o in p.overflows] == [("n3", local(2026, 12, 2, 5, 30))]
    n3 = [i for i in p.items if i.announcement_id == "n3"][0]
    assert n3.start == local(2026, 12, 2, 5, 30) and n3.moves == 1


def test_emergency_ignores_windows(ward: Ward) -> None:
    night = local(2026, 12, 1, 23, 40)
    anns = [Ann("e", "emergency", ("kp1", "kp2"), once(night), 60_000, 1, QUEUED)]
    p = planner.plan(ward, anns, QUEUED, QUEUED + timedelta(days=2))
    assert not p.items
    assert [(e.zone, e.start) for e in p.emergencies] == [("kp1", night), ("kp2", night)]


def test_missed_policy_grace_then_missed_never_in_quiet_hours(ward: Ward) -> None:
    at = once(local(2026, 12, 1, 17, 0))
    anns = [Ann("n", "normal", ("kp1",), at, 60_000, 1, QUEUED)]
    # service comes back 5 min after airtime (grace is 10): plays late, at once
    back = local(2026, 12, 1, 17, 5).astimezone(UTC)
    p = planner.plan(ward, anns, back, back + timedelta(days=2))
    assert len(p.items) == 1 and p.items[0].late and p.items[0].start == back + planner.LEAD
    # 30 min late: missed, not played
    back = local(2026, 12, 1, 17, 30).astimezone(UTC)
    p = planner.plan(ward, anns, back, back + timedelta(days=2))
    assert not p.items and [m.item_id for m in p.missed] == ["n.kp1.20261201T1000Z"]
    # delivered before the outage: the node plays it by itself; nothing to do, nothing missed
    p = planner.plan(ward, anns, back, back + timedelta(days=2), delivered={"n.kp1.20261201T1000Z"})
    assert not p.missed
    # an evening window that ends in quiet hours: 5 min late at 21:03 is still not played at night
    evening = replace(ward.zones[0], windows=(ward.zones[0].windows[0].__class__(time(20, 30), time(21, 30)),))
    w2 = replace(ward, zones=(evening, *ward.zones[1:]))
    anns = [Ann("x", "normal", ("kp1",), once(local(2026, 12, 1, 20, 58)), 60_000, 1, QUEUED)]
    back = local(2026, 12, 1, 21, 3).astimezone(UTC)
    p = planner.plan(w2, anns, back, back + timedelta(days=2))
    assert not p.items and "quiet hours" in p.missed[0].reason


def test_validate_refuses_what_cannot_play(ward: Ward) -> None:
    now = QUEUED
    with pytest.raises(ScheduleError, match="in the past"):
        planner.validate(Ann("a", "normal", ("kp1",), once(local(2026, 11, 29, 17)), 1, 1, now), ward, now)
    with pytest.raises(ScheduleError, match="outside every broadcast window"):
        planner.validate(Ann("a", "normal", ("kp1",), once(local(2026, 12, 1, 12)), 1, 1, now), ward, now)
    with pytest.raises(UnknownZoneError, match="kp99"):
        planner.validate(Ann("a", "normal", ("kp99",), once(local(2026, 12, 1, 17)), 1, 1, now), ward, now)
    with pytest.raises(ScheduleError, match="longer than the longest window"):
        planner.validate(Ann("a", "normal", ("kp1",), once(local(2026, 12, 1, 17)), 1, 1, now), ward, now, duration_ms=61 * 60_000)
    past = ScheduleSpec("daily", times=(time(17),), start_date=date(2026, 11, 1), end_date=date(2026, 11, 20))
    with pytest.raises(ScheduleError, match="in the past"):
        planner.validate(Ann("a", "normal", ("kp1",), past, 1, 1, now), ward, now)
    # an emergency may be at night; "now" outside a window is accepted with a note
    planner.validate(Ann("e", "emergency", ("kp1",), once(local(2026, 12, 1, 23)), 1, 1, now), ward, now)
    notes = planner.validate(Ann("n", "normal", ("kp1",), ScheduleSpec("now"), 1, 1, now), ward, now)
    assert notes and "khung giờ kế tiếp" in notes[0]


def test_window_crossing_midnight(ward: Ward) -> None:
    night = replace(ward.zones[0], windows=(ward.zones[0].windows[0].__class__(time(23, 30), time(0, 30)),))
    w = planner.window_containing(night, TZ, local(2026, 12, 2, 0, 10).astimezone(UTC))
    assert w == (local(2026, 12, 1, 23, 30).astimezone(UTC), local(2026, 12, 2, 0, 30).astimezone(UTC))


def test_late_item_keeps_its_late_start_once_delivered(ward: Ward) -> None:
    anns = [Ann("n", "normal", ("kp1",), once(local(2026, 12, 1, 17, 0)), 60_000, 1, QUEUED)]
    back = local(2026, 12, 1, 17, 5).astimezone(UTC)
    first = planner.plan(ward, anns, back, back + timedelta(days=2))
    late = first.items[0]
    assert late.late
    # the next re-plan, a few seconds later, after the late start was sent to the nodes
    again = planner.plan(ward, anns, back + timedelta(seconds=40), back + timedelta(days=2), delivered={late.item_id: late.start})
    assert [(i.item_id, i.start) for i in again.items] == [(late.item_id, late.start)] and not again.missed


def test_long_outage_reports_everything_missed(ward: Ward) -> None:
    spec = ScheduleSpec("daily", times=(time(17, 0),), start_date=date(2026, 12, 1), end_date=date(2026, 12, 10))
    anns = [Ann("d", "normal", ("kp1",), spec, 60_000, 1, QUEUED)]
    back = local(2026, 12, 6, 9).astimezone(UTC)  # down since before the 1st
    short = planner.plan(ward, anns, back, back + timedelta(days=2))
    full = planner.plan(ward, anns, back, back + timedelta(days=2), lookback=back - QUEUED)
    assert len(short.missed) == 2 and len(full.missed) == 5  # 1st..5th December
