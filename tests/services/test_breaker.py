"""The circuit breaker: its states and transitions on a fake clock, and inside ServiceHttp (fast fail sends nothing)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from structlog.testing import capture_logs

from seerbridge.config import RealDebridSettings, ServiceSettings
from seerbridge.errors import NotFound, RequestRejected, ServiceTimeout, ServiceUnavailable
from seerbridge.services.breaker import BreakerState, CircuitBreaker, CircuitOpen
from seerbridge.services.http import ServiceHttp
from seerbridge.services.realdebrid import RealDebridClient

WALL = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def breaker(clock: FakeClock, threshold: int = 3, cooldown_s: float = 10.0, cap_s: float = 40.0) -> CircuitBreaker:
    return CircuitBreaker(
        "svc", threshold=threshold, cooldown_s=cooldown_s, max_cooldown_s=cap_s, clock=clock, wall=lambda: WALL
    )


def st(b: CircuitBreaker) -> BreakerState:
    return b.state  # read through a call, so each assertion reads it afresh (mypy would narrow `b.state`)


def trip(b: CircuitBreaker) -> None:
    for n in range(b.threshold):
        b.outage(f"HTTP 503 #{n}")


# ----- the state machine, no I/O -----


def test_outages_in_a_row_open_it_and_a_success_in_between_resets_the_count() -> None:
    b = breaker(FakeClock())
    b.outage("503")
    b.outage("503")
    b.success()
    b.outage("503")
    b.outage("503")
    assert st(b) is BreakerState.CLOSED and b.outages == 2
    b.outage("timeout")
    assert st(b) is BreakerState.OPEN and b.trips == 1


def test_while_open_calls_are_refused_until_the_cooldown_ends() -> None:
    clock = FakeClock()
    b = breaker(clock)
    trip(b)
    for _ in range(5):
        with pytest.raises(CircuitOpen) as refused:
            b.admit("things")
        clock.advance(1.9)
    assert refused.value.error == "circuit_open"
    assert refused.value.service == "svc" and refused.value.endpoint == "things"
    assert not refused.value.retryable
    assert 0 < refused.value.retry_after <= 10
    assert "HTTP 503 #2" in str(refused.value)
    assert st(b) is BreakerState.OPEN
    clock.advance(0.6)
    assert b.admit("things") is not None  # the trial
    assert st(b) is BreakerState.HALF_OPEN


def test_only_one_trial_goes_out_and_its_success_closes_it() -> None:
    clock = FakeClock()
    b = breaker(clock)
    trip(b)
    clock.advance(10)
    trial = b.admit("a")
    assert trial is not None
    with pytest.raises(CircuitOpen, match="trial call"):
        b.admit("b")
    with pytest.raises(CircuitOpen):
        b.refuse_if_open("c")
    b.success(trial=trial)
    assert st(b) is BreakerState.CLOSED and b.outages == 0
    assert b.admit("d") is None


def test_a_failed_trial_reopens_it_for_twice_as_long_up_to_the_cap() -> None:
    clock = FakeClock()
    b = breaker(clock, cooldown_s=10, cap_s=35)
    trip(b)
    waits = []
    for _ in range(4):
        waits.append(b.open_for)
        clock.advance(b.open_for)
        trial = b.admit("x")
        assert trial is not None
        b.outage("still 503", trial=trial)
    assert waits == [10, 20, 35, 35]
    assert b.trips == 1  # one outage, however many failed trials
    clock.advance(35)
    b.success(trial=b.admit("x"))
    trip(b)
    assert b.open_for == 10  # back to the first cooldown after it recovered


def test_an_abandoned_trial_lets_the_next_caller_try_at_once() -> None:
    clock = FakeClock()
    b = breaker(clock)
    trip(b)
    clock.advance(10)
    trial = b.admit("x")
    assert trial is not None
    b.abandoned(trial)
    assert st(b) is BreakerState.OPEN
    assert b.admit("y") is not None


def test_an_answer_to_a_call_sent_before_it_opened_counts_as_it_should() -> None:
    clock = FakeClock()
    b = breaker(clock)
    trip(b)
    b.outage("late 503")  # already counted as down: nothing changes
    assert st(b) is BreakerState.OPEN and b.open_for == 10
    b.success()  # but an answer proves it is back
    assert st(b) is BreakerState.CLOSED


def test_a_threshold_of_zero_never_opens() -> None:
    b = breaker(FakeClock(), threshold=0)
    for _ in range(100):
        b.outage("503")
    assert st(b) is BreakerState.CLOSED
    assert b.admit("x") is None


def test_a_trial_reports_in_any_state_without_raising() -> None:
    """Answers arrive late and out of order: a trial's outcome after its half-open period is an ordinary call's."""
    clock = FakeClock()
    b = breaker(clock)
    trip(b)
    clock.advance(10)
    trial = b.admit("x")
    assert trial is not None
    b.success()  # closed by another answer while the trial is out
    b.success(trial=trial)
    b.outage("the trial timed out after all", trial=trial)  # counted like any call's outage
    b.abandoned(trial)  # a cancellation after the fact frees nothing
    assert st(b) is BreakerState.CLOSED and b.outages == 1
    trip(b)
    b.outage("x", trial=trial)  # open: a stale trial's outage is already counted
    assert st(b) is BreakerState.OPEN and b.open_for == 10


def test_the_view_says_which_service_is_down_and_until_when() -> None:
    clock = FakeClock()
    b = breaker(clock)
    assert b.view().describe() == "up" and not b.view().down
    trip(b)
    view = b.view()
    assert view.down and view.until == datetime(2026, 11, 24, 12, 0, 10, tzinfo=UTC)
    assert view.describe() == (
        "down: open until 2026-11-24 12:00:10 UTC after 3 failures in a row (last error: HTTP 503 #2)"
    )
    assert view.as_json()["state"] == "open"
    clock.advance(10)
    b.admit("x")
    assert b.view().describe().startswith("down, trying again now")


def test_each_transition_is_logged_once() -> None:
    clock = FakeClock()
    b = breaker(clock)
    with capture_logs() as logs:
        trip(b)
        for _ in range(3):
            with pytest.raises(CircuitOpen):
                b.admit("x")
        b.outage("late")
        clock.advance(10)
        b.success(trial=b.admit("x"))
        b.success()
    events = [(e["event"], e.get("service")) for e in logs]
    assert events == [
        ("service is down; its calls fail fast until it answers again", "svc"),
        ("trying a service again", "svc"),
        ("service is back", "svc"),
    ]


# ----- late answers and the trial (issue 9 §3.9) -----


def test_a_late_answer_of_an_old_call_during_the_trial_does_not_break_the_trial_report() -> None:
    clock = FakeClock()
    b = breaker(clock)
    old = b.admit("slow")  # sent while closed; its answer comes much later
    trip(b)
    clock.advance(10)
    trial = b.admit("x")
    assert trial is not None and old is None
    b.success(trial=old)  # the old call answers while the trial is out: the service is up
    assert st(b) is BreakerState.CLOSED
    b.success(trial=trial)  # the trial's own success is accepted in any state
    assert st(b) is BreakerState.CLOSED and b.outages == 0 and b.admit("y") is None


def test_a_stale_trial_outcome_never_decides_a_later_trial() -> None:
    clock = FakeClock()
    b = breaker(clock)
    trip(b)
    clock.advance(10)
    first = b.admit("x")
    b.success()  # a call sent before it opened answers: closed; the first trial is no longer the trial
    trip(b)
    clock.advance(10)
    second = b.admit("x")
    assert first is not None and second is not None and first != second
    b.outage("first trial times out", trial=first)  # stale: it does not reopen, nor double the cooldown
    assert st(b) is BreakerState.HALF_OPEN and b.cooldown_s == 10
    b.abandoned(first)  # nor does its cancellation free the slot of the trial that is out
    with pytest.raises(CircuitOpen, match="trial call"):
        b.admit("y")
    b.outage("second trial fails", trial=second)
    assert st(b) is BreakerState.OPEN and b.open_for == 20


# ----- inside ServiceHttp -----


class Counting:
    """A transport answering `status` (or hanging while `hang` is set); counts what reached it."""

    def __init__(self, status: int = 503) -> None:
        self.status = status
        self.hang = False
        self.seen = 0
        self.hanging = asyncio.Event()

    async def __call__(self, scope: object, receive: object, send: object) -> None:
        self.seen += 1
        if self.hang:
            self.hanging.set()
            await asyncio.sleep(10)
        body = b'{"error": "x"}'
        await send(  # type: ignore[operator]
            {
                "type": "http.response.start",
                "status": self.status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))],
            }
        )
        await send({"type": "http.response.body", "body": body})  # type: ignore[operator]


def state(http: ServiceHttp) -> BreakerState:
    return http.breaker.state


def http_for(app: Counting, clock: FakeClock | None = None, **policy: float) -> ServiceHttp:
    settings = ServiceSettings(**{"timeout_s": 0.05, "retries": 3, "breaker_failures": 3, **policy})
    b = breaker(clock, threshold=settings.breaker_failures) if clock is not None else None
    return ServiceHttp("svc", "http://svc.test", settings, transport=httpx.ASGITransport(app=app), breaker=b)


async def test_an_open_breaker_fails_fast_without_sending_or_retrying() -> None:
    app = Counting(503)
    http = http_for(app)
    with pytest.raises(ServiceUnavailable):
        await http.request("GET", "x", endpoint="x")  # three attempts, three outages: open
    assert app.seen == 3 and http.breaker.state is BreakerState.OPEN
    for _ in range(5):
        with pytest.raises(CircuitOpen):
            await http.request("GET", "x", endpoint="x")
    assert app.seen == 3
    assert http.ledger.total() == 3  # refused calls are not counted: nothing was spent


async def test_answers_other_than_5xx_never_open_it() -> None:
    app = Counting(404)
    http = http_for(app)
    for _ in range(10):
        with pytest.raises(NotFound):
            await http.request("GET", "x", endpoint="x")
    assert http.breaker.state is BreakerState.CLOSED and http.breaker.outages == 0


async def test_timeouts_open_it_and_a_trial_closes_it_when_the_service_returns() -> None:
    clock = FakeClock()
    app = Counting(200)
    app.hang = True
    http = http_for(app, clock)
    with pytest.raises(ServiceTimeout):
        await http.request("GET", "x", endpoint="x")
    assert http.breaker.state is BreakerState.OPEN
    clock.advance(10)
    with pytest.raises(CircuitOpen, match="timeout"):  # the trial hangs too: open again, for twice as long
        await http.request("GET", "x", endpoint="x")
    assert app.seen == 4 and http.breaker.open_for == 20
    app.hang = False
    clock.advance(20)
    response = await http.request("GET", "x", endpoint="x")
    assert response.status_code == 200
    assert state(http) is BreakerState.CLOSED and app.seen == 5


async def test_a_cancelled_trial_hands_the_trial_to_the_next_call() -> None:
    clock = FakeClock()
    app = Counting(503)
    http = http_for(app, clock, timeout_s=5.0)
    with pytest.raises(ServiceUnavailable):
        await http.request("GET", "x", endpoint="x")
    clock.advance(10)
    app.hang = True
    trial = asyncio.create_task(http.request("GET", "x", endpoint="x"))
    await app.hanging.wait()
    assert state(http) is BreakerState.HALF_OPEN
    trial.cancel()
    with pytest.raises(asyncio.CancelledError):
        await trial
    assert state(http) is BreakerState.OPEN
    app.hang, app.status = False, 200
    assert (await http.request("GET", "x", endpoint="x")).status_code == 200
    assert http.breaker.state is BreakerState.CLOSED


async def test_real_debrid_account_limits_are_not_outages() -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(509, json={"error": "too_many_active_downloads", "error_code": 21})

    settings = RealDebridSettings(api_key=SecretStr("t0ken"), retries=3, breaker_failures=2)
    settings = settings.model_copy(update={"rate_limit_per_min": 0})
    async with RealDebridClient(settings, transport=httpx.MockTransport(answer)) as rd:
        for _ in range(4):
            with pytest.raises(RequestRejected) as refused:
                await rd.add_magnet("0123456789abcdef0123456789abcdef01234567")
        assert refused.value.status == 509 and refused.value.error_code == 21
        assert rd.breaker.state is BreakerState.CLOSED
    assert len(seen) == 4  # never retried


class Gated:
    """A transport where `/slow` and `/trial` wait for their gate, then answer 200; `/fail` answers 503 at once."""

    def __init__(self) -> None:
        self.started = {"slow": asyncio.Event(), "trial": asyncio.Event()}
        self.gate = {"slow": asyncio.Event(), "trial": asyncio.Event()}

    async def __call__(self, scope: dict[str, Any], receive: object, send: object) -> None:
        name = scope["path"].strip("/")
        status = 503 if name == "fail" else 200
        if name in self.gate:
            self.started[name].set()
            await self.gate[name].wait()
        await send({"type": "http.response.start", "status": status, "headers": []})  # type: ignore[operator]
        await send({"type": "http.response.body", "body": b"{}"})  # type: ignore[operator]


def gated_http(app: Gated, clock: FakeClock) -> ServiceHttp:
    # The timeout is far beyond any gate: the test decides when each call answers, never the wall clock.
    settings = ServiceSettings(timeout_s=3600, retries=1, breaker_failures=1)
    return ServiceHttp(
        "svc", "http://svc.test", settings, transport=httpx.ASGITransport(app=app), breaker=breaker(clock, threshold=1)
    )


async def test_a_slow_call_sent_before_it_opened_answering_during_the_trial_breaks_nothing() -> None:
    clock = FakeClock()
    app = Gated()
    http = gated_http(app, clock)
    slow = asyncio.create_task(http.request("GET", "slow", endpoint="slow"))
    await app.started["slow"].wait()
    with pytest.raises(ServiceUnavailable):
        await http.request("GET", "fail", endpoint="fail")
    assert state(http) is BreakerState.OPEN
    clock.advance(10)
    trial = asyncio.create_task(http.request("GET", "trial", endpoint="trial"))
    await app.started["trial"].wait()
    assert state(http) is BreakerState.HALF_OPEN
    app.gate["slow"].set()
    assert (await slow).status_code == 200
    assert state(http) is BreakerState.CLOSED
    app.gate["trial"].set()
    assert (await trial).status_code == 200  # its own success is accepted though the breaker is closed already
    assert state(http) is BreakerState.CLOSED and http.breaker.outages == 0


async def test_a_cancelled_trial_raises_cancelled_even_after_the_breaker_moved_on() -> None:
    clock = FakeClock()
    app = Gated()
    http = gated_http(app, clock)
    slow = asyncio.create_task(http.request("GET", "slow", endpoint="slow"))
    await app.started["slow"].wait()
    with pytest.raises(ServiceUnavailable):
        await http.request("GET", "fail", endpoint="fail")
    clock.advance(10)
    trial = asyncio.create_task(http.request("GET", "trial", endpoint="trial"))
    await app.started["trial"].wait()
    app.gate["slow"].set()
    await slow  # closes it while the trial is out
    trial.cancel()
    with pytest.raises(asyncio.CancelledError):
        await trial
    assert state(http) is BreakerState.CLOSED
    # And it can open again and let a new trial through: the cancelled one holds no slot.
    with pytest.raises(ServiceUnavailable):
        await http.request("GET", "fail", endpoint="fail")
    clock.advance(10)
    app.gate["trial"].set()
    assert (await http.request("GET", "trial", endpoint="trial")).status_code == 200
    assert state(http) is BreakerState.CLOSED
