"""The four clients built from settings, opened and closed together."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass

import httpx

from seerbridge.config import Settings
from seerbridge.services.jellyfin import JellyfinClient
from seerbridge.services.realdebrid import RealDebridClient
from seerbridge.services.seerr import SeerrClient
from seerbridge.services.torrentio import TorrentioClient


@dataclass(frozen=True)
class Services:
    seerr: SeerrClient
    jellyfin: JellyfinClient
    torrentio: TorrentioClient
    realdebrid: RealDebridClient


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
    ):
        yield Services(seerr, jellyfin, torrentio, realdebrid)
