"""Google Translate speech through gTTS (``lang="vi"``): the natural-sounding online voice.

gTTS itself waits forever by default and reports failures as "Failed to connect. Probable cause:
Unknown". This wrapper gives it a short connect timeout and a bounded read timeout, turns every
failure into ``TTSUnavailableError``/``TTSError`` naming the host and the likely cause, and never
writes a file: audio is collected in memory, so a failed download leaves nothing behind (the cache
writes the finished clip atomically).

``base_url`` replaces ``https://translate.google.<tld>`` with another server speaking the same
``batchexecute`` protocol: a corporate relay, or a local stand-in in tests. It is implemented by
overriding gTTS's request preparation (gTTS is pinned, see pyproject.toml), not by patching.
"""

from __future__ import annotations

import base64
import logging
import re
from collections.abc import Iterator
from urllib.parse import urlsplit

import requests
from gtts import gTTS, gTTSError

from broadcaster.errors import TTSError, TTSUnavailableError
from broadcaster.tts.base import Speech, normalize_for_tts

__all__ = ["GTTSEngine", "BATCHEXECUTE_PATH"]

log = logging.getLogger(__name__)

# Path of Google's RPC endpoint, relative to the host (gtts/tts.py builds the same).
BATCHEXECUTE_PATH = "_/TranslateWebserverUi/data/batchexecute"
DEFAULT_CONNECT_TIMEOUT_S = 2.5
# A 100-character part normally comes back in well under a second; waiting longer only delays
# the fallback to espeak-ng on a filtered or captive network that accepts but never answers.
DEFAULT_READ_TIMEOUT_S = 5.0
_HINT = "use --engine espeak for offline speech"


class _EndpointGTTS(gTTS):
    """gTTS posting to an explicit batchexecute URL instead of ``translate.google.<tld>``."""

    def __init__(self, text: str, *, endpoint: str | None, **kwargs: object) -> None:
        super().__init__(text, **kwargs)
        self._endpoint = endpoint

    def _prepare_requests(self) -> list[requests.PreparedRequest]:
        prepared = super()._prepare_requests()
        if self._endpoint:
            for request in prepared:
                request.prepare_url(self._endpoint, None)
        return prepared

    def stream(self) -> Iterator[bytes]:
        """gTTS's own ``stream``, but with TLS certificates checked and the environment's proxy
        settings (including ``no_proxy``) honoured.

        gTTS 2.5.4 sends with ``verify=False`` and silences urllib3's warning for the whole
        process. What comes back here goes out on every loudspeaker of the ward, so a machine in
        the middle must not be able to put words in it.
        """
        for pr in self._prepare_requests():
            try:
                assert pr.url is not None  # gTTS prepares every request from its own URL
                with requests.Session() as session:
                    settings = session.merge_environment_settings(pr.url, {}, None, True, None)
                    response = session.send(pr, timeout=self.timeout, **settings)
                response.raise_for_status()
            except requests.exceptions.HTTPError as exc:
                raise gTTSError(tts=self, response=response) from exc
            except requests.exceptions.RequestException as exc:
                raise gTTSError(tts=self) from exc
            for line in response.iter_lines(chunk_size=1024):
                decoded = line.decode("utf-8")
                if "jQ1olc" in decoded:
                    found = re.search(r'jQ1olc","\[\\"(.*)\\"]', decoded)
                    if not found:
                        raise gTTSError(tts=self, response=response)
                    yield base64.b64decode(found.group(1).encode("ascii"))


def _looks_like_mp3(data: bytes) -> bool:
    # An ID3 tag or an MPEG audio frame sync (11 set bits) at the start.
    return data[:3] == b"ID3" or (len(data) > 1 and data[0] == 0xFF and data[1] & 0xE0 == 0xE0)


class GTTSEngine:
    """Online Vietnamese voice from Google Translate, via gTTS.

    ``voice`` is the gTTS language code ("vi"); Google offers one Vietnamese voice, and ``tld``
    (e.g. "com.vn") only changes which Google host answers. Output is MP3, 24 kHz mono.
    """

    name = "gtts"
    format = "mp3"

    def __init__(
        self,
        *,
        lang: str = "vi",
        tld: str = "com",
        slow: bool = False,
        base_url: str | None = None,
        connect_timeout_s: float = DEFAULT_CONNECT_TIMEOUT_S,
        read_timeout_s: float = DEFAULT_READ_TIMEOUT_S,
    ) -> None:
        self.lang = lang
        self.tld = tld
        self.slow = slow
        self.base_url = base_url.rstrip("/") if base_url else None
        self.connect_timeout_s = connect_timeout_s
        self.read_timeout_s = read_timeout_s

    @property
    def endpoint(self) -> str:
        root = self.base_url or f"https://translate.google.{self.tld}"
        return f"{root}/{BATCHEXECUTE_PATH}"

    @property
    def host(self) -> str:
        return urlsplit(self.endpoint).netloc

    def resolve_voice(self, voice: str | None = None) -> str:
        resolved = voice or self.lang
        if self.tld != "com":
            resolved += f"@{self.tld}"
        return resolved + (" slow" if self.slow else "")

    def synthesize(self, text: str, voice: str | None = None) -> Speech:
        text = normalize_for_tts(text)
        if not text:
            raise TTSError("nothing to say: the text to synthesise is empty")
        lang = voice or self.lang
        try:
            tts = _EndpointGTTS(
                text,
                endpoint=self.endpoint,
                lang=lang,
                tld=self.tld,
                slow=self.slow,
                lang_check=False,  # the check is local anyway; a wrong code shows up as "no audio"
                timeout=(self.connect_timeout_s, self.read_timeout_s),
            )
            audio = b"".join(tts.stream())
        except AssertionError as exc:  # gTTS asserts on text that is only punctuation
            raise TTSError(f"nothing to say after gTTS cleaned the text {text[:40]!r}: {exc}") from exc
        except gTTSError as exc:
            raise self._explain(exc.__context__, exc.rsp, lang) from exc
        except requests.RequestException as exc:  # raised while reading the body, outside gTTS's try
            raise self._explain(exc, None, lang) from exc
        if not audio or not _looks_like_mp3(audio):
            raise TTSError(
                f"{self.host} answered without usable MP3 audio ({len(audio)} bytes) for lang {lang!r}: "
                f"the Google protocol may have changed (upgrade gTTS) or the language code is wrong; {_HINT}"
            )
        log.debug("gtts: %d bytes of MP3 for %d characters from %s", len(audio), len(text), self.host)
        return Speech(audio=audio, format=self.format, engine=self.name, voice=self.resolve_voice(voice), text=text)

    def _explain(
        self, cause: BaseException | None, response: requests.Response | None, lang: str
    ) -> TTSError:
        """An error naming the host, what happened and the probable cause."""
        host = self.host
        if response is not None:
            status = response.status_code
            if status == 429:
                return TTSUnavailableError(
                    f"{host} is rate-limiting this address (HTTP 429 Too Many Requests): wait an hour or {_HINT}"
                )
            if status == 403:
                return TTSUnavailableError(
                    f"{host} refused the request (HTTP 403): the Google protocol may have changed "
                    f"(upgrade gTTS); {_HINT}"
                )
            if status >= 500:
                return TTSUnavailableError(f"{host} failed (HTTP {status}): Google-side error, try later or {_HINT}")
            if status == 200:
                return TTSError(
                    f"{host} answered without audio for lang {lang!r}: unsupported language code, "
                    f"or the Google protocol changed (upgrade gTTS); {_HINT}"
                )
            return TTSUnavailableError(f"{host} answered HTTP {status} {response.reason}: {_HINT}")
        if isinstance(cause, requests.exceptions.SSLError):
            return TTSUnavailableError(
                f"{host} did not prove it is who it claims (TLS certificate check failed: interception "
                f"by a proxy or a wrong clock?); refusing its audio; {_HINT}"
            )
        if isinstance(cause, requests.ConnectTimeout):
            return TTSUnavailableError(
                f"cannot reach {host}: no answer within {self.connect_timeout_s:g} s "
                f"(no internet, or a firewall drops the traffic?); {_HINT}"
            )
        if isinstance(cause, requests.ReadTimeout):
            return TTSUnavailableError(
                f"{host} accepted the connection but sent no audio within {self.read_timeout_s:g} s "
                f"(captive portal, filtering proxy or very slow link?); {_HINT}"
            )
        if isinstance(cause, requests.ConnectionError):
            detail = str(cause)
            if "NameResolution" in detail or "resolve" in detail:
                why = "the name does not resolve (no internet or no DNS?)"
            elif "refused" in detail.lower():
                why = "connection refused (wrong address, or a firewall rejects it?)"
            else:
                why = "connection failed (no internet?)"
            return TTSUnavailableError(f"cannot reach {host}: {why}; {_HINT}")
        return TTSUnavailableError(f"cannot get speech from {host}: {cause or 'unknown error'}; {_HINT}")
