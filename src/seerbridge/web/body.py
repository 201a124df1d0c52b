"""Reading a request body by hand: capped in size, strict JSON, so every refusal carries our own clear message."""

from __future__ import annotations

import json
from typing import Any

from fastapi import Request

MAX_BODY_BYTES = 1 << 20
"""Seerr's bodies are a few kB (a webhook's message is cut at 500 characters); anything far larger is not Seerr."""


class TooLarge(Exception):
    pass


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def parse_json(raw: bytes) -> Any:
    """The JSON value in `raw`; ValueError for anything that is not strict JSON (NaN, bad UTF-8, absurd depth)."""
    try:
        return json.loads(raw, parse_constant=_reject_constant)
    except RecursionError as exc:  # json's C scanner recurses once per nesting level
        raise ValueError("nested too deeply") from exc
    # ValueError covers JSONDecodeError, UnicodeDecodeError and ints past Python's digit limit.


async def read_capped(request: Request) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isascii() and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise TooLarge
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise TooLarge
        chunks.append(chunk)
    return b"".join(chunks)
