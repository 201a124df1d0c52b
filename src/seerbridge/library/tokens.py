"""Signed, unguessable tokens for `/play/` addresses: `<entry id>.<signature>`, checked in constant time.

The signature is HMAC-SHA256 of the entry id under a secret kept in the store (made once per installation), cut to
128 bits: enough that guessing one is hopeless, short enough for a tidy .strm file. A token names a library entry,
not a torrent, so the same .strm keeps working when an upgrade or a repair changes the file behind it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

_SIG_BYTES = 16
_MAX_ID_DIGITS = 18


def new_secret() -> str:
    """A fresh secret for signing tokens (stored once, never logged)."""
    return secrets.token_urlsafe(32)


def _signature(entry_id: int, secret: str) -> str:
    mac = hmac.new(secret.encode(), f"play:{entry_id}".encode(), hashlib.sha256).digest()[:_SIG_BYTES]
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")


def sign(entry_id: int, secret: str) -> str:
    """The token for library entry `entry_id`."""
    return f"{entry_id}.{_signature(entry_id, secret)}"


def verify(token: str, secret: str) -> int | None:
    """The entry id a token names, or None for anything forged, truncated or malformed."""
    head, dot, sig = token.partition(".")
    if not dot or not secret or not head.isascii() or not head.isdigit() or len(head) > _MAX_ID_DIGITS:
        return None
    if head != str(int(head)):  # one spelling per id: no leading zeros
        return None
    entry_id = int(head)
    return entry_id if hmac.compare_digest(sig.encode(), _signature(entry_id, secret).encode()) else None
