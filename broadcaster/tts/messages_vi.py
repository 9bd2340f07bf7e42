"""What the speech engines tell an officer, in Vietnamese, kept together (one place to reword).

Each message says what is wrong and what to do. The English detail for the technician follows in
the same exception message, after " — ".
"""

from __future__ import annotations

FPT_BAD_KEY = (
    "Khóa API FPT.AI không hợp lệ hoặc đã bị thu hồi: kiểm tra tệp khóa {key_file} "
    "(lấy khóa tại console.fpt.ai), hệ thống tạm dùng giọng dự phòng"
)
FPT_NO_KEY = (
    "Chưa có khóa API FPT.AI: tệp {key_file} không tồn tại hoặc trống; ghi khóa vào tệp đó "
    "(chỉ quản trị viên đọc được), hệ thống tạm dùng giọng dự phòng"
)
FPT_QUOTA = (
    "Tài khoản FPT.AI đã hết hạn mức ký tự hoặc gửi quá nhiều yêu cầu: nạp thêm hạn mức tại "
    "console.fpt.ai hoặc chờ rồi thử lại; hệ thống tạm dùng giọng dự phòng"
)
FPT_TOO_LONG = (
    "Văn bản dài {length} ký tự, FPT.AI chỉ nhận tối đa {limit} ký tự mỗi lần: hãy chia thông báo "
    "thành các thông báo ngắn hơn; lần này dùng giọng dự phòng"
)
FPT_TOO_SHORT = "Văn bản quá ngắn cho FPT.AI (cần ít nhất {limit} ký tự)"
FPT_DOWN = (
    "Không kết nối được dịch vụ FPT.AI ({why}): kiểm tra mạng Internet; hệ thống tạm dùng "
    "giọng dự phòng và sẽ thử lại giọng FPT.AI trước giờ phát"
)
FPT_SLOW = (
    "FPT.AI chưa trả âm thanh sau {seconds:g} giây: dịch vụ đang chậm; hệ thống tạm dùng giọng "
    "dự phòng và sẽ thử lại trước giờ phát"
)
FPT_REFUSED = "FPT.AI từ chối văn bản: {message}"
FPT_BAD_AUDIO = "FPT.AI trả về tệp không phải âm thanh MP3 ({size} byte): thử lại sau"

FALLBACK_WARNING = (
    "⚠ sẽ phát bằng giọng dự phòng {engine} (giọng ưu tiên {preferred} chưa dùng được); "
    "dịch vụ sẽ thử lại và thay âm thanh tốt hơn nếu kịp trước giờ phát"
)
RECORDED_VOICE = "ghi âm"
