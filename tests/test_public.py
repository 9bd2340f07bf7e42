"""The ward's public pages: served for real (uvicorn on loopback) and exported, read by a real
Chromium, QR codes on real slides decoded and followed; nothing private on any page.

Announcements are queued for real (espeak-ng speech, slides, SQLite store) with a fixed clock; the
pages are looked at from another fixed moment, so no test depends on today's date.
"""

from __future__ import annotations

import http.server
import re
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import fakeclock
import pytest
from PIL import Image

from broadcaster.central.service import queue_announcements
from broadcaster.central.store import Store
from broadcaster.cli.main import main
from broadcaster.config import Announcement, ScheduleSpec, Ward, load_ward
from broadcaster.localbroker import free_port
from broadcaster.media import MediaStore
from broadcaster.production import Producer, plan_deck
from broadcaster.public import routes

zxingcpp = pytest.importorskip("zxingcpp")
playwright_sync = pytest.importorskip("playwright.sync_api")

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]
QUEUED = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)  # 10:00 in the ward
VIEWED = datetime(2026, 12, 3, 3, 0, tzinfo=UTC)  # two days later
HOSTILE = "<script>alert(1)</script> & \"quoted\""

# Things the public must never see: device ids and names, the engine, where an item came from,
# drafts and cancelled items (checked below by their titles and texts).
PRIVATE = ["kp1-loa1", "tv-tnkq", "Loa cụm nhà văn hóa", "espeak", "queue-file-secret", "store.sqlite",
           "Bản nháp chưa phát", "DRAFT-TEXT-42", "Đã hủy bỏ", "CANCELLED-TEXT-17", "spoken"]


def _spec(kind: str, at: str | None = None) -> ScheduleSpec:
    from zoneinfo import ZoneInfo

    tz = ZoneInfo("Asia/Ho_Chi_Minh")
    return ScheduleSpec(kind=kind, at=datetime.strptime(at, "%d/%m/%Y %H:%M").replace(tzinfo=tz) if at else None)


def _ann(aid: str, title: str, text: str, zones: tuple[str, ...], spec: ScheduleSpec, priority: str = "normal") -> Announcement:
    return Announcement(id=aid, title=title, text=text, zones=zones, priority=priority, readings=1, chime=False,
                        show_on_tv=True, schedule=spec, source="queue-file-secret.toml")


class Server:
    """uvicorn serving the public routes (and, as the central's server will, /media/) on loopback."""

    def __init__(self, ward: Ward, port: int) -> None:
        import uvicorn
        from starlette.applications import Starlette
        from starlette.responses import FileResponse, Response
        from starlette.routing import Route

        store = MediaStore(ward.service.home / "media")

        async def media(request: Any) -> Response:
            path = store.get(request.path_params["name"])
            return FileResponse(path) if path else Response(status_code=404)

        app = Starlette(routes=[*routes(ward, clock=lambda: VIEWED), Route("/media/{name}", media)])
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.05)
        self.base = f"http://127.0.0.1:{port}/"

    def close(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    import os
    import shutil

    root = tmp_path_factory.mktemp("ward")
    repo = Path(__file__).resolve().parent.parent
    shutil.copytree(repo / "devices", root / "devices")
    shutil.copytree(repo / "playlists", root / "playlists")
    port = free_port()
    wf = root / "devices" / "ward.toml"
    wf.write_text(re.sub(r'base_url = ".*"', f'base_url = "http://127.0.0.1:{port}/"', wf.read_text(encoding="utf-8")),
                  encoding="utf-8")
    old = {k: os.environ.get(k) for k in ("BROADCASTER_WARD", "BROADCASTER_HOME")}
    os.environ["BROADCASTER_WARD"], os.environ["BROADCASTER_HOME"] = str(wf), str(root / "var")
    ward = load_ward()
    producer = Producer(ward, MediaStore(ward.service.home / "media"), engine="espeak", cache_dir=root / "tts")
    anns = [
        _ann("tiem-chung", "Tiêm chủng mở rộng", "Trạm Y tế tiêm chủng lúc 7h30 ngày 05/12/2026 tại Nhà văn hóa KP2. "
             + HOSTILE, ("kp1", "kp2"), _spec("once", "01/12/2026 17:10")),
        _ann("ban-nhap", "Bản nháp chưa phát", "DRAFT-TEXT-42 họp ngày 20/12/2026.", ("kp1",),
             _spec("once", "20/12/2026 17:10")),
        _ann("huy-bo", "Đã hủy bỏ", "CANCELLED-TEXT-17.", ("kp3",), _spec("once", "01/12/2026 17:20")),
        _ann("bao-lu", "Cảnh báo lũ", "Nước sông lên nhanh. Đề nghị bà con di chuyển tài sản lên cao.",
             tuple(z.id for z in ward.zones), _spec("now"), "emergency"),
    ]
    with Store.for_ward(ward) as store:
        queue_announcements(ward, store, producer, anns, now=QUEUED)
        store.cancel("huy-bo", now=QUEUED + timedelta(minutes=5))
        stored = {a.id: a for a in store.announcements(include_cancelled=True)}
    server = Server(ward, port)
    try:
        yield {"ward": ward, "server": server, "stored": stored, "root": root}
    finally:
        server.close()
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip("Debian chromium is not installed")
    pw = playwright_sync.sync_playwright().start()
    b = pw.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
    try:
        yield b
    finally:
        b.close()
        pw.stop()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    ctx = browser.new_context(locale="vi-VN", timezone_id="Asia/Ho_Chi_Minh")
    p = ctx.new_page()
    errors: list[str] = []
    p.on("pageerror", lambda e: errors.append(str(e)))
    p.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    yield p
    ctx.close()
    assert not errors, errors  # no script error, nothing refused by the content policy


def crawl(get: Any, start: str) -> dict[str, str]:
    """Every page reachable by following links from ``start`` (same site), path -> text."""
    seen: dict[str, str] = {}
    todo = [start]
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        body = get(path)
        seen[path] = body
        for href in re.findall(r'href="([^"]+)"', body):
            if href.startswith(("http", "tel:", "mailto:")) or href.endswith((".css", ".mp3")):
                continue
            target = _join(path, href)
            if target not in seen:
                todo.append(target)
    return seen


def _join(base: str, href: str) -> str:
    from posixpath import normpath

    d = base if base.endswith("/") else base.rsplit("/", 1)[0] + "/"
    joined = normpath(d + href) if href not in ("./", "") else d
    return joined + ("/" if href.endswith("/") and not joined.endswith("/") else "")


def test_public_pages_show_what_aired_and_nothing_private(site: dict[str, Any]) -> None:
    import urllib.request

    base = site["server"].base

    def get(path: str) -> str:
        with urllib.request.urlopen(base.rstrip("/") + path, timeout=10) as r:
            assert r.headers["Content-Security-Policy"].startswith("default-src 'none'")
            return r.read().decode("utf-8")

    pages = crawl(get, "/")
    assert {"/", "/thong-bao/", "/thong-bao/tiem-chung/", "/thong-bao/bao-lu/", "/thu-tuc/", "/lien-he/",
            "/feed.atom"} <= set(pages) | {"/feed.atom"}
    pages["/feed.atom"] = get("/feed.atom")
    everything = "\n".join(pages.values())
    for secret in PRIVATE:
        assert secret not in everything, secret
    assert "/thong-bao/ban-nhap/" not in pages and "/thong-bao/huy-bo/" not in pages
    # the draft's own address answers "not found", not its text
    with pytest.raises(urllib.error.HTTPError) as e:
        get("/thong-bao/ban-nhap/")
    assert e.value.code == 404
    # read-only: nothing but GET and HEAD
    req = urllib.request.Request(base + "thu-tuc/", data=b"q=x", method="POST")
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(req, timeout=10)
    assert e.value.code == 405
    # escaped, not executed
    detail = pages["/thong-bao/tiem-chung/"]
    assert "<script>alert" not in detail and "&lt;script&gt;alert(1)&lt;/script&gt;" in detail
    assert "Khu phố 1, Khu phố 2" in detail and "17:10 ngày 01/12/2026" in detail
    assert "Toàn phường" in pages["/thong-bao/bao-lu/"]
    # unverified procedures are not shown; verified ones are, each on its own page
    procs = [p for p in pages if p.startswith("/thu-tuc/") and p != "/thu-tuc/"]
    assert "/thu-tuc/ket_hon/" in procs and "/thu-tuc/khai_sinh/" not in procs
    assert len(procs) == 7
    # the feed is Atom with the public announcements only
    import xml.etree.ElementTree as ET

    feed = ET.fromstring(pages["/feed.atom"].encode())
    ns = {"a": "http://www.w3.org/2005/Atom"}
    titles = [e.findtext("a:title", namespaces=ns) for e in feed.findall("a:entry", ns)]
    assert sorted(titles) == ["Cảnh báo lũ", "Tiêm chủng mở rộng"]
    labels = {e.findtext("a:title", namespaces=ns): e.find("a:category", ns).get("label") for e in feed.findall("a:entry", ns)}
    assert labels == {"Cảnh báo lũ": "Khẩn cấp", "Tiêm chủng mở rộng": "Thông báo thường"}  # what a reader shows
    enclosure = feed.find("a:entry/a:link[@rel='enclosure']", ns)
    assert enclosure is not None and enclosure.get("href", "").startswith(base + "media/")


def test_in_chromium_listen_search_and_open_a_procedure(site: dict[str, Any], page: Any) -> None:
    base = site["server"].base
    page.goto(base)
    page.get_by_role("link", name="Tiêm chủng mở rộng").click()
    page.wait_for_url(base + "thong-bao/tiem-chung/")
    assert page.locator("dd.zones").inner_text() == "Khu phố 1, Khu phố 2"
    src = page.locator("audio").get_attribute("src")
    # the audio the page offers really plays: the browser fetches it and reads its duration
    duration = page.evaluate("""async () => { const a = document.querySelector('audio'); a.preload = 'auto'; a.load();
        await new Promise((ok, bad) => { a.onloadedmetadata = ok; a.onerror = bad; }); return a.duration; }""")
    assert src and duration > 1.0

    page.goto(base + "thu-tuc/")
    def visible() -> list[str]:
        return [li.inner_text() for li in page.locator("li[data-search]").all() if li.is_visible()]

    assert len(visible()) == 7
    page.fill("#q", "ket hon")  # no tone marks, as people type on a phone
    assert visible() == ["Đăng ký kết hôn"]
    page.fill("#q", "chứng thực")
    assert visible() and all("Chứng thực" in v or "chứng thực" in v.lower() for v in visible())
    page.fill("#q", "không có thủ tục này")
    assert visible() == [] and page.locator("#no-results").is_visible()
    # without JavaScript the server searches
    page.goto(base + "thu-tuc/?q=k%E1%BA%BFt+h%C3%B4n")
    assert visible() == ["Đăng ký kết hôn"]
    page.get_by_role("link", name="Đăng ký kết hôn").click()
    assert page.locator("h1").inner_text() == "Đăng ký kết hôn"
    assert page.locator("ol.documents li").count() >= 2
    for cls in ("time", "fee", "online"):
        assert page.locator(f"dd.{cls}").inner_text().strip()


def _decode(path: Path) -> list[str]:
    with Image.open(path) as im:
        return [r.text for r in zxingcpp.read_barcodes(im)]


def test_qr_codes_on_slides_lead_to_the_public_pages(site: dict[str, Any], page: Any, tmp_path: Path) -> None:
    ward: Ward = site["ward"]
    base = site["server"].base
    media = MediaStore(ward.service.home / "media")
    # an announcement slide, as it was produced at queue time
    ann = site["stored"]["tiem-chung"]
    first = media.get(ann.slides[0])
    assert first is not None
    (url,) = _decode(first)
    assert url == base + "thong-bao/tiem-chung/"
    page.goto(url)
    assert page.locator("h1").inner_text() == "Tiêm chủng mở rộng"
    # every procedure slide of the TV deck
    from broadcaster.config import find_deck
    from broadcaster.slides.render import save_slides

    plan = plan_deck(find_deck(ward, "tiep-nhan"), ward)
    procs = [t.item for t in plan if t.item.kind == "catalog"]
    assert procs
    for piece in procs:
        (png,) = save_slides([piece.layout], tmp_path, piece.slide_id)
        (url,) = _decode(png)
        assert url == f"{base}thu-tuc/{piece.label}/", piece.slide_id
    page.goto(f"{base}thu-tuc/{procs[0].label}/")
    assert page.locator("h1").inner_text()
    assert page.locator("ol.documents li").count() >= 1


def test_publish_exports_the_same_pages_as_plain_files(site: dict[str, Any], page: Any, tmp_path: Path) -> None:
    out = tmp_path / "export"
    with fakeclock.shifted_to(VIEWED):  # the command reads the clock: look from the same fixed moment
        assert main(["publish", "--out", str(out)]) == 0
    files = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    assert {"index.html", "thong-bao/index.html", "thong-bao/tiem-chung/index.html", "thu-tuc/index.html",
            "thu-tuc/ket_hon/index.html", "lien-he/index.html", "feed.atom", "static/public/style.css"} <= files
    assert "thong-bao/ban-nhap/index.html" not in files and "thu-tuc/khai_sinh/index.html" not in files
    assert sum(1 for f in files if f.startswith("media/") and f.endswith(".mp3")) == 2
    text = "\n".join((out / f).read_text(encoding="utf-8") for f in files if f.endswith((".html", ".atom")))
    for secret in PRIVATE:
        assert secret not in text, secret
    # uploaded under some folder of the ward's site: relative links, search and audio still work
    site_root = tmp_path / "www"
    (site_root / "loa").parent.mkdir(parents=True, exist_ok=True)
    out.rename(site_root / "loa")
    handler = lambda *a: http.server.SimpleHTTPRequestHandler(*a, directory=str(site_root))  # noqa: E731
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{httpd.server_address[1]}/loa/"
        page.goto(url)
        page.get_by_role("link", name="Thủ tục hành chính").first.click()
        page.fill("#q", "ket hon")
        page.get_by_role("link", name="Đăng ký kết hôn").click()
        assert page.locator("h1").inner_text() == "Đăng ký kết hôn"
        page.goto(url + "thong-bao/tiem-chung/")
        ok = page.evaluate("""async () => (await fetch(document.querySelector('audio').src)).ok""")
        assert ok
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_is_public_is_conservative() -> None:
    from types import SimpleNamespace

    from broadcaster.public import is_public

    a = SimpleNamespace(status="active")
    assert is_public(a, VIEWED - timedelta(minutes=1), VIEWED)  # type: ignore[arg-type]
    assert not is_public(a, VIEWED + timedelta(minutes=1), VIEWED)  # type: ignore[arg-type]
    assert not is_public(a, None, VIEWED)  # type: ignore[arg-type]
    assert not is_public(SimpleNamespace(status="cancelled"), VIEWED - timedelta(days=1), VIEWED)  # type: ignore[arg-type]
