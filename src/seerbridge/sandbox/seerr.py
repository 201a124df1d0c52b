"""The Seerr emulator: a FastAPI app serving the part of Seerr's `/api/v1` a request-to-debrid bridge uses.

Faithful to Seerr v3.1.0 where seerbridge can notice: `X-Api-Key` auth refused with 403 (not 401), the spec
validator's 400 bodies (`seerr_validate`), `{"message": ...}` errors, numeric enums, ISO dates, `pageInfo` paging, and
the status rules in `seerr_state`. Unknown TMDB ids answer **500** `{"message": "Unable to retrieve movie."}` as the
real server does (its route turns every TMDB failure into a 500). `GET /request` items carry the media row without
its seasons, and the page carries `serviceErrors`. State and helpers live at `app.state.emulator` (a `SeerrState`).
"""

from __future__ import annotations

import hmac
import json
import math
import re
from typing import Any, Literal

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse, Response

from seerbridge.sandbox.clock import VirtualClock
from seerbridge.sandbox.middleware import install_sandbox
from seerbridge.sandbox.scenario import Scenario
from seerbridge.sandbox.seerr_json import (
    job_json,
    media_json,
    movie_json,
    request_json,
    status_json,
    tv_json,
    tv_season_json,
)
from seerbridge.sandbox.seerr_models import (
    MEDIA_STATUS_NAMES,
    MediaStatus,
    RequestRow,
    RequestStatus,
    SeerrFailure,
    SeerrForbidden,
    User,
    tmdb_season,
)
from seerbridge.sandbox.seerr_servarr_routes import build_routes as build_servarr_routes
from seerbridge.sandbox.seerr_state import SeerrState
from seerbridge.sandbox.seerr_validate import (
    Checker,
    ValidationFailure,
    check_media_status_body,
    check_query,
    check_request_body,
)

FORBIDDEN_BODY = {"status": 403, "error": "You do not have permission to access this endpoint"}
REQUEST_FILTERS = (
    "all",
    "approved",
    "available",
    "pending",
    "processing",
    "unavailable",
    "failed",
    "deleted",
    "completed",
)
MEDIA_FILTERS = ("all", "available", "partial", "allavailable", "processing", "pending", "deleted")
_NOT_AVAILABLE = frozenset(
    {MediaStatus.UNKNOWN, MediaStatus.PENDING, MediaStatus.PROCESSING, MediaStatus.PARTIALLY_AVAILABLE}
)
_ANY_MEDIA = _NOT_AVAILABLE | {MediaStatus.AVAILABLE, MediaStatus.DELETED}  # BLOCKLISTED is never listed
_ALL_REQUESTS = frozenset(RequestStatus)
# filter → (request statuses, media statuses), from server/routes/request.ts.
_REQUEST_FILTER_RULES: dict[str, tuple[frozenset[RequestStatus], frozenset[MediaStatus]]] = {
    "approved": (frozenset({RequestStatus.APPROVED}), _ANY_MEDIA),
    "processing": (frozenset({RequestStatus.APPROVED}), _NOT_AVAILABLE),
    "pending": (frozenset({RequestStatus.PENDING}), _ANY_MEDIA),
    "unavailable": (frozenset({RequestStatus.PENDING, RequestStatus.APPROVED}), _NOT_AVAILABLE),
    "failed": (frozenset({RequestStatus.FAILED}), _ANY_MEDIA),
    "completed": (frozenset({RequestStatus.COMPLETED}), _ANY_MEDIA),
    "available": (frozenset({RequestStatus.COMPLETED}), frozenset({MediaStatus.AVAILABLE})),
    "deleted": (frozenset({RequestStatus.COMPLETED}), frozenset({MediaStatus.DELETED})),
}
_MEDIA_FILTER_RULES: dict[str, frozenset[MediaStatus]] = {
    "available": frozenset({MediaStatus.AVAILABLE}),
    "partial": frozenset({MediaStatus.PARTIALLY_AVAILABLE}),
    "allavailable": frozenset({MediaStatus.AVAILABLE, MediaStatus.PARTIALLY_AVAILABLE}),
    "processing": frozenset({MediaStatus.PROCESSING}),
    "pending": frozenset({MediaStatus.PENDING}),
}
# The emulated routes (for telling 405 from 404 in the validator's catch-all answer).
_ROUTES: tuple[tuple[re.Pattern[str], frozenset[str]], ...] = tuple(
    (re.compile(pattern), frozenset(methods))
    for pattern, methods in (
        (r"^/status$", {"GET"}),
        (r"^/request$", {"GET", "POST"}),
        (r"^/request/[^/]+$", {"GET", "PUT", "DELETE"}),
        (r"^/request/[^/]+/[^/]+$", {"POST"}),
        (r"^/movie/[^/]+$", {"GET"}),
        (r"^/tv/[^/]+$", {"GET"}),
        (r"^/tv/[^/]+/season/[^/]+$", {"GET"}),
        (r"^/media$", {"GET"}),
        (r"^/media/[^/]+$", {"DELETE"}),
        (r"^/media/[^/]+/[^/]+$", {"POST"}),
        (r"^/settings/jobs$", {"GET"}),
        (r"^/settings/jobs/[^/]+/run$", {"POST"}),
        (r"^/settings/(radarr|sonarr)$", {"GET", "POST"}),
        (r"^/settings/(radarr|sonarr)/test$", {"POST"}),
        (r"^/settings/(radarr|sonarr)/[^/]+$", {"PUT", "DELETE"}),
        (r"^/settings/radarr/[^/]+/profiles$", {"GET"}),
    )
)


class SeerrJSON(JSONResponse):
    """Express's `res.json()`: compact JSON with `application/json; charset=utf-8`."""

    media_type = "application/json; charset=utf-8"


def _state(request: Request) -> SeerrState:
    state: SeerrState = request.app.state.emulator
    return state


def _authenticate(request: Request) -> User:
    """checkUser + isAuthenticated: the API key acts as the admin, or as the user named by X-API-User."""
    state = _state(request)
    key = request.headers.get("x-api-key")
    if key is None or not hmac.compare_digest(key.encode(), state.api_key.encode()):
        raise SeerrForbidden()
    user_header = request.headers.get("x-api-user")
    if user_header is None:
        return state.admin
    try:
        user = state.users.get(int(user_header))
    except ValueError:
        user = None
    if user is None:
        raise SeerrForbidden()
    return user


def _require_manager(user: User) -> None:
    if not user.is_admin:
        raise SeerrForbidden()


def _to_id(raw: str) -> int | None:
    """JavaScript's `Number(id)` as used to look rows up: anything not a whole number finds nothing."""
    try:
        value = float(raw)
    except ValueError:
        return None
    return int(value) if math.isfinite(value) and value.is_integer() else None


async def _json_body(request: Request) -> Any:
    raw = await request.body()
    if not raw:
        return None
    try:
        return json.loads(raw)
    except json.JSONDecodeError as exc:
        raise SeerrFailure(400, f"Unexpected token in JSON at position {exc.pos}") from None


def _query(request: Request, *declared: str) -> None:
    """The validator's first step: refuse an undeclared or empty query parameter (see `seerr_validate`)."""
    check_query(request.query_params.multi_items(), declared)


def _language(request: Request, state: SeerrState) -> str:
    """TMDB routes answer in `?language=`, else in the locale Seerr is set to (`req.locale`)."""
    return request.query_params.get("language") or state.scenario.seerr.locale


def _page(
    items: list[Any], take: float | None, skip: float | None, default_take: int
) -> tuple[list[Any], dict[str, Any]]:
    size = int(take) if take else default_take
    start = int(skip) if skip else 0
    total = len(items)
    if size <= 0:  # TypeORM ignores take(0): everything comes back, and the page maths divides by zero.
        return items[start:], {"pages": None, "pageSize": size, "results": total, "page": None}
    info = {"pages": math.ceil(total / size), "pageSize": size, "results": total, "page": math.ceil(start / size) + 1}
    return items[start : start + size], info


def _build_routes(router: APIRouter) -> None:
    @router.get("/status")
    async def status(request: Request) -> Response:
        _query(request)
        return SeerrJSON(status_json(_state(request)))

    @router.get("/request")
    async def list_requests(request: Request) -> Response:
        q = request.query_params
        _query(request, "take", "skip", "filter", "sort", "sortDirection", "requestedBy", "mediaType")
        check = Checker()
        take = check.number("query", "take", q.get("take"), nullable=True)
        skip = check.number("query", "skip", q.get("skip"), nullable=True)
        filter_ = check.enum("query", "filter", q.get("filter"), REQUEST_FILTERS)
        sort = check.enum("query", "sort", q.get("sort"), ("added", "modified")) or "added"
        direction = check.enum("query", "sortDirection", q.get("sortDirection"), ("asc", "desc")) or "desc"
        requested_by = check.number("query", "requestedBy", q.get("requestedBy"), nullable=True)
        media_type = check.enum("query", "mediaType", q.get("mediaType"), ("movie", "tv", "all")) or "all"
        check.done()
        user = _authenticate(request)
        state = _state(request)
        await state.servarr.refresh_profiles()  # Seerr reads every server's profiles (cached) before listing
        statuses, media_statuses = _REQUEST_FILTER_RULES.get(filter_ or "all", (_ALL_REQUESTS, _ANY_MEDIA))
        if not user.is_admin:
            if requested_by and int(requested_by) != user.id:
                raise SeerrFailure(403, "You do not have permission to view this user's requests.")
            requested_by = user.id
        with state.lock:
            rows = [
                r
                for r in state.requests.values()
                if r.status in statuses
                and r.media.get(r.is4k) in media_statuses
                and (not requested_by or r.requested_by.id == int(requested_by))
                and (media_type == "all" or r.type == media_type)
            ]

            def order(r: RequestRow) -> tuple[Any, int]:
                return (r.updated_at, r.id) if sort == "modified" else (r.id, r.id)  # "added" is `request.id`

            rows.sort(key=order, reverse=direction == "desc")
            page, info = _page(rows, take, skip, 10)
            results = []
            for r in page:
                # A query builder joins media without its (eager) seasons; canRemove for managers only.
                item = request_json(state, r, with_media_seasons=False)
                results.append({**item, "canRemove": False} if user.is_admin else item)
            errors = state.service_errors()
        return SeerrJSON({"pageInfo": info, "results": results, "serviceErrors": errors})

    @router.post("/request")
    async def create_request(request: Request) -> Response:
        raw = await _json_body(request)  # express.json() runs before the validator
        _query(request)
        body = check_request_body(raw)
        user = _authenticate(request)
        state = _state(request)
        row = state.create_request(
            media_type=body["mediaType"],
            tmdb_id=int(body["mediaId"]),
            acting=user,
            seasons=body.get("seasons"),
            is4k=bool(body.get("is4k", False)),
            user_id=int(body["userId"]) if body.get("userId") else None,
            server_id=body.get("serverId"),
            profile_id=body.get("profileId"),
            root_folder=body.get("rootFolder"),
            language_profile_id=body.get("languageProfileId"),
            send=False,
        )
        with state.lock:
            answer = request_json(state, row)
            state.push_to_servarr(row)  # Seerr answers before Radarr/Sonarr does
        return SeerrJSON(answer, status_code=201)

    @router.get("/request/{request_id}")
    async def get_request(request: Request, request_id: str) -> Response:
        _query(request)
        user = _authenticate(request)
        state = _state(request)
        with state.lock:
            row = state.requests.get(_to_id(request_id) or -1)
            if row is None:
                raise SeerrFailure(404, "Request not found.")
            if row.requested_by is not user and not user.is_admin:
                raise SeerrFailure(403, "You do not have permission to view this request.")
            return SeerrJSON(request_json(state, row))

    @router.delete("/request/{request_id}")
    async def delete_request(request: Request, request_id: str) -> Response:
        _query(request)
        user = _authenticate(request)
        _state(request).delete_request(_to_id(request_id) or -1, by=user)
        return Response(status_code=204)

    @router.post("/request/{request_id}/retry")
    async def retry_request(request: Request, request_id: str) -> Response:
        _query(request)
        user = _authenticate(request)
        _require_manager(user)
        state = _state(request)
        with state.lock:
            row = state.retry_request(_to_id(request_id) or -1, by=user)
            answer = request_json(state, row)
            state.push_to_servarr(row)  # Seerr answers before Radarr/Sonarr does
        return SeerrJSON(answer)

    @router.post("/request/{request_id}/{action}")
    async def change_request(request: Request, request_id: str, action: str) -> Response:
        _query(request)
        check = Checker()
        check.enum("params", "status", action, ("approve", "decline"))
        check.done()
        user = _authenticate(request)
        _require_manager(user)
        state = _state(request)
        verb: Literal["approve", "decline"] = "approve" if action == "approve" else "decline"
        with state.lock:
            row = state.set_request_status(_to_id(request_id) or -1, verb, by=user, send=False)
            answer = request_json(state, row)
            state.push_to_servarr(row)  # Seerr answers before Radarr/Sonarr does
        return SeerrJSON(answer)

    @router.get("/movie/{movie_id}")
    async def movie(request: Request, movie_id: str) -> Response:
        _query(request, "language")
        check = Checker()
        tmdb_id = check.number("params", "movieId", movie_id)
        check.done()
        _authenticate(request)
        state = _state(request)
        spec = state.scenario.media_by_tmdb(int(tmdb_id or 0))
        if spec is None or spec.type != "movie" or tmdb_id != int(tmdb_id or 0):
            raise SeerrFailure(500, "Unable to retrieve movie.")
        with state.lock:
            return SeerrJSON(movie_json(state, spec, _language(request, state)))

    @router.get("/tv/{tv_id}")
    async def tv(request: Request, tv_id: str) -> Response:
        _query(request, "language")
        check = Checker()
        tmdb_id = check.number("params", "tvId", tv_id)
        check.done()
        _authenticate(request)
        state = _state(request)
        spec = state.scenario.media_by_tmdb(int(tmdb_id or 0))
        if spec is None or spec.type != "tv":
            raise SeerrFailure(500, "Unable to retrieve series.")
        with state.lock:
            return SeerrJSON(tv_json(state, spec, _language(request, state)))

    @router.get("/tv/{tv_id}/season/{season_number}")
    async def tv_season(request: Request, tv_id: str, season_number: str) -> Response:
        _query(request, "language")
        check = Checker()
        tmdb_id = check.number("params", "tvId", tv_id)
        number = check.number("params", "seasonNumber", season_number)
        check.done()
        _authenticate(request)
        spec = _state(request).scenario.media_by_tmdb(int(tmdb_id or 0))
        season = tmdb_season(spec, int(number or 0)) if spec is not None and spec.type == "tv" else None
        if spec is None or season is None:
            raise SeerrFailure(500, "Unable to retrieve season.")
        return SeerrJSON(tv_season_json(spec, season))

    @router.get("/media")
    async def list_media(request: Request) -> Response:
        q = request.query_params
        _query(request, "take", "skip", "filter", "sort")
        check = Checker()
        take = check.number("query", "take", q.get("take"), nullable=True)
        skip = check.number("query", "skip", q.get("skip"), nullable=True)
        filter_ = check.enum("query", "filter", q.get("filter"), MEDIA_FILTERS)
        sort = check.enum("query", "sort", q.get("sort"), ("added", "modified", "mediaAdded")) or "added"
        check.done()
        _authenticate(request)
        state = _state(request)
        wanted = _MEDIA_FILTER_RULES.get(filter_ or "all")
        with state.lock:
            rows = [m for m in state.media.values() if wanted is None or m.status in wanted]
            if sort == "modified":
                rows.sort(key=lambda m: (m.updated_at, m.id), reverse=True)
            elif sort == "mediaAdded":
                rows.sort(
                    key=lambda m: (m.media_added_at is not None, m.media_added_at or m.created_at, m.id), reverse=True
                )
            else:
                rows.sort(key=lambda m: m.id, reverse=True)
            page, info = _page(rows, take, skip, 20)
            return SeerrJSON({"pageInfo": info, "results": [media_json(state, m) for m in page]})

    @router.post("/media/{media_id}/{status}")
    async def media_status(request: Request, media_id: str, status: str) -> Response:
        raw = await _json_body(request)
        _query(request)
        check = Checker()
        check.enum("params", "status", status, MEDIA_STATUS_NAMES)
        body = check_media_status_body(raw, check)
        user = _authenticate(request)
        _require_manager(user)
        state = _state(request)
        seasons: list[int] = []
        for item in body.get("seasons") or []:
            if isinstance(item, dict) and isinstance(item.get("seasonNumber"), int):
                seasons.append(item["seasonNumber"])
        is4k = str(body.get("is4k")).lower() == "true"
        media = state.set_media_status(_to_id(media_id) or -1, status, is4k=is4k, seasons=seasons)
        with state.lock:
            return SeerrJSON(media_json(state, media))

    @router.delete("/media/{media_id}")
    async def delete_media(request: Request, media_id: str) -> Response:
        _query(request)
        _require_manager(_authenticate(request))
        _state(request).delete_media(_to_id(media_id) or -1)
        return Response(status_code=204)

    @router.get("/settings/jobs")
    async def jobs(request: Request) -> Response:
        _query(request)
        _require_manager(_authenticate(request))
        state = _state(request)
        return SeerrJSON([job_json(state, job) for job in state.jobs])

    @router.post("/settings/jobs/{job_id}/run")
    async def run_job(request: Request, job_id: str) -> Response:
        _query(request)
        _require_manager(_authenticate(request))
        state = _state(request)
        return SeerrJSON(job_json(state, state.run_job(job_id)))

    build_servarr_routes(router)

    @router.api_route("/{rest:path}", methods=["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"])
    async def unknown(request: Request, rest: str) -> Response:
        path = "/" + rest
        allowed = [methods for pattern, methods in _ROUTES if pattern.match(path)]
        full = request.url.path
        if allowed:
            message = f"{request.method} method not allowed"
            return SeerrJSON({"message": message, "errors": [{"path": full, "message": message}]}, status_code=405)
        return SeerrJSON({"message": "not found", "errors": [{"path": full, "message": "not found"}]}, status_code=404)


def create_app(scenario: Scenario, clock: VirtualClock) -> FastAPI:
    """Build the Seerr emulator for `scenario`; its state is `app.state.emulator`."""
    app = FastAPI(title="Seerr emulator", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.emulator = SeerrState(scenario, clock)
    install_sandbox(app, too_many_body=b'{"message":"Too many requests"}')

    @app.exception_handler(SeerrFailure)
    async def _failure(_request: Request, exc: SeerrFailure) -> Response:
        return SeerrJSON({"message": exc.message}, status_code=exc.status)

    @app.exception_handler(SeerrForbidden)
    async def _forbidden(_request: Request, _exc: SeerrForbidden) -> Response:
        return SeerrJSON(FORBIDDEN_BODY, status_code=403)

    @app.exception_handler(ValidationFailure)
    async def _invalid(_request: Request, exc: ValidationFailure) -> Response:
        return SeerrJSON(exc.body(), status_code=exc.status)

    router = APIRouter(prefix="/api/v1")
    _build_routes(router)
    app.include_router(router)
    return app


__all__ = ["SeerrState", "create_app"]
