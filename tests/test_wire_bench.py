"""The node-CPU benchmark compares like with like: the old and the new wire code open the same
messages to the same result (no figure is asserted against a time here; scripts/bench measures)."""

from __future__ import annotations

import json

from benchmarks import nodecpu
from benchmarks import wire_v1_frozen as old
from broadcaster import protocol as new


def test_old_and_new_paths_open_the_same_messages_to_the_same_ack() -> None:
    msgs, pub = nodecpu._messages(6, 3)
    acks = {}
    for name, mod in (("old", old), ("new", new)):
        handle = nodecpu._node_path(mod, pub)
        acks[name] = [json.loads(handle(topic, payload))["body"] for topic, payload in msgs]
    assert acks["old"] == acks["new"] and acks["new"][-1]["applied"] == {"zone/z0001": 1002}


def test_measure_reports_both_paths() -> None:
    got = nodecpu.measure(6, 2, 5)
    assert len(got["old"]) == len(got["new"]) == 2 and all(v > 0 for v in got["old"] + got["new"])
