"""Fault injection and request recording for every emulator, as one ASGI middleware.

Faults are chosen per request from a `FaultPlan` (rates for 5xx, hangs and malformed bodies) and from queued
one-off faults ("the next 20 calls get 429"). Every request is recorded with its time, so tests can assert what a
service saw, e.g. that no 60-second window held more than 250 Real-Debrid calls. The plan can be changed from
Python (`app.state.sandbox`) or over HTTP at `/__sandbox/faults` (GET to read, PUT to set, DELETE to clear).
"""

from __future__ import annotations

import asyncio
import json
import random
import re
import time
from collections import deque
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any, Literal

from fastapi import FastAPI
from pydantic import BaseModel, Field

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# "timeout" hangs before the service acts; "slow_answer" acts at once and hangs before the answer leaves (the
# caller may give up on a call that took effect); "acts_late": a gateway answers 504 after `hang_s` while the
# service behind it carries the call out later still (after 2 × `hang_s`), when the caller has moved on.
FaultKind = Literal["error", "timeout", "slow_answer", "acts_late", "malformed", "too_many"]
CONTROL_PREFIX = "/__sandbox"


class FaultPlan(BaseModel):
    """How often each fault happens; all zero means a healthy service."""

    error_rate: float = Field(0.0, ge=0, le=1, description="Share of calls answered with `error_status`.")
    error_status: int = Field(503, ge=500, le=599)
    timeout_rate: float = Field(0.0, ge=0, le=1, description="Share of calls that hang for `hang_s` before answering.")
    hang_s: float = Field(30.0, ge=0)
    malformed_rate: float = Field(
        0.0, ge=0, le=1, description="Share of calls answered 200 with a body that is not JSON."
    )
    too_many_rate: float = Field(0.0, ge=0, le=1, description="Share of calls answered 429.")
    path_pattern: str | None = Field(None, description="Regex; when set, only matching paths get faults.")
    seed: int | None = None


@dataclass(frozen=True)
class RequestRecord:
    """One request an emulator received."""

    at: float  # time.monotonic()
    method: str
    path: str
    status: int
    fault: FaultKind | None
    query: str = ""  # the query string, e.g. "filter=active&offset=0&limit=5000"


@dataclass
class SandboxControl:
    """The state behind the middleware: the plan, queued faults and the request log."""

    too_many_body: bytes
    too_many_type: str
    # What the service itself says when it is down (503): Real-Debrid's JSON error 25; None: a gateway's HTML page.
    unavailable_body: bytes | None = None
    plan: FaultPlan = field(default_factory=FaultPlan)
    queued: deque[FaultKind] = field(default_factory=deque)
    late: list[asyncio.Future[None]] = field(default_factory=list)  # calls an "acts_late" fault carries out later
    # When set, those calls wait for this event instead of 2 × hang_s: a test decides when "later" is.
    late_gate: asyncio.Event | None = None
    entered: list[str] = field(default_factory=list)  # "METHOD path" of every call as it arrives (before any fault)
    log: list[RequestRecord] = field(default_factory=list)
    _rng: random.Random = field(default_factory=random.Random)

    def set_plan(self, plan: FaultPlan) -> None:
        self.plan = plan
        self._rng = random.Random(plan.seed)

    def clear(self) -> None:
        self.set_plan(FaultPlan())
        self.queued.clear()

    def queue(self, kind: FaultKind, count: int = 1) -> None:
        """Make the next `count` calls fail with `kind`, before any random faults."""
        self.queued.extend([kind] * count)

    def choose(self, path: str) -> FaultKind | None:
        if path.startswith(CONTROL_PREFIX):
            return None
        if self.plan.path_pattern and not re.search(self.plan.path_pattern, path):
            return None
        if self.queued:
            return self.queued.popleft()
        draw = self._rng.random()
        for kind, rate in (
            ("too_many", self.plan.too_many_rate),
            ("error", self.plan.error_rate),
            ("timeout", self.plan.timeout_rate),
            ("malformed", self.plan.malformed_rate),
        ):
            if draw < rate:
                return kind  # type: ignore[return-value]
            draw -= rate
        return None

    def max_in_window(self, window_s: float = 60.0, *, path_prefix: str = "") -> int:
        """The most requests seen in any `window_s`-second window (faulted and refused ones included)."""
        times = [r.at for r in self.log if r.path.startswith(path_prefix) and not r.path.startswith(CONTROL_PREFIX)]
        best, lo = 0, 0
        for hi, t in enumerate(times):
            while t - times[lo] >= window_s:
                lo += 1
            best = max(best, hi - lo + 1)
        return best

    def count(self, method: str | None = None, path_pattern: str | None = None) -> int:
        return sum(
            1
            for r in self.log
            if not r.path.startswith(CONTROL_PREFIX)
            and (method is None or r.method == method)
            and (path_pattern is None or re.search(path_pattern, r.path))
        )


class SandboxMiddleware:
    """Wraps an emulator app: records each request and injects the faults its `SandboxControl` picks."""

    def __init__(self, app: ASGIApp, control: SandboxControl) -> None:
        self.app = app
        self.control = control

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        method: str = scope.get("method", "GET")
        if path == f"{CONTROL_PREFIX}/faults":
            await self._control(method, receive, send)
            return
        self.control.entered.append(f"{method} {path}")
        fault = self.control.choose(path)
        status_box = [0]

        async def recording_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_box[0] = message["status"]
            await send(message)

        started = time.monotonic()
        try:
            if fault == "timeout":
                await asyncio.sleep(self.control.plan.hang_s)
                await self.app(scope, receive, recording_send)
            elif fault == "acts_late":
                body = await _read_body(receive)
                self.control.late.append(asyncio.ensure_future(self._later(scope, body)))
                await asyncio.sleep(self.control.plan.hang_s)
                await _respond(recording_send, 504, b"<html>gateway timeout</html>", "text/html")
            elif fault == "slow_answer":
                held: list[Message] = []

                async def hold(message: Message) -> None:
                    held.append(message)

                await self.app(scope, receive, hold)  # the service acts now
                await asyncio.sleep(self.control.plan.hang_s)
                for message in held:
                    await recording_send(message)
            elif fault == "error":
                status = self.control.plan.error_status
                if status == 503 and self.control.unavailable_body is not None:
                    await _respond(recording_send, status, self.control.unavailable_body, "application/json")
                else:
                    await _respond(recording_send, status, b"<html>upstream error</html>", "text/html")
            elif fault == "too_many":
                await _respond(recording_send, 429, self.control.too_many_body, self.control.too_many_type)
            elif fault == "malformed":
                await _respond(recording_send, 200, b'{"truncated": [1, 2', "application/json")
            else:
                await self.app(scope, receive, recording_send)
        finally:
            query = scope.get("query_string", b"").decode("latin-1")
            self.control.log.append(RequestRecord(started, method, path, status_box[0], fault, query))

    async def _later(self, scope: Scope, body: bytes) -> None:
        """The call a gateway gave up on, carried out by the service later; its answer goes nowhere."""
        if self.control.late_gate is not None:
            await self.control.late_gate.wait()
        else:
            await asyncio.sleep(2 * self.control.plan.hang_s)
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if sent:
                return {"type": "http.disconnect"}
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        async def nowhere(message: Message) -> None:
            return None

        await self.app(scope, replay, nowhere)

    async def _control(self, method: str, receive: Receive, send: Send) -> None:
        if method == "PUT":
            body = await _read_body(receive)
            try:
                self.control.set_plan(FaultPlan.model_validate_json(body or b"{}"))
            except ValueError as exc:
                await _respond(send, 422, json.dumps({"error": str(exc)}).encode(), "application/json")
                return
        elif method == "DELETE":
            self.control.clear()
        elif method != "GET":
            await _respond(send, 405, b"", "text/plain")
            return
        payload = {"plan": self.control.plan.model_dump(), "queued": len(self.control.queued)}
        await _respond(send, 200, json.dumps(payload).encode(), "application/json")


async def _read_body(receive: Receive) -> bytes:
    body = b""
    while True:
        message = await receive()
        body += bytes(message.get("body", b""))
        if not message.get("more_body"):
            return body


async def _respond(send: Send, status: int, body: bytes, content_type: str) -> None:
    headers = [(b"content-type", content_type.encode()), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def install_sandbox(
    app: FastAPI,
    *,
    too_many_body: bytes,
    too_many_type: str = "application/json",
    unavailable_body: bytes | None = None,
) -> SandboxControl:
    """Add fault injection and request recording to an emulator; the control is also at `app.state.sandbox`."""
    control = SandboxControl(
        too_many_body=too_many_body, too_many_type=too_many_type, unavailable_body=unavailable_body
    )
    app.add_middleware(SandboxMiddleware, control=control)
    app.state.sandbox = control
    return control
