"""Seerr's `/settings/radarr` and `/settings/sonarr` routes (server/routes/settings/{radarr,sonarr}.ts, v3.1.0).

Admin only. The body is validated against the spec's `RadarrSettings`/`SonarrSettings` (test: hostname, port,
apiKey, useSsl) before anything else, then kept as sent. Differences between the two files are kept: a missing id
answers Radarr's `{"message"}` but Sonarr's `{"status": "404", "message"}`, only Radarr has `/{id}/profiles`, and
Sonarr checks `activeAnimeProfileId` against the server's profiles (422) when one is given.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from seerbridge.sandbox.seerr_models import SeerrFailure
from seerbridge.sandbox.seerr_servarr import Servarr
from seerbridge.sandbox.seerr_servarr_client import SETTINGS_CLASSES, ServarrCallError, ServarrKind
from seerbridge.sandbox.seerr_validate import Checker, Schema

_NUMBER = {"type": "number"}
_STRING = {"type": "string"}
_BOOLEAN = {"type": "boolean"}
_COMMON: dict[str, Any] = {
    "id": _NUMBER,
    "name": _STRING,
    "hostname": _STRING,
    "port": _NUMBER,
    "apiKey": _STRING,
    "useSsl": _BOOLEAN,
    "baseUrl": _STRING,
    "activeProfileId": _NUMBER,
    "activeProfileName": _STRING,
    "activeDirectory": _STRING,
    "is4k": _BOOLEAN,
    "isDefault": _BOOLEAN,
    "externalUrl": _STRING,
    "syncEnabled": _BOOLEAN,
    "preventSearch": _BOOLEAN,
}
_REQUIRED = ["name", "hostname", "port", "apiKey", "useSsl", "activeProfileId", "activeProfileName", "activeDirectory"]
SETTINGS_SCHEMAS: dict[ServarrKind, Schema] = {
    "radarr": {
        "type": "object",
        "required": [*_REQUIRED, "is4k", "minimumAvailability", "isDefault"],
        "properties": {**_COMMON, "minimumAvailability": _STRING},
    },
    "sonarr": {
        "type": "object",
        "required": [*_REQUIRED, "is4k", "enableSeasonFolders", "isDefault"],
        "properties": {
            **_COMMON,
            "activeLanguageProfileId": _NUMBER,
            "activeAnimeProfileId": {"type": "number", "nullable": True},
            "activeAnimeLanguageProfileId": {"type": "number", "nullable": True},
            "activeAnimeProfileName": {"type": "string", "nullable": True},
            "activeAnimeDirectory": {"type": "string", "nullable": True},
            "enableSeasonFolders": _BOOLEAN,
        },
    },
}
TEST_SCHEMA: Schema = {
    "type": "object",
    "required": ["hostname", "port", "apiKey", "useSsl"],
    "properties": {"hostname": _STRING, "port": _NUMBER, "apiKey": _STRING, "useSsl": _BOOLEAN, "baseUrl": _STRING},
}
NOT_FOUND = "Settings instance not found"


def build_routes(router: APIRouter) -> None:
    """Add the routes for both kinds to Seerr's `/api/v1` router (before its catch-all)."""
    for kind in ("radarr", "sonarr"):
        _kind_routes(router, kind)


def _kind_routes(router: APIRouter, kind: ServarrKind) -> None:
    from seerbridge.sandbox import seerr as api  # the app module; imported late, as it imports this one

    def body_of(raw: Any, schema: Schema, check: Checker | None = None) -> dict[str, Any]:
        check = check or Checker()
        check.value(".body", {} if raw is None else raw, schema)
        check.done()
        assert isinstance(raw, dict)
        return raw

    def server_id(raw: str, check: Checker) -> int:
        value = check.value(f".params.{kind}Id", raw, {"type": "integer"}, coerce=True)
        return int(value) if isinstance(value, int | float) else -1

    def not_found() -> Response:
        body = {"message": NOT_FOUND} if kind == "radarr" else {"status": "404", "message": NOT_FOUND}
        return api.SeerrJSON(body, status_code=404)

    async def anime_profile_refused(hub: Servarr, body: dict[str, Any]) -> Response | None:
        """Sonarr's check of `activeAnimeProfileId`; an unreachable server only logs a warning."""
        wanted = body.get("activeAnimeProfileId")
        if kind != "sonarr" or not wanted:
            return None
        try:
            async with hub.client(SETTINGS_CLASSES[kind].model_validate(body)) as client:
                profiles = await client.get("/qualityProfile") or []
        except ServarrCallError:
            return None
        if any(p.get("id") == wanted for p in profiles):
            return None
        message = (
            f"Anime quality profile with ID {wanted} does not exist on this Sonarr server. "
            "Please select a valid profile."
        )
        return api.SeerrJSON({"status": "422", "message": message}, status_code=422)

    base = f"/settings/{kind}"

    @router.get(base)
    async def list_servers(request: Request) -> Response:
        api._query(request)
        api._require_manager(api._authenticate(request))
        hub = api._state(request).servarr
        return api.SeerrJSON([s.wire() for s in hub.servers[kind]])

    @router.post(base)
    async def create_server(request: Request) -> Response:
        raw = await api._json_body(request)
        api._query(request)
        body = body_of(raw, SETTINGS_SCHEMAS[kind])
        api._require_manager(api._authenticate(request))
        hub = api._state(request).servarr
        refused = await anime_profile_refused(hub, body)
        if refused is not None:
            return refused
        server = hub.create(kind, SETTINGS_CLASSES[kind].model_validate(body))
        return api.SeerrJSON(server.wire(), status_code=201)

    @router.post(f"{base}/test")
    async def test_server(request: Request) -> Response:
        raw = await api._json_body(request)
        api._query(request)
        body = body_of(raw, TEST_SCHEMA)
        api._require_manager(api._authenticate(request))
        return api.SeerrJSON(await api._state(request).servarr.test(kind, body))

    @router.put(base + "/{raw_id}")
    async def update_server(request: Request, raw_id: str) -> Response:
        raw = await api._json_body(request)
        api._query(request)
        check = Checker()
        wanted = server_id(raw_id, check)
        body = body_of(raw, SETTINGS_SCHEMAS[kind], check)
        api._require_manager(api._authenticate(request))
        hub = api._state(request).servarr
        if not any(s.id == wanted for s in hub.servers[kind]):
            return not_found()
        refused = await anime_profile_refused(hub, body)
        if refused is not None:
            return refused
        server = hub.replace(kind, wanted, SETTINGS_CLASSES[kind].model_validate(body))
        return api.SeerrJSON(server.wire()) if server is not None else not_found()

    @router.delete(base + "/{raw_id}")
    async def delete_server(request: Request, raw_id: str) -> Response:
        api._query(request)
        check = Checker()
        wanted = server_id(raw_id, check)
        check.done()
        api._require_manager(api._authenticate(request))
        removed = api._state(request).servarr.remove(kind, wanted)
        return api.SeerrJSON(removed.wire()) if removed is not None else not_found()

    if kind == "radarr":

        @router.get(base + "/{raw_id}/profiles")
        async def server_profiles(request: Request, raw_id: str) -> Response:
            api._query(request)
            check = Checker()
            wanted = server_id(raw_id, check)
            check.done()
            api._require_manager(api._authenticate(request))
            hub = api._state(request).servarr
            server = next((s for s in hub.servers[kind] if s.id == wanted), None)
            if server is None:
                return not_found()
            try:
                async with hub.client(server) as client:
                    profiles = await client.get("/qualityProfile") or []
            except ServarrCallError:
                # The route has no try/catch: Express 4 never answers a rejected async handler; 500 is the closest.
                raise SeerrFailure(500, "Failed to retrieve profiles") from None
            return api.SeerrJSON([{"id": p.get("id"), "name": p.get("name")} for p in profiles])
