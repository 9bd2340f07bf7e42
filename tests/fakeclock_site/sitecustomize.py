"""Test-only (see tests/fakeclock.py): a Python process started by a test run with ``--at`` shifts
its clock by the same amount as the test process, so both agree on what time it is.

Only on ``PYTHONPATH`` during such a run; does nothing unless BCTEST_CLOCK_SHIFT_S is set."""

import os

_shift = os.environ.get("BCTEST_CLOCK_SHIFT_S")
if _shift:
    import time

    import time_machine

    time_machine.travel(time.time() + float(_shift), tick=True).start()
