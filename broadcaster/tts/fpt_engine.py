"""FPT.AI Text to Speech v5: natural Vietnamese voices of the three regions, online, with an API key.

Implemented from FPT.AI's published API documentation ("FPT.AI Speech - Text to Speech",
docs.fpt.ai, speech/api/text-to-speech):

* ``POST https://api.fpt.ai/hmi/tts/v5``; the body is the text itself (UTF-8), at least 3 and at
  most 5,000 characters.
* Headers: ``api_key`` (required), ``voice`` (banmai, lannhi, leminh, myan, thuminh, giahuy,
  linhsan), ``speed`` (-3 slowest .. 0 normal .. +3 fastest), ``format`` (mp3 or wav),
  ``callback_url`` (optional).
* The answer is JSON: ``error`` (0 = success, anything else = failure), ``async`` (link to the
  audio file), ``request_id``, ``message``. The file "may not exist right at the time of
  response": it appears after 5 seconds to 2 minutes depending on the text's length.

The callback needs a public address that FPT.AI can reach; a ward PC behind a router has none, so
this engine polls the ``async`` link until the file is there (``poll_timeout_s``, default 120 s,
the documented worst case). The documentation defines no error codes beyond "non-zero" and no
HTTP statuses, so errors are classified by HTTP status where there is one (401/403: key,
402/429: quota or rate, 5xx: service) and by the message text otherwise; an unknown failure is
reported with FPT.AI's own message.

The API key is read from a file named in the ward file, when needed (so a new key takes effect
without a restart), and never logged or put in an exception message.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import requests

from broadcaster.errors import TTSError, TTSUnavailableError
from broadcaster.tts import messages_vi as vi
from broadcaster.tts.base import Speech, normalize_for_tts
from broadcaster.config import FPT_VOICES, FptSettings
from broadcaster.tts.gtts_engine import _looks_like_mp3

__all__ = ["FPT_VOICES", "FptEngine", "MAX_CHARS", "MIN_CHARS", "TTS_PATH"]

log = logging.getLogger(__name__)

TTS_PATH = "/hmi/tts/v5"
DEFAULT_BASE_URL = "https://api.fpt.ai"
MAX_CHARS = 5000
MIN_CHARS = 3
DEFAULT_VOICE = FptSettings.voice


def pick_voice(region: str | None = None, gender: str | None = None) -> str:
    """The first documented voice of that region and gender (either may be None)."""
    for name, (r, g) in FPT_VOICES.items():
        if (region is None or r == region) and (gender is None or g == gender):
            return name
    raise ValueError(f"FPT.AI has no {gender or ''} voice of region {region!r}; voices: {', '.join(FPT_VOICES)}")


class FptEngine:
    name = "fpt"
    format = "mp3"

    def __init__(
        self,
        *,
        api_key_file: Path,
        voice: str = DEFAULT_VOICE,
        speed: int = 0,
        base_url: str = DEFAULT_BASE_URL,
        connect_timeout_s: float = 5.0,
        read_timeout_s: float = 20.0,
        poll_timeout_s: float = 120.0,
        poll_interval_s: float = 1.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if voice not in FPT_VOICES:
            raise ValueError(f"unknown FPT.AI voice {voice!r}: one of {', '.join(FPT_VOICES)}")
        if not -3 <= speed <= 3:
            raise ValueError(f"FPT.AI speed must be from -3 to +3, not {speed}")
        self.api_key_file = Path(api_key_file)
        self.voice = voice
        self.speed = speed
        self.base_url = base_url.rstrip("/")
        self.connect_timeout_s = connect_timeout_s
        self.read_timeout_s = read_timeout_s
        self.poll_timeout_s = poll_timeout_s
        self.poll_interval_s = poll_interval_s
        self._sleep = sleep
        self._clock = clock

    @property
    def host(self) -> str:
        return urlsplit(self.base_url).netloc

    def resolve_voice(self, voice: str | None = None) -> str:
        return f"{voice or self.voice} speed{self.speed:+d}"

    def _key(self) -> str:
        try:
            key = self.api_key_file.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError):
            key = ""
        if not key:
            raise TTSUnavailableError(vi.FPT_NO_KEY.format(key_file=self.api_key_file))
        return key

    def synthesize(self, text: str, voice: str | None = None) -> Speech:
        text = normalize_for_tts(text)
        if not text:
            raise TTSError("nothing to say: the text to synthesise is empty")
        name = voice or self.voice
        if name not in FPT_VOICES:
            raise TTSError(f"unknown FPT.AI voice {name!r}: one of {', '.join(FPT_VOICES)}")
        if len(text) > MAX_CHARS:
            raise TTSError(vi.FPT_TOO_LONG.format(length=len(text), limit=MAX_CHARS))
        if len(text) < MIN_CHARS:
            raise TTSError(vi.FPT_TOO_SHORT.format(limit=MIN_CHARS))
        headers = {
            "api_key": self._key(),
            "voice": name,
            "speed": str(self.speed),
            "format": "mp3",
            "Content-Type": "text/plain; charset=utf-8",
            "Cache-Control": "no-cache",
        }
        timeout = (self.connect_timeout_s, self.read_timeout_s)
        try:
            resp = requests.post(self.base_url + TTS_PATH, data=text.encode("utf-8"), headers=headers, timeout=timeout)
        except requests.RequestException as exc:
            raise TTSUnavailableError(vi.FPT_DOWN.format(why=_why(exc, self.host))) from None
        link = self._accepted(resp)
        audio = self._fetch(link)
        log.debug("fpt: %d bytes of MP3 for %d characters (voice %s)", len(audio), len(text), name)
        return Speech(audio=audio, format=self.format, engine=self.name, voice=self.resolve_voice(voice), text=text)

    def _accepted(self, resp: requests.Response) -> str:
        """The ``async`` link of an accepted request, or the officer's error."""
        status = resp.status_code
        try:
            body = resp.json()
        except ValueError:
            body = {}
        message = str(body.get("message", "") if isinstance(body, dict) else "")[:200]
        error = body.get("error") if isinstance(body, dict) else None
        if status in (401, 403) or (error not in (0, None) and _says(message, "key", "unauthori", "xác thực", "invalid api")):
            raise TTSUnavailableError(vi.FPT_BAD_KEY.format(key_file=self.api_key_file) + f" — HTTP {status}")
        if status in (402, 429) or (error not in (0, None) and _says(message, "quota", "limit", "hạn mức", "exceed", "credit")):
            raise TTSUnavailableError(vi.FPT_QUOTA + f" — HTTP {status}: {message}")
        if status == 413 or _says(message, "too long", "5000", "5.000"):
            raise TTSError(vi.FPT_TOO_LONG.format(length="hơn " + str(MAX_CHARS), limit=MAX_CHARS))
        if status >= 500:
            raise TTSUnavailableError(vi.FPT_DOWN.format(why=f"HTTP {status}"))
        if status != 200 or error != 0:
            raise TTSError(vi.FPT_REFUSED.format(message=message or f"HTTP {status}, error {error!r}"))
        link = body.get("async")
        if not isinstance(link, str) or urlsplit(link).scheme not in ("https", "http"):
            raise TTSError(vi.FPT_REFUSED.format(message=f"no audio link in the answer ({message})"))
        if urlsplit(link).scheme == "http" and urlsplit(self.base_url).scheme == "https":
            # The audio goes out on every loudspeaker: do not fetch it in clear text when the request
            # itself was protected.
            raise TTSError(vi.FPT_REFUSED.format(message="the audio link is not https"))
        return link

    def _fetch(self, link: str) -> bytes:
        """Poll the ``async`` link until the file exists (documented: 5 s to 2 minutes)."""
        deadline = self._clock() + self.poll_timeout_s
        interval = self.poll_interval_s
        while True:
            try:
                resp = requests.get(link, timeout=(self.connect_timeout_s, self.read_timeout_s))
            except requests.RequestException as exc:
                raise TTSUnavailableError(vi.FPT_DOWN.format(why=_why(exc, urlsplit(link).netloc))) from None
            if resp.status_code == 200 and resp.content:
                if not _looks_like_mp3(resp.content):
                    raise TTSError(vi.FPT_BAD_AUDIO.format(size=len(resp.content)))
                return resp.content
            if resp.status_code >= 500 and resp.status_code != 503:
                raise TTSUnavailableError(vi.FPT_DOWN.format(why=f"HTTP {resp.status_code} on the audio file"))
            # 403/404 (not there yet, as object stores answer) or 503: wait and ask again
            if self._clock() + interval > deadline:
                raise TTSUnavailableError(vi.FPT_SLOW.format(seconds=self.poll_timeout_s))
            self._sleep(interval)
            interval = min(interval * 1.5, 5.0)


def _says(message: str, *words: str) -> bool:
    low = message.lower()
    return any(w in low for w in words)


def _why(exc: requests.RequestException, host: str) -> str:
    if isinstance(exc, requests.exceptions.SSLError):
        return f"{host}: chứng chỉ TLS không hợp lệ (TLS certificate check failed)"
    if isinstance(exc, requests.ConnectTimeout):
        return f"{host}: không phản hồi (connect timeout)"
    if isinstance(exc, requests.ReadTimeout):
        return f"{host}: phản hồi quá chậm (read timeout)"
    if isinstance(exc, requests.ConnectionError):
        return f"{host}: không kết nối được (connection failed)"
    return f"{host}: {type(exc).__name__}"
