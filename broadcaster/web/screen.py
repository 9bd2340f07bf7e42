"""What a reception TV is showing, in the words an officer reads on the devices page.

A display reports the id of what is on screen (``playing`` in its state): an announcement's airing
or emergency (``<announcement id>.<zone>.<time>`` or the announcement id), ``idle``, or a deck
slide id as ``production.plan_deck`` names them (``01-catalog-01-<code>-02``, ``03-text-01``,
``00-hotline-01``, an image's file stem). The slide id is read back without drawing the deck.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

from broadcaster.central.store import Store
from broadcaster.config import Deck, Ward, find_deck
from broadcaster.errors import BroadcasterError
from broadcaster.web import strings as S

log = logging.getLogger(__name__)

_SLIDE = re.compile(r"(\d{2})-(hotline|catalog|text)-(.+)")
_CATALOG = re.compile(r"\d{2}-(.+)-\d{2}")


def _title_of(store: Store, label: str) -> str | None:
    for aid in (label, label.split(".")[0]):
        try:
            return store.announcement(aid).title
        except BroadcasterError:
            continue
    return None


def _procedure_name(entry_file: Path | None, code: str) -> str | None:
    from broadcaster.catalog import load_catalog

    if entry_file is None:
        return None
    try:
        for p in load_catalog(entry_file):
            if p.code == code:
                return p.name
    except (BroadcasterError, OSError):
        log.warning("catalog %s cannot be read to name slide %s", entry_file, code)
    return None


def _deck_slide(deck: Deck, slide_id: str) -> str | None:
    m = _SLIDE.fullmatch(slide_id)
    if m:
        n, kind, rest = int(m.group(1)), m.group(2), m.group(3)
        entry = deck.entries[n] if n < len(deck.entries) else None
        if kind == "hotline":
            return S.SHOWING_HOTLINE
        if entry is None or entry.kind != kind:
            return None
        if kind == "text":
            return S.SHOWING_TEXT.format(title=entry.title)
        c = _CATALOG.fullmatch(rest)
        if c:
            name = _procedure_name(entry.file, c.group(1))
            return S.SHOWING_PROCEDURE.format(name=name or c.group(1))
        return None
    for entry in deck.entries:
        if entry.kind == "image" and entry.file is not None and entry.file.stem == slide_id:
            return S.SHOWING_IMAGE.format(name=entry.file.name)
    return None


def describe_showing(ward: Ward, store: Store, device_id: str, playing: str) -> str:
    """``playing`` as a display reported it, in words; the raw id only when nothing better is known."""
    if playing == "idle":
        return S.SHOWING_IDLE
    title = _title_of(store, playing)
    if title is not None:
        return S.SHOWING_ANNOUNCEMENT.format(title=title)
    try:
        dev = ward.device(device_id)
        deck = find_deck(ward, dev.deck) if dev.deck else None
    except BroadcasterError:
        deck = None
    described = _deck_slide(deck, playing) if deck else None
    return described or playing
