"""Test-only: run the suite as if the clock said another date and time (``scripts/test --at ...``).

The tests must pass at any hour of any day. To prove it without waiting for the hour, ``--at
"2026-12-31 23:59"`` (local time of the example ward, Asia/Ho_Chi_Minh, unless an offset is given)
makes every test start at that instant and the clock run on from there in real time: ``time.time``,
``datetime.now`` and friends are shifted with time-machine, ``time.monotonic`` and every wait stay
real. Python processes the tests start (``broadcaster serve``, speaker nodes, the CLI) get the same
shift through ``fakeclock_site/sitecustomize.py``, which ``PYTHONPATH`` points at only during such a
run. Non-Python processes (Mosquitto, ffmpeg, espeak-ng) keep the real clock: they only measure
intervals, and faking their clock (faketime's LD_PRELOAD) makes Mosquitto fail to start.

Fixtures wider than one test (module or session scope) are made before a test's shift starts, on
the real clock: give them their times explicitly (e.g. an injected ``now``), as tests/test_public.py
does. C libraries keep the real clock too: OpenSSL checks a certificate's dates against it, so a test
certificate is made valid for any date. A browser test under ``--at`` would have to set the page's
clock itself (Playwright's ``page.clock``).

Nothing of this is in the ``broadcaster`` package: a production process never reads ``ENV``.
"""

from __future__ import annotations

import os
import time
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

ENV = "BCTEST_CLOCK_SHIFT_S"  # seconds to add to the real clock; read by fakeclock_site/sitecustomize.py
SITE_DIR = Path(__file__).resolve().parent / "fakeclock_site"
EXAMPLE_WARD = Path(__file__).resolve().parent.parent / "devices" / "ward.toml"


def ward_tz() -> ZoneInfo:
    with EXAMPLE_WARD.open("rb") as f:
        return ZoneInfo(tomllib.load(f)["ward"]["timezone"])


def parse_at(text: str) -> datetime:
    """``2026-12-31 23:59`` (the example ward's local time) or any ISO 8601 time with an offset."""
    try:
        at = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"--at {text!r}: give a date and time like \"2026-12-31 23:59\"") from None
    return at if at.tzinfo else at.replace(tzinfo=ward_tz())


@contextmanager
def shifted_to(at: datetime) -> Iterator[float]:
    """Shift this process's clock so that it reads ``at`` now, and tell child processes the shift."""
    import time_machine

    hatch = time_machine.escape_hatch
    real_now = hatch.time.time() if hatch.is_travelling() else time.time()  # nested: still the real clock
    shift = at.timestamp() - real_now
    old_env, old_path = os.environ.get(ENV), os.environ.get("PYTHONPATH")
    os.environ[ENV] = repr(shift)
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(SITE_DIR), old_path) if p)
    traveller = time_machine.travel(at, tick=True)
    traveller.start()
    try:
        yield shift
    finally:
        traveller.stop()
        for key, old in ((ENV, old_env), ("PYTHONPATH", old_path)):
            if old is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = old
