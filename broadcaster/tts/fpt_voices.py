"""FPT.AI's documented voices, without any network code (the ward file's validation uses them)."""

from __future__ import annotations

__all__ = ["DEFAULT_VOICE", "FPT_VOICES"]

# voice -> (region, gender), as FPT.AI's Text to Speech v5 documentation lists them
FPT_VOICES: dict[str, tuple[str, str]] = {
    "banmai": ("north", "female"),
    "thuminh": ("north", "female"),
    "leminh": ("north", "male"),
    "myan": ("central", "female"),
    "giahuy": ("central", "male"),
    "lannhi": ("south", "female"),
    "linhsan": ("south", "female"),
}
# Quảng Trị is central: its listeners hear a central voice most easily.
DEFAULT_VOICE = "myan"
