"""The one place that builds HTTP clients: timeouts, retries, pacing, circuit breaking, call counting, typed errors.

Every service client holds a `ServiceHttp`. One attempt goes: fail fast if the service is paused for longer than a
call may wait (a long 429 pause, a fair-usage pause) or its circuit breaker is open → take a slot from the pacer
(`budget.Pacer`: the hard per-minute window, even spacing, short pauses) → count it → send under a hard deadline →
tell the breaker whether the service answered → turn the response into a value or a typed `ServiceError`.

Transient failures are retried by stamina with exponential backoff and jitter, and every attempt takes its own slot
and counts; a 429's `Retry-After` wins over the backoff (unless it is longer than the retry budget: then the error
is raised at once and later calls fail fast until the pause ends). Calls that are not idempotent (e.g. adding a
magnet) are retried only when the service certainly did not act on them (connection refused, 429), because a
retried POST after a timeout could add the same thing twice. Answers that mean "an account limit is reached"
(the `account_limit` hook; Real-Debrid's fair-usage and slot limits) are neither retried nor counted as outages.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar

import httpx
import stamina
import structlog
from pydantic import BaseModel, TypeAdapter, ValidationError

from seerbridge import clock
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
from seerbridge.services.breaker import CircuitBreaker
from seerbridge.services.budget import LongPause, Pacer
from seerbridge.services.calls import CallLedger, active_ledgers

log = structlog.get_logger("seerbridge.http")


def _log_retry(details: stamina.instrumentation.RetryDetails) -> None:
    """One line per retry, naming the service and call (stamina's own says `<context block>`, at warning level,
    for a hiccup the retry usually gets past; what the retries cannot fix is reported where it fails)."""
    exc = details.caused_by
    log.info(
        "retrying",
        service=getattr(exc, "service", None),
        endpoint=getattr(exc, "endpoint", None),
        retry=details.retry_num,
        wait_s=round(details.wait_for, 2),
        error=redact(str(exc)),
    )


stamina.instrumentation.set_on_retry_hooks([_log_retry])


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


@dataclass(frozen=True)
class AccountLimit:
    """An answer meaning "an account limit is reached": not an outage, not retried; `pause_s` > 0 pauses the client."""

    reason: str
    pause_s: float = 0.0


LimitReader = Callable[[int, RemoteError], AccountLimit | None]


def no_account_limits(status: int, remote: RemoteError) -> AccountLimit | None:
    return None


class Paused(RateLimited):
    """The client is paused (after a 429 or an account limit) for longer than a call may wait: not sent, not retried."""

    retryable = False


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
        account_limit: LimitReader = no_account_limits,
        pacer: Pacer | None = None,
        breaker: CircuitBreaker | None = None,
    ) -> None:
        self.service = service
        self.policy = policy
        self.ledger = ledger if ledger is not None else CallLedger()
        self._read_error = read_error
        self._auth_failure_statuses = auth_failure_statuses
        self._account_limit = account_limit
        self._client = httpx.AsyncClient(
            base_url=base_url.rstrip("/") + "/",
            headers=dict(headers or {}),
            timeout=httpx.Timeout(policy.timeout_s),
            transport=transport,
            follow_redirects=False,
        )
        self.pacer = pacer or Pacer(
            policy.rate_limit_per_min,
            margin_s=policy.rate_margin_s,
            recovery_s=policy.slowdown_recovery_s,
            pause_s=policy.rate_limited_pause_s,
            max_pause_s=policy.rate_limited_max_pause_s,
        )
        self.breaker = breaker or CircuitBreaker(
            service,
            threshold=policy.breaker_failures,
            cooldown_s=policy.breaker_cooldown_s,
            max_cooldown_s=policy.breaker_max_cooldown_s,
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    async def __aenter__(self) -> ServiceHttp:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    @property
    def paused_for(self) -> float:
        """Seconds left in a pause imposed by a 429 or an account limit (0 when not paused)."""
        return self.pacer.paused_for

    def pause(self, seconds: float, reason: str) -> None:
        """Hold every call for `seconds`; logged once when a new pause starts."""
        was = self.pacer.paused_for
        self.pacer.pause(seconds, reason)
        if self.pacer.paused_for > was + 1.0:
            log.warning(
                "calls paused",
                service=self.service,
                reason=reason,
                pause_s=round(self.pacer.paused_for, 1),
                until=(clock.now() + timedelta(seconds=self.pacer.paused_for)).isoformat(timespec="seconds"),
            )

    def rate_limited(self, endpoint: str, retry_after: float | None = None) -> float:
        """The service answered 429: pause and slow down the whole client; returns the pause in seconds."""
        pause = self.pacer.too_many(retry_after)
        log.warning(
            "rate limited",
            service=self.service,
            endpoint=endpoint,
            pause_s=round(pause, 2),
            pace_share=round(self.pacer.share, 2),
        )
        return pause

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
        timeout_s: float | None = None,
    ) -> httpx.Response:
        """Send one logical call (retried as policy allows) and return a response whose status is in `ok`;
        `timeout_s` replaces the policy's deadline for each attempt (a slow call such as a long listing)."""
        if idempotent is None:
            idempotent = method.upper() in {"GET", "HEAD", "PUT", "DELETE", "OPTIONS"}
        hook = self._may_retry if idempotent else self._may_repeat
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
                    timeout_s=timeout_s if timeout_s is not None else self.policy.timeout_s,
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

    def _may_retry(self, exc: Exception) -> bool | float:
        """stamina's hook: retry what may pass; a Retry-After is the wait, unless it exceeds the retry budget."""
        if not isinstance(exc, ServiceError) or not exc.retryable:
            return False
        if isinstance(exc, RateLimited) and exc.retry_after is not None:
            return exc.retry_after if exc.retry_after <= self.policy.retry_timeout_s else False
        return True

    def _may_repeat(self, exc: Exception) -> bool | float:
        """For calls that must not run twice: retry only what the service surely did not act on: a 429, a refused
        connection, or the service's own "service unavailable" answer (Real-Debrid's 503 with error 25 means it did
        not take the call; a gateway's bare 5xx page says nothing of the kind, so that is not repeated)."""
        if isinstance(exc, RateLimited):
            return self._may_retry(exc)
        if isinstance(exc, ServiceUnavailable) and exc.error == "service_unavailable":
            return self._may_retry(exc)
        return isinstance(exc, ServiceUnreachable) and exc.error == "connect_error"

    def refuse_if_down(self, endpoint: str) -> None:
        """Raise now what a call would meet before being sent (an open breaker, a long pause), without waiting:
        for a caller that spends a budget before calling."""
        self.breaker.refuse_if_open(endpoint)
        if self.pacer.paused_for > self.policy.retry_timeout_s:
            raise self._paused(endpoint, self.pacer.paused_for, self.pacer.pause_reason)

    def _paused(self, endpoint: str, seconds: float, reason: str) -> Paused:
        return Paused(
            self.service,
            endpoint,
            f"calls paused for {seconds:.0f}s more ({reason or 'a pause'})",
            error="paused",
            retry_after=round(seconds, 1),
        )

    async def _take_slot(self, endpoint: str) -> None:
        """A slot from the pacer; a pause longer than one call's retry budget raises Paused instead of waiting."""
        try:
            await self.pacer.acquire(max_pause_s=self.policy.retry_timeout_s)
        except LongPause as pause:
            raise self._paused(endpoint, pause.seconds, pause.reason) from None

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
        timeout_s: float,
    ) -> httpx.Response:
        self.breaker.refuse_if_open(endpoint)
        await self._take_slot(endpoint)
        trial = self.breaker.admit(endpoint)  # it may have opened while we waited for the slot
        self.ledger.record(self.service, endpoint)
        for ledger in active_ledgers():
            ledger.record(self.service, endpoint)
        started = time.monotonic()
        try:
            # httpx's own timeout does not reach in-process (ASGI) transports; this deadline always does.
            async with asyncio.timeout(timeout_s):
                response = await self._client.request(
                    method,
                    path.lstrip("/"),
                    params=params,
                    data=data,
                    json=json_body,
                    headers=headers,
                    timeout=httpx.Timeout(timeout_s),
                )
        except (TimeoutError, httpx.TimeoutException):
            log.warning("call timed out", service=self.service, endpoint=endpoint, timeout_s=timeout_s)
            error: ServiceError = ServiceTimeout(
                self.service, endpoint, f"no answer within {timeout_s:g}s", error="timeout"
            )
            self.breaker.outage(str(error), trial=trial)
            raise error from None
        except httpx.ConnectError as exc:
            error = ServiceUnreachable(self.service, endpoint, redact(f"cannot connect: {exc}"), error="connect_error")
            self.breaker.outage(str(error), trial=trial)
            raise error from None
        except httpx.TransportError as exc:
            error = ServiceUnreachable(
                self.service, endpoint, redact(f"{type(exc).__name__}: {exc}"), error="transport_error"
            )
            self.breaker.outage(str(error), trial=trial)
            raise error from None
        except BaseException:  # cancelled: the call proved nothing either way (abandoned never raises over it)
            if trial is not None:
                self.breaker.abandoned(trial)
            raise
        elapsed_ms = round((time.monotonic() - started) * 1000, 1)
        log.debug("call", service=self.service, endpoint=endpoint, status=response.status_code, ms=elapsed_ms)
        if response.status_code in ok:
            self.breaker.success(trial=trial)
            self.pacer.answered()
            return response
        error, outage = self._error_for(response, endpoint)
        if outage:
            self.breaker.outage(str(error), trial=trial)
        else:
            self.breaker.success(trial=trial)  # it answered: up, even if it said no
        raise error

    def _error_for(self, response: httpx.Response, endpoint: str) -> tuple[ServiceError, bool]:
        """The typed error for a refused call, and whether it is an outage (for the circuit breaker)."""
        status = response.status_code
        remote = self._read_error(response)
        fields: dict[str, Any] = {
            "status": status,
            "error": redact(remote.error) if remote.error else None,
            "error_code": remote.error_code,
        }
        message = redact(remote.message)
        limit = self._account_limit(status, remote) if status >= 400 else None
        if limit is not None:
            if limit.pause_s > 0:
                self.pause(limit.pause_s, limit.reason)
            return RequestRejected(self.service, endpoint, message or limit.reason, **fields), False
        if status == 429:
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            # Without a hint, back off the whole client, doubling while 429s keep coming, and slow its pace.
            self.rate_limited(endpoint, retry_after)
            return RateLimited(self.service, endpoint, message, retry_after=retry_after, **fields), False
        if status in self._auth_failure_statuses:
            return AuthenticationError(self.service, endpoint, message or "credentials refused", **fields), False
        if status == 403:
            return PermissionDenied(self.service, endpoint, message, **fields), False
        if status == 404:
            return NotFound(self.service, endpoint, message, **fields), False
        if status >= 500:
            return ServiceUnavailable(self.service, endpoint, message, **fields), True
        if 200 <= status < 300:
            return BadResponse(self.service, endpoint, f"unexpected status {status}", **fields), False
        return RequestRejected(self.service, endpoint, message, **fields), False


__all__ = [
    "AccountLimit",
    "BaseModel",
    "LimitReader",
    "Paused",
    "RemoteError",
    "ServiceHttp",
    "no_account_limits",
    "parse_retry_after",
    "read_error_body",
]
