"""The better voice wins when it can: a clip spoken by the fallback is re-read by the preferred
engine (FPT.AI, here its local stand-in) and swapped in, but never too close to its airing."""

from __future__ import annotations

import subprocess
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from broadcaster.central import planner
from broadcaster.central.service import media_store, queue_announcements
from broadcaster.central.store import Store
from broadcaster.central.voices import VoiceUpgrader, next_airings
from broadcaster.config import Announcement, ScheduleSpec, load_ward
from broadcaster.production import Producer
from fpt_standin import VALID_KEY, fpt_standin

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = datetime(2026, 12, 1, 16, 0, tzinfo=TZ)  # fixed: an hour before the evening window
AIRS = datetime(2026, 12, 1, 17, 30, tzinfo=TZ)


@pytest.fixture(scope="module")
def mp3(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    d = tmp_path_factory.mktemp("mp3")
    subprocess.run(["espeak-ng", "-v", "vi-vn-x-central", "-w", str(d / "s.wav"), "bà con chú ý"], check=True)
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(d / "s.wav"), "-c:a", "libmp3lame", str(d / "s.mp3")], check=True)
    return (d / "s.mp3").read_bytes()


def test_fallback_clip_is_swapped_for_the_preferred_voice_in_time(ward_dir: Path, mp3: bytes) -> None:
    wf = ward_dir / "devices" / "ward.toml"
    (ward_dir / "devices" / "fpt.key").write_text(VALID_KEY)
    with fpt_standin(mp3) as fpt:
        wf.write_text(wf.read_text(encoding="utf-8") + f"""
[speech]
engines = ["fpt", "espeak"]
swap_margin_minutes = 20
[speech.fpt]
api_key_file = "fpt.key"
base_url = "{fpt.url}"
""", encoding="utf-8")
        ward = load_ward()
        producer = Producer(ward, media_store(ward))
        ann = Announcement("cat-dien", "Lịch cắt điện", "Cắt điện lúc 7h30 ngày 05/12/2026.", ("kp1", "kp2"), "normal",
                           2, True, False, ScheduleSpec("once", at=AIRS))
        fpt.mode = "down"  # the service is down when the officer queues: espeak-ng speaks
        with Store.for_ward(ward) as store:
            queue_announcements(ward, store, producer, [ann], now=NOW)
            before = store.announcement("cat-dien")
            assert before.engine == "espeak" and store.voices()["cat-dien"].fallback
            plan = planner.plan(ward, store.announcements(), NOW, NOW + timedelta(hours=48))
            airings = next_airings(plan.items, NOW)
            assert airings["cat-dien"] == AIRS

            # still down at the first retry: recorded, nothing changes
            upgrader = VoiceUpgrader(ward, store, producer, producer.preferred_engine, clock=lambda: NOW)
            assert upgrader.run(airings) == []
            v = store.voices()["cat-dien"]
            assert v.fallback and v.attempts == 1 and "FPT.AI" in v.last_error

            # too close to airing: never swapped, even though FPT.AI answers again
            fpt.mode = "ok"
            late = VoiceUpgrader(ward, store, producer, producer.preferred_engine, clock=lambda: AIRS - timedelta(minutes=19))
            assert late.run(airings) == []
            assert store.announcement("cat-dien").audio == before.audio

            revision = store.plan_revision
            upgrader._engine = None  # a fresh engine, as the next round of the service would have
            assert upgrader.run(airings) == ["cat-dien"]
            after = store.announcement("cat-dien")
            assert after.engine == "fpt" and after.audio != before.audio
            assert store.plan_revision == revision + 1  # the service re-plans: a new schedule version
            v = store.voices()["cat-dien"]
            assert (v.engine, v.fallback, v.voice) == ("fpt", False, "myan speed+0")
            assert media_store(ward).get(after.audio) is not None  # the new file is served to the nodes
            # nothing left to do
            assert upgrader.run(airings) == []


def test_recordings_are_never_replaced(ward_dir: Path, tmp_path: Path) -> None:
    wav = tmp_path / "r.wav"
    subprocess.run(["espeak-ng", "-v", "vi", "-w", str(wav), "bà con chú ý lắng nghe"], check=True)
    ward = load_ward()
    producer = Producer(ward, media_store(ward), engine="espeak")
    ann = Announcement("ghi-am", "Ghi âm", "Bà con chú ý.", ("kp1",), "normal", 1, False, False,
                       ScheduleSpec("once", at=AIRS), audio_file=wav)
    with Store.for_ward(ward) as store:
        queue_announcements(ward, store, producer, [ann], now=NOW)
        assert not store.voices()["ghi-am"].fallback
        up = VoiceUpgrader(ward, store, producer, lambda: pytest.fail("no engine needed"), clock=lambda: NOW)
        assert up.candidates({}, NOW) == []


def test_running_service_sends_the_better_audio_to_the_nodes(ward_dir: Path, mosquitto, monkeypatch, mp3: bytes) -> None:  # type: ignore[no-untyped-def]
    """End to end: queued with the fallback, the service swaps in FPT.AI's audio and the node
    receives a new schedule version naming the new media."""
    from test_central_service import Node, is_schedule_with, setup_ward

    from broadcaster import protocol
    from broadcaster.central.service import CentralService

    wf = ward_dir / "devices" / "ward.toml"
    (ward_dir / "devices" / "fpt.key").write_text(VALID_KEY)
    with fpt_standin(mp3) as fpt:
        wf.write_text(wf.read_text(encoding="utf-8") + f"""
[speech]
engines = ["fpt", "espeak"]
swap_margin_minutes = 5
[speech.fpt]
api_key_file = "fpt.key"
base_url = "{fpt.url}"
""", encoding="utf-8")
        ward = setup_ward(ward_dir, mosquitto, monkeypatch)
        producer = Producer(ward, media_store(ward))
        # an airing well beyond the margin: the first window starting 10 minutes from now or later
        ws, _ = planner.next_window(ward.zone("kp1"), ward.tz, protocol.utc_now() + timedelta(minutes=10))
        ann = Announcement("hop", "Họp tổ", "Mời bà con dự họp lúc 19h30.", ("kp1",), "normal", 1, False, False,
                           ScheduleSpec("once", at=ws + timedelta(minutes=1)))
        fpt.mode = "down"
        with Store.for_ward(ward) as store:
            queue_announcements(ward, store, producer, [ann])
            old = store.announcement("hop").audio
        fpt.mode = "ok"
        svc = CentralService(ward, producer=producer).start()
        node = Node(ward, "kp1-loa1", "kp1")
        try:
            assert "voices" in svc.scheduler.job_ids()
            _, first = node.wait_for(is_schedule_with("hop"))
            assert any(i.media.url.endswith(old) for i in first.items)
            assert svc.retry_voices() == ["hop"]
            _, second = node.wait_for(lambda t, b: is_schedule_with("hop")(t, b) and b.version > first.version)
            (item,) = [i for i in second.items if i.announcement_id == "hop"]
            new = svc.store.announcement("hop").audio
            assert new != old and item.media.url.endswith(new)
        finally:
            node.stop()
            svc.stop()
