"""A small stand-in Radarr or Sonarr for the Seerr emulator's tests: only the v3 routes Seerr calls, answering as the
real servers do (lookups with one element and id 0 for new titles, POST → 201 with an id, PUT → 202, 401 on a wrong
key, case-insensitive paths), recording every call and able to fail or hang any of them on request."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any, Literal

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send


@dataclass
class Call:
    method: str
    path: str  # as sent, with its case
    query: dict[str, str]  # without apikey
    body: Any
    apikey: str | None


@dataclass
class StandIn:
    """State and knobs of one stand-in server; `app` is the ASGI app to mount under `base`."""

    kind: Literal["radarr", "sonarr"]
    base: str = ""
    api_key: str = "servarr-key"
    version: str = "4.0.19.2979"
    calls: list[Call] = field(default_factory=list)
    items: dict[int, dict[str, Any]] = field(default_factory=dict)  # library movies or series by id
    episodes: list[dict[str, Any]] = field(default_factory=list)
    queue: list[dict[str, Any]] = field(default_factory=list)
    tags: list[dict[str, Any]] = field(default_factory=list)
    lookup_empty: bool = False
    fail: dict[str, int] = field(default_factory=dict)  # "POST /movie" (lower-case path) → status to answer
    hang: set[str] = field(default_factory=set)  # "POST /movie": never answer (until `release` is set)
    release: asyncio.Event = field(default_factory=asyncio.Event)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)  # set when a hanging call comes in
    seasons: int = 2  # seasons the metadata lists for a show, besides season 0

    def __post_init__(self) -> None:
        self.app = _CaseInsensitive(self._build())

    def seen(self) -> list[str]:
        """The calls as "METHOD /path" relative to /api/v3."""
        return [f"{c.method} {c.path.removeprefix(self.base + '/api/v3')}" for c in self.calls]

    def add_movie(self, tmdb_id: int, *, has_file: bool = False, monitored: bool = True) -> dict[str, Any]:
        item_id = len(self.items) + 1
        movie = {"id": item_id, "tmdbId": tmdb_id, "title": f"Movie {tmdb_id}", "titleSlug": f"movie-{tmdb_id}"}
        movie |= {"hasFile": has_file, "monitored": monitored, "tags": []}
        self.items[item_id] = movie
        return movie

    def add_series(self, tvdb_id: int, counts: dict[int, tuple[int, int]], *, monitored: bool = True) -> dict[str, Any]:
        """A library series; `counts` is season → (episodeFileCount, totalEpisodeCount)."""
        item_id = len(self.items) + 1
        seasons = [
            {"seasonNumber": n, "monitored": monitored, "statistics": {"episodeFileCount": f, "totalEpisodeCount": t}}
            for n, (f, t) in sorted(counts.items())
        ]
        series = {"id": item_id, "tvdbId": tvdb_id, "title": f"Series {tvdb_id}", "titleSlug": f"series-{tvdb_id}"}
        series |= {"monitored": monitored, "tags": [], "seasons": seasons}
        series["statistics"] = {"episodeFileCount": sum(f for f, _ in counts.values())}
        self.items[item_id] = series
        return series

    def _build(self) -> FastAPI:
        app = FastAPI()
        prefix = (self.base + "/api/v3").lower()
        thing = "movie" if self.kind == "radarr" else "series"

        @app.middleware("http")
        async def record(request: Request, call_next: Any) -> Response:
            raw = await request.body()
            query = dict(request.query_params)
            key = query.pop("apikey", None)
            original = request.scope.get("original_path", request.url.path)
            self.calls.append(Call(request.method, original, query, _json(raw), key))
            if key != self.api_key:
                return Response(status_code=401)
            label = f"{request.method} {request.url.path.removeprefix(prefix)}"
            if label in self.hang:
                self.arrived.set()
                await self.release.wait()
            if label in self.fail:
                return JSONResponse({"message": "failed"}, status_code=self.fail[label])
            response: Response = await call_next(request)
            return response

        @app.get(prefix + "/system/status")
        async def status() -> Any:
            return {"version": self.version if self.kind == "sonarr" else "6.0.3.10276", "urlBase": self.base}

        @app.get(prefix + "/qualityprofile")
        async def profiles() -> Any:
            return [{"id": 1, "name": "Any"}, {"id": 4, "name": "HD-1080p"}]

        @app.get(prefix + "/rootfolder")
        async def folders() -> Any:
            return [{"id": 1, "path": "/movies" if self.kind == "radarr" else "/tv", "freeSpace": 1}]

        @app.get(prefix + "/languageprofile")
        async def languages() -> Any:
            return [{"id": 1, "name": "English"}]

        @app.get(prefix + "/tag")
        async def tags() -> Any:
            return self.tags

        @app.post(prefix + "/tag")
        async def add_tag(request: Request) -> Any:
            tag = {"id": len(self.tags) + 1, "label": (await request.json())["label"]}
            self.tags.append(tag)
            return JSONResponse(tag, status_code=201)

        @app.get(prefix + f"/{thing}/lookup")
        async def lookup(term: str) -> Any:
            if self.lookup_empty:
                return []
            field_name, value = term.split(":")
            key = "tmdbId" if field_name == "tmdb" else "tvdbId"
            found = next((i for i in self.items.values() if i[key] == int(value)), None)
            if found is not None:
                return [found]
            if self.kind == "radarr":
                return [{"id": 0, key: int(value), "title": "New", "hasFile": False, "monitored": False, "tags": []}]
            seasons = [{"seasonNumber": n, "monitored": True} for n in range(self.seasons + 1)]
            return [{"id": 0, key: int(value), "title": "New", "monitored": False, "tags": [], "seasons": seasons}]

        @app.post(prefix + f"/{thing}")
        async def add(request: Request) -> Any:
            body = await request.json()
            item_id = len(self.items) + 1
            self.items[item_id] = {**body, "id": item_id, "titleSlug": f"slug-{item_id}", "hasFile": False}
            return JSONResponse(self.items[item_id], status_code=201)

        @app.put(prefix + f"/{thing}")
        async def update(request: Request) -> Any:
            body = await request.json()
            self.items[body["id"]] = body
            return JSONResponse(body, status_code=202)

        @app.get(prefix + f"/{thing}")
        async def listing() -> Any:
            return list(self.items.values())

        @app.get(prefix + f"/{thing}/{{item_id}}")
        async def one(item_id: int) -> Any:
            if item_id not in self.items:
                return JSONResponse({"message": "NotFound"}, status_code=404)
            return self.items[item_id]

        @app.get(prefix + "/episode")
        async def episodes(seriesId: int) -> Any:
            return [e for e in self.episodes if e["seriesId"] == seriesId]

        @app.put(prefix + "/episode/monitor")
        async def monitor(request: Request) -> Any:
            body = await request.json()
            for episode in self.episodes:
                if episode["id"] in body["episodeIds"]:
                    episode["monitored"] = body["monitored"]
            return JSONResponse([e for e in self.episodes if e["id"] in body["episodeIds"]], status_code=202)

        @app.post(prefix + "/command")
        async def command() -> Any:
            return JSONResponse({"id": 1, "status": "queued"}, status_code=201)

        @app.get(prefix + "/queue")
        async def queue() -> Any:
            return {"page": 1, "pageSize": 10, "totalRecords": len(self.queue), "records": self.queue}

        return app


def _json(raw: bytes) -> Any:
    import json

    return json.loads(raw) if raw else None


class _CaseInsensitive:
    """ASP.NET routes ignore case: route on the lower-cased path, keep the original for the record."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            scope = {**scope, "original_path": scope["path"], "path": scope["path"].lower()}
        await self.app(scope, receive, send)


class Router:
    """One ASGI app serving several stand-ins by their base path (as seerbridge serves /radarr, /radarr-4k, …)."""

    def __init__(self, *servers: StandIn) -> None:
        self.servers = sorted(servers, key=lambda s: len(s.base), reverse=True)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "").lower()
        for server in self.servers:
            if path.startswith(server.base.lower() + "/api/"):
                await server.app(scope, receive, send)
                return
        await Response(status_code=404)(scope, receive, send)
