"""Node CPU per schedule message: open, verify, parse and acknowledge, old code path against new.

What a speaker node does with each retained zone schedule, timed in one process on one core:
decode the payload, check ward/type/topic, verify the Ed25519 signature over what was received,
check expiry and the replay guard, parse the body into its struct, then build and encode its
acknowledgement (its ``DeviceState`` with ``applied = {target: version}``, in an envelope, to bytes).

* **new**: ``broadcaster.wire`` (msgspec decoding into typed structs), as the agents run it.
* **old**: ``benchmarks/wire_v1_frozen.py``, a frozen copy of the hand-written v1 decoder the
  wire package replaced, fed the very same bytes (same key, same messages), in the same run.

Both open the same signed messages: a realistic zone schedule (6 items over two days, as in the
fan-out bench) and a long one (60 items: a week of bulletins). Interleaved, old and new alternate in
every repetition so both see the same machine; the figure is the median per-message CPU time
(``time.process_time``) over repetitions of a batch of messages.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from types import ModuleType
from typing import Any

from benchmarks import BenchConfig, SectionResult
from benchmarks.stats import Figure

WARD = "bench-ward"
NOW = datetime(2026, 12, 1, 10, 0, tzinfo=timezone.utc)


def _messages(n_items: int, count: int) -> tuple[list[tuple[str, bytes]], bytes]:
    """``count`` signed zone schedules of ``n_items`` items each (growing seq), and the public key."""
    from broadcaster.wire.envelope import make_envelope
    from broadcaster.wire.messages import MediaRef, Schedule, ScheduleItem
    from broadcaster.wire.topics import Topics
    from broadcaster.wire.trust import Signer, generate_keypair
    from broadcaster.wire.vocabulary import MessageType, Priority, Target

    priv, pub = generate_keypair()
    signer = Signer(priv)
    topic = Topics(WARD).zone_schedule("z0001")
    out = []
    for m in range(count):
        items = tuple(
            ScheduleItem(
                item_id=f"it-z0001-{k}", announcement_id=f"ann-{k}", title=f"Thông báo số {k} về tiêm chủng (bản {m})",
                priority=Priority.PRIORITY if k == 0 else Priority.NORMAL, start=NOW + timedelta(hours=1 + 12 * k),
                duration_ms=55_000,
                media=MediaRef(url=f"http://central.local:8750/media/{'%x' % (k % 16) * 64}.mp3", sha256=f"{k % 16:x}" * 64,
                               size=880_000),
            )
            for k in range(n_items)
        )
        body = Schedule(Target.zone("z0001"), 1000 + m, items, NOW + timedelta(days=2)).to_body()
        env = make_envelope(MessageType.SCHEDULE, body, ward=WARD, sender="central", seq=10_000 + m, now=NOW,
                            ttl=timedelta(days=3), topic=topic)
        out.append((topic, signer.sign(env).to_bytes()))
    return out, pub


def _node_path(wire: ModuleType, pub: bytes) -> Callable[[str, bytes], bytes]:
    """One node's handling of a schedule message with the given wire module (old or new API)."""
    verifier = wire.Verifier(pub)
    guard = wire.ReplayGuard()
    applied: dict[str, int] = {}
    state_topic = wire.Topics(WARD).device_state("n00001")
    seq = [0]

    def handle(topic: str, payload: bytes) -> bytes:
        opened = wire.open_envelope(payload, topic, verifier, guard, ward=WARD, now=NOW)
        _env, body = opened
        applied[body.target] = body.version
        seq[0] += 1
        st = wire.DeviceState(device="n00001", kind="speaker", online=True, zone="z0001", volume=80,
                              applied=dict(applied), clock=NOW, agent_version="bench")
        return bytes(wire.make_envelope(wire.T_STATE, st.to_body(), ward=WARD, sender="n00001", seq=seq[0], now=NOW,
                                        topic=state_topic).to_bytes())

    return handle


def measure(n_items: int, reps: int, batch: int) -> dict[str, list[float]]:
    """Per-message CPU microseconds, per repetition, for the old and the new path (interleaved)."""
    from benchmarks import wire_v1_frozen as old
    from broadcaster import protocol as new

    msgs, pub = _messages(n_items, batch * (reps + 1))
    out: dict[str, list[float]] = {"old": [], "new": []}
    paths = {"old": _node_path(old, pub), "new": _node_path(new, pub)}
    for handle in paths.values():  # warm-up (imports, caches), outside the figures
        for topic, payload in msgs[:batch]:
            handle(topic, payload)
    fresh = {name: _node_path(mod, pub) for name, mod in (("old", old), ("new", new))}
    for r in range(1, reps + 1):
        chunk = msgs[r * batch:(r + 1) * batch]
        for name in ("old", "new") if r % 2 else ("new", "old"):
            handle = fresh[name]
            t0 = time.process_time()
            for topic, payload in chunk:
                handle(topic, payload)
            out[name].append((time.process_time() - t0) / len(chunk) * 1e6)
    return out


def run(cfg: BenchConfig) -> SectionResult:
    reps = cfg.reps or cfg.pick(5, 9)
    batch = cfg.pick(300, 1000)
    figures: list[Figure] = []
    details: dict[str, Any] = {"batch": batch, "reps": reps}
    for n_items, label in ((6, "6-item zone schedule"), (60, "60-item schedule")):
        got = measure(n_items, reps, batch)
        details[label] = got
        figures.append(Figure("nodecpu", f"{label}: open+verify+parse+ack, per message", "us", got["new"], got["old"],
                              "old v1 decoder", note="CPU of one node, one core; old path measured in the same run"))
    return SectionResult(name="nodecpu", figures=figures, details=details)


def profile(n_items: int = 6, count: int = 2000) -> None:  # pragma: no cover - a tool for looking, not a figure
    """``python -c 'from benchmarks import nodecpu; nodecpu.profile()'``: where the new path spends its time."""
    import cProfile
    import pstats

    from broadcaster import protocol as new

    msgs, pub = _messages(n_items, count)
    handle = _node_path(new, pub)
    prof = cProfile.Profile()
    prof.enable()
    for topic, payload in msgs:
        handle(topic, payload)
    prof.disable()
    pstats.Stats(prof).sort_stats("tottime").print_stats(15)
