"""The shared HTTP layer: retries, Retry-After, no-burst limits, deadlines, typed errors, call attribution."""

from __future__ import annotations

import asyncio
import itertools
import json
import socket
import time

import httpx
import pytest
import stamina
from pydantic import BaseModel
from structlog.testing import capture_logs

from seerbridge.config import ServiceSettings
from seerbridge.errors import (
    AuthenticationError,
    BadResponse,
    NotFound,
    RequestRejected,
    ServiceTimeout,
    ServiceUnavailable,
    ServiceUnreachable,
)
from seerbridge.redact import register
from seerbridge.services.calls import CallLedger, attribute_calls
from seerbridge.services.http import ServiceHttp


class Script:
    """A transport answering from a list of (status, body, headers) in order; records every request."""

    def __init__(self, *answers: tuple[int, object, dict[str, str]]) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        status, body, headers = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        content = body if isinstance(body, bytes) else json.dumps(body).encode()
        return httpx.Response(status, content=content, headers=headers)


def client(script: Script, **policy: float) -> ServiceHttp:
    settings = ServiceSettings(**{"timeout_s": 2.0, "retries": 3, **policy})  # type: ignore[arg-type]
    return ServiceHttp("svc", "http://svc.test/base", settings, transport=httpx.MockTransport(script))


class Thing(BaseModel):
    id: int


async def test_transient_5xx_is_retried_and_every_attempt_counted() -> None:
    script = Script((503, {"error": "busy"}, {}), (502, b"", {}), (200, {"id": 1}, {}))
    http = client(script)
    thing = await http.get_model("things/1", Thing, endpoint="things")
    assert thing.id == 1
    assert len(script.requests) == 3
    assert str(script.requests[0].url) == "http://svc.test/base/things/1"
    assert http.ledger.by_endpoint("svc") == {"things": 3}


async def test_each_retry_is_one_info_line_naming_the_service_and_call() -> None:
    script = Script((503, {"error": "busy"}, {}), (200, {"id": 1}, {}))
    with capture_logs() as events:
        await client(script).request("GET", "x", endpoint="torrents/info")
    (retry,) = [e for e in events if e["event"] == "retrying"]
    assert retry["log_level"] == "info"
    assert (retry["service"], retry["endpoint"], retry["retry"]) == ("svc", "torrents/info", 1)
    assert "503" in retry["error"]
    assert not [e for e in events if e["event"] == "stamina.retry_scheduled"]


async def test_retries_give_up_with_the_typed_error() -> None:
    http = client(Script((503, {"error": "down", "error_code": 25}, {})))
    with pytest.raises(ServiceUnavailable) as err:
        await http.request("GET", "x", endpoint="x")
    assert err.value.error == "down"
    assert err.value.error_code == 25
    assert err.value.status == 503


async def test_retry_after_is_honoured_and_pauses_the_client() -> None:
    script = Script((429, {"error": "too_many_requests", "error_code": 34}, {"Retry-After": "0.2"}), (200, {}, {}))
    http = client(script)
    started = time.monotonic()
    await http.request("GET", "x", endpoint="x")
    assert time.monotonic() - started >= 0.19
    assert len(script.requests) == 2


async def test_post_that_may_have_acted_is_not_repeated() -> None:
    script = Script((503, {}, {}), (201, {"id": "A"}, {}))
    http = client(script)
    with pytest.raises(ServiceUnavailable):
        await http.request("POST", "add", endpoint="add", data={"magnet": "m"})
    assert len(script.requests) == 1


async def test_post_is_repeated_after_a_429_because_nothing_happened() -> None:
    script = Script((429, {}, {"Retry-After": "0"}), (201, {"id": "A"}, {}))
    http = client(script)
    response = await http.request("POST", "add", endpoint="add", data={"magnet": "m"})
    assert response.status_code == 201
    assert len(script.requests) == 2
    assert script.requests[1].headers["content-type"] == "application/x-www-form-urlencoded"


@pytest.mark.parametrize(
    ("status", "body", "error_type"),
    [
        (401, {"error": "bad_token", "error_code": 8}, AuthenticationError),
        (404, {"error": "unknown_ressource", "error_code": 7}, NotFound),
        (451, {"error": "infringing_file", "error_code": 35}, RequestRejected),
    ],
)
async def test_service_errors_are_typed_and_carry_the_service_words(
    status: int, body: dict[str, object], error_type: type[Exception]
) -> None:
    script = Script((status, body, {}))
    http = client(script)
    with pytest.raises(error_type) as err:
        await http.request("GET", "x", endpoint="x")
    assert err.value.error == body["error"]  # type: ignore[attr-defined]
    assert err.value.error_code == body["error_code"]  # type: ignore[attr-defined]
    assert len(script.requests) == 1  # not retryable


async def test_unreadable_body_is_a_bad_response_not_a_crash() -> None:
    http = client(Script((200, b'{"id": ', {})))
    with pytest.raises(BadResponse, match="not valid JSON"):
        await http.get_model("x", Thing, endpoint="x")
    http = client(Script((200, {"id": "five"}, {})))
    with pytest.raises(BadResponse, match="unexpected response shape at id"):
        await http.get_model("x", Thing, endpoint="x")


async def test_hung_service_hits_the_deadline_even_in_process() -> None:
    async def hang(scope: object, receive: object, send: object) -> None:
        await asyncio.sleep(10)

    settings = ServiceSettings(timeout_s=0.05)
    http = ServiceHttp("svc", "http://svc.test", settings, transport=httpx.ASGITransport(app=hang))
    with pytest.raises(ServiceTimeout):
        await http.request("GET", "x", endpoint="x")
    assert http.ledger.total() == 3  # tests cap stamina at 3 attempts (conftest)


async def test_closed_port_is_unreachable() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    http = ServiceHttp("svc", f"http://127.0.0.1:{port}", ServiceSettings(retries=1))
    with pytest.raises(ServiceUnreachable, match="cannot connect"):
        await http.request("GET", "x", endpoint="x")
    await http.aclose()


async def test_rate_limit_spreads_calls_without_a_burst() -> None:
    stamps: list[float] = []

    def handler(request: httpx.Request) -> httpx.Response:
        stamps.append(time.monotonic())
        return httpx.Response(200, json={})

    settings = ServiceSettings(rate_limit_per_min=1200)  # one call per 50 ms
    http = ServiceHttp("svc", "http://svc.test", settings, transport=httpx.MockTransport(handler))
    await asyncio.gather(*(http.request("GET", "x", endpoint="x") for _ in range(6)))
    gaps = [b - a for a, b in itertools.pairwise(stamps)]
    assert len(stamps) == 6
    assert min(gaps) >= 0.04, gaps


async def test_calls_are_attributed_to_the_work_in_progress() -> None:
    http = client(Script((200, {"id": 1}, {})))
    mine, other = CallLedger(), CallLedger()
    with attribute_calls(mine):
        await http.request("GET", "a", endpoint="a")
        await asyncio.gather(http.request("GET", "b", endpoint="b"))
    with attribute_calls(other):
        await http.request("GET", "a", endpoint="a")
    assert mine.as_dict() == {"svc": {"a": 1, "b": 1}}
    assert other.total() == 1
    assert http.ledger.total("svc") == 3


async def test_secrets_never_appear_in_errors() -> None:
    register("tok-SECRET-abcdef")
    http = client(Script((400, {"error": "wrong token tok-SECRET-abcdef", "message": "tok-SECRET-abcdef bad"}, {})))
    with pytest.raises(RequestRejected) as err:
        await http.request("GET", "x", endpoint="x")
    assert "tok-SECRET" not in str(err.value)
    assert "tok-SECRET" not in repr(err.value.args)


async def test_the_configured_retries_with_stamina_for_real() -> None:
    """Everywhere else stamina runs in testing mode (3 attempts, no waits); here the configured policy runs as it does
    in production: `retries` attempts in all, with real backoff waits between them."""
    answers = iter([503, 503, 503, 200, 503, 503])
    seen: list[float] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(time.monotonic())
        return httpx.Response(next(answers), json={})

    stamina.set_testing(False)
    try:
        http = ServiceHttp("svc", "http://svc.test", ServiceSettings(retries=4), transport=httpx.MockTransport(answer))
        response = await http.request("GET", "x", endpoint="x")
        assert response.status_code == 200 and len(seen) == 4  # three failures, then the fourth attempt
        assert all(later > earlier for earlier, later in itertools.pairwise(seen))

        seen.clear()
        few = ServiceHttp("svc", "http://svc.test", ServiceSettings(retries=2), transport=httpx.MockTransport(answer))
        with pytest.raises(ServiceUnavailable):
            await few.request("GET", "y", endpoint="y")
        assert len(seen) == 2  # exactly the configured attempts, then the error
    finally:
        stamina.set_testing(True, attempts=3)
