"""The procedure catalog from the spreadsheet officers already keep (``broadcaster catalog import``).

Reads a CSV (UTF-8, comma or semicolon, as Excel saves it) or an .xlsx workbook (first sheet) with
the columns such lists carry, recognised by their Vietnamese headers whatever the case or tone
marks (``playlists/catalog/mau-thu-tuc.csv`` / ``.xlsx`` is the template):

=========================  ===================  ==========================================
header                     catalog key          notes
=========================  ===================  ==========================================
Mã thủ tục                 code                 e.g. 1.001193 or khai_sinh
Tên thủ tục                name
Lĩnh vực                   field
Thời hạn giải quyết        processing_time
Phí, lệ phí                fee
Thành phần hồ sơ           documents            one per line in the cell (or separated by ;)
Mức độ trực tuyến          online_level         toàn trình / một phần / empty (in person)
Link dịch vụ công          link                 optional; the national portal page
Căn cứ pháp lý             legal_basis          optional
Đã xác minh                verified             optional; "có"/"x" when every fact is checked
=========================  ===================  ==========================================

Every row is checked before anything is written; all mistakes are reported together, each naming
its row (as the spreadsheet numbers it) and column, in Vietnamese, with what to write instead.
The catalog file is then replaced whole, atomically: never half a catalog.
"""

from __future__ import annotations

import csv
import io
import json
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from broadcaster.catalog import (
    E_CODE_TWICE,
    E_DOCS_NONE,
    E_EMPTY,
    E_LEVEL,
    ONLINE_LEVELS,
    Procedure,
    code_problem,
    link_problem,
    parse_catalog,
)
from broadcaster.errors import BroadcasterError, ConfigError
from broadcaster.fsutil import atomic_write


class CatalogImportError(BroadcasterError, ValueError):
    """One or more rows of the sheet are wrong; ``problems`` lists each (row, column, message)."""

    def __init__(self, file: str, problems: list[tuple[int | None, str | None, str]]) -> None:
        self.file = file
        self.problems = problems
        lines = [f"Không nhập được danh mục từ {file}: {len(problems)} lỗi, chưa ghi gì."]
        for row, col, msg in problems:
            where = ", ".join(x for x in (f"dòng {row}" if row else None, f"cột “{col}”" if col else None) if x)
            lines.append(f"  - {where[:1].upper() + where[1:]}: {msg}" if where else f"  - {msg}")
        super().__init__("\n".join(lines))


@dataclass(frozen=True)
class Column:
    key: str
    title: str  # as written in the template
    aliases: tuple[str, ...]
    required: bool = True


COLUMNS: Final[tuple[Column, ...]] = (
    Column("code", "Mã thủ tục", ("ma thu tuc", "ma tthc", "ma so", "ma")),
    Column("name", "Tên thủ tục", ("ten thu tuc", "ten tthc", "ten")),
    Column("field", "Lĩnh vực", ("linh vuc",)),
    Column("processing_time", "Thời hạn giải quyết", ("thoi han giai quyet", "thoi gian giai quyet", "thoi han")),
    Column("fee", "Phí, lệ phí", ("phi, le phi", "phi/le phi", "phi le phi", "le phi", "phi")),
    Column("documents", "Thành phần hồ sơ", ("thanh phan ho so", "ho so")),
    Column("online_level", "Mức độ trực tuyến", ("muc do truc tuyen", "muc do dvc", "dich vu cong truc tuyen", "muc do"),
           required=False),
    Column("link", "Link dịch vụ công", ("link dich vu cong", "link dvc", "duong dan", "link", "url"), required=False),
    Column("legal_basis", "Căn cứ pháp lý", ("can cu phap ly",), required=False),
    Column("verified", "Đã xác minh", ("da xac minh", "xac minh", "verified"), required=False),
)
_YES: Final = {"co", "x", "yes", "true", "1", "da xac minh", "roi", "dung"}
_NO: Final = {"", "khong", "no", "false", "0", "chua"}
# Before Nghị định 42/2022/NĐ-CP lists used levels 1-4; 4 is today's "toàn trình", 3 "một phần".
_OLD_LEVELS: Final = {"4": "toàn trình", "muc do 4": "toàn trình", "muc 4": "toàn trình",
                      "3": "một phần", "muc do 3": "một phần", "muc 3": "một phần"}
_IN_PERSON: Final = {"", "khong", "truc tiep", "nop truc tiep", "1", "2", "muc do 1", "muc do 2"}


def fold(text: str) -> str:
    text = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "d"))
    text = "".join(c for c in text if unicodedata.category(c) != "Mn")
    return re.sub(r"\s+", " ", text.casefold()).strip(" :*")


def _cell(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    return unicodedata.normalize("NFC", str(v)).strip()


# ---------------------------------------------------------------------------------------- reading

def _read_csv(path: Path) -> list[tuple[int, list[str]]]:
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CatalogImportError(str(path), [(None, None, "tệp không phải chữ UTF-8; trong Excel chọn Lưu thành "
                                              "“CSV UTF-8 (Comma delimited)”, hoặc nhập thẳng tệp .xlsx")]) from exc
    first = text.split("\n", 1)[0]
    delim = ";" if first.count(";") > first.count(",") else ("\t" if first.count("\t") > first.count(",") else ",")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delim)
    return [(n, [_cell(c) for c in row]) for n, row in enumerate(reader, 1)]


def _read_xlsx(path: Path) -> list[tuple[int, list[str]]]:
    from openpyxl import load_workbook  # only when a workbook is imported

    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # zipfile.BadZipFile, KeyError, InvalidFileException...
        raise CatalogImportError(str(path), [(None, None, f"không mở được tệp Excel ({type(exc).__name__}); "
                                              "lưu lại bằng Excel dạng .xlsx rồi thử lại")]) from exc
    try:
        ws = wb.worksheets[0]
        return [(n, [_cell(c) for c in row]) for n, row in enumerate(ws.iter_rows(values_only=True), 1)]
    finally:
        wb.close()


def read_rows(path: Path) -> list[tuple[int, list[str]]]:
    """(row number as the spreadsheet shows it, cells) for every row of the file."""
    suffix = path.suffix.lower()
    if not path.is_file():
        raise CatalogImportError(str(path), [(None, None, "không tìm thấy tệp")])
    if suffix == ".csv":
        return _read_csv(path)
    if suffix in (".xlsx", ".xlsm"):
        return _read_xlsx(path)
    raise CatalogImportError(str(path), [(None, None, f"không đọc được tệp {suffix or '(không đuôi)'}: dùng .csv hoặc .xlsx")])


# ---------------------------------------------------------------------------------------- parsing

def _header(rows: list[tuple[int, list[str]]], file: str) -> tuple[int, dict[str, int]]:
    """The header row (the first within the first 10 rows naming "Mã thủ tục" and "Tên"): its index and
    column positions. Title rows above it (the ward's name, a date) are allowed."""
    for i, (_n, cells) in enumerate(rows[:10]):
        folded = [fold(c) for c in cells]
        found: dict[str, int] = {}
        for col in COLUMNS:
            for pos, f in enumerate(folded):
                if pos not in found.values() and (f in col.aliases or f == fold(col.title)):
                    found[col.key] = pos
                    break
        if "code" in found and "name" in found:
            missing = [c.title for c in COLUMNS if c.required and c.key not in found]
            if missing:
                raise CatalogImportError(file, [(rows[i][0], m, "thiếu cột này ở dòng tiêu đề; xem tệp mẫu "
                                                 "playlists/catalog/mau-thu-tuc.xlsx") for m in missing])
            return i, found
    raise CatalogImportError(file, [(None, None, "không thấy dòng tiêu đề có cột “Mã thủ tục” và “Tên thủ tục” "
                                     "(trong 10 dòng đầu); hãy bắt đầu từ tệp mẫu playlists/catalog/mau-thu-tuc.xlsx")])


def _documents(text: str) -> list[str]:
    # one per line in the cell; a one-line cell may separate them with ";" instead
    parts = text.split("\n") if "\n" in text else text.split(";")
    out = []
    for p in parts:
        p = re.sub(r"^\s*(?:[-•*+]|\d{1,2}[.)])\s*", "", p).strip()
        if p:
            out.append(p)
    return out


def parse_rows(rows: list[tuple[int, list[str]]], file: str) -> list[dict[str, Any]]:
    """Catalog entries (the JSON form) from the sheet's rows; raises with every problem found."""
    h, pos = _header(rows, file)
    titles = {c.key: c.title for c in COLUMNS}
    problems: list[tuple[int | None, str | None, str]] = []
    seen: dict[str, int] = {}
    entries: list[dict[str, Any]] = []
    for n, cells in rows[h + 1:]:
        # the row is bound as a default: each row's helpers read that row, never a later one
        def get(key: str, cells: list[str] = cells) -> str:
            i = pos.get(key)
            return cells[i] if i is not None and i < len(cells) else ""

        if not any(cells):
            continue  # blank rows between groups are common in such sheets
        before = len(problems)

        def bad(key: str, msg: str, n: int = n) -> None:
            problems.append((n, titles[key], msg))

        # the catalog's own rules and words (catalog.py), so the sheet and the JSON file agree
        for col in COLUMNS:
            if col.required and not get(col.key):
                bad(col.key, E_EMPTY)
        code = get("code")
        if code and (why := code_problem(code)) is not None:
            bad("code", why)
        elif code in seen:
            bad("code", E_CODE_TWICE.format(code=code, where=f"dòng {seen[code]}"))
        elif code:
            seen[code] = n
        docs = _documents(get("documents"))
        if get("documents") and not docs:
            bad("documents", E_DOCS_NONE)
        raw_level = get("online_level")
        level_f = fold(raw_level)
        level: str | None
        if level_f in _IN_PERSON:
            level = None
        elif level_f in {fold(x) for x in ONLINE_LEVELS}:
            level = next(x for x in ONLINE_LEVELS if fold(x) == level_f)
        elif level_f in _OLD_LEVELS:
            level = _OLD_LEVELS[level_f]
        else:
            level = None
            bad("online_level", E_LEVEL.format(level=raw_level))
        link = get("link")
        if link and (why := link_problem(link)) is not None:
            bad("link", why)
        verified_f = fold(get("verified"))
        if verified_f not in _YES | _NO:
            bad("verified", f"“{get('verified')}” không rõ; ghi “có” nếu mọi thông tin đã được kiểm tra, để trống nếu chưa")
        if len(problems) > before:
            continue
        entry: dict[str, Any] = {
            "code": code, "name": get("name"), "field": get("field"), "documents": docs,
            "processing_time": get("processing_time"), "fee": get("fee"), "online_level": level,
            "verified": verified_f in _YES,
        }
        if get("legal_basis"):
            entry["legal_basis"] = get("legal_basis")
        if link:
            entry["link"] = link
        entries.append(entry)
    if not entries and not problems:
        problems.append((None, None, "không có thủ tục nào dưới dòng tiêu đề"))
    if problems:
        raise CatalogImportError(file, problems)
    return entries


def import_catalog(src: Path, dest: Path) -> list[Procedure]:
    """Read ``src`` (CSV or .xlsx), check every row, then replace ``dest`` (catalog JSON) whole."""
    entries = parse_rows(read_rows(src), str(src))
    try:
        procs = parse_catalog(entries, file=str(src))  # the catalog's own rules, once more
    except ConfigError as exc:  # a rule added to the catalog but not to the import: still refused whole
        raise CatalogImportError(str(src), [(None, None, str(exc))]) from exc
    dest.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(dest, json.dumps(entries, ensure_ascii=False, indent=2) + "\n", mode=0o644)
    return procs
