"""What an officer can do, once, for the console and the CLI alike: the use-case layer.

Every use case takes the acting user (``Actor``), checks the permission on the server (role ×
khu phố), validates with the functions every way in uses
(``announce.spec`` for the fields, ``planner.schedule_problems`` for the schedule), and writes the audit log in the same
transaction as the change, so nothing is half-stored and nothing changes without a record.

Roles (docs/architecture.md, "Console"):

* **composer** (người soạn): composes, previews and sends for approval in his khu phố;
  "Phát khẩn cấp" only if the ward file allows it (``[console] composers_may_send_emergency``).
* **approver** (người duyệt, the ward's leader): approves or returns, sends at once, emergencies,
  cancels an airing or an announcement, "phát lại", device volume — in his khu phố.
* **admin** (quản trị): everything, everywhere, and the audit log.

A change made in the service's own process (the console) calls ``on_change`` so the running
service re-plans at once: ``PRAGMA data_version`` does not move for its own connection.
"""

from __future__ import annotations

import getpass
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Protocol

from broadcaster.announce import messages_vi as M
from broadcaster.announce import spec
from broadcaster.central import planner
from broadcaster.central.records import ALL_ZONES, AuditEntry, Draft, Records
from broadcaster.central.service import QueueResult, store_produced
from broadcaster.central.store import Store, StoredAnnouncement
from broadcaster.central.textfmt import slug
from broadcaster.config import Announcement, ScheduleSpec, Ward
from broadcaster.errors import BroadcasterError, NotFoundError, ScheduleError
from broadcaster.media import StoredMedia
from broadcaster.production import ProducedAnnouncement
from broadcaster.wire.times import utc_now

log = logging.getLogger(__name__)

REPLAY_SOURCE = "phát lại "  # + the airing's item id: the source of a «phát lại» copy
ROLE_VI = {"composer": "người soạn", "approver": "người duyệt", "admin": "quản trị"}
DRAFT_STATUS_VI = {"pending": "đang chờ duyệt", "approved": "đã được duyệt", "returned": "đã bị trả lại", "withdrawn": "đã rút"}

# action -> roles allowed (emergency for composers depends on the ward file, see ``allowed``)
PERMISSIONS: dict[str, frozenset[str]] = {
    "view": frozenset({"composer", "approver", "admin"}),
    "compose": frozenset({"composer", "approver", "admin"}),
    "submit": frozenset({"composer", "approver", "admin"}),
    "approve": frozenset({"approver", "admin"}),
    "queue": frozenset({"approver", "admin"}),
    "emergency": frozenset({"approver", "admin"}),
    "cancel": frozenset({"approver", "admin"}),
    "replay": frozenset({"approver", "admin"}),
    "volume": frozenset({"approver", "admin"}),
    "audit": frozenset({"approver", "admin"}),
    "users": frozenset({"admin"}),
}
ACTION_VI = {
    "view": "xem", "compose": "soạn thông báo", "submit": "gửi duyệt", "approve": "duyệt", "queue": "xếp lịch phát",
    "emergency": "phát khẩn cấp", "cancel": "hủy phát", "replay": "phát lại", "volume": "chỉnh âm lượng",
    "audit": "xem nhật ký", "users": "quản lý tài khoản",
}


class PermissionDenied(BroadcasterError, PermissionError):
    """The acting user may not do this (role or khu phố); nothing was changed."""


@dataclass(frozen=True)
class Actor:
    username: str
    role: str
    zones: tuple[str, ...]  # ("*",) = every khu phố
    address: str = ""  # where the request came from (IP), for the audit log
    display_name: str = ""

    @classmethod
    def cli(cls) -> Actor:
        """The CLI runs on the central machine with access to its files: an administrator."""
        try:
            who = getpass.getuser()
        except (OSError, KeyError):
            who = "?"
        return cls(f"cli:{who}", "admin", (ALL_ZONES,), "local")

    def covers(self, zones: Sequence[str]) -> bool:
        return ALL_ZONES in self.zones or set(zones) <= set(self.zones)

    def visible_zones(self, ward: Ward) -> list[str]:
        return [z.id for z in ward.zones if ALL_ZONES in self.zones or z.id in self.zones]


class Producing(Protocol):
    def announcement(self, ann: Announcement) -> ProducedAnnouncement: ...


@dataclass(frozen=True)
class Check:
    """One queue-time check, shown beside the field it concerns."""

    field: str  # title | text | zones | schedule | priority | readings | audio
    level: str  # error | warn | info
    text: str  # Vietnamese


@dataclass
class Preview:
    produced: ProducedAnnouncement
    checks: list[Check] = field(default_factory=list)


def _fmt(t: datetime, ward: Ward) -> str:
    return f"{t.astimezone(ward.tz):%H:%M %d/%m/%Y}"


def queue_checks(ward: Ward, store: Store, ann: Announcement, now: datetime, duration_ms: int | None = None) -> list[Check]:
    """The queue-time checks, in Vietnamese and by field of the compose form. An ``error`` means
    queueing is refused. The errors are those of ``broadcaster queue`` (``service.check_announcements``)
    by construction: the same ``announce.spec.content_problems`` and ``planner.schedule_problems``,
    so the console never accepts what the CLI refuses, nor the reverse."""
    tz = ward.tz
    door = spec.CONSOLE_DOOR
    out = [Check(p.where, "error", p.message) for p in spec.content_problems(ann, ward, door)]
    if _taken(store, ann.id):
        out.append(Check(door.where("id"), "error", M.ID_TAKEN.format(v=ann.id)))
    problems, notes = planner.schedule_problems(ann, ward, now, duration_ms=duration_ms, door=door)
    out += [Check(p.where, "error", p.message) for p in problems]
    out += [Check("schedule", "info", n) for n in notes]
    spec_ = ann.schedule
    if ann.priority == "emergency":
        when = "ngay bây giờ" if spec_.kind == "now" else "đúng giờ đã chọn"
        out.append(Check("priority", "warn", f"Khẩn cấp: phát {when}, ngắt mọi thông báo khác, kể cả ngoài khung giờ."))
        if planner.in_quiet_hours(ward.service.quiet_hours, spec_.at or now, tz):
            out.append(Check("schedule", "warn", f"Đang trong giờ yên tĩnh ({ward.service.quiet_hours}): loa vẫn phát vì là khẩn cấp."))
    errors = [c for c in out if c.level == "error"]
    if not errors and duration_ms is not None and ann.priority != "emergency":
        out += _overflow_checks(ward, store, ann, now, duration_ms)
    return out


def _taken(store: Store, ann_id: str) -> bool:
    try:
        store.announcement(ann_id)
    except NotFoundError:
        return False
    return True


def _overflow_checks(ward: Ward, store: Store, ann: Announcement, now: datetime, duration_ms: int) -> list[Check]:
    """Would it overflow its window, with what is queued already? Planned exactly as the service does."""
    probe = planner.Probe(ann.id, ann.title, ann.priority, ann.zones, ann.schedule, duration_ms, 1 << 40, now)
    anns: list[planner.Plannable] = [*store.announcements(), probe]
    until = planner.reach_first_airings([probe], ward.tz, now, now + ward.service.horizon)
    p = planner.plan(ward, anns, now, until, delivered=store.delivered_ids(), decided=store.decided_ids())
    out = []
    seen = set()
    for o in p.overflows:
        if o.announcement_id != ann.id or (o.zone, o.window_start) in seen:
            continue
        seen.add((o.zone, o.window_start))
        where = f"sẽ chuyển sang khung giờ {_fmt(o.moved_to, ward)}" if o.moved_to else "không còn khung giờ nào nhận: sẽ không phát"
        out.append(Check("schedule", "warn", f"{ward.zone(o.zone).name}: khung giờ {_fmt(o.window_start, ward)} đã đầy; {where}."))
        if len(out) >= 5:
            break
    return out


def new_id(ward: Ward, title: str, now: datetime) -> str:
    return f"{slug(title, 24)}-{now.astimezone(ward.tz):%y%m%d-%H%M%S}"


class UseCases:
    """The officer's actions over one store. Composition (producer, clock, refresh hook) is passed in."""

    def __init__(self, ward: Ward, store: Store, producer: Producing, *, clock: Callable[[], datetime] = utc_now,
                 on_change: Callable[[], None] = lambda: None) -> None:
        self.ward = ward
        self.store = store
        self.records = Records(store)
        self.producer = producer
        self.clock = clock
        self.on_change = on_change

    # -- permissions -----------------------------------------------------------------------

    def allowed(self, actor: Actor, action: str, zones: Sequence[str] = ()) -> bool:
        roles = PERMISSIONS[action]
        ok = actor.role in roles or (action == "emergency" and actor.role == "composer"
                                     and self.ward.console.composers_may_send_emergency)
        return ok and actor.covers(zones)

    def require(self, actor: Actor, action: str, zones: Sequence[str] = ()) -> None:
        if actor.role not in PERMISSIONS[action] and not (
            action == "emergency" and actor.role == "composer" and self.ward.console.composers_may_send_emergency
        ):
            raise PermissionDenied(f"Tài khoản {actor.username} ({ROLE_VI.get(actor.role, actor.role)}) không được {ACTION_VI[action]}.")
        if not actor.covers(zones):
            outside = sorted(set(zones) - set(actor.zones))
            raise PermissionDenied(
                f"Tài khoản {actor.username} không phụ trách {self._names(outside)}: chỉ được {ACTION_VI[action]} ở "
                f"{self._names(actor.zones) or '(không khu phố nào)'}."
            )

    def _names(self, zones: Sequence[str]) -> str:
        """Khu phố as the officer knows them ("Khu phố 3"); an id the ward file lacks as it was given."""
        known = {z.id: z.name for z in self.ward.zones}
        return ", ".join(known.get(z, z) for z in zones)

    def _audit(self, actor: Actor, action: str, target: str, detail: str = "") -> None:
        self.records.audit(actor.username, action, target, detail, actor.address, at=self.clock())

    def _changed(self) -> None:
        try:
            self.on_change()
        except Exception:  # the change is stored; the service's own watch still catches it
            log.exception("re-plan after a console change failed")

    # -- compose, preview ------------------------------------------------------------------

    def checks(self, actor: Actor, ann: Announcement, duration_ms: int | None = None) -> list[Check]:
        self.require(actor, "compose", ann.zones)
        return queue_checks(self.ward, self.store, ann, self.clock(), duration_ms)

    def preview(self, actor: Actor, ann: Announcement) -> Preview:
        """Produce the MP3 and slides into the media store: speech, or the recording in
        ``ann.audio_file`` (checked and levelled by ``audio.recording``, as ``broadcaster queue --audio``).
        An emergency is prepared only by who may send one (a forged priority on the compose form is refused)."""
        self.require(actor, "emergency" if ann.priority == "emergency" else "compose", ann.zones)
        produced = self.producer.announcement(ann)
        with self.store.transaction():
            self.store.add_media(produced.audio)
            for s in produced.slides:
                self.store.add_media(s)
        return Preview(produced, queue_checks(self.ward, self.store, ann, self.clock(), int(produced.duration_ms)))

    def _produced_from(self, audio: str, slides: Sequence[str], duration_ms: int, engine: str, spoken: str) -> ProducedAnnouncement:
        def sm(name: str) -> StoredMedia:
            row = self.store.media(name)
            path = self.producer.store.path_for(row.sha256, "." + name.rsplit(".", 1)[1])  # type: ignore[attr-defined]
            return StoredMedia(row.sha256, row.size, row.type, path)

        # the preferred engine travels with it, so the service's voice retry (central/voices.py) still
        # upgrades a clip that a fallback voice spoke at preview time
        return ProducedAnnouncement(sm(audio), duration_ms, engine, spoken, tuple(sm(s) for s in slides),
                                    preferred=str(getattr(self.producer, "preferred", "") or ""))

    # -- submit, approve, return -----------------------------------------------------------

    def submit(self, actor: Actor, ann: Announcement, produced: ProducedAnnouncement, *, replaces: str | None = None) -> Draft:
        """Send for approval (an emergency goes through ``emergency``, never waits)."""
        self.require(actor, "submit", ann.zones)
        if ann.priority == "emergency":
            raise ScheduleError("Thông báo khẩn cấp không chờ duyệt: dùng nút «Phát khẩn cấp».")
        errors = [c for c in queue_checks(self.ward, self.store, ann, self.clock(), int(produced.duration_ms)) if c.level == "error"]
        if errors:
            raise ScheduleError(errors[0].text)
        if replaces:
            old = self.store.announcement(replaces)
            self.require(actor, "submit", old.zones)
        now = self.clock()
        d = Draft(0, ann.title, ann.text, produced.spoken_text, ann.zones, ann.priority, ann.readings, ann.chime, ann.show_on_tv,
                  ann.schedule, produced.audio.name, int(produced.duration_ms), produced.engine,
                  tuple(s.name for s in produced.slides), "pending", actor.username, now, None, None, "", None, replaces)
        with self.store.transaction():
            self.store.add_media(produced.audio)
            for s in produced.slides:
                self.store.add_media(s)
            did = self.records.add_draft(d)
            self._audit(actor, "submit", f"draft:{did}", f"{ann.title} — {', '.join(ann.zones)} — {ann.schedule.describe()}"
                        + (f" (bản sửa của {replaces})" if replaces else ""))
        return self.records.draft(did)

    def _announcement_of(self, d: Draft, ann_id: str) -> Announcement:
        return Announcement(ann_id, d.title, d.text, d.zones, d.priority, d.readings, d.chime, d.show_on_tv, d.schedule,
                            source=f"console draft {d.id}")

    def approve(self, actor: Actor, draft_id: int) -> QueueResult:
        d = self.records.draft(draft_id)
        self.require(actor, "approve", d.zones)
        if d.status != "pending":
            raise ScheduleError(f"Bản soạn số {draft_id} không còn chờ duyệt ({DRAFT_STATUS_VI.get(d.status, d.status)}): tải lại trang.")
        now = self.clock()
        ann = self._announcement_of(d, new_id(self.ward, d.title, now))
        # checked again now: a time that passed while it waited is refused, in Vietnamese
        errors = [c for c in queue_checks(self.ward, self.store, ann, now, d.duration_ms) if c.level == "error"]
        if errors:
            raise ScheduleError(f"Chưa duyệt được bản soạn số {draft_id}: {errors[0].text} Hãy trả lại để người soạn sửa.")
        produced = self._produced_from(d.audio, d.slides, d.duration_ms, d.engine, d.spoken_text)
        old = self.store.announcement(d.replaces) if d.replaces else None
        if old is not None:
            self.require(actor, "approve", old.zones)

        def within(stored: list[StoredAnnouncement]) -> None:
            st = stored[0]
            if old is not None and old.status == "active":
                self.store.cancel(old.id, now)
                self.records.set_cancelled_by(old.id, actor.username, f"thay bằng bản sửa {st.id}")
            self.records.decide_draft(draft_id, "approved", actor.username, announcement_id=st.id, at=self.clock())
            self.records.set_people(st.id, composer=d.composer, approver=actor.username, draft_id=draft_id)
            self._audit(actor, "approve", st.id, f"bản soạn {draft_id} của {d.composer}: {d.title}"
                        + (f"; thay {old.id}" if old else ""))

        res = store_produced(self.ward, self.store, [(ann, produced)], now=now, extra=within)[0]
        self._changed()
        return res

    def return_draft(self, actor: Actor, draft_id: int, reason: str) -> Draft:
        d = self.records.draft(draft_id)
        self.require(actor, "approve", d.zones)
        reason = reason.strip()
        if not reason:
            raise ScheduleError("Cần ghi lý do trả lại, để người soạn biết phải sửa gì.")
        with self.store.transaction():
            self.records.decide_draft(draft_id, "returned", actor.username, reason=reason, at=self.clock())
            self._audit(actor, "return", f"draft:{draft_id}", reason)
        return self.records.draft(draft_id)

    def withdraw(self, actor: Actor, draft_id: int) -> Draft:
        d = self.records.draft(draft_id)
        if d.composer != actor.username:
            self.require(actor, "approve", d.zones)
        with self.store.transaction():
            self.records.decide_draft(draft_id, "withdrawn", actor.username, at=self.clock())
            self._audit(actor, "withdraw", f"draft:{draft_id}", d.title)
        return self.records.draft(draft_id)

    # -- queue at once: CLI, an approver's own announcement, emergencies ----------------------

    def queue(self, actor: Actor, anns: list[Announcement], produced: list[ProducedAnnouncement] | None = None) -> list[QueueResult]:
        for a in anns:
            self.require(actor, "emergency" if a.priority == "emergency" else "queue", a.zones)
        now = self.clock()

        def within(stored: list[StoredAnnouncement]) -> None:
            for st in stored:
                self.records.set_people(st.id, composer=actor.username, approver=actor.username)
                self._audit(actor, "emergency" if st.priority == "emergency" else "queue", st.id,
                            f"{st.title} — {', '.join(st.zones)} — {st.schedule.describe()}")

        if produced is None:
            from broadcaster.central.service import queue_announcements

            res = queue_announcements(self.ward, self.store, self.producer, anns, now=now, extra=within)
        else:
            res = store_produced(self.ward, self.store, list(zip(anns, produced)), now=now, extra=within)
        self._changed()
        return res

    def emergency(self, actor: Actor, ann: Announcement, produced: ProducedAnnouncement | None = None) -> QueueResult:
        """"Phát khẩn cấp": now, interrupting everything in the chosen khu phố."""
        ann = replace(ann, priority="emergency", schedule=ScheduleSpec("now") if ann.schedule.kind != "once" else ann.schedule)
        return self.queue(actor, [ann], [produced] if produced else None)[0]

    # -- cancel, replay --------------------------------------------------------------------

    def cancel(self, actor: Actor, ann_id: str, reason: str = "") -> StoredAnnouncement:
        a = self.store.announcement(ann_id)
        self.require(actor, "cancel", a.zones)
        now = self.clock()
        with self.store.transaction():
            st = self.store.cancel(ann_id, now)
            self.records.set_cancelled_by(ann_id, actor.username, reason.strip())
            self._audit(actor, "cancel", ann_id, reason.strip() or a.title)
        self._changed()
        return st

    def cancel_airing(self, actor: Actor, item_id: str, reason: str = "") -> None:
        ann_id, zone, _ = _split_item(item_id)
        a = self.store.announcement(ann_id)
        self.require(actor, "cancel", [zone])
        if zone not in a.zones:
            raise NotFoundError(f"Không có lượt phát {item_id}.")
        now = self.clock()
        with self.store.transaction():
            if item_id in self.records.skipped():
                raise ScheduleError("Lượt phát này đã bị hủy.")
            self.records.skip_item(item_id, ann_id, zone, actor.username, reason.strip() or "hủy một lượt phát", now)
            self._audit(actor, "cancel_airing", item_id, reason.strip())
        self._changed()

    def replay(self, actor: Actor, item_id: str) -> QueueResult:
        """"Phát lại": an interrupted or missed airing again, in the zone's current or next window."""
        ann_id, zone, _ = _split_item(item_id)
        a = self.store.announcement(ann_id)
        self.require(actor, "emergency" if a.priority == "emergency" else "replay", [zone])
        # a second click (or a second approver) must not queue the same airing twice
        source = f"{REPLAY_SOURCE}{item_id}"
        if any(x.source == source for x in self.store.announcements()):
            raise ScheduleError("Lượt này đã được xếp phát lại rồi: xem lịch phát của khu phố; nếu cần phát thêm, hãy soạn thông báo mới.")
        now = self.clock()
        ann = Announcement(f"{ann_id[:40]}-pl-{now.astimezone(self.ward.tz):%y%m%d%H%M%S}", a.title, a.text, (zone,),
                           a.priority, a.readings, a.chime, a.show_on_tv, ScheduleSpec("now"), source=source)
        produced = self._produced_from(a.audio, a.slides, a.duration_ms, a.engine, a.spoken_text)

        def within(stored: list[StoredAnnouncement]) -> None:
            people = self.records.people().get(ann_id)
            self.records.set_people(stored[0].id, composer=people["composer"] if people else "",
                                    approver=actor.username)
            self._audit(actor, "replay", stored[0].id, f"phát lại {item_id}")

        res = store_produced(self.ward, self.store, [(ann, produced)], now=now, extra=within)[0]
        self._changed()
        return res

    # -- devices ---------------------------------------------------------------------------

    def set_volume(self, actor: Actor, device_id: str, volume: int) -> None:
        dev = self.ward.device(device_id)
        # a device of no khu phố (the reception TV) belongs to the whole ward: only a ward-wide account
        self.require(actor, "volume", [dev.zone] if dev.zone else [z.id for z in self.ward.zones])
        if dev.kind == "display":  # a TV has no loudspeaker and reports no volume: nothing to set
            raise ScheduleError(f"{dev.id} là TV, không có âm lượng để chỉnh: chỉ chỉnh âm lượng loa.")
        if not 0 <= volume <= 100:
            raise ScheduleError("Âm lượng từ 0 đến 100.")
        with self.store.transaction():
            self.records.set_volume(device_id, volume, actor.username, at=self.clock())
            self._audit(actor, "volume", device_id, f"âm lượng {volume}")
        self._changed()


    # -- audit log ------------------------------------------------------------------------

    def audit_log(self, actor: Actor, limit: int = 100, offset: int = 0) -> list[AuditEntry]:
        """The audit log as ``actor`` may read it: everything for a ward-wide account; for one limited
        to some khu phố, the entries about those khu phố (announcements, drafts, airings, speakers)
        and his own actions, never another khu phố's work or other people's sign-ins."""
        self.require(actor, "audit")
        if ALL_ZONES in actor.zones:
            return self.records.audit_entries(limit, offset)
        mine = set(actor.zones)
        zones_of = _AuditZones(self)
        out: list[AuditEntry] = []
        skip, at, batch = offset, 0, 500
        while len(out) < limit:
            rows = self.records.audit_entries(batch, at)
            if not rows:
                break
            at += len(rows)
            for e in rows:
                if e.username != actor.username and not (zones_of(e) & mine):
                    continue
                if skip:
                    skip -= 1
                    continue
                out.append(e)
                if len(out) == limit:
                    break
        return out


class _AuditZones:
    """Which khu phố an audit entry is about, read back from its target (cached per call)."""

    ANNOUNCEMENT_ACTIONS = frozenset({"approve", "queue", "emergency", "cancel", "replay"})

    def __init__(self, uc: UseCases) -> None:
        self.uc = uc
        self.cache: dict[str, frozenset[str]] = {}

    def __call__(self, e: AuditEntry) -> frozenset[str]:
        key = f"{e.action}|{e.target}"
        if key not in self.cache:
            self.cache[key] = self._zones(e)
        return self.cache[key]

    def _zones(self, e: AuditEntry) -> frozenset[str]:
        t = e.target
        try:
            if t.startswith("draft:"):
                return frozenset(self.uc.records.draft(int(t[6:])).zones)
            if e.action in self.ANNOUNCEMENT_ACTIONS:
                return frozenset(self.uc.store.announcement(t).zones)
            if e.action == "cancel_airing":
                return frozenset({_split_item(t)[1]})
            if e.action == "volume":
                dev = self.uc.ward.device(t)
                return frozenset({dev.zone} if dev.zone else {z.id for z in self.uc.ward.zones})
        except (BroadcasterError, ValueError):
            pass  # a target since removed or malformed: about no khu phố (shown to whoever did it)
        return frozenset()


class Accounts:
    """Console accounts, for an administrator (the console's «Tài khoản» page and ``broadcaster users``)."""

    NAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,31}$")

    def __init__(self, uc: UseCases, hasher: Callable[[str], str]) -> None:
        self.uc, self.hash = uc, hasher

    def add(self, actor: Actor, username: str, role: str, zones: tuple[str, ...], display_name: str, password: str) -> None:
        from broadcaster.central.records import ROLES, User
        from broadcaster.web.auth import check_new_password

        self.uc.require(actor, "users")
        name = username.strip().lower()
        if not self.NAME_RE.match(name):
            raise ScheduleError("Tên đăng nhập: 2–32 chữ thường không dấu, số, dấu chấm, gạch ngang hoặc gạch dưới.")
        if role not in ROLES:
            raise ScheduleError("Vai trò không hợp lệ.")
        if self.uc.records.user(name):
            raise ScheduleError(f"Tài khoản {name} đã có.")
        known = {z.id for z in self.uc.ward.zones}
        if not zones or not (zones == (ALL_ZONES,) or set(zones) <= known):
            raise ScheduleError("Chọn các khu phố tài khoản phụ trách.")
        why = check_new_password(password)
        if why:
            raise ScheduleError(why)
        with self.uc.store.transaction():
            self.uc.records.add_user(User(name, display_name.strip(), role, zones, True, self.hash(password)))
            self.uc._audit(actor, "user_add", name, f"{role} {','.join(zones)}")

    def set_active(self, actor: Actor, username: str, active: bool) -> None:
        self.uc.require(actor, "users")
        if username == actor.username and not active:
            raise ScheduleError("Không thể tự khóa tài khoản của mình.")
        with self.uc.store.transaction():
            self.uc.records.update_user(username, active=active)
            self.uc._audit(actor, "user_disable" if not active else "user_add", username, "khóa" if not active else "mở lại")


def _split_item(item_id: str) -> tuple[str, str, str]:
    m = re.fullmatch(r"(.+)\.([a-z0-9][a-z0-9_-]*)\.(\d{8}T\d{4}Z)", item_id)
    if not m:
        raise NotFoundError(f"Mã lượt phát {item_id!r} không hợp lệ.")
    return m.group(1), m.group(2), m.group(3)
