"""The intelligibility bench's scoring, and one real round trip through the offline recogniser."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.announcements import CATEGORIES, ITEMS
from benchmarks.intelligibility import Recogniser, Score, edit_distance, measure_natural, measure_voice, syllables
from broadcaster.tts.espeak_engine import EspeakEngine


def test_the_set_covers_every_category_with_enough_items() -> None:
    assert len(ITEMS) >= 20 and len({i.id for i in ITEMS}) == len(ITEMS)
    for c in CATEGORIES:
        assert sum(i.category == c for i in ITEMS) >= 4


def test_syllable_error_rate() -> None:
    assert syllables("Bảy giờ, ba mươi phút.") == ["bảy", "giờ", "ba", "mươi", "phút"]
    assert edit_distance(["a", "b", "c"], ["a", "x", "c", "d"]) == 2
    s = Score()
    s.add("t", "bảy giờ ba mươi phút", "bài giờ ba mươi")  # a tone wrong, a syllable lost
    assert s.errors == 2 and s.total == 5 and s.ser == pytest.approx(40.0)
    s.add("u", "mười lăm phút", "15 phút")  # digits the recogniser writes are read out first
    assert s.items["u"] == 0.0


def test_a_real_round_trip_through_the_recogniser(tmp_path: Path) -> None:
    pytest.importorskip("vietasr", reason="the bench extra (viet-asr) is not installed")
    rec = Recogniser()
    items = [i for i in ITEMS if i.id == "p3"]  # "báo cháy gọi số một một bốn": short
    scores = measure_voice(
        type("V", (), {"label": "espeak", "engine": EspeakEngine()})(), rec, items, tmp_path  # type: ignore[arg-type]
    )
    assert scores["all"].total == len("báo cháy gọi số một một bốn".split())
    assert 0.0 <= scores["all"].ser <= 200.0 and scores["phones"].total == scores["all"].total
    assert scores["all"].heard["p3"]  # the recogniser heard something
    # a "natural" folder with that clip as the only recording: measured the same way, the rest skipped
    (tmp_path / "nat").mkdir()
    (tmp_path / "p3.mp3").rename(tmp_path / "nat" / "p3.mp3")
    nat, missing = measure_natural(tmp_path / "nat", rec, ITEMS)
    assert nat["all"].total == scores["all"].total and len(missing) == len(ITEMS) - 1
    assert nat["all"].ser == pytest.approx(scores["all"].ser)
