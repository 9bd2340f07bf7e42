"""Exceptions, built on the builtins so callers can catch ``ValueError``/``OSError`` as usual.

Every message says what is wrong, where (file and key, zone, message id) and what to do about it,
because the person reading it is often a ward officer, not a programmer.
"""

from __future__ import annotations


class BroadcasterError(Exception):
    """Base of every error this project raises on purpose."""


class ConfigError(BroadcasterError, ValueError):
    """A ward, device, announcement or deck file holds a value that cannot be used."""

    def __init__(self, file: str, key: str, problem: str, expected: str | None = None) -> None:
        self.file, self.key, self.problem, self.expected = str(file), key, problem, expected
        msg = f"{self.file}: {key}: {problem}"
        if expected:
            msg += f" (expected {expected})"
        super().__init__(msg)


class ScheduleError(BroadcasterError, ValueError):
    """An announcement cannot be scheduled as asked (past date, outside every window, too long...)."""


class UnknownZoneError(ScheduleError, LookupError):
    """A zone id that the ward file does not define."""


class NotFoundError(BroadcasterError, LookupError):
    """An announcement, device or media item that the store does not hold."""


class TTSError(BroadcasterError, RuntimeError):
    """Speech could not be synthesised by an engine."""


class TTSUnavailableError(TTSError, ConnectionError):
    """The engine cannot be reached or is not installed; another engine may work."""


class MediaError(BroadcasterError, OSError):
    """Audio or image media is missing, corrupt or cannot be written."""


class ProtocolError(BroadcasterError, ValueError):
    """A message on the broker does not follow the wire contract (docs/protocol.md)."""


class SignatureError(ProtocolError):
    """A message is unsigned, signed by another key, altered, replayed or expired."""


class ClockSkewError(SignatureError):
    """A message looks issued in the future: usually this device's clock is not synchronised yet.

    Not a forgery: the device keeps the message and tries it again once its clock has caught up."""


class StoreError(BroadcasterError, OSError):
    """The central store cannot be used right now (locked by another program) or at all (corrupt)."""

    exit_code = 1


class StoreCorruptError(StoreError):
    """The store file is damaged: restarting will not help (``serve`` exits with 78, EX_CONFIG,
    which the systemd unit does not restart on), restoring a backup will."""

    exit_code = 78
