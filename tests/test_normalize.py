"""Vietnamese normalisation: the development cases, our own extra cases, the number reader and the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest

from broadcaster.normalize import normalize, normalize_lines, read_int, read_number
from broadcaster.normalize.abbreviations import load_abbreviations
from broadcaster.normalize.compare import (
    lenient_form,
    same_lenient,
    same_strict,
    strict_form,
)
from broadcaster.normalize.numbers import ordinal, roman_to_int, spell

HERE = Path(__file__).resolve().parent
TARGET = 0.95


def _case_files() -> list[Path]:
    # The development set (copied from the project's reading conventions), our own extra cases, and a
    # review set written from the conventions alone by someone who had not read the normaliser, all
    # different sentences written to the same rules to keep the rules general.
    # The real-world set is what officers paste from letters, posters and chat (weekdays, addresses,
    # brands, plates, codes, context abbreviations), with its readings written before its rules.
    return [
        HERE / "data" / "normalize_dev_cases.json",
        HERE / "data" / "normalize_extra_cases.json",
        HERE / "data" / "normalize_review_cases.json",
        HERE / "data" / "normalize_realworld_cases.json",
        # A second real-world set written from the reading conventions alone, before the normaliser's
        # code was read; its later rounds found rule gaps that were then fixed, so it is a development
        # set now, not a measure of generalisation.
        HERE / "data" / "normalize_realworld_check_cases.json",
        # A sixth real-world set (agencies, document references with and without a number, money and
        # chat shorthand, hashtags, boats, headlines in capitals), its readings written before any rule
        # for it: 59/78 then; 78/78 once its classes had rules (one expectation brought in line with the
        # conventions: a loan word the engines say, "rubella", is kept as written).
        HERE / "data" / "normalize_realworld_dev6_cases.json",
        # Two more written the same way after it: the seventh (times, Roman numerals in headings, loan
        # words, short links, codes) 37/44 before its rules, the eighth (variants of the issue's
        # classes) 37/43; both 100% after (three expectations of the eighth brought in line with the
        # conventions: the hyphen of a web path is said, Messenger and link as the brand list says).
        HERE / "data" / "normalize_realworld_dev7_cases.json",
        HERE / "data" / "normalize_realworld_dev8_cases.json",
        # The ninth, written after the eighth's rules were in: 30/40 before its own (one input with a
        # placeholder phone number "069.2.xxx" made a real one, one expectation brought in line with the
        # conventions: D of a spelt label is dê), 40/40 after.
        HERE / "data" / "normalize_realworld_dev9_cases.json",
        # The tenth, chat messages as officers forward them (lower-case initialisms, shorthand, emoji),
        # written after the lower-case rule: 17/20 before its own rules, 20/20 after.
        HERE / "data" / "normalize_realworld_dev10_cases.json",
        # The eleventh, written plainly in the issue's classes after the tenth's rules: 28/30 before its
        # own (a social-media handle, the movement TDĐKXDĐSVH), 30/30 after.
        HERE / "data" / "normalize_realworld_dev11_cases.json",
        # The twelfth, the same style: 29/30 before its own rules ("Đài TT-TH" taken for a document
        # symbol), 30/30 after.
        HERE / "data" / "normalize_realworld_dev12_cases.json",
        # The thirteenth, the same style: 28/30 before its own rules (a bare "7g" after "bắt đầu", LED),
        # 30/30 after.
        HERE / "data" / "normalize_realworld_dev13_cases.json",
        # The fourteenth, the same style: 27/30 before its own rules (1022 named twice, chip, HCV), 30/30
        # after.
        HERE / "data" / "normalize_realworld_dev14_cases.json",
        # The fifteenth, across the offices of a ward: 21/25 before its own rules (ĐH, CĐ, MT, 30/30),
        # 25/25 after.
        HERE / "data" / "normalize_realworld_dev15_cases.json",
        # The sixteenth, the plain style: 29/30 before its own rule (a unit of two words before "/"), 30/30.
        HERE / "data" / "normalize_realworld_dev16_cases.json",
        # The seventeenth: 17/20 before its own rules, 19/20 after ("#QuangTriQueHuongToi" ends in "tối":
        # one unaccented syllable alone cannot be told from "tôi").
        HERE / "data" / "normalize_realworld_dev17_cases.json",
    ]


def _load(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))


def _score(cases: list[dict]) -> tuple[int, int, list[str]]:
    strict = lenient = 0
    failures: list[str] = []
    for case in cases:
        out = normalize(case["input"])
        alts = case.get("alternatives", [])
        ok = same_strict(out, case["expected"], alts)
        strict += ok
        lenient += same_lenient(out, case["expected"], alts)
        if not ok:
            failures.append(f"{case['id']} [{case['category']}]\n  in : {case['input']}\n  out: {out}\n  exp: {case['expected']}")
    return strict, lenient, failures


@pytest.mark.parametrize("path", _case_files(), ids=lambda p: p.name)
def test_cases_strict(path: Path) -> None:
    cases = _load(path)
    strict, lenient, failures = _score(cases)
    print(f"{path.name}: strict {strict}/{len(cases)}, lenient {lenient}/{len(cases)}")
    for failure in failures:
        print(failure)
    assert strict / len(cases) >= TARGET, "\n".join(failures)


def test_all_cases_together() -> None:
    cases = [c for p in _case_files() for c in _load(p)]
    strict, _, failures = _score(cases)
    assert len(cases) >= 80
    assert strict / len(cases) >= TARGET, "\n".join(failures)


# Real-world sets scored once before any tuning on them; what each measured then, and what it
# guards now. (file, at least this many cases, floor: a count of right sentences, or None for TARGET)
HELDOUT: list[tuple[str, int, int | None]] = [
    # written with the development set, before the rules, never used to tune them: how far the
    # rules generalise to sentences they were not shaped on
    ("normalize_realworld_heldout_cases.json", 40, None),
    # written after the check set's rules were in: 37/40 then (a "city" inside a domain, BVTV missing
    # from the table, a debatable "sogddt"); 39/40 once the lexicons were widened (city, BVTV)
    ("normalize_realworld_heldout2_cases.json", 40, 39),
    # written before the lexicons were widened: 45/60 then; widened from general lists but after its
    # misses had been seen, so it guards that work rather than measuring it (60/60 after)
    ("normalize_realworld_heldout3_cases.json", 60, None),
    # written after the first widening: 36/40 (VĐV, CNSCĐ, "tailieu"; one expectation without an
    # inserted "ngày", since accepted); the second widening took those words in (40/40)
    ("normalize_realworld_heldout4_cases.json", 40, None),
    # written after the second widening: 34/40, 36/40 once two expectations followed the conventions
    # (O is o, D is dê in a spelt name), 38/40 with LLTP and "văn kiện"; then "qtv" (ti vi in a
    # label with no vowel) and "Etax" (an e-service name) were left, 40/40 once labels without a
    # vowel were spelt and "e" + a listed loan word was read so
    ("normalize_realworld_heldout5_cases.json", 40, None),
    # written independently by someone who had not seen the code, scored untouched as it came: 40/40
    # (the same 40/40 with the rules as they stood before the sixth and seventh sets' work)
    ("normalize_realworld_blindA_cases.json", 40, None),
    # written independently and blind, in the issue's classes: 93/100 as it came (a domain label cut
    # into a spelt initialism and a word, a second alley number of a list read as a date, CSKH and TBA
    # missing, SN before a birth year, HS as the subject of a filing, a short code a few words after
    # "tổng đài"); then the seven classes fixed: 100/100. No longer blind after that.
    ("normalize_realworld_blindB_cases.json", 100, None),
    # written independently and blind after the seventh widening: 95/100 as it came (96 after one
    # expectation was corrected to the written rule: OTP's O is "o"); its misses were an unaccented
    # syllable no listed word had ("xac"), a tone chosen one syllable at a time ("mùa hệ xanh"), TBLS
    # and TNV missing; then the classes fixed: 100/100. No longer blind after that.
    ("normalize_realworld_blindC_cases.json", 100, None),
    # written independently and blind after set C's classes were in, never used to tune the rules:
    # 98/100 as it came, 99/100 after one expectation was corrected to the written rule ("lần thứ IV"
    # is "lần thứ tư"); the one miss left is the app name "vnEdu", spelt "vê nờ e dê u" as a mixed-case
    # name while its domain vnedu.vn is read "e đê u" (the two rules disagree; left as found).
    ("normalize_realworld_blindD_cases.json", 100, 99),
]


@pytest.mark.parametrize("name,at_least,floor", HELDOUT, ids=[h[0].removeprefix("normalize_realworld_").removesuffix("_cases.json") for h in HELDOUT])
def test_realworld_heldout_sets(name: str, at_least: int, floor: int | None) -> None:
    cases = _load(HERE / "data" / name)
    strict, _, failures = _score(cases)
    print(f"{name}: strict {strict}/{len(cases)}")
    for failure in failures:
        print(failure)
    assert len(cases) >= at_least
    if floor is None:
        assert strict / len(cases) >= TARGET, "\n".join(failures)
    else:
        assert strict >= floor, "\n".join(failures)  # the target stays TARGET


def test_realworld_check_cases_cover_every_class_of_the_issue() -> None:
    cases = _load(HERE / "data" / "normalize_realworld_check_cases.json")
    assert len(cases) >= 100
    assert {c["category"] for c in cases} >= {"weekday", "web", "per", "unit", "place", "code", "abbr", "mixed"}


def test_realworld_cases_cover_every_class_of_the_issue() -> None:
    cases = _load(HERE / "data" / "normalize_realworld_cases.json")
    assert len(cases) >= 100
    assert {c["category"] for c in cases} >= {"weekday", "web", "per", "unit", "place", "code", "abbr", "mixed"}


def test_extra_cases_cover_every_category() -> None:
    categories = {c["category"] for c in _load(HERE / "data" / "normalize_extra_cases.json")}
    expected = {"number", "year", "date", "month_year", "time", "money", "percent", "unit", "range",
                "phone", "doc_number", "abbreviation", "acronym_letters", "roman", "list_ordinal", "address"}
    assert expected <= categories


# --- comparison ------------------------------------------------------------------------------------

def test_strict_form_ignores_punctuation_case_tone_style_and_hyphens() -> None:
    assert strict_form("Hoà giải, UỶ ban - xã hội.") == "hòa giải ủy ban xã hội"
    assert same_strict("văn hóa xã hội", "văn hoá - xã hội")
    assert not same_strict("hai nghìn linh năm", "hai nghìn không trăm linh năm")


def test_lenient_form_accepts_listed_variants() -> None:
    assert same_lenient("hai ngàn lẻ năm", "hai nghìn không trăm linh năm")
    assert same_lenient("sáu triệu năm mươi nghìn", "sáu triệu không trăm năm mươi nghìn")
    assert same_lenient("ngày mùng hai tháng giêng", "ngày hai tháng một")
    assert same_lenient("sáu mươi bốn", "sáu mươi tư")
    assert not same_lenient("hai nghìn lẻ hai mươi tư", "hai nghìn không trăm hai mươi tư")
    assert lenient_form("mười kí lô gam") == "mười ki lô gam"


# --- number reader ---------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("n", "spoken"),
    [
        (0, "không"),
        (5, "năm"),
        (10, "mười"),
        (11, "mười một"),
        (14, "mười bốn"),
        (15, "mười lăm"),
        (20, "hai mươi"),
        (21, "hai mươi mốt"),
        (24, "hai mươi tư"),
        (25, "hai mươi lăm"),
        (100, "một trăm"),
        (105, "một trăm linh năm"),
        (110, "một trăm mười"),
        (115, "một trăm mười lăm"),
        (204, "hai trăm linh bốn"),
        (1000, "một nghìn"),
        (1005, "một nghìn không trăm linh năm"),
        (1015, "một nghìn không trăm mười lăm"),
        (2024, "hai nghìn không trăm hai mươi tư"),
        (1944, "một nghìn chín trăm bốn mươi tư"),
        (10000, "mười nghìn"),
        (1_500_000, "một triệu năm trăm nghìn"),
        (2_000_000, "hai triệu"),
        (6_050_000, "sáu triệu không trăm năm mươi nghìn"),
        (1_000_000_000, "một tỷ"),
        (2_350_000_000, "hai tỷ ba trăm năm mươi triệu"),
        (1_000_000_000_000, "một nghìn tỷ"),
    ],
)
def test_read_int(n: int, spoken: str) -> None:
    assert read_int(n) == spoken


@pytest.mark.parametrize(
    ("written", "spoken"),
    [
        ("1.245", "một nghìn hai trăm bốn mươi lăm"),
        ("1.000.000.000", "một tỷ"),
        ("95,5", "chín mươi lăm phẩy năm"),
        ("98,25", "chín mươi tám phẩy hai mươi lăm"),
        ("0,05", "không phẩy không năm"),
        ("1,5", "một phẩy năm"),
        ("05", "năm"),
        ("0012", "không không một hai"),
    ],
)
def test_read_number(written: str, spoken: str) -> None:
    assert read_number(written) == spoken


def test_read_number_rejects_non_numbers() -> None:
    with pytest.raises(ValueError):
        read_number("12a")


def test_ordinals_roman_and_spelling() -> None:
    assert [ordinal(n) for n in (1, 2, 4, 7)] == ["nhất", "hai", "tư", "bảy"]
    assert [roman_to_int(r) for r in ("I", "IV", "XIV", "XVI", "IIII", "IC")] == [1, 4, 14, 16, None, None]
    assert spell("KH") == "ca hát"
    assert spell("UBND") == "u bê nờ dê"
    assert spell("QH13") == "quy hát mười ba"


# --- behaviour that is easy to break -------------------------------------------------------------

def test_no_line_makes_the_normaliser_fail() -> None:
    # Each case line, typed in capitals, in lower case, run together or with a stray emoji, is read
    # without an error (a superscript digit in capitals once made the speller fail).
    for path in _case_files():
        for case in _load(path):
            text = case["input"]
            for variant in (text.upper(), text.lower(), text.replace(" ", ""), text + " 📢"):
                assert isinstance(normalize(variant), str)


def test_output_is_lowercase_nfc_from_nfd_input() -> None:
    out = normalize(unicodedata.normalize("NFD", "Uỷ ban nhân dân phường Đông Lương thông báo"))
    assert out == unicodedata.normalize("NFC", out)
    assert out == "ủy ban nhân dân phường đông lương thông báo"


def test_no_digits_left_in_typical_text() -> None:
    text = ("Thực hiện Kế hoạch số 181/KH-UBND ngày 31/01/2024, từ 7h30 - 11h00 ngày 05 - 07/12/2024, "
            "liên hệ 0233.3861.234 hoặc 1900 1234; lệ phí 50.000đ/bộ, tăng 3-5%, 22kV, KP.3.")
    out = normalize(text)
    assert not any(ch.isdigit() for ch in out), out


def test_signature_block_and_recipients() -> None:
    assert normalize("TM. ỦY BAN NHÂN DÂN") == "thay mặt ủy ban nhân dân"
    assert normalize("Q. CHỦ TỊCH") == "quyền chủ tịch"
    assert normalize("Q. 1, TP.HCM") == "quận một, thành phố hồ chí minh"
    assert normalize("Ngành KT và TM phát triển.") == "ngành kinh tế và thương mại phát triển."
    assert normalize("UBND thị xã (b/c); Lưu: VT, VP./.") == "ủy ban nhân dân thị xã (báo cáo); lưu: văn thư, văn phòng."


@pytest.mark.parametrize(
    ("text", "spoken"),
    [
        ("gọi 113 hoặc 115", "gọi một một ba hoặc một một năm"),
        ("số 113 đường Lê Duẩn", "số một trăm mười ba đường lê duẩn"),
        ("kiệt 12/5 Lê Lợi", "kiệt mười hai trên năm lê lợi"),
        ("2/3 số hộ", "hai phần ba số hộ"),
        ("dịp 30/4", "dịp ngày ba mươi tháng tư"),
        ("các ngày 5, 6 và 7/11", "các ngày năm, sáu và ngày bảy tháng mười một"),
        ("thứ 2, 4 và 6", "thứ hai, tư và sáu"),
        ("phục vụ 24/7", "phục vụ hai mươi tư trên bảy"),
        ("ĐT 580", "đường tỉnh năm trăm tám mươi"),
        ("ĐT: (0233) 3861234", "điện thoại: không hai ba ba, ba tám sáu, một hai ba bốn"),
        ("500g đường", "năm trăm gam đường"),
        ("8 giờ 00", "tám giờ"),
    ],
)
def test_context_decides_the_reading(text: str, spoken: str) -> None:
    assert normalize(text) == spoken


def test_unknown_initialism_is_spelled_but_capital_words_are_not() -> None:
    assert normalize("THÔNG BÁO VỀ VIỆC HỌP KHU PHỐ") == "thông báo về việc họp khu phố"
    assert normalize("Tổ XYZ") == "tổ ích i dài dét"


def test_addresses_and_emails_are_read_symbol_by_symbol() -> None:
    assert normalize("dichvucong.gov.vn") == "dịch vụ công chấm gờ o vê chấm vê nờ"
    assert normalize("Thư: abc@gmail.com") == "thư: a bê xê a còng gờ meo chấm com"


def test_normalize_keeps_line_structure() -> None:
    assert normalize("I. MỤC ĐÍCH\n1. Nội dung") == "một, mục đích\nmột, nội dung"
    assert normalize_lines(["a) Một", "", "b) Hai\n"]) == ["a, một", "", "bê, hai"]
    assert normalize("") == ""


def test_abbreviation_table_is_package_data() -> None:
    table = {a.abbr: a for a in load_abbreviations()}
    assert table["UBND"].spoken == "ủy ban nhân dân"
    assert len(table) >= 117
    assert {"expand", "expand*", "context", "letters", "word"} <= {a.mode for a in table.values()}


# --- CLI --------------------------------------------------------------------------------------------

def _cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONIOENCODING="utf-8")
    return subprocess.run(
        [sys.executable, "-m", "broadcaster", "normalize", *args],
        input=stdin, capture_output=True, text=True, encoding="utf-8", env=env, timeout=60, check=False,
    )


def test_cli_reads_stdin_line_by_line() -> None:
    lines = ["UBND phường thông báo:", "", "Họp lúc 19h30 ngày 02/9/2024.", "Gọi 114 khi có cháy./."]
    result = _cli(stdin="\n".join(lines) + "\n")
    assert result.returncode == 0, result.stderr
    out = result.stdout.split("\n")
    assert out[-1] == ""
    out = out[:-1]
    assert len(out) == len(lines)
    assert out[0] == "ủy ban nhân dân phường thông báo:"
    assert out[1] == ""
    assert out[2] == "họp lúc mười chín giờ ba mươi phút ngày hai tháng chín năm hai nghìn không trăm hai mươi tư."
    assert out[3] == "gọi một một bốn khi có cháy."


def test_cli_joins_arguments() -> None:
    result = _cli("Khu", "phố", "3")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "khu phố ba\n"


# --- real-world text: one assertion per rule, so a regression names its rule ---------------------

@pytest.mark.parametrize(
    ("text", "spoken"),
    [
        ("T2–T6", "thứ hai đến thứ sáu"),
        ("sáng T7 và CN", "sáng thứ bảy và chủ nhật"),
        ("thứ Hai - thứ Sáu", "thứ hai đến thứ sáu"),
        ("T4/2025", "tháng tư năm hai nghìn không trăm hai mươi lăm"),
        ("15h-16h30", "mười lăm giờ đến mười sáu giờ ba mươi phút"),
        ("từ 7g30 đến 10g", "từ bảy giờ ba mươi phút đến mười giờ"),
        ("mua 500g đến 700g thịt", "mua năm trăm gam đến bảy trăm gam thịt"),
        ("quangtri.gov.vn", "quảng trị chấm gờ o vê chấm vê nờ"),
        ("www.baohiemxahoi.gov.vn", "vê kép vê kép vê kép chấm bảo hiểm xã hội chấm gờ o vê chấm vê nờ"),
        ("moh.gov.vn", "mờ o hát chấm gờ o vê chấm vê nờ"),
        ("Facebook, Zalo và ứng dụng VssID", "phây búc, da lô và ứng dụng vê ét ét i đê"),
        ("50 mg/100 ml", "năm mươi mi li gam trên một trăm mi li lít"),
        ("1.5 triệu đồng", "một phẩy năm triệu đồng"),
        ("mục 1.5 của kế hoạch", "mục một chấm năm của kế hoạch"),
        ("250 kVA", "hai trăm năm mươi ki lô vôn am pe"),
        ("Km752+300", "ki lô mét bảy trăm năm mươi hai cộng ba trăm"),
        ("120 m³/s", "một trăm hai mươi mét khối trên giây"),
        ("xe 74B1-012.34", "xe bảy mươi tư bê một, không một hai, ba bốn"),
        ("đường 30-4", "đường ba mươi tháng tư"),
        ("K27/15 Trần Phú", "kiệt hai mươi bảy trên mười lăm trần phú"),
        ("ngách 12/4/7", "ngách mười hai trên bốn trên bảy"),
        ("các số 113, 114, 115", "các số một một ba, một một bốn, một một năm"),
        ("cấp cứu 115", "cấp cứu một một năm"),
        ("tổng đài của tỉnh 1022", "tổng đài của tỉnh một không hai hai"),
        ("STK 3900 2050 12345", "số tài khoản ba chín không không, hai không năm không, một hai ba bốn năm"),
        ("CA TP Đông Hà", "công an thành phố đông hà"),
        ("toàn TP có 3 ca", "toàn thành phố có ba ca"),
        ("công chức TP", "công chức tư pháp"),
        ("CA NHẠC", "ca nhạc"),
        ("TT Cam Lộ", "thị trấn cam lộ"),
        ("TT Y tế", "trung tâm y tế"),
        ("các trường MN, TH và THCS", "các trường mầm non, tiểu học và trung học cơ sở"),
        ("nộp HS", "nộp hồ sơ"),
        ("mức BĐ II", "mức báo động hai"),
        ("v/v họp", "về việc họp"),
        ("Vietcombank CN Quảng Trị", "việt com banh chi nhánh quảng trị"),
        # the rules of the sixth to eighth sets
        ("theo NĐ-CP và TT-BTC", "theo nghị định chính phủ và thông tư bộ tài chính"),
        ("số 123/QĐ-UBND", "số một trăm hai mươi ba, quy đê, u bê nờ dê"),
        ("tàu QT-90123-TS", "tàu quy tê, chín không một hai ba, tê ét"),
        ("Khu phố II", "khu phố hai"),
        ("Chi cục Thuế KV I", "chi cục thuế khu vực một"),
        ("từ ngày 1-12", "từ ngày một tháng mười hai"),
        ("ngày 1-3 tháng 12", "ngày một đến ba tháng mười hai"),
        ("#ChuyenDoiSo", "chuyển đổi số"),
        ("ứng dụng Etax", "ứng dụng e tắc"),
        ("qtv.vn", "quy tê vê chấm vê nờ"),
        ("cuocthi@gmail.com", "cuộc thi a còng gờ meo chấm com"),
        ("Ae ko đi", "anh em không đi"),
        ("công chức ĐC-XD", "công chức địa chính - xây dựng"),
        ("Đoàn TN", "đoàn thanh niên"),
        ("Hội ND", "hội nông dân"),
        ("mật khẩu: 2025", "mật khẩu: hai không hai năm"),
        ("từ m3 thứ 11", "từ mét khối thứ mười một"),
        ("đạt +19,5m", "đạt cộng mười chín phẩy năm mét"),
        ("từ 14 giờ - 16 giờ", "từ mười bốn giờ đến mười sáu giờ"),
        ("Hotline/Zalo", "hót lai da lô"),
        ("forms.gle/abc123", "phom chấm gờ lờ e gạch chéo a bê xê một hai ba"),
        ("📢 THÔNG BÁO ✅ Tăng 15% ❗ Tỷ lệ", "thông báo, tăng mười lăm phần trăm, tỷ lệ"),
        ("a/ Đối tượng", "a, đối tượng"),
        ("Đã có 1.250/1.500 hộ", "đã có một nghìn hai trăm năm mươi trên một nghìn năm trăm hộ"),
        ("tờ khai CT01", "tờ khai xê tê không một"),
        ("cao 1m70", "cao một mét bảy mươi"),
        ("Sở GD-ĐT", "sở giáo dục - đào tạo"),
        ("Hội ND, GĐ Sở Y tế", "hội nông dân, giám đốc sở y tế"),
        ("bệnh THA, ĐTĐ; THA THỨ", "bệnh tăng huyết áp, đái tháo đường; tha thứ"),
        ("tàu QT 91234 TS", "tàu quy tê, chín một hai ba bốn, tê ét"),
        ("gọi (+84) 233 3 852 600", "gọi cộng tám tư, hai ba ba, ba, tám năm hai, sáu không không"),
        ("nội dung: Họ tên_KP", "nội dung: họ tên khu phố"),
        ("áp lực 2,5 bar", "áp lực hai phẩy năm ba"),
        ("trang vnedu.vn", "trang vê nờ e đê u chấm vê nờ"),
        ("sáng t7 họp ở nvh kp3 nha", "sáng thứ bảy họp ở nhà văn hóa khu phố ba nha"),
        ("a/c nào bận, mn nhớ báo trc t6", "anh chị nào bận, mọi người nhớ báo trước thứ sáu"),
        ("cách 5 km, tha cho ca sĩ", "cách năm ki lô mét, tha cho ca sĩ"),
        ("quân số 120 đ/c", "quân số một trăm hai mươi đồng chí"),
        ("lớp 10 thpt", "lớp mười trung học phổ thông"),
        ("ứng dụng VNeTraffic, VNPT SmartCA", "ứng dụng vê nờ e tráp phích, vê nờ pê tê xờ mát xê a"),
        ("QuangTri-S và iHanoi", "quảng trị-ét và i hà nội"),
        ("TT.Hồ Xá, TT.Y tế, cô giáo MN, Tp Đông Hà", "thị trấn hồ xá, trung tâm y tế, cô giáo mầm non, thành phố đông hà"),
        ("GPLX hạng C, hạng III", "giấy phép lái xe hạng xê, hạng ba"),
        ("LƯU LƯỢNG 2.000 M³/S, RỘNG 12,5 M", "lưu lượng hai nghìn mét khối trên giây, rộng mười hai phẩy năm mét"),
        ("bụi PM2.5 đạt 80 µg/m³, ồn 70 dB", "bụi pê mờ hai phẩy năm đạt tám mươi mi crô gam trên mét khối, ồn bảy mươi đề xi ben"),
        ("bấm *101#, soạn DK gửi 8088", "bấm sao một không một thăng, soạn dê ca gửi tám không tám tám"),
        ("gửi 1500 hồ sơ", "gửi một nghìn năm trăm hồ sơ"),
        ("số CCCD 045 098 001 234", "số căn cước công dân không bốn năm, không chín tám, không không một, hai ba bốn"),
        ("mã hồ sơ H45.12-0001", "mã hồ sơ hát bốn năm chấm một hai gạch không không không một"),
        ("gọi 0905123456/0914222333", "gọi không chín không năm, một hai ba, bốn năm sáu hoặc không chín một bốn, hai hai hai, ba ba ba"),
        ("1900 54 54 58", "một chín không không, năm bốn, năm bốn, năm tám"),
        ("kênh TikTok @congandongha", "kênh tích tốc a còng công an đông hà"),
        ("Đài TT-TH TP, theo TT-BYT", "đài truyền thanh - truyền hình thành phố, theo thông tư bộ y tế"),
        ("bắt đầu 7g, có mặt trước 6g45; thêm 20g đường", "bắt đầu bảy giờ, có mặt trước sáu giờ bốn mươi lăm phút; thêm hai mươi gam đường"),
        ("HUYỆN ĐAKRÔNG, xe BUS, OK", "huyện đakrông, xe buýt, ô kê"),
        ("MyVNPT, BusMap", "mờ i dài vê nờ pê tê, bê u ét mờ a pê"),
        ("Cổng thông tin 1022 và tổng đài 1022", "cổng thông tin một không hai hai và tổng đài một không hai hai"),
        ("giành 5 HCV, 3 HCB", "giành năm huy chương vàng, ba huy chương bạc"),
        ("trình độ ĐH; ĐH Đảng bộ; đường ĐH 12", "trình độ đại học; đại hội đảng bộ; đường huyện mười hai"),
        ("đoàn viên CĐ, trường CĐ, ô nhiễm MT", "đoàn viên công đoàn, trường cao đẳng, ô nhiễm môi trường"),
        ("30/30 thanh niên, 1/3 dân số", "ba mươi trên ba mươi thanh niên, một phần ba dân số"),
        ("1 lít dung dịch/4 m2", "một lít dung dịch trên bốn mét vuông"),
        ("Số tài khoản tiếp nhận: 3712 0000 9999", "số tài khoản tiếp nhận: ba bảy một hai, không không không không, chín chín chín chín"),
        ("xăng RON95", "xăng rôn chín mươi lăm"),
        # a syllable's tone chosen with its neighbours; an unaccented syllable of a listed word
        ("forms.gle/hexanh, mb-xacminh.vn", "phom chấm gờ lờ e gạch chéo hè xanh, mờ bê gạch ngang xác minh chấm vê nờ"),
        ("app.didong.vn", "áp chấm di động chấm vê nờ"),
        # social-policy and mass-organisation initialisms
        ("30 TNV, Ngày TBLS, GĐCS và BMVNAH", "ba mươi tình nguyện viên, ngày thương binh liệt sĩ, gia đình chính sách và bà mẹ việt nam anh hùng"),
        ("HLHPNVN, HCCB và Phòng LĐ-TBXH", "hội liên hiệp phụ nữ việt nam, hội cựu chiến binh và phòng lao động - thương binh và xã hội"),
    ],
)
def test_realworld_rules(text: str, spoken: str) -> None:
    assert normalize(text) == spoken


# --- provenance --------------------------------------------------------------------------------------

def test_explain_names_the_rule_of_each_span_and_reads_the_same() -> None:
    from broadcaster.normalize import explain_line

    line = "UBND phường: T2–T6 từ 7h30, xem dichvucong.gov.vn hoặc gọi 114."
    reading, spans = explain_line(line)
    assert reading == normalize(line)
    by_source = {s.source: s for s in spans}
    assert by_source["UBND"].rule == "abbreviation table"
    assert by_source["UBND"].reading == "ủy ban nhân dân"
    assert by_source["T2–T6"].rule == "weekday"
    assert by_source["7h30"].rule == "clock time"
    assert by_source["dichvucong.gov.vn"].rule == "web / e-mail address"
    assert by_source["114"].reading == "một một bốn"
    # every character of the spoken line comes from some span, in order
    assert " ".join(s.reading for s in spans).replace(" ", "") == reading.replace(" ", "")


def test_explain_gives_the_same_reading_as_normalize_on_every_case() -> None:
    from broadcaster.normalize import explain_line

    for path in _case_files():
        for case in _load(path):
            assert explain_line(case["input"])[0] == normalize(case["input"]), case["id"]


def test_cli_explain_prints_a_table() -> None:
    result = _cli("--explain", "Họp", "lúc", "7h30", "T7")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "họp lúc bảy giờ ba mươi phút thứ bảy"
    assert lines[2].split() == ["span", "rule", "reading"]
    assert any(line.startswith("7h30") and "clock time" in line and line.endswith("bảy giờ ba mươi phút")
               for line in lines)
    assert any(line.startswith("T7") and "weekday" in line for line in lines)
