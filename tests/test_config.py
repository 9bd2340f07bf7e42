"""The officer's files: the example ward and programme load, and every wrong value names file and key."""

from __future__ import annotations

from datetime import date, time
from pathlib import Path

import pytest

from broadcaster.config import load_announcements, load_deck, load_ward, parse_clock
from broadcaster.errors import ConfigError, UnknownZoneError

ROOT = Path(__file__).resolve().parent.parent
WARD = ROOT / "devices" / "ward.toml"


def test_example_ward_loads() -> None:
    ward = load_ward(WARD, env={})
    assert ward.id == "p1-quangtri"
    assert [z.id for z in ward.zones] == [f"kp{n}" for n in range(1, 7)]
    assert str(ward.zone("kp1").windows[0]) == "05:30-06:30"
    assert str(ward.zone("kp5").windows[0]) == "05:15-06:15"  # its own windows
    assert len(ward.speakers()) == 6 and [d.id for d in ward.displays()] == ["tv-tnkq"]
    assert ward.service.home == (ROOT / "var").resolve()
    assert ward.tz.key == "Asia/Ho_Chi_Minh"
    assert ward.feedback_url == "https://dichvucong.gov.vn"


def test_environment_overrides(tmp_path: Path) -> None:
    ward = load_ward(WARD, env={"BROADCASTER_MQTT_URL": "mqtt://broker.example:1884", "BROADCASTER_HOME": str(tmp_path)})
    assert ward.service.mqtt_url == "mqtt://broker.example:1884"
    assert ward.service.home == tmp_path
    with pytest.raises(ConfigError, match="BROADCASTER_MQTT_URL"):
        load_ward(WARD, env={"BROADCASTER_MQTT_URL": "http://nope"})


def test_example_programme_and_deck_load() -> None:
    ward = load_ward(WARD, env={})
    anns = load_announcements(ROOT / "playlists" / "announcements" / "example.toml", ward)
    by_id = {a.id: a for a in anns}
    assert by_id["cchc-dvc"].zones == tuple(z.id for z in ward.zones)
    assert by_id["cchc-dvc"].schedule.kind == "daily" and by_id["cchc-dvc"].schedule.start_date == date(2026, 12, 1)
    assert by_id["tiem-chung-12"].schedule.weekdays == (0, 3)
    assert by_id["bao-lu"].priority == "emergency" and by_id["bao-lu"].schedule.kind == "now"
    deck = load_deck(ROOT / "playlists" / "decks" / "tiep-nhan.toml")
    assert [e.kind for e in deck.entries] == ["hotline", "catalog", "text"]


def _ward_with(tmp_path: Path, old: str, new: str) -> Path:
    text = WARD.read_text(encoding="utf-8")
    assert old in text
    p = tmp_path / "devices" / "ward.toml"
    p.parent.mkdir(parents=True)
    p.write_text(text.replace(old, new, 1), encoding="utf-8")
    return p


@pytest.mark.parametrize(
    ("old", "new", "key"),
    [
        ('windows = ["05:30-06:30", "17:00-18:00"]', 'windows = ["05:30-25:00"]', "broadcast.windows[0]"),
        ('zone = "kp2"', 'zone = "kp9"', "devices[1].zone"),
        ('kind = "speaker"', 'kind = "radio"', "devices[0].kind"),
        ('id = "kp3"', 'id = "KP 3"', "zones[2].id"),
        ("volume = 70", "volume = 170", "devices[5].volume"),
        ('timezone = "Asia/Ho_Chi_Minh"', 'timezone = "Asia/Hanoi_City"', "ward.timezone"),
        ('hotline = "0233 3000 000"', "hotline = 2333000000", "ward.hotline"),
        ('feedback_url = "https://dichvucong.gov.vn"', 'feedback_url = "dichvucong.gov.vn"', "ward.feedback_url"),
    ],
)
def test_ward_errors_name_file_and_key(tmp_path: Path, old: str, new: str, key: str) -> None:
    p = _ward_with(tmp_path, old, new)
    with pytest.raises(ConfigError) as info:
        load_ward(p, env={})
    assert info.value.key == key
    assert str(p) in str(info.value)


def test_toml_syntax_error_is_explained(tmp_path: Path) -> None:
    p = _ward_with(tmp_path, 'name = "Khu phố 1"', 'name = "Khu phố 1')
    with pytest.raises(ConfigError, match=r"\(syntax\).*line"):
        load_ward(p, env={})


def _programme(tmp_path: Path, body: str) -> Path:
    p = tmp_path / "p.toml"
    p.write_text(body, encoding="utf-8")
    return p


@pytest.mark.parametrize(
    ("body", "key", "hint"),
    [
        ('[[announcement]]\nid="a"\ntitle="t"\ntext="x"\nzones=["kp9"]\n', "announcement[0].zones[0]", "kp1"),
        ('[[announcement]]\nid="a"\ntitle="t"\ntext="x"\npriority="urgent"\n', "announcement[0].priority", "emergency"),
        ('[[announcement]]\nid="a"\ntitle="t"\ntext="x"\nschedule={kind="once", at="31/02/2026 17:00"}\n', "announcement[0].schedule.at", "DD/MM/YYYY"),
        ('[[announcement]]\nid="a"\ntitle="t"\ntext="x"\nschedule={kind="daily", times=["17:00"], from="05/12/2026", until="01/12/2026"}\n', "announcement[0].schedule.until", "Ngày kết thúc 01/12/2026 trước ngày bắt đầu"),
        ('[[announcement]]\nid="a"\ntitle="t"\ntext="x"\nschedule={kind="weekly", times=["17:00"], from="01/12/2026", until="09/12/2026", weekdays=["t8"]}\n', "announcement[0].schedule.weekdays[0]", "t2"),
        ('[[announcement]]\nid="a"\ntitle="t"\ntext=""\n', "announcement[0].text", "Chưa có nội dung"),
        ('[[announcement]]\nid="a"\ntitle="t"\ntext="x"\nreadings=0\n', "announcement[0].readings", "từ 1 đến 5"),
    ],
)
def test_announcement_errors(tmp_path: Path, body: str, key: str, hint: str) -> None:
    ward = load_ward(WARD, env={})
    with pytest.raises(ConfigError) as info:
        load_announcements(_programme(tmp_path, body), ward)
    assert info.value.key == key
    assert hint in str(info.value)


def test_unknown_zone_lookup_lists_known_zones() -> None:
    ward = load_ward(WARD, env={})
    with pytest.raises(UnknownZoneError, match="kp1, kp2"):
        ward.zone("kp7")


@pytest.mark.parametrize(("s", "t"), [("17:00", time(17)), ("7h30", time(7, 30)), ("7h", time(7)), ("07g05", time(7, 5)), ("17:00:20", time(17, 0, 20)), ("24:00", None), ("7.30", None)])
def test_clock_formats(s: str, t: time | None) -> None:
    assert parse_clock(s) == t


def test_every_mistake_of_a_programme_file_is_named_at_once(tmp_path: Path) -> None:
    from broadcaster.announce.spec import AnnouncementInputError

    ward = load_ward(WARD, env={})
    body = ('[[announcement]]\nid = "Họp Tổ 6/kp3"\ntitle = "t"\ntext = "x"\nreadings = 9\n\n'
            '[[announcement]]\nid = "b"\ntitle = "t"\n# a comment\n'
            'schedule = { kind = "daily", times = ["17:00", "25:00"], from = "01/12/2026" }\ntext = "x"\n\n'
            '[[announcement]]\nid = "c"\ntitle = "t"\ntext = "x"\nchime = "có"\n')
    with pytest.raises(AnnouncementInputError) as info:
        load_announcements(_programme(tmp_path, body), ward)
    where = [p.where for p in info.value.problems]
    assert where == ["announcement[0].id", "announcement[0].readings", "announcement[1].schedule.times[1]",
                     "announcement[1].schedule.until", "announcement[2].chime"], where
    assert "Thiếu «Đến ngày»" in str(info.value) and "«25:00» không phải giờ" in str(info.value)
    # and on which line: the key's, or its [[announcement]] header's when the key is missing
    assert [p.line for p in info.value.problems] == [2, 5, 11, 11, 18]
    assert "announcement[1].schedule.times[1] (dòng 11): «25:00»" in str(info.value)
