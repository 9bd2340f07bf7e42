"""The reception TV against a real Mosquitto, real HTTP and real signed decks and emergencies."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from agent_support import Central, MediaServer, item, make_mp3, make_png, read_jsonl, wait_for
from broadcaster.agents.display import DisplayAgent
from broadcaster.agents.display_out import HeadlessOutput
from broadcaster.config import Ward, load_ward
from broadcaster.localbroker import LocalMosquitto
from broadcaster.protocol import Deck, DeckSlide, Emergency, Signer, Verifier, generate_keypair, utc_now

TV = "tv-tnkq"


@pytest.fixture
def ward(ward_dir: Path) -> Ward:
    return load_ward()



@pytest.fixture
def central(ward: Ward, mosquitto: LocalMosquitto) -> Iterator[Central]:
    c = Central(ward.id, mosquitto.url)
    yield c
    c.close()


@pytest.fixture
def media(tmp_path: Path, server: MediaServer) -> dict[str, Any]:
    return {
        name: server.add(f"{name}.png", make_png(tmp_path / f"{name}.png", color), "image/png")
        for name, color in (("s1", "blue"), ("s2", "green"), ("ann", "yellow"), ("em", "red"))
    } | {"mp3": server.add("a.mp3", make_mp3(tmp_path / "a.mp3", 0.3))}


def start_tv(ward: Ward, central: Central, mosquitto: LocalMosquitto, out: Path) -> DisplayAgent:
    agent = DisplayAgent(
        ward, ward.device(TV), output=HeadlessOutput(out, TV), verifier=Verifier(central.public_pem),
        broker_url=mosquitto.url, fetch_retry_s=0.5, state_interval=5.0,
    )
    agent.start()
    return agent


def shown(out: Path) -> list[tuple[str, str]]:
    return [(r["reason"], r["label"]) for r in read_jsonl(out / TV / "shown.jsonl")]


def deck_body(media: dict[str, Any], version: int, overlays: tuple[Any, ...] = ()) -> dict[str, Any]:
    slides = (DeckSlide("s1", media["s1"], 0.6), DeckSlide("s2", media["s2"], 0.4))
    return Deck(f"device/{TV}", version, slides, overlays).to_body()


def test_cycles_deck_shows_announcement_and_emergency(ward: Ward, central: Central, mosquitto: LocalMosquitto, media: dict[str, Any], tmp_path: Path) -> None:
    out = tmp_path / "out"
    agent = start_tv(ward, central, mosquitto, out)
    try:
        wait_for(lambda: shown(out) == [("idle", "idle")])  # nothing yet: the built-in idle screen
        t0 = utc_now()
        ann = item("ann1", t0 + timedelta(seconds=2.5), media["mp3"], slide=media["ann"], duration_ms=3000)
        central.deck(TV, deck_body(media, 1, (ann,)))
        wait_for(lambda: ("announcement", "ann1") in shown(out), timeout=8)
        log = shown(out)
        i = log.index(("announcement", "ann1"))
        assert ("deck", "s1") in log[:i] and ("deck", "s2") in log[:i]  # cycled before
        at = read_jsonl(out / TV / "shown.jsonl")[i]["at"]
        from broadcaster.protocol import parse_time

        # at its time from the TV's own clock (never before; after by a generous margin for a busy machine)
        assert -0.05 < (parse_time(at) - ann.start).total_seconds() < 2.0
        wait_for(lambda: shown(out)[-1][0] == "deck", timeout=10)  # back to the cycle after it aired
        # an emergency in zone kp4 (the TV is in no zone, it listens to all), with no slide of its own
        em = Emergency("em9", item("kc", utc_now(), media["mp3"], priority="emergency"), utc_now() + timedelta(minutes=5))
        central.emergency("kp4", em.to_body())
        wait_for(lambda: shown(out)[-1] == ("emergency", "em9"), timeout=5)
        cur = out / TV / "current.png"
        # no slide of its own: the red notice with the emergency's title and the hotline
        named = agent.notice_for(em)
        assert named is not None and cur.read_bytes() == named.read_bytes()
        assert named.read_bytes() != (agent.dir / "khan-cap.png").read_bytes()
        time.sleep(1.2)
        assert shown(out)[-1] == ("emergency", "em9")  # stays over the cycle
        central.clear("kp4", "em9")
        wait_for(lambda: shown(out)[-1][0] == "deck", timeout=5)
    finally:
        agent.stop()


def test_keeps_cycling_last_deck_without_broker_and_after_reboot(ward: Ward, central: Central, mosquitto: LocalMosquitto, media: dict[str, Any], tmp_path: Path) -> None:
    out = tmp_path / "out"
    agent = start_tv(ward, central, mosquitto, out)
    central.deck(TV, deck_body(media, 3))
    wait_for(lambda: ("deck", "s2") in shown(out), timeout=8)
    agent.stop()
    mosquitto.stop()
    n = len(shown(out))
    agent = start_tv(ward, central, mosquitto, out)  # rebooted, and no broker
    try:
        wait_for(lambda: shown(out)[n:].count(("deck", "s1")) >= 2, timeout=5)
        assert ("idle", "idle") not in shown(out)[n:]
    finally:
        agent.stop()


def test_forged_deck_and_emergency_change_nothing(ward: Ward, central: Central, mosquitto: LocalMosquitto, media: dict[str, Any], tmp_path: Path) -> None:
    out = tmp_path / "out"
    agent = start_tv(ward, central, mosquitto, out)
    try:
        assert agent.runtime.conn and agent.runtime.conn.wait_connected(10)
        other = Signer(generate_keypair()[0])
        central.send(central.topics.device_deck(TV), central.envelope("deck", deck_body(media, 7), central.topics.device_deck(TV), signer=other))
        em = Emergency("fake", item("kc", utc_now(), media["mp3"], priority="emergency"), utc_now() + timedelta(minutes=5))
        central.send(central.topics.zone_emergency("kp1"), central.envelope("emergency", em.to_body(), central.topics.zone_emergency("kp1"), signer=other))
        wait_for(lambda: agent.runtime.refused >= 2)
        time.sleep(0.5)
        assert set(shown(out)) == {("idle", "idle")} and agent.deck() is None
    finally:
        agent.stop()


def test_emergency_own_slide_at_once_for_its_airing_plus_tail_then_hidden_announcement_then_deck(
        ward: Ward, central: Central, mosquitto: LocalMosquitto, media: dict[str, Any], server: MediaServer,
        tmp_path: Path) -> None:
    """The emergency's slide replaces the generic notice as soon as it is downloaded (no other message
    needed), stays for the airing plus the tail (not the minutes of ``valid_until``), and an
    announcement that aired under it is shown afterwards before the deck resumes."""
    from datetime import timedelta as td

    from broadcaster.protocol import parse_time

    out = tmp_path / "out"
    agent = DisplayAgent(
        ward, ward.device(TV), output=HeadlessOutput(out, TV), verifier=Verifier(central.public_pem),
        broker_url=mosquitto.url, fetch_retry_s=0.5, state_interval=5.0,
        emergency_tail=td(seconds=1.5), catch_up_min=td(seconds=1.5),
    )
    agent.start()
    try:
        central.deck(TV, deck_body(media, 1))
        wait_for(lambda: ("deck", "s2") in shown(out), timeout=8)
        # the emergency slide's download hangs a little, as on 4G: the notice goes up first
        server.stall["em.png"] = 0.8
        t0 = utc_now()
        ann = item("ann2", t0 + td(seconds=1), media["mp3"], slide=media["ann"], duration_ms=1000)
        central.deck(TV, deck_body(media, 2, (ann,)))
        em = Emergency("em1", item("kc", t0, media["mp3"], priority="emergency", slide=media["em"], duration_ms=2500),
                       t0 + td(minutes=10))
        central.emergency("kp2", em.to_body())
        wait_for(lambda: ("deck", "s1") in shown(out)[shown(out).index(("emergency", "em1")):]
                 if ("emergency", "em1") in shown(out) else False, timeout=15)
        recs = read_jsonl(out / TV / "shown.jsonl")
        first = next(i for i, r in enumerate(recs) if r["label"] == "em1")
        after = recs[first:]
        frames = [(r["reason"], r["label"], (out / TV / r["file"]).read_bytes()) for r in after]
        em_png = server.files["em.png"]
        notice = agent.notice_for(em).read_bytes()  # type: ignore[union-attr]
        # notice, then the emergency's own slide, with no other message in between
        assert frames[0][2] == notice
        assert frames[1][:2] == ("emergency", "em1") and frames[1][2] == em_png
        own_at = parse_time(after[1]["at"])
        assert (own_at - parse_time(after[0]["at"])).total_seconds() < 4
        # then the announcement hidden by it, then the deck
        assert frames[2][:2] == ("announcement", "ann2") and frames[2][2] == server.files["ann.png"]
        assert frames[3][0] == "deck"
        left = parse_time(after[2]["at"])
        # off the screen at airing end + tail (t0 + 4 s), long before valid_until (t0 + 10 min)
        assert 3.5 < (left - t0).total_seconds() < 8
        assert 1.0 < (parse_time(after[3]["at"]) - left).total_seconds() < 5
    finally:
        agent.stop()


# -- a long announcement's slides: key facts, then continuations ---------------------------------

def test_slide_at_shares_the_airing_equally_at_least_the_minimum_and_cycles() -> None:
    """Fixed clock: which slide of a long announcement is on screen when (pure function)."""
    from datetime import datetime, timezone

    from broadcaster.agents.display import SLIDE_MAX, SLIDE_MIN, slide_at

    t0 = datetime(2026, 12, 1, 3, 0, 0, tzinfo=timezone.utc)
    at = lambda n, span_s, s: slide_at(n, t0, t0 + timedelta(seconds=span_s), t0 + timedelta(seconds=s))  # noqa: E731
    assert SLIDE_MIN == timedelta(seconds=8) and SLIDE_MAX == timedelta(seconds=30)
    # 60 s, 3 slides: 20 s each, one pass
    assert [at(3, 60, s)[0] for s in (0, 19.9, 20, 39.9, 40, 59.9)] == [0, 0, 1, 1, 2, 2]
    assert at(3, 60, 5)[1] == t0 + timedelta(seconds=20) and at(3, 60, 45)[1] == t0 + timedelta(seconds=60)
    # 12 s, 3 slides: never under 8 s each, so the third does not fit (the airing is over first)
    assert [at(3, 12, s)[0] for s in (0, 7.9, 8, 11.9)] == [0, 0, 1, 1]
    assert at(3, 12, 9)[1] == t0 + timedelta(seconds=12)  # cut at the airing's end
    # 150 s, 2 slides: 75 s each would be more than 30 s, so 3 passes of 25 s each, in order
    assert [at(2, 150, s)[0] for s in range(0, 150, 25)] == [0, 1, 0, 1, 0, 1]
    # one slide: the whole airing
    assert at(1, 60, 30) == (0, t0 + timedelta(seconds=60))


def _frames_of(out: Path, label: str) -> list[tuple[str, bytes, str]]:
    """(reason, image bytes, at) of every redraw for ``label``, read back from what the TV drew."""
    return [(r["reason"], (out / TV / r["file"]).read_bytes(), r["at"]) for r in read_jsonl(out / TV / "shown.jsonl")
            if r["label"] == label]


@pytest.fixture
def continuations(tmp_path: Path, server: MediaServer) -> dict[str, Any]:
    return {name: server.add(f"{name}.png", make_png(tmp_path / f"{name}.png", color), "image/png")
            for name, color in (("kf", "white"), ("c1", "orange"), ("c2", "purple"))}


def long_tv(ward: Ward, central: Central, mosquitto: LocalMosquitto, out: Path) -> DisplayAgent:
    agent = DisplayAgent(
        ward, ward.device(TV), output=HeadlessOutput(out, TV), verifier=Verifier(central.public_pem),
        broker_url=mosquitto.url, fetch_retry_s=0.5, state_interval=5.0,
        emergency_tail=timedelta(seconds=1), catch_up_min=timedelta(seconds=1),
        slide_min=timedelta(seconds=0.4), slide_max=timedelta(seconds=5),
    )
    agent.start()
    return agent


def test_long_announcement_shows_key_facts_then_each_continuation_while_it_airs(
        ward: Ward, central: Central, mosquitto: LocalMosquitto, media: dict[str, Any], continuations: dict[str, Any],
        server: MediaServer, tmp_path: Path) -> None:
    from broadcaster.protocol import parse_time

    out = tmp_path / "out"
    agent = long_tv(ward, central, mosquitto, out)
    try:
        central.deck(TV, deck_body(media, 1))
        wait_for(lambda: ("deck", "s2") in shown(out), timeout=8)
        t0 = utc_now()
        refs = (continuations["kf"], continuations["c1"], continuations["c2"])
        ann = item("long1", t0 + timedelta(seconds=4), media["mp3"], slides=refs, duration_ms=3000)
        central.deck(TV, deck_body(media, 2, (ann,)))
        # every slide is on disk before airtime, continuations too
        wait_for(lambda: all(agent.cache.get(r) is not None for r in refs), timeout=3)
        assert utc_now() < ann.start
        wait_for(lambda: shown(out)[-1][0] == "deck" and ("announcement", "long1") in shown(out), timeout=12)
        frames = _frames_of(out, "long1")
        assert [f[1] for f in frames] == [server.files["kf.png"], server.files["c1.png"], server.files["c2.png"]]
        # an equal share each (1 s of the 3 s airing), from the TV's own clock: never before its share
        # begins; how late a loaded machine draws it is not asserted, only the order
        offsets = [(parse_time(f[2]) - ann.start).total_seconds() for f in frames]
        assert offsets[0] > -0.05 and offsets[1] > 0.95 and offsets[2] > 1.95
        assert offsets == sorted(offsets)
        assert agent.state_fields()["missing"] == ()
    finally:
        agent.stop()


def test_a_missing_continuation_never_blanks_the_screen(
        ward: Ward, central: Central, mosquitto: LocalMosquitto, media: dict[str, Any], continuations: dict[str, Any],
        server: MediaServer, tmp_path: Path) -> None:
    out = tmp_path / "out"
    agent = long_tv(ward, central, mosquitto, out)
    try:
        central.deck(TV, deck_body(media, 1))
        wait_for(lambda: ("deck", "s2") in shown(out), timeout=8)
        gone = server.add("gone.png", make_png(tmp_path / "gone.png", "black"), "image/png")
        del server.files["gone.png"]  # the middle continuation cannot be had (404)
        t0 = utc_now()
        ann = item("long2", t0 + timedelta(seconds=2), media["mp3"], slides=(continuations["kf"], gone, continuations["c2"]),
                   duration_ms=3000)
        central.deck(TV, deck_body(media, 2, (ann,)))
        wait_for(lambda: shown(out)[-1][0] == "deck" and ("announcement", "long2") in shown(out), timeout=12)
        recs = read_jsonl(out / TV / "shown.jsonl")
        first = next(i for i, r in enumerate(recs) if r["label"] == "long2")
        back = next(i for i in range(first, len(recs)) if recs[i]["reason"] == "deck")  # the deck again, after it aired
        during = [((out / TV / r["file"]).read_bytes(), r["reason"]) for r in recs[first:back]]
        # key facts stay up through the missing slide's share, then the last slide: nothing in between
        assert during == [(server.files["kf.png"], "announcement"), (server.files["c2.png"], "announcement")]
        assert recs[first - 1]["reason"] == "deck"
        assert gone.sha256 in agent.state_fields()["missing"]  # reported, so the officer can see it
    finally:
        agent.stop()


def test_long_announcement_hidden_by_an_emergency_is_shown_whole_afterwards(
        ward: Ward, central: Central, mosquitto: LocalMosquitto, media: dict[str, Any], continuations: dict[str, Any],
        server: MediaServer, tmp_path: Path) -> None:
    out = tmp_path / "out"
    agent = long_tv(ward, central, mosquitto, out)
    try:
        central.deck(TV, deck_body(media, 1))
        wait_for(lambda: ("deck", "s2") in shown(out), timeout=8)
        t0 = utc_now()
        refs = (continuations["kf"], continuations["c1"], continuations["c2"])
        ann = item("long3", t0 + timedelta(seconds=1), media["mp3"], slides=refs, duration_ms=1500)
        central.deck(TV, deck_body(media, 2, (ann,)))
        em = Emergency("em3", item("kc3", t0, media["mp3"], priority="emergency", slide=media["em"], duration_ms=2500),
                       t0 + timedelta(minutes=10))
        central.emergency("kp3", em.to_body())
        wait_for(lambda: ("announcement", "long3") in shown(out) and shown(out)[-1][0] == "deck", timeout=15)
        recs = read_jsonl(out / TV / "shown.jsonl")
        first = next(i for i, r in enumerate(recs) if r["label"] == "em3")
        after = [(r["reason"], r["label"], (out / TV / r["file"]).read_bytes()) for r in recs[first:]]
        ems = [a for a in after if a[0] == "emergency"]
        hidden = [a for a in after if a[1] == "long3"]
        assert ems and after[: len(ems)] == ems  # the emergency first, nothing of long3 under it
        # then the hidden announcement, every slide of it in order, then the deck
        assert [h[2] for h in hidden] == [server.files["kf.png"], server.files["c1.png"], server.files["c2.png"]]
        assert after[len(ems): len(ems) + 3] == hidden and after[len(ems) + 3][0] == "deck"
    finally:
        agent.stop()
