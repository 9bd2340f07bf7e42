"""The layout's promises, checked: agents stay small, importing does nothing."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("broadcaster.central", "broadcaster.production", "broadcaster.tts", "broadcaster.audio",
         "broadcaster.slides", "broadcaster.normalize", "PIL", "pydub", "apscheduler", "gtts", "requests", "tkinter")


def _modules_after(code: str) -> set[str]:
    out = subprocess.run([sys.executable, "-c", code + "\nimport sys; print('\\n'.join(sys.modules))"],
                         capture_output=True, text=True, check=True).stdout
    return set(out.split())


def test_agents_import_only_the_contract_transport_and_config() -> None:
    mods = _modules_after("import broadcaster.agents.speaker, broadcaster.agents.display, broadcaster.cli.speaker_cmd, broadcaster.cli.display_cmd")
    loaded = sorted(m for m in mods if m.startswith(HEAVY))
    assert loaded == [], f"a speaker node would load {loaded}"


def test_importing_the_package_has_no_side_effects() -> None:
    # No logging handlers, no threads, no files: composition happens in the CLI.
    code = (
        "import logging, threading, broadcaster, broadcaster.cli.main, broadcaster.protocol, broadcaster.config\n"
        "assert not logging.getLogger().handlers, logging.getLogger().handlers\n"
        "assert threading.active_count() == 1\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


_BLOCK = """
import importlib.abc, sys
class Absent(importlib.abc.MetaPathFinder):
    # as on a speaker node installed with the base package only (no [central] extra)
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in {'gtts', 'pydub', 'apscheduler', 'PIL', 'segno', 'tqdm', 'requests'}:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None
sys.meta_path.insert(0, Absent())
from broadcaster.cli.main import main
sys.exit(main(sys.argv[1:]))
"""


def _cli_without_central(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", _BLOCK, *args], capture_output=True, text=True, timeout=60)


def test_a_speaker_node_runs_without_the_central_packages(tmp_path) -> None:  # type: ignore[no-untyped-def]
    assert _cli_without_central("--help").returncode == 0
    res = _cli_without_central("speaker", "--device", "kp1-loa1", "--home", str(tmp_path), "--output", "file")
    # it gets as far as the missing public key: everything it imports is there
    assert res.returncode == 1 and "central.pub" in res.stderr, res.stderr
    assert _cli_without_central("normalize", "UBND").stdout.strip() == "ủy ban nhân dân"  # pure Python: works anywhere
    res = _cli_without_central("render", "--text", "Họp", "--out", str(tmp_path / "o"))  # needs the central's packages
    assert res.returncode == 1 and "broadcaster[central]" in res.stderr and "Traceback" not in res.stderr, res.stderr
