"""What an officer types that must be refused with a clear error, and what `queue` must say."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from broadcaster.central import planner
from broadcaster.central.store import Store
from broadcaster.cli.main import main
from broadcaster.config import ScheduleSpec, load_ward
from broadcaster.errors import ConfigError, ScheduleError
from test_planner import Ann

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = datetime(2026, 11, 30, 9, tzinfo=TZ).astimezone(timezone.utc)


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
