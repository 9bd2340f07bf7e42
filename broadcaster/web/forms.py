"""The compose form -> an ``Announcement`` through ``announce.spec``, every problem beside its field, in Vietnamese."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from broadcaster.announce import spec
from broadcaster.central.usecases import new_id
from broadcaster.config import Announcement, ScheduleSpec, Ward
from broadcaster.wire.vocabulary import PRIORITIES
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
    """The form's fields checked by ``announce.spec.parse``, the path of ``broadcaster queue`` and
    programme files; each problem lands beside its field. ``allowed_zones``: the khu phố of the
    acting user; "Toàn phường" and "all except" mean all of those."""
    errors: dict[str, str] = {}
    zone_ids = [z.id for z in ward.zones if allowed_zones is None or z.id in allowed_zones]
    # a khu phố not his (a forged form) is not chosen; the use cases check permissions again
    picked = [z for z in _getlist(form, "zones") if z in zone_ids]
    mode = _get(form, "zone_mode", "pick")
    zones: list[str]
    if mode == "all":
        zones = list(zone_ids)
    elif mode == "except":
        zones = [z for z in zone_ids if z not in picked]
        if not zones:
            errors["zones"] = S.E_ZONES_ALL_EXCEPT
    else:
        zones = [z for z in zone_ids if z in picked]
    priority = force_priority or _get(form, "priority", "normal")
    kind = _get(form, "kind", "now") if not force_priority else "now"
    if kind not in ("now", "once", "daily", "weekly"):
        kind = "now"
    at_raw = f"{_get(form, 'at_date')} {_get(form, 'at_time')}".strip()
    weekdays = [int(x) for x in _getlist(form, "weekdays") if x.isdigit() and 0 <= int(x) <= 6]
    raw = spec.Raw(
        title=_get(form, "title"), text=_get(form, "text"), zones=zones, priority=priority,
        readings=_get(form, "readings", "2"), chime=_get(form, "chime") in ("1", "on", "true"),
        show_on_tv=_get(form, "show_on_tv") in ("1", "on", "true"),
        schedule=spec.RawSchedule(kind, at=at_raw or None, times=_get(form, "times"), start=_get(form, "from"),
                                  end=_get(form, "until"), weekdays=weekdays),
    )
    ann: Announcement | None = None
    try:
        ann = spec.parse(raw, ward, spec.CONSOLE_DOOR, make_id=lambda title: new_id(ward, title, now),
                         allowed_zones=zone_ids)
    except spec.AnnouncementInputError as exc:
        for p in exc.problems:
            errors.setdefault(p.where, p.message)
    values = {
        "title": raw.title, "text": raw.text, "zones": picked, "zone_mode": mode,
        "priority": ann.priority if ann else (priority if priority in PRIORITIES else "normal"),
        "readings": ann.readings if ann else _get(form, "readings", "2"),
        "chime": raw.chime, "show_on_tv": raw.show_on_tv, "kind": kind, "at_date": _get(form, "at_date"),
        "at_time": _get(form, "at_time"), "times": _get(form, "times"), "from": _get(form, "from"),
        "until": _get(form, "until"), "weekdays": [int(x) for x in _getlist(form, "weekdays") if x.isdigit()],
    }
    if errors:
        return FormResult(None, errors, values)
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
