"""The catalog from the officers' spreadsheet: real CSV and .xlsx files (openpyxl), the committed
templates, a sheet with deliberate mistakes, and nothing half imported."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from openpyxl import Workbook

from broadcaster.catalog import load_catalog
from broadcaster.catalog_import import COLUMNS, CatalogImportError, import_catalog
from broadcaster.cli.main import main

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "playlists" / "catalog"
HEADER = [c.title for c in COLUMNS]
GOOD = ["1.001193", "Đăng ký khai sinh", "Hộ tịch", "Ngay trong ngày", "Miễn lệ phí nếu đúng hạn",
        "Tờ khai đăng ký khai sinh\nGiấy chứng sinh", "toàn trình", "", "", "có"]


def xlsx(path: Path, rows: list[list[str]]) -> Path:
    wb = Workbook()
    for r in rows:
        wb.active.append(r)
    wb.save(path)
    return path


@pytest.mark.parametrize("name", ["mau-thu-tuc.csv", "mau-thu-tuc.xlsx"])
def test_the_committed_templates_import_to_the_sample_catalog_facts(name: str, tmp_path: Path) -> None:
    out = tmp_path / "procedures.json"
    procs = import_catalog(TEMPLATES / name, out)
    assert [p.code for p in procs] == ["1.004873", "2.000815"]
    assert load_catalog(out) == procs  # what was written is a valid catalog, read back equal
    sample = {p.name: p for p in load_catalog(TEMPLATES / "procedures.json")}
    for p in procs:
        s = sample[p.name]
        assert (p.field, p.documents, p.processing_time, p.fee, p.online_level, p.link, p.verified) == \
               (s.field, s.documents, s.processing_time, s.fee, s.online_level, s.link, s.verified)
        assert p.link and p.link.startswith("https://dichvucong.gov.vn/")


def test_headers_found_whatever_case_marks_order_and_title_rows(tmp_path: Path) -> None:
    # the template's columns, out of order, in capitals or without tone marks, under a title row
    header = ["TÊN THỦ TỤC", "ma thu tuc", "Lĩnh  vực", "thoi han giai quyet", "Phí/lệ phí", "Thành phần hồ sơ",
              "Mức độ DVC", "Đã xác minh"]
    row = [GOOD[i] for i in (1, 0, 2, 3, 4, 5)] + ["Mức độ 3", "x"]
    sheet = xlsx(tmp_path / "s.xlsx", [["UBND phường 1 – Danh mục TTHC năm 2026"], [], header, row])
    (p,) = import_catalog(sheet, tmp_path / "out.json")
    assert p.code == "1.001193" and p.name == "Đăng ký khai sinh" and p.online_level == "một phần" and p.verified
    assert p.documents == ("Tờ khai đăng ký khai sinh", "Giấy chứng sinh")


def test_semicolon_csv_as_excel_saves_it(tmp_path: Path) -> None:
    f = tmp_path / "s.csv"
    with open(f, "w", encoding="utf-8-sig", newline="") as fh:
        csv.writer(fh, delimiter=";").writerows([HEADER, GOOD[:6] + ["", "", "", ""]])
    (p,) = import_catalog(f, tmp_path / "out.json")
    assert p.online_level is None and not p.verified  # empty: in person only, not yet checked


def test_a_sheet_with_mistakes_names_each_row_and_column_and_writes_nothing(tmp_path: Path) -> None:
    rows = [
        HEADER,                                                                          # row 1
        GOOD,                                                                            # row 2: fine
        ["1.000656", "", "Hộ tịch", "03 ngày", "Miễn", "Tờ khai", "", "", "", ""],       # row 3: no name
        ["1.000689", "Đăng ký khai tử", "Hộ tịch", "Trong ngày", "Miễn", "Tờ khai", "mức 5", "", "", ""],  # 4
        ["1.001193", "Trùng mã", "Hộ tịch", "1 ngày", "Miễn", "Tờ khai", "", "", "", ""],  # row 5: duplicate code
        ["1.0 02", "Mã có dấu cách", "Hộ tịch", "1 ngày", "Miễn", "Tờ khai", "", "dichvucong.gov.vn/x y", "", "có lẽ"],
        [],                                                                              # row 7: blank, skipped
    ]
    sheet = xlsx(tmp_path / "bad.xlsx", rows)
    dest = tmp_path / "procedures.json"
    dest.write_text(json.dumps([{"code": "cu", "name": "Cũ", "field": "X", "documents": ["a"],
                                 "processing_time": "1 ngày", "fee": "0"}], ensure_ascii=False), encoding="utf-8")
    before = dest.read_bytes()
    with pytest.raises(CatalogImportError) as e:
        import_catalog(sheet, dest)
    where = {(r, c) for r, c, _ in e.value.problems}
    assert where == {(3, "Tên thủ tục"), (4, "Mức độ trực tuyến"), (5, "Mã thủ tục"), (6, "Mã thủ tục"),
                     (6, "Link dịch vụ công"), (6, "Đã xác minh")}
    msg = str(e.value)
    assert "Dòng 4, cột “Mức độ trực tuyến”: “mức 5” không phải mức hợp lệ" in msg
    assert "mã “1.001193” đã có ở dòng 2" in msg and "chưa ghi gì" in msg
    assert dest.read_bytes() == before  # nothing half imported
    assert not list(tmp_path.glob(".procedures.json.*"))  # no temporary file left behind


def test_cli_reports_in_vietnamese_and_keeps_the_catalog(ward_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    dest = ward_dir / "playlists" / "catalog" / "procedures.json"
    before = dest.read_bytes()
    bad = xlsx(ward_dir / "bad.xlsx", [HEADER, GOOD[:6] + ["mức 9", "", "", ""]])
    assert main(["catalog", "import", str(bad)]) == 1
    err = capsys.readouterr().err
    assert "Dòng 2, cột “Mức độ trực tuyến”" in err and dest.read_bytes() == before
    not_csv = ward_dir / "cp1258.csv"
    not_csv.write_bytes(",".join(HEADER).encode("utf-8") + b"\n1.1,T\xean,a,b,c,d,,,,\n")
    assert main(["catalog", "import", str(not_csv)]) == 1
    assert "CSV UTF-8" in capsys.readouterr().err
    # a good sheet replaces the catalog the ward publishes; the unverified row is not shown to citizens
    good = xlsx(ward_dir / "good.xlsx", [HEADER, GOOD, ["1.000656", "Đăng ký khai tử", "Hộ tịch", "Trong ngày",
                                                        "Miễn", "Tờ khai khai tử", "", "", "", ""]])
    assert main(["catalog", "import", str(good)]) == 0
    assert "Đã nhập 2 thủ tục" in capsys.readouterr().out
    from broadcaster.config import load_ward
    from broadcaster.public.data import public_procedures

    assert [p.code for p in load_catalog(dest)] == ["1.001193", "1.000656"]
    assert [p.code for p in public_procedures(load_ward())] == ["1.001193"]


@pytest.mark.parametrize(("column", "key", "cell"), [
    ("Mã thủ tục", "code", "1.0 02"),
    ("Link dịch vụ công", "link", "dichvucong.gov.vn/x y"),
    ("Mức độ trực tuyến", "online_level", "mức 5"),
])
def test_the_sheet_and_the_json_file_refuse_a_value_with_the_same_words(tmp_path: Path, column: str, key: str, cell: str) -> None:
    """One set of rules (catalog.py) for both ways a catalog is written."""
    from broadcaster.errors import ConfigError

    i = HEADER.index(column)
    row = [*GOOD[:i], cell, *GOOD[i + 1:]]
    with pytest.raises(CatalogImportError) as sheet:
        import_catalog(xlsx(tmp_path / "bad.xlsx", [HEADER, row]), tmp_path / "out.json")
    [(_, col, from_sheet)] = sheet.value.problems
    assert col == column
    entry = {"code": "1.001193", "name": "Đăng ký khai sinh", "field": "Hộ tịch", "documents": ["Tờ khai"],
             "processing_time": "Trong ngày", "fee": "Miễn", key: cell}
    path = tmp_path / "bad.json"
    path.write_text(json.dumps([entry], ensure_ascii=False), encoding="utf-8")
    with pytest.raises(ConfigError) as js:
        load_catalog(path)
    assert js.value.problem == from_sheet and js.value.key.endswith(f".{key}")
