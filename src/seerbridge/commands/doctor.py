"""`seerbridge doctor`: checks each configured service in turn and explains every failure in one line."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TypeVar

import httpx

from seerbridge.config import ServiceSettings, Settings
from seerbridge.errors import (
    AuthenticationError,
    BadResponse,
    NotFound,
    PermissionDenied,
    RateLimited,
    ServiceError,
    ServiceTimeout,
    ServiceUnavailable,
    ServiceUnreachable,
)
from seerbridge.redact import redact

SERVICE_LABELS = {
    "database": "Database",
    "seerr": "Seerr",
    "jellyfin": "Jellyfin",
    "torrentio": "Torrentio",
    "realdebrid": "Real-Debrid",
}


@dataclass(frozen=True)
class DoctorRow:
    service: str
    ok: bool
    version: str = ""
    summary: str = ""
    details: dict[str, str] = field(default_factory=dict)


def _url_of(settings: Settings, service: str) -> str:
    section = getattr(settings, service)
    raw = section.url.get_secret_value() if hasattr(section.url, "get_secret_value") else section.url
    return redact(str(raw))


def explain(exc: Exception, service: str, settings: Settings) -> str:
    """One line a person can act on; never a traceback, never a secret."""
    prefix = f"SEERBRIDGE_{service.upper()}"
    url = _url_of(settings, service)
    if isinstance(exc, ServiceUnreachable):
        return f"cannot connect to {url}: is it running, and is {prefix}__URL right?"
    if isinstance(exc, ServiceTimeout):
        return f"{url} did not answer within {getattr(settings, service).timeout_s:g}s"
    if isinstance(exc, AuthenticationError):
        if service == "torrentio":
            return f"Torrentio refused the debrid key inside {prefix}__URL ({redact(exc.message)})"
        return f"the API key was refused ({exc.status} {exc.error or ''}); check {prefix}__API_KEY".replace(" )", ")")
    if isinstance(exc, PermissionDenied):
        return f"the account may not do this ({exc.error or exc.message or 'permission denied'})"
    if isinstance(exc, NotFound):
        return f"{url} answered 404: is {prefix}__URL the service's base address?"
    if isinstance(exc, RateLimited):
        return "rate limited right now (HTTP 429); try again in a minute"
    if isinstance(exc, ServiceUnavailable):
        return f"the service is failing (HTTP {exc.status}); try again later"
    if isinstance(exc, BadResponse):
        return f"{url} answered, but not like {SERVICE_LABELS[service]}: {exc.message}"
    if isinstance(exc, ServiceError):
        return redact(str(exc))
    return redact(f"{type(exc).__name__}: {exc}")


S = TypeVar("S", bound=ServiceSettings)


def _quick(section: S) -> S:
    """A check should answer in seconds: one retry at most, so a dead service fails fast and says why."""
    return section.model_copy(update={"retries": min(section.retries, 2), "retry_timeout_s": 10.0})


async def _check_service(service: str, settings: Settings, transport: httpx.AsyncBaseTransport | None) -> DoctorRow:
    from seerbridge.services.jellyfin import JellyfinClient
    from seerbridge.services.realdebrid import RealDebridClient
    from seerbridge.services.seerr import SeerrClient
    from seerbridge.services.torrentio import TorrentioClient

    keys = {
        "seerr": settings.seerr.api_key,
        "jellyfin": settings.jellyfin.api_key,
        "realdebrid": settings.realdebrid.api_key,
    }
    if service in keys and not keys[service].get_secret_value():
        return DoctorRow(service, False, summary=f"no API key: set SEERBRIDGE_{service.upper()}__API_KEY")
    try:
        if service == "seerr":
            async with SeerrClient(_quick(settings.seerr), transport=transport) as seerr:
                check = await seerr.check()
        elif service == "jellyfin":
            async with JellyfinClient(_quick(settings.jellyfin), transport=transport) as jellyfin:
                check = await jellyfin.check()
        elif service == "torrentio":
            async with TorrentioClient(_quick(settings.torrentio), transport=transport) as torrentio:
                check = await torrentio.check()
        else:
            async with RealDebridClient(_quick(settings.realdebrid), transport=transport) as realdebrid:
                check = await realdebrid.check()
    except Exception as exc:  # doctor must explain anything, not crash
        return DoctorRow(service, False, summary=explain(exc, service, settings))
    summary = "; ".join(check.problems) if check.problems else "ok"
    return DoctorRow(service, check.ok, version=check.version or "", summary=summary, details=dict(check.details))


async def _check_database(settings: Settings) -> DoctorRow:
    """Reachable, and at this seerbridge's schema; doctor changes nothing (only `run` and `db upgrade` migrate)."""
    from seerbridge.store.db import DatabaseError, DatabaseNew, open_database
    from seerbridge.store.migrate import current_revision

    url = settings.database.url.get_secret_value()
    backend = url.split("+", 1)[0]
    try:
        engine, _ = await open_database(url, migrate=False)
        try:
            revision = await current_revision(engine)
        finally:
            await engine.dispose()
    except DatabaseNew as exc:
        return DoctorRow("database", True, version=backend, summary=str(exc), details={"schema": "none"})
    except DatabaseError as exc:
        return DoctorRow("database", False, version=backend, summary=str(exc))
    except Exception as exc:  # doctor must explain anything, not crash
        return DoctorRow("database", False, summary=redact(f"{type(exc).__name__}: {exc}")[:300])
    return DoctorRow("database", True, version=backend, summary="ok", details={"schema": revision or "none"})


async def run_doctor(
    settings: Settings, transports: Mapping[str, httpx.AsyncBaseTransport] | None = None
) -> list[DoctorRow]:
    """Check the database and the four services, one after another."""
    transports = transports or {}
    rows = [await _check_database(settings)]
    for service in ("seerr", "jellyfin", "torrentio", "realdebrid"):
        rows.append(await _check_service(service, settings, transports.get(service)))
    return rows
