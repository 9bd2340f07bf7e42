"""The catalog of administrative procedures (thủ tục hành chính, TTHC) shown on the reception TV.

The catalog is a JSON file the ward edits by hand (``playlists/catalog/procedures.json``): a list of
objects, one per procedure::

    {
      "code": "khai_sinh",                      # unique id, letters/digits/underscore/hyphen
      "name": "Đăng ký khai sinh",
      "field": "Hộ tịch",                       # lĩnh vực
      "documents": ["Tờ khai ...", "..."],      # thành phần hồ sơ, at least one
      "processing_time": "...",                 # thời hạn giải quyết
      "fee": "...",                             # phí, lệ phí
      "online_level": "toàn trình" | "một phần" | null,   # null: submitted in person only
      "legal_basis": "...",                     # optional
      "verified": true,                         # optional, default false: every field has a source
      "link": "https://..."                     # optional: shown as a QR code on the slide
    }

Loading validates everything up front, because the person fixing a mistake is a ward officer reading
an error message: each :class:`~broadcaster.errors.ConfigError` names the file, the entry (its
position and code) and the key, and says what was expected.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from broadcaster.errors import ConfigError

# Since Nghị định 42/2022/NĐ-CP online public services are classed only as "toàn trình" (fully online)
# or "một phần" (partly online); the old levels 1-4 are gone.
ONLINE_LEVELS: Final[tuple[str, ...]] = ("toàn trình", "một phần")

_CODE_RE: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_REQUIRED_TEXT: Final[tuple[str, ...]] = ("code", "name", "field", "processing_time", "fee")
_KNOWN_KEYS: Final[frozenset[str]] = frozenset(
    {*_REQUIRED_TEXT, "documents", "online_level", "legal_basis", "verified", "link"}
)


@dataclass(frozen=True, slots=True)
class Procedure:
    """One procedure as published at the reception desk; all text is NFC-normalised."""

    code: str
    name: str
    field: str
    documents: tuple[str, ...]
    processing_time: str
    fee: str
    online_level: str | None = None
    legal_basis: str | None = None
    verified: bool = False
    link: str | None = None


# What an officer reads when a procedure is refused (Vietnamese): the same words whether it comes
# from the JSON file or from the spreadsheet (``catalog_import``), which use the same rules below.
E_EMPTY = "trống; mỗi thủ tục cần điền mục này"
E_NOT_TEXT = "là {kind}, cần là chữ"
E_CODE = "“{code}” có dấu cách hoặc ký tự lạ; chỉ dùng chữ không dấu, số, dấu chấm, gạch (ví dụ 1.001193)"
E_CODE_TWICE = "mã “{code}” đã có ở {where}; mỗi thủ tục một mã"
E_DOCS_NONE = "không có giấy tờ nào; ghi ít nhất một giấy tờ (mỗi giấy tờ một dòng trong ô)"
E_DOCS_NOT_LIST = "là {kind}, cần là danh sách giấy tờ"
E_LEVEL = "“{level}” không phải mức hợp lệ; ghi “toàn trình”, “một phần”, hoặc để trống nếu chỉ nộp trực tiếp"
E_LINK = "“{link}” không phải địa chỉ web; ghi đầy đủ, bắt đầu bằng https:// và không có dấu cách"
E_VERIFIED = "là {kind}, cần là true hoặc false"
E_UNKNOWN_KEY = "không phải mục của danh mục (gõ nhầm?); các mục: {keys}"
E_ENTRY = "là {kind}, cần là một đối tượng {{\"code\": ..., \"name\": ..., ...}}"
E_TOP = "là {kind}, cần là danh sách các thủ tục [ {{...}}, {{...}} ]"
_LINK_RE: Final = re.compile(r"^https?://[^\s/]+\S*$")


def code_problem(code: str) -> str | None:
    return None if _CODE_RE.match(code) else E_CODE.format(code=code)


def link_problem(link: str) -> str | None:
    return None if _LINK_RE.match(link) else E_LINK.format(link=link)


def level_problem(level: str) -> str | None:
    return None if level.casefold() in ONLINE_LEVELS else E_LEVEL.format(level=level)


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text).strip()


def _kind(value: Any) -> str:
    """How a JSON value is called in an error message meant for a non-programmer."""
    if value is None:
        return "null (trống)"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return "một số"
    if isinstance(value, str):
        return "chữ"
    if isinstance(value, list):
        return "một danh sách"
    if isinstance(value, dict):
        return "một đối tượng"
    return type(value).__name__


def _text(file: str, key: str, value: Any) -> str:
    if not isinstance(value, str):
        raise ConfigError(file, key, E_NOT_TEXT.format(kind=_kind(value)))
    text = _nfc(value)
    if not text:
        raise ConfigError(file, key, E_EMPTY)
    return text


def _parse_entry(file: str, index: int, entry: Any, seen: dict[str, int]) -> Procedure:
    where = f"[{index}]"
    if not isinstance(entry, dict):
        raise ConfigError(file, where, E_ENTRY.format(kind=_kind(entry)))
    code_raw = entry.get("code")
    if isinstance(code_raw, str) and code_raw.strip():
        where = f"[{index}] (code {code_raw.strip()!r})"

    def key(name: str) -> str:
        return f"{where}.{name}"

    unknown = sorted(set(entry) - _KNOWN_KEYS)
    if unknown:
        # Reject rather than ignore: a misspelt optional key ("lnik") would otherwise vanish silently.
        raise ConfigError(file, key(unknown[0]), E_UNKNOWN_KEY.format(keys=", ".join(sorted(_KNOWN_KEYS))))
    for name in (*_REQUIRED_TEXT, "documents"):
        if name not in entry:
            raise ConfigError(file, key(name), E_EMPTY)

    code = _text(file, key("code"), entry["code"])
    if (why := code_problem(code)) is not None:
        raise ConfigError(file, key("code"), why)
    if code in seen:
        raise ConfigError(file, key("code"), E_CODE_TWICE.format(code=code, where=f"mục [{seen[code]}]"))
    seen[code] = index

    docs_raw = entry["documents"]
    if not isinstance(docs_raw, list):
        raise ConfigError(file, key("documents"), E_DOCS_NOT_LIST.format(kind=_kind(docs_raw)))
    if not docs_raw:
        raise ConfigError(file, key("documents"), E_DOCS_NONE)
    documents = tuple(_text(file, f"{key('documents')}[{i}]", d) for i, d in enumerate(docs_raw))

    online = entry.get("online_level")
    if online is not None:
        online = _text(file, key("online_level"), online)
        if (why := level_problem(online)) is not None:
            raise ConfigError(file, key("online_level"), why)
        online = online.casefold()

    legal = entry.get("legal_basis")
    if legal is not None:
        legal = _text(file, key("legal_basis"), legal)

    verified = entry.get("verified", False)
    if not isinstance(verified, bool):
        raise ConfigError(file, key("verified"), E_VERIFIED.format(kind=_kind(verified)))

    link = entry.get("link")
    if link is not None:
        link = _text(file, key("link"), link)
        if (why := link_problem(link)) is not None:
            raise ConfigError(file, key("link"), why)

    return Procedure(
        code=code,
        name=_text(file, key("name"), entry["name"]),
        field=_text(file, key("field"), entry["field"]),
        documents=documents,
        processing_time=_text(file, key("processing_time"), entry["processing_time"]),
        fee=_text(file, key("fee"), entry["fee"]),
        online_level=online,
        legal_basis=legal,
        verified=verified,
        link=link,
    )


def parse_catalog(data: Any, *, file: str = "<catalog>") -> list[Procedure]:
    """Validate already-decoded JSON ``data``; ``file`` is only used in error messages."""
    if not isinstance(data, list):
        raise ConfigError(file, "(top level)", E_TOP.format(kind=_kind(data)))
    seen: dict[str, int] = {}
    return [_parse_entry(file, i, entry, seen) for i, entry in enumerate(data)]


def load_catalog(path: str | Path) -> list[Procedure]:
    """Read and validate a catalog file, keeping the file's order (the order slides are shown in).

    Raises :class:`ConfigError` for an unreadable file, invalid JSON or any invalid entry.
    """
    path = Path(path)
    file = str(path)
    try:
        raw = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(file, "(file)", f"is not UTF-8 text ({exc.reason} at byte {exc.start})",
                          "the file saved as UTF-8") from exc
    except OSError as exc:
        raise ConfigError(file, "(file)", f"cannot be read: {exc.strerror or exc}", "a readable JSON file") from exc
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ConfigError(file, f"(line {exc.lineno}, column {exc.colno})", f"is not valid JSON: {exc.msg}",
                          "a JSON list of procedure objects") from exc
    return parse_catalog(data, file=file)
