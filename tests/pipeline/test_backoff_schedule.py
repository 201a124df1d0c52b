"""When a request is worked again after its work ended: the ladder, and the cases that are not the request's fault."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from seerbridge.domain.states import RequestState
from seerbridge.pipeline.backoff import Schedule, after_work

NOW = datetime(2026, 11, 24, 12, tzinfo=UTC)
LADDER = [30.0, 120.0]
RECHECK = 360.0


def _after(state: RequestState, step: int = 0, **facts: object) -> Schedule:
    return after_work(state, step, NOW, minutes=LADDER, recheck_minutes=RECHECK, **facts)  # type: ignore[arg-type]


def test_nothing_found_climbs_the_ladder_and_its_last_step_repeats() -> None:
    assert _after(RequestState.NO_RELEASE) == Schedule(NOW + timedelta(minutes=30), 1)
    assert _after(RequestState.NO_RELEASE, 1) == Schedule(NOW + timedelta(minutes=120), 2)
    assert _after(RequestState.NO_RELEASE, 5) == Schedule(NOW + timedelta(minutes=120), 6)


def test_a_settled_request_goes_back_to_the_bottom_and_is_rechecked_slowly() -> None:
    for state in (RequestState.FULFILLED, RequestState.DOWNLOADING, RequestState.ALREADY_AVAILABLE):
        assert _after(state, 3) == Schedule(NOW + timedelta(minutes=RECHECK), 0)


def test_what_is_not_the_requests_fault_leaves_its_backoff_alone() -> None:
    assert _after(RequestState.NEW, 2, interrupted=True) == Schedule(None, 2)
    assert _after(RequestState.FAILED, 2, down_for=90.0) == Schedule(NOW + timedelta(seconds=90), 2)
    assert _after(RequestState.WAITING, 1, slot_wait_s=600.0) == Schedule(NOW + timedelta(seconds=600), 1)
    assert _after(RequestState.FAILED, 1, down_for=0.0) == Schedule(NOW + timedelta(seconds=1), 1)  # never at once


def test_a_first_service_failure_costs_one_poll_and_a_second_climbs() -> None:
    assert _after(RequestState.FAILED, 0, service_failed=True) == Schedule(None, 1)
    assert _after(RequestState.FAILED, 1, service_failed=True) == Schedule(NOW + timedelta(minutes=120), 2)
