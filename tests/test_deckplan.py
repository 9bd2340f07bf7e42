"""Deck cycle and the hotline brought round every 2 minutes, whatever the deck's length."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from broadcaster.deckplan import HOTLINE_PERIOD, Timed, cycle_seconds, interleave_hotline, max_hotline_gap


def slides(n: int, secs: float = 15.0) -> list[Timed[str]]:
    return [Timed(f"s{i}", secs, False) for i in range(n)]


HOT = [Timed("hot", 15.0, True)]


@pytest.mark.parametrize("n", [0, 1, 5, 7, 8, 40, 200])
def test_hotline_at_most_every_two_minutes_whatever_the_length(n: int) -> None:
    out = interleave_hotline(slides(n), HOT)
    assert [t.item for t in out if not t.hotline] == [f"s{i}" for i in range(n)]  # order kept, nothing lost
    gap = max_hotline_gap(out)
    assert gap is not None and gap <= HOTLINE_PERIOD
    if n >= 40:
        # not more often than needed: each gap holds as many slides as fit
        assert gap > HOTLINE_PERIOD - 15 - 1e-9
    assert cycle_seconds(out) == 15.0 * n + 15.0 * sum(t.hotline for t in out)


def test_authors_own_hotline_entries_count_and_two_page_hotline_stays_together() -> None:
    two = [Timed("hot1", 10.0, True), Timed("hot2", 10.0, True)]
    deck = [*two, *slides(3, 20.0), *two, *slides(12, 20.0)]
    out = interleave_hotline(deck, two)
    names = [t.item for t in out]
    for i, name in enumerate(names):
        if name == "hot1":
            assert names[i + 1] == "hot2"
    assert max_hotline_gap(out) <= HOTLINE_PERIOD
    assert names[:7] == ["hot1", "hot2", "s0", "s1", "s2", "hot1", "hot2"]  # the author's placement kept


def test_deck_check_prints_cycle_and_hotline_gap(ward_dir: Path) -> None:
    res = subprocess.run([sys.executable, "-m", "broadcaster", "deck", "check", "playlists/decks/tiep-nhan.toml"],
                         cwd=ward_dir, capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    assert "một vòng" in res.stdout and "đường dây nóng trở lại tối đa sau 2 phút 00 giây" in res.stdout
    assert "khai_sinh" in res.stdout  # an unverified procedure is named as left off


def test_list_shows_each_tvs_cycle(ward_dir: Path) -> None:
    res = subprocess.run([sys.executable, "-m", "broadcaster", "list"], cwd=ward_dir, capture_output=True, text=True,
                         timeout=120)
    assert res.returncode == 0, res.stderr
    assert "TV tv-tnkq: tiep-nhan:" in res.stdout and "một vòng" in res.stdout
