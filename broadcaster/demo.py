"""The demo: a whole ward on one machine, in fast-forward (``scripts/demo``).

It starts a broker (``BROADCASTER_MQTT_URL`` if set, else a private Mosquitto on loopback), the
central service, one speaker node per khu phố and the reception TV — each its own process, exactly
as on real machines — then queues an ordinary bulletin 40 s ahead and, a few seconds into
it, an emergency for two khu phố that interrupts it there. It ends with the as-run table and where
the WAV files (what each speaker "played") and the TV frames are.

Everything lives under ``var/demo/`` (a copy of the ward file with a broadcast window around now,
the central's home, the nodes' homes, logs and outputs). ``--serve`` keeps the ward running.
Speech uses espeak-ng (offline) unless ``--engine`` says otherwise.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta
from datetime import time as dt_time
from pathlib import Path
from typing import Any

log = logging.getLogger("broadcaster.demo")

ROOT = Path(__file__).resolve().parent.parent
BULLETIN = (
    "UBND phường 1 thông báo: từ ngày 01/12/2026, người dân có thể nộp hồ sơ TTHC trực tuyến tại Cổng DVC quốc gia. "
    "Mọi thắc mắc xin liên hệ Bộ phận TN&TKQ, điện thoại 0233 3000 000."
)
EMERGENCY = "Khẩn cấp: nước sông Thạch Hãn đang lên nhanh. Đề nghị bà con khu phố 1 và khu phố 2 di chuyển tài sản lên cao, không đi qua ngầm tràn."


def _free_port() -> int:
    """8750 (the ward file's port, easy to type in a browser) if it is free, else any free port."""
    import socket

    from broadcaster.localbroker import free_port

    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", 8750))
            return 8750
        except OSError:
            return free_port()


def write_ward(src: Path, dest_root: Path, home: Path, port: int, now_local: datetime) -> Path:
    """A copy of the example ward whose windows are open now, with its own home and media port."""
    (dest_root / "devices").mkdir(parents=True, exist_ok=True)
    if (ROOT / "playlists").is_dir():
        shutil.copytree(ROOT / "playlists", dest_root / "playlists", dirs_exist_ok=True)
    first, last = now_local - timedelta(minutes=5), now_local + timedelta(minutes=90)
    if first.date() == last.date():
        windows = f'"{first:%H:%M}-{last:%H:%M}"'
    else:  # a window may not cross midnight (config refuses it as a typo): two, either side of it
        windows = f'"{first:%H:%M}-23:59:59"'
        if last.time() >= dt_time(0, 1):  # the morning part, unless it would be empty
            windows += f', "00:00-{last:%H:%M}"'
    text = src.read_text(encoding="utf-8")
    text = re.sub(r"^windows = \[.*\]$", f"windows = [{windows}]", text, flags=re.M)
    text = re.sub(r"^quiet_hours = .*$", 'quiet_hours = ""', text, flags=re.M)
    text = re.sub(r"^listen = .*$", f'listen = "127.0.0.1:{port}"', text, flags=re.M)
    text = re.sub(r"^media_url = .*$", f'media_url = "http://127.0.0.1:{port}/"', text, flags=re.M)
    # QR codes on the demo's slides lead to the demo central's public pages
    text = re.sub(r"^base_url = .*$", f'base_url = "http://127.0.0.1:{port}/"', text, flags=re.M)
    text = re.sub(r"^home = .*$", f'home = "{home.as_posix()}"', text, flags=re.M)
    dest = dest_root / "devices" / "ward.toml"
    dest.write_text("# Demo copy: broadcast window around the time the demo started.\n" + text, encoding="utf-8")
    return dest


class Ward:
    """The running processes of the demo ward."""

    def __init__(self, base: Path, engine: str) -> None:
        self.base = base
        self.engine = engine
        self.procs: list[tuple[str, subprocess.Popen[bytes]]] = []
        self.args: dict[str, tuple[str, ...]] = {}
        self.restarts: dict[str, int] = {}
        self.broker: Any = None
        self.env = dict(os.environ)

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        res = subprocess.run([sys.executable, "-m", "broadcaster", *args], env=self.env, capture_output=True, text=True)
        if check and res.returncode != 0:
            raise SystemExit(f"demo: `broadcaster {' '.join(args)}` failed:\n{res.stderr.strip()}")
        return res

    def spawn(self, name: str, *args: str) -> None:
        logf = open(self.base / "logs" / f"{name}.log", "ab")
        p = subprocess.Popen([sys.executable, "-m", "broadcaster", "-v", *args], env=self.env, stdout=logf, stderr=subprocess.STDOUT)
        self.procs.append((name, p))
        self.args[name] = args

    def supervise(self) -> bool:
        """One look at the processes, as systemd would (Restart=always): a device that died is
        started again and the rest of the ward plays on. False if the central itself is gone."""
        for name, p in list(self.procs):
            if p.poll() is None:
                continue
            if name == "central":
                log.error("the central service exited (status %s): see %s/logs/central.log", p.returncode, self.base)
                return False
            self.restarts[name] = self.restarts.get(name, 0) + 1
            log.warning("%s exited (status %s): starting it again (restart %d); the other devices play on",
                        name, p.returncode, self.restarts[name])
            self.procs.remove((name, p))
            self.spawn(name, *self.args[name])
        return True

    def stop(self) -> None:
        # Devices first, then the central: it should hear every node say "offline" before it goes.
        central = [(n, p) for n, p in self.procs if n == "central"]
        devices = [(n, p) for n, p in self.procs if n != "central"]
        for group in (devices, central):
            for _name, p in group:
                if p.poll() is None:
                    p.send_signal(signal.SIGTERM)
            for name, p in group:
                try:
                    p.wait(15)
                except subprocess.TimeoutExpired:
                    log.warning("%s did not stop: killing it", name)
                    p.kill()
            if group is devices and central:
                time.sleep(0.5)  # let the central store the last states
        if self.broker is not None:
            self.broker.stop()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="scripts/demo", description=__doc__.split("\n\n")[0])
    ap.add_argument("--serve", action="store_true", help="keep the ward running after the programme (Ctrl-C to stop)")
    ap.add_argument("--dir", default="var/demo", help="demo folder (default var/demo; emptied first)")
    ap.add_argument("--engine", default="espeak", choices=("espeak", "auto", "gtts"), help="speech engine (default espeak: offline)")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="demo %(asctime)s  %(message)s", datefmt="%H:%M:%S")

    from broadcaster.config import load_ward
    from broadcaster.localbroker import LocalMosquitto
    from broadcaster.wire.topics import Topics
    from broadcaster.transport import BrokerAddress, MqttConnection

    base = Path(args.dir).resolve()
    if base.exists():
        shutil.rmtree(base)
    (base / "logs").mkdir(parents=True)
    out = base / "out"
    src_ward = load_ward(ROOT / "devices" / "ward.toml", env={})
    now_local = datetime.now(src_ward.tz)
    ward_file = write_ward(ROOT / "devices" / "ward.toml", base / "ward", base / "home", _free_port(), now_local)
    w = Ward(base, args.engine)
    w.env.update({"BROADCASTER_WARD": str(ward_file), "BROADCASTER_HOME": str(base / "home")})
    w.env.pop("BROADCASTER_MEDIA_URL", None)
    try:
        if os.environ.get("BROADCASTER_MQTT_URL"):
            url = os.environ["BROADCASTER_MQTT_URL"]
            log.info("broker: %s (from BROADCASTER_MQTT_URL)", BrokerAddress.parse(url))
        else:
            w.broker = LocalMosquitto(base / "mosquitto").start()
            url = w.broker.url
            log.info("broker: local Mosquitto on %s", url)
        w.env["BROADCASTER_MQTT_URL"] = url
        ward = load_ward(ward_file, env=w.env)
        topics = Topics(ward.id)

        # Watch the ward the way the central does: states and as-run events.
        states: dict[str, dict[str, Any]] = {}
        events: list[dict[str, Any]] = []
        lock = threading.Lock()

        def on_state(topic: str, payload: bytes, retained: bool) -> None:
            if payload:
                body = json.loads(payload)["body"]
                with lock:
                    states[body["device"]] = body

        def on_event(topic: str, payload: bytes, retained: bool) -> None:
            with lock:
                events.append(json.loads(payload)["body"])

        watch = MqttConnection(BrokerAddress.parse(url), f"demo-watch-{os.getpid()}", persistent=False)
        watch.subscribe(topics.all_states, on_state)
        watch.subscribe(topics.all_events, on_event)
        watch.start()

        w.run("keys", "init")
        console_login = demo_accounts(w)
        log.info("central: broadcaster serve (logs in %s)", base / "logs")
        w.spawn("central", "serve", "--engine", args.engine)
        for d in ward.devices:
            if d.kind == "speaker":
                w.spawn(d.id, "speaker", "--device", d.id, "--output", "file", "--out", str(out))
            else:
                w.spawn(d.id, "display", "--device", d.id, "--output", "headless", "--out", str(out))
        log.info("started %d speaker node(s) and %d TV(s)", len(ward.speakers()), len(ward.displays()))
        print_console(ward, console_login, args.serve)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with lock:
                online = {d for d, s in states.items() if s.get("online")}
            if online >= {d.id for d in ward.devices}:
                break
            time.sleep(0.5)
        log.info("online: %s", ", ".join(sorted(online)) or "none yet")

        # The bulletin: 40 s from now (the planner keeps 30 s for delivery before an item may start).
        at = datetime.now(ward.tz).replace(microsecond=0) + timedelta(seconds=40)
        log.info("queue: ordinary bulletin for all khu phố at %s", at.strftime("%H:%M:%S"))
        w.run("queue", "--title", "Nộp hồ sơ trực tuyến", "--text", BULLETIN, "--zones", "all",
              "--at", at.strftime("%d/%m/%Y %H:%M:%S"), "--engine", args.engine)
        em_at = at + timedelta(seconds=6)
        while datetime.now(ward.tz) < em_at:
            time.sleep(0.2)
        log.info("queue: EMERGENCY for kp1, kp2 now (interrupts the bulletin there)")
        w.run("queue", "--title", "Cảnh báo lũ", "--text", EMERGENCY, "--zones", "kp1,kp2", "--now",
              "--priority", "emergency", "--readings", "1", "--engine", args.engine)

        n_speakers = len(ward.speakers())
        want = n_speakers + len(ward.speakers("kp1")) + len(ward.speakers("kp2"))
        deadline = time.monotonic() + 150
        while time.monotonic() < deadline:
            with lock:
                if len(events) >= want:
                    break
            time.sleep(0.5)
        time.sleep(1.0)
        # The TV shows the emergency for its airing plus a short tail, then what it hid, then the
        # deck again: wait for that, so the frames show the TV during and after the emergency.
        log.info("waiting for the TV to come back from the emergency to its deck")
        tv_deadline = time.monotonic() + 150
        while time.monotonic() < tv_deadline and not all(_tv_resumed(out / tv.id) for tv in ward.displays()):
            time.sleep(0.5)
        print_table(events, out, ward)
        print_console(ward, console_login, args.serve)
        if args.serve:
            log.info("the ward keeps running (--serve): open the console above, or queue with BROADCASTER_WARD=%s "
                     "broadcaster queue ...; Ctrl-C stops", ward_file)
            try:
                while w.supervise():
                    time.sleep(1)
            except KeyboardInterrupt:
                pass
        watch.stop()
        return 0 if len(events) >= want else 1
    finally:
        w.stop()


def demo_accounts(w: Ward) -> str:
    """A leader (all khu phố) and a composer (KP1) for the console, with a password made for this run."""
    import secrets

    password = f"demo-{secrets.token_hex(4)}"
    for user, role, zones, name in (("lanhdao", "duyệt", "all", "Lãnh đạo phường (demo)"),
                                    ("canbo", "soạn", "kp1,kp2", "Cán bộ văn hóa (demo)"),
                                    ("quantri", "quản trị", "all", "Quản trị (demo)")):
        res = subprocess.run([sys.executable, "-m", "broadcaster", "users", "add", user, "--role", role, "--zones", zones,
                              "--name", name, "--password-stdin"], input=password + "\n", env=w.env, capture_output=True, text=True)
        if res.returncode != 0:
            raise SystemExit(f"demo: could not add the console account {user}:\n{res.stderr.strip()}")
    return password


def print_console(ward: Any, password: str, serve: bool = True) -> None:
    print()
    if not serve:
        print("(the console runs while the demo runs; `scripts/demo --serve` keeps it open)")
    print(f"Bàn điều khiển / console:  http://{ward.service.listen}/console/")
    print(f"  đăng nhập / log in:  lanhdao / {password}  (người duyệt, toàn phường)")
    print(f"                       canbo   / {password}  (người soạn, KP1 và KP2)")
    print(f"                       quantri / {password}  (quản trị)")
def _tv_shown(tv_out: Path) -> list[dict[str, Any]]:
    f = tv_out / "shown.jsonl"
    return [json.loads(line) for line in f.read_text(encoding="utf-8").splitlines()] if f.exists() else []


def _tv_resumed(tv_out: Path) -> bool:
    reasons = [r["reason"] for r in _tv_shown(tv_out)]
    return "emergency" in reasons and "deck" in reasons[len(reasons) - reasons[::-1].index("emergency"):]


def print_table(events: list[dict[str, Any]], out: Path, ward: Any) -> None:
    from broadcaster.wire.times import parse_time

    lateness: dict[tuple[str, str], float] = {}
    for f in out.glob("*/as-played.jsonl"):
        for line in f.read_text(encoding="utf-8").splitlines():
            r = json.loads(line)
            lateness[(f.parent.name, r["item"])] = r["lateness_ms"]

    def local(s: str | None) -> str:
        return parse_time(s).astimezone(ward.tz).strftime("%H:%M:%S.%f")[:-3] if s else "-"

    rows = sorted(events, key=lambda e: (e["device"], e["scheduled"]))
    print()
    print("As-run (times in Asia/Ho_Chi_Minh):")
    print(f"{'device':<10} {'item':<44} {'kind':<12} {'scheduled':<13} {'started':<13} {'late ms':>8}  reason")
    for e in rows:
        late = lateness.get((e["device"], e["item_id"]))
        print(
            f"{e['device']:<10} {e['item_id'][:44]:<44} {e['kind']:<12} {local(e['scheduled']):<13} {local(e.get('started')):<13} "
            f"{'' if late is None else f'{late:.1f}':>8}  {e.get('reason', '')}"
        )
    if not rows:
        print("(no as-run events arrived: see the logs)")
    print()
    print(f"What each speaker played (WAV, named by UTC start): {out}/<device>/*.wav and as-played.jsonl")
    for tv in ward.displays():
        print(f"TV {tv.id}: frame on screen {out}/{tv.id}/current.png, every frame shown in {out}/{tv.id}/frames/, log {out}/{tv.id}/shown.jsonl")
        shown = _tv_shown(out / tv.id)
        first_em = next((i for i, r in enumerate(shown) if r["reason"] == "emergency"), None)
        for r in shown[max(0, (first_em or len(shown)) - 2):][:12]:
            print(f"  {local(r['at'])}  {r['reason']:<12} {r['label'][:60]}")
    print(f"Logs: {out.parent}/logs/")


if __name__ == "__main__":
    sys.exit(main())
