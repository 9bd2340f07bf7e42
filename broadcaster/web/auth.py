"""Sign-in for the console: argon2 password hashes, server-side sessions, CSRF, a login rate limit.

* Passwords: argon2id (argon2-cffi). The default cost (~64 MiB, tens of ms to ~0.3 s here) is
  right for sign-ins; tests pass the cheapest profile (``Passwords(cheap=True)``); a hash records
  its own parameters, so verification works whatever profile made it.
* Sessions live in the store (``console_sessions``), so logout, a new password, a role change or
  a disabled account end them at once (a signed-only cookie could not be revoked). The cookie
  holds a random token signed with itsdangerous (a tampered cookie is refused before any look-up);
  the store keeps only the token's sha256. Cookie: HttpOnly, SameSite=Strict, Secure under HTTPS,
  path /console.
* CSRF: a random token per session, required on every POST as the ``csrf`` form field or the
  ``X-CSRF-Token`` header (the page's scripts send it), compared in constant time.
* Login rate limit: per address and per user name, a few failures per window, then a wait.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from argon2.profiles import CHEAPEST, RFC_9106_LOW_MEMORY
from itsdangerous import BadSignature, Signer

from broadcaster.central.records import Records, User

COOKIE = "bc_console"
# A real hash to verify against when the user name is unknown: the answer then takes as long as
# for a known name, so timing does not tell which names exist.
_DUMMY_PASSWORD = "not-a-password"


class Passwords:
    def __init__(self, cheap: bool = False) -> None:
        self.hasher = PasswordHasher.from_parameters(CHEAPEST if cheap else RFC_9106_LOW_MEMORY)
        self._dummy = self.hasher.hash(_DUMMY_PASSWORD)

    def hash(self, password: str) -> str:
        return self.hasher.hash(password)

    def verify(self, hashed: str | None, password: str) -> bool:
        try:
            return self.hasher.verify(hashed or self._dummy, password) and hashed is not None
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False


def check_new_password(password: str) -> str | None:
    """None if acceptable, else why not (Vietnamese)."""
    if len(password) < 10:
        return "Mật khẩu cần ít nhất 10 ký tự."
    if password.strip() != password:
        return "Mật khẩu không được bắt đầu hay kết thúc bằng dấu cách."
    return None


def load_secret(home: Path) -> bytes:
    """The cookie-signing secret: made once, kept in the data folder (mode 600), never logged."""
    p = home / "keys" / "console-cookie.secret"
    p.parent.mkdir(parents=True, exist_ok=True)
    try:
        data = p.read_bytes()
        if len(data) >= 32:
            return data
    except FileNotFoundError:
        pass
    data = secrets.token_bytes(32)
    import os

    fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    return data


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class LoggedIn:
    user: User
    csrf: str
    token_hash: str


class Sessions:
    def __init__(self, records: Records, secret: bytes, lifetime: timedelta) -> None:
        self.records = records
        self.signer = Signer(secret, salt="broadcaster-console-session")
        self.lifetime = lifetime

    def create(self, user: User, address: str, now: datetime) -> tuple[str, str]:
        """A new session: (cookie value, csrf token)."""
        token = secrets.token_urlsafe(32)
        csrf = secrets.token_urlsafe(32)
        self.records.add_session(_digest(token), user.username, csrf, now + self.lifetime, address, now)
        return self.signer.sign(token.encode()).decode(), csrf

    def resolve(self, cookie: str | None, now: datetime) -> LoggedIn | None:
        if not cookie:
            return None
        try:
            token = self.signer.unsign(cookie.encode()).decode()
        except (BadSignature, UnicodeDecodeError):
            return None
        th = _digest(token)
        s = self.records.session(th, now)
        if s is None:
            return None
        user = self.records.user(s.username)
        if user is None or not user.active:
            return None
        if s.expires_at - now < self.lifetime - timedelta(minutes=5):
            self.records.touch_session(th, now + self.lifetime, now)  # sliding expiry, written at most every 5 min
        return LoggedIn(user, s.csrf, th)

    def end(self, token_hash: str) -> None:
        self.records.drop_session(token_hash)


def csrf_ok(expected: str, given: str | None) -> bool:
    return bool(given) and hmac.compare_digest(expected.encode(), (given or "").encode())


class LoginLimiter:
    """At most ``attempts`` failures per ``window`` seconds per user name, and four times as many
    per address (a ward office shares one address behind its router)."""

    def __init__(self, attempts: int = 5, window: float = 300.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.attempts, self.window, self.clock = attempts, window, clock
        self._fails: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _limit(self, key: str) -> int:
        return self.attempts * 4 if key.startswith("ip:") else self.attempts

    def _recent(self, key: str) -> deque[float]:
        q = self._fails.setdefault(key, deque())
        now = self.clock()
        while q and now - q[0] > self.window:
            q.popleft()
        return q

    def wait_seconds(self, *keys: str) -> int:
        """0 if a sign-in may be tried now, else how long to wait."""
        with self._lock:
            worst = 0.0
            for k in keys:
                q = self._recent(k)
                if len(q) >= self._limit(k):
                    worst = max(worst, self.window - (self.clock() - q[0]))
            return int(worst) + (1 if worst else 0)

    def failed(self, *keys: str) -> None:
        with self._lock:
            for k in keys:
                self._recent(k).append(self.clock())
            if len(self._fails) > 10000:  # a flood of names: forget the oldest quiet ones
                for k in [k for k, q in self._fails.items() if not q][:5000]:
                    del self._fails[k]

    def succeeded(self, *keys: str) -> None:
        with self._lock:
            for k in keys:
                self._fails.pop(k, None)
