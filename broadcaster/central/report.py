"""The monthly as-run report (báo cáo kết quả phát thanh): scheduled vs played vs missed vs failed.

For the ward's reporting duty: per khu phố and per announcement, as CSV (UTF-8 with BOM, so a
spreadsheet opens the Vietnamese correctly) and as one HTML page with an inline SVG chart (drawn
here: no plotting library to install on the office machine).

How an item is counted: each planned occurrence in one zone is one *item* (what the central
delivered, or recorded as missed). Its outcome is the best thing any node of the zone reported:
played > interrupted > failed > missed; an item with no report yet and whose time has not passed
is "pending". Events for items the central does not know (e.g. a node that played from an older
plan) still count, under the announcement they name.
"""

from __future__ import annotations

import csv
import html
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

from broadcaster.central.store import Store
from broadcaster.config import Ward
from broadcaster.errors import ConfigError
from broadcaster.wire.times import utc_now

OUTCOMES = ("played", "interrupted", "failed", "missed", "pending")
OUTCOME_VI = {"played": "Đã phát", "interrupted": "Bị ngắt", "failed": "Lỗi", "missed": "Bỏ lỡ", "pending": "Chưa đến giờ"}
COLORS = {"played": "#2e7d32", "interrupted": "#f9a825", "failed": "#c62828", "missed": "#757575", "pending": "#bdbdbd"}
RANK = {"played": 0, "interrupted": 1, "failed": 2, "missed": 3}
PRIORITY_VI = {"normal": "Thông thường", "priority": "Ưu tiên", "emergency": "Khẩn cấp"}


@dataclass
class ItemOutcome:
    item_id: str
    zone: str
    announcement_id: str
    title: str
    priority: str
    scheduled: datetime
    outcome: str
    devices: list[str] = field(default_factory=list)  # nodes that played it
    reason: str = ""


@dataclass
class Report:
    ward: Ward
    month: date  # first day
    items: list[ItemOutcome]
    device_events: dict[str, Counter[str]]
    generated_at: datetime

    @property
    def label(self) -> str:
        return f"{self.month:%Y-%m}"

    def by_zone(self) -> dict[str, Counter[str]]:
        out: dict[str, Counter[str]] = {z.id: Counter() for z in self.ward.zones}
        for it in self.items:
            out.setdefault(it.zone, Counter())[it.outcome] += 1
        return out

    def by_announcement(self) -> dict[str, tuple[str, str, set[str], Counter[str]]]:
        out: dict[str, tuple[str, str, set[str], Counter[str]]] = {}
        for it in self.items:
            title, prio, zones, c = out.setdefault(it.announcement_id, (it.title, it.priority, set(), Counter()))
            zones.add(it.zone)
            c[it.outcome] += 1
        return out


def parse_month(s: str) -> date:
    m = re.fullmatch(r"\s*(\d{4})-(\d{1,2})\s*", s or "")
    if not m or not 1 <= int(m.group(2)) <= 12 or int(m.group(1)) < 2000:
        raise ConfigError("--month", "month", f"{s!r} is not a month", "YYYY-MM, e.g. 2026-12")
    return date(int(m.group(1)), int(m.group(2)), 1)


def month_range(month: date, ward: Ward) -> tuple[datetime, datetime]:
    nxt = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    start = datetime.combine(month, datetime.min.time(), ward.tz)
    end = datetime.combine(nxt, datetime.min.time(), ward.tz)
    return start, end


def build_report(ward: Ward, store: Store, month: str, *, now: datetime | None = None) -> Report:
    m = parse_month(month)
    start, end = month_range(m, ward)
    now = now or utc_now()
    titles = {a.id: (a.title, a.priority) for a in store.announcements(include_cancelled=True)}
    zone_of = {d.id: d.zone for d in store.devices()}
    items: dict[str, ItemOutcome] = {}
    for p in store.plan_items(start, end):
        if p.status == "cancelled":
            continue
        title, prio = titles.get(p.announcement_id, (p.announcement_id, p.priority))
        outcome = "missed" if p.status == "missed" else ("pending" if p.start + timedelta(milliseconds=p.duration_ms) > now else "missed")
        items[p.item_id] = ItemOutcome(p.item_id, p.zone, p.announcement_id, title, prio, p.requested, outcome,
                                       reason=p.reason or ("" if outcome == "pending" else "no node reported it"))
    device_events: dict[str, Counter[str]] = defaultdict(Counter)
    best: dict[str, str] = {}
    # An item belongs to the month of the time it was asked for, even if it overflowed into the next
    # month (31st 17:00 -> 1st 05:30): its as-run events are counted with it, in one month only.
    wide_start, wide_end = start - timedelta(days=31), end + timedelta(days=31)
    elsewhere = {p.item_id for p in store.plan_items(wide_start, wide_end) if not start <= p.requested < end}
    for ev in store.events(wide_start, wide_end):
        if ev.item_id in elsewhere or (ev.item_id not in items and not start <= ev.scheduled < end):
            continue
        device_events[ev.device][ev.kind] += 1
        it = items.get(ev.item_id)
        if it is None:
            title, prio = titles.get(ev.announcement_id, (ev.announcement_id, "normal"))
            it = items[ev.item_id] = ItemOutcome(ev.item_id, ev.zone or zone_of.get(ev.device) or "?", ev.announcement_id,
                                                 title, prio, ev.scheduled, ev.kind)
        if ev.kind == "played":
            it.devices.append(ev.device)
        if ev.item_id not in best or RANK[ev.kind] < RANK[best[ev.item_id]]:
            best[ev.item_id] = ev.kind
            it.outcome = ev.kind
            it.reason = ev.reason if ev.kind != "played" else ""
    return Report(ward, m, sorted(items.values(), key=lambda i: (i.scheduled, i.zone)), dict(device_events), now)


# --------------------------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------------------------


def _rate(c: Counter[str]) -> str:
    done = sum(c[k] for k in ("played", "interrupted", "failed", "missed"))
    return f"{100 * c['played'] / done:.0f}%" if done else "—"


def write_report(report: Report, out_dir: Path) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    tz = report.ward.tz
    zone_names = {z.id: z.name for z in report.ward.zones}
    lab = report.label
    paths = []

    p = out_dir / f"asrun-{lab}-khu-pho.csv"
    with open(p, "w", newline="", encoding="utf-8-sig") as f:
        w = csv.writer(f)
        w.writerow(["khu_pho", "ten", "ke_hoach/scheduled", *[f"{OUTCOME_VI[k]}/{k}" for k in OUTCOMES], "ty_le_phat/played_rate"])
        for zid, c in report.by_zone().items():
            w.writerow([zid, zone_names.get(zid, zid), sum(c.values()), *[c[k] for k in OUTCOMES], _rate(c)])
    paths.append(p)

    p = out_dir / f"asrun-{lab}-thong-bao.csv"
    with open(p, "w", newline="", encoding="utf-8-sig") as f:
        w = csv.writer(f)
        w.writerow(["ma/id", "tieu_de/title", "muc/priority", "khu_pho/zones", "ke_hoach/scheduled", *[f"{OUTCOME_VI[k]}/{k}" for k in OUTCOMES]])
        for aid, (title, prio, zones, c) in sorted(report.by_announcement().items()):
            w.writerow([aid, title, PRIORITY_VI.get(prio, prio), " ".join(sorted(zones)), sum(c.values()), *[c[k] for k in OUTCOMES]])
    paths.append(p)

    p = out_dir / f"asrun-{lab}-chi-tiet.csv"
    with open(p, "w", newline="", encoding="utf-8-sig") as f:
        w = csv.writer(f)
        w.writerow(["thoi_gian/scheduled_local", "khu_pho/zone", "ma/id", "tieu_de/title", "ket_qua/outcome", "thiet_bi/played_on", "ly_do/reason"])
        for it in report.items:
            w.writerow([f"{it.scheduled.astimezone(tz):%d/%m/%Y %H:%M}", it.zone, it.announcement_id, it.title,
                        OUTCOME_VI[it.outcome], " ".join(sorted(set(it.devices))), it.reason])
    paths.append(p)

    p = out_dir / f"asrun-{lab}.html"
    p.write_text(render_html(report), encoding="utf-8")
    paths.append(p)
    return paths


def svg_chart(rows: list[tuple[str, Counter[str]]]) -> str:
    """Horizontal stacked bars, one per zone, with a legend. Plain SVG, readable printed in grey too."""
    bar_h, gap, label_w, width = 22, 10, 110, 520
    top = 30
    height = top + len(rows) * (bar_h + gap) + 10
    most = max([sum(c.values()) for _, c in rows] + [1])
    # the viewBox lets a narrow screen (a phone) scale the whole chart down instead of cutting it off
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{label_w + width + 60}" height="{height}" '
             f'viewBox="0 0 {label_w + width + 60} {height}" role="img" '
             f'aria-label="Kết quả phát theo khu phố" font-family="sans-serif" font-size="13">']
    x = label_w
    for k in OUTCOMES:  # legend
        parts.append(f'<rect x="{x}" y="4" width="12" height="12" fill="{COLORS[k]}"/>'
                     f'<text x="{x + 16}" y="15">{html.escape(OUTCOME_VI[k])}</text>')
        x += 30 + 8 * len(OUTCOME_VI[k])
    for n, (name, c) in enumerate(rows):
        y = top + n * (bar_h + gap)
        parts.append(f'<text x="{label_w - 8}" y="{y + bar_h - 6}" text-anchor="end">{html.escape(name)}</text>')
        x0 = float(label_w)
        for k in OUTCOMES:
            if not c[k]:
                continue
            w = width * c[k] / most
            parts.append(f'<rect x="{x0:.1f}" y="{y}" width="{w:.1f}" height="{bar_h}" fill="{COLORS[k]}">'
                         f'<title>{html.escape(name)}: {c[k]} {html.escape(OUTCOME_VI[k])}</title></rect>')
            x0 += w
        parts.append(f'<text x="{x0 + 6:.1f}" y="{y + bar_h - 6}">{sum(c.values())}</text>')
    parts.append("</svg>")
    return "".join(parts)


def render_html(report: Report) -> str:
    ward, tz, e = report.ward, report.ward.tz, html.escape
    zone_names = {z.id: z.name for z in ward.zones}
    zc = report.by_zone()
    head = "".join(f"<th>{e(OUTCOME_VI[k])}</th>" for k in OUTCOMES)

    def cells(c: Counter[str]) -> str:
        return "".join(f"<td>{c[k]}</td>" for k in OUTCOMES)

    zone_rows = "".join(
        f"<tr><td>{e(zone_names.get(z, z))}</td><td>{sum(c.values())}</td>{cells(c)}<td>{_rate(c)}</td></tr>" for z, c in zc.items()
    )
    total: Counter[str] = sum(zc.values(), Counter())
    ann_rows = "".join(
        f"<tr><td>{e(title)}</td><td>{e(PRIORITY_VI.get(prio, prio))}</td><td>{e(', '.join(sorted(zones)))}</td>"
        f"<td>{sum(c.values())}</td>{cells(c)}</tr>"
        for _, (title, prio, zones, c) in sorted(report.by_announcement().items(), key=lambda kv: kv[1][0])
    )
    dev_rows = "".join(
        f"<tr><td>{e(d)}</td>" + "".join(f"<td>{c[k]}</td>" for k in ("played", "interrupted", "failed", "missed")) + "</tr>"
        for d, c in sorted(report.device_events.items())
    )
    problems = "".join(
        f"<tr><td>{it.scheduled.astimezone(tz):%d/%m/%Y %H:%M}</td><td>{e(zone_names.get(it.zone, it.zone))}</td>"
        f"<td>{e(it.title)}</td><td>{e(OUTCOME_VI[it.outcome])}</td><td>{e(it.reason)}</td></tr>"
        for it in report.items if it.outcome in ("failed", "missed", "interrupted")
    )
    chart = svg_chart([(zone_names.get(z, z), c) for z, c in zc.items()])
    place = ", ".join(x for x in (ward.name, ward.town, ward.province) if x)
    return f"""<!doctype html>
<html lang="vi"><head><meta charset="utf-8">
<title>Báo cáo kết quả phát thanh tháng {report.month:%m/%Y} – {e(ward.name)}</title>
<style>
body {{ font-family: "Noto Sans", Arial, sans-serif; margin: 2em; color: #222; }}
table {{ border-collapse: collapse; margin: 1em 0 2em; }}
th, td {{ border: 1px solid #999; padding: 4px 10px; text-align: right; }}
th {{ background: #eee; }} td:first-child, th:first-child {{ text-align: left; }}
.note {{ color: #555; font-size: 90%; }}
</style></head><body>
<h1>Báo cáo kết quả phát thanh tháng {report.month:%m/%Y}</h1>
<p>{e(place)}<br>Hệ thống loa phát thanh các khu phố. Lập lúc {report.generated_at.astimezone(tz):%H:%M ngày %d/%m/%Y}.</p>
<h2>1. Tổng hợp</h2>
<p>Tổng số lượt phát theo kế hoạch: <b>{sum(total.values())}</b>; đã phát: <b>{total['played']}</b>;
bị ngắt: {total['interrupted']}; lỗi: {total['failed']}; bỏ lỡ: {total['missed']}; chưa đến giờ: {total['pending']}.</p>
{chart}
<h2>2. Theo khu phố</h2>
<table><tr><th>Khu phố</th><th>Kế hoạch</th>{head}<th>Tỷ lệ phát</th></tr>{zone_rows}</table>
<h2>3. Theo thông báo</h2>
<table><tr><th>Thông báo</th><th>Mức độ</th><th>Khu phố</th><th>Kế hoạch</th>{head}</tr>{ann_rows}</table>
<h2>4. Theo thiết bị</h2>
<table><tr><th>Thiết bị</th><th>Đã phát</th><th>Bị ngắt</th><th>Lỗi</th><th>Bỏ lỡ</th></tr>{dev_rows}</table>
<h2>5. Các lượt không phát được</h2>
<table><tr><th>Thời gian</th><th>Khu phố</th><th>Thông báo</th><th>Kết quả</th><th>Lý do</th></tr>{problems}</table>
<p class="note">Mỗi lượt là một lần phát của một thông báo tại một khu phố. Kết quả là kết quả tốt nhất mà các loa của khu phố
báo về: đã phát &gt; bị ngắt &gt; lỗi &gt; bỏ lỡ. Giờ địa phương (Asia/Ho_Chi_Minh).</p>
</body></html>
"""
