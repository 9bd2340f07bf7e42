"""espeak-ng (``-v vi``): the offline Vietnamese voice, always available once the package is installed.

It sounds robotic next to Google's voice but needs no network, starts in milliseconds and
synthesises far faster than real time, so it is the fallback of ``auto`` and the engine of choice
on a ward PC without internet. The text goes in on stdin (no length limit, no risk of a text
starting with "-" being read as an option) and the WAV comes back through a private temporary
directory that is always removed.
"""

from __future__ import annotations

import io
import logging
import shutil
import subprocess
import tempfile
import wave
from pathlib import Path

from broadcaster.errors import TTSError, TTSUnavailableError
from broadcaster.tts.base import Speech, normalize_for_tts

__all__ = ["DEFAULT_PITCH", "DEFAULT_SPEED_WPM", "DEFAULT_VOICE", "DEFAULT_WORD_GAP", "ESPEAK_VOICES", "EspeakEngine"]

# Chosen by the intelligibility bench (docs/benchmarks.md, "Choosing the espeak-ng voice").
DEFAULT_VOICE = "vi"
DEFAULT_SPEED_WPM = 110
DEFAULT_PITCH = 50
DEFAULT_WORD_GAP = 3
# espeak-ng's Vietnamese voices: northern (Hà Nội), central (Huế / Quảng Trị), southern (Sài Gòn).
ESPEAK_VOICES = ("vi", "vi-vn-x-central", "vi-vn-x-south")

log = logging.getLogger(__name__)

_INSTALL = "install the Debian package espeak-ng (sudo apt-get install espeak-ng)"


class EspeakEngine:
    """Offline voice. ``voice`` is an espeak-ng voice name: "vi", "vi-vn-x-central", "vi-vn-x-south",
    or a variant such as "vi+f3". ``word_gap`` adds pauses between words (units of 10 ms at normal
    speed).

    The defaults (110 wpm, pitch 50, word gap 3) are the best of a grid measured by the
    intelligibility bench (docs/benchmarks.md): slower speech with short gaps between syllables is
    heard far better than espeak's own 175 wpm, which also helps across streets, with echo; ``amplitude`` (0-200) only matters before loudness normalisation.
    Output is 16-bit mono WAV at 22.05 kHz.
    """

    name = "espeak"
    format = "wav"

    def __init__(
        self,
        *,
        voice: str = DEFAULT_VOICE,
        speed_wpm: int = DEFAULT_SPEED_WPM,
        pitch: int = DEFAULT_PITCH,
        amplitude: int = 100,
        word_gap: int = DEFAULT_WORD_GAP,
        binary: str = "espeak-ng",
        timeout_s: float = 120.0,
    ) -> None:
        self.voice = voice
        self.speed_wpm = speed_wpm
        self.pitch = pitch
        self.amplitude = amplitude
        self.word_gap = word_gap
        self.binary = binary
        self.timeout_s = timeout_s

    def resolve_voice(self, voice: str | None = None) -> str:
        resolved = f"{voice or self.voice} s{self.speed_wpm} p{self.pitch} a{self.amplitude}"
        if self.word_gap:
            resolved += f" g{self.word_gap}"
        return resolved

    def synthesize(self, text: str, voice: str | None = None) -> Speech:
        text = normalize_for_tts(text)
        if not text:
            raise TTSError("nothing to say: the text to synthesise is empty")
        exe = shutil.which(self.binary)
        if exe is None:
            raise TTSUnavailableError(f"{self.binary} is not installed or not on PATH: {_INSTALL}")
        name = voice or self.voice
        with tempfile.TemporaryDirectory(prefix="broadcaster-espeak-") as tmp:
            out = Path(tmp) / "speech.wav"
            cmd = [
                exe, "-v", name, "-s", str(self.speed_wpm), "-p", str(self.pitch),
                "-a", str(self.amplitude), "-g", str(self.word_gap), "-b", "1", "-w", str(out),
            ]  # fmt: skip
            try:
                proc = subprocess.run(
                    cmd, input=text.encode("utf-8"), capture_output=True, timeout=self.timeout_s, check=False
                )
            except FileNotFoundError as exc:
                raise TTSUnavailableError(f"{self.binary} could not be started: {_INSTALL}") from exc
            except subprocess.TimeoutExpired as exc:
                raise TTSError(
                    f"{self.binary} did not finish within {self.timeout_s:g} s for {len(text)} characters: "
                    "is the machine overloaded?"
                ) from exc
            stderr = proc.stderr.decode("utf-8", "replace").strip()
            if proc.returncode != 0:
                if "voice does not exist" in stderr:
                    raise TTSUnavailableError(
                        f"{self.binary} has no voice {name!r}: install the Debian package espeak-ng-data "
                        "or choose another voice"
                    )
                raise TTSError(f"{self.binary} failed (exit {proc.returncode}): {stderr or 'no message'}")
            audio = out.read_bytes() if out.exists() else b""
        _check_wav(audio, self.binary)
        log.debug("espeak: %d bytes of WAV for %d characters", len(audio), len(text))
        return Speech(audio=audio, format=self.format, engine=self.name, voice=self.resolve_voice(voice), text=text)


def _check_wav(audio: bytes, tool: str) -> None:
    """Refuse empty or unreadable output rather than put silence on air."""
    try:
        with wave.open(io.BytesIO(audio)) as w:
            frames = w.getnframes()
    except (wave.Error, EOFError) as exc:
        raise TTSError(f"{tool} wrote no readable WAV ({len(audio)} bytes): {exc}") from exc
    if frames == 0:
        raise TTSError(f"{tool} produced no audio: the text may contain nothing it can read")
