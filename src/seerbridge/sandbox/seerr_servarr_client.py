"""Seerr's Radarr/Sonarr server settings (`DVRSettings`) and the HTTP client Seerr calls them with (`ServarrBase`).

Followed from Seerr v3.1.0 (server/lib/settings/index.ts, server/api/servarr/base.ts, server/api/externalapi.ts):
the URL is `${useSsl ? "https" : "http"}://${hostname}:${port}${baseUrl ?? ""}/api/v3` (the port always written),
the key goes as the `apikey` query parameter, bodies are JSON, and each call has the 10 s `apiRequestTimeout`.
Any non-2xx answer, transport error or timeout is an error, as axios makes it.
"""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar, Literal

import httpx
from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

ServarrKind = Literal["radarr", "sonarr"]
DEFAULT_TIMEOUT = 10.0  # network.apiRequestTimeout's default, in seconds


class DVRSettings(BaseModel):
    """One server as Seerr stores it: the settings JSON is kept as sent (unknown keys too), camelCase on the wire."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="allow")
    kind: ClassVar[ServarrKind]

    id: int = 0
    name: str = ""
    hostname: str = "localhost"
    port: int = 80
    api_key: str = ""
    use_ssl: bool = False
    base_url: str | None = None
    active_profile_id: int = 1
    active_profile_name: str = ""
    active_directory: str = ""
    is4k: bool = Field(False, alias="is4k")  # to_camel would write "is4K"
    is_default: bool = False
    external_url: str | None = None
    sync_enabled: bool = False
    prevent_search: bool = False
    tags: list[int] = []
    tag_requests: bool = False

    def wire(self) -> dict[str, Any]:
        """The settings as `GET /settings/{radarr,sonarr}` sends them: the keys given (Seerr stores the body as sent),
        plus `id` and any `isDefault` it changed; the defaults here only shape the calls."""
        return self.model_dump(by_alias=True, exclude_unset=True)

    def same_host(self, other: DVRSettings) -> bool:
        """Seerr's de-duplication of servers for scans and the download tracker: same hostname, port and baseUrl."""
        return (self.hostname, self.port, self.base_url) == (other.hostname, other.port, other.base_url)


class RadarrSettings(DVRSettings):
    kind: ClassVar[ServarrKind] = "radarr"
    minimum_availability: str = "released"


class SonarrSettings(DVRSettings):
    kind: ClassVar[ServarrKind] = "sonarr"
    active_language_profile_id: int | None = None
    active_anime_profile_id: int | None = None
    active_anime_profile_name: str | None = None
    active_anime_directory: str | None = None
    active_anime_language_profile_id: int | None = None
    anime_tags: list[int] | None = None
    series_type: str = "standard"
    anime_series_type: str | None = None
    enable_season_folders: bool = True


SETTINGS_CLASSES: dict[ServarrKind, type[DVRSettings]] = {"radarr": RadarrSettings, "sonarr": SonarrSettings}


def build_url(server: DVRSettings, path: str = "/api/v3") -> str:
    """`ServarrBase.buildUrl`."""
    scheme = "https" if server.use_ssl else "http"
    return f"{scheme}://{server.hostname}:{server.port}{server.base_url or ''}{path}"


class ServarrCallError(Exception):
    """A Radarr/Sonarr call that axios would have thrown for: `status` is the HTTP status, None when none came."""

    def __init__(self, message: str, *, status: int | None = None, body: Any = None) -> None:
        super().__init__(message)
        self.status = status
        self.body = body


class ServarrClient:
    """Calls one server as Seerr does. `transport` (e.g. an `httpx.ASGITransport`) replaces the network."""

    def __init__(
        self,
        server: DVRSettings,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        self.server = server
        self.timeout = timeout
        self._http = httpx.AsyncClient(
            base_url=build_url(server),
            params={"apikey": server.api_key},
            headers={"Content-Type": "application/json", "Accept": "application/json"},
            timeout=timeout,
            transport=transport,
        )

    async def __aenter__(self) -> ServarrClient:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self._http.aclose()

    async def call(self, method: str, path: str, *, params: dict[str, Any] | None = None, body: Any = None) -> Any:
        """One call; returns the parsed JSON answer (None when empty) or raises ServarrCallError."""
        label = f"{method} {path}"
        try:
            # The transport may be in-process (ASGI), where httpx's own timeout never fires; axios's does.
            async with asyncio.timeout(self.timeout):
                response = await self._http.request(method, path, params=params, json=body)
        except TimeoutError:
            raise ServarrCallError(f"{label}: timeout of {int(self.timeout * 1000)}ms exceeded") from None
        except httpx.HTTPError as exc:
            raise ServarrCallError(f"{label}: {exc!r}") from None
        try:
            data = response.json() if response.content else None
        except ValueError:
            data = response.text
        if not response.is_success:
            message = f"{label}: Request failed with status code {response.status_code}"
            raise ServarrCallError(message, status=response.status_code, body=data)
        return data

    async def get(self, path: str, **params: Any) -> Any:
        return await self.call("GET", path, params=params or None)

    async def post(self, path: str, body: Any) -> Any:
        return await self.call("POST", path, body=body)

    async def put(self, path: str, body: Any) -> Any:
        return await self.call("PUT", path, body=body)

    async def command(self, name: str, **options: Any) -> None:
        """`ServarrBase.runCommand`: `POST /command {"name": ..., ...options}`."""
        await self.post("/command", {"name": name, **options})
