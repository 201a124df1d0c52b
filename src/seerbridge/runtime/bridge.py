"""Opens everything a running seerbridge needs (store, clients, the pipeline) and closes it again."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Mapping
from datetime import date, datetime
from typing import Any

import httpx

from seerbridge.config import Settings
from seerbridge.pipeline.process import Bridge
from seerbridge.services.bundle import open_services
from seerbridge.store.db import open_database


@contextlib.asynccontextmanager
async def open_bridge(
    settings: Settings,
    transports: Mapping[str, httpx.AsyncBaseTransport] | None = None,
    *,
    today: Callable[[], date] | None = None,
    now: Callable[[], datetime] | None = None,
) -> AsyncIterator[Bridge]:
    """The store (migrated) and the four clients, wired into a Bridge; all closed on exit.

    `today`/`now` replace the wall clock (the demo and tests pass the emulators' virtual clock).
    """
    engine, sessions = await open_database(settings.database.url.get_secret_value())
    clock: dict[str, Any] = {}
    if today is not None:
        clock["today"] = today
    if now is not None:
        clock["now"] = now
    try:
        async with open_services(settings, transports) as services:
            yield Bridge(settings, services, sessions, **clock)
    finally:
        await engine.dispose()
