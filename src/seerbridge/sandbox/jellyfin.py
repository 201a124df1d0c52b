"""The Jellyfin emulator: a FastAPI app answering the endpoints a bridge uses, as Jellyfin 10.11 does.

Routes: `/System/Info/Public` (anonymous), `/System/Info`, `/Items`, `/Items/Latest` (what Seerr's recently-added
scan reads), `/Items/{itemId}`, `/Shows/{id}/Seasons`, `/Shows/{id}/Episodes`, `/Library/Refresh`,
`/Library/Media/Updated`, `/Library/VirtualFolders`, `/ScheduledTasks`, `/ScheduledTasks/{taskId}`,
`/ScheduledTasks/Running/{taskId}`. Paths match case-insensitively (ASP.NET routing);
any other path is a 404 with an empty body. The state, with its helpers and knobs, is `app.state.emulator`
(a `JellyfinLibrary`); the fault injector is `app.state.sandbox`. Besides the scenario's two libraries, libraries can
sit on a real directory (`JellyfinLibrary.add_disk_library`), filled by scans of it (`jellyfin_disk.py`).
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException as StarletteHTTPException

from seerbridge.sandbox.clock import VirtualClock
from seerbridge.sandbox.jellyfin_items import SCAN_TASK_KEY, LibraryItem, TaskRecord, clean_name
from seerbridge.sandbox.jellyfin_library import JellyfinLibrary
from seerbridge.sandbox.jellyfin_wire import (
    BASE_ITEM_KINDS,
    ITEM_FIELDS,
    LOCATION_TYPES,
    SORT_BY,
    SORT_ORDERS,
    BindingError,
    QueryArgs,
    authenticated,
    item_dto,
    jellyfin_datetime,
    json_response,
    problem,
    route_guid,
    validation_problem,
)
from seerbridge.sandbox.middleware import install_sandbox
from seerbridge.sandbox.scenario import Scenario

__all__ = ["JellyfinLibrary", "create_app"]

Handler = Callable[[Request], Awaitable[Response]]


class _Unauthorized(Exception):
    """No token, or one Jellyfin does not know: 401 with an empty body."""


def _library(request: Request) -> JellyfinLibrary:
    library: JellyfinLibrary = request.app.state.emulator
    library.settle()
    return library


def _authed(request: Request) -> JellyfinLibrary:
    library = _library(request)
    if not authenticated(request, library):
        raise _Unauthorized
    return library


def _page(items: list[LibraryItem], start: int | None, limit: int | None) -> tuple[list[LibraryItem], int]:
    first = max(0, start or 0)
    end = None if limit is None or limit < 0 else first + limit
    return items[first:end], first


def _sort(items: list[LibraryItem], sort_by: list[str], orders: list[str]) -> list[LibraryItem]:
    keys = sort_by or ["SortName"]
    for index in range(len(keys) - 1, -1, -1):
        name = keys[index]
        descending = (orders[index] if index < len(orders) else (orders[-1] if orders else "Ascending")) == "Descending"
        if name == "Random":
            items = random.sample(items, len(items))
            continue
        items = sorted(items, key=_sort_key(name), reverse=descending)
    return items


def _sort_key(name: str) -> Callable[[LibraryItem], Any]:
    getters: dict[str, Callable[[LibraryItem], Any]] = {
        "Name": lambda i: i.name.lower(),
        "ProductionYear": lambda i: i.production_year or 0,
        "PremiereDate": lambda i: i.premiere_date.isoformat() if i.premiere_date else "",
        "DateCreated": lambda i: i.date_created,
        "IndexNumber": lambda i: i.index_number or 0,
        "ParentIndexNumber": lambda i: i.parent_index_number or 0,
        "IsFolder": lambda i: i.is_folder,
        "Runtime": lambda i: i.runtime_s or 0,
        "AiredEpisodeOrder": lambda i: (i.parent_index_number or 0, i.index_number or 0),
    }
    return getters.get(name, lambda i: (i.sort_name, i.id))


def _has_id(item: LibraryItem, key: str) -> bool:
    return bool(item.provider_ids.get(key))


def _filter_items(library: JellyfinLibrary, query: QueryArgs) -> list[LibraryItem]:
    recursive = query.boolean("recursive") or False
    parent_id = query.guid("parentId")
    ids = query.guids("ids")
    include = query.choices("includeItemTypes", BASE_ITEM_KINDS)
    exclude = query.choices("excludeItemTypes", BASE_ITEM_KINDS)
    has = {name: query.boolean(f"has{name}Id") for name in ("Tmdb", "Imdb", "Tvdb")}
    search = query.string("searchTerm")
    years = query.integers("years")
    is_missing = query.boolean("isMissing")
    location_types = query.choices("locationTypes", LOCATION_TYPES)
    exclude_location_types = query.choices("excludeLocationTypes", LOCATION_TYPES)
    index_number = query.integer("indexNumber")
    parent_index_number = query.integer("parentIndexNumber")
    query.check()

    candidates: list[LibraryItem]
    if ids:
        # Jellyfin looks ids up directly, whatever the hierarchy options say.
        candidates = [library.items[i] for i in ids if i in library.items]
    elif parent_id is not None:
        if parent_id not in library.items:
            return []
        candidates = list(library.descendants(parent_id)) if recursive else library.children(parent_id)
    elif recursive:
        candidates = [i for i in library.items.values() if i.kind != "CollectionFolder"]
    else:
        candidates = [i for i in library.items.values() if i.kind == "CollectionFolder"]

    def keep(item: LibraryItem) -> bool:
        if include and item.kind not in include:
            return False
        if item.kind in exclude:
            return False
        for name, wanted in has.items():
            if wanted is not None and _has_id(item, name) != wanted:
                return False
        if search is not None:
            needle = clean_name(search)
            names = [clean_name(item.name), clean_name(item.original_title or "")]
            if not any(needle in n for n in names if n):
                return False
        if years and item.production_year not in years:
            return False
        if is_missing is not None and item.virtual != is_missing:
            return False
        if location_types and item.location_type not in location_types:
            return False
        if item.location_type in exclude_location_types:
            return False
        if index_number is not None and item.index_number != index_number:
            return False
        return parent_index_number is None or item.parent_index_number == parent_index_number

    return [i for i in candidates if keep(i)]


def _task_dto(task: TaskRecord, library: JellyfinLibrary) -> dict[str, Any]:
    running = task.key == SCAN_TASK_KEY and library.scan_running
    dto: dict[str, Any] = {"Name": task.name, "State": "Running" if running else "Idle"}
    if running:
        dto["CurrentProgressPercentage"] = round(library.scan_progress() or 0.0, 1)
    dto["Id"] = task.id
    if task.last_status is not None and task.last_start is not None and task.last_end is not None:
        dto["LastExecutionResult"] = {
            "StartTimeUtc": jellyfin_datetime(task.last_start),
            "EndTimeUtc": jellyfin_datetime(task.last_end),
            "Status": task.last_status,
            "Name": task.name,
            "Key": task.key,
            "Id": task.id,
        }
    dto["Triggers"] = [{"Type": "IntervalTrigger", "IntervalTicks": int(task.interval_hours * 3600 * 10_000_000)}]
    dto["Description"] = task.description
    dto["Category"] = task.category
    dto["IsHidden"] = task.is_hidden
    dto["Key"] = task.key
    return dto


def _system_info(library: JellyfinLibrary, request: Request, *, public: bool) -> dict[str, Any]:
    info: dict[str, Any] = {
        "LocalAddress": str(request.base_url).rstrip("/"),
        "ServerName": library.server_name,
        "Version": library.version,
        "ProductName": "Jellyfin Server",
        "OperatingSystem": "",
        "Id": library.server_id,
        "StartupWizardCompleted": True,
    }
    if public:
        return info
    info.update(
        {
            "OperatingSystemDisplayName": "",
            "PackageName": "jellyfin-sandbox",
            "HasPendingRestart": False,
            "IsShuttingDown": False,
            "SupportsLibraryMonitor": True,
            "WebSocketPortNumber": 8096,
            "CompletedInstallations": [],
            "CanSelfRestart": True,
            "CanLaunchWebBrowser": False,
            "ProgramDataPath": "/config",
            "WebPath": "/jellyfin/jellyfin-web",
            "ItemsByNamePath": "/config/metadata",
            "CachePath": "/cache",
            "LogPath": "/config/log",
            "InternalMetadataPath": "/config/metadata",
            "TranscodingTempPath": "/cache/transcodes",
            "CastReceiverApplications": [],
            "HasUpdateAvailable": False,
            "EncoderLocation": "System",
            "SystemArchitecture": "X64",
        }
    )
    return info


def create_app(scenario: Scenario, clock: VirtualClock) -> FastAPI:
    """A Jellyfin emulator seeded from `scenario`; its state is `app.state.emulator`."""
    app = FastAPI(title="Jellyfin (sandbox)", openapi_url=None, docs_url=None, redoc_url=None)
    library = JellyfinLibrary(scenario, clock)
    app.state.emulator = library

    @app.exception_handler(_Unauthorized)
    async def _unauthorized(request: Request, exc: _Unauthorized) -> Response:
        return Response(status_code=401)

    @app.exception_handler(BindingError)
    async def _binding(request: Request, exc: BindingError) -> Response:
        return validation_problem(exc.errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        # Unknown routes and wrong methods: ASP.NET answers with an empty body.
        return Response(status_code=exc.status_code)

    @app.get("/System/Info/Public")
    async def public_info(request: Request) -> Response:
        return json_response(_system_info(_library(request), request, public=True))

    @app.get("/System/Info")
    async def system_info(request: Request) -> Response:
        return json_response(_system_info(_authed(request), request, public=False))

    @app.get("/Items")
    async def get_items(request: Request) -> Response:
        lib = _authed(request)
        query = QueryArgs(request)
        fields = set(query.choices("fields", ITEM_FIELDS))
        start, limit = query.integer("startIndex"), query.integer("limit")
        count_total = query.boolean("enableTotalRecordCount")
        items = _filter_items(lib, query)  # raises for every value that did not bind, these above included
        items = _sort(items, query.choices("sortBy", SORT_BY), query.choices("sortOrder", SORT_ORDERS))
        page, start = _page(items, start, limit)
        total = len(items) if count_total is not False else 0
        return json_response(
            {"Items": [item_dto(i, fields, lib) for i in page], "TotalRecordCount": total, "StartIndex": start}
        )

    @app.get("/Items/Latest")
    async def latest_items(request: Request) -> Response:
        lib = _authed(request)
        query = QueryArgs(request)
        user_id = query.guid("userId")
        parent_id = query.guid("parentId")
        fields = set(query.choices("fields", ITEM_FIELDS))
        include = query.choices("includeItemTypes", BASE_ITEM_KINDS)
        for flag in ("isPlayed", "enableImages", "enableUserData"):
            query.boolean(flag)  # nothing is ever played here; images are not emulated
        query.integer("imageTypeLimit")
        limit = query.integer("limit")
        group = query.boolean("groupItems")
        query.check()
        if user_id is None:
            # No userId: the token's user, and an API key has none: GetUserById(Guid.Empty) throws ArgumentException,
            # which the exception middleware answers with a plain-text 400.
            return Response(b"Error processing request.", status_code=400, media_type="text/plain")
        if user_id not in lib.users:
            return problem(404)
        dtos = []
        for item, count in lib.latest(
            parent_id=parent_id, include=include, limit=20 if limit is None else limit, group=group is not False
        ):
            dto = item_dto(item, fields, lib)
            dto["ChildCount"] = count
            dtos.append(dto)
        return json_response(dtos)

    @app.get("/Items/{item_id}")
    async def get_item(request: Request, item_id: str) -> Response:
        lib = _authed(request)
        item = lib.get(route_guid("itemId", item_id))
        if item is None:
            return problem(404)
        return json_response(item_dto(item, set(ITEM_FIELDS), lib))

    def _series(lib: JellyfinLibrary, series_id: str) -> LibraryItem | None:
        item = lib.get(route_guid("seriesId", series_id))
        return item if item is not None and item.kind == "Series" else None

    @app.get("/Shows/{series_id}/Seasons")
    async def get_seasons(request: Request, series_id: str) -> Response:
        lib = _authed(request)
        query = QueryArgs(request)
        fields = set(query.choices("fields", ITEM_FIELDS))
        is_missing = query.boolean("isMissing")
        is_special = query.boolean("isSpecialSeason")
        query.check()
        series = _series(lib, series_id)
        if series is None:
            return problem(404, "Series not found")
        seasons = sorted((i for i in lib.children(series.id) if i.kind == "Season"), key=lambda s: s.index_number or 0)
        if is_missing is not None:
            seasons = [s for s in seasons if s.virtual == is_missing]
        if is_special is not None:
            seasons = [s for s in seasons if (s.index_number == 0) == is_special]
        dtos = [item_dto(s, fields, lib) for s in seasons]
        return json_response({"Items": dtos, "TotalRecordCount": len(dtos), "StartIndex": 0})

    @app.get("/Shows/{series_id}/Episodes")
    async def get_episodes(request: Request, series_id: str) -> Response:
        lib = _authed(request)
        query = QueryArgs(request)
        fields = set(query.choices("fields", ITEM_FIELDS))
        season = query.integer("season")
        season_id = query.guid("seasonId")
        is_missing = query.boolean("isMissing")
        sort_by = query.string("sortBy")
        start, limit = query.integer("startIndex"), query.integer("limit")
        query.check()
        if season_id is not None:
            season_item = lib.get(season_id)
            if season_item is None or season_item.kind != "Season":
                return problem(404, f"No season exists with Id {season_id}")
            episodes = sorted(
                (i for i in lib.children(season_id) if i.kind == "Episode"), key=lambda e: e.index_number or 0
            )
        else:
            series = _series(lib, series_id)
            if series is None:
                return problem(404, "Series not found")
            episodes = lib.episodes_of(series.id)
            if season is not None:
                episodes = [e for e in episodes if e.parent_index_number == season]
        if is_missing is not None:
            episodes = [e for e in episodes if e.virtual == is_missing]
        if sort_by is not None and sort_by.lower() != "default":
            canon = next((s for s in SORT_BY if s.lower() == sort_by.lower()), "AiredEpisodeOrder")
            episodes = _sort(episodes, [canon], [])
        page, start = _page(episodes, start, limit)
        return json_response(
            {"Items": [item_dto(e, fields, lib) for e in page], "TotalRecordCount": len(episodes), "StartIndex": start}
        )

    @app.post("/Library/Refresh")
    async def refresh(request: Request) -> Response:
        _authed(request).request_refresh()
        return Response(status_code=204)

    @app.post("/Library/Media/Updated")
    async def media_updated(request: Request) -> Response:
        lib = _authed(request)
        raw = await request.body()
        try:
            body = json.loads(raw) if raw.strip() else None
        except (json.JSONDecodeError, UnicodeDecodeError):
            return validation_problem({"$": ["The JSON value could not be converted to MediaUpdateInfoDto."]})
        if not isinstance(body, dict):
            return validation_problem({"": ["A non-empty request body is required."]})
        updates = next((v for k, v in body.items() if k.lower() == "updates"), None) or []
        pairs: list[tuple[str, str | None]] = []
        for update in updates if isinstance(updates, list) else []:
            fields = {k.lower(): v for k, v in update.items()} if isinstance(update, dict) else {}
            path = fields.get("path")
            if not isinstance(path, str):
                return Response(b"Value cannot be null. (Parameter 'path')", status_code=400, media_type="text/plain")
            kind = fields.get("updatetype")
            pairs.append((path, kind if isinstance(kind, str) else None))
        lib.report_paths(pairs)
        return Response(status_code=204)

    @app.get("/Library/VirtualFolders")
    async def virtual_folders(request: Request) -> Response:
        lib = _authed(request)
        folders = [
            {
                "Name": folder.name,
                "Locations": [folder.path],
                "CollectionType": folder.collection_type,
                "ItemId": folder.id,
                "RefreshStatus": "Active" if lib.scan_running else "Idle",
            }
            for folder in lib.libraries
        ]
        return json_response(folders)

    @app.get("/ScheduledTasks")
    async def scheduled_tasks(request: Request) -> Response:
        lib = _authed(request)
        query = QueryArgs(request)
        is_hidden = query.boolean("isHidden")
        query.boolean("isEnabled")
        query.check()
        tasks = [t for t in lib.tasks if is_hidden is None or t.is_hidden == is_hidden]
        return json_response([_task_dto(t, lib) for t in tasks])

    @app.get("/ScheduledTasks/{task_id}")
    async def scheduled_task(request: Request, task_id: str) -> Response:
        lib = _authed(request)
        task = next((t for t in lib.tasks if t.id == task_id.lower()), None)
        if task is None:
            return problem(404)
        return json_response(_task_dto(task, lib))

    @app.post("/ScheduledTasks/Running/{task_id}")
    async def start_task(request: Request, task_id: str) -> Response:
        if not _authed(request).run_task(task_id):
            return problem(404)
        return Response(status_code=204)

    for route in app.routes:
        if isinstance(route, APIRoute):
            # ASP.NET matches routes without regard to case.
            route.path_regex = re.compile(route.path_regex.pattern, re.IGNORECASE)

    install_sandbox(app, too_many_body=b"", too_many_type="text/plain")
    return app
