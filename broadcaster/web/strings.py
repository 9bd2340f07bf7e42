"""Every word of the console the officer reads, in Vietnamese, in one place.

Templates use them as ``S.<name>``; handlers use them for messages. Times are always formatted on
the server in the ward's time zone (``fmt_*``), never by the browser.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

APP = "Phát thanh phường"
CONSOLE = "Bàn điều khiển phát thanh"
LOGIN = "Đăng nhập"
LOGOUT = "Đăng xuất"
USERNAME = "Tên đăng nhập"
PASSWORD = "Mật khẩu"
LOGIN_FAILED = "Tên đăng nhập hoặc mật khẩu không đúng."
LOGIN_WAIT = "Đăng nhập sai quá nhiều lần. Hãy thử lại sau {seconds} giây."
SESSION_ENDED = "Phiên làm việc đã hết hạn: hãy đăng nhập lại."
CSRF_FAILED = "Biểu mẫu đã cũ hoặc không hợp lệ (thiếu mã bảo vệ): tải lại trang rồi làm lại."
FORBIDDEN = "Không được phép"
NOT_FOUND = "Không tìm thấy trang này."
NOT_DONE = "Chưa thực hiện được"
E_NO_PAGE = "Địa chỉ này không có trong bàn điều khiển (có thể gõ nhầm hoặc liên kết đã cũ): dùng các mục trên thanh trình đơn."
E_NOT_FOUND_ID = "Không tìm thấy mục này: mã trong địa chỉ sai hoặc mục đã bị xóa. Quay lại danh sách, tải lại trang rồi chọn lại."
E_BAD_VALUE = "Địa chỉ trang có giá trị không hợp lệ (ví dụ một số bị sửa tay): quay lại trang trước rồi bấm lại."

NAV_HOME = "Tổng quan"
NAV_COMPOSE = "Soạn thông báo"
NAV_APPROVALS = "Chờ duyệt"
NAV_WEEK = "Lịch phát"
NAV_ANNS = "Thông báo"
NAV_DEVICES = "Thiết bị"
NAV_REPORT = "Báo cáo"
NAV_AUDIT = "Nhật ký"
NAV_EMERGENCY = "Phát khẩn cấp"
NAV_USERS = "Tài khoản"
USER_ADDED = "Đã thêm tài khoản {name}."
USER_DISABLED = "Đã khóa tài khoản; các phiên đang mở đã kết thúc."
USER_ENABLED = "Đã mở lại tài khoản."
USERS_HINT = "Quên mật khẩu: trên máy chủ, chạy «broadcaster users passwd TÊN»."
F_DISPLAY_NAME = "Họ tên"
F_ROLE = "Vai trò"
ACTIVE = "Đang dùng"
DISABLED = "Đã khóa"
DISABLE = "Khóa"
ENABLE = "Mở lại"
ADD_USER = "Thêm tài khoản"

ROLE = {"composer": "Người soạn", "approver": "Người duyệt", "admin": "Quản trị"}
PRIORITY = {"normal": "Thường", "priority": "Ưu tiên", "emergency": "Khẩn cấp"}
SCHEDULE_KIND = {"now": "Phát ngay (khung giờ hiện tại hoặc kế tiếp)", "once": "Một lần", "daily": "Hằng ngày", "weekly": "Hằng tuần"}
WEEKDAYS = ["Thứ 2", "Thứ 3", "Thứ 4", "Thứ 5", "Thứ 6", "Thứ 7", "Chủ nhật"]
WEEKDAYS_SHORT = ["T2", "T3", "T4", "T5", "T6", "T7", "CN"]

F_TITLE = "Tiêu đề"
F_TEXT = "Nội dung"
F_ZONES = "Khu phố"
F_ALL = "Toàn phường"
F_ALL_MINE = "Mọi khu phố tôi phụ trách"
F_EXCEPT = "Tất cả trừ các khu phố đã chọn"
F_PRIORITY = "Mức ưu tiên"
F_READINGS = "Số lần đọc"
F_CHIME = "Có nhạc hiệu trước khi đọc"
F_TV = "Hiện trên TV bộ phận một cửa"
F_SCHEDULE = "Lịch phát"
F_AT = "Ngày giờ phát"
F_TIMES = "Giờ phát (cách nhau bằng dấu phẩy)"
F_FROM = "Từ ngày"
F_UNTIL = "Đến ngày"
F_WEEKDAYS = "Các ngày trong tuần"
F_AUDIO = "Tải bản ghi âm thay cho giọng đọc (MP3, WAV, M4A)"
FILE_PICK = "Chọn tệp…"
FILE_NONE = "Chưa chọn tệp nào"
REQUIRED_FIELD = "Hãy điền ô này."
REQUIRED_BOX = "Hãy đánh dấu ô này."
NETWORK_ERROR = "Không kết nối được tới máy chủ: kiểm tra mạng rồi bấm lại."
F_AUDIO_HINT = "Không bắt buộc. Nhạc hiệu, số lần đọc và âm lượng được xử lý như giọng đọc."
SPOKEN = "Sẽ đọc là"
LENGTH = "Thời lượng phát"
VOICE = "Giọng đọc"
LENGTH_EST = "ước tính {d} ({n} lần đọc); nghe thử để biết chính xác"
PREVIEW = "Nghe và xem thử"
PREVIEW_WAIT = "Đang tạo giọng đọc và trang TV…"
PREVIEW_READY = "Bản nghe thử (đúng như loa sẽ phát)"
SLIDES = "Trang hiện trên TV"
NO_SLIDES = "Không hiện trên TV."
SUBMIT = "Gửi duyệt"
QUEUE_NOW = "Duyệt và xếp lịch ngay"
SUBMITTED = "Đã gửi duyệt: «{title}». Người duyệt sẽ nghe và duyệt."
QUEUED = "Đã xếp lịch: «{title}»."
PREVIEW_GONE = "Bản nghe thử đã hết hạn hoặc thuộc người khác: hãy bấm «Nghe và xem thử» lại."
PREVIEW_FIRST = "Hãy nghe thử trước khi gửi."
FIX_ERRORS = "Chưa gửi được: sửa các lỗi đánh dấu đỏ."

APPROVE = "Duyệt"
RETURN = "Trả lại"
RETURN_REASON = "Lý do trả lại (người soạn sẽ đọc)"
WITHDRAW = "Rút lại"
APPROVED = "Đã duyệt và xếp lịch: «{title}»."
RETURNED = "Đã trả lại «{title}»."
PENDING_NONE = "Không có thông báo nào chờ duyệt."
DRAFT_STATUS = {"pending": "Chờ duyệt", "approved": "Đã duyệt", "returned": "Bị trả lại", "withdrawn": "Đã rút"}
COMPOSER = "Người soạn"
APPROVER = "Người duyệt"
EDIT = "Sửa"
EDIT_NOTE = "Sửa thông báo đã duyệt sẽ tạo bản mới; bản mới phải được duyệt lại, bản cũ vẫn phát cho đến khi bản mới được duyệt."

EMERGENCY_TITLE = "Phát khẩn cấp"
EMERGENCY_WARN = "Thông báo khẩn cấp được phát NGAY trên mọi loa của các khu phố đã chọn, ngắt mọi thông báo đang phát, kể cả ngoài khung giờ."
EMERGENCY_CONFIRM = "Tôi xác nhận phát khẩn cấp ngay bây giờ"
EMERGENCY_GO = "XÁC NHẬN PHÁT KHẨN CẤP"
EMERGENCY_PREPARE = "Chuẩn bị và nghe thử"
EMERGENCY_NEED_CONFIRM = "Hãy đánh dấu ô xác nhận rồi bấm nút phát."
EMERGENCY_SENT = "Đã phát khẩn cấp «{title}» tới {zones}."

WEEK = "Tuần"
DAY = "Ngày"
PREV = "← Trước"
NEXT = "Sau →"
TODAY = "Hôm nay"
WINDOW = "Khung giờ"
OUTSIDE_WINDOW = "Ngoài khung giờ (khẩn cấp / phát bù)"
EMPTY_WINDOW = "Trống"
OVERFLOW = "Quá khung giờ"
CANCEL_AIRING = "Hủy lượt này"
CANCEL_ALL = "Hủy cả thông báo"
CANCEL_REASON = "Lý do hủy"
REPLAY = "Phát lại"
REPLAY_QUEUED = "đã xếp phát lại"
CANCELLED_AIRING = "Đã hủy lượt phát."
CANCELLED_ALL = "Đã hủy thông báo «{title}»."
REPLAYED = "Đã xếp phát lại «{title}» vào khung giờ kế tiếp của {zone}."
ITEM_STATE = {
    "planned": "chưa gửi", "sent": "đã gửi", "acknowledged": "loa đã nhận", "playing": "đang phát",
    "played": "đã phát", "interrupted": "bị ngắt", "failed": "lỗi", "missed": "bỏ lỡ", "cancelled": "đã hủy",
}
LATE = "phát bù"

DEVICES = "Thiết bị"
ONLINE = "Trực tuyến"
OFFLINE = "Mất kết nối"
NEVER_SEEN = "chưa từng kết nối"
SINCE = "từ"
LAST_SEEN = "Lần cuối"
SCHEDULE_VERSION = "Lịch đã nhận"
UP_TO_DATE = "mới nhất"
BEHIND = "cũ (mới nhất: v{v})"
PLAYING = "Đang phát"
# what a reception TV shows, in words (broadcaster/web/screen.py)
SHOWING_IDLE = "Màn hình chờ"
SHOWING_HOTLINE = "Trang đường dây nóng, góp ý"
SHOWING_TEXT = "Trang tin: {title}"
SHOWING_PROCEDURE = "Thủ tục: {name}"
SHOWING_IMAGE = "Ảnh: {name}"
SHOWING_ANNOUNCEMENT = "Thông báo: {title}"
NO_VOLUME_TV = "TV không có âm lượng để chỉnh"
CACHE = "Bộ nhớ đệm"
VOLUME = "Âm lượng"
SET_VOLUME = "Đặt"
VOLUME_SET = "Đã đặt âm lượng {device}: {volume}. Loa nhận trong vài giây."
OFFLINE_ALERT = "{n} thiết bị mất kết nối"
MISSING_MEDIA = "thiếu {n} tệp"

REPORT = "Báo cáo kết quả phát thanh"
MONTH = "Tháng"
DOWNLOAD_CSV = "Tải CSV"
DOWNLOAD_XLSX = "Tải Excel (.xlsx)"
CANCELLED_WHOLE = "cả thông báo"
CANCELLED_ONE = "một lượt"
NONE_CANCELLED = "Tháng này không có thông báo hay lượt phát nào bị hủy."
OUTCOME = {"played": "Đã phát", "interrupted": "Bị ngắt", "failed": "Lỗi", "missed": "Bỏ lỡ", "pending": "Chưa đến giờ", "cancelled": "Đã hủy"}

AUDIT = "Nhật ký thao tác"
AUDIT_ACTION = {
    "login": "đăng nhập", "login_failed": "đăng nhập sai", "logout": "đăng xuất", "submit": "gửi duyệt", "approve": "duyệt",
    "return": "trả lại", "withdraw": "rút lại", "queue": "xếp lịch", "emergency": "PHÁT KHẨN CẤP", "cancel": "hủy thông báo",
    "cancel_airing": "hủy một lượt", "replay": "phát lại", "volume": "âm lượng", "user_add": "thêm tài khoản",
    "user_passwd": "đổi mật khẩu", "user_disable": "khóa tài khoản", "denied": "bị từ chối",
}

HOME_PENDING = "{n} thông báo chờ duyệt"
HOME_NEXT = "Sắp phát"
HOME_NOTHING = "Không có gì sắp phát trong 48 giờ tới."
ALL_DEVICES_OK = "Mọi thiết bị đang trực tuyến."

# What is wrong with a composed announcement: broadcaster/announce/messages_vi.py, the words of every
# way in (programme file, `broadcaster queue`, this console).
E_ZONES_ALL_EXCEPT = "«Tất cả trừ»: đã loại hết các khu phố, không còn khu phố nào để phát."
E_UPLOAD_BIG = "Tệp tải lên quá lớn."


CLI_USER = "dòng lệnh trên máy chủ ({who})"


def who(username: str | None) -> str:
    """A user name as the officer reads it: ``cli:root`` (the CLI's own record) in words."""
    if not username:
        return ""
    return CLI_USER.format(who=username[4:]) if username.startswith("cli:") else username


def fmt_dt(t: datetime | None, tz: ZoneInfo) -> str:
    return t.astimezone(tz).strftime("%H:%M %d/%m/%Y") if t else "—"


def fmt_time(t: datetime | None, tz: ZoneInfo) -> str:
    return t.astimezone(tz).strftime("%H:%M") if t else "—"


def fmt_hms(t: datetime | None, tz: ZoneInfo) -> str:
    return t.astimezone(tz).strftime("%H:%M:%S") if t else "—"


def fmt_day(d: datetime, tz: ZoneInfo) -> str:
    loc = d.astimezone(tz)
    return f"{WEEKDAYS[loc.weekday()]} {loc:%d/%m}"


def fmt_duration(ms: int) -> str:
    s = round(ms / 1000)
    return f"{s // 60} phút {s % 60:02d} giây" if s >= 60 else f"{s} giây"


def ago(t: datetime | None, now: datetime) -> str:
    if t is None:
        return NEVER_SEEN
    s = int((now - t).total_seconds())
    if s < 60:
        return "vừa xong"
    if s < 3600:
        return f"{s // 60} phút trước"
    if s < 86400:
        return f"{s // 3600} giờ trước"
    return f"{s // 86400} ngày trước"


# Reasons the nodes and the planner give (in English, in the as-run log), as the officer reads them.
REASONS = [
    (r"^node off or agent not running at airtime.*", "Loa tắt hoặc phần mềm loa không chạy vào giờ phát"),
    (r"^media never fetched: (.*)", "Loa chưa tải được tệp âm thanh ({0})"),
    (r"^not started within (\d+) s of its time", "Không phát được trong vòng {0} giây so với giờ hẹn"),
    (r"^could start only ([\d.]+) s late", "Chỉ có thể phát trễ {0} giây nên bỏ"),
    (r"^emergency expired before it could play", "Thông báo khẩn cấp hết hiệu lực trước khi phát được"),
    (r"^cannot decode: (.*)", "Tệp âm thanh hỏng, không giải mã được"),
    (r"^audio output: (.*)", "Lỗi thiết bị âm thanh của loa ({0})"),
    (r"^agent stopped while playing", "Phần mềm loa dừng khi đang phát"),
    (r"^interrupted by emergency (.*)", "Bị ngắt bởi thông báo khẩn cấp"),
    (r"^emergency cleared by the central", "Trung tâm đã kết thúc thông báo khẩn cấp"),
    (r"^audio player exited with status (.*)", "Trình phát âm thanh của loa lỗi (mã {0})"),
    (r"^no as-run event received from any node", "Không loa nào báo đã phát"),
    (r"^no node reported it", "Không loa nào báo đã phát"),
    (r"^did not fit (\d+) windows in a row", "Quá khung giờ {0} lần liên tiếp, không còn chỗ phát"),
    (r"^the service was not running at airtime \(quiet hours\)", "Máy chủ không chạy vào giờ phát; sau đó đã vào giờ yên tĩnh"),
    (r"^the service was not running at airtime \(more than (\d+) min late\)", "Máy chủ không chạy vào giờ phát (trễ quá {0} phút)"),
    (r"^the service was not running while the emergency was valid", "Máy chủ không chạy trong thời gian thông báo khẩn cấp còn hiệu lực"),
    (r"^missed$", "Bỏ lỡ"),
]


def reason_vi(text: str) -> str:
    """The Vietnamese of a known reason; an unknown one (or an officer's own words) unchanged."""
    import re

    for pattern, vi in REASONS:
        m = re.match(pattern, text or "")
        if m:
            return vi.format(*m.groups())
    return text or ""


def voice_line(engine: str, voice: str) -> str:
    """Which voice an item airs with, as the officer reads it ("espeak-ng (vi)", "ghi âm (tệp.m4a)")."""
    return f"{engine} ({voice})" if voice else engine


def fallback_warning(engine: str, preferred: str) -> str:
    from broadcaster.tts.messages_vi import FALLBACK_WARNING

    return FALLBACK_WARNING.format(engine=engine, preferred=preferred)
