"""What the audio component tells an officer about a recording, in Vietnamese, kept together."""

from __future__ import annotations

RECORDING_MISSING = "Không tìm thấy tệp ghi âm {name}: kiểm tra đường dẫn tệp"
RECORDING_UNREADABLE = "Không đọc được tệp ghi âm {name} ({why}): kiểm tra quyền đọc tệp"
RECORDING_EMPTY = "Tệp ghi âm {name} trống (0 byte): ghi âm lại hoặc chọn đúng tệp"
RECORDING_TOO_BIG = "Tệp ghi âm {name} lớn hơn {mb} MB: hãy ghi âm ngắn hơn (tối đa 10 phút)"
RECORDING_NOT_AUDIO = (
    "Tệp {name} không phải tệp âm thanh đọc được: hãy dùng tệp MP3, WAV hoặc M4A (ghi âm trên điện thoại)"
)
RECORDING_CORRUPT = "Tệp ghi âm {name} bị hỏng, không giải mã được: hãy ghi âm lại hoặc gửi lại tệp"
RECORDING_SILENT = (
    "Tệp ghi âm {name} không có tiếng (im lặng): kiểm tra micrô của điện thoại rồi ghi âm lại"
)
RECORDING_TOO_SHORT = "Tệp ghi âm {name} chỉ có {seconds:.1f} giây tiếng nói: ghi âm lại đầy đủ thông báo"
RECORDING_TOO_LONG = (
    "Tệp ghi âm {name} dài {minutes:.0f} phút, vượt quá {limit:.0f} phút cho phép: "
    "hãy cắt ngắn hoặc chọn đúng tệp thông báo"
)
