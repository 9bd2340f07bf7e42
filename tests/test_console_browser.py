"""The console in a real browser (Debian's chromium driven by Playwright) against a real
``broadcaster serve``, a real Mosquitto and real speaker nodes, as an officer would use it:

log in as a composer, compose with live checks and a preview (the audio element loads and has a
duration), send for approval; log in as the leader, hear it, approve; see it in the week of the
khu phố; watch the nodes acknowledge and play it; send an emergency with its confirmation and see
the nodes play it; and a phone-sized screenshot of the week.

The browser runs in Asia/Ho_Chi_Minh (so a page that let the browser format times would show
them wrong here); the ward's window is opened around now (``demo.write_ward``), so nothing depends
on the hour the test runs at.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from test_ward_end_to_end import Processes

from broadcaster.config import load_ward
from broadcaster.demo import write_ward
from broadcaster.localbroker import LocalMosquitto, free_port

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--autoplay-policy=no-user-gesture-required"]
PASSWORD = "mat-khau-cua-phuong"

pytestmark = [pytest.mark.slow, pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed")]


@pytest.fixture
def served(tmp_path: Path, mosquitto: LocalMosquitto) -> Iterator[tuple[str, Processes, Path]]:
    src = ROOT / "devices" / "ward.toml"
    now = datetime.now(load_ward(src, env={}).tz)
    port = free_port()
    ward_file = write_ward(src, tmp_path / "ward", tmp_path / "home", port, now)
    env = {k: v for k, v in os.environ.items() if not k.startswith("BROADCASTER_")}
    env.update(BROADCASTER_WARD=str(ward_file), BROADCASTER_MQTT_URL=mosquitto.url)
    (tmp_path / "logs").mkdir()
    procs = Processes(env, tmp_path / "logs")
    procs.cli("keys", "init")
    for user, role, zones in (("soan", "soạn", "kp1"), ("duyet", "duyệt", "kp1,kp2")):
        import subprocess
        import sys

        res = subprocess.run([sys.executable, "-m", "broadcaster", "users", "add", user, "--role", role, "--zones", zones,
                              "--password-stdin", "--name", user.upper()], input=PASSWORD + "\n", env=env,
                             capture_output=True, text=True, timeout=60)
        assert res.returncode == 0, res.stderr
    procs.spawn("central", "serve", "--engine", "espeak")
    for node in ("kp1-loa1", "kp2-loa1"):
        procs.spawn(node, "speaker", "--device", node, "--output", "file", "--out", str(tmp_path / "out"))
    base = f"http://127.0.0.1:{port}"
    import urllib.request

    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(f"{base}/console/login", timeout=2).read()
            break
        except OSError:
            if time.monotonic() > deadline:
                raise AssertionError("the console did not come up:\n" + (tmp_path / "logs" / "central.log").read_text()) from None
            time.sleep(0.3)
    try:
        yield base, procs, tmp_path
    finally:
        procs.stop_all()


def _login(page, base: str, user: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{base}/console/login")
    page.fill('input[name="username"]', user)
    page.fill('input[name="password"]', PASSWORD)
    page.click('button[type="submit"]')
    page.wait_for_url(f"{base}/console/")


def _until(page, url: str, pattern: str, timeout: float, what: str) -> str:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while True:
        page.goto(url)
        text = page.inner_text("main")
        if re.search(pattern, text):
            return text
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}; page shows:\n{text[:3000]}")
        time.sleep(2)


def test_officer_flow_in_a_real_browser(served: tuple[str, Processes, Path]) -> None:
    from playwright.sync_api import sync_playwright

    base, procs, tmp = served
    shots = Path(os.environ.get("BROADCASTER_SCREENSHOTS") or tmp / "screenshots")
    shots.mkdir(parents=True, exist_ok=True)
    ward = load_ward(tmp / "ward" / "devices" / "ward.toml", env={})
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            ctx = browser.new_context(locale="vi-VN", timezone_id="Asia/Ho_Chi_Minh")
            page = ctx.new_page()
            # -- the composer --------------------------------------------------------------
            _login(page, base, "soan")
            # the two nodes come online (the first page flags offline ones until then)
            _until(page, f"{base}/console/", "Mọi thiết bị đang trực tuyến|1 thiết bị mất kết nối", 60, "nodes online")
            page.goto(f"{base}/console/compose")
            # the recording picker in Vietnamese, not the browser's "Choose File / No file chosen"
            assert page.locator(".file-pick button").inner_text() == "Chọn tệp…"
            assert page.locator(".file-name").inner_text() == "Chưa chọn tệp nào"
            page.fill('input[name="title"]', "Họp tổ dân phố")
            page.fill('textarea[name="text"]', "Mời bà con KP1 dự họp lúc 19h30 ngày 05/12/2026 tại nhà văn hóa.")
            page.check('input[name="zones"][value="kp1"]')
            page.check('input[name="kind"][value="once"]')
            at = datetime.now(ward.tz) + timedelta(seconds=100)
            page.fill('input[name="at_date"]', at.strftime("%d/%m/%Y"))
            page.fill('input[name="at_time"]', at.strftime("%H:%M:%S"))
            page.select_option('select[name="readings"]', "1")
            page.uncheck('input[name="chime"]')
            # (polled from here: the page's CSP forbids the string evaluation wait_for_function uses)
            deadline = time.monotonic() + 20
            while "mười chín giờ ba mươi" not in page.inner_text("#spoken"):
                assert time.monotonic() < deadline, "no «Sẽ đọc là» while typing"
                time.sleep(0.2)
            assert "ước tính" in page.inner_text("#length")
            page.click("#preview-button")
            page.wait_for_selector("#preview-audio", timeout=60000)
            duration = page.evaluate("""() => new Promise((ok, bad) => {
                const a = document.getElementById('preview-audio');
                if (a.readyState >= 1) return ok(a.duration);
                a.addEventListener('loadedmetadata', () => ok(a.duration));
                a.addEventListener('error', () => bad('audio error'));
                a.load();
            })""")
            assert duration > 1.0
            assert page.locator("img.slide").count() >= 1
            assert page.evaluate("document.querySelector('img.slide').naturalWidth") == 1920
            page.screenshot(path=str(shots / "compose-desktop.png"), full_page=True)
            page.click("#submit-button")
            page.wait_for_url(re.compile(r".*/console/approvals.*"))
            assert "Đã gửi duyệt" in page.inner_text("main")
            page.click("button.link")  # đăng xuất
            page.wait_for_url(re.compile(r".*/console/login"))
            # -- the leader ----------------------------------------------------------------
            _login(page, base, "duyet")
            page.goto(f"{base}/console/approvals")
            assert "Họp tổ dân phố" in page.inner_text("main")
            assert page.evaluate("document.querySelector('.draft audio').src").startswith(f"{base}/media/")
            page.click("button.approve")
            page.wait_for_url(re.compile(r".*ok=.*"))
            assert "Đã duyệt" in page.inner_text("main")
            week = f"{base}/console/week?zone=kp1&view=day"
            text = _until(page, week, r"kp1-loa1: loa đã nhận", 60, "the node to acknowledge")
            assert "Họp tổ dân phố" in text
            assert at.strftime("%H:%M:%S") in text  # the time in the ward's zone, formatted by the server
            # -- the emergency, with its confirmation --------------------------------------
            page.goto(f"{base}/console/emergency")
            page.fill('input[name="title"]', "Cảnh báo lũ")
            page.fill('textarea[name="text"]', "Nước sông đang lên nhanh. Bà con khu phố 2 di chuyển tài sản lên cao.")
            page.check('input[name="zones"][value="kp2"]')
            page.select_option('select[name="readings"]', "1")
            page.click("#preview-button")
            page.wait_for_selector("#emergency-go", timeout=60000)
            page.click("#emergency-go")  # without the confirmation box the browser refuses (required)
            assert "/console/emergency" in page.url and page.locator("#emergency-go").is_visible()
            # and says why in Vietnamese, whatever the browser's own language
            assert page.evaluate("document.querySelector('input[name=\"confirm\"]').validationMessage") == "Hãy đánh dấu ô này."
            page.check('input[name="confirm"]')
            page.click("#emergency-go")
            page.wait_for_url(re.compile(r".*ok=.*"))
            assert "Đã phát khẩn cấp" in page.inner_text("main")
            _until(page, f"{base}/console/week?zone=kp2&view=day", r"Cảnh báo lũ[\s\S]*kp2-loa1: đã phát", 120,
                   "kp2-loa1 to play the emergency")
            # -- the bulletin plays on time on the kp1 node ---------------------------------
            text = _until(page, week, r"kp1-loa1: đã phát", 240, "kp1-loa1 to play the bulletin")
            # -- devices: status and a volume change that reaches the node ------------------
            page.goto(f"{base}/console/devices")
            row = page.locator('tr[data-device="kp1-loa1"]')
            assert "Trực tuyến" in row.inner_text()
            row.locator('input[name="volume"]').fill("55")
            row.locator("button").click()
            page.wait_for_url(re.compile(r".*ok=.*"))
            deadline = time.monotonic() + 60
            while "55" not in page.locator('tr[data-device="kp1-loa1"] td').nth(6).inner_text():
                assert time.monotonic() < deadline, "the node did not report the new volume"
                time.sleep(1)  # the rows refresh themselves every 5 s without reloading the page
            # -- the citizens' pages share the server at / (no login, nothing of the console) --
            page.goto(f"{base}/")
            assert ward.name in page.inner_text("body") and "Đăng xuất" not in page.inner_text("body")
            # -- report and a phone-sized screenshot ----------------------------------------
            page.goto(f"{base}/console/report")
            assert "Họp tổ dân phố" in page.inner_text("main") and "Cảnh báo lũ" in page.inner_text("main")
            phone = browser.new_context(locale="vi-VN", timezone_id="Asia/Ho_Chi_Minh", viewport={"width": 390, "height": 844},
                                        device_scale_factor=2, is_mobile=True, has_touch=True)
            phone.add_cookies(ctx.cookies())
            p2 = phone.new_page()
            p2.goto(week)
            p2.screenshot(path=str(shots / "week-phone.png"), full_page=True)
            assert p2.evaluate("document.documentElement.scrollWidth") <= 390 + 2  # no sideways scrolling
            p2.goto(f"{base}/console/")
            p2.screenshot(path=str(shots / "home-phone.png"), full_page=True)
            # on a phone a table has no header row: every cell names its column
            p2.goto(f"{base}/console/devices")
            cell = p2.locator('tr[data-device="kp1-loa1"] td').nth(6)
            assert cell.get_attribute("data-label") == "Âm lượng"
            assert "Âm lượng:" in p2.evaluate("getComputedStyle(document.querySelector('tr[data-device=\"kp1-loa1\"] td:nth-child(7)'), '::before').content")
            p2.screenshot(path=str(shots / "devices-phone.png"), full_page=True)
        finally:
            browser.close()
    assert (tmp / "out" / "kp1-loa1").is_dir()
