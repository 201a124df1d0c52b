"""The lifecycle tables: every (state, event) pair is walked, the pairs the rules allow lead where they say, every other
pair raises naming the state and the event; and the one derivation of a request's state from its items."""

from __future__ import annotations

import itertools

import pytest

from seerbridge.domain.states import ItemState, RequestState, TorrentState
from seerbridge.domain.transitions import (
    DERIVABLE,
    REQUEST_TABLE,
    SETTLED,
    TORRENT_TABLE,
    IllegalTransition,
    ItemEvent,
    RequestEvent,
    TorrentEvent,
    derive_request_state,
    item_state,
    next_item_state,
    next_request_state,
    next_torrent_state,
    verified_state,
)

R = RequestState


def _expected_request_targets(state: RequestState, event: RequestEvent) -> frozenset[RequestState]:
    """The rules of the module docstring, written out again independently of the table."""
    if event is RequestEvent.START:
        return frozenset({R.WORKING})
    if state is R.WORKING:
        return {
            RequestEvent.SETTLE: DERIVABLE,
            RequestEvent.FAIL: frozenset({R.FAILED}),
            RequestEvent.INTERRUPT: frozenset({R.NEW}),
            RequestEvent.RESTORE: SETTLED,
        }.get(event, frozenset())
    if event in (RequestEvent.FINISHED, RequestEvent.DROPPED, RequestEvent.VERIFIED):
        return DERIVABLE  # the follower or the announcer, on any request no worker holds
    if event is RequestEvent.REPAIR:
        return frozenset({R.NEW})  # due again, with the repair as its reason
    return frozenset()


@pytest.mark.parametrize(("state", "event"), list(itertools.product(RequestState, RequestEvent)))
def test_every_request_state_and_event(state: RequestState, event: RequestEvent) -> None:
    allowed = _expected_request_targets(state, event)
    for target in RequestState:
        if target in allowed:
            assert next_request_state(state, event, target) is target
        else:
            with pytest.raises(IllegalTransition) as caught:
                next_request_state(state, event, target)
            assert state.value in str(caught.value) and event.value in str(caught.value)
    assert REQUEST_TABLE.get((state, event), frozenset()) == allowed


def test_work_never_ends_outside_work_and_the_follower_never_touches_a_worked_request() -> None:
    for event in (RequestEvent.SETTLE, RequestEvent.FAIL, RequestEvent.INTERRUPT, RequestEvent.RESTORE):
        assert [s for s in RequestState if (s, event) in REQUEST_TABLE] == [R.WORKING]
    for event in (RequestEvent.FINISHED, RequestEvent.DROPPED, RequestEvent.VERIFIED, RequestEvent.REPAIR):
        assert (R.WORKING, event) not in REQUEST_TABLE


_TORRENT_EXPECTED = {
    (TorrentState.ADDING, TorrentEvent.ANSWERED): TorrentState.ADDED,
    (TorrentState.ADDED, TorrentEvent.FILES): TorrentState.ADDED,
    (TorrentState.ADDED, TorrentEvent.CACHED): TorrentState.DOWNLOADED,
    (TorrentState.ADDED, TorrentEvent.DOWNLOAD): TorrentState.DOWNLOADING,
    (TorrentState.DOWNLOADING, TorrentEvent.FILES): TorrentState.DOWNLOADING,
    (TorrentState.DOWNLOADING, TorrentEvent.FINISHED): TorrentState.DOWNLOADED,
    (TorrentState.DOWNLOADING, TorrentEvent.REOPENED): TorrentState.ADDED,
}


@pytest.mark.parametrize(("state", "event"), list(itertools.product(TorrentState, TorrentEvent)))
def test_every_torrent_state_and_event(state: TorrentState, event: TorrentEvent) -> None:
    live = state not in (TorrentState.DELETED, TorrentState.FAILED)
    if (state, event) in _TORRENT_EXPECTED:
        assert next_torrent_state(state, event) is _TORRENT_EXPECTED[state, event]
    elif live and event in (TorrentEvent.DELETED, TorrentEvent.FAILED):
        assert next_torrent_state(state, event) is TorrentState(event.value)
    elif state is TorrentState.DOWNLOADED and event is TorrentEvent.VANISHED:
        assert next_torrent_state(state, event) is TorrentState.FAILED  # only a kept torrent can vanish
    else:
        with pytest.raises(IllegalTransition, match=f"state '{state.value}' cannot take event '{event.value}'"):
            next_torrent_state(state, event)
    assert len(TORRENT_TABLE) == len(_TORRENT_EXPECTED) + 2 * 4 + 1  # nothing beyond what is listed here


def test_ends_are_ends() -> None:
    for state, event in itertools.product((TorrentState.DELETED, TorrentState.FAILED), TorrentEvent):
        with pytest.raises(IllegalTransition):
            next_torrent_state(state, event)


def _expected_item_targets(state: ItemState, event: ItemEvent) -> frozenset[ItemState]:
    if event in (ItemEvent.SETTLE, ItemEvent.FOLLOWED):
        return DERIVABLE
    if event is ItemEvent.VERIFIED:  # only what is fulfilled can be seen in Jellyfin
        return frozenset({R.AVAILABLE}) if state in (R.FULFILLED, R.AVAILABLE) else frozenset()
    return frozenset({R.NEW})  # REPAIR: acquired again


@pytest.mark.parametrize(("state", "event"), list(itertools.product(ItemState, ItemEvent)))
def test_items_settle_to_any_derivable_state(state: ItemState, event: ItemEvent) -> None:
    for target in ItemState:
        if target in _expected_item_targets(state, event):
            assert next_item_state(state, event, target) is target
        else:
            with pytest.raises(IllegalTransition):
                next_item_state(state, event, target)


@pytest.mark.parametrize(
    ("items", "waits", "expected"),
    [
        ([], False, R.ALREADY_AVAILABLE),
        ([R.ALREADY_AVAILABLE], False, R.ALREADY_AVAILABLE),
        ([R.FULFILLED], False, R.FULFILLED),
        ([R.FULFILLED, R.ALREADY_AVAILABLE], False, R.FULFILLED),
        ([R.FULFILLED, R.DOWNLOADING], False, R.DOWNLOADING),
        ([R.FULFILLED, R.NO_RELEASE], False, R.PARTIAL),
        ([R.PARTIAL], False, R.PARTIAL),
        ([R.ALREADY_AVAILABLE, R.NO_RELEASE], False, R.PARTIAL),
        ([R.NO_RELEASE], False, R.NO_RELEASE),
        ([R.NO_RELEASE], True, R.WAITING),
        ([R.FULFILLED, R.NO_RELEASE], True, R.PARTIAL),  # something held: partial, not waiting
        ([R.AVAILABLE], False, R.AVAILABLE),
        ([R.AVAILABLE, R.ALREADY_AVAILABLE], False, R.AVAILABLE),
        ([R.AVAILABLE, R.FULFILLED], False, R.FULFILLED),  # one item not seen in Jellyfin yet
        ([R.AVAILABLE, R.NO_RELEASE], False, R.PARTIAL),
    ],
)
def test_a_request_state_is_derived_from_its_items(items: list[RequestState], waits: bool, expected: R) -> None:
    assert derive_request_state(items, waits_for_slot=waits) is expected


@pytest.mark.parametrize(
    ("items", "expected"),
    [
        ([R.NO_RELEASE], R.WAITING),  # a download was dropped and acceptable releases are left: the next one is due
        ([R.FULFILLED, R.NO_RELEASE], R.PARTIAL),  # something held: partial, not waiting
        ([R.DOWNLOADING, R.NO_RELEASE], R.DOWNLOADING),
    ],
)
def test_a_request_with_a_next_candidate_due_waits(items: list[RequestState], expected: R) -> None:
    assert derive_request_state(items, next_candidate=True) is expected


def test_an_item_state_from_what_real_debrid_holds() -> None:
    assert item_state(complete=True, held=True, downloading=False) is R.FULFILLED
    assert item_state(complete=False, held=True, downloading=False) is R.PARTIAL
    assert item_state(complete=False, held=False, downloading=False) is R.NO_RELEASE
    assert item_state(complete=True, held=True, downloading=True) is R.DOWNLOADING


def test_fulfilled_is_written_as_available_once_verified_and_back_when_not() -> None:
    assert verified_state(R.FULFILLED, verified=True) is R.AVAILABLE
    assert verified_state(R.AVAILABLE, verified=False) is R.FULFILLED
    assert verified_state(R.FULFILLED, verified=False) is R.FULFILLED
    assert verified_state(R.PARTIAL, verified=True) is R.PARTIAL
