"""The trigger engine: APScheduler 3.11 with an in-memory job store, rebuilt from SQLite at start-up.

Why not APScheduler's own (pickled) SQLAlchemy job store: pickled callables break on every code
upgrade and would be a second source of truth beside the store. Here the store says what must
happen; ``CentralScheduler.rebuild`` turns that into jobs each time the plan changes, and a restart
simply rebuilds them.

The nodes play from their own clocks, so the central's jobs are about keeping the desired state
current, not about pressing "play":

* ``watch`` every 0.2 s: has another process (the CLI) committed to the store? then re-plan;
* ``refresh`` every few minutes and at every window start and end: the horizon rolls forward;
* ``at:<time>`` one-off jobs at future emergency starts and ends (publish, then clear);
* ``missed`` every minute: delivered items with no as-run long after their end are marked missed;
* ``housekeeping`` daily at 03:15 local: WAL checkpoint.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from broadcaster.config import Ward

log = logging.getLogger(__name__)

# A job's result is not used: the service's jobs return what they did (a plan, the voices swapped) for
# their other callers, so any return type is accepted here.
Job = Callable[[], object]

WATCH_INTERVAL = timedelta(seconds=0.2)  # an emergency waits at most this long to be noticed
REFRESH_INTERVAL = timedelta(minutes=5)
MISSED_INTERVAL = timedelta(minutes=1)


class CentralScheduler:
    def __init__(self, tz: ZoneInfo) -> None:
        self.tz = tz
        self._sched = BackgroundScheduler(
            jobstores={"default": MemoryJobStore()},
            executors={"default": ThreadPoolExecutor(4)},
            # coalesce: after a pause (laptop sleep, overload) run a periodic job once, not N times
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 300},
            timezone=tz,
        )
        # APScheduler's shutdown(wait=True) holds its job-store lock while it waits for running
        # jobs; a running job that touches the job list would then deadlock. Our own lock and flag
        # make job-list changes no-ops once stopping has begun.
        self._lock = threading.Lock()
        self._stopping = False
        self._pending: set[str] = set()  # run_soon keys queued but not started
        self._soon_seq = 0

    def start(
        self,
        ward: Ward,
        *,
        watch: Job,
        refresh: Job,
        missed: Job,
        housekeeping: Job,
    ) -> None:
        s = self._sched
        s.add_job(watch, IntervalTrigger(seconds=WATCH_INTERVAL.total_seconds(), timezone=self.tz), id="watch", name="store watch")
        s.add_job(refresh, IntervalTrigger(seconds=REFRESH_INTERVAL.total_seconds(), timezone=self.tz), id="refresh", name="horizon roll")
        s.add_job(missed, IntervalTrigger(seconds=MISSED_INTERVAL.total_seconds(), timezone=self.tz), id="missed", name="missed check")
        s.add_job(housekeeping, CronTrigger(hour=3, minute=15, timezone=self.tz), id="housekeeping", name="housekeeping")
        # every window boundary of every zone (local wall clock): re-plan so bulletins are current
        bounds = sorted({(t.hour, t.minute) for z in ward.zones for w in z.windows for t in (w.start, w.end)})
        for h, m in bounds:
            s.add_job(refresh, CronTrigger(hour=h, minute=m, timezone=self.tz), id=f"window:{h:02d}{m:02d}", name="window boundary")
        self._refresh = refresh
        s.start()
        log.info("scheduler started with %d job(s)", len(s.get_jobs()))

    def every(self, func: Job, seconds: float, job_id: str, name: str = "") -> None:
        """Run a function every ``seconds`` (after ``start``), e.g. the voice retry."""
        with self._lock:
            if not self._stopping:
                self._sched.add_job(func, IntervalTrigger(seconds=seconds, timezone=self.tz), id=job_id,
                                    name=name or job_id, replace_existing=True, max_instances=1, coalesce=True)

    def run_soon(self, func: Job, key: str) -> None:
        """Run a function once on the scheduler's threads (e.g. from an MQTT callback, which must not block).

        Calls with the same ``key`` made before the first has started are merged into one run. Each
        run is a job of its own id: replacing a one-off job of the same id while APScheduler's loop
        is finishing it raises JobLookupError in that loop, which ends the scheduler thread (and with
        it every timed job of the service).
        """
        with self._lock:
            if self._stopping or key in self._pending:
                return
            self._pending.add(key)
            self._soon_seq += 1

            def run() -> None:
                with self._lock:
                    self._pending.discard(key)
                func()

            self._sched.add_job(run, id=f"soon:{key}:{self._soon_seq}", name=key)

    def rebuild_timed(self, moments: Iterable[datetime], now: datetime) -> None:
        """One-off refresh jobs at these instants (emergency starts and ends); the set is replaced."""
        wanted = {f"at:{t.isoformat()}": t for t in moments if t > now}
        with self._lock:
            if not self._stopping:
                self._rebuild_timed(wanted)

    def _rebuild_timed(self, wanted: dict[str, datetime]) -> None:
        for job in self._sched.get_jobs():
            if job.id.startswith("at:") and job.id not in wanted:
                job.remove()
        existing = {j.id for j in self._sched.get_jobs()}
        for jid, t in wanted.items():
            if jid not in existing:
                self._sched.add_job(self._refresh, DateTrigger(run_date=t), id=jid, name="timed refresh", misfire_grace_time=3600)

    def job_ids(self) -> list[str]:
        return sorted(j.id for j in self._sched.get_jobs())

    def stop(self) -> None:
        with self._lock:
            self._stopping = True
        if self._sched.running:
            self._sched.shutdown(wait=True)
