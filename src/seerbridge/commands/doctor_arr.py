"""`seerbridge doctor`'s rows for seerbridge as Seerr's Radarr and Sonarr: each of the four servers called as Seerr's
"Test" button calls it (system status, quality profiles, root folders, tags), on the running seerbridge."""

from __future__ import annotations

from typing import Any

import httpx

from seerbridge.arr.servers import SERVERS, Server
from seerbridge.commands.doctor import DoctorRow
from seerbridge.config import Settings
from seerbridge.redact import redact

SERVICE = "arr"
TIMEOUT_S = 10.0  # Seerr's own limit (network.apiRequestTimeout)


def address(settings: Settings) -> str:
    """Where doctor reaches the running seerbridge: its public URL, else its own host and port on this machine."""
    server = settings.server
    if server.public_url:
        return server.public_url.rstrip("/")
    host = "127.0.0.1" if server.host in ("0.0.0.0", "", "::") else server.host
    host = f"[{host}]" if ":" in host else host
    return f"http://{host}:{server.port}"


class _Refused(Exception):
    pass


class _Failed(Exception):
    pass


async def _call(client: httpx.AsyncClient, server: Server, path: str, key: str) -> Any:
    response = await client.get(f"{server.base}/api/v3{path}", params={"apikey": key})
    if response.status_code == 401:
        raise _Refused
    if response.status_code != 200:  # the URL carries the key: say the status, not the exception's text
        raise _Failed(f"{path} answered HTTP {response.status_code}")
    return response.json()


async def _one(client: httpx.AsyncClient, server: Server, key: str) -> tuple[str, str, dict[str, str]]:
    """(version, problem or "", details) for one server, as Seerr's Test would see it."""
    status = await _call(client, server, "/system/status", key)
    version = str(status.get("version", "")) if isinstance(status, dict) else ""
    profiles = await _call(client, server, "/qualityProfile", key)  # Seerr's spelling
    roots = await _call(client, server, "/rootfolder", key)
    await _call(client, server, "/tag", key)
    if not isinstance(profiles, list) or not profiles:
        return version, "lists no quality profile", {}
    if not isinstance(roots, list) or not roots:
        return version, "lists no root folder", {}
    details = {
        "quality profiles": ", ".join(str(p.get("name")) for p in profiles),
        "root folder": str(roots[0]["path"]),
    }
    return version, "", details


async def check_arr(settings: Settings, transport: httpx.AsyncBaseTransport | None = None) -> list[DoctorRow]:
    """One row per server; a single informative row when the feature is off or seerbridge is not running."""
    key = settings.arr.api_key.get_secret_value()
    if not key:
        summary = (
            "off: set SEERBRIDGE_ARR__API_KEY, then add seerbridge in Seerr (Settings → Services) as Radarr "
            "(/radarr, /radarr-4k) and Sonarr (/sonarr, /sonarr-4k)"
        )
        return [DoctorRow(SERVICE, True, "off", summary)]
    if not settings.server.enabled:
        return [DoctorRow(SERVICE, False, summary="server.enabled is off: Seerr cannot reach the Radarr/Sonarr API")]
    base = address(settings)
    rows = []
    async with httpx.AsyncClient(base_url=base, timeout=TIMEOUT_S, transport=transport) as client:
        for server in SERVERS:
            label = f"{server.label} at {server.base}"
            try:
                version, problem, details = await _one(client, server, key)
            except (httpx.ConnectError, httpx.ConnectTimeout):
                summary = f"nothing answers at {redact(base)}: start `seerbridge run`, then Seerr's Test passes"
                return [DoctorRow(SERVICE, True, summary=summary, warning=True)]
            except _Refused:
                rows.append(DoctorRow(SERVICE, False, summary=f"{label}: the running seerbridge refused the API key"))
                continue
            except _Failed as exc:
                rows.append(DoctorRow(SERVICE, False, summary=f"{label}: {exc}"))
                continue
            except (httpx.HTTPError, ValueError, KeyError, TypeError, AttributeError) as exc:
                what = "did not answer in time" if isinstance(exc, httpx.TimeoutException) else type(exc).__name__
                rows.append(DoctorRow(SERVICE, False, summary=redact(f"{label}: {what}")))
                continue
            ok = not problem
            summary = f"{label}: " + (problem or "answers as Seerr calls it")
            rows.append(DoctorRow(SERVICE, ok, version=version, summary=summary, details=details))
    return rows
