"""Real-Debrid REST 1.0 emulator: the torrent endpoints a bridge uses, with RD's error bodies, paging and rate limit.

Routes live under `/rest/1.0`. The account state is in `realdebrid_state.py` (at `app.state.emulator`, a
`RealDebridState`) and the torrent lifecycle in `realdebrid_torrent.py`. Faithful details: form-encoded POST bodies,
`{"error","error_code"}` error bodies, 201/202/204 where RD uses them, `X-Total-Count` on lists, ETag +
If-None-Match on GETs, PHP-style JSON (tab indents, escaped `/`), 403/37 for the disabled instantAvailability, and
250 requests per real-time minute with refused requests counted (429/34, no Retry-After). Faults injected by the
sandbox middleware (outermost) do not count against that limit. Not emulated: `X-HTTP-Verb`, OAuth, addTorrent,
downloads, streaming.
"""

from __future__ import annotations

import hashlib
import json
import time
import zlib
from collections.abc import Callable
from datetime import UTC
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import Depends, FastAPI, Request
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from seerbridge.sandbox.clock import VirtualClock, js_date
from seerbridge.sandbox.middleware import CONTROL_PREFIX, Receive, Scope, Send, install_sandbox
from seerbridge.sandbox.realdebrid_state import RealDebridState
from seerbridge.sandbox.realdebrid_torrent import (
    HOST,
    EmulatedTorrent,
    RdFailure,
    mime_type,
    wrong_parameter,
)
from seerbridge.sandbox.scenario import Scenario

API = "/rest/1.0"
UNAVAILABLE_BODY = b'{"error":"service_unavailable","error_code":25}'
TOO_MANY_BODY = b'{"error":"too_many_requests","error_code":34}'
DEFAULT_LIMIT = 100
MAX_LIMIT = 5000
_PARIS = ZoneInfo("Europe/Paris")


def encode(payload: Any) -> bytes:
    """JSON as RD's PHP server writes it: tab-indented, non-ASCII and `/` escaped."""
    return json.dumps(payload, indent="\t").replace("/", "\\/").encode()


def rd_json(request: Request, payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    body = encode(payload)
    headers = dict(headers or {})
    if request.method == "GET" and status == 200:
        etag = '"' + hashlib.md5(body, usedforsecurity=False).hexdigest() + '"'
        headers["ETag"] = etag
        if request.headers.get("if-none-match") == etag:
            return Response(status_code=304, headers=headers)
    return Response(body, status_code=status, media_type="application/json", headers=headers)


def error_response(status: int, error: str, code: int) -> Response:
    return Response(encode({"error": error, "error_code": code}), status_code=status, media_type="application/json")


def _token(request: Request) -> str | None:
    auth = request.headers.get("authorization", "")
    scheme, _, value = auth.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return request.query_params.get("auth_token")


def _state(request: Request) -> RealDebridState:
    state: RealDebridState = request.app.state.emulator
    return state


def _authed(request: Request) -> RealDebridState:
    state = _state(request)
    state.authorize(_token(request))
    # Whoever reads the account now sees the mount as of now (a torrent the answer calls downloaded is on it).
    state.on_look()
    return state


Authed = Annotated[RealDebridState, Depends(_authed)]


def _int_param(request: Request, name: str) -> int | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return None
    try:
        value = int(raw)
    except ValueError:
        raise wrong_parameter() from None
    if value < 0:
        raise wrong_parameter()
    return value


async def _form_field(request: Request, name: str) -> str | None:
    form = await request.form()
    value = form.get(name)
    return value if isinstance(value, str) else None


def torrent_json(state: RealDebridState, torrent: EmulatedTorrent, *, detail: bool) -> dict[str, Any]:
    snap = state.snapshot(torrent)
    no_metadata = snap.status in ("magnet_conversion", "magnet_error")
    filename = torrent.magnet_name if no_metadata else torrent.name
    original_bytes = 0 if no_metadata else torrent.original_bytes
    out: dict[str, Any] = {
        "id": torrent.id,
        "filename": filename,
        "hash": torrent.hash,
        # Size of the selected files; before a selection RD shows the whole torrent.
        "bytes": torrent.selected_bytes if torrent.selected else original_bytes,
        "host": HOST,
        "split": torrent.split,
        "progress": snap.progress,
        "status": snap.status,
        "added": js_date(torrent.added),
        "links": state.links(torrent),
    }
    if detail:
        out["original_filename"] = filename
        out["original_bytes"] = original_bytes
        chosen = set(torrent.selected)
        out["files"] = (
            []
            if no_metadata
            else [
                {"id": i, "path": "/" + f.path.lstrip("/"), "bytes": f.size, "selected": int(i in chosen)}
                for i, f in enumerate(torrent.files, start=1)
            ]
        )
    if snap.ended is not None:
        out["ended"] = js_date(snap.ended)
    if snap.speed is not None and snap.status in ("downloading", "compressing", "uploading"):
        out["speed"] = snap.speed
    if snap.seeders is not None and snap.status in ("downloading", "magnet_conversion"):
        out["seeders"] = snap.seeders
    return out


class RateLimitMiddleware:
    """Refuses requests over the account's per-minute budget with RD's 429 body; refused ones still count."""

    def __init__(self, app: Callable[[Scope, Receive, Send], Any], state: RealDebridState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        counted = scope["type"] == "http" and not scope.get("path", "").startswith(CONTROL_PREFIX)
        if counted and not self.state.rate.hit():
            headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(TOO_MANY_BODY))]
            await send({"type": "http.response.start", "status": 429, "headers": headers})
            await send({"type": "http.response.body", "body": TOO_MANY_BODY})
            return
        await self.app(scope, receive, send)


def create_app(scenario: Scenario, clock: VirtualClock, *, monotonic: Callable[[], float] = time.monotonic) -> FastAPI:
    """The emulator app; `monotonic` is the real-time source of the rate limit (injectable for tests)."""
    state = RealDebridState(scenario, clock, monotonic=monotonic)
    app = FastAPI(title="Real-Debrid emulator", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.emulator = state

    @app.exception_handler(RdFailure)
    async def _rd_failure(request: Request, exc: RdFailure) -> Response:
        return error_response(exc.status, exc.error, exc.code)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 405:
            return error_response(405, "method_not_allowed", 4)
        if exc.status_code == 404:
            return error_response(404, "unknown_method", 3)
        return error_response(exc.status_code, "unknown_error", 0)

    @app.get(API + "/time")
    async def server_time() -> Response:
        return Response(clock.now().astimezone(_PARIS).strftime("%Y-%m-%d %H:%M:%S"), media_type="text/html")

    @app.get(API + "/time/iso")
    async def server_time_iso() -> Response:
        return Response(clock.now().astimezone(_PARIS).strftime("%Y-%m-%dT%H:%M:%S%z"), media_type="text/html")

    @app.get(API + "/user")
    async def user(request: Request, state: Authed) -> Response:
        name = state.username
        return rd_json(
            request,
            {
                "id": 1_000_000 + zlib.crc32(name.encode()) % 9_000_000,
                "username": name,
                "email": f"{name[:1]}***{name[-1:]}@sandbox.invalid",
                "points": 1000,
                "locale": "en",
                "avatar": "https://fcdn.real-debrid.com/images/forum/empty.png",
                "type": "premium" if state.is_premium() else "free",
                "premium": state.premium_seconds(),
                "expiration": js_date(state.premium_until.astimezone(UTC)),
            },
        )

    @app.get(API + "/torrents")
    async def torrents(request: Request, state: Authed) -> Response:
        limit = _int_param(request, "limit")
        limit = DEFAULT_LIMIT if limit is None else min(limit, state.page_limit or MAX_LIMIT)
        page = _int_param(request, "page")
        offset = (max(page, 1) - 1) * limit if page is not None else (_int_param(request, "offset") or 0)
        listing = state.listing(active_only=request.query_params.get("filter") == "active")
        chunk = listing[offset : offset + limit]
        return rd_json(
            request,
            [torrent_json(state, t, detail=False) for t in chunk],
            headers={"X-Total-Count": str(len(listing))} if state.total_header else None,
        )

    @app.get(API + "/torrents/info/{torrent_id}", name="torrent_info")
    async def torrent_info(request: Request, torrent_id: str, state: Authed) -> Response:
        return rd_json(request, torrent_json(state, state.get(torrent_id), detail=True))

    @app.post(API + "/torrents/addMagnet")
    async def add_magnet(request: Request, state: Authed) -> Response:
        magnet = await _form_field(request, "magnet")
        host = await _form_field(request, "host")
        if host and host != HOST:
            raise wrong_parameter()
        if not magnet:
            raise wrong_parameter()
        torrent = state.add_magnet(magnet)
        uri = str(request.url_for("torrent_info", torrent_id=torrent.id))
        return rd_json(request, {"id": torrent.id, "uri": uri}, status=201)

    @app.post(API + "/torrents/selectFiles/{torrent_id}")
    async def select_files(request: Request, torrent_id: str, state: Authed) -> Response:
        files = await _form_field(request, "files")
        if state.select_files(torrent_id, files):
            return Response(status_code=204)
        return error_response(202, "action_already_done", 31)

    @app.delete(API + "/torrents/delete/{torrent_id}")
    async def delete(torrent_id: str, state: Authed) -> Response:
        state.delete(torrent_id)
        return Response(status_code=204)

    @app.get(API + "/torrents/activeCount")
    async def active_count(request: Request, state: Authed) -> Response:
        return rd_json(request, {"nb": state.active_count(), "limit": state.active_limit})

    @app.get(API + "/torrents/availableHosts")
    async def available_hosts(request: Request, state: Authed) -> Response:
        return rd_json(request, [{"host": HOST, "max_file_size": 2000}])

    @app.get(API + "/torrents/instantAvailability/{hashes:path}")
    async def instant_availability(hashes: str) -> Response:
        # Switched off by RD on 2024-11-21; every call, whatever the token, gets this.
        return error_response(403, "disabled_endpoint", 37)

    @app.post(API + "/unrestrict/link")
    async def unrestrict_link(request: Request, state: Authed) -> Response:
        link = await _form_field(request, "link")
        if not link:
            raise wrong_parameter()
        answer = state.unrestrict(link)
        return rd_json(
            request,
            {
                "id": answer.id,
                "filename": answer.filename,
                "mimeType": mime_type(answer.filename),
                "filesize": answer.filesize,
                "link": answer.link,
                "host": HOST,
                "host_icon": "https://fcdn.real-debrid.com/0830/images/hosters/realdebrid.png",
                "chunks": 32,
                "crc": 1,
                "download": answer.download,
                "streamable": 1,
            },
        )

    app.add_middleware(RateLimitMiddleware, state=state)
    # Real-Debrid down answers 503 with its own error 25 (service_unavailable): it did not act on the call.
    install_sandbox(app, too_many_body=TOO_MANY_BODY, unavailable_body=UNAVAILABLE_BODY)
    return app
