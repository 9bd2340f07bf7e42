"""What an officer reads when an announcement or its schedule is refused (Vietnamese), in one place.

Each message says what is wrong and what to do; *where* (a file key, a flag, a form field) is added
by the door it came in by (``announce.spec.Door``). The same bad value gives the same message from
a programme file, ``broadcaster queue`` and the console. ``*_EN`` glosses follow the message on the
command line and in logs (the CLI speaks both), never on the console.
"""

from __future__ import annotations

# -- the announcement's own fields ------------------------------------------------------------

ID_MISSING = "Thiếu mã thông báo: đặt một mã như hop-to-6-kp3."
ID_BAD = ("Mã thông báo «{v}» không dùng được: chỉ chữ thường không dấu, số, - hoặc _ (tối đa 64 ký tự), "
          "ví dụ hop-to-6-kp3.")
ID_BAD_EN = "id {v!r} cannot be used: lowercase letters, digits, - or _"
ID_TWICE = "Mã «{v}» dùng hai lần trong tệp: mỗi thông báo một mã riêng."
ID_TAKEN = "Mã «{v}» đã có trong kho lịch phát: đặt mã khác (hoặc hủy thông báo cũ rồi dùng mã mới)."
ID_TAKEN_EN = "announcement {v!r} is already in the store"

NOT_TEXT = "Cần viết bằng chữ (trong dấu ngoặc kép), không phải {got}."
TITLE_MISSING = "Chưa có tiêu đề: nhập một tiêu đề ngắn (hiện trên TV và trong danh sách)."
TITLE_LONG = "Tiêu đề quá dài ({n} ký tự, tối đa {max}): rút gọn, chi tiết để trong nội dung."
TEXT_MISSING = "Chưa có nội dung: nhập lời thông báo."
TEXT_LONG = "Nội dung quá dài ({n} ký tự, tối đa {max}): rút gọn, hoặc chia thành vài thông báo ngắn."
PICTOGRAPHS = ("Trong {where} có biểu tượng cảm xúc ({shown}): loa không đọc được và TV hiện thành ô vuông. "
               "Xóa các biểu tượng đó, viết bằng chữ nếu cần.")
PICTOGRAPHS_HIDDEN = "ký tự ẩn"
WHERE_TITLE = "tiêu đề"
WHERE_TEXT = "nội dung"
NOTHING_TO_READ = "Nội dung không có chữ để đọc (chỉ có biểu tượng hoặc dấu): viết thông báo bằng chữ."
NOTHING_TO_READ_EN = "the text has nothing to read out"

ZONES_NONE = "Chưa chọn khu phố nào: đánh dấu ít nhất một khu phố, hoặc «Toàn phường»."
ZONES_BAD = 'Khu phố là «all» (toàn phường) hoặc danh sách mã như ["kp1", "kp3"], không phải {got}.'
ZONE_UNKNOWN = "Khu phố «{v}» không có trong tệp phường: dùng «toàn phường» (all) hoặc các mã {known}."
ZONE_UNKNOWN_EN = "unknown zone {v!r}: not in the ward file"

PRIORITY_BAD = "Mức ưu tiên «{v}» không có: dùng thường / ưu tiên / khẩn cấp (normal, priority, emergency)."
READINGS_BAD = "Số lần đọc là một số nguyên từ 1 đến 5, không phải {v}."
BOOL_BAD = "Cần là true hoặc false, không phải {v}."
AUDIO_MISSING = "Không thấy tệp ghi âm {name}: đặt tệp (MP3, WAV, M4A) cạnh tệp chương trình, hoặc ghi đúng đường dẫn."

# -- the schedule as typed ---------------------------------------------------------------------

KIND_BAD = ("Kiểu lịch «{v}» không có: dùng now (phát ngay), once (một lần), daily (hằng ngày) "
            "hoặc weekly (hằng tuần).")
SCHEDULE_BAD = "Lịch phát phải là một bảng như {{ kind = \"once\", at = \"05/12/2026 17:10\" }}, không phải {got}."
AT_MISSING = "Thiếu ngày giờ phát: nhập ngày và giờ, ví dụ 05/12/2026 17:10."
AT_BAD = "«{v}» không phải ngày giờ có thật: viết DD/MM/YYYY HH:MM, ví dụ 05/12/2026 17:10."
TIMES_MISSING = "Thiếu giờ phát: nhập giờ như 17:00 hoặc 05:30, 17:15."
TIME_BAD = "«{v}» không phải giờ trong ngày: viết HH:MM, ví dụ 17:00 hoặc 7h30."
FROM_MISSING = "Thiếu «Từ ngày»: lịch hằng ngày và hằng tuần cần ngày bắt đầu, dạng DD/MM/YYYY."
UNTIL_MISSING = "Thiếu «Đến ngày»: lịch hằng ngày và hằng tuần cần ngày kết thúc, dạng DD/MM/YYYY."
DATE_BAD = "«{v}» không phải ngày có thật: viết DD/MM/YYYY, ví dụ 31/12/2026."
UNTIL_BEFORE_FROM = "Ngày kết thúc {end} trước ngày bắt đầu {start}: chọn ngày kết thúc từ ngày bắt đầu trở đi."
WEEKDAYS_MISSING = "Chọn ít nhất một ngày trong tuần (thứ 2 .. thứ 7, chủ nhật)."
WEEKDAY_BAD = "«{v}» không phải ngày trong tuần: dùng thứ 2 .. thứ 7, chủ nhật (t2..t7, cn hoặc mon..sun)."

# -- the schedule against the clock, the windows and the length on air (central/planner.py) ---

PAST = "Giờ phát {at} đã qua (bây giờ là {now}): chọn giờ từ bây giờ trở đi, hoặc «Phát ngay»."
PAST_EN = "{at} is in the past"
PERIOD_OVER = "Ngày kết thúc {end} đã qua: chọn ngày từ hôm nay trở đi."
PERIOD_OVER_EN = "the period ends {end}, which is in the past"
NO_OCCURRENCE = "Lịch «{spec}» không có lần phát nào từ bây giờ: kiểm tra ngày trong tuần và khoảng ngày."
NO_OCCURRENCE_EN = "no occurrence from now on"
OUTSIDE_WINDOW = ("{zone}: {t} ngoài khung giờ phát ({windows}). Thông báo thường và ưu tiên chỉ phát trong "
                  "khung giờ: chọn giờ trong khung, hoặc mức «Khẩn cấp» nếu thật sự không thể chờ.")
OUTSIDE_WINDOW_EN = "{t} is outside every broadcast window of {zone_id}"
TOO_LONG = ("Dài {minutes} phút, hơn khung giờ dài nhất của {zone} ({longest} phút): rút ngắn nội dung "
            "hoặc giảm số lần đọc.")
TOO_LONG_EN = "longer than the longest window of {zone_id}"
TOO_LONG_FOR_WINDOW = ("{zone}: dài {minutes} phút, hơn khung giờ {window} ({length} phút) chứa giờ phát {t}, nên "
                       "không bao giờ phát được lúc đó. Rút ngắn nội dung, giảm số lần đọc, hoặc chọn giờ "
                       "trong khung dài hơn ({longer}).")
TOO_LONG_FOR_WINDOW_EN = "longer than the window {window} its time {t} falls in ({zone_id})"
NO_LONGER_WINDOW = "không có"
NOW_OUTSIDE = "{zone}: bây giờ ngoài khung giờ phát ({windows}); sẽ phát ở khung giờ kế tiếp, {next}."
NOW_OUTSIDE_EN = "now is outside the windows of {zone_id}; it will play in the next window"

# -- an airing the planner cannot place any more (shown in `broadcaster list` and the console) --

EXPIRED_MARK = "Hết thời hạn"  # how an expired airing's reason begins (stored with it)
EXPIRED = ("Hết thời hạn: không khung giờ nào đến hết ngày {end} còn chỗ cho lượt phát {requested}, "
           "nên lượt này không phát.")
EXPIRED_SHORT = "không phát được (hết thời hạn) / not airable before its end date"
ENDED = "đã hết thời hạn {end} / ended"
NOT_AIRABLE = "⚠ Không phát được / not airable (hết thời hạn, đã bỏ):"
