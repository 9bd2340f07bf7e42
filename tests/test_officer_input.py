"""What an officer types that must be refused with a clear error, and what `queue` must say."""

from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from test_planner import Ann

from broadcaster.central import planner
from broadcaster.central.store import Store
from broadcaster.cli.main import main
from broadcaster.config import ScheduleSpec, load_ward
from broadcaster.errors import ConfigError, ScheduleError

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = datetime(2026, 11, 30, 9, tzinfo=TZ).astimezone(UTC)


def test_a_window_ending_before_it_starts_is_refused(ward_dir: Path) -> None:
    wf = ward_dir / "devices" / "ward.toml"
    wf.write_text(wf.read_text(encoding="utf-8").replace('"17:00-18:00"', '"17:00-16:00"', 1), encoding="utf-8")
    with pytest.raises(ConfigError, match="ends before it starts"):
        load_ward()


def test_quiet_hours_may_still_cross_midnight(ward_dir: Path) -> None:
    q = load_ward().service.quiet_hours
    assert q is not None and q.end < q.start  # 21:00-05:00


def test_an_item_longer_than_every_real_window_is_refused(ward_dir: Path) -> None:
    """With 17:00-16:00 taken as a 23-hour window a 30-minute item "fitted" the longest window and
    then overflowed day after day; with the window refused, the 30-minute item is refused at once."""
    wf = ward_dir / "devices" / "ward.toml"
    text = wf.read_text(encoding="utf-8")
    text = re.sub(r'windows = \["05:30-06:30", "17:00-18:00"\]', 'windows = ["05:30-05:50", "17:00-17:20"]', text, count=1)
    wf.write_text(text, encoding="utf-8")
    ward = load_ward()
    at = datetime(2026, 12, 1, 17, 0, tzinfo=TZ)
    zone = next(z for z in ward.zones if str(z.windows[0]) == "05:30-05:50").id
    item = Ann("dai", "normal", (zone,), ScheduleSpec("once", at=at), 1, 1, NOW)
    with pytest.raises(ScheduleError, match="longer than the longest window"):
        planner.validate(item, ward, NOW, duration_ms=30 * 60_000)


@pytest.mark.parametrize(
    "args,why",
    [
        (["--id", "Họp Tổ 6/kp3", "--text", "Mời họp tổ."], "cannot be used"),
        (["--text", "🔥🔥🚒 ‼️"], "biểu tượng cảm xúc (🔥 🚒)"),
        (["--text", "!!! … ???"], "nothing to read out"),
    ],
    ids=["id", "emoji", "signs"],
)
def test_queue_refuses_bad_ids_and_emoji_only_text(ward_dir: Path, capsys: pytest.CaptureFixture[str], args: list[str], why: str) -> None:
    assert main(["keys", "init"]) == 0
    assert main(["queue", "--zones", "kp1", "--now", "--engine", "espeak", *args]) == 1
    assert why in capsys.readouterr().err
    with Store.for_ward(load_ward()) as s:
        assert s.announcements() == []


def test_emoji_are_refused_the_same_way_from_the_command_line_a_file_and_the_console(
        ward_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """One check (``config.pictograph_problem`` in ``check_announcements``) for every way in; the
    console shows the same words beside the field (tests/test_console_http.py)."""
    from broadcaster.config import pictograph_problem

    assert main(["keys", "init"]) == 0
    base = ["queue", "--zones", "kp1", "--now", "--engine", "espeak", "--readings", "1"]
    assert main([*base, "--text", "Mời bà con đi họp 😀 đúng giờ 👍."]) == 1
    err = capsys.readouterr().err
    assert pictograph_problem("Mời bà con đi họp 😀 đúng giờ 👍.", "nội dung") in err  # type: ignore[operator]
    assert "(😀 👍)" in err and "Xóa các biểu tượng" in err
    assert main([*base, "--title", "Họp tổ 🎉", "--text", "Mời bà con đi họp."]) == 1
    assert "Trong tiêu đề có biểu tượng cảm xúc (🎉)" in capsys.readouterr().err
    prog = tmp_path / "emoji.toml"
    prog.write_text('[[announcement]]\nid = "hop-to"\ntitle = "Họp tổ"\ntext = "Họp tổ lúc 19h ⏰."\nzones = ["kp1"]\n'
                    'priority = "normal"\nreadings = 1\nschedule = { kind = "now" }\n', encoding="utf-8")
    assert main(["queue", "--file", str(prog), "--engine", "espeak"]) == 1
    assert "Trong nội dung có biểu tượng cảm xúc (⏰)" in capsys.readouterr().err
    with Store.for_ward(load_ward()) as s:
        assert s.announcements() == []
    # degrees, per cent and ordinary punctuation are not emoji
    ok = "Nhiệt độ 39°C, độ ẩm 85% – «nắng nóng»; uống đủ nước (2 lít/ngày)! №1 © UBND."
    assert pictograph_problem(ok, "nội dung") is None
    assert main([*base, "--title", "Nắng nóng: 39°C", "--text", ok]) == 0
    with Store.for_ward(load_ward()) as s:
        assert [a.title for a in s.announcements()] == ["Nắng nóng: 39°C"]


def test_queue_says_when_no_service_runs(ward_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["keys", "init"]) == 0
    assert main(["queue", "--zones", "kp1", "--now", "--engine", "espeak", "--readings", "1", "--text", "Mời họp tổ."]) == 0
    out = capsys.readouterr().out
    assert "KHÔNG chạy" in out and "sends it to the nodes within seconds" not in out


def test_the_demo_ward_restarts_a_node_that_died(tmp_path: Path) -> None:
    from broadcaster.demo import Ward as DemoWard

    w = DemoWard(tmp_path, "espeak")
    (tmp_path / "logs").mkdir()
    w.spawn("kp1-loa1", "normalize", "UBND")  # a device process that exits at once
    w.spawn("central", "normalize", "--help")
    try:
        first = w.procs[0][1]
        first.wait(30)
        w.procs[1][1].wait(30)
        w.procs[1] = ("central", subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"]))
        assert w.supervise()  # the dead node is started again, the ward goes on
        assert w.restarts == {"kp1-loa1": 1} and all(p is not first for _n, p in w.procs)
        w.procs[-1][1].wait(30)
        central = next(p for n, p in w.procs if n == "central")
        central.kill()
        central.wait(10)
        assert not w.supervise()  # without its central the demo stops
    finally:
        for _n, p in w.procs:
            if p.poll() is None:
                p.kill()


# --- finding 13, the rest: an item that cannot fit, and one that would drift past its last day ---------


def _short_evening(ward_dir: Path) -> None:
    """kp1..kp4 (the ward's default windows): a 60-minute morning and a 20-minute evening."""
    wf = ward_dir / "devices" / "ward.toml"
    text = wf.read_text(encoding="utf-8")
    text = re.sub(r'windows = \["05:30-06:30", "17:00-18:00"\]', 'windows = ["05:30-06:30", "17:00-17:20"]', text, count=1)
    wf.write_text(text, encoding="utf-8")


def test_an_item_longer_than_the_window_its_time_falls_in_is_refused(ward_dir: Path) -> None:
    """30 minutes at 17:00 in a 20-minute evening window: it could never air at 17:00 and overflowed
    to the next morning, every day. Refused, in Vietnamese, naming the window and what to do; the
    console says the same words beside the text."""
    _short_evening(ward_dir)
    ward = load_ward()
    daily = ScheduleSpec("daily", times=(time(17),), start_date=date(2026, 12, 1),
                         end_date=date(2026, 12, 3))
    item = Ann("dai", "normal", ("kp1",), daily, 1, 1, NOW)
    with pytest.raises(ScheduleError) as info:
        planner.validate(item, ward, NOW, duration_ms=30 * 60_000)
    msg = str(info.value)
    assert "hơn khung giờ 17:00-17:20 (20 phút) chứa giờ phát 17:00" in msg and "05:30-06:30" in msg, msg
    problems, _ = planner.schedule_problems(item, ward, NOW, duration_ms=30 * 60_000)
    assert [p.field for p in problems] == ["text"]
    # 15 minutes fit the evening window: accepted; 30 minutes at 05:45 fit the morning one: accepted
    planner.validate(item, ward, NOW, duration_ms=15 * 60_000)
    morning = ScheduleSpec("daily", times=(time(5, 45),), start_date=daily.start_date,
                           end_date=daily.end_date)
    planner.validate(Ann("sang", "normal", ("kp1",), morning, 1, 1, NOW), ward, NOW, duration_ms=30 * 60_000)
    # an emergency ignores windows
    planner.validate(Ann("kc", "emergency", ("kp1",), daily, 1, 1, NOW), ward, NOW, duration_ms=30 * 60_000)


def _last_day_full(ward: object) -> list[Ann]:
    """Two 25-minute priority items fill kp2's evening of 01/12; a 25-minute daily item whose last day
    is 01/12 no longer fits that evening."""
    at = ScheduleSpec("once", at=datetime(2026, 12, 1, 17, tzinfo=TZ))
    daily = ScheduleSpec("daily", times=(time(17),), start_date=date(2026, 11, 30),
                         end_date=date(2026, 12, 1))
    return [Ann("n1", "priority", ("kp2",), at, 25 * 60_000, 1, NOW), Ann("n2", "priority", ("kp2",), at, 25 * 60_000, 2, NOW),
            Ann("hang-ngay", "normal", ("kp2",), daily, 25 * 60_000, 3, NOW)]


def test_a_daily_item_never_drifts_past_its_last_day(ward_dir: Path) -> None:
    ward = load_ward()
    p = planner.plan(ward, _last_day_full(ward), NOW, NOW + timedelta(days=4))
    last = datetime(2026, 12, 2, tzinfo=TZ)
    daily = [i for i in p.items if i.announcement_id == "hang-ngay"]
    assert [i.start for i in daily] == [datetime(2026, 11, 30, 17, tzinfo=TZ)]  # its first day; nothing after 01/12
    assert all(i.start < last for i in p.items)
    [gone] = [m for m in p.missed if m.announcement_id == "hang-ngay"]
    assert gone.item_id == "hang-ngay.kp2.20261201T1000Z" and gone.reason.startswith("Hết thời hạn")
    assert "01/12/2026" in gone.reason
    assert [(o.announcement_id, o.moved_to) for o in p.overflows] == [("hang-ngay", None)]
    # a one-off item (no last day) still moves to the next window, as before
    once = [replace(a, schedule=ScheduleSpec("once", at=datetime(2026, 12, 1, 17, tzinfo=TZ))) for a in _last_day_full(ward)]
    p = planner.plan(ward, once, NOW, NOW + timedelta(days=4))
    assert [(o.announcement_id, o.moved_to) for o in p.overflows] == [("hang-ngay", datetime(2026, 12, 2, 5, 30, tzinfo=TZ))]


def _store_anns(store: Store, tmp: Path, anns: list[Ann]) -> None:
    from broadcaster.central.store import StoredAnnouncement
    from broadcaster.media import MediaStore

    media = MediaStore(tmp / "media-test")
    for a in anns:
        f = tmp / f"{a.id}.mp3"
        f.write_bytes(b"ID3" + a.id.encode() * 50)
        m = store.add_media(media.put_file(f))
        store.add_announcement(StoredAnnouncement(
            id=a.id, title=f"Thông báo {a.id}", text="Mời bà con.", spoken_text="mời bà con", priority=a.priority,
            readings=1, chime=False, show_on_tv=False, zones=a.zones, schedule=a.schedule, audio=m.name,
            duration_ms=a.duration_ms, engine="espeak", slides=(), queue_seq=0, queued_at=a.queued_at))


def test_list_shows_an_expired_airing_as_not_airable_never_pending(ward_dir: Path, tmp_path: Path) -> None:
    from broadcaster.cli.list_cmd import report

    ward = load_ward()
    with Store.for_ward(ward) as s:
        _store_anns(s, tmp_path, _last_day_full(ward))
        # on its last morning: its only airing left cannot fit
        at = datetime(2026, 12, 1, 9, tzinfo=TZ).astimezone(UTC)
        text = "\n".join(report(ward, s, at, days=3))
        row = next(line for line in text.splitlines() if line.startswith("hang-ngay"))
        assert "không phát được (hết thời hạn)" in row and not re.search(r"\d\d:\d\d \d\d/\d\d$", row), text
        assert "Không phát được / not airable" in text and "hang-ngay: Hết thời hạn" in text
        # once the service recorded it (as `serve` does), it is still said, not "none in the coming days"
        p = planner.plan(ward, s.announcements(), at, at + timedelta(days=3))
        s.record_missed(p.missed, "missed")
        text = "\n".join(report(ward, s, at, days=3))
        row = next(line for line in text.splitlines() if line.startswith("hang-ngay"))
        assert "không phát được (hết thời hạn)" in row, text
        # after its last day, an ended schedule says so
        later = datetime(2026, 12, 5, 9, tzinfo=TZ).astimezone(UTC)
        assert "không phát được" in next(line for line in report(ward, s, later)[0].splitlines() if line.startswith("hang-ngay"))


def test_the_console_week_shows_the_expired_airing_with_its_reason(ward_dir: Path, tmp_path: Path) -> None:
    from console_support import make_console

    con = make_console(ward_dir)  # its clock: 17:10 01/12/2026
    base = datetime(2026, 12, 3, tzinfo=TZ)
    at = ScheduleSpec("once", at=base.replace(day=4, hour=17))
    daily = ScheduleSpec("daily", times=(base.replace(hour=17).time(),), start_date=base.date(), end_date=base.date() + timedelta(days=1))
    queued = datetime(2026, 11, 30, 9, tzinfo=TZ)
    _store_anns(con.store, tmp_path, [Ann("n1", "priority", ("kp2",), at, 25 * 60_000, 1, queued),
                                      Ann("n2", "priority", ("kp2",), at, 25 * 60_000, 2, queued),
                                      Ann("hang-ngay", "normal", ("kp2",), daily, 25 * 60_000, 3, queued)])
    page = con.client("quantri").get("/console/week?zone=kp2&date=2026-12-04").text
    assert "Hết thời hạn: không khung giờ nào đến hết ngày 04/12/2026 còn chỗ" in page, page[:2000]
