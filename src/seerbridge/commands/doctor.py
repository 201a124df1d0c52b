"""`seerbridge doctor`: checks each configured service in turn and explains every failure in one line."""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import posixpath
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit

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
    "library": "Library",
    "arr": "Radarr/Sonarr",
}


@dataclass(frozen=True)
class DoctorRow:
    service: str
    ok: bool
    version: str = ""
    summary: str = ""
    details: dict[str, str] = field(default_factory=dict)
    warning: bool = False  # ok, but something may well be wrong that doctor cannot tell for sure (shown as "warn")


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


async def _check_source(name: str, settings: Settings, transport: httpx.AsyncBaseTransport | None) -> DoctorRow:
    """One configured source (`sources.<name>`): its caps (Torznab) or its health and a search (Zilean)."""
    from seerbridge.services.bundle import source_client

    source = settings.sources[name]
    label = f"source {name}"
    if not source.enabled:
        return DoctorRow(label, True, "off", f"off (sources.{name}.enabled is false)")
    try:
        async with source_client(name, _quick(source), transport) as client:
            check = await client.check()
    except Exception as exc:  # doctor must explain anything, not crash
        url = redact(source.url.get_secret_value())
        if isinstance(exc, ServiceUnreachable):
            summary = f"cannot connect to {url}: is it running, and is SEERBRIDGE_SOURCES__{name.upper()}__URL right?"
        elif isinstance(exc, AuthenticationError):
            summary = f"the API key was refused; check SEERBRIDGE_SOURCES__{name.upper()}__API_KEY"
        else:
            summary = redact(str(exc))[:300]
        return DoctorRow(label, False, version=source.kind, summary=summary)
    summary = "; ".join(check.problems) if check.problems else "ok"
    return DoctorRow(
        label, check.ok, version=check.version or source.kind, summary=summary, details=dict(check.details)
    )


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
    """Check the database, the four services, one after another, then the library seerbridge writes, then the running
    seerbridge's Radarr/Sonarr servers as Seerr calls them."""
    from seerbridge.commands.doctor_arr import check_arr  # it builds on this module's rows

    transports = transports or {}
    rows = [await _check_database(settings)]
    for service in ("seerr", "jellyfin", "torrentio", "realdebrid"):
        if service == "torrentio" and not settings.torrentio.enabled:
            rows.append(DoctorRow(service, True, "off", "off (torrentio.enabled is false): the sources below search"))
            continue
        rows.append(await _check_service(service, settings, transports.get(service)))
    for name in settings.sources:
        rows.append(await _check_source(name, settings, transports.get(name)))
    jellyfin_ok = all(row.ok for row in rows if row.service == "jellyfin")
    rows.extend(await _check_library(settings, transports.get("jellyfin"), jellyfin_ok=jellyfin_ok))
    rows.extend(await check_arr(settings, transports.get("seerbridge")))
    return rows


# ----- the library ------------------------------------------------------------------------------------------------

LIBRARIES_PAGE = "in Jellyfin (Dashboard → Libraries)"
# A stale rclone mount (or a dead network share under the root) can block a stat for minutes: doctor gives up sooner.
DISK_TIMEOUT_S = 15.0
_LOOPBACK_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost")

T = TypeVar("T")


async def _off_the_loop(call: Callable[[], T], timeout_s: float) -> T:
    """`call()` in a daemon thread (a hung filesystem call never blocks the loop, nor the exit); TimeoutError after
    `timeout_s`."""
    loop = asyncio.get_running_loop()
    done: asyncio.Future[T] = loop.create_future()

    def settle(result: T | None, error: BaseException | None) -> None:
        if done.done():
            return
        if error is not None:
            done.set_exception(error)
        else:
            done.set_result(result)  # type: ignore[arg-type]

    def work() -> None:
        try:
            result, error = call(), None
        except BaseException as exc:  # handed to the awaiting coroutine
            result, error = None, exc
        with contextlib.suppress(RuntimeError):  # the loop is gone: nobody waits any more
            loop.call_soon_threadsafe(settle, result, error)

    threading.Thread(target=work, name="seerbridge-doctor-disk", daemon=True).start()
    return await asyncio.wait_for(done, timeout_s)


async def _disk_check(what: str, call: Callable[[], str | None]) -> str | None:
    """A filesystem check's one line (None: fine), also when it hangs or raises."""
    try:
        return await _off_the_loop(call, DISK_TIMEOUT_S)
    except TimeoutError:
        return f"{what} did not answer within {DISK_TIMEOUT_S:g}s: is the filesystem under it hung?"
    except Exception as exc:  # doctor must explain anything, not crash
        return redact(f"{what} cannot be checked: {type(exc).__name__}: {exc}")[:300]


def _is_loopback(host: str | None) -> bool:
    if not host:
        return False
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _host_of(url: str) -> str | None:
    try:
        return urlsplit(url).hostname
    except ValueError:
        return None


def _play_problems(settings: Settings) -> tuple[list[str], list[str], str | None]:
    """strm mode: (problems, warnings, the /play/ base) for the address strm entries hold."""
    server = settings.server
    base = server.play_base()
    if base is None:
        return (
            [
                f"strm entries need the address Jellyfin reaches seerbridge at, and server.host {server.host} is not "
                f"a loopback address: set SEERBRIDGE_SERVER__PUBLIC_URL (e.g. http://seerbridge:{server.port or 8787})"
            ],
            [],
            None,
        )
    shown = redact(base)
    source = "server.public_url" if server.public_url else "the address made of server.host and server.port"
    given = redact(server.public_url or base)
    try:
        parts = urlsplit(base)
        host, _ = parts.hostname, parts.port  # .port raises ValueError on a port that is not a number
    except ValueError:
        host, parts = None, None
    if parts is None or parts.scheme not in ("http", "https") or not host or parts.query or parts.fragment:
        return (
            [
                f"{source} {given!r} is not an http(s) URL with a host: set SEERBRIDGE_SERVER__PUBLIC_URL to the "
                "address Jellyfin reaches seerbridge at, e.g. http://seerbridge:8787"
            ],
            [],
            None,
        )
    problems: list[str] = []
    warnings: list[str] = []
    if not server.enabled:
        problems.append(
            "server.enabled is false, so nothing answers the strm entries' /play/ addresses: "
            "set SEERBRIDGE_SERVER__ENABLED=true"
        )
    jellyfin_host = _host_of(str(settings.jellyfin.url))
    if _is_loopback(host) and jellyfin_host and not _is_loopback(jellyfin_host):
        warnings.append(
            f"strm entries will hold {shown}/play/…, a loopback address, but Jellyfin is at {redact(jellyfin_host)}: "
            "unless Jellyfin runs on this host (and not in a container) it cannot reach that; "
            "set SEERBRIDGE_SERVER__PUBLIC_URL to an address Jellyfin reaches seerbridge at"
        )
    return problems, warnings, shown


async def _library_disk_rows(settings: Settings) -> list[DoctorRow]:
    """The root takes entries (symlinks too, in symlink mode); symlink: the mount is there; strm: /play/ is known."""
    from seerbridge.library.disk import LibraryDisk
    from seerbridge.library.mount import check_mount

    library = settings.library
    root = str(library.root)
    symlinks = library.mode == "symlink"
    problems: list[str] = []
    warnings: list[str] = []
    details = {"root": root}
    problem = await _disk_check(
        f"library.root {root}", lambda: LibraryDisk(Path(root)).check_writable(symlinks=symlinks)
    )
    if problem:
        problems.append(problem)
    if symlinks:
        mount = library.mount_path
        if not mount:
            problems.append(
                "library.mount_path is not set: set SEERBRIDGE_LIBRARY__MOUNT_PATH to the folder where the "
                "Real-Debrid mount (zurg + rclone) shows __all__, or use library.mode strm"
            )
        else:
            details["mount"] = mount
            problem = await _disk_check(f"library.mount_path {mount}", lambda: check_mount(Path(mount)))
            if problem:
                problems.append(problem)
    else:
        play_problems, warnings, base = _play_problems(settings)
        problems.extend(play_problems)
        if base:
            details["play"] = f"{base}/play/…"
    rows = [DoctorRow("library", False, summary=line) for line in problems]
    if not rows:
        rows.append(DoctorRow("library", True, summary="ok", details=details))
    rows.extend(DoctorRow("library", True, summary=line, warning=True) for line in warnings)
    rows[0] = replace(rows[0], version=library.mode)
    return rows


def _norm(path: str) -> str:
    """A path as Jellyfin lists it, compared loosely: forward slashes, no trailing slash, `.`/`..` resolved."""
    return posixpath.normpath(path.replace("\\", "/")) if path else ""


def _holds(location: str, path: str) -> bool:
    """Whether a library folder `location` is `path` or one of its parents."""
    location, path = _norm(location), _norm(path)
    if not location:
        return False
    return path == location or path.startswith(location.rstrip("/") + "/")


async def _library_jellyfin_rows(
    settings: Settings, transport: httpx.AsyncBaseTransport | None, *, jellyfin_ok: bool
) -> list[DoctorRow]:
    """Each section folder is in a Jellyfin library of its kind; what to add where one is not."""
    from seerbridge.library.naming import SECTIONS
    from seerbridge.library.sync import jellyfin_path
    from seerbridge.services.jellyfin import JellyfinClient

    if not jellyfin_ok:
        return [
            DoctorRow(
                "library",
                True,
                summary="could not check Jellyfin's libraries: the Jellyfin check failed (see its row)",
                warning=True,
            )
        ]
    try:
        async with JellyfinClient(_quick(settings.jellyfin), transport=transport) as jellyfin:
            folders = await jellyfin.virtual_folders()
    except Exception as exc:  # doctor must explain anything, not crash
        return [
            DoctorRow(
                "library", False, summary=f"could not list Jellyfin's libraries: {explain(exc, 'jellyfin', settings)}"
            )
        ]
    missing: list[str] = []
    optional: list[str] = []
    found: list[str] = []
    for (kind, is4k), section in SECTIONS.items():
        path = jellyfin_path(settings, section)
        collection, label = ("movies", "Movies") if kind == "movie" else ("tvshows", "Shows")
        holders = [f for f in folders if any(_holds(location, path) for location in f.locations)]
        right = [f for f in holders if f.collection_type == collection]
        if right:
            found.append(f"{section}/ ({right[0].name or 'unnamed'})")
            continue
        if holders:
            wrong = holders[0]
            line = (
                f"the folder {path} is in Jellyfin's library {wrong.name or 'unnamed'!r}, whose content type is "
                f"{wrong.collection_type or 'mixed'}: put it in a {label} library instead {LIBRARIES_PAGE}"
            )
        else:
            line = f"add a {label} library with the folder {path} {LIBRARIES_PAGE}"
        (optional if is4k else missing).append(line)
    rows = [DoctorRow("library", False, summary=line) for line in missing]
    if found:
        rows.append(DoctorRow("library", True, summary="Jellyfin's libraries hold " + ", ".join(found)))
    rows.extend(DoctorRow("library", True, summary=f"for 4K requests (optional): {line}") for line in optional)
    return rows


async def _check_library(
    settings: Settings, transport: httpx.AsyncBaseTransport | None, *, jellyfin_ok: bool
) -> list[DoctorRow]:
    """Rows labelled Library: one informative row when no library is written, else the disk's and Jellyfin's."""
    from seerbridge.library.sync import library_on

    library = settings.library
    if not library_on(settings):
        if not library.root:
            summary = (
                "no library is written (library.root is unset): files reach Jellyfin only through your own mount; "
                "set SEERBRIDGE_LIBRARY__ROOT to have seerbridge write one"
            )
            return [DoctorRow("library", True, "off", summary)]
        summary = (
            f"no library is written (library.mode is none): files reach Jellyfin only through your own mount; "
            f"set SEERBRIDGE_LIBRARY__MODE to strm or symlink to have seerbridge write one under {library.root}"
        )
        return [DoctorRow("library", True, "none", summary)]
    rows = await _library_disk_rows(settings)
    rows.extend(await _library_jellyfin_rows(settings, transport, jellyfin_ok=jellyfin_ok))
    return rows
