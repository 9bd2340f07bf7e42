"""Reception-TV slides, drawn for real with Pillow: size, format, fit, pagination, glyphs, QR, determinism."""

from __future__ import annotations

import dataclasses
import hashlib
import math
import unicodedata
from importlib import resources
from pathlib import Path

import pytest
from PIL import Image

from broadcaster.catalog import Procedure, load_catalog
from broadcaster.slides import (
    CONTINUED,
    DEFAULT_STYLE,
    SlideLayout,
    draw_slide,
    get_font,
    has_glyph,
    layout_announcement,
    layout_hotline,
    layout_procedure,
    missing_glyphs,
    render_announcement,
    render_deck,
    render_hotline,
    render_procedure,
)
from broadcaster.slides.layout import font_bytes, measure, wrap

CATALOG = Path(__file__).resolve().parent.parent / "playlists" / "catalog" / "procedures.json"
WARD = "Ủy ban nhân dân phường 1"
HOTLINE = "0233 3000 000"
FEEDBACK = ("Bộ phận Tiếp nhận và Trả kết quả, UBND phường 1, thị xã Quảng Trị; hoặc trực tuyến: "
            "Cổng Dịch vụ công quốc gia, mục Phản ánh, kiến nghị")
LINK = "https://dichvucong.gov.vn/p/home/dvc-tthc-thu-tuc-hanh-chinh-chi-tiet.html?ma_thu_tuc=1.001193"
WARD_KW = {"ward_name": WARD, "hotline": HOTLINE}
SENTENCE = ("Ủy ban nhân dân phường đề nghị người dân thực hiện nghiêm các quy định về phòng cháy chữa cháy, "
            "ưu tiên kiểm tra hệ thống điện trong nhà trước mùa mưa bão.")


@pytest.fixture(scope="module")
def catalog() -> list[Procedure]:
    return load_catalog(CATALOG)


def assert_fits(slides: list[SlideLayout]) -> None:
    """Nothing outside the title-safe area, no line wider or taller than its box, no ink outside its line."""
    for slide in slides:
        assert (slide.width, slide.height) == (1920, 1080)
        assert slide.safe.contains(slide.content)
        for line in slide.lines:
            assert slide.safe.contains(line.box), line
            assert line.box.contains(line.bounds), f"{line.text!r} leaves its box {line.box}"
            assert line.width == measure(line.text, line.size, line.bold)
            assert unicodedata.is_normalized("NFC", line.text)
            # the ink really drawn by Pillow stays inside the line box
            left, top, right, bottom = get_font(line.size, line.bold).getbbox(line.text, anchor="la")
            assert left >= 0 or line.x + left >= line.box.x
            assert line.x + right <= line.box.right
            assert top >= 0 and bottom <= line.height
        for block in slide.blocks:
            assert block.container.contains(block.box) and slide.safe.contains(block.box)
        content_lines = [ln for ln in slide.lines if slide.content.contains(ln.box)]
        for a in content_lines:  # lines of one box never overlap each other
            for b in content_lines:
                if a is not b and a.box == b.box and a.x == b.x:
                    assert a.y + a.height <= b.y or b.y + b.height <= a.y


def body_words(slides: list[SlideLayout]) -> list[str]:
    """The words of the content area in reading order, without the "(tiếp theo)" lines."""
    words: list[str] = []
    for slide in slides:
        for line in slide.lines:
            if slide.content.contains(line.box) and not line.text.endswith(CONTINUED):
                words.extend(line.text.split())
    return words


# ------------------------------------------------------------------------------------------- files

def test_announcement_png_1920x1080(tmp_path: Path) -> None:
    paths = render_announcement("Thông báo lịch tiêm chủng", "Trạm Y tế phường tiêm chủng lúc 7h30 ngày 15/7.",
                                out_dir=tmp_path, stem="ann", **WARD_KW)
    assert paths == [tmp_path / "ann-01.png"]
    with Image.open(paths[0]) as im:
        assert im.format == "PNG" and im.size == (1920, 1080) and im.mode == "RGB"
    assert [p.name for p in tmp_path.iterdir()] == ["ann-01.png"]  # no temporary file left behind


def test_same_input_same_bytes(tmp_path: Path, catalog: list[Procedure]) -> None:
    a = render_procedure(catalog[0], out_dir=tmp_path / "a", stem="p", **WARD_KW)
    b = render_procedure(catalog[0], out_dir=tmp_path / "b", stem="p", **WARD_KW)
    digest = [hashlib.sha256(p.read_bytes()).hexdigest() for p in (*a, *b)]
    assert digest[: len(a)] == digest[len(a):]


def test_stem_must_be_a_plain_name(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="stem"):
        render_announcement("Tiêu đề", "Nội dung", out_dir=tmp_path, stem="../escape", **WARD_KW)


def test_deck_of_the_catalog(tmp_path: Path, catalog: list[Procedure]) -> None:
    paths = render_deck(catalog, feedback_address=FEEDBACK, out_dir=tmp_path, **WARD_KW)
    assert paths[0].name == "00-phan-anh-kien-nghi-01.png"
    assert paths[1].name == "01-khai_sinh-01.png"
    assert {p.name.split("-")[0] for p in paths} == {f"{i:02d}" for i in range(22)}
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in paths)
    for path in paths:
        with Image.open(path) as im:
            assert im.format == "PNG" and im.size == (1920, 1080)


# ------------------------------------------------------------------------------------------ layout

def test_catalog_slides_fit(catalog: list[Procedure]) -> None:
    for proc in catalog:
        slides = layout_procedure(proc, **WARD_KW)
        assert_fits(slides)
        assert slides[0].body_size >= DEFAULT_STYLE.min_body_size
        texts = " ".join(line.text for s in slides for line in s.lines)
        assert proc.name.split()[0] in texts and "Thành phần hồ sơ" in texts
        assert "Thời hạn" in texts and "Phí, lệ phí" in texts and "Trực tuyến" in texts


def test_announcement_and_hotline_fit() -> None:
    assert_fits(layout_announcement("Thông báo", SENTENCE, **WARD_KW))
    slides = layout_hotline(feedback_address=FEEDBACK, **WARD_KW)
    assert_fits(slides)
    texts = [line.text for line in slides[0].lines]
    assert HOTLINE in texts and "Đường dây nóng: " + HOTLINE in texts


def test_short_text_keeps_large_type() -> None:
    (slide,) = layout_announcement("Họp tổ dân phố", "Họp vào tối thứ Sáu.", **WARD_KW)
    assert slide.body_size == DEFAULT_STYLE.body_size
    assert slide.pages == 1 and not any("/" in ln.text and ln.text[0].isdigit() for ln in slide.lines)


def test_long_text_shrinks_then_continues_on_more_slides() -> None:
    body = "\n".join([SENTENCE] * 40)
    title = "Thông báo về phòng cháy chữa cháy"
    slides = layout_announcement(title, body, **WARD_KW)
    assert len(slides) > 1
    assert_fits(slides)
    assert all(s.body_size == DEFAULT_STYLE.min_body_size for s in slides)
    for i, slide in enumerate(slides, 1):
        texts = [line.text for line in slide.lines]
        assert f"{i}/{len(slides)}" in texts
        if i > 1:
            assert f"{title} {CONTINUED}" in texts
    assert body_words(slides) == title.split() + body.split()  # nothing lost, nothing repeated


def test_long_unbreakable_word_is_cut_to_fit() -> None:
    word = "https://dichvucong.gov.vn/" + "abcdefghij" * 40
    slides = layout_announcement("Đường dẫn", f"Xem tại {word} nhé", **WARD_KW)
    assert_fits(slides)
    content = [ln.text for s in slides for ln in s.lines if s.content.contains(ln.box) and not ln.text.endswith(CONTINUED)]
    assert "".join(content[1:]).replace(" ", "") == f"Xem tại {word} nhé".replace(" ", "")
    assert len(content) >= 4


def test_wrap_never_exceeds_width() -> None:
    for width in (200, 500, 1000):
        lines = wrap(SENTENCE * 3 + " " + "x" * 200, 40, False, width)
        assert all(measure(line, 40) <= width for line in lines)
        assert "".join(lines).replace(" ", "") == (SENTENCE * 3 + "x" * 200).replace(" ", "")


def test_measure_matches_pillow_on_whole_lines() -> None:
    # measure() adds cached word widths; check that equals measuring the whole line with FreeType
    for size, bold in ((36, False), (48, True), (64, True)):
        font = get_font(size, bold)
        for line in wrap(SENTENCE + " ự jỰ Nghị định", size, bold, 900):
            left, _t, right, _b = font.getbbox(line, anchor="la")
            assert measure(line, size, bold) == max(math.ceil(font.getlength(line)), right) - min(0, left)


def test_many_documents_continue_with_numbering(catalog: list[Procedure]) -> None:
    docs = tuple(f"Giấy tờ số {i}: bản sao có chứng thực hoặc bản chính để đối chiếu của người yêu cầu"
                 for i in range(1, 41))
    proc = dataclasses.replace(catalog[0], documents=docs)
    slides = layout_procedure(proc, **WARD_KW)
    assert len(slides) > 1
    assert_fits(slides)
    markers = [ln.text for s in slides for ln in s.lines if ln.text.endswith(".") and ln.text[:-1].isdigit()]
    assert markers == [f"{i}." for i in range(1, 41)]
    assert all(f"{proc.name} {CONTINUED}" in [ln.text for ln in s.lines] for s in slides[1:])


def test_huge_title_still_fits(catalog: list[Procedure]) -> None:
    name = " ".join(["Đăng ký lại khai sinh, khai tử, kết hôn và nhận cha, mẹ, con"] * 12)
    slides = layout_procedure(dataclasses.replace(catalog[0], name=name), **WARD_KW)
    assert_fits(slides)
    assert body_words(slides)[: len(name.split())] == name.split()


def test_long_ward_name_is_shrunk_into_the_header() -> None:
    ward = "Ủy ban nhân dân phường Quảng Trị, tỉnh Quảng Trị – Bộ phận Tiếp nhận và Trả kết quả thủ tục hành chính"
    slides = layout_announcement("Tiêu đề", "Nội dung", ward_name=ward, hotline=HOTLINE, priority="emergency")
    assert_fits(slides)


def test_nfc_before_drawing() -> None:
    nfd = unicodedata.normalize("NFD", "Trường học Nghị định ưu tiên")
    (slide,) = layout_announcement(nfd, nfd, **WARD_KW)
    assert "Trường học Nghị định ưu tiên" in [ln.text for ln in slide.lines]


# ------------------------------------------------------------------------------------- badge, QR

def test_emergency_badge_and_red_band() -> None:
    (slide,) = layout_announcement("Cảnh báo bão", "Di dời ngay.", priority="emergency", **WARD_KW)
    assert "KHẨN CẤP" in [ln.text for ln in slide.lines]
    assert slide.rects[0].fill == DEFAULT_STYLE.emergency
    image = draw_slide(slide)
    assert image.getpixel((10, 10)) == Image.new("RGB", (1, 1), DEFAULT_STYLE.emergency).getpixel((0, 0))
    (normal,) = layout_announcement("Cảnh báo bão", "Di dời ngay.", **WARD_KW)
    assert not any(ln.text in ("KHẨN CẤP", "ƯU TIÊN") for ln in normal.lines)
    (prio,) = layout_announcement("Họp", "Tối nay.", priority="priority", **WARD_KW)
    assert "ƯU TIÊN" in [ln.text for ln in prio.lines]
    with pytest.raises(ValueError, match="priority"):
        layout_announcement("Họp", "Tối nay.", priority="urgent", **WARD_KW)  # type: ignore[arg-type]


def _dark_fraction(image: Image.Image, box: tuple[int, int, int, int]) -> float:
    hist = image.crop(box).convert("L").histogram()
    return sum(hist[:64]) / sum(hist)


def test_qr_present_iff_link(catalog: list[Procedure]) -> None:
    plain = catalog[0]
    assert plain.link is None
    assert all(not s.blocks for s in layout_procedure(plain, **WARD_KW))

    slide = layout_procedure(dataclasses.replace(plain, link=LINK), **WARD_KW)[0]
    assert_fits([slide])
    (qr,) = slide.blocks
    assert qr.kind == "qr" and qr.payload == LINK
    b = qr.box
    image = draw_slide(slide)
    dark = _dark_fraction(image, (b.x, b.y, b.right, b.bottom))
    assert 0.15 < dark < 0.6  # modules drawn: neither blank nor a filled square
    # no text line runs under the QR code, on any slide of the procedure
    for s in layout_procedure(dataclasses.replace(plain, link=LINK), **WARD_KW):
        (q,) = s.blocks
        assert q.payload == LINK
        for ln in s.lines:
            assert ln.x + ln.width <= q.box.x or ln.y + ln.height <= q.box.y or ln.y >= q.box.bottom, ln.text


def test_hotline_qr_optional(tmp_path: Path) -> None:
    assert not layout_hotline(feedback_address=FEEDBACK, **WARD_KW)[0].blocks
    (slide,) = layout_hotline(feedback_address=FEEDBACK, link="https://dichvucong.gov.vn", **WARD_KW)
    assert_fits([slide])
    assert [b.kind for b in slide.blocks] == ["qr"]
    (path,) = render_hotline(feedback_address=FEEDBACK, link="https://dichvucong.gov.vn", out_dir=tmp_path,
                             stem="hot", **WARD_KW)
    with Image.open(path) as im:
        b = slide.blocks[0].box
        assert _dark_fraction(im, (b.x, b.y, b.right, b.bottom)) > 0.15


# ---------------------------------------------------------------------------------------- glyphs

def test_font_comes_from_the_package() -> None:
    fonts = resources.files("broadcaster.slides").joinpath("fonts")
    assert fonts.joinpath("NotoSans-Regular.ttf").read_bytes() == font_bytes(False)
    assert fonts.joinpath("NotoSans-Bold.ttf").read_bytes() == font_bytes(True)
    assert "SIL Open Font License" in fonts.joinpath("OFL.txt").read_text(encoding="utf-8")
    assert get_font(40).getname()[0] == "Noto Sans"


def test_glyph_detector_sees_missing_glyphs() -> None:
    assert not has_glyph("中") and not has_glyph("\U0001f600")
    assert missing_glyphs("Xin chào 中") == {"中"}


VIETNAMESE = ("AĂÂBCDĐEÊGHIKLMNOÔƠPQRSTUƯVXY" "aăâbcdđeêghiklmnoôơpqrstuưvxy"
              "ÀÁẢÃẠẰẮẲẴẶẦẤẨẪẬÈÉẺẼẸỀẾỂỄỆÌÍỈĨỊÒÓỎÕỌỒỐỔỖỘỜỚỞỠỢÙÚỦŨỤỪỨỬỮỰỲÝỶỸỴ"
              "àáảãạằắẳẵặầấẩẫậèéẻẽẹềếểễệìíỉĩịòóỏõọồốổỗộờớởỡợùúủũụừứửữựỳýỷỹỵ"
              "0123456789.,;:!?()/–-“”\"'%&+•…·")


def test_full_vietnamese_coverage() -> None:
    for bold in (False, True):
        assert missing_glyphs(VIETNAMESE, bold) == set()


def test_every_drawn_character_has_a_glyph(catalog: list[Procedure]) -> None:
    slides = [s for p in catalog for s in layout_procedure(p, **WARD_KW)]
    slides += layout_hotline(feedback_address=FEEDBACK, **WARD_KW)
    slides += layout_announcement("Ủy ban nhân dân: Nghị định ưu tiên", "Trường học, ễ, ặ, Ự.", priority="emergency",
                                  **WARD_KW)
    for slide in slides:
        for line in slide.lines:
            assert missing_glyphs(line.text, line.bold) == set(), line.text


@pytest.mark.parametrize("word", ["Ủy", "Trường", "Nghị định", "ưu tiên", "ễ", "ặ", "Ẫ", "Ự"])
def test_stacked_diacritics_render_inside_the_line(word: str) -> None:
    for size, bold in ((36, False), (64, True)):
        font = get_font(size, bold)
        base = unicodedata.normalize("NFD", word)
        base = "".join(c for c in base if not unicodedata.combining(c)).replace("đ", "d").replace("Đ", "D")
        _l, top, _r, bottom = font.getbbox(word, anchor="la")
        _bl, base_top, _br, base_bottom = font.getbbox(base, anchor="la")
        # the marks really add ink to the bare letters, and it stays inside ascent + descent
        marked, bare = font.getmask(word), font.getmask(base)
        assert (top, bottom) != (base_top, base_bottom) or bytes(marked) != bytes(bare)
        assert sum(bytes(marked)) > sum(bytes(bare))
        ascent, descent = font.getmetrics()
        assert 0 <= top and bottom <= ascent + descent


def test_diacritics_drawn_on_the_slide() -> None:
    title = "Ủy ban: Trường, Nghị định, ưu tiên, ễ, ặ"
    (slide,) = layout_announcement(title, "", **WARD_KW)
    line = next(ln for ln in slide.lines if ln.text.startswith("Ủy ban:"))
    image = draw_slide(slide).convert("L")
    # the first letter "Ủ" carries its hook above the capital: ink in the top fifth of the line box
    cap = image.crop((line.x, line.y, line.x + measure("Ủ", line.size, True), line.y + line.height // 5))
    assert cap.getextrema()[0] < 128


def test_long_panel_text_continues_full_width(catalog: list[Procedure]) -> None:
    fee = " ".join(["Miễn lệ phí đối với người thuộc hộ nghèo, người khuyết tật; các trường hợp khác theo mức HĐND tỉnh."]
                   * 12)
    slides = layout_procedure(dataclasses.replace(catalog[0], fee=fee), **WARD_KW)
    assert len(slides) > 1
    assert_fits(slides)
    words, want = body_words(slides), fee.split()
    assert any(words[i: i + len(want)] == want for i in range(len(words)))  # all of it, in order
    # after the first slide the text uses the whole content width
    assert max(ln.box.w for ln in slides[-1].lines if slides[-1].content.contains(ln.box)) == slides[-1].content.w
