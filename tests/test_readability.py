"""The reading rule (docs/slides.md, broadcaster/slides/rule.py) held on every slide kind, measured
from the laid-out lines and from the drawn pixels, not only "nothing overflows"."""

from __future__ import annotations

from pathlib import Path

import pytest

from broadcaster.catalog import load_catalog
from broadcaster.slides import SlideLayout, draw_slide, layout_announcement, layout_hotline, layout_procedure
from broadcaster.slides.layout import get_font
from broadcaster.slides.rule import (
    CAP_HEIGHT_EM, DISTANCES_M, MAX_LINE_CHARS, MIN_ARCMIN, MIN_HEADER_PX, MIN_TEXT_PX, PREFERRED_ARCMIN, SCREENS_IN,
    arcminutes,
)

ROOT = Path(__file__).resolve().parent.parent
W = {"ward_name": "Ủy ban nhân dân phường 1", "hotline": "0233 3000 000"}
LONG = (
    "UBND phường 1 thông báo kế hoạch tổng vệ sinh môi trường, phòng chống dịch bệnh mùa mưa lũ năm 2026. "
    "Thời gian thực hiện: từ 7h00 đến 10h30 sáng Chủ nhật, ngày 06/12/2026. Địa điểm: tại tất cả các tuyến "
    "đường, ngõ, hẻm, khu dân cư trên địa bàn 6 khu phố. Đề nghị mỗi hộ gia đình cử ít nhất một người tham "
    "gia, mang theo dụng cụ (chổi, cuốc, xẻng, bao tải). Các khu phố trưởng chủ trì, phối hợp với Ban công tác "
    "Mặt trận, Chi hội Phụ nữ, Đoàn thanh niên tổ chức ra quân đồng loạt; thu gom rác thải, phát quang bụi rậm, "
    "khơi thông cống rãnh, xử lý các vật dụng đọng nước để diệt lăng quăng, bọ gậy. Rác thải sau khi thu gom "
    "được tập kết tại các điểm quy định để xe của Công ty Môi trường đô thị vận chuyển đi xử lý trong ngày. Các "
    "cơ quan, trường học, cơ sở kinh doanh trên địa bàn tự tổ chức tổng vệ sinh khuôn viên đơn vị mình. Mọi "
    "thắc mắc xin liên hệ đồng chí Nguyễn Văn A, cán bộ Văn hóa – Xã hội phường, điện thoại 0912 345 678."
)
EMERGENCY = ("Khẩn cấp: nước sông Thạch Hãn đang lên nhanh. Đề nghị bà con khu phố 1 và khu phố 2 di chuyển tài "
             "sản lên cao, không đi qua ngầm tràn.")
FEEDBACK = ("Bộ phận Tiếp nhận và Trả kết quả, UBND phường 1, thị xã Quảng Trị; hoặc trực tuyến: Cổng Dịch vụ "
            "công quốc gia, mục Phản ánh, kiến nghị")


def every_kind() -> dict[str, list[SlideLayout]]:
    kinds = {
        "announcement-long": layout_announcement("Tổng vệ sinh môi trường", LONG, link="https://p1.example.vn/thong-bao/x", **W),
        "announcement-short": layout_announcement("Họp tổ dân phố", "Họp lúc 19h30 tối thứ Sáu tại nhà văn hóa.", **W),
        "text": layout_announcement("Giờ làm việc", "Thứ 2 đến thứ 6: sáng 7h30 – 11h30, chiều 13h30 – 17h00.", **W),
        "emergency": layout_announcement("Cảnh báo lũ", EMERGENCY, priority="emergency", where="Khu phố 1, Khu phố 2", **W),
        "hotline": layout_hotline(feedback_address=FEEDBACK, link="https://dichvucong.gov.vn", **W),
    }
    for p in load_catalog(ROOT / "playlists" / "catalog" / "procedures.json"):
        kinds[f"procedure-{p.code}"] = layout_procedure(p, link=f"https://p1.example.vn/thu-tuc/{p.code}", **W)
    return kinds


KINDS = every_kind()


def test_the_rule_meets_the_legibility_guidance() -> None:
    cap = MIN_TEXT_PX * CAP_HEIGHT_EM
    assert min(arcminutes(cap, s, d) for s in SCREENS_IN for d in DISTANCES_M) >= MIN_ARCMIN  # 43" at 4 m
    assert arcminutes(cap, 43, 3.5) >= PREFERRED_ARCMIN
    # the font's real capitals are as tall as the rule assumes
    top = -get_font(MIN_TEXT_PX).getbbox("H", anchor="ls")[1]
    assert top >= round(cap)


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_line_of_every_slide_kind_is_readable_from_the_bench(kind: str) -> None:
    slides = KINDS[kind]
    assert slides
    for slide in slides:
        header_band = slide.safe.y + 150
        for line in slide.lines:
            in_header = line.y < header_band
            floor = MIN_HEADER_PX if in_header else MIN_TEXT_PX
            assert line.size >= floor, (kind, line.text, line.size)
            cap = -get_font(line.size, line.bold).getbbox("H", anchor="ls")[1]
            assert cap >= round(floor * CAP_HEIGHT_EM), (kind, line.text, cap)
            assert len(line.text) <= MAX_LINE_CHARS, (kind, line.text)


@pytest.mark.parametrize("kind", ["announcement-long", "emergency", "hotline", "procedure-khai_sinh", "text"])
def test_drawn_capitals_are_as_tall_as_the_rule(kind: str) -> None:
    """Measure ink in the PNG itself: the first plain capital of each content line."""
    measured = 0
    for slide in KINDS[kind]:
        image = draw_slide(slide).convert("L")
        for line in slide.lines:
            if line.y < slide.content.y or not line.text or line.text[0] not in "BCDEGHIKLMNPRTUVX":
                continue
            font = get_font(line.size, line.bold)
            w = round(font.getlength(line.text[0]))
            ascent = font.getmetrics()[0]
            crop = image.crop((line.x, line.y, line.x + w, line.y + ascent))
            rows = [y for y in range(crop.height) if crop.crop((0, y, w, y + 1)).getextrema()[0] < 128]
            assert rows, (kind, line.text)
            assert rows[-1] - rows[0] + 1 >= round(MIN_TEXT_PX * CAP_HEIGHT_EM), (kind, line.text, rows[-1] - rows[0] + 1)
            measured += 1
    assert measured >= 1


def test_short_texts_grow_long_ones_get_key_facts_first() -> None:
    (text,) = KINDS["text"]
    assert text.body_size >= 88  # a two-line text is set far above the minimum
    first, *rest = KINDS["announcement-long"]
    labels = [ln.text for ln in first.lines if ln.bold]
    assert {"Thời gian", "Địa điểm", "Liên hệ"} <= set(labels)
    body = " ".join(ln.text for ln in first.lines)
    assert "06/12/2026" in body and "tuyến đường" in body
    assert "0912\u00a0345\u00a0678" in body  # the phone number kept on one line
    assert rest and all(s.pages == len(rest) + 1 for s in KINDS["announcement-long"])
    assert [b.kind for b in first.blocks] == ["qr"]
    (em,) = KINDS["emergency"]
    em_labels = {ln.text for ln in em.lines if ln.bold}
    assert {"Việc gì", "Ở đâu", "Việc cần làm", "KHẨN CẤP"} <= em_labels
    assert "Khu phố 1, Khu phố 2" in " ".join(ln.text for ln in em.lines)
    assert len(KINDS["hotline"]) == 1  # the feedback slide is one slide


def test_key_facts_say_where_to_go_not_only_whom_it_is_for() -> None:
    first, *_ = layout_announcement("Tổng vệ sinh môi trường", LONG, where="Toàn phường", **W)
    body = " ".join(ln.text for ln in first.lines)
    assert "tuyến đường" in body and "Toàn phường" not in body  # the venue the text names
    bare = ("Từ 7h00 ngày 06/12/2026, đề nghị bà con " + "giữ gìn vệ sinh chung và thu gom rác đúng giờ quy định, " * 12
            + "mọi thắc mắc xin liên hệ tổ trưởng, điện thoại 0912 345 678.")
    first, *_ = layout_announcement("Vệ sinh", bare, where="Khu phố 3", **W)
    assert "Khu phố 3" in " ".join(ln.text for ln in first.lines)  # no venue in the text: the khu phố
