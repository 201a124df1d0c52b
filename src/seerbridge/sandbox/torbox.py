"""TorBox API v1 emulator: the torrent endpoints a bridge uses, in TorBox's envelope, with its caches and limits.

Routes live under `/v1/api` (mount the app as a host and use base URL `http://torbox.sandbox/v1/api/`); the
account is `app.state.emulator`, a `TorBoxState` (`torbox_state.py`, where the rules the contract leaves open are
written down), and a torrent's lifecycle is in `torbox_torrent.py`. Every JSON answer is
`{"success", "error", "detail", "data"}`; auth is `Authorization: Bearer <key>` except `requestdl` (`token=`).
Served: checkcached (GET and POST), createtorrent, mylist, requestdl, controltorrent, user/me. Not emulated:
torrentinfo, `.torrent` uploads (answered BOZO_TORRENT), usenet and webdl. Faults from the sandbox middleware
(outermost) do not count against the limits; its 503 is a proxy's HTML page, as TorBox's errors are not always JSON.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException

from seerbridge.sandbox.clock import VirtualClock
from seerbridge.sandbox.middleware import install_sandbox
from seerbridge.sandbox.scenario import Scenario
from seerbridge.sandbox.torbox_state import TORBOX_KEY, CacheEntry, TorBoxState
from seerbridge.sandbox.torbox_torrent import SERVER, TorBoxFailure, tb_time

API = "/v1/api"
DEFAULT_LIMIT = 1000
TOO_MANY_BODY = json.dumps(
    {"success": False, "error": None, "detail": "You are being rate limited. Please slow down.", "data": None}
).encode()

__all__ = ["API", "TORBOX_KEY", "TorBoxState", "create_app"]


def envelope(data: Any, detail: str, *, status: int = 200, error: str | None = None) -> JSONResponse:
    body = {"success": status < 400, "error": error, "detail": detail, "data": data}
    return JSONResponse(body, status_code=status)


def _state(request: Request) -> TorBoxState:
    state: TorBoxState = request.app.state.emulator
    return state


def _bearer(request: Request) -> TorBoxState:
    """Auth by header, then one call counted against this endpoint's limit for the key."""
    state = _state(request)
    header = request.headers.get("authorization", "").strip()
    scheme, _, value = header.partition(" ")
    # Any other scheme is a token TorBox does not know (BAD_TOKEN); no header at all is NO_AUTH.
    token = value.strip() if scheme.lower() == "bearer" else header
    key = state.authorize(token or None)
    state.admit(key, f"{request.method} {request.url.path}")
    return state


Authed = Annotated[TorBoxState, Depends(_bearer)]


def _flag(raw: str | None, name: str, default: bool = False) -> bool:
    """A boolean parameter; the note says send lowercase `true`/`false`, and FastAPI's usual spellings pass too."""
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in ("true", "1", "yes", "on"):
        return True
    if value in ("false", "0", "no", "off"):
        return False
    raise TorBoxFailure(400, "INVALID_OPTION", f"{name} must be true or false.")


def _int(raw: Any, name: str) -> int | None:
    if raw is None or raw == "":
        return None
    if isinstance(raw, bool):
        raise TorBoxFailure(400, "INVALID_OPTION", f"{name} must be an integer.")
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise TorBoxFailure(400, "INVALID_OPTION", f"{name} must be an integer.") from None
    if value < 0:
        raise TorBoxFailure(400, "INVALID_OPTION", f"{name} must not be negative.")
    return value


def _required_int(raw: Any, name: str) -> int:
    value = _int(raw, name)
    if value is None:
        raise TorBoxFailure(400, "MISSING_REQUIRED_OPTION", f"{name} is required.")
    return value


def _format(request: Request) -> str:
    value = request.query_params.get("format") or "object"
    if value not in ("object", "list"):
        raise TorBoxFailure(400, "INVALID_OPTION", "format must be object or list.")
    return value


def _cache_answer(entries: list[CacheEntry], fmt: str, list_files: bool) -> JSONResponse:
    def item(e: CacheEntry) -> dict[str, Any]:
        out: dict[str, Any] = {"name": e.name, "size": e.size, "hash": e.hash}
        if fmt == "list":
            out.update(trackers=[], seeds=0, peers=0)
        if list_files:
            out["files"] = [
                {"name": f.name, "size": f.size, "short_name": f.short_name, "opensubtitles_hash": None}
                for f in e.files
            ]
        return out

    detail = f"Found {len(entries)} cached torrent(s)." if entries else "Torrent cache status retrieved successfully."
    if fmt == "list":
        return envelope([item(e) for e in entries], detail)
    # The doc's sample for a check with nothing cached has `data: null` (object form).
    return envelope({e.hash: item(e) for e in entries} or None, detail)


def create_app(scenario: Scenario, clock: VirtualClock, *, monotonic: Callable[[], float] = time.monotonic) -> FastAPI:
    """The emulator app; `monotonic` is the real-time source of the rate limits (injectable for tests)."""
    state = TorBoxState(scenario, clock, monotonic=monotonic)
    app = FastAPI(title="TorBox emulator", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.emulator = state

    @app.exception_handler(TorBoxFailure)
    async def _failure(request: Request, exc: TorBoxFailure) -> Response:
        body = {"success": False, "error": exc.error, "detail": exc.detail, "data": exc.data}
        return JSONResponse(body, status_code=exc.status)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code in (404, 405):
            return envelope(None, "This endpoint does not exist.", status=exc.status_code, error="ENDPOINT_NOT_FOUND")
        return envelope(None, str(exc.detail), status=exc.status_code, error="UNKNOWN_ERROR")

    @app.get(API + "/torrents/checkcached")
    async def check_cached_get(request: Request, state: Authed) -> Response:
        # `hash=a,b&hash=c`: comma-separated, and repeatable for more than fit in one value.
        hashes = [h for value in request.query_params.getlist("hash") for h in value.split(",") if h.strip()]
        if not hashes:
            raise TorBoxFailure(400, "MISSING_REQUIRED_OPTION", "hash is required.")
        list_files = _flag(request.query_params.get("list_files"), "list_files")
        return _cache_answer(state.check_cached(state.key, hashes), _format(request), list_files)

    @app.post(API + "/torrents/checkcached")
    async def check_cached_post(request: Request, state: Authed) -> Response:
        try:
            body = json.loads(await request.body() or b"null")
        except ValueError:
            raise TorBoxFailure(400, "INVALID_OPTION", 'The body must be JSON: {"hashes": [...]}.') from None
        hashes = body.get("hashes") if isinstance(body, dict) else None
        if not isinstance(hashes, list) or not hashes:
            raise TorBoxFailure(400, "MISSING_REQUIRED_OPTION", "hashes is required.")
        if not all(isinstance(h, str) for h in hashes):
            raise TorBoxFailure(400, "INVALID_OPTION", "hashes must be strings.")
        # Torrentio reads files from the POST/list answer without asking for them: files come by default here.
        list_files = _flag(request.query_params.get("list_files"), "list_files", default=True)
        return _cache_answer(state.check_cached(state.key, hashes), _format(request), list_files)

    @app.post(API + "/torrents/createtorrent")
    async def create_torrent(request: Request, state: Authed) -> Response:
        form = await request.form()
        if isinstance(form.get("file"), UploadFile):
            raise TorBoxFailure(400, "BOZO_TORRENT", "The sandbox reads magnet links only, not .torrent files.")
        magnet = form.get("magnet")
        if not isinstance(magnet, str) or not magnet:
            raise TorBoxFailure(400, "MISSING_REQUIRED_OPTION", "Either magnet or file is required.")

        def field(name: str) -> str | None:
            value = form.get(name)
            return value if isinstance(value, str) else None

        seed = _int(field("seed"), "seed") or 1
        if seed not in (1, 2, 3):
            raise TorBoxFailure(400, "INVALID_OPTION", "seed must be 1, 2 or 3.")
        torrent = await state.create(
            magnet,
            seed=seed,
            allow_zip=_flag(field("allow_zip"), "allow_zip"),
            only_if_cached=_flag(field("add_only_if_cached"), "add_only_if_cached"),
            name=field("name") or None,
        )
        detail = "Found Cached Torrent. Using Cached Torrent." if torrent.cached else "Successfully added torrent."
        return envelope({"torrent_id": torrent.id, "hash": torrent.hash, "auth_id": torrent.auth_id}, detail)

    @app.get(API + "/torrents/mylist")
    async def my_list(request: Request, state: Authed) -> Response:
        q = request.query_params
        torrents, as_of = state.listing(bypass_cache=_flag(q.get("bypass_cache"), "bypass_cache"))
        torrent_id = _int(q.get("id"), "id")
        if torrent_id is not None:
            found = next((t for t in torrents if t.id == torrent_id), None)
            if found is None:
                raise TorBoxFailure(404, "ITEM_NOT_FOUND", "The torrent was not found in your account.")
            return envelope(found.to_json(as_of), "Torrent list retrieved successfully.")
        offset = _int(q.get("offset"), "offset") or 0
        limit = _int(q.get("limit"), "limit")
        limit = DEFAULT_LIMIT if limit is None else limit
        # TorBox hands back one entry more than `limit` (StremThru trims it); so does the emulator.
        page = torrents[offset : offset + limit + 1]
        return envelope([t.to_json(as_of) for t in page], "Torrent list retrieved successfully.")

    @app.get(API + "/torrents/requestdl")
    async def request_download(request: Request) -> Response:
        state = _state(request)
        q = request.query_params
        # The key travels in the query here; an Authorization header is not read.
        key = state.authorize(q.get("token") or None)
        state.admit(key, f"{request.method} {request.url.path}")
        torrent_id = _required_int(q.get("torrent_id"), "torrent_id")
        link = state.request_link(
            torrent_id, _int(q.get("file_id"), "file_id"), zip_link=_flag(q.get("zip_link"), "zip_link")
        )
        if _flag(q.get("redirect"), "redirect"):
            return RedirectResponse(link.url, status_code=307)
        return envelope(link.url, "Download link generated successfully.")

    @app.post(API + "/torrents/controltorrent")
    async def control_torrent(request: Request, state: Authed) -> Response:
        try:
            body = json.loads(await request.body() or b"null")
        except ValueError:
            raise TorBoxFailure(400, "INVALID_OPTION", "The body must be JSON.") from None
        if not isinstance(body, dict) or not isinstance(body.get("operation"), str):
            raise TorBoxFailure(400, "MISSING_REQUIRED_OPTION", "operation is required.")
        every = body.get("all") is True
        state.control(body["operation"], _int(body.get("torrent_id"), "torrent_id"), every=every)
        return envelope(None, f"Successfully performed {body['operation']} on the torrent.")

    @app.get(API + "/user/me")
    async def user_me(request: Request, state: Authed) -> Response:
        now = state.now()
        data: dict[str, Any] = {
            "id": 424242,
            "auth_id": state.auth_id,
            "email": "sandbox@sandbox.invalid",
            "base_email": "sandbox@sandbox.invalid",
            "created_at": tb_time(state.created),
            "updated_at": tb_time(now),
            "plan": state.plan,
            "is_subscribed": state.premium_until > now,
            "premium_expires_at": tb_time(state.premium_until),
            "cooldown_until": tb_time(state.created),
            "customer": "cus_sandbox",
            "server": SERVER,
            "user_referral": state.auth_id,
            "total_downloaded": len(state.torrents),
            "total_bytes_downloaded": sum(t.size for t in state.torrents.values()),
            "total_bytes_uploaded": 0,
            "torrents_downloaded": len(state.torrents),
            "web_downloads_downloaded": 0,
            "usenet_downloads_downloaded": 0,
            "additional_concurrent_slots": 0,
            "long_term_seeding": False,
            "long_term_storage": False,
            "is_vendor": False,
            "vendor_id": None,
            "purchases_referred": 0,
        }
        if _flag(request.query_params.get("settings"), "settings"):
            data["settings"] = {"seed_torrents": 3, "allow_zipped": False}
        return envelope(data, "User data retrieved successfully.")

    install_sandbox(app, too_many_body=TOO_MANY_BODY)
    return app
