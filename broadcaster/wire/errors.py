"""Why a message is refused, one exception per cause (in the manner of httpx's ``_exceptions``).

All of them are ``broadcaster.errors.ProtocolError`` (a ``ValueError``), so a caller that only
wants "refused or not" catches that; the trust failures are ``SignatureError``s. Each carries its
context as attributes (``topic``, ``message_id``, and what the cause needs: ``path``, ``seq``...),
so a caller can log or count by cause without parsing the text.

    ProtocolError
    ├── Malformed            not the v1 contract: not JSON, a field missing or of the wrong type,
    │   │                    a value out of bounds (``path`` says where: ``$.body.items[0].start``)
    │   ├── TooLarge         more bytes than any broker delivers
    │   └── WrongVersion     another protocol version
    ├── Misdirected          well formed but not for here: another ward, a type the central does
    │                        not send, a type that does not travel on this topic
    └── SignatureError
        ├── Unsigned         no signature
        ├── Forged           the signature does not match what was received (altered or forged)
        ├── Relayed          genuine, but signed for another topic than the one it came on
        ├── Expired          genuine, but past its ``expires_at``
        ├── Replayed         genuine, but its ``seq`` is not above the last one accepted
        └── ClockSkewError
            └── FromTheFuture  issued after this device's "now" (plus the allowed skew): usually
                               this device's clock is behind; kept and tried again, not a forgery
"""

from __future__ import annotations

from datetime import datetime

from broadcaster.errors import ClockSkewError, ProtocolError, SignatureError

__all__ = [
    "ProtocolError", "SignatureError", "ClockSkewError", "Malformed", "TooLarge", "WrongVersion", "Misdirected",
    "Unsigned", "Forged", "Relayed", "Expired", "Replayed", "FromTheFuture",
]


class _Context:
    """The attributes every wire error carries: where the message came and which one it was."""

    topic: str
    message_id: str | None

    def _set(self, topic: str, message_id: str | None) -> None:
        self.topic, self.message_id = topic, message_id

    def _where(self) -> str:
        who = f"message {self.message_id}" if self.message_id else "message"
        return f"{who} on {self.topic}" if self.topic else who if self.message_id else ""


class Malformed(_Context, ProtocolError):
    """Not the v1 contract. ``path`` is where in the message (``$.body.items[0].duration_ms``),
    ``problem`` what is wrong there."""

    def __init__(self, problem: str, *, path: str = "", topic: str = "", message_id: str | None = None) -> None:
        self._set(topic, message_id)
        self.problem, self.path = problem, path
        where = self._where()
        super().__init__(f"{where + ': ' if where else ''}{path + ': ' if path else ''}{problem}")

    def located(self, *, topic: str, message_id: str | None = None, prefix: str = "") -> Malformed:
        """The same error, told where the message came from (and under which part, e.g. ``$.body``)."""
        path = prefix + self.path.removeprefix("$") if prefix else self.path
        return type(self)(self.problem, path=path, topic=topic, message_id=message_id)


class TooLarge(Malformed):
    def __init__(self, size: int, limit: int, *, topic: str = "", message_id: str | None = None) -> None:
        self.size, self.limit = size, limit
        super().__init__(f"{size} bytes, more than {limit}", topic=topic, message_id=message_id)

    def located(self, *, topic: str, message_id: str | None = None, prefix: str = "") -> Malformed:
        return TooLarge(self.size, self.limit, topic=topic, message_id=message_id)


class WrongVersion(Malformed):
    def __init__(self, found: object, speaks: int, *, topic: str = "", message_id: str | None = None) -> None:
        self.found, self.speaks = found, speaks
        super().__init__(f"protocol version {found!r}, this program speaks {speaks}", path="$.v", topic=topic, message_id=message_id)

    def located(self, *, topic: str, message_id: str | None = None, prefix: str = "") -> Malformed:
        return WrongVersion(self.found, self.speaks, topic=topic, message_id=message_id)


class Misdirected(_Context, ProtocolError):
    """A well-formed message that is not for this receiver or not for this topic."""

    def __init__(self, problem: str, *, topic: str, message_id: str | None) -> None:
        self._set(topic, message_id)
        self.problem = problem
        super().__init__(f"{self._where()} {problem}")


class _Untrusted(_Context, SignatureError):
    def __init__(self, problem: str, *, topic: str, message_id: str | None) -> None:
        self._set(topic, message_id)
        self.problem = problem
        super().__init__(f"{self._where()} {problem}")


class Unsigned(_Untrusted):
    def __init__(self, *, topic: str, message_id: str | None) -> None:
        super().__init__("is not signed: refused", topic=topic, message_id=message_id)


class Forged(_Untrusted):
    def __init__(self, *, topic: str, message_id: str | None) -> None:
        super().__init__("has a signature that does not match what was received (altered or forged): refused", topic=topic, message_id=message_id)


class Relayed(_Untrusted):
    def __init__(self, signed_for: str, *, topic: str, message_id: str | None) -> None:
        self.signed_for = signed_for
        super().__init__(f"was signed for {signed_for or '(no topic)'} but arrived on {topic}: re-published elsewhere, refused",
                         topic=topic, message_id=message_id)


class Expired(_Untrusted):
    def __init__(self, expires_at: datetime, spelt: str, *, topic: str, message_id: str | None) -> None:
        self.expires_at = expires_at
        super().__init__(f"expired at {spelt}: refused", topic=topic, message_id=message_id)


class Replayed(_Untrusted):
    def __init__(self, seq: int, last_seq: int, *, topic: str, message_id: str | None) -> None:
        self.seq, self.last_seq = seq, last_seq
        super().__init__(f"has seq {seq}, not above {last_seq} already accepted: replay refused", topic=topic, message_id=message_id)


class FromTheFuture(_Context, ClockSkewError):
    def __init__(self, issued_at: datetime, spelt: str, *, topic: str, message_id: str | None) -> None:
        self._set(topic, message_id)
        self.issued_at = issued_at
        super().__init__(
            f"{self._where()} is issued in the future ({spelt}): this device's clock is behind "
            "(not yet synchronised?); kept and tried again"
        )
