"""Keeps secrets out of logs, errors and output: a registry of secret strings and a masking function."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable

MASK = "***"
# Shorter values would mask ordinary words; real keys are far longer.
_MIN_SECRET_LEN = 6
_lock = threading.Lock()
_secrets: set[str] = set()
_pattern: re.Pattern[str] | None = None

# Debrid keys sit in Torrentio config segments (`realdebrid=KEY`) and resolve URLs (`/resolve/realdebrid/KEY/`).
_TORRENTIO_KEY = re.compile(
    r"(?P<pre>(?:realdebrid|premiumize|alldebrid|debridlink|easydebrid|offcloud|torbox|putio)(?:=|%3D|/))"
    r"(?P<key>[^|/%&?#\s]+)",
    re.IGNORECASE,
)


def register(*values: str | None) -> None:
    """Remember secret values so that `redact` masks them wherever they appear."""
    global _pattern
    with _lock:
        for value in values:
            if value and len(value) >= _MIN_SECRET_LEN:
                _secrets.add(value)
        ordered = sorted(_secrets, key=len, reverse=True)
        _pattern = re.compile("|".join(re.escape(s) for s in ordered)) if ordered else None


def registered() -> Iterable[str]:
    return tuple(_secrets)


def redact(text: str) -> str:
    """Mask every registered secret and every debrid key in a Torrentio-style path."""
    if _pattern is not None:
        text = _pattern.sub(MASK, text)
    return _TORRENTIO_KEY.sub(lambda m: m.group("pre") + MASK, text)


def torrentio_keys(url: str) -> list[str]:
    """The debrid keys carried in a Torrentio base URL's config segment."""
    return [m.group("key") for m in _TORRENTIO_KEY.finditer(url)]
