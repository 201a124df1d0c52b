"""Reading a magnet URI as the emulated debrid services do: its info hash (hex or base32) and its display name."""

from __future__ import annotations

import base64
import binascii
import re
from urllib.parse import parse_qs

_BTIH = re.compile(r"^urn:btih:([0-9a-fA-F]{40}|[A-Za-z2-7]{32})$")


def read_magnet(magnet: str) -> tuple[str, str | None] | None:
    """The lower-case hex info hash and the `dn` of a magnet URI; None when it is not a usable magnet."""
    if not magnet.lower().startswith("magnet:?"):
        return None
    query = parse_qs(magnet[len("magnet:?") :], keep_blank_values=True)
    dn = next((v for v in query.get("dn", []) if v), None)
    for xt in query.get("xt", []):
        m = _BTIH.match(xt.strip())
        if m is None:
            continue
        raw = m.group(1)
        if len(raw) == 40:
            return raw.lower(), dn
        try:
            return base64.b32decode(raw.upper()).hex(), dn
        except binascii.Error:
            continue
    return None
