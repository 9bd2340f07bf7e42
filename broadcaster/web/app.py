"""The ward's web application: the console under ``/console/``, media under ``/media/``.

``build_app`` is the one place the web parts are composed. Other components add their pages with
``extra_routes`` (the citizens' public pages are mounted at ``/``); only when nothing else claims
``/`` does it redirect to the console.

Every console route goes through ``_guard``: a valid server-side session (else the sign-in page,
or 401 for scripts), a CSRF token on every POST (form field ``csrf`` or header ``X-CSRF-Token``),
and the permission of the use case it calls (``UseCases.require``), checked here on the server.
"""

from __future__ import annotations

import csv
import html
import functools
import io
import logging
import secrets
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from broadcaster.central import planner
from broadcaster.central.records import Records
from broadcaster.central.store import Store
from broadcaster.central.usecases import Actor, PermissionDenied, UseCases
from broadcaster.config import Announcement, Ward
from broadcaster.errors import BroadcasterError, NotFoundError
from broadcaster.media import MediaStore
from broadcaster.production import ProducedAnnouncement
from broadcaster.web import strings as S
from broadcaster.web.auth import COOKIE, LoggedIn, LoginLimiter, Passwords, Sessions, csrf_ok
from broadcaster.web.forms import parse_compose, values_of
from broadcaster.web.media import media_routes

log = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
PREFIX = "/console"
PREVIEW_TTL = timedelta(hours=2)
MAX_UPLOAD = 50 * 1024 * 1024


@dataclass
class _PreviewEntry:
    username: str
    ann: Announcement
    produced: ProducedAnnouncement
    made: float
    replaces: str | None = None


@dataclass
class ConsoleContext:
    """What the console needs, composed by the service (or a test)."""

    ward: Ward
    store: Store
    media: MediaStore
    usecases: UseCases
    sessions: Sessions
    passwords: Passwords
    limiter: LoginLimiter = field(default_factory=LoginLimiter)
    clock: Callable[[], datetime] = field(default_factory=lambda: __import__("broadcaster.protocol", fromlist=["utc_now"]).utc_now)
    secure_cookies: bool = False
    previews: dict[str, _PreviewEntry] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def records(self) -> Records:
        return self.usecases.records


Handler = Callable[[Request, ConsoleContext, Actor, Any], Awaitable[Response]]


def build_app(ctx: ConsoleContext | None, media: MediaStore, *, extra_routes: Sequence[BaseRoute] = ()) -> Starlette:
    """The whole web application. ``ctx`` None = media only (a node-facing server without console)."""
    routes: list[BaseRoute] = list(media_routes(media))
    if ctx is not None:
        routes += console_routes(ctx)
    routes += list(extra_routes)
    claims_root = any(getattr(r, "path", None) in ("/", "") for r in extra_routes)
    if ctx is not None and not claims_root:
        async def root(request: Request) -> Response:
            return RedirectResponse(f"{PREFIX}/", 303)

        routes.append(Route("/", root))

    async def not_found(request: Request, exc: Exception) -> Response:
        # an address no route claims (a mistyped or hand-edited link, a form's address opened as a page):
        # Vietnamese, never Starlette's English
        status = getattr(exc, "status_code", 404)
        if ctx is not None and request.url.path.startswith(f"{PREFIX}/"):
            return render(request, ctx, "message.html", status, title=S.NOT_FOUND, message=S.E_NO_PAGE, back=f"{PREFIX}/")
        return PlainTextResponse(S.NOT_FOUND, status)

    return Starlette(routes=routes, exception_handlers={404: not_found, 405: not_found})


# --------------------------------------------------------------------------------------------
# Templates
# --------------------------------------------------------------------------------------------

_env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(["html"]), trim_blocks=True,
                   lstrip_blocks=True)
_env.globals["S"] = S


def render(request: Request, ctx: ConsoleContext, name: str, status: int = 200, **kw: Any) -> HTMLResponse:
    tz = ctx.ward.tz
    me: LoggedIn | None = getattr(request.state, "login", None)
    actor: Actor | None = getattr(request.state, "actor", None)
    flash = request.query_params.get("ok")
    if flash and not (me and secrets.compare_digest(request.query_params.get("s", ""), _flash_sig(me, flash))):
        flash = None  # not made by this console for this session: not shown
    body = _env.get_template(name).render(
        request=request, ward=ctx.ward, me=me.user if me else None, actor=actor, csrf=me.csrf if me else "",
        P=PREFIX, tz=tz, now=ctx.clock(), can=(lambda a, z=(): actor is not None and ctx.usecases.allowed(actor, a, z)),
        dt=lambda t: S.fmt_dt(t, tz), hm=lambda t: S.fmt_time(t, tz), hms=lambda t: S.fmt_hms(t, tz),
        dur=S.fmt_duration, why=S.reason_vi, media=lambda n: f"/media/{n}", flash=flash, zone_name=lambda z: _zone_name(ctx.ward, z),
        zones_named=lambda zs: _zones_named(ctx.ward, zs), person=_people_html(ctx), **kw,
    )
    headers = {"Cache-Control": "no-store", "X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff",
               "Referrer-Policy": "same-origin",
               "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; media-src 'self'; style-src 'self'; "
                                          "script-src 'self'; frame-ancestors 'none'; form-action 'self'"}
    return HTMLResponse(body, status, headers=headers)


def _full_names(ctx: ConsoleContext) -> dict[str, str]:
    return {u.username: u.display_name for u in ctx.records.users() if u.display_name.strip()}


def person_text(names: dict[str, str], username: str | None) -> str:
    """A person as the report's files name him: «Nguyễn Văn An (soan1)», or the login if no full name."""
    if not username:
        return ""
    full = names.get(username)
    return f"{full} ({username})" if full else S.who(username)


def _people_html(ctx: ConsoleContext) -> Callable[[str | None], Any]:
    """``person(login)`` for the templates: the full name, the login in small text beside it. The
    accounts are read once per page, and only if the page names someone."""
    from markupsafe import Markup, escape

    names: dict[str, str] | None = None

    def person(username: str | None) -> Any:
        nonlocal names
        if not username:
            return ""
        if names is None:
            names = _full_names(ctx)
        full = names.get(username)
        if not full:
            return S.who(username)
        return Markup('<span class="person" title="{1}">{0} <small>({1})</small></span>').format(escape(full), escape(username))

    return person


def _zones_named(ward: Ward, zones: Sequence[str]) -> str:
    """What the officer reads for a list of khu phố: their names, or «Toàn phường» for all of them."""
    if len(zones) > 1 and set(zones) == {z.id for z in ward.zones}:
        return S.F_ALL
    return ", ".join(_zone_name(ward, z) for z in zones)


def _zone_name(ward: Ward, z: str) -> str:
    try:
        return ward.zone(z).name
    except BroadcasterError:
        return z


def _address(request: Request) -> str:
    return request.client.host if request.client else ""


def _flash_sig(login: LoggedIn | None, text: str) -> str:
    """The seal on a «done» message in the address: keyed by the session's own secret CSRF token, so a
    link made by someone else cannot show an official-looking message of his choosing in the console."""
    import hashlib
    import hmac

    key = (login.csrf if login else "").encode()
    return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()[:24] if key else ""


def _redirect(request: Request, path: str, ok: str | None = None) -> RedirectResponse:
    from urllib.parse import quote

    sig = _flash_sig(getattr(request.state, "login", None), ok) if ok else ""
    return RedirectResponse(f"{PREFIX}{path}" + (f"{'&' if '?' in path else '?'}ok={quote(ok)}&s={sig}" if ok else ""), 303)


# --------------------------------------------------------------------------------------------
# The guard: session, CSRF, permission errors
# --------------------------------------------------------------------------------------------


def _guard(ctx: ConsoleContext, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        login = await run_in_threadpool(ctx.sessions.resolve, request.cookies.get(COOKIE), ctx.clock())
        scripted = request.headers.get("x-requested-with") == "fetch"
        if login is None:
            if request.method == "GET" and not scripted:
                return RedirectResponse(f"{PREFIX}/login?next={request.url.path}", 303)
            return PlainTextResponse(S.SESSION_ENDED, 401)
        u = login.user
        actor = Actor(u.username, u.role, u.zones, _address(request), u.display_name)
        request.state.login, request.state.actor = login, actor
        form: Any = None
        if request.method == "POST":
            try:
                form = await request.form(max_files=2, max_fields=200, max_part_size=MAX_UPLOAD)
            except Exception:  # malformed body or too large a part
                return render(request, ctx, "message.html", 400, title=S.FORBIDDEN, message=S.E_UPLOAD_BIG)
            token = request.headers.get("x-csrf-token") or (form.get("csrf") if isinstance(form.get("csrf"), str) else None)
            if not csrf_ok(login.csrf, token):
                await run_in_threadpool(ctx.records.audit, u.username, "denied", request.url.path, "thiếu mã CSRF", actor.address)
                return render(request, ctx, "message.html", 403, title=S.FORBIDDEN, message=S.CSRF_FAILED)
        try:
            return await handler(request, ctx, actor, form)
        except PermissionDenied as exc:
            await run_in_threadpool(ctx.records.audit, u.username, "denied", request.url.path, str(exc), actor.address)
            if scripted:  # the page's script shows it where the answer goes
                return HTMLResponse(f'<p class="error" role="alert">{html.escape(str(exc))}</p>', 403)
            return render(request, ctx, "message.html", 403, title=S.FORBIDDEN, message=str(exc))
        except NotFoundError:  # the store's own message is for the CLI (English, file paths): not shown here
            return render(request, ctx, "message.html", 404, title=S.NOT_FOUND, message=S.E_NOT_FOUND_ID)
        except BroadcasterError as exc:
            return render(request, ctx, "message.html", 400, title=S.NOT_DONE, message=str(exc))
        except ValueError:  # a bad number in the address (Python's own words): say so, change nothing
            return render(request, ctx, "message.html", 400, title=S.NOT_DONE, message=S.E_BAD_VALUE)
        finally:
            if form is not None:
                await form.close()

    return endpoint


def _err(request: Request, ctx: ConsoleContext, exc: BroadcasterError, back: str) -> HTMLResponse:
    message = S.E_NOT_FOUND_ID if isinstance(exc, NotFoundError) else str(exc)
    return render(request, ctx, "message.html", 400, title=S.NOT_DONE, message=message, back=back)


# --------------------------------------------------------------------------------------------
# Routes
# --------------------------------------------------------------------------------------------


def console_routes(ctx: ConsoleContext) -> list[BaseRoute]:
    g = lambda h: _guard(ctx, h)  # noqa: E731
    return [
        Route(f"{PREFIX}/login", functools.partial(login_page, ctx=ctx), methods=["GET", "POST"]),
        Route(f"{PREFIX}/logout", g(logout), methods=["POST"]),
        Route(f"{PREFIX}/", g(home)),
        Route(f"{PREFIX}/compose", g(compose_page), methods=["GET"]),
        Route(f"{PREFIX}/compose/check", g(compose_check), methods=["POST"]),
        Route(f"{PREFIX}/compose/preview", g(compose_preview), methods=["POST"]),
        Route(f"{PREFIX}/compose/send", g(compose_send), methods=["POST"]),
        Route(f"{PREFIX}/emergency", g(emergency_page), methods=["GET", "POST"]),
        Route(f"{PREFIX}/approvals", g(approvals_page)),
        Route(f"{PREFIX}/approvals/{{draft_id:int}}/{{what}}", g(approval_action), methods=["POST"]),
        Route(f"{PREFIX}/announcements", g(announcements_page)),
        Route(f"{PREFIX}/announcements/{{ann_id}}/cancel", g(cancel_announcement), methods=["POST"]),
        Route(f"{PREFIX}/week", g(week_page)),
        Route(f"{PREFIX}/airing/{{what}}", g(airing_action), methods=["POST"]),
        Route(f"{PREFIX}/devices", g(devices_page)),
        Route(f"{PREFIX}/devices/rows", g(devices_rows)),
        Route(f"{PREFIX}/devices/{{device_id}}/volume", g(set_volume), methods=["POST"]),
        Route(f"{PREFIX}/report", g(report_page)),
        Route(f"{PREFIX}/report/download", g(report_download)),
        Route(f"{PREFIX}/audit", g(audit_page)),
        Route(f"{PREFIX}/users", g(users_page), methods=["GET", "POST"]),
        Route(f"{PREFIX}/users/{{username}}/{{what}}", g(user_action), methods=["POST"]),
        Mount(f"{PREFIX}/static", app=StaticFiles(directory=HERE / "static"), name="static"),
    ]


# -- sign-in ---------------------------------------------------------------------------------


async def login_page(request: Request, ctx: ConsoleContext) -> Response:
    nxt = request.query_params.get("next", f"{PREFIX}/")
    if not nxt.startswith(f"{PREFIX}/") or "//" in nxt:
        nxt = f"{PREFIX}/"  # never an open redirect
    if request.method == "GET":
        return render(request, ctx, "login.html", next=nxt)
    form = await request.form(max_files=0, max_fields=10)
    username = str(form.get("username") or "").strip().lower()
    password = str(form.get("password") or "")
    addr = _address(request)
    wait = ctx.limiter.wait_seconds(f"ip:{addr}", f"user:{username}")
    if wait:
        return render(request, ctx, "login.html", 429, error=S.LOGIN_WAIT.format(seconds=wait), next=nxt, username=username)
    user = await run_in_threadpool(ctx.records.user, username)
    ok = await run_in_threadpool(ctx.passwords.verify, user.password_hash if user and user.active else None, password)
    if not ok or user is None:
        ctx.limiter.failed(f"ip:{addr}", f"user:{username}")
        # an unknown name is not written down: people sometimes type their password there
        await run_in_threadpool(ctx.records.audit, username if user else "?", "login_failed", "", "", addr)
        return render(request, ctx, "login.html", 401, error=S.LOGIN_FAILED, next=nxt, username=username)
    ctx.limiter.succeeded(f"user:{username}")
    cookie, _ = await run_in_threadpool(ctx.sessions.create, user, addr, ctx.clock())
    await run_in_threadpool(ctx.records.audit, user.username, "login", "", "", addr)
    resp = RedirectResponse(nxt, 303)
    resp.set_cookie(COOKIE, cookie, httponly=True, samesite="strict", secure=ctx.secure_cookies, path=PREFIX,
                    max_age=int(ctx.sessions.lifetime.total_seconds()))
    return resp


async def logout(request: Request, ctx: ConsoleContext, actor: Actor, form: Any) -> Response:
    login: LoggedIn = request.state.login
    await run_in_threadpool(ctx.sessions.end, login.token_hash)
    await run_in_threadpool(ctx.records.audit, actor.username, "logout", "", "", actor.address)
    resp = RedirectResponse(f"{PREFIX}/login", 303)
    resp.delete_cookie(COOKIE, path=PREFIX)
    return resp


# -- home ------------------------------------------------------------------------------------


def _devices_view(ctx: ConsoleContext, actor: Actor) -> list[dict[str, Any]]:
    zones = set(actor.visible_zones(ctx.ward))
    versions = ctx.store.versions()
    since = ctx.records.device_since()
    volumes = ctx.records.volumes()
    titles = {}
    out = []
    for d in ctx.store.devices():
        if d.zone is not None and d.zone not in zones:
            continue
        target = f"zone/{d.zone}" if d.kind == "speaker" else f"device/{d.id}"  # a TV's deck: its own target
        latest = versions.get(target)
        have = d.applied.get(target)
        playing = None
        if d.playing and d.kind == "display":
            # a TV reports a slide id (01-catalog-01-<code>-02): shown as what is on the screen
            from broadcaster.web.screen import describe_showing

            playing = describe_showing(ctx.ward, ctx.store, d.id, d.playing)
        elif d.playing:
            aid = d.playing.split(".")[0]
            if aid not in titles:
                try:
                    titles[aid] = ctx.store.announcement(aid).title
                except BroadcasterError:
                    titles[aid] = aid
            playing = titles[aid]
        out.append({
            "d": d, "since": since.get(d.id), "latest": latest, "have": have, "playing": playing,
            "volume": volumes.get(d.id, d.volume),
        })
    return out


async def home(request: Request, ctx: ConsoleContext, actor: Actor, form: Any) -> Response:
    ctx.usecases.require(actor, "view")

    def data() -> dict[str, Any]:
        now = ctx.clock()
        zones = actor.visible_zones(ctx.ward)
        devs = _devices_view(ctx, actor)
        plan = planner.plan(ctx.ward, ctx.store.announcements(), now, now + ctx.ward.service.horizon,
                            delivered=ctx.store.delivered_ids(), decided=ctx.store.decided_ids())
        upcoming = sorted([i for i in [*plan.items, *plan.emergencies] if i.zone in zones and i.end > now], key=lambda i: i.start)[:20]
        pending = [d for d in ctx.records.drafts("pending") if actor.covers(d.zones)]
        mine_returned = [d for d in ctx.records.drafts("returned", 20) if d.composer == actor.username]
        return {"devices": devs, "offline": [x for x in devs if not x["d"].online], "upcoming": upcoming, "pending": pending,
                "returned": mine_returned}

    return render(request, ctx, "home.html", **await run_in_threadpool(data))


# -- compose ---------------------------------------------------------------------------------


def _estimate_ms(text: str, readings: int, chime: bool) -> int:
    from broadcaster.normalize import normalize

    words = len(normalize(text).split())
    speech = int(words / 3.2 * 1000)  # Vietnamese news reading: about 3 syllables a second
    return (1800 if chime else 0) + readings * speech + (readings - 1) * 1200 + 400


async def compose_page(request: Request, ctx: ConsoleContext, actor: Actor, form: Any) -> Response:
    ctx.usecases.require(actor, "compose")
    values: dict[str, Any] = {"zone_mode": "pick", "priority": "normal", "readings": 2, "chime": True, "show_on_tv": True,
                              "kind": "once", "zones": [], "weekdays": []}
    replaces = None
    note = None
    if "edit" in request.query_params:  # an approved announcement: a new version, to approve again
        a = await run_in_threadpool(ctx.store.announcement, request.query_params["edit"])
        ctx.usecases.require(actor, "compose", a.zones)
        values, replaces, note = values_of(a, ctx.ward), a.id, S.EDIT_NOTE
    elif "draft" in request.query_params:
        d = await run_in_threadpool(ctx.records.draft, int(request.query_params["draft"]))
        ctx.usecases.require(actor, "compose", d.zones)
        values, replaces = values_of(d, ctx.ward), d.replaces
        note = f"{S.DRAFT_STATUS[d.status]}: {d.reason}" if d.reason else None
    return render(request, ctx, "compose.html", v=values, errors={}, replaces=replaces, note=note,
                  zones=[z for z in ctx.ward.zones if actor.covers([z.id])])


def _parse(ctx: ConsoleContext, actor: Actor, form: Any, **kw: Any) -> Any:
    return parse_compose(form, ctx.ward, ctx.clock(), allowed_zones=actor.visible_zones(ctx.ward), **kw)


async def compose_check(request: Request, ctx: ConsoleContext, actor: Actor, form: Any) -> Response:
    """While typing: the spoken form, the length on air, the queue-time checks by field (JSON)."""
    from broadcaster.normalize import normalize

    text = str(form.get("text") or "")
    res = _parse(ctx, actor, form)
    out: dict[str, Any] = {"spoken": normalize(text) if text.strip() else "", "errors": res.errors, "checks": []}
    try:
        readings = max(1, min(5, int(str(form.get("readings") or "2"))))
    except ValueError:
        readings = 2
    est = _estimate_ms(text, readings, bool(form.get("chime"))) if text.strip() else 0
    out["length"] = S.LENGTH_EST.format(d=S.fmt_duration(est), n=readings) if est else ""
    if res.ann is not None:
        ctx.usecases.require(actor, "compose", res.ann.zones)
        checks = await run_in_threadpool(ctx.usecases.checks, actor, res.ann, est or None)
        out["checks"] = [{"field": c.field, "level": c.level, "text": c.text} for c in checks]
    return JSONResponse(out)


async def _upload(form: Any, ctx: ConsoleContext) -> Path | None:
    """An uploaded recording, saved to the scratch folder and checked (``audio.recording``); None if none."""
    f = form.get("audio")
    if not isinstance(f, UploadFile) or not f.filename:
        return None
    from broadcaster.audio.recording import import_recording

    scratch = ctx.ward.service.home / "tmp"
    scratch.mkdir(parents=True, exist_ok=True)
    suffix = "".join(c for c in Path(f.filename).suffix.lower()[:8] if c.isalnum() or c == ".")
    with tempfile.NamedTemporaryFile(dir=scratch, prefix="upload-", suffix=suffix, delete=False) as tmp:
        while block := await f.read(1 << 20):
            tmp.write(block)
    path = Path(tmp.name)
    try:
        await run_in_threadpool(import_recording, path, name=Path(f.filename).name)  # refuses with a Vietnamese reason
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path


async def compose_preview(request: Request, ctx: ConsoleContext, actor: Actor, form: Any) -> Response:
    emergency = form.get("mode") == "emergency"
    res = _parse(ctx, actor, form, force_priority="emergency" if emergency else None)
    if res.ann is None:
        return render(request, ctx, "preview.html", 422, errors=res.errors, preview_id=None)
    ctx.usecases.require(actor, "emergency" if emergency or res.ann.priority == "emergency" else "compose", res.ann.zones)
    rec: Path | None = None
    try:
        rec = await _upload(form, ctx)
        ann = replace(res.ann, audio_file=rec) if rec else res.ann
        pv = await run_in_threadpool(ctx.usecases.preview, actor, ann)
    except PermissionDenied:
        raise
    except BroadcasterError as exc:
        return render(request, ctx, "preview.html", 422, errors={"audio": str(exc)}, preview_id=None)
    finally:
        if rec is not None:
            rec.unlink(missing_ok=True)  # the programme made from it is in the media store
    pid = secrets.token_urlsafe(16)
    replaces = str(form.get("replaces") or "") or None
    with ctx.lock:
        now = time.monotonic()
        for k in [k for k, e in ctx.previews.items() if now - e.made > PREVIEW_TTL.total_seconds()]:
            del ctx.previews[k]
        ctx.previews[pid] = _PreviewEntry(actor.username, res.ann, pv.produced, now, replaces)
    return render(request, ctx, "preview.html", preview_id=pid, pv=pv, ann=res.ann, errors={},
                  has_error=any(c.level == "error" for c in pv.checks), emergency=emergency)


def _take_preview(ctx: ConsoleContext, actor: Actor, pid: str) -> _PreviewEntry | None:
    with ctx.lock:
        e = ctx.previews.get(pid)
        if e is None or e.username != actor.username:
            return None
        return e


async def compose_send(request: Request, ctx: ConsoleContext, actor: Actor, form: Any) -> Response:
    e = _take_preview(ctx, actor, str(form.get("preview_id") or ""))
    if e is None:
        return render(request, ctx, "message.html", 400, title=S.PREVIEW_FIRST, message=S.PREVIEW_GONE, back=f"{PREFIX}/compose")
    action = form.get("action")
    try:
        if action == "queue":
            res = await run_in_threadpool(_queue_own, ctx, actor, e)
            msg = S.QUEUED.format(title=res.stored.title)
        else:
            d = await run_in_threadpool(ctx.usecases.submit, actor, e.ann, e.produced, replaces=e.replaces)
            msg = S.SUBMITTED.format(title=d.title)
    except PermissionDenied:
        raise
    except BroadcasterError as exc:
        return _err(request, ctx, exc, f"{PREFIX}/compose")
    with ctx.lock:
        ctx.previews.pop(str(form.get("preview_id")), None)
    return _redirect(request, "/" if action == "queue" else "/approvals", msg)


def _queue_own(ctx: ConsoleContext, actor: Actor, e: _PreviewEntry) -> Any:
    """An approver's own announcement: submitted and approved in one step (both in the audit log)."""
    d = ctx.usecases.submit(actor, e.ann, e.produced, replaces=e.replaces)
    return ctx.usecases.approve(actor, d.id)


async def emergency_page(request: Request, ctx: ConsoleContext, actor: Actor, form: Any) -> Response:
    ctx.usecases.require(actor, "emergency")
    zones = [z for z in ctx.ward.zones if actor.covers([z.id])]
    if request.method == "GET":
        return render(request, ctx, "emergency.html", v={"zone_mode": "pick", "readings": 3, "chime": True, "show_on_tv": True,
                                                         "zones": [], "weekdays": []}, errors={}, zones=zones)
    e = _take_preview(ctx, actor, str(form.get("preview_id") or ""))
    if e is None:
        return render(request, ctx, "message.html", 400, title=S.PREVIEW_FIRST, message=S.PREVIEW_GONE, back=f"{PREFIX}/emergency")
    if form.get("confirm") != "yes":
        return render(request, ctx, "message.html", 400, title=S.EMERGENCY_TITLE, message=S.EMERGENCY_NEED_CONFIRM,
                      back=f"{PREFIX}/emergency")
    try:
        res = await run_in_threadpool(ctx.usecases.emergency, actor, e.ann, e.produced)
    except PermissionDenied:
        raise
    except BroadcasterError as exc:
        return _err(request, ctx, exc, f"{PREFIX}/emergency")
    with ctx.lock:
        ctx.previews.pop(str(form.get("preview_id")), None)
    return _redirect(request, "/", S.EMERGENCY_SENT.format(title=res.stored.title, zones=_zones_named(ctx.ward, res.stored.zones)))


# -- approvals -------------------------------------------------------------------------------


async def approvals_page(request: Request, ctx: ConsoleContext, actor: Actor, form: Any) -> Response:
    ctx.usecases.require(actor, "view")

    def data() -> dict[str, Any]:
        pending = [d for d in ctx.records.drafts("pending") if actor.covers(d.zones) or d.composer == actor.username]
        recent = [d for d in ctx.records.drafts(None, 60) if d.status != "pending" and (actor.covers(d.zones) or d.composer == actor.username)][:30]
        return {"pending": pending, "recent": recent}

    return render(request, ctx, "approvals.html", **await run_in_threadpool(data))


async def approval_action(request: Request, ctx: ConsoleContext, actor: Actor, form: Any) -> Response:
    did, what = request.path_params["draft_id"], request.path_params["what"]
    try:
        if what == "approve":
            res = await run_in_threadpool(ctx.usecases.approve, actor, did)
            return _redirect(request, "/approvals", S.APPROVED.format(title=res.stored.title))
        if what == "return":
            d = await run_in_threadpool(ctx.usecases.return_draft, actor, did, str(form.get("reason") or ""))
            return _redirect(request, "/approvals", S.RETURNED.format(title=d.title))
        if what == "withdraw":
            d = await run_in_threadpool(ctx.usecases.withdraw, actor, did)
            return _redirect(request, "/approvals", S.DRAFT_STATUS["withdrawn"])
    except PermissionDenied:
        raise
    except BroadcasterError as exc:
        return _err(request, ctx, exc, f"{PREFIX}/approvals")
    return render(request, ctx, "message.html", 404, title=S.NOT_FOUND, message=S.NOT_FOUND)


# -- announcements, week ---------------------------------------------------------------------


async def announcements_page(request: Request, ctx: ConsoleContext, actor: Actor, form: Any) -> Response:
    ctx.usecases.require(actor, "view")

    def data() -> dict[str, Any]:
        anns = [a for a in ctx.store.announcements(include_cancelled=True) if set(a.zones) & set(actor.visible_zones(ctx.ward))]
        return {"anns": list(reversed(anns))[:200], "people": ctx.records.people()}

    return render(request, ctx, "announcements.html", **await run_in_threadpool(data))


async def cancel_announcement(request: Request, ctx: ConsoleContext, actor: Actor, form: Any) -> Response:
    try:
        a = await run_in_threadpool(ctx.usecases.cancel, actor, request.path_params["ann_id"], str(form.get("reason") or ""))
    except PermissionDenied:
        raise
    except BroadcasterError as exc:
        return _err(request, ctx, exc, f"{PREFIX}/announcements")
    back = str(form.get("back") or "/announcements")
    return _redirect(request, back if back.startswith("/") and "//" not in back else "/announcements", S.CANCELLED_ALL.format(title=a.title))


def _monday(d: date) -> date:
    return d - timedelta(days=d.weekday())


async def week_page(request: Request, ctx: ConsoleContext, actor: Actor, form: Any) -> Response:
    from broadcaster.config import parse_date
    from broadcaster.web.calendar import build_week

    zones = actor.visible_zones(ctx.ward)
    zone = request.query_params.get("zone") or (zones[0] if zones else "")
    ctx.usecases.require(actor, "view", [zone])
    if zone not in [z.id for z in ctx.ward.zones]:
        return render(request, ctx, "message.html", 404, title=S.NOT_FOUND, message=S.NOT_FOUND)
    view = "day" if request.query_params.get("view") == "day" else "week"
    now = ctx.clock()
    today = now.astimezone(ctx.ward.tz).date()
    d = parse_date(request.query_params.get("date", "")) or today
    first = d if view == "day" else _monday(d)
    n = 1 if view == "day" else 7
    week = await run_in_threadpool(build_week, ctx.ward, ctx.store, zone, first, n, now)
    speakers = [x for x in ctx.ward.speakers(zone)]
    step = timedelta(days=n)
    return render(request, ctx, "week.html", week=week, zone=zone, zones=zones, view=view, first=first, today=today,
                  prev=(first - step).isoformat(), next=(first + step).isoformat(), speakers=speakers)


async def airing_action(request: Request, ctx: ConsoleContext, actor: Actor, form: Any) -> Response:
    what = request.path_params["what"]
    item = str(form.get("item_id") or "")
    back = str(form.get("back") or "/week")
    back = back if back.startswith("/") and "//" not in back else "/week"
    try:
        if what == "cancel":
            await run_in_threadpool(ctx.usecases.cancel_airing, actor, item, str(form.get("reason") or ""))
            return _redirect(request, back, S.CANCELLED_AIRING)
        if what == "replay":
            res = await run_in_threadpool(ctx.usecases.replay, actor, item)
            return _redirect(request, back, S.REPLAYED.format(title=res.stored.title, zone=_zones_named(ctx.ward, res.stored.zones)))
    except PermissionDenied:
        raise
    except BroadcasterError as exc:
        return _err(request, ctx, exc, PREFIX + back)
    return render(request, ctx, "message.html", 404, title=S.NOT_FOUND, message=S.NOT_FOUND)


# -- devices ---------------------------------------------------------------------------------


async def devices_page(request: Request, ctx: ConsoleContext, actor: Actor, form: Any) -> Response:
    ctx.usecases.require(actor, "view")
    return render(request, ctx, "devices.html", devices=await run_in_threadpool(_devices_view, ctx, actor))


async def devices_rows(request: Request, ctx: ConsoleContext, actor: Actor, form: Any) -> Response:
    ctx.usecases.require(actor, "view")
    return render(request, ctx, "devices_rows.html", devices=await run_in_threadpool(_devices_view, ctx, actor))


async def set_volume(request: Request, ctx: ConsoleContext, actor: Actor, form: Any) -> Response:
    dev = request.path_params["device_id"]
    try:
        vol = int(str(form.get("volume") or ""))
    except ValueError:
        vol = -1
    try:
        await run_in_threadpool(ctx.usecases.set_volume, actor, dev, vol)
    except PermissionDenied:
        raise
    except BroadcasterError as exc:
        return _err(request, ctx, exc, f"{PREFIX}/devices")
    return _redirect(request, "/devices", S.VOLUME_SET.format(device=dev, volume=vol))


# -- report, audit ---------------------------------------------------------------------------


def _month(request: Request, ctx: ConsoleContext) -> str:
    from broadcaster.central.words import month_word

    raw = request.query_params.get("month")
    if raw:
        try:
            return month_word(raw)
        except BroadcasterError:
            pass
    return f"{ctx.clock().astimezone(ctx.ward.tz):%Y-%m}"


def _report_data(ctx: ConsoleContext, actor: Actor, month: str) -> dict[str, Any]:
    from broadcaster.central.report import build_report, svg_chart

    rep = build_report(ctx.ward, ctx.store, month, now=ctx.clock())
    zones = set(actor.visible_zones(ctx.ward))
    rep.items = [i for i in rep.items if i.zone in zones]
    people = ctx.records.people()
    anns = {a.id: a for a in ctx.store.announcements(include_cancelled=True)}
    start, end = __import__("broadcaster.central.report", fromlist=["month_range"]).month_range(rep.month, ctx.ward)
    started: dict[str, list[datetime]] = {}
    for ev in ctx.store.events(start - timedelta(days=1), end + timedelta(days=1)):
        if ev.kind == "played" and ev.started:
            started.setdefault(ev.item_id, []).append(ev.started)
    cancelled = [a for a in anns.values() if a.status == "cancelled" and a.cancelled_at and start <= a.cancelled_at < end
                 and set(a.zones) & zones]
    from broadcaster.wire.times import parse_time

    skipped = [{**dict(r), "at": parse_time(r["at"])} for r in ctx.records.skipped().values() if r["zone"] in zones]
    skipped = [r for r in skipped if start <= r["at"] < end]
    zc = {z: c for z, c in rep.by_zone().items() if z in zones}
    chart = svg_chart([(_zone_name(ctx.ward, z), c) for z, c in zc.items()])
    return {"rep": rep, "people": people, "anns": anns, "started": started, "cancelled": cancelled, "skipped": skipped,
            "by_zone": zc, "chart": chart, "month": month}


async def report_page(request: Request, ctx: ConsoleContext, actor: Actor, form: Any) -> Response:
    ctx.usecases.require(actor, "view")
    month = _month(request, ctx)
    data = await run_in_threadpool(_report_data, ctx, actor, month)
    from markupsafe import Markup

    data["chart"] = Markup(data["chart"])  # built from escaped parts in central/report.py
    return render(request, ctx, "report.html", **data)


def _report_rows(ctx: ConsoleContext, data: dict[str, Any]) -> list[tuple[str, list[list[object]]]]:
    tz = ctx.ward.tz
    rep, people, started = data["rep"], data["people"], data["started"]
    names = _full_names(ctx)
    who = functools.partial(person_text, names)
    detail: list[list[object]] = [["Thời gian (giờ Việt Nam)", "Khu phố", "Mã thông báo", "Tiêu đề", "Mức", "Kết quả",
                                   "Phát thực tế", "Loa đã phát", "Người soạn", "Người duyệt", "Lý do"]]
    for it in rep.items:
        p = people.get(it.announcement_id)
        detail.append([S.fmt_dt(it.scheduled, tz), _zone_name(ctx.ward, it.zone), it.announcement_id, it.title,
                       S.PRIORITY.get(it.priority, it.priority), S.OUTCOME[it.outcome],
                       " ".join(S.fmt_hms(t, tz) for t in sorted(started.get(it.item_id, []))),
                       " ".join(sorted(set(it.devices))), who(p["composer"]) if p else "", who(p["approver"]) if p else "",
                       S.reason_vi(it.reason)])
    zones: list[list[object]] = [["Khu phố", "Kế hoạch", *[S.OUTCOME[k] for k in ("played", "interrupted", "failed", "missed", "pending")]]]
    for z, c in data["by_zone"].items():
        zones.append([_zone_name(ctx.ward, z), sum(c.values()), *[c[k] for k in ("played", "interrupted", "failed", "missed", "pending")]])
    anns: list[list[object]] = [["Mã", "Tiêu đề", "Mức", "Khu phố", "Kế hoạch", "Đã phát", "Người soạn", "Người duyệt"]]
    for aid, (title, prio, zs, c) in sorted(rep.by_announcement().items()):
        p = people.get(aid)
        anns.append([aid, title, S.PRIORITY.get(prio, prio), _zones_named(ctx.ward, sorted(zs)), sum(c.values()), c["played"],
                     who(p["composer"]) if p else "", who(p["approver"]) if p else ""])
    canc: list[list[object]] = [["Mã", "Thông báo", "Khu phố", "Hủy lúc", "Người hủy", "Lý do"]]
    for a in data["cancelled"]:
        p = people.get(a.id)
        canc.append([a.id, f"{a.title} ({S.CANCELLED_WHOLE})", _zones_named(ctx.ward, a.zones), S.fmt_dt(a.cancelled_at, tz), who(p["cancelled_by"]) if p else "",
                     p["cancel_reason"] if p else ""])
    for r in data["skipped"]:
        a = data["anns"].get(r["announcement_id"])
        canc.append([r["announcement_id"], f"{a.title if a else r['announcement_id']} ({S.CANCELLED_ONE})",
                     _zone_name(ctx.ward, r["zone"]), S.fmt_dt(r["at"], tz), who(r["by"]), r["reason"]])
    return [("Chi tiết", detail), ("Theo khu phố", zones), ("Theo thông báo", anns), ("Đã hủy", canc)]


async def report_download(request: Request, ctx: ConsoleContext, actor: Actor, form: Any) -> Response:
    ctx.usecases.require(actor, "view")
    month = _month(request, ctx)
    data = await run_in_threadpool(_report_data, ctx, actor, month)
    sheets = _report_rows(ctx, data)
    fmt = request.query_params.get("format", "csv")
    name = f"bao-cao-phat-thanh-{month}"
    if fmt == "xlsx":
        from broadcaster.web.xlsx import workbook

        body = workbook(sheets)
        return Response(body, media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                        headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"', "Cache-Control": "no-store"})
    which = {"chi-tiet": 0, "khu-pho": 1, "thong-bao": 2, "da-huy": 3}.get(request.query_params.get("sheet", "chi-tiet"), 0)
    buf = io.StringIO()
    csv.writer(buf).writerows(sheets[which][1])
    # Excel reads Vietnamese CSV correctly only with a UTF-8 byte-order mark
    return Response("\ufeff" + buf.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}-{request.query_params.get("sheet", "chi-tiet")}.csv"',
                             "Cache-Control": "no-store"})


async def audit_page(request: Request, ctx: ConsoleContext, actor: Actor, form: Any) -> Response:
    ctx.usecases.require(actor, "audit")
    try:
        page = max(0, int(request.query_params.get("page", "0")))
    except ValueError:
        page = 0
    # scoped on the server: an approver of some khu phố reads only what concerns them, and his own actions
    entries = await run_in_threadpool(ctx.usecases.audit_log, actor, 100, page * 100)
    return render(request, ctx, "audit.html", entries=entries, page=page)


async def users_page(request: Request, ctx: ConsoleContext, actor: Actor, form: Any) -> Response:
    from broadcaster.central.records import ALL_ZONES
    from broadcaster.central.usecases import Accounts

    ctx.usecases.require(actor, "users")
    error = None
    if request.method == "POST":
        zones = tuple(z for z in form.getlist("zones") if isinstance(z, str))
        if form.get("all_zones"):
            zones = (ALL_ZONES,)
        try:
            await run_in_threadpool(Accounts(ctx.usecases, ctx.passwords.hash).add, actor, str(form.get("username") or ""),
                                    str(form.get("role") or ""), zones, str(form.get("display_name") or ""),
                                    str(form.get("password") or ""))
            return _redirect(request, "/users", S.USER_ADDED.format(name=str(form.get("username") or "").strip().lower()))
        except PermissionDenied:
            raise
        except BroadcasterError as exc:
            error = str(exc)
    users = await run_in_threadpool(ctx.records.users)
    return render(request, ctx, "users.html", 400 if error else 200, users=users, error=error)


async def user_action(request: Request, ctx: ConsoleContext, actor: Actor, form: Any) -> Response:
    from broadcaster.central.usecases import Accounts

    what = request.path_params["what"]
    if what not in ("disable", "enable"):
        return render(request, ctx, "message.html", 404, title=S.NOT_FOUND, message=S.NOT_FOUND)
    try:
        await run_in_threadpool(Accounts(ctx.usecases, ctx.passwords.hash).set_active, actor, request.path_params["username"],
                                what == "enable")
    except PermissionDenied:
        raise
    except BroadcasterError as exc:
        return _err(request, ctx, exc, f"{PREFIX}/users")
    return _redirect(request, "/users", S.USER_DISABLED if what == "disable" else S.USER_ENABLED)
