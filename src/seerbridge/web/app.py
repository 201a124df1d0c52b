"""The FastAPI app: `POST /webhook/seerr` (shared secret), `GET`/`HEAD /play/{token}` and `GET /healthz`; it never
crashes on input.

Approvals start work on that request at once through `submit`, which coalesces duplicates (Seerr may notify
twice). Polling stays the safety net, so a lost webhook only delays work.

Answers: 202 work queued (or already queued), 200 test or ignored type, 400 not JSON, 401 wrong or missing
secret, or none configured (checked before the body is read), 413 body over `MAX_BODY_BYTES`, 422 JSON of the
wrong shape. The body is parsed by hand rather than by a FastAPI body parameter so that each refusal carries our
own clear message; the OpenAPI document still describes it (`_document_webhook`).

`/play/{token}` is what strm entries hold. The token is the credential (the webhook secret is not asked for), and
the answer is a redirect to a fresh Real-Debrid download link, so a player's byte ranges go straight to Real-Debrid:
302 with `Location`, 404 for a forged or unknown token (or when no resolver is configured), 503 with `Retry-After`
and a one-line reason when the file cannot be played now. HEAD gets the same status and headers, without a body.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ValidationError

from seerbridge.arr.facade import ArrFacade
from seerbridge.library.play import PlayRedirect, PlayResolver, PlayUnavailable
from seerbridge.web.body import MAX_BODY_BYTES, TooLarge, parse_json, read_capped
from seerbridge.web.servarr import add_servarr_routes
from seerbridge.web.webhook import WORK_TYPES, SeerrWebhook

log = structlog.get_logger("seerbridge.web")

Submit = Callable[[int, str], bool]
"""submit(request_id, why) -> True when queued, False when it was already waiting or running."""
Health = Callable[[], dict[str, Any]]

WEBHOOK_PATH = "/webhook/seerr"
PLAY_PATH = "/play/{token}"
PLAY_RETRY_AFTER_S = 60
"""What a 503 from /play/ asks a player to wait: as long as the resolver remembers a lost file by default."""
_PLAY_RESPONSES: dict[int | str, dict[str, Any]] = {
    302: {
        "description": "A fresh Real-Debrid download link for the entry's file (Range requests go there)",
        "headers": {"Location": {"description": "The download URL", "schema": {"type": "string"}}},
    },
    404: {"description": "Forged or unknown token, or no such library entry", "content": {"text/plain": {}}},
    503: {
        "description": "The file cannot be played now (gone from Real-Debrid and reported for repair, or Real-Debrid "
        "unavailable); the body is the reason",
        "headers": {"Retry-After": {"description": "Seconds", "schema": {"type": "integer"}}},
        "content": {"text/plain": {}},
    },
}
NO_SECRET = (
    "no webhook secret is configured: set SEERBRIDGE_WEBHOOK__SECRET, and the same value as Seerr's webhook "
    "Authorization Header"
)


class WebhookAnswer(BaseModel):
    status: str
    detail: str = ""
    request_id: int | None = None
    queued: bool | None = None


def _authorized(given: str | None, secret: str) -> bool:
    # Without a secret, nobody is let in: an open webhook would let anyone trigger Real-Debrid calls.
    return bool(secret) and given is not None and hmac.compare_digest(given.encode(), secret.encode())


def create_app(
    *,
    submit: Submit,
    health: Health,
    secret: str,
    play: PlayResolver | None = None,
    arr: ArrFacade | None = None,
    arr_key: str = "",
) -> FastAPI:
    """The app; without `play` (no strm library), every /play/ address answers 404; without `arr` (or its key),
    every call to the Radarr/Sonarr servers answers 401."""
    app = FastAPI(title="seerbridge", version="1", docs_url=None, redoc_url=None)

    @app.post(
        WEBHOOK_PATH,
        status_code=202,
        response_model=WebhookAnswer,
        responses={
            200: {"model": WebhookAnswer, "description": "Test notification, or a type that needs no work"},
            202: {"model": WebhookAnswer, "description": "Work on the request is queued (or already queued)"},
            400: {"model": WebhookAnswer, "description": "The body is not JSON"},
            401: {
                "model": WebhookAnswer,
                "description": "Wrong or missing Authorization header, or no secret configured in seerbridge",
            },
            413: {"model": WebhookAnswer, "description": "The body is too large"},
            422: {"model": WebhookAnswer, "description": "JSON, but not a Seerr webhook body"},
        },
    )
    async def seerr_webhook(request: Request) -> JSONResponse:
        """A Seerr webhook notification in the default template; approvals start work on that request."""
        if not secret:
            log.warning("webhook refused: no webhook secret is configured (set SEERBRIDGE_WEBHOOK__SECRET)")
            return _answer(401, "unauthorized", NO_SECRET)
        if not _authorized(request.headers.get("authorization"), secret):
            log.warning("webhook refused: wrong or missing Authorization header")
            return _answer(401, "unauthorized", "wrong or missing Authorization header")
        try:
            raw = await read_capped(request)
        except TooLarge:
            return _answer(413, "too_large", f"the body is over {MAX_BODY_BYTES} bytes")
        try:
            data = parse_json(raw)
        except ValueError as exc:
            return _answer(400, "bad_request", f"the body is not JSON ({_short(str(exc))})")
        try:
            hook = SeerrWebhook.model_validate(data)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "body"
            more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
            return _answer(422, "invalid", f"{where}: {first['msg']}{more}")
        kind = hook.notification_type
        if kind == "TEST_NOTIFICATION":
            log.info("webhook test received")
            return _answer(200, "ok", "test notification received")
        if kind not in WORK_TYPES:
            return _answer(200, "ignored", f"{kind} needs no work")
        request_id = hook.request_id()
        if request_id is None:
            return _answer(422, "invalid", f"request.request_id must be a positive number for {kind}")
        queued = submit(request_id, f"webhook {kind}")
        log.info("webhook", type=kind, request_id=request_id, queued=queued)
        return _answer(202, "accepted", "queued" if queued else "already queued", request_id, queued)

    @app.get("/healthz", responses={503: {"description": "The daemon reports itself not alive"}})
    async def healthz() -> JSONResponse:
        """Liveness and the last successful pass; 503 when the daemon says it is not alive."""
        body = health()
        return JSONResponse(body, status_code=200 if body.get("alive", True) else 503)

    async def play_entry(request: Request, token: str) -> Response:
        """Redirect to a fresh Real-Debrid download link for the library entry the token names."""
        if play is None:
            return _plain(request, 404, "not found")
        outcome = await play.resolve(token)
        if isinstance(outcome, PlayRedirect):
            # no-store: the link is a bearer URL that expires; nothing between us and the player should keep it.
            return Response(status_code=302, headers={"Location": outcome.url, "Cache-Control": "no-store"})
        if isinstance(outcome, PlayUnavailable):
            headers = {"Retry-After": str(PLAY_RETRY_AFTER_S)}
            return _plain(request, 503, f"unavailable: {_one_line(outcome.reason)}", headers)
        return _plain(request, 404, "not found")

    # One route per method: a GET+HEAD route would give both operations the same OpenAPI operation id.
    for method in ("GET", "HEAD"):
        app.add_api_route(
            PLAY_PATH,
            play_entry,
            methods=[method],
            status_code=302,
            response_class=Response,
            responses=_PLAY_RESPONSES,
            summary="Play a library entry",
        )

    add_servarr_routes(app, arr, arr_key)
    _document_webhook(app)
    return app


def _plain(request: Request, status: int, text: str, headers: dict[str, str] | None = None) -> Response:
    """A short text answer; for HEAD the same headers (Content-Length of the text included) and no body."""
    body = (text + "\n").encode()
    all_headers = {"Cache-Control": "no-store", **(headers or {})}
    if request.method == "HEAD":
        all_headers["Content-Length"] = str(len(body))
        body = b""
    return Response(body, status_code=status, headers=all_headers, media_type="text/plain; charset=utf-8")


def _document_webhook(app: FastAPI) -> None:
    """Put the webhook's body schema and its shared-secret header into the app's OpenAPI document."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        document = generate()
        body = SeerrWebhook.model_json_schema(ref_template="#/components/schemas/{model}")
        components = document.setdefault("components", {})
        schemas = components.setdefault("schemas", {})
        schemas.update(body.pop("$defs", {}))
        schemas["SeerrWebhook"] = body
        components.setdefault("securitySchemes", {})["seerrSecret"] = {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "The shared secret (SEERBRIDGE_WEBHOOK__SECRET), set as Seerr's Authorization Header.",
        }
        operation = document["paths"][WEBHOOK_PATH]["post"]
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/SeerrWebhook"}}},
        }
        operation["security"] = [{"seerrSecret": []}]
        app.openapi_schema = document
        return document

    app.openapi = openapi  # type: ignore[method-assign]


def _short(text: str, limit: int = 120) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _one_line(text: str) -> str:
    return _short(" ".join(text.split()), 300)


def _answer(
    status: int, word: str, detail: str, request_id: int | None = None, queued: bool | None = None
) -> JSONResponse:
    body = WebhookAnswer(status=word, detail=detail, request_id=request_id, queued=queued)
    return JSONResponse(body.model_dump(exclude_none=True), status_code=status)
