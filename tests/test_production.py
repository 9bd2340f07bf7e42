"""The preparation pipeline for real: normalise, espeak-ng, ffmpeg, Pillow, the media store."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from PIL import Image

from broadcaster.catalog import load_catalog
from broadcaster.deckplan import HOTLINE_PERIOD, Timed, cycle_seconds, max_hotline_gap

from broadcaster.config import load_announcements, load_deck, load_ward
from broadcaster.media import MediaStore, sha256_file
from broadcaster.production import Producer


def _probe_seconds(path: Path) -> float:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "format=duration:stream=codec_name", "-of", "json", str(path)],
        check=True, capture_output=True, text=True,
    ).stdout
    info = json.loads(out)
    assert info["streams"][0]["codec_name"] == "mp3"
    return float(info["format"]["duration"])


def test_render_command_writes_playable_mp3_and_slide(tmp_path: Path, ward_dir: Path) -> None:
    out = tmp_path / "out"
    text = "UBND phường thông báo: lúc 7h30 ngày 05/12/2026 tiêm chủng tại Nhà văn hóa KP2, phí 50.000đ."
    res = subprocess.run(
        [sys.executable, "-m", "broadcaster", "render", "--text", text, "--engine", "espeak", "--out", str(out)],
        capture_output=True, text=True, timeout=120,
    )
    assert res.returncode == 0, res.stderr
    assert "bảy giờ ba mươi phút" in res.stdout and "năm mươi nghìn đồng" in res.stdout
    assert "engine espeak" in res.stdout
    mp3 = out / "announcement.mp3"
    seconds = _probe_seconds(mp3)
    printed = float(re.search(r"\((\d+\.\d) s, engine", res.stdout).group(1))  # type: ignore[union-attr]
    assert abs(printed - seconds) < 0.2  # the duration the officer is told is the real one
    assert seconds > 8  # chime + two readings of a sentence
    slide = out / "announcement-01.png"
    with Image.open(slide) as im:
        assert im.format == "PNG" and im.size == (1920, 1080)


def test_render_command_explains_bad_input(tmp_path: Path, ward_dir: Path) -> None:
    res = subprocess.run(
        [sys.executable, "-m", "broadcaster", "render", "--text", "  ", "--out", str(tmp_path)],
        capture_output=True, text=True, timeout=60,
    )
    assert res.returncode == 1
    assert "--text: Chưa có nội dung" in res.stderr
    bad = tmp_path / "bad.toml"
    bad.write_text('[[announcement]]\nid="a"\ntitle="t"\ntext="x"\nzones=["kp9"]\n', encoding="utf-8")
    res = subprocess.run(
        [sys.executable, "-m", "broadcaster", "render", "--file", str(bad), "--out", str(tmp_path)],
        capture_output=True, text=True, timeout=60,
    )
    assert res.returncode == 1
    assert "bad.toml: announcement[0].zones[0] (dòng 5): Khu phố «kp9» không có trong tệp phường" in res.stderr


def test_producer_stores_content_addressed_media(ward_dir: Path) -> None:
    ward = load_ward()
    store = MediaStore(ward.service.home / "media")
    producer = Producer(ward, store, engine="espeak")
    ann = next(a for a in load_announcements(ward_dir / "playlists/announcements/example.toml", ward) if a.id == "bao-lu")
    first = producer.announcement(ann)
    assert first.engine == "espeak"
    assert first.audio.path.name == f"{first.audio.sha256}.mp3" and sha256_file(first.audio.path) == first.audio.sha256
    assert first.slides and all(s.type == "image/png" for s in first.slides)
    assert "báo động hai" in first.spoken_text
    # same input, same bytes: the store holds one copy and the URL names the content
    again = producer.announcement(ann)
    assert again.audio.sha256 == first.audio.sha256
    assert [s.sha256 for s in again.slides] == [s.sha256 for s in first.slides]
    assert len(list((ward.service.home / "media").rglob("*.mp3"))) == 1


def test_producer_builds_reception_deck(ward_dir: Path) -> None:
    ward = load_ward()
    store = MediaStore(ward.service.home / "media")
    deck = load_deck(ward_dir / "playlists/decks/tiep-nhan.toml")
    slides = Producer(ward, store, engine="espeak").deck(deck)
    ids = [s[0] for s in slides]
    assert ids[0].startswith("00-hotline")
    procs = load_catalog(ward_dir / "playlists/catalog/procedures.json")
    for p in procs:  # one or more slides per verified procedure; none for an unverified one
        assert any(i.startswith("01-catalog-") and f"-{p.code}-" in i for i in ids) == p.verified, p.code
    others = [i for i in ids if "hotline" not in i]
    assert len(set(others)) == len(others)
    assert {s[2] for s in slides} == {15.0, 12.0}
    # the hotline comes round at least every 2 minutes, the loop closing on itself
    timed = [Timed(i, secs, "hotline" in i) for i, _, secs in slides]
    gap = max_hotline_gap(timed)
    assert gap is not None and gap <= HOTLINE_PERIOD
    assert cycle_seconds(timed) > 2 * HOTLINE_PERIOD and sum(t.hotline for t in timed) >= 3
    for _, media, _ in slides[:3]:
        with Image.open(media.path) as im:
            assert im.size == (1920, 1080)
