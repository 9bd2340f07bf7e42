"""What the officer must be told about a node's health, in the words they read (Vietnamese first).

Kept in one place so the service's log and ``broadcaster devices`` say the same thing.
"""

from __future__ import annotations

# A node plays from its own clock. Messages are accepted with up to 10 minutes of skew (a node that
# boots before NTP answers), but a bulletin then airs that much early or late, or is given up as
# missed: anything beyond a couple of seconds (network delay included) must reach the officer.
CLOCK_WARN_MS = 3_000


def clock_warning(device: str, offset_ms: int | None) -> str | None:
    """A sentence for the officer if the node's clock is off, else None."""
    if offset_ms is None or abs(offset_ms) < CLOCK_WARN_MS:
        return None
    s = offset_ms / 1000
    way = "nhanh" if s > 0 else "chậm"  # ahead / behind
    when = "sớm" if s > 0 else "muộn"  # early / late
    return (
        f"Đồng hồ của {device} {way} {abs(s):.0f} giây: bản tin sẽ phát {when} chừng ấy hoặc bị bỏ lỡ. "
        f"Kiểm tra đồng bộ giờ (chrony/NTP) trên thiết bị. "
        f"(clock {'ahead' if s > 0 else 'behind'} by {abs(s):.0f} s: check chrony/NTP on the device)"
    )
