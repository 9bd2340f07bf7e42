"""The officer's commands end to end: keys, queue (real speech with espeak-ng), list, cancel, devices,
and ``broadcaster serve`` as a real process that a node client listens to, stopped with SIGTERM."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from test_central_service import WAIT, Node, in_window_soon, outside_windows_soon

from broadcaster import protocol
from broadcaster.central.store import Store
from broadcaster.cli.main import main
from broadcaster.config import load_ward
from broadcaster.localbroker import LocalMosquitto, free_port


def test_officer_commands_and_serve(ward_dir: Path, mosquitto: LocalMosquitto, monkeypatch: pytest.MonkeyPatch,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    port = free_port()
    wf = ward_dir / "devices" / "ward.toml"
    text = re.sub(r'listen = ".*"', f'listen = "127.0.0.1:{port}"', wf.read_text(encoding="utf-8"))
    wf.write_text(re.sub(r'media_url = ".*"', f'media_url = "http://127.0.0.1:{port}/"', text), encoding="utf-8")
    monkeypatch.setenv("BROADCASTER_MQTT_URL", mosquitto.url)
    ward = load_ward()

    assert main(["keys", "init"]) == 0
    assert (ward.keys_dir / "central.key").stat().st_mode & 0o777 == 0o600
    assert main(["keys", "init"]) == 1  # never overwritten by accident
    capsys.readouterr()

    at = in_window_soon(ward, "kp1")
    at_s = f"{at:%d/%m/%Y %H:%M}"
    rc = main(["queue", "--title", "Họp tổ dân phố", "--text", "Mời bà con dự họp lúc 19h30 ngày 05/12/2026.",
               "--zones", "kp1,kp2", "--at", at_s, "--engine", "espeak", "--readings", "1", "--id", "hop-to"])
    out = capsys.readouterr().out
    assert rc == 0 and "Đã xếp lịch" in out and "hop-to" in out and "espeak" in out

    # refused, and nothing changes: unknown zone, outside the windows, in the past
    for bad, why in [
        (["--zones", "kp9", "--at", at_s], "unknown zone 'kp9'"),
        (["--zones", "kp1", "--at", f"{outside_windows_soon(ward, 'kp1'):%d/%m/%Y %H:%M}"], "outside every broadcast window"),
        (["--zones", "kp1", "--at", "01/01/2020 17:00"], "in the past"),
        (["--zones", "kp1", "--daily", "17:00", "--from", "01/12/2026"], "--until"),
    ]:
        assert main(["queue", "--text", "x y z", "--engine", "espeak", *bad]) == 1
        assert why in capsys.readouterr().err
    with Store.for_ward(ward) as s:
        assert [a.id for a in s.announcements()] == ["hop-to"]

    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert "hop-to" in out and "kp1,kp2" in out

    env = {**os.environ, "BROADCASTER_WARD": str(wf), "BROADCASTER_HOME": str(ward.service.home), "BROADCASTER_MQTT_URL": mosquitto.url}
    proc = subprocess.Popen([sys.executable, "-m", "broadcaster", "serve", "--engine", "espeak"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ward_dir)
    node = tv = None
    try:
        node = Node(ward, "kp1-loa1", "kp1")
        _, sched = node.wait_for(lambda t, b: isinstance(b, protocol.Schedule) and any(i.announcement_id == "hop-to" for i in b.items), 30)
        item = next(i for i in sched.items if i.announcement_id == "hop-to")
        assert item.slide is not None and item.media.type == "audio/mpeg"
        tv = Node(ward, "tv-tnkq", "")
        _, deck = tv.wait_for(lambda t, b: isinstance(b, protocol.Deck), 30)
        assert deck.slides and any(o.announcement_id == "hop-to" for o in deck.overlays)
        _, cfg = node.wait_for(lambda t, b: isinstance(b, protocol.DeviceConfig))
        assert cfg.volume == 80

        assert main(["cancel", "hop-to"]) == 0
        assert "Đã hủy" in capsys.readouterr().out
        _, after = node.wait_for(lambda t, b: isinstance(b, protocol.Schedule) and not b.items)
        assert after.version > sched.version
        assert main(["cancel", "hop-to"]) == 1

        assert main(["devices"]) == 0
        assert "kp1-loa1" in capsys.readouterr().out
    finally:
        for n in (node, tv):
            if n:
                n.stop()
        proc.send_signal(signal.SIGTERM)
        out_b, err_b = proc.communicate(timeout=WAIT)
    assert proc.returncode == 0, err_b.decode()
    assert b"stopped" in out_b
