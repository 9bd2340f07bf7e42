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
