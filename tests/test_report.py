"""The monthly as-run report: counting per zone and announcement, CSV + HTML with SVG, bad month."""

from __future__ import annotations

import csv
from datetime import datetime, timedelta, timezone
from pathlib import Path
from xml.etree import ElementTree

import pytest

from broadcaster import protocol
from broadcaster.central import planner
from broadcaster.central.report import build_report, write_report
from broadcaster.central.store import Store
from broadcaster.cli.main import main
from broadcaster.config import load_ward
from broadcaster.errors import ConfigError

UTC = timezone.utc


def _item(ann: str, zone: str, start: datetime) -> planner.PlannedItem:
    return planner.PlannedItem(planner.item_id(ann, zone, start), ann, ann, zone, "normal", start, start, 30_000, None, None)


def test_report_counts_and_files(ward_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ward = load_ward()
    t1 = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)  # 17:00 local
    t2 = t1 + timedelta(days=1)
    with Store.for_ward(ward) as s:
        s.sync_ward(ward)
        items = [_item("a", "kp1", t1), _item("a", "kp2", t1), _item("a", "kp1", t2), _item("b", "kp3", t2)]
        s.record_plan(items, delivered_at=t1 - timedelta(hours=1))
        now = t2 + timedelta(hours=2)

        def ev(eid: str, dev: str, it: planner.PlannedItem, kind: str, reason: str = "") -> None:
            e = protocol.AsRunEvent(eid, dev, it.item_id, it.announcement_id, kind, it.start, it.start, it.end, reason)
            s.add_event(e, zone=it.zone, received_at=now)

        ev("1", "kp1-loa1", items[0], "played")
        ev("1", "kp1-loa1", items[0], "played")  # re-sent: once
        ev("2", "kp2-loa1", items[1], "failed", "amplifier off")
        ev("3", "kp1-loa1", items[2], "interrupted", "emergency")
        # items[3]: nothing reported -> missed
        rep = build_report(ward, s, "2026-12", now=now)
    z = rep.by_zone()
    assert (z["kp1"]["played"], z["kp1"]["interrupted"], z["kp2"]["failed"], z["kp3"]["missed"]) == (1, 1, 1, 1)
    a = rep.by_announcement()
    assert sum(a["a"][3].values()) == 3 and a["b"][3]["missed"] == 1
    paths = write_report(rep, tmp_path / "out")
    zones_csv = next(p for p in paths if p.name.endswith("khu-pho.csv"))
    rows = list(csv.reader(open(zones_csv, encoding="utf-8-sig")))
    kp1 = next(r for r in rows if r[0] == "kp1")
    assert kp1[1] == "Khu phố 1" and kp1[2] == "2" and kp1[3] == "1"
    page = next(p for p in paths if p.suffix == ".html").read_text(encoding="utf-8")
    assert "Báo cáo kết quả phát thanh tháng 12/2026" in page and "amplifier off" in page
    svg = page[page.index("<svg") : page.index("</svg>") + 6]
    ElementTree.fromstring(svg)  # well-formed SVG
    # the command line: writes the files, refuses a bad month
    assert main(["report", "--month", "2026-12", "--out", str(tmp_path / "cli")]) == 0
    assert len(list((tmp_path / "cli").iterdir())) == 4
    assert main(["report", "--month", "12/2026", "--out", str(tmp_path / "vi")]) == 0  # the way an officer writes it
    assert len(list((tmp_path / "vi").iterdir())) == 4
    assert main(["report", "--month", "13/2026"]) == 1
    assert "YYYY-MM" in capsys.readouterr().err
    with pytest.raises(ConfigError):
        build_report(ward, Store.for_ward(ward), "2026-00")


def test_an_item_that_overflowed_into_the_next_month_is_counted_once(ward_dir: Path) -> None:
    """Asked for 31/12 17:00, aired 01/01 05:30 after an overflow: December's item, played once."""
    ward = load_ward()
    asked = datetime(2026, 12, 31, 10, 0, tzinfo=UTC)  # 17:00 local on the 31st
    aired = datetime(2026, 12, 31, 22, 30, tzinfo=UTC)  # 05:30 local on 1 January
    it = planner.PlannedItem(planner.item_id("a", "kp1", asked), "a", "a", "kp1", "normal", asked, aired, 30_000, None, None)
    with Store.for_ward(ward) as s:
        s.sync_ward(ward)
        s.record_plan([it], delivered_at=asked - timedelta(hours=1))
        s.add_event(protocol.AsRunEvent("e", "kp1-loa1", it.item_id, "a", "played", aired, aired, it.end),
                    zone="kp1", received_at=aired)
        now = aired + timedelta(days=2)
        dec, jan = build_report(ward, s, "2026-12", now=now), build_report(ward, s, "2027-01", now=now)
    assert dec.by_zone()["kp1"]["played"] == 1 and dec.by_zone()["kp1"]["missed"] == 0
    assert "kp1" not in jan.by_zone() or sum(jan.by_zone()["kp1"].values()) == 0
