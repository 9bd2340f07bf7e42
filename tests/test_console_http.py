"""The console over HTTP: sign-in, CSRF, sessions, and the matrix of roles × actions × khu phố.

Every refused request must change nothing: the test compares a snapshot of the store (announcements,
drafts, skipped airings, volumes, the plan revision) before and after.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from pathlib import Path
from typing import Any

import pytest
from console_support import NOW, PASSWORD, Console, csrf_of, login, make_console

from broadcaster.central import planner
from broadcaster.config import Announcement, ScheduleSpec


@pytest.fixture
def console(ward_dir: Path) -> Console:
    return make_console(ward_dir)


def snapshot(con: Console) -> Any:
    s = con.store
    return (
        [(a.id, a.status) for a in s.announcements(include_cancelled=True)],
        [tuple(r) for r in s.rows("SELECT id, status, decided_by, reason FROM drafts ORDER BY id")],
        [tuple(r) for r in s.rows("SELECT item_id FROM skipped_items")],
        [tuple(r) for r in s.rows("SELECT device_id, volume FROM device_volume")],
        s.plan_revision,
    )


def ann(title: str, zones: tuple[str, ...], priority: str = "normal", at_min: int = 20) -> Announcement:
    at = (NOW + __import__("datetime").timedelta(minutes=at_min)).astimezone(planner.UTC)
    from zoneinfo import ZoneInfo

    return Announcement(f"a-{title}", title, f"UBND phường thông báo {title}.", zones, priority, 1, False, True,
                        ScheduleSpec("once", at=at.astimezone(ZoneInfo("Asia/Ho_Chi_Minh"))))


def test_login_logout_rate_limit_and_session_end(console: Console) -> None:
    c = console.client()
    r = c.get("/console/")
    assert r.status_code == 303 and r.headers["location"].startswith("/console/login")
    assert "Tên đăng nhập" in c.get("/console/login").text
    r = login(c, "soan1", "sai-mat-khau")
    assert r.status_code == 401 and "không đúng" in r.text
    r = login(c, "soan1")
    assert r.status_code == 303
    cookie = r.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie.replace("Strict", "strict") and "Path=/console" in cookie
    assert PASSWORD not in cookie
    page = c.get("/console/")
    assert page.status_code == 200 and "Tổng quan" in page.text and "SOAN1" in page.text
    # logout ends the session on the server: the old cookie no longer works
    old = c.cookies.get("bc_console")
    tok = csrf_of(c)
    assert c.post("/console/logout", data={"csrf": tok}).status_code == 303
    c2 = console.client()
    c2.cookies.set("bc_console", old, path="/console")
    assert c2.get("/console/").status_code == 303
    # a forged cookie is refused
    c2.cookies.set("bc_console", "x" + old[1:], path="/console")
    assert c2.get("/console/").status_code == 303
    # rate limit: five failures, then even the right password waits
    c3 = console.client()
    for _ in range(5):
        assert login(c3, "duyet1", "sai").status_code == 401
    r = login(c3, "duyet1")
    assert r.status_code == 429 and "thử lại sau" in r.text
    audit = [e.action for e in console.ctx.records.audit_entries()]
    assert audit.count("login_failed") >= 6 and "login" in audit and "logout" in audit


def test_disabled_account_and_expired_session(console: Console) -> None:
    c = console.client("soan1")
    assert c.get("/console/").status_code == 200
    console.ctx.records.update_user("soan1", active=False)
    assert c.get("/console/").status_code == 303
    assert login(console.client(), "soan1").status_code == 401
    c = console.client("duyet1")
    tok = csrf_of(c)
    before = snapshot(console)
    console.clock.advance(hours=9)  # beyond the 8 h session
    r = c.post("/console/devices/kp1-loa1/volume", data={"csrf": tok, "volume": "30"})
    assert r.status_code == 401 and snapshot(console) == before


def _prepare(console: Console) -> dict[str, Any]:
    """A pending kp1 draft, an active kp1 announcement with an airing, as the use cases make them."""
    uc = console.ctx.usecases
    a1 = ann("hop-to", ("kp1",))
    pv = uc.preview(console.actor("soan1"), a1)
    draft = uc.submit(console.actor("soan1"), a1, pv.produced)
    a2 = ann("tiem-phong", ("kp1",), at_min=30)
    uc.queue(console.actor("duyet1"), [a2], [uc.preview(console.actor("duyet1"), a2).produced])
    item = planner.item_id(a2.id, "kp1", a2.schedule.at)  # type: ignore[arg-type]
    return {"draft": draft.id, "ann": a2.id, "item": item, "produced": pv.produced}


ACTIONS = {
    # name: (method path, form) built from the prepared objects
    "approve": lambda p: (f"/console/approvals/{p['draft']}/approve", {}),
    "return": lambda p: (f"/console/approvals/{p['draft']}/return", {"reason": "sửa lại giờ"}),
    "cancel": lambda p: (f"/console/announcements/{p['ann']}/cancel", {"reason": "trùng"}),
    "cancel_airing": lambda p: ("/console/airing/cancel", {"item_id": p["item"], "reason": "mưa"}),
    "volume": lambda p: ("/console/devices/kp1-loa1/volume", {"volume": "35"}),
}
# who may do each action on kp1 objects
ALLOWED = {
    "approve": {"duyet1", "quantri"},
    "return": {"duyet1", "quantri"},
    "cancel": {"duyet1", "quantri"},
    "cancel_airing": {"duyet1", "quantri"},
    "volume": {"duyet1", "quantri"},
}


@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_matrix_roles_actions_zones(console: Console, action: str) -> None:
    prepared = _prepare(console)
    path, form = ACTIONS[action](prepared)
    for user in ("soan1", "soan2", "duyet2", "quantri", "duyet1"):
        if action == "volume":
            form = {"volume": str(30 + len(user))}  # each user sets another value: a change shows
        c = console.client(user)
        tok = csrf_of(c)
        # without the CSRF token: refused whoever asks, nothing changes
        before = snapshot(console)
        r = c.post(path, data=form)
        assert r.status_code == 403 and "mã bảo vệ" in r.text, (user, action)
        r = c.post(path, data={**form, "csrf": "wrong"})
        assert r.status_code == 403 and snapshot(console) == before, (user, action)
        if user not in ALLOWED[action]:
            r = c.post(path, data={**form, "csrf": tok})
            assert r.status_code == 403, (user, action, r.status_code, r.text[:300])
            assert "không được" in r.text or "không phụ trách" in r.text
            assert snapshot(console) == before, (user, action)
        elif user == "quantri" and action in ("approve", "return", "cancel", "cancel_airing"):
            continue  # the admin could, but the kp1 approver does it below (each object once)
        else:
            r = c.post(path, data={**form, "csrf": tok})
            assert r.status_code == 303, (user, action, r.text[:500])
            assert snapshot(console) != before, (user, action)
    denied = [e for e in console.ctx.records.audit_entries(1000) if e.action == "denied"]
    assert len(denied) >= 3 * 2  # three forbidden users, CSRF and permission refusals recorded


def test_audit_page_and_users_pages_need_their_role(console: Console) -> None:
    assert console.client("soan1").get("/console/audit").status_code == 403
    r = console.client("quantri").get("/console/audit")
    assert r.status_code == 200 and "Nhật ký" in r.text and "đăng nhập" in r.text


def test_compose_check_preview_submit_approve_over_http(console: Console) -> None:
    c = console.client("soan1")
    tok = csrf_of(c, "/console/compose")
    h = {"X-CSRF-Token": tok, "X-Requested-With": "fetch"}
    form = {"title": "Họp tổ dân phố", "text": "Mời bà con dự họp lúc 19h30 ngày 05/12/2026 tại nhà văn hóa KP1.",
            "zone_mode": "pick", "zones": ["kp1"], "priority": "normal", "readings": "1", "kind": "once",
            "at_date": "01/12/2026", "at_time": "12:00", "show_on_tv": "1"}
    r = c.post("/console/compose/check", data=form, headers=h)
    data = r.json()
    assert "mười chín giờ ba mươi" in data["spoken"] and "năm tháng mười hai" in data["spoken"]
    assert data["length"].startswith("ước tính")
    sched = [x for x in data["checks"] if x["field"] == "schedule" and x["level"] == "error"]
    assert sched and "đã qua" in sched[0]["text"]
    # a kp2 zone for a kp1 composer (a forged form): not his, so no khu phố is chosen
    r = c.post("/console/compose/check", data={**form, "zones": ["kp2"], "at_time": "17:40"}, headers=h)
    assert "Chưa chọn khu phố" in r.json()["errors"]["zones"]
    r = c.post("/console/compose/preview", data={**form, "zones": ["kp2"], "at_time": "17:40"}, headers=h)
    assert r.status_code == 422 and "Chưa chọn khu phố" in r.text
    # "Toàn phường" for him means every khu phố he is responsible for
    r = c.post("/console/compose/check", data={**form, "zone_mode": "all", "at_time": "17:40"}, headers=h)
    assert r.status_code == 200 and not r.json()["errors"]
    # emoji: the voice cannot read them, the TV shows boxes; said beside the field, degrees and per cent are fine
    r = c.post("/console/compose/check", data={**form, "title": "Họp 🎉", "text": form["text"] + " 😀👍 Trời 30°C, 50%.",
                                                "at_time": "17:40"}, headers=h)
    emoji = {**{x["field"]: x["text"] for x in r.json()["checks"] if x["level"] == "error"}, **r.json()["errors"]}
    assert set(emoji) == {"title", "text"} and "🎉" in emoji["title"] and "😀 👍" in emoji["text"], emoji
    assert "biểu tượng cảm xúc" in emoji["text"] and "°" not in emoji["text"]
    # outside the window
    r = c.post("/console/compose/check", data={**form, "at_time": "19:00"}, headers=h)
    assert any("ngoài khung giờ" in x["text"] for x in r.json()["checks"])
    # good: preview with audio and slide, then send for approval
    form["at_time"] = "17:40"
    r = c.post("/console/compose/preview", data=form, headers=h)
    assert r.status_code == 200, r.text[:500]
    assert '<audio id="preview-audio"' in r.text and 'class="slide"' in r.text
    # the voice it will air with; the ward's preferred voice spoke, so no fallback warning
    assert re.search(r'id="preview-voice">espeak[^<]*</span>', r.text) and 'id="voice-warning"' not in r.text
    audio = re.search(r'src="(/media/[0-9a-f]{64}\.mp3)"', r.text).group(1)  # type: ignore[union-attr]
    got = c.get(audio)
    assert got.status_code == 200 and got.headers["content-type"] == "audio/mpeg" and len(got.content) > 1000
    pid = re.search(r'name="preview_id" value="([^"]+)"', r.text).group(1)  # type: ignore[union-attr]
    # another user cannot send someone else's preview
    other = console.client("duyet1")
    r2 = other.post("/console/compose/send", data={"csrf": csrf_of(other), "preview_id": pid, "action": "queue"})
    assert r2.status_code == 400 and not console.store.announcements()
    r = c.post("/console/compose/send", data={"csrf": tok, "preview_id": pid, "action": "submit"})
    assert r.status_code == 303
    assert not console.store.announcements()  # waits for approval: nothing is sent
    d = console.ctx.records.drafts("pending")[0]
    # the composer may not approve his own
    assert c.post(f"/console/approvals/{d.id}/approve", data={"csrf": tok}).status_code == 403
    a = console.client("duyet1")
    page = a.get("/console/approvals").text
    assert "Họp tổ dân phố" in page and f"/media/{d.audio}" in page
    # the khu phố by name and the schedule in Vietnamese, as on the rest of the page
    assert "Khu phố 1 · một lần 17:40 01/12/2026" in page and "kp1 ·" not in page
    r = a.post(f"/console/approvals/{d.id}/approve", data={"csrf": csrf_of(a)})
    assert r.status_code == 303
    [stored] = console.store.announcements()
    people = console.ctx.records.people()[stored.id]
    assert (people["composer"], people["approver"]) == ("soan1", "duyet1")
    # it is in the week of kp1, at 17:40, with the node state
    week = a.get("/console/week?zone=kp1&date=2026-12-01").text
    assert "Họp tổ dân phố" in week and "17:40:00" in week and "kp1-loa1: chưa gửi" in week
    # editing the approved item makes a new version that needs approval again
    r = a.get(f"/console/compose?edit={stored.id}")
    assert r.status_code == 200 and f'name="replaces" value="{stored.id}"' in r.text


def test_return_with_reason_and_emergency_is_guarded(console: Console) -> None:
    p = _prepare(console)
    a = console.client("duyet1")
    tok = csrf_of(a)
    assert a.post(f"/console/approvals/{p['draft']}/return", data={"csrf": tok, "reason": " "}).status_code == 400
    assert a.post(f"/console/approvals/{p['draft']}/return", data={"csrf": tok, "reason": "Sai giờ họp"}).status_code == 303
    # a second click (another tab, another approver): said in Vietnamese, not the status word of the database
    r = a.post(f"/console/approvals/{p['draft']}/approve", data={"csrf": tok})
    assert r.status_code == 400 and "đã bị trả lại" in r.text and "returned" not in r.text
    r = a.post(f"/console/approvals/{p['draft']}/return", data={"csrf": tok, "reason": "lần nữa"})
    assert r.status_code == 400 and "không còn chờ duyệt" in r.text and "decided" not in r.text
    c = console.client("soan1")
    assert "Sai giờ họp" in c.get("/console/").text
    # emergency: a composer may not (ward file default), an approver must confirm
    assert c.get("/console/emergency").status_code == 403
    h = {"X-CSRF-Token": tok, "X-Requested-With": "fetch"}
    # not even by forging the priority on the ordinary compose form: nothing is produced for him
    media_before = console.store.rows("SELECT COUNT(*) FROM media")[0][0]
    forged = {"title": "Giả khẩn cấp", "text": "Thử phát khẩn cấp.", "zone_mode": "pick", "zones": ["kp1"],
              "priority": "emergency", "readings": "1", "kind": "now"}
    r = c.post("/console/compose/preview", data=forged, headers={"X-CSRF-Token": csrf_of(c), "X-Requested-With": "fetch"})
    assert r.status_code == 403 and "không được phát khẩn cấp" in r.text, r.text[-600:]
    assert console.store.rows("SELECT COUNT(*) FROM media")[0][0] == media_before
    form = {"mode": "emergency", "title": "Cảnh báo lũ", "text": "Nước sông đang lên nhanh, bà con di chuyển lên cao.",
            "zone_mode": "pick", "zones": ["kp1"], "readings": "1"}
    import re

    r = a.post("/console/compose/preview", data=form, headers=h)
    assert r.status_code == 200 and "XÁC NHẬN PHÁT KHẨN CẤP" in r.text
    assert "Khẩn cấp: phát ngay bây giờ" in r.text and "giờ đã chọn" not in r.text  # the emergency page has no time to choose
    assert "Khu phố 1" in r.text  # the confirmation names the khu phố as the officer knows them
    pid = re.search(r'name="preview_id" value="([^"]+)"', r.text).group(1)  # type: ignore[union-attr]
    before = len(console.store.announcements())
    assert a.post("/console/emergency", data={"csrf": tok, "preview_id": pid}).status_code == 400  # no confirmation
    assert len(console.store.announcements()) == before
    r = a.post("/console/emergency", data={"csrf": tok, "preview_id": pid, "confirm": "yes"})
    assert r.status_code == 303
    em = [x for x in console.store.announcements() if x.priority == "emergency"]
    assert len(em) == 1 and em[0].zones == ("kp1",) and em[0].schedule.kind == "now"
    assert any(e.action == "emergency" and e.username == "duyet1" for e in console.ctx.records.audit_entries())
    assert "tới Khu phố 1." in a.get(r.headers["location"]).text
    listing = a.get("/console/announcements").text
    assert "Cảnh báo lũ" in listing and "ngay bây giờ" in listing and "(now)" not in listing
    assert f"/console/compose?edit={em[0].id}" not in listing  # no «Sửa» that could only lead to a refusal


def test_cancel_airing_replay_and_report_downloads(console: Console) -> None:
    p = _prepare(console)
    a = console.client("duyet1")
    tok = csrf_of(a)
    week = a.get("/console/week?zone=kp1&date=2026-12-01").text
    assert "Hủy lượt này" in week and 'name="reason" placeholder="Lý do hủy"' in week  # the report will say why
    assert a.post("/console/airing/cancel", data={"csrf": tok, "item_id": p["item"], "reason": "mưa lớn"}).status_code == 303
    assert p["item"] in console.store.decided_ids()
    plan = planner.plan(console.ward, console.store.announcements(), NOW, NOW + __import__("datetime").timedelta(hours=3),
                        decided=console.store.decided_ids())
    assert p["item"] not in {i.item_id for i in plan.items}
    assert "đã hủy" in a.get("/console/week?zone=kp1&date=2026-12-01").text
    # phát lại: a copy into the zone's current or next window
    r = a.post("/console/airing/replay", data={"csrf": tok, "item_id": p["item"]})
    assert r.status_code == 303
    assert any(x.source.startswith("phát lại") for x in console.store.announcements())
    # a second click: refused with what to do, still one copy
    r = a.post("/console/airing/replay", data={"csrf": tok, "item_id": p["item"]})
    assert r.status_code == 400 and "đã được xếp phát lại" in r.text
    assert sum(x.source.startswith("phát lại") for x in console.store.announcements()) == 1
    # report page, CSV with BOM, xlsx that opens as a zip with the sheets
    report = a.get("/console/report?month=12/2026").text
    assert "Báo cáo kết quả phát thanh" in report
    # the cancelled airing by its title and khu phố, not by its internal id
    assert "tiem-phong (một lượt, Khu phố 1)" in report and "mưa lớn" in report and p["item"] not in report
    import re

    svg = re.search(r'<svg [^>]*width="(\d+)" height="(\d+)" viewBox="0 0 (\d+) (\d+)"', report)
    assert svg and svg.group(1, 2) == svg.group(3, 4)  # scales down whole on a phone
    r = a.get("/console/report/download?month=12/2026&format=csv")
    assert r.content.startswith("\ufeff".encode()) and "Thời gian" in r.content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert rows[0][0].startswith("Thời gian")
    r = a.get("/console/report/download?month=2026-12&format=xlsx")
    z = zipfile.ZipFile(io.BytesIO(r.content))
    assert "xl/worksheets/sheet4.xml" in z.namelist() and "Theo khu phố" in z.read("xl/workbook.xml").decode()
    assert "mưa lớn" in z.read("xl/worksheets/sheet4.xml").decode()
    cancelled = list(csv.reader(io.StringIO(a.get("/console/report/download?month=12/2026&sheet=da-huy").content.decode("utf-8-sig"))))
    assert cancelled[1][1:3] == ["tiem-phong (một lượt)", "Khu phố 1"] and cancelled[1][-1] == "mưa lớn"


def test_a_missed_airing_is_replayed_once(console: Console) -> None:
    p = _prepare(console)
    console.clock.advance(hours=1)  # its time passed with no node playing it
    a = console.client("duyet1")
    tok = csrf_of(a)
    week = a.get("/console/week?zone=kp1&view=day&date=2026-12-01").text
    form = f'<input type="hidden" name="item_id" value="{p["item"]}">'
    assert "bỏ lỡ" in week and week.count(form) == 1  # only its «Phát lại» (too late to cancel)
    assert a.post("/console/airing/replay", data={"csrf": tok, "item_id": p["item"]}).status_code == 303
    week = a.get("/console/week?zone=kp1&view=day&date=2026-12-01").text
    assert "đã xếp phát lại" in week and form not in week  # the button is gone: one click, one copy
    # the citizens' pages list the announcement once, not once more for the copy
    from broadcaster.public.data import public_announcements

    console.clock.advance(hours=1)  # the copy's window came too
    copies = [x for x in console.store.announcements() if x.source.startswith("phát lại")]
    assert len(copies) == 1
    listed = [x.id for x in public_announcements(console.ward, console.store, console.clock())]
    assert p["ann"] in listed and copies[0].id not in listed


def test_devices_page_volume_and_fragment(console: Console) -> None:
    a = console.client("duyet1")
    page = a.get("/console/devices").text
    assert "kp1-loa1" in page and "kp2-loa1" not in page  # scoped to his khu phố
    frag = a.get("/console/devices/rows", headers={"X-Requested-With": "fetch"})
    assert frag.status_code == 200 and "<tr" in frag.text and "<html" not in frag.text
    assert a.post("/console/devices/kp1-loa1/volume", data={"csrf": csrf_of(a), "volume": "101"}).status_code == 400
    r = a.post("/console/devices/kp1-loa1/volume", data={"csrf": csrf_of(a), "volume": "40"})
    assert r.status_code == 303 and "Đã đặt âm lượng kp1-loa1: 40" in a.get(r.headers["location"]).text
    # a «done» message is shown only when this console made it for this session, not from a link someone wrote
    from urllib.parse import quote

    forged = quote("Đã phát khẩn cấp. Gọi ngay 0999 999 999")
    assert "0999 999 999" not in a.get(f"/console/devices?ok={forged}").text
    assert "0999 999 999" not in a.get(f"/console/devices?ok={forged}&s=0123456789abcdef01234567").text
    assert "Đã đặt âm lượng" not in console.client("quantri").get(r.headers["location"]).text  # another's session
    assert console.ctx.records.volumes() == {"kp1-loa1": 40}
    # the reception TV is in no khu phố: it belongs to the whole ward, not to a kp1 approver
    assert 'action="/console/devices/tv-tnkq/volume"' not in a.get("/console/devices/rows").text
    before = snapshot(console)
    r = a.post("/console/devices/tv-tnkq/volume", data={"csrf": csrf_of(a), "volume": "10"})
    assert r.status_code == 403 and "không phụ trách" in r.text and snapshot(console) == before
    assert "chỉ được chỉnh âm lượng ở Khu phố 1." in r.text  # by name, as on every page
    # a TV reports no volume and has no loudspeaker: no form, and the server refuses even an administrator
    q = console.client("quantri")
    rows = q.get("/console/devices/rows").text
    assert 'action="/console/devices/tv-tnkq/volume"' not in rows and "TV không có âm lượng" in rows
    assert 'action="/console/devices/kp2-loa1/volume"' in rows
    before = snapshot(console)
    r = q.post("/console/devices/tv-tnkq/volume", data={"csrf": csrf_of(q), "volume": "60"})
    assert r.status_code == 400 and "là TV, không có âm lượng" in r.text and snapshot(console) == before
    assert "tv-tnkq" not in console.ctx.records.volumes()
    # offline nodes are flagged on the first page
    assert "mất kết nối" in a.get("/console/").text


def test_media_and_root(console: Console) -> None:
    c = console.client()
    assert c.get("/").headers["location"] == "/console/"
    assert c.get("/media/../store.sqlite").status_code == 404
    assert c.get("/console/static/console.css").status_code == 200


def _tone(path: Path, seconds: float, volume: str = "0.5") -> Path:
    import subprocess

    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}",
                    "-af", f"volume={volume}", *(["-c:a", "aac"] if path.suffix == ".m4a" else []), str(path)], check=True)
    return path


def test_upload_a_recording_instead_of_speech(console: Console, tmp_path: Path) -> None:
    import re

    c = console.client("soan1")
    tok = csrf_of(c, "/console/compose")
    h = {"X-CSRF-Token": tok, "X-Requested-With": "fetch"}
    form = {"title": "Thông báo thu âm", "text": "Bản ghi âm của trưởng khu phố.", "zone_mode": "pick", "zones": ["kp1"],
            "readings": "2", "kind": "once", "at_date": "01/12/2026", "at_time": "17:45", "chime": "1"}
    good = _tone(tmp_path / "ghi-am.m4a", 3)
    with open(good, "rb") as f:
        r = c.post("/console/compose/preview", data=form, files={"audio": ("ghi-am.m4a", f, "audio/mp4")}, headers=h)
    assert r.status_code == 200, r.text[:400]
    assert "recording" in r.text
    length = re.search(r'id="preview-length">([^<]+)<', r.text).group(1)  # type: ignore[union-attr]
    assert "giây" in length and int(length.split()[0]) >= 6  # chime + two readings of 3 s + pause
    corrupt = tmp_path / "hong.mp3"
    corrupt.write_bytes(b"ID3" + bytes(range(256)) * 20)
    silent = _tone(tmp_path / "im-lang.wav", 3, volume="0")
    before = snapshot(console)
    for f_path, why in ((corrupt, "(hỏng|không phải tệp âm thanh)"), (silent, "không có tiếng"), (tmp_path / "x.txt", "không phải tệp âm thanh")):
        if not f_path.exists():
            f_path.write_text("x")
        with open(f_path, "rb") as f:
            r = c.post("/console/compose/preview", data=form, files={"audio": (f_path.name, f, "application/octet-stream")}, headers=h)
        assert r.status_code == 422 and re.search(why, r.text), (f_path.name, r.text[:300])
    assert snapshot(console) == before


def test_console_checks_agree_with_the_cli_validation(console: Console) -> None:
    """Whatever the console marks as an error, `broadcaster queue` refuses too, and the reverse."""
    from datetime import timedelta
    from zoneinfo import ZoneInfo

    from broadcaster.central.service import check_announcements
    from broadcaster.central.usecases import queue_checks
    from broadcaster.errors import ScheduleError

    tz = ZoneInfo("Asia/Ho_Chi_Minh")
    local = NOW.astimezone(tz)
    cases = []
    for minutes in (-90, -2, 5, 40, 55, 120, 700):  # past, just past, in the window, after it, next morning
        cases.append(ScheduleSpec("once", at=local + timedelta(minutes=minutes)))
    cases += [ScheduleSpec("now"),
              ScheduleSpec("daily", times=((local + timedelta(minutes=20)).time(),), start_date=local.date(), end_date=local.date() + timedelta(days=3)),
              ScheduleSpec("daily", times=((local + timedelta(minutes=20)).time(),), start_date=local.date() - timedelta(days=9), end_date=local.date() - timedelta(days=2)),
              ScheduleSpec("weekly", times=((local - timedelta(hours=4)).time(),), start_date=local.date(), end_date=local.date() + timedelta(days=14), weekdays=(0, 3))]
    for prio in ("normal", "priority", "emergency"):
        for spec in cases:
            for dur in (20_000, 2 * 3600_000):
                a = Announcement("x-1", "x", "x y", ("kp1", "kp5"), prio, 1, False, False, spec)
                console_error = any(c.level == "error" for c in queue_checks(console.ward, console.store, a, NOW, dur))
                try:
                    check_announcements(console.ward, console.store, [a], NOW, [dur])
                    cli_error = False
                except ScheduleError:
                    cli_error = True
                assert console_error == cli_error, (prio, spec, dur)


def test_editing_an_approved_announcement_needs_approval_again(console: Console) -> None:
    uc = console.ctx.usecases
    soan, duyet = console.actor("soan1"), console.actor("duyet1")
    a = ann("lich-cat-dien", ("kp1",))
    d = uc.submit(soan, a, uc.preview(soan, a).produced)
    first = uc.approve(duyet, d.id).stored
    # the composer edits it: a new draft that replaces the approved one; the old one still plays meanwhile
    edited = ann("lich-cat-dien", ("kp1",), at_min=35)
    edited = Announcement(edited.id, "Lịch cắt điện (sửa)", edited.text, edited.zones, edited.priority, 1, False, True, edited.schedule)
    d2 = uc.submit(soan, edited, uc.preview(soan, edited).produced, replaces=first.id)
    assert [x.id for x in console.store.announcements()] == [first.id]
    assert d2.status == "pending" and d2.replaces == first.id
    second = uc.approve(duyet, d2.id).stored
    assert console.store.announcement(first.id).status == "cancelled"
    assert [x.id for x in console.store.announcements()] == [second.id] and second.title == "Lịch cắt điện (sửa)"
    people = console.ctx.records.people()
    assert people[first.id]["cancelled_by"] == "duyet1" and second.id in people[first.id]["cancel_reason"]
    # approving late: the time has passed meanwhile -> refused in Vietnamese, nothing stored
    late = ann("hop-muon", ("kp1",), at_min=3)
    d3 = uc.submit(soan, late, uc.preview(soan, late).produced)
    console.clock.advance(minutes=10)
    before = snapshot(console)
    with pytest.raises(Exception, match="đã qua"):
        uc.approve(duyet, d3.id)
    assert snapshot(console) == before


def test_vietnamese_words_on_the_command_line(ward_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from broadcaster.central.words import month_word, priority_word, weekday_words, zone_words
    from broadcaster.cli.main import main
    from broadcaster.errors import ConfigError
    from broadcaster.web.strings import reason_vi

    zones = ["kp1", "kp2", "kp3"]
    assert zone_words("KP1, kp3", zones) == ("kp1", "kp3") and zone_words("toàn phường", zones) == tuple(zones)
    assert zone_words("trừ khu phố 2", zones) == ("kp1", "kp3") and zone_words("all except kp1,kp2", zones) == ("kp3",)
    assert weekday_words("thứ 2, thứ năm, chủ nhật") == (0, 3, 6) and weekday_words("t2 t5") == (0, 3)
    assert priority_word("KHẨN CẤP") == "emergency" and priority_word("ưu tiên") == "priority" and priority_word("thường") == "normal"
    assert month_word("12/2026") == "2026-12" and month_word("tháng 1/2027") == "2027-01"
    for bad in (lambda: zone_words("kp9", zones), lambda: weekday_words("thứ 9"), lambda: priority_word("gấp lắm")):
        with pytest.raises(ConfigError):
            bad()
    assert reason_vi("media never fetched: timeout") == "Loa chưa tải được tệp âm thanh (timeout)"
    assert reason_vi("Ý kiến của lãnh đạo") == "Ý kiến của lãnh đạo"
    # the CLI takes them: refused with the Vietnamese priority word parsed (past time), and nothing stored
    rc = main(["queue", "--text", "x y z", "--zones", "KP1", "--priority", "khẩn cấp", "--at", "01/01/2020 17:00", "--engine", "espeak"])
    assert rc == 1 and "in the past" in capsys.readouterr().err
    rc = main(["queue", "--text", "x y z", "--zones", "KP1", "--priority", "rất gấp", "--now", "--engine", "espeak"])
    assert rc == 1 and "thường / ưu tiên / khẩn cấp" in capsys.readouterr().err


def test_accounts_page_for_the_administrator_only(console: Console) -> None:
    for user in ("soan1", "duyet1"):
        c = console.client(user)
        assert c.get("/console/users").status_code == 403
        r = c.post("/console/users", data={"csrf": csrf_of(c), "username": "moi", "role": "admin", "all_zones": "1",
                                           "password": "mat-khau-moi-123"})
        assert r.status_code == 403 and console.ctx.records.user("moi") is None
    a = console.client("quantri")
    tok = csrf_of(a)
    r = a.post("/console/users", data={"csrf": tok, "username": "moi", "role": "composer", "zones": ["kp3"], "password": "ngan"})
    assert r.status_code == 400 and "10 ký tự" in r.text and console.ctx.records.user("moi") is None
    r = a.post("/console/users", data={"csrf": tok, "username": "moi", "role": "composer", "zones": ["kp3"],
                                       "password": "mat-khau-moi-123", "display_name": "Trần Thị Mới"})
    assert r.status_code == 303 and console.ctx.records.user("moi").zones == ("kp3",)  # type: ignore[union-attr]
    new = console.client()
    assert login(new, "moi", "mat-khau-moi-123").status_code == 303
    assert a.post("/console/users/moi/disable", data={"csrf": tok}).status_code == 303
    assert new.get("/console/").status_code == 303  # the open session ended with the account
    assert a.post("/console/users/quantri/disable", data={"csrf": tok}).status_code == 400  # not oneself


def test_unknown_ids_in_addresses_are_clear_errors(console: Console) -> None:
    a = console.client("duyet1")
    tok = csrf_of(a)
    answers = [
        a.get("/console/compose?edit=khong-co"),
        a.get("/console/compose?draft=abc"),
        a.get("/console/week?zone=kp9"),
        a.post("/console/approvals/999/approve", data={"csrf": tok}),
        a.post("/console/airing/cancel", data={"csrf": tok, "item_id": "x"}),
        a.post("/console/devices/khong-co/volume", data={"csrf": tok, "volume": "5"}),
        a.post("/console/announcements/khong-co/cancel", data={"csrf": tok, "reason": "x"}),
        a.post("/console/approvals/abc/approve", data={"csrf": tok}),  # no route takes a word there
        a.get("/console/khong-co-trang-nay"),
        a.get("/console/compose/send"),  # a form's address opened as a page
    ]
    assert [r.status_code for r in answers] == [404, 400, 403, 400, 400, 400, 400, 404, 404, 405]
    for r in answers:
        # Vietnamese that says what to do; never the CLI's English, a file path or Python's own words
        assert "<html" in r.text and "không" in r.text.lower(), r.text[:300]
        for leak in ("ward.toml", "unknown device", "in the store", "invalid literal", "Not Found", "Method Not Allowed",
                     "broadcaster list", str(console.ward.source)):
            assert leak not in r.text, (leak, r.url)
    assert "Quay lại" in answers[5].text and "tải lại trang" in answers[0].text


def test_devices_show_since_when_online_or_offline(console: Console) -> None:
    from datetime import timedelta

    from broadcaster.protocol import DeviceState

    s = console.store
    t0 = NOW - timedelta(hours=3)
    s.update_device_state(DeviceState("kp1-loa1", "speaker", True, zone="kp1", applied={"zone/kp1": 1}), received_at=t0, live=True)
    s.update_device_state(DeviceState("kp1-loa1", "speaker", True, zone="kp1", applied={"zone/kp1": 2}),
                          received_at=t0 + timedelta(hours=1), live=True)  # still online: "since" unchanged
    page = console.client("duyet1").get("/console/devices/rows").text
    assert "Trực tuyến" in page and "từ 14:10 01/12/2026" in page
    s.update_device_state(DeviceState("kp1-loa1", "speaker", False, zone="kp1"), received_at=t0 + timedelta(hours=2), live=True)
    home = console.client("duyet1").get("/console/").text
    assert "Mất kết nối từ 16:10 01/12/2026" in home


def test_daily_and_weekly_schedules_from_the_form(console: Console) -> None:
    c = console.client("duyet1")
    tok = csrf_of(c, "/console/compose")
    h = {"X-CSRF-Token": tok, "X-Requested-With": "fetch"}
    base = {"title": "Tiêm phòng", "text": "Tiêm phòng dại cho chó mèo tại nhà văn hóa.", "zone_mode": "all", "readings": "1"}
    daily = {**base, "kind": "daily", "times": "17:15, 05:45", "from": "01/12/2026", "until": "07/12/2026"}
    data = c.post("/console/compose/check", data=daily, headers=h).json()
    assert not data["errors"] and not [x for x in data["checks"] if x["level"] == "error"], data
    # 05:20 is inside KP5's own morning window (05:15-06:15) but not the others' (05:30-06:30)
    data = c.post("/console/compose/check", data={**daily, "times": "05:20"}, headers=h).json()
    assert any("Khu phố 1" in x["text"] and "ngoài khung giờ" in x["text"] for x in data["checks"])
    weekly = {**base, "kind": "weekly", "times": "17:30", "from": "01/12/2026", "until": "31/12/2026"}
    data = c.post("/console/compose/check", data=weekly, headers=h).json()
    assert "Chọn ít nhất một ngày" in data["errors"]["schedule"]
    data = c.post("/console/compose/check", data={**weekly, "weekdays": ["0", "3"]}, headers=h).json()
    assert not data["errors"]
    r = c.post("/console/compose/preview", data={**weekly, "weekdays": ["0", "3"]}, headers=h)
    import re

    pid = re.search(r'name="preview_id" value="([^"]+)"', r.text).group(1)  # type: ignore[union-attr]
    assert c.post("/console/compose/send", data={"csrf": tok, "preview_id": pid, "action": "queue"}).status_code == 303
    [a] = console.store.announcements()
    assert a.schedule.kind == "weekly" and a.schedule.weekdays == (0, 3) and a.zones == ("kp1",)  # his khu phố only
    week = c.get("/console/week?zone=kp1&date=2026-12-03").text
    assert week.count("Tiêm phòng") >= 1 and "17:30:00" in week


def test_the_tv_row_says_what_is_on_screen_in_words(console: Console) -> None:
    from broadcaster.protocol import DeviceState

    s = console.store
    q = console.client("quantri")

    def showing(playing: str) -> str:
        s.update_device_state(DeviceState("tv-tnkq", "display", True, playing=playing), received_at=NOW, live=True)
        rows = q.get("/console/devices/rows").text
        row = rows[rows.index('data-device="tv-tnkq"'):]
        return row[row.index('class="playing">') + 16:row.index("</td>", row.index('class="playing">'))]

    assert showing("01-catalog-01-khai_sinh_nhan_cmc-02") == "Thủ tục: Đăng ký khai sinh kết hợp nhận cha, mẹ, con"
    assert showing("02-text-01") == "Trang tin: Giờ làm việc"
    assert showing("00-hotline-01") == "Trang đường dây nóng, góp ý"
    assert showing("idle") == "Màn hình chờ"
    p = _prepare(console)
    item = p["item"]
    assert showing(item) == "Thông báo: tiem-phong"
    assert showing("zz-unknown") == "zz-unknown"  # nothing better known: the id as reported


def test_decisions_are_dated_by_the_use_cases_clock(console: Console) -> None:
    from datetime import timedelta

    from broadcaster.protocol import parse_time

    console.clock.advance(days=40)  # far from the wall clock: a wall-clock date cannot pass
    uc = console.ctx.usecases
    made = []
    for n in range(3):
        a = ann(f"quyet-dinh-{n}", ("kp1",), at_min=20 + n)
        a = Announcement(a.id, a.title, a.text, a.zones, a.priority, 1, False, True,
                         ScheduleSpec("once", at=a.schedule.at + timedelta(days=40)))  # type: ignore[operator]
        made.append(uc.submit(console.actor("soan1"), a, uc.preview(console.actor("soan1"), a).produced).id)
    uc.approve(console.actor("duyet1"), made[0])
    console.clock.advance(minutes=5)
    uc.return_draft(console.actor("duyet1"), made[1], "sửa giờ")
    console.clock.advance(minutes=5)
    uc.withdraw(console.actor("soan1"), made[2])
    uc.set_volume(console.actor("duyet1"), "kp1-loa1", 30)
    at = {d.id: d.decided_at for d in console.ctx.records.drafts(None)}
    t = console.clock.t
    assert [at[i] for i in made] == [t - timedelta(minutes=10), t - timedelta(minutes=5), t]
    (set_at,) = [parse_time(r[0]) for r in console.store.rows("SELECT set_at FROM device_volume WHERE device_id = 'kp1-loa1'")]
    assert set_at == t


def test_people_are_named_by_full_name_with_the_login_beside(console: Console) -> None:
    rec = console.ctx.records
    rec.update_user("soan1", display_name="Nguyễn Văn An")
    rec.update_user("duyet1", display_name="Trần Thị <Bình>")  # escaped, not markup
    rec.update_user("quantri", display_name="")  # no full name: the login, as before
    p = _prepare(console)
    a = console.client("duyet1")
    pending = a.get("/console/approvals").text
    assert 'Người soạn: <span class="person" title="soan1">Nguyễn Văn An <small>(soan1)</small></span>' in pending
    assert a.post(f"/console/approvals/{p['draft']}/approve", data={"csrf": csrf_of(a)}).status_code == 303
    recent = a.get("/console/approvals").text
    assert "Trần Thị &lt;Bình&gt; <small>(duyet1)</small>" in recent and "<Bình>" not in recent
    anns = a.get("/console/announcements").text
    assert "Nguyễn Văn An <small>(soan1)</small></span> / <span" in anns
    (hop,) = [x for x in console.store.announcements() if x.title == "hop-to"]
    assert a.post(f"/console/announcements/{hop.id}/cancel", data={"csrf": csrf_of(a), "reason": "hoãn"}).status_code == 303
    report = a.get("/console/report?month=12/2026").text
    assert "Trần Thị &lt;Bình&gt; <small>(duyet1)</small>" in report
    rows = list(csv.reader(io.StringIO(a.get("/console/report/download?month=12/2026&sheet=da-huy").content.decode("utf-8-sig"))))
    assert [r[4] for r in rows if r[0] == hop.id] == ["Trần Thị <Bình> (duyet1)"], rows
    q = console.client("quantri")
    q.post(f"/console/announcements/{p['ann']}/cancel", data={"csrf": csrf_of(q), "reason": "trùng"})
    audit = q.get("/console/audit").text
    assert "Nguyễn Văn An <small>(soan1)</small>" in audit and "<td>quantri</td>" in audit


def test_the_audit_log_of_an_approver_is_his_khu_pho_and_his_own_actions(console: Console) -> None:
    uc = console.ctx.usecases
    p = _prepare(console)  # soan1 submits for kp1, duyet1 queues «tiem-phong» in kp1
    a2 = ann("don-ve-sinh", ("kp2",))
    d2 = uc.submit(console.actor("soan2"), a2, uc.preview(console.actor("soan2"), a2).produced)
    a3 = ann("phun-thuoc", ("kp2",), at_min=35)
    uc.queue(console.actor("duyet2"), [a3], [uc.preview(console.actor("duyet2"), a3).produced])
    uc.cancel_airing(console.actor("duyet2"), planner.item_id(a3.id, "kp2", a3.schedule.at), "mưa kp2")  # type: ignore[arg-type]
    uc.set_volume(console.actor("duyet2"), "kp2-loa1", 25)
    uc.set_volume(console.actor("duyet1"), "kp1-loa1", 45)
    both = ann("ve-sinh-chung", ("kp1", "kp2"), at_min=40)
    uc.queue(console.actor("quantri"), [both], [uc.preview(console.actor("quantri"), both).produced])
    console.client("soan2")  # a sign-in elsewhere
    d1 = console.client("duyet1")
    d1.post("/console/approvals/99999/approve", data={"csrf": "sai"})  # his own refused request
    page = d1.get("/console/audit")
    assert page.status_code == 200
    text = page.text
    # about kp1 (his khu phố), or the whole ward, or by him
    assert f"draft:{p['draft']}" in text and p["ann"] in text and "âm lượng 45" in text and both.id in text
    assert "a-login" in text and "a-denied" in text  # his own sign-in and refusal
    # about kp2 only, or other people's sign-ins: not his to read
    for other in (f"draft:{d2.id}", a3.id, "mưa kp2", "kp2-loa1", "âm lượng 25"):
        assert other not in text, other
    rows = text.count('<tr class="a-')
    assert rows == 6, text  # submit, queue, volume (kp1), queue (both), his login, his refusal
    assert "SOAN2" not in text.split("<main", 1)[1]
    # an administrator reads everything
    q = console.client("quantri").get("/console/audit").text
    for every in (f"draft:{d2.id}", a3.id, "mưa kp2", "kp2-loa1", f"draft:{p['draft']}"):
        assert every in q, every
