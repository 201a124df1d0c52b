"""The clients built from settings (the four services and every configured source), opened and closed together."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field

import httpx

from seerbridge.config import Settings, SourceSettings
from seerbridge.services.jellyfin import JellyfinClient
from seerbridge.services.realdebrid import RealDebridClient
from seerbridge.services.seerr import SeerrClient
from seerbridge.services.torrentio import TorrentioClient
from seerbridge.services.torznab import TorznabClient
from seerbridge.services.zilean import ZileanClient

SourceClient = TorznabClient | ZileanClient


@dataclass(frozen=True)
class Services:
    seerr: SeerrClient
    jellyfin: JellyfinClient
    torrentio: TorrentioClient
    realdebrid: RealDebridClient
    sources: dict[str, SourceClient] = field(default_factory=dict)  # the enabled `sources`, by name, in order


def source_client(
    name: str, settings: SourceSettings, transport: httpx.AsyncBaseTransport | None = None
) -> SourceClient:
    """The client for one configured source, by its kind."""
    if settings.kind == "torznab":
        return TorznabClient(name, settings, transport=transport)
    return ZileanClient(name, settings, transport=transport)


@contextlib.asynccontextmanager
async def open_services(
    settings: Settings, transports: Mapping[str, httpx.AsyncBaseTransport] | None = None
) -> AsyncIterator[Services]:
    """Clients for every service; `transports` (by service name) lets tests and the demo use in-process emulators."""
    transports = transports or {}
    async with (
        SeerrClient(settings.seerr, transport=transports.get("seerr")) as seerr,
        JellyfinClient(settings.jellyfin, transport=transports.get("jellyfin")) as jellyfin,
        TorrentioClient(settings.torrentio, transport=transports.get("torrentio")) as torrentio,
        RealDebridClient(settings.realdebrid, transport=transports.get("realdebrid")) as realdebrid,
        contextlib.AsyncExitStack() as stack,
    ):
        sources: dict[str, SourceClient] = {}
        for name, source in settings.sources.items():
            if source.enabled:
                client = source_client(name, source, transports.get(name))
                sources[name] = await stack.enter_async_context(client)
        yield Services(seerr, jellyfin, torrentio, realdebrid, sources)
