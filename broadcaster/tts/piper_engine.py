"""piper: a natural-sounding neural voice that runs offline, from a voice file the ward installs once.

piper-tts is GPL-3.0; broadcaster is MIT. So piper is never imported here: it runs as its own
process (``python -m piper``, or a ``piper`` command named in the ward file), text in on stdin, WAV
out through a private temporary directory. The voice is two files: ``<name>.onnx`` (the model)
and ``<name>.onnx.json`` (its settings, next to it). docs/deploy.md says where a ward gets a
Vietnamese voice and under which licence.

A voice file that is missing, unreadable or corrupt raises ``TTSUnavailableError`` naming the file
and what to do, so ``auto`` goes on to the next engine and the announcement still gets a voice.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from broadcaster.errors import TTSError, TTSUnavailableError
from broadcaster.tts.base import Speech, normalize_for_tts
from broadcaster.tts.espeak_engine import _check_wav

__all__ = ["PiperEngine", "piper_command"]

log = logging.getLogger(__name__)

_INSTALL = "install it with: pip install 'broadcaster[piper]' (or name a piper command in [speech.piper] command)"


def piper_command(command: str | None = None) -> list[str] | None:
    """How to start piper here: the configured command, else ``python -m piper`` when the package
    is installed beside broadcaster, else a ``piper`` on PATH; None when there is none."""
    if command:
        exe = shutil.which(command)
        return [exe] if exe else None
    if importlib.util.find_spec("piper") is not None:
        return [sys.executable, "-m", "piper"]
    exe = shutil.which("piper")
    return [exe] if exe else None


class PiperEngine:
    """Offline neural voice. ``model`` is the ``.onnx`` voice file; its ``.onnx.json`` sits beside it.

    ``length_scale`` > 1 speaks slower (1.1 = 10 % slower, kinder to listeners across a street);
    ``speaker`` picks a speaker of a multi-speaker voice. Output: 16-bit mono WAV at the voice's rate.
    """

    name = "piper"
    format = "wav"

    def __init__(
        self,
        *,
        model: Path,
        config: Path | None = None,
        length_scale: float = 1.0,
        speaker: int | None = None,
        sentence_silence_s: float = 0.3,
        command: str | None = None,
        timeout_s: float = 180.0,
    ) -> None:
        self.model = Path(model)
        self.config = Path(config) if config else self.model.with_name(self.model.name + ".json")
        self.length_scale = length_scale
        self.speaker = speaker
        self.sentence_silence_s = sentence_silence_s
        self.command = command
        self.timeout_s = timeout_s

    def resolve_voice(self, voice: str | None = None) -> str:
        # The file's size is in the key: replacing the voice file with another voice (or a new
        # version of it) must not serve clips of the old one from the cache.
        try:
            size = self.model.stat().st_size
        except OSError:
            size = 0
        parts = [f"{self.model.name}#{size}", f"ls{self.length_scale:g}"]
        if self.speaker is not None:
            parts.append(f"spk{self.speaker}")
        return " ".join(parts)

    def check_voice(self) -> dict[str, object]:
        """The voice's settings; raises ``TTSUnavailableError`` saying what is wrong with the files."""
        if not self.model.is_file():
            raise TTSUnavailableError(
                f"piper voice file {self.model} does not exist: install a voice (docs/deploy.md, "
                "'A natural offline voice') and set [speech.piper] model in the ward file"
            )
        if self.model.stat().st_size < 1024:
            raise TTSUnavailableError(f"piper voice file {self.model} is too small to be a voice: download it again")
        try:
            settings = json.loads(self.config.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise TTSUnavailableError(
                f"piper voice settings {self.config} do not exist: every voice comes as two files, "
                f"{self.model.name} and {self.model.name}.json; put both in the same folder"
            ) from exc
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise TTSUnavailableError(f"piper voice settings {self.config} are unreadable or corrupt ({exc}): download them again") from exc
        if not isinstance(settings, dict) or "audio" not in settings or "phoneme_id_map" not in settings:
            raise TTSUnavailableError(f"{self.config} is not a piper voice settings file (no audio / phoneme_id_map): download it again")
        return settings

    def synthesize(self, text: str, voice: str | None = None) -> Speech:
        text = normalize_for_tts(text)
        if not text:
            raise TTSError("nothing to say: the text to synthesise is empty")
        self.check_voice()
        cmd = piper_command(self.command)
        if cmd is None:
            raise TTSUnavailableError(f"piper is not installed: {_INSTALL}")
        with tempfile.TemporaryDirectory(prefix="broadcaster-piper-") as tmp:
            out = Path(tmp) / "speech.wav"
            args = [
                *cmd, "--model", str(self.model), "--config", str(self.config), "--output-file", str(out),
                "--length-scale", f"{self.length_scale:g}", "--sentence-silence", f"{self.sentence_silence_s:g}",
            ]  # fmt: skip
            if self.speaker is not None:
                args += ["--speaker", str(self.speaker)]
            try:
                proc = subprocess.run(
                    args, input=text.encode("utf-8"), capture_output=True, timeout=self.timeout_s, check=False, cwd=tmp
                )
            except FileNotFoundError as exc:
                raise TTSUnavailableError(f"piper could not be started ({cmd[0]}): {_INSTALL}") from exc
            except subprocess.TimeoutExpired as exc:
                raise TTSError(f"piper did not finish within {self.timeout_s:g} s for {len(text)} characters") from exc
            stderr = proc.stderr.decode("utf-8", "replace").strip()
            if proc.returncode != 0:
                last = stderr.splitlines()[-1] if stderr else f"exit {proc.returncode}"
                if "onnx" in stderr.lower() or "protobuf" in stderr.lower() or "invalid" in stderr.lower():
                    raise TTSUnavailableError(
                        f"piper cannot load the voice {self.model} (corrupt or not a piper voice: {last[:200]}): "
                        "download the voice again"
                    )
                raise TTSUnavailableError(f"piper failed with the voice {self.model}: {last[:300]}")
            audio = out.read_bytes() if out.exists() else b""
        _check_wav(audio, "piper")
        log.debug("piper: %d bytes of WAV for %d characters", len(audio), len(text))
        return Speech(audio=audio, format=self.format, engine=self.name, voice=self.resolve_voice(voice), text=text)
