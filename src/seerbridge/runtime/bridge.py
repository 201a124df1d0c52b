"""Opens everything a running seerbridge needs (store, clients, the pipeline) and closes it again."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Mapping
from datetime import date

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
) -> AsyncIterator[Bridge]:
    """The store (migrated) and the four clients, wired into a Bridge; all closed on exit."""
    engine, sessions = await open_database(settings.database.url.get_secret_value())
    try:
        async with open_services(settings, transports) as services:
            if today is None:
                yield Bridge(settings, services, sessions)
            else:
                yield Bridge(settings, services, sessions, today=today)
    finally:
        await engine.dispose()
