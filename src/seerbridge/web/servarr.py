"""The Radarr and Sonarr v3 routes Seerr calls, at `/radarr`, `/radarr-4k`, `/sonarr` and `/sonarr-4k`.

Each route parses, asks the facade (arr/facade.py) and answers as the real servers do: POST 201, PUT 202, GET and
DELETE 200; a missing or wrong API key 401 (the key is accepted as `?apikey=`, which Seerr sends, `X-Api-Key` or
`Authorization: Bearer`); validation failures 400 with FluentValidation's JSON array; 404 `{message}`. Paths are
matched case-insensitively, as ASP.NET does (Seerr calls `/qualityProfile`). Seerr itself is asked when a title is
looked up for the first time; when it cannot be reached the answer is 503 with the reason.

The routes are left out of seerbridge's own OpenAPI document: their contract is Radarr's and Sonarr's specs.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from seerbridge.arr.facade import ArrError, ArrFacade
from seerbridge.arr.servers import SERVERS, Server
from seerbridge.errors import ServiceError
from seerbridge.web.body import TooLarge, parse_json, read_capped

log = structlog.get_logger("seerbridge.web")

Handler = Callable[[Request, Server], Awaitable[Any]]


class CaseInsensitiveServarr:
    """Lower-cases the path of requests to the four servers, so `/Radarr/api/v3/qualityProfile` is routed."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.bases = tuple(s.base for s in SERVERS)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path: str = scope["path"]
            lowered = path.lower()
            if any(lowered == b or lowered.startswith(b + "/") for b in self.bases) and lowered != path:
                scope = {**scope, "path": lowered, "raw_path": lowered.encode()}
        await self.app(scope, receive, send)


def _given_key(request: Request) -> str | None:
    if "apikey" in request.query_params:
        return request.query_params["apikey"]
    if "x-api-key" in request.headers:
        return request.headers["x-api-key"]
    bearer = request.headers.get("authorization", "")
    return bearer[7:].strip() if bearer.lower().startswith("bearer ") else None


def _authorized(request: Request, key: str) -> bool:
    given = _given_key(request)
    return bool(key) and given is not None and hmac.compare_digest(given.encode(), key.encode())


async def _body(request: Request) -> Any:
    try:
        return parse_json(await read_capped(request))
    except (TooLarge, ValueError) as exc:
        raise ArrError(400, {"message": "the body is not JSON", "description": type(exc).__name__}) from exc


def _digits(raw: str) -> bool:
    # str.isdigit() is true for "²" too, which int() refuses; ids are int32.
    return raw.isascii() and raw.isdigit() and len(raw) <= 9


def _id(raw: str) -> int:
    if not _digits(raw):
        raise ArrError(404, {"message": "Not Found"})
    return int(raw)


def _query(request: Request, name: str) -> str:
    """A query parameter by its lower-case name: Radarr binds them case-insensitively (`tmdbId`, `deleteFiles`)."""
    for key, value in request.query_params.multi_items():
        if key.lower() == name:
            return value
    return ""


def _query_int(request: Request, name: str) -> int | None:
    raw = _query(request, name)
    return int(raw) if _digits(raw) else None


def _flag(request: Request, name: str) -> bool:
    return _query(request, name).lower() == "true"


def add_servarr_routes(app: FastAPI, facade: ArrFacade | None, api_key: str) -> None:
    """The four servers on `app`; without a facade (or a key) every call to them answers 401."""
    app.add_middleware(CaseInsensitiveServarr)
    for server in SERVERS:
        app.include_router(_router(server, facade, api_key), include_in_schema=False)


def _router(server: Server, facade: ArrFacade | None, api_key: str) -> APIRouter:
    router = APIRouter(prefix=server.base + "/api/v3")
    noun = "movie" if server.app == "radarr" else "series"

    def route(path: str, method: str, status: int = 200) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            async def endpoint(request: Request) -> Response:
                if facade is None or not _authorized(request, api_key):
                    log.warning("refused a call to the Radarr/Sonarr API: wrong or missing API key", server=server.base)
                    return JSONResponse({"message": "Unauthorized"}, status_code=401)
                try:
                    answer = await handler(request, server)
                except ArrError as exc:
                    return JSONResponse(exc.body, status_code=exc.status)
                except ServiceError as exc:
                    log.warning("a Radarr/Sonarr call needed Seerr, which failed", server=server.base, error=str(exc))
                    return JSONResponse({"message": "Seerr could not be asked", "description": str(exc)}, 503)
                if answer is None:
                    return Response(status_code=status)
                return JSONResponse(answer, status_code=status)

            router.add_api_route(path, endpoint, methods=[method], name=f"{server.base}{path}:{method}")
            return handler

        return register

    def arr() -> ArrFacade:
        assert facade is not None
        return facade

    @route("/system/status", "GET")
    async def status(_r: Request, s: Server) -> Any:
        return arr().status(s)

    @route("/qualityprofile", "GET")
    async def profiles(_r: Request, _s: Server) -> Any:
        return await arr().profiles()

    @route("/rootfolder", "GET")
    async def roots(_r: Request, s: Server) -> Any:
        return arr().root_folders(s)

    @route("/tag", "GET")
    async def tags(_r: Request, _s: Server) -> Any:
        return await arr().tags()

    @route("/tag", "POST", 201)
    async def add_tag(r: Request, _s: Server) -> Any:
        return await arr().add_tag(await _body(r))

    @route("/tag/{tag_id}", "GET")
    async def get_tag(r: Request, _s: Server) -> Any:
        return await arr().tag(_id(r.path_params["tag_id"]))

    @route("/tag/{tag_id}", "PUT", 202)
    async def put_tag(r: Request, _s: Server) -> Any:
        return await arr().rename_tag(_id(r.path_params["tag_id"]), await _body(r))

    if server.app == "sonarr":

        @route("/languageprofile", "GET")
        async def languages(_r: Request, _s: Server) -> Any:
            from seerbridge.arr.resources import language_profiles

            return language_profiles()

    @route(f"/{noun}", "GET")
    async def titles(r: Request, s: Server) -> Any:
        return await arr().titles(s, tmdb_id=_query_int(r, "tmdbid"), tvdb_id=_query_int(r, "tvdbid"))

    @route(f"/{noun}/lookup", "GET")
    async def lookup(r: Request, s: Server) -> Any:
        return await arr().lookup(s, _query(r, "term"))

    @route(f"/{noun}", "POST", 201)
    async def add(r: Request, s: Server) -> Any:
        return await arr().add(s, await _body(r))

    @route(f"/{noun}", "PUT", 202)
    async def update(r: Request, s: Server) -> Any:
        return await arr().update(s, await _body(r), None)

    @route(f"/{noun}/{{title_id}}", "PUT", 202)
    async def update_at(r: Request, s: Server) -> Any:
        return await arr().update(s, await _body(r), _id(r.path_params["title_id"]))

    @route(f"/{noun}/{{title_id}}", "GET")
    async def title(r: Request, s: Server) -> Any:
        return await arr().title(s, _id(r.path_params["title_id"]))

    @route(f"/{noun}/{{title_id}}", "DELETE")
    async def delete(r: Request, s: Server) -> Any:
        await arr().delete(s, _id(r.path_params["title_id"]), delete_files=_flag(r, "deletefiles"))
        return None

    if server.app == "sonarr":

        @route("/episode", "GET")
        async def episodes(r: Request, s: Server) -> Any:
            return await arr().episodes(s, _query_int(r, "seriesid"))

        @route("/episode/monitor", "PUT", 202)
        async def monitor(r: Request, s: Server) -> Any:
            return await arr().monitor_episodes(s, await _body(r))

    @route("/command", "POST", 201)
    async def command(r: Request, s: Server) -> Any:
        return await arr().command(s, await _body(r))

    @route("/queue", "GET")
    async def queue(r: Request, s: Server) -> Any:
        return await arr().queue(s, _query_int(r, "page") or 1, _query_int(r, "pagesize"))

    return router
