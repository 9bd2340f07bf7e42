"""Device agents: the speaker node of a khu phố and the reception TV.

They import only the wire contract (``broadcaster.protocol``), the broker seam
(``broadcaster.transport``), the ward file reader (``broadcaster.config``), the errors and the
standard library, so a speaker node installs little and stays small in memory. Anything heavy
(Pillow, Tk) is imported lazily by the output that needs it.
"""
