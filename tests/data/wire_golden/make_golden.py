"""Made the golden v1 messages of this folder, once, with the encoder of the time (before broadcaster.wire).

They are kept as they were sent: tests/test_wire_golden.py checks that today's code still decodes and
verifies them and re-encodes their bodies to the same bytes. Do not run this again to "update" them:
a golden message that no longer verifies means deployed centrals or nodes would stop working.
The key pair beside them is a test key, used nowhere else.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

from broadcaster import protocol as p

HERE = Path(__file__).resolve().parent
UTC = timezone.utc
NOW = datetime(2026, 12, 1, 10, 0, 0, 123000, tzinfo=UTC)
WARD = "p1-quangtri"


def main() -> None:
    priv = (HERE / "central.key").read_bytes()
    signer = p.Signer(priv)
    t = p.Topics(WARD)
    media = p.MediaRef(url="http://127.0.0.1:8750/media/" + "a" * 64 + ".mp3", sha256="a" * 64, size=1234)
    slide = p.MediaRef(url="http://127.0.0.1:8750/media/" + "b" * 64 + ".png", sha256="b" * 64, size=99, type="image/png")
    cont = tuple(p.MediaRef(url=f"http://127.0.0.1:8750/media/{c * 64}.png", sha256=c * 64, size=98 + n, type="image/png")
                 for n, c in enumerate("cd"))
    item = p.ScheduleItem("cchc.kp1.20261201T1000Z", "cchc", "Nộp hồ sơ trực tuyến", "normal", NOW, 43_000, media, slide)
    plain = p.ScheduleItem("lich.kp1.20261201T1005Z", "lich", "Lịch tiếp dân \"thứ Năm\"", "priority",
                           NOW + timedelta(minutes=5), 61_500, media)
    long = p.ScheduleItem("tiem.kp1.20261201T1010Z", "tiem", "Tiêm chủng", "emergency", NOW + timedelta(minutes=10),
                          95_000, media, slide, (slide, *cont))
    central = [
        ("schedule", p.T_SCHEDULE, t.zone_schedule("kp1"),
         p.Schedule("zone/kp1", 7, (item, plain, long), NOW + timedelta(hours=48)).to_body(), timedelta(days=3)),
        ("schedule-empty", p.T_SCHEDULE, t.zone_schedule("kp2"),
         p.Schedule("zone/kp2", 1, (), NOW + timedelta(hours=48)).to_body(), timedelta(days=3)),
        ("deck", p.T_DECK, t.device_deck("tv-tnkq"),
         p.Deck("device/tv-tnkq", 4, (p.DeckSlide("00-hotline", slide, 15.0), p.DeckSlide("01-catalog-01", cont[0], 12.5)),
                (item, long)).to_body(), None),
        ("emergency", p.T_EMERGENCY, t.zone_emergency("kp1"),
         p.Emergency("bao-lu.kp1.20261201T1000Z", item, NOW + timedelta(minutes=20)).to_body(), timedelta(minutes=20)),
        ("emergency-clear", p.T_EMERGENCY_CLEAR, t.zone_emergency("kp1"), {"emergency_id": "bao-lu.kp1.20261201T1000Z"}, None),
        ("config", p.T_CONFIG, t.device_config("kp1-loa1"), p.DeviceConfig(volume=70).to_body(), None),
        ("event-ack", p.T_EVENT_ACK, t.device_ack("kp1-loa1"),
         p.EventAck("kp1-loa1", (("ev-1", "stored", ""), ("ev-2", "duplicate", ""), ("ev-3", "refused", "item of zone kp2, not kp1"))).to_body(),
         timedelta(days=1)),
    ]
    device = [
        ("state", p.T_STATE, t.device_state("kp1-loa1"),
         p.DeviceState("kp1-loa1", "speaker", True, "kp1", 80, {"zone/kp1": 7}, 3, 4567, ("c" * 64,), "cchc.kp1.20261201T1000Z", NOW, "0.1.0").to_body()),
        ("state-offline", p.T_STATE, t.device_state("tv-tnkq"),
         p.DeviceState("tv-tnkq", "display", False, None, None, {"device/tv-tnkq": 4},
                       link_error="2026-12-01T09:00:00.000Z: TLS certificate not trusted").to_body()),
        ("event-played", p.T_EVENT, t.device_events("kp1-loa1"),
         p.AsRunEvent("ev-1", "kp1-loa1", item.item_id, "cchc", "played", NOW, NOW, NOW + timedelta(seconds=43)).to_body()),
        ("event-failed", p.T_EVENT, t.device_events("kp1-loa1"),
         p.AsRunEvent("ev-2", "kp1-loa1", plain.item_id, "lich", "failed", NOW + timedelta(minutes=5), reason="media sha256 mismatch").to_body()),
    ]
    index = {}
    seq = 1_764_583_200_000
    for name, typ, topic, body, ttl in central:
        seq += 1
        env = signer.sign(p.make_envelope(typ, body, ward=WARD, sender="central", seq=seq, ttl=ttl, now=NOW, topic=topic))
        (HERE / f"{name}.json").write_bytes(env.to_bytes())
        index[name] = {"topic": topic, "type": typ, "signed": True, "now": p.fmt_time(NOW)}
    for name, typ, topic, body in device:
        env = p.make_envelope(typ, body, ward=WARD, sender=topic.split("/")[4], seq=42, now=NOW, topic=topic)
        (HERE / f"{name}.json").write_bytes(env.to_bytes())
        index[name] = {"topic": topic, "type": typ, "signed": False, "now": p.fmt_time(NOW)}
    (HERE / "index.json").write_text(json.dumps(index, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
