"""The compose form -> an ``Announcement``, with every problem named by its field, in Vietnamese."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from broadcaster.central.usecases import new_id
from broadcaster.config import Announcement, ScheduleSpec, Ward, parse_clock, parse_date, parse_local_datetime
from broadcaster.protocol import PRIORITIES
from broadcaster.web import strings as S


@dataclass
class FormResult:
    ann: Announcement | None
    errors: dict[str, str] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)


def _get(form: Mapping[str, Any], key: str, default: str = "") -> str:
    v = form.get(key, default)
    return v.strip() if isinstance(v, str) else default


def _getlist(form: Any, key: str) -> list[str]:
    return [v for v in form.getlist(key) if isinstance(v, str)] if hasattr(form, "getlist") else list(form.get(key, []))


def parse_compose(form: Any, ward: Ward, now: datetime, *, force_priority: str | None = None,
                  allowed_zones: list[str] | None = None) -> FormResult:
    """``allowed_zones``: the khu phố of the acting user; "Toàn phường" and "all except" mean all of those."""
    errors: dict[str, str] = {}
    title = _get(form, "title")
    text = _get(form, "text")
    if not title:
        errors["title"] = S.E_TITLE
    if not text:
        errors["text"] = S.E_TEXT
    elif len(text) > 5000:
        errors["text"] = S.E_TEXT_LONG.format(n=len(text))
    zone_ids = [z.id for z in ward.zones if allowed_zones is None or z.id in allowed_zones]
    picked = [z for z in _getlist(form, "zones") if z in zone_ids]
    mode = _get(form, "zone_mode", "pick")
    if mode == "all":
        zones = tuple(zone_ids)
    elif mode == "except":
        zones = tuple(z for z in zone_ids if z not in picked)
        if not zones:
            errors["zones"] = S.E_ZONES_ALL_EXCEPT
    else:
        zones = tuple(z for z in zone_ids if z in picked)
        if not zones:
            errors["zones"] = S.E_ZONES
    priority = force_priority or _get(form, "priority", "normal")
    if priority not in PRIORITIES:
        errors["priority"] = S.E_PRIORITY
        priority = "normal"
    try:
        readings = int(_get(form, "readings", "2"))
        if not 1 <= readings <= 5:
            raise ValueError
    except ValueError:
        errors["readings"] = S.E_READINGS
        readings = 2
    chime = _get(form, "chime") in ("1", "on", "true")
    tv = _get(form, "show_on_tv") in ("1", "on", "true")
    kind = _get(form, "kind", "now") if not force_priority else "now"
    spec = ScheduleSpec("now")
    if kind == "once":
        at_raw = f"{_get(form, 'at_date')} {_get(form, 'at_time')}".strip()
        at = parse_local_datetime(at_raw, ward.tz) if at_raw else None
        if at is None:
            errors["schedule"] = S.E_AT
        else:
            spec = ScheduleSpec("once", at=at)
    elif kind in ("daily", "weekly"):
        times = []
        for t_s in (x.strip() for x in _get(form, "times").replace(";", ",").split(",") if x.strip()):
            t = parse_clock(t_s)
            if t is None:
                times = []
                break
            times.append(t)
        d_from, d_until = parse_date(_get(form, "from")), parse_date(_get(form, "until"))
        weekdays = tuple(sorted({int(x) for x in _getlist(form, "weekdays") if x.isdigit() and 0 <= int(x) <= 6}))
        if not times:
            errors["schedule"] = S.E_TIMES
        elif d_from is None:
            errors["schedule"] = S.E_FROM
        elif d_until is None:
            errors["schedule"] = S.E_UNTIL
        elif kind == "weekly" and not weekdays:
            errors["schedule"] = S.E_WEEKDAYS
        else:
            spec = ScheduleSpec(kind, times=tuple(sorted(set(times))), start_date=d_from, end_date=d_until,
                                weekdays=weekdays if kind == "weekly" else ())
    elif kind != "now":
        kind = "now"
    values = {
        "title": title, "text": text, "zones": picked, "zone_mode": mode, "priority": priority, "readings": readings,
        "chime": chime, "show_on_tv": tv, "kind": kind, "at_date": _get(form, "at_date"), "at_time": _get(form, "at_time"),
        "times": _get(form, "times"), "from": _get(form, "from"), "until": _get(form, "until"),
        "weekdays": [int(x) for x in _getlist(form, "weekdays") if x.isdigit()],
    }
    if errors:
        return FormResult(None, errors, values)
    ann = Announcement(new_id(ward, title, now), title, text, zones, priority, readings, chime, tv, spec, source="console")
    return FormResult(ann, errors, values)


def values_of(ann_like: Any, ward: Ward) -> dict[str, Any]:
    """Form values of a stored announcement or draft (to edit it)."""
    spec: ScheduleSpec = ann_like.schedule
    tz = ward.tz
    all_ids = [z.id for z in ward.zones]
    return {
        "title": ann_like.title, "text": ann_like.text, "zones": list(ann_like.zones),
        "zone_mode": "all" if list(ann_like.zones) == all_ids else "pick", "priority": ann_like.priority,
        "readings": ann_like.readings, "chime": ann_like.chime, "show_on_tv": ann_like.show_on_tv, "kind": spec.kind,
        "at_date": f"{spec.at.astimezone(tz):%d/%m/%Y}" if spec.at else "", "at_time": f"{spec.at.astimezone(tz):%H:%M}" if spec.at else "",
        "times": ", ".join(f"{t:%H:%M}" for t in spec.times), "from": f"{spec.start_date:%d/%m/%Y}" if spec.start_date else "",
        "until": f"{spec.end_date:%d/%m/%Y}" if spec.end_date else "", "weekdays": list(spec.weekdays),
    }
