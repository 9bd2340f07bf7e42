"""Frozen copy of the wire code as it was before broadcaster.wire (the hand-written decoder), kept only so
scripts/bench can measure the node's CPU per message for the old path and the new one in the same run.
Nothing imports it but benchmarks/nodecpu.py. Do not fix or update it."""
