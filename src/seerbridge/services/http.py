"""The one place that builds HTTP clients: timeouts, retries, no-burst rate limits, call counting, typed errors.

Every service client holds a `ServiceHttp`. A call goes: wait out any 429 pause → take a rate-limiter slot →
count it → send under a hard deadline → turn the response into a value or a typed `ServiceError`. Transient
failures are retried by stamina with exponential backoff and jitter; a 429's `Retry-After` wins over the backoff.
Calls that are not idempotent (e.g. adding a magnet) are retried only when the service certainly did not act on
them (connection refused, 429), because a retried POST after a timeout could add the same thing twice.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx
import stamina
import structlog
from aiolimiter import AsyncLimiter
from pydantic import BaseModel, TypeAdapter, ValidationError

from seerbridge.config import ServiceSettings
from seerbridge.errors import (
    AuthenticationError,
    BadResponse,
    NotFound,
    PermissionDenied,
    RateLimited,
    RequestRejected,
    ServiceError,
    ServiceTimeout,
    ServiceUnavailable,
    ServiceUnreachable,
)
from seerbridge.redact import redact
from seerbridge.services.calls import CallLedger, active_ledgers

log = structlog.get_logger("seerbridge.http")


class _RedactLogRecords(logging.Filter):
    """httpx logs every request URL at INFO, and a URL can carry a key (Torrentio's config segment)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = redact(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


for _name in ("httpx", "httpcore"):
    logging.getLogger(_name).addFilter(_RedactLogRecords())

T = TypeVar("T")


@dataclass(frozen=True)
class RemoteError:
    """What a service said about its own failure."""

    error: str | None = None
    error_code: int | None = None
    message: str = ""


ErrorReader = Callable[[httpx.Response], RemoteError]


def read_error_body(response: httpx.Response) -> RemoteError:
    """A general reader: JSON `error`/`error_code`, `message`, or ProblemDetails `title`/`detail`; else the text."""
    try:
        body = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return RemoteError(message=response.text.strip()[:200])
    if not isinstance(body, dict):
        return RemoteError(message=str(body)[:200])
    error = body.get("error")
    code = body.get("error_code")
    message = body.get("message") or body.get("detail") or body.get("title") or ""
    return RemoteError(
        error=str(error) if error is not None else None,
        error_code=code if isinstance(code, int) else None,
        message=str(message)[:200],
    )


def parse_retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def _retry_hook(exc: Exception) -> bool | float:
    if isinstance(exc, RateLimited) and exc.retry_after is not None:
        return exc.retry_after
    return isinstance(exc, ServiceError) and exc.retryable


def _safe_to_repeat(exc: Exception) -> bool | float:
    """For calls that must not run twice: retry only what the service surely did not act on."""
    if isinstance(exc, RateLimited):
        return _retry_hook(exc)
    return isinstance(exc, ServiceUnreachable) and exc.error == "connect_error"


class ServiceHttp:
    """An async HTTP client for one service, with that service's policy applied to every call."""

    def __init__(
        self,
        service: str,
        base_url: str,
        policy: ServiceSettings,
        *,
        headers: Mapping[str, str] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        ledger: CallLedger | None = None,
        read_error: ErrorReader = read_error_body,
        auth_failure_statuses: frozenset[int] = frozenset({401}),
    ) -> None:
        self.service = service
        self.policy = policy
        self.ledger = ledger if ledger is not None else CallLedger()
        self._read_error = read_error
        self._auth_failure_statuses = auth_failure_statuses
        self._client = httpx.AsyncClient(
            base_url=base_url.rstrip("/") + "/",
            headers=dict(headers or {}),
            timeout=httpx.Timeout(policy.timeout_s),
            transport=transport,
            follow_redirects=False,
        )
        rate = policy.rate_limit_per_min
        # One slot per interval and no bucket: a 250/min limit must never let 250 through in a burst.
        self._limiter = AsyncLimiter(1, 60.0 / rate) if rate > 0 else None
        self._paused_until = 0.0
        self._penalty_s = 0.0

    async def aclose(self) -> None:
        await self._client.aclose()

    async def __aenter__(self) -> ServiceHttp:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    @property
    def paused_for(self) -> float:
        """Seconds left in a pause imposed by a 429 (0 when not paused)."""
        return max(0.0, self._paused_until - time.monotonic())

    async def request(
        self,
        method: str,
        path: str,
        *,
        endpoint: str,
        params: Mapping[str, Any] | None = None,
        data: Mapping[str, Any] | None = None,
        json_body: Any = None,
        headers: Mapping[str, str] | None = None,
        ok: tuple[int, ...] = (200, 201, 202, 204),
        idempotent: bool | None = None,
    ) -> httpx.Response:
        """Send one logical call (retried as policy allows) and return a response whose status is in `ok`."""
        if idempotent is None:
            idempotent = method.upper() in {"GET", "HEAD", "PUT", "DELETE", "OPTIONS"}
        hook = _retry_hook if idempotent else _safe_to_repeat
        async for attempt in stamina.retry_context(
            on=hook,
            attempts=self.policy.retries,
            timeout=self.policy.retry_timeout_s,
            wait_initial=0.5,
            wait_max=30.0,
        ):
            with attempt:
                return await self._send_once(
                    method,
                    path,
                    endpoint=endpoint,
                    params=params,
                    data=data,
                    json_body=json_body,
                    headers=headers,
                    ok=ok,
                )
        raise AssertionError("unreachable: stamina re-raises the last error")  # pragma: no cover

    async def get_model(
        self, path: str, model: type[T] | TypeAdapter[T], *, endpoint: str, params: Mapping[str, Any] | None = None
    ) -> T:
        response = await self.request("GET", path, endpoint=endpoint, params=params)
        return self.parse(response, model, endpoint=endpoint)

    def parse(self, response: httpx.Response, model: type[T] | TypeAdapter[T], *, endpoint: str) -> T:
        """Read a JSON body into `model`; anything unreadable becomes BadResponse naming the service."""
        adapter: TypeAdapter[T] = model if isinstance(model, TypeAdapter) else TypeAdapter(model)
        try:
            return adapter.validate_json(response.content)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "body"
            if first["type"] == "json_invalid":
                detail = "the body is not valid JSON"
            else:
                detail = f"unexpected response shape at {where}: {first['msg']}"
            raise BadResponse(self.service, endpoint, redact(detail), status=response.status_code) from None

    async def _wait_for_slot(self) -> None:
        pause = self.paused_for
        if pause > 0:
            await asyncio.sleep(pause)
        if self._limiter is not None:
            await self._limiter.acquire()

    async def _send_once(
        self,
        method: str,
        path: str,
        *,
        endpoint: str,
        params: Mapping[str, Any] | None,
        data: Mapping[str, Any] | None,
        json_body: Any,
        headers: Mapping[str, str] | None,
        ok: tuple[int, ...],
    ) -> httpx.Response:
        await self._wait_for_slot()
        self.ledger.record(self.service, endpoint)
        for ledger in active_ledgers():
            ledger.record(self.service, endpoint)
        started = time.monotonic()
        try:
            # httpx's own timeout does not reach in-process (ASGI) transports; this deadline always does.
            async with asyncio.timeout(self.policy.timeout_s):
                response = await self._client.request(
                    method, path.lstrip("/"), params=params, data=data, json=json_body, headers=headers
                )
        except (TimeoutError, httpx.TimeoutException):
            log.warning("call timed out", service=self.service, endpoint=endpoint, timeout_s=self.policy.timeout_s)
            raise ServiceTimeout(
                self.service, endpoint, f"no answer within {self.policy.timeout_s:g}s", error="timeout"
            ) from None
        except httpx.ConnectError as exc:
            raise ServiceUnreachable(
                self.service, endpoint, redact(f"cannot connect: {exc}"), error="connect_error"
            ) from None
        except httpx.TransportError as exc:
            raise ServiceUnreachable(
                self.service, endpoint, redact(f"{type(exc).__name__}: {exc}"), error="transport_error"
            ) from None
        elapsed_ms = round((time.monotonic() - started) * 1000, 1)
        log.debug("call", service=self.service, endpoint=endpoint, status=response.status_code, ms=elapsed_ms)
        if response.status_code in ok:
            self._penalty_s = max(0.0, self._penalty_s / 2 - 0.5)
            return response
        raise self._error_for(response, endpoint)

    def _error_for(self, response: httpx.Response, endpoint: str) -> ServiceError:
        status = response.status_code
        remote = self._read_error(response)
        fields: dict[str, Any] = {
            "status": status,
            "error": redact(remote.error) if remote.error else None,
            "error_code": remote.error_code,
        }
        message = redact(remote.message)
        if status == 429:
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            # Without a hint, back off the whole client, doubling while 429s keep coming.
            self._penalty_s = min(max(self._penalty_s * 2, 1.0), 60.0)
            pause = retry_after if retry_after is not None else self._penalty_s
            self._paused_until = max(self._paused_until, time.monotonic() + pause)
            log.warning("rate limited", service=self.service, endpoint=endpoint, pause_s=round(pause, 2))
            return RateLimited(self.service, endpoint, message, retry_after=retry_after, **fields)
        if status in self._auth_failure_statuses:
            return AuthenticationError(self.service, endpoint, message or "credentials refused", **fields)
        if status == 403:
            return PermissionDenied(self.service, endpoint, message, **fields)
        if status == 404:
            return NotFound(self.service, endpoint, message, **fields)
        if status >= 500:
            return ServiceUnavailable(self.service, endpoint, message, **fields)
        if 200 <= status < 300:
            return BadResponse(self.service, endpoint, f"unexpected status {status}", **fields)
        return RequestRejected(self.service, endpoint, message, **fields)


__all__ = ["BaseModel", "RemoteError", "ServiceHttp", "parse_retry_after", "read_error_body"]
