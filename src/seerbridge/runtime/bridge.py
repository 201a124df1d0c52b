"""Opens everything a running seerbridge needs (store, clients, the pipeline) and closes it again."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Mapping

import httpx

from seerbridge import clock as program_clock
from seerbridge.config import Settings
from seerbridge.pipeline.process import Bridge
from seerbridge.services.bundle import open_services
from seerbridge.store.db import open_database


@contextlib.asynccontextmanager
async def open_bridge(
    settings: Settings,
    transports: Mapping[str, httpx.AsyncBaseTransport] | None = None,
    *,
    clock: program_clock.Clock | None = None,
) -> AsyncIterator[Bridge]:
    """The store (migrated) and the four clients, wired into a Bridge; all closed on exit.

    `clock` becomes the program's clock while the bridge is open (the demo and tests pass the emulators' virtual
    clock, so the store, the pipeline and the services all read the scenario's time).
    """
    with program_clock.use(clock):
        engine, sessions = await open_database(settings.database.url.get_secret_value())
        try:
            async with open_services(settings, transports) as services:
                yield Bridge(settings, services, sessions)
        finally:
            await engine.dispose()
