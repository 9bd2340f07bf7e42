"""The fixed set of typical announcements the intelligibility bench reads aloud.

Written as an officer types them (abbreviations, digits, dates); the bench speaks what
``broadcaster.normalize`` makes of them, so the set also exercises the reading rules. Five
categories, the parts of an announcement a listener must catch: times, dates, money, phone
numbers and places. Fixed on purpose: figures of different runs are comparable only on the same
words. The places are real names of Quảng Trị and of the ward; the phone numbers are fictional.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["CATEGORIES", "ITEMS", "Item"]

CATEGORIES = ("times", "dates", "money", "phones", "places")


@dataclass(frozen=True)
class Item:
    id: str
    category: str
    text: str


ITEMS: tuple[Item, ...] = (
    Item("t1", "times", "Cuộc họp bắt đầu lúc 7h30 sáng."),
    Item("t2", "times", "Điện sẽ bị cắt từ 8h00 đến 11h30."),
    Item("t3", "times", "Trạm y tế làm việc từ 13h15 đến 17h00."),
    Item("t4", "times", "Xe thu gom rác đến lúc 5h45 mỗi sáng."),
    Item("t5", "times", "Đăng ký trước 16h20 chiều nay."),
    Item("d1", "dates", "Tiêm chủng vào ngày 05/12/2026."),
    Item("d2", "dates", "Hạn nộp hồ sơ là ngày 21/01/2027."),
    Item("d3", "dates", "Lễ mít tinh diễn ra ngày 30/4."),
    Item("d4", "dates", "Từ ngày 14/12 đến ngày 18/12 tạm ngừng cấp nước."),
    Item("d5", "dates", "Họp tổ dân phố vào thứ Bảy, ngày 09/01/2027."),
    Item("m1", "money", "Lệ phí là 50.000 đồng."),
    Item("m2", "money", "Mức hỗ trợ mỗi hộ là 1.500.000 đồng."),
    Item("m3", "money", "Phạt từ 200.000 đồng đến 500.000 đồng."),
    Item("m4", "money", "Giá nước mới là 7.800 đồng một khối."),
    Item("m5", "money", "Quỹ khuyến học đã nhận 35 triệu đồng."),
    Item("p1", "phones", "Mọi thắc mắc xin gọi 0233 3000 000."),
    Item("p2", "phones", "Đường dây nóng điện lực: 0912 345 678."),
    Item("p3", "phones", "Báo cháy gọi số 114."),
    Item("p4", "phones", "Liên hệ cán bộ phụ trách, số 0905 271 836."),
    Item("p5", "phones", "Tổng đài y tế: 1900 9095."),
    Item("l1", "places", "Tập trung tại Nhà văn hóa khu phố 2."),
    Item("l2", "places", "Đường Trần Hưng Đạo tạm cấm xe từ cầu Thành Cổ."),
    Item("l3", "places", "Trạm y tế phường 1, thị xã Quảng Trị."),
    Item("l4", "places", "Phát gạo tại sân trường Tiểu học Lê Lợi."),
    Item("l5", "places", "Nước ngập ở khu vực chợ Quảng Trị và bờ sông Thạch Hãn."),
)
