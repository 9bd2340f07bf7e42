"""The type check (mypy) and the lint (ruff), run as tests so that every full run of the suite,
CI's included, fails when either does; a developer running one test file skips them.

Both read only the project's own configuration (pyproject.toml, named explicitly), so the result is
the same on every machine whatever a developer keeps in their home folder.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "pyproject.toml"


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=600)


def test_mypy_finds_no_error_in_the_package() -> None:
    r = _run("mypy", "--config-file", str(CONFIG))
    assert r.returncode == 0, f"mypy found errors:\n{r.stdout}{r.stderr}"
    # the configuration names the package: every module of it was checked, none silently left out
    m = re.search(r"no issues found in (\d+) source files", r.stdout)
    assert m, r.stdout
    modules = len(list((ROOT / "broadcaster").rglob("*.py")))
    assert int(m.group(1)) >= modules, r.stdout


def test_mypy_rejects_what_the_configuration_forbids(tmp_path: Path) -> None:
    # the gate can fail: an unannotated function and a wrong type, checked with the project's settings
    bad = tmp_path / "bad_module.py"
    bad.write_text("def f(x):\n    return x\n\n\ndef g() -> int:\n    return 'text'\n", encoding="utf-8")
    r = _run("mypy", "--config-file", str(CONFIG), str(bad))
    assert r.returncode == 1, r.stdout
    assert "[no-untyped-def]" in r.stdout and "[return-value]" in r.stdout, r.stdout


def test_ruff_finds_nothing() -> None:
    r = _run("ruff", "check", "--config", str(CONFIG), "--no-cache", "--output-format", "concise")
    assert r.returncode == 0, f"ruff found problems:\n{r.stdout}{r.stderr}"


def test_ruff_flags_a_print_outside_the_command_line(tmp_path: Path) -> None:
    # the project's rule "logging, no print outside the CLI", and an unused import, as ruff sees them
    bad = tmp_path / "bad_module.py"
    bad.write_text("import os\n\n\ndef f() -> None:\n    print('x')\n", encoding="utf-8")
    r = _run("ruff", "check", "--config", str(CONFIG), "--no-cache", "--output-format", "concise", str(bad))
    assert r.returncode == 1, r.stdout
    assert "F401" in r.stdout and "T201" in r.stdout, r.stdout
