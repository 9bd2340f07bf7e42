"""Device agents: the speaker node of a khu phố and the reception TV.

Each agent is a small class composed of the same parts (docs/architecture.md, "The agents"):
``runtime`` (broker link, trust, message loop, outbox, state), ``memory`` (the typed desired-state
store and its writer thread), ``emergencies`` (the emergency book both keep), ``prefetch`` over
``cache`` (media on disk before airtime) and an output (``audio_out`` / ``display_out``).

They import only the wire contract (``broadcaster.wire``; the envelope path still through its
``broadcaster.protocol`` names), the broker seam
(``broadcaster.transport``), the ward file reader (``broadcaster.config``), the errors, the
file-system helpers (``broadcaster.fsutil``) and the standard library, so a speaker node installs
little and stays small in memory. Anything heavy (Pillow, Tk) is imported lazily by the output that
needs it.
"""
