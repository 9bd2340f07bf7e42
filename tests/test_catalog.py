"""The TTHC catalog loader: the shipped catalog loads, and every mistake is reported with file, entry and key."""

from __future__ import annotations

import copy
import dataclasses
import json
import unicodedata
from pathlib import Path
from typing import Any

import pytest

from broadcaster.catalog import ONLINE_LEVELS, Procedure, load_catalog, parse_catalog
from broadcaster.errors import ConfigError

CATALOG = Path(__file__).resolve().parent.parent / "playlists" / "catalog" / "procedures.json"


@pytest.fixture(scope="module")
def raw() -> list[dict[str, Any]]:
    return json.loads(CATALOG.read_text(encoding="utf-8"))


def write(tmp_path: Path, data: Any, name: str = "procedures.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def test_shipped_catalog_loads() -> None:
    procs = load_catalog(CATALOG)
    assert len(procs) == 21
    assert len({p.code for p in procs}) == len(procs)
    first = procs[0]
    assert first.code == "khai_sinh" and first.name == "Đăng ký khai sinh" and first.field == "Hộ tịch"
    assert isinstance(first.documents, tuple) and len(first.documents) == 5
    assert all(p.online_level in (*ONLINE_LEVELS, None) for p in procs)
    assert any(p.online_level is None for p in procs)
    for p in procs:
        for text in (p.name, p.field, p.fee, p.processing_time, *p.documents):
            assert unicodedata.is_normalized("NFC", text)


def test_procedure_is_frozen() -> None:
    proc = load_catalog(CATALOG)[0]
    with pytest.raises(dataclasses.FrozenInstanceError):
        proc.name = "x"  # type: ignore[misc]


def test_optional_keys_and_nfc(tmp_path: Path, raw: list[dict[str, Any]]) -> None:
    entry = copy.deepcopy(raw[0])
    entry["name"] = unicodedata.normalize("NFD", "Đăng ký khai sinh Ủy ban")
    entry["link"] = "https://dichvucong.gov.vn/p/home/dvc-tthc-thu-tuc-hanh-chinh-chi-tiet.html?ma_thu_tuc=1.001193"
    del entry["legal_basis"], entry["verified"]
    (proc,) = load_catalog(write(tmp_path, [entry]))
    assert proc.name == unicodedata.normalize("NFC", "Đăng ký khai sinh Ủy ban")
    assert proc.link is not None and proc.link.startswith("https://")
    assert proc.legal_basis is None and proc.verified is False


def _mutate(entry: dict[str, Any], key: str, value: Any) -> None:
    if value is _DELETE:
        del entry[key]
    else:
        entry[key] = value


_DELETE = object()


@pytest.mark.parametrize(
    ("key", "value", "problem"),
    [
        ("name", _DELETE, "trống"),
        ("name", 42, "là một số"),
        ("fee", "   ", "trống"),
        ("documents", "Tờ khai", "danh sách giấy tờ"),
        ("documents", [], "không có giấy tờ nào"),
        ("documents", ["Tờ khai", None], "null"),
        ("online_level", "mức độ 4", "không phải mức hợp lệ; ghi “toàn trình”"),
        ("verified", "yes", "true hoặc false"),
        ("link", "dichvucong.gov.vn", "không phải địa chỉ web; ghi đầy đủ, bắt đầu bằng https://"),
        ("lnik", "https://x.vn", "không phải mục của danh mục"),
        ("code", "khai sinh", "có dấu cách"),
    ],
)
def test_entry_errors_name_file_entry_and_key(
    tmp_path: Path, raw: list[dict[str, Any]], key: str, value: Any, problem: str
) -> None:
    data = copy.deepcopy(raw)
    _mutate(data[3], key, value)
    path = write(tmp_path, data)
    with pytest.raises(ConfigError) as info:
        load_catalog(path)
    err = info.value
    msg = str(err)
    assert err.file == str(path) and str(path) in msg
    assert err.key.startswith("[3]")
    assert key in err.key
    if key != "code":
        assert "khai_tu" in err.key  # the entry is named by its code, not only its position
    assert problem in err.problem  # in Vietnamese, as the spreadsheet import says it
    assert isinstance(err, ValueError)


def test_duplicate_code(tmp_path: Path, raw: list[dict[str, Any]]) -> None:
    data = copy.deepcopy(raw)
    data[5]["code"] = data[1]["code"]
    with pytest.raises(ConfigError, match=r"\[5\].*code.*đã có ở mục \[1\]"):
        load_catalog(write(tmp_path, data))


def test_entry_not_an_object(tmp_path: Path, raw: list[dict[str, Any]]) -> None:
    with pytest.raises(ConfigError) as info:
        load_catalog(write(tmp_path, [raw[0], ["not", "an", "object"]]))
    assert info.value.key == "[1]" and "một danh sách" in info.value.problem


def test_top_level_not_a_list(tmp_path: Path, raw: list[dict[str, Any]]) -> None:
    with pytest.raises(ConfigError, match="top level"):
        load_catalog(write(tmp_path, {"procedures": raw}))


def test_invalid_json_says_where(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('[\n  {"code": "a",}\n]\n', encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_catalog(path)
    assert "broken.json" in str(info.value) and "line 2" in info.value.key


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot be read"):
        load_catalog(tmp_path / "nope.json")


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin.json"
    path.write_bytes('[{"name": "Đăng ký"}]'.encode("utf-16"))
    with pytest.raises(ConfigError, match="UTF-8"):
        load_catalog(path)


def test_parse_catalog_accepts_decoded_data(raw: list[dict[str, Any]]) -> None:
    procs = parse_catalog(raw[:2], file="inline")
    assert [p.code for p in procs] == [raw[0]["code"], raw[1]["code"]]
    assert all(isinstance(p, Procedure) for p in procs)
