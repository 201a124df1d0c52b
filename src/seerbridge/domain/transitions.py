"""The lifecycles of requests, work items and torrents as (state, event) → state tables, and the one derivation of a
request's state from its items. Every state the store writes comes from here (see store/repo.py).

Rules the tables keep:
- Requests. Work starts from any state (START → WORKING; a WORKING row left by a crash is resumed), and only work
  ends work: SETTLE takes WORKING to the state derived from the request's items (`derive_request_state`), FAIL to
  FAILED, INTERRUPT (a stop between two steps) back to NEW, and RESTORE (a re-check of a settled request that could
  not finish) back to the state it had. Outside work, the download follower moves a settled request when a download
  finishes or is dropped (FINISHED, DROPPED), again to the derived state; it never touches a WORKING one.
- AVAILABLE is FULFILLED verified: Jellyfin was seen holding every wanted file under the item's ids. VERIFIED
  (outside work) moves a request or an item there; and a FULFILLED written for an item Jellyfin already holds, or
  for a request whose items all are, is written as AVAILABLE (`verified_state`), so a later re-check or a finished
  download does not forget what Jellyfin showed. New files arriving for an item clear its verification.
- Items follow their own work (SETTLE) and the follower (FOLLOWED); either way to the state derived from what
  Real-Debrid holds for them, so any settled state may follow any other.
- Torrents. A row is born ADDING (the intent, written before addMagnet). ANSWERED (the add's id known) → ADDED;
  FILES (files selected, ids recorded) keeps ADDED; CACHED → DOWNLOADED; DOWNLOAD → DOWNLOADING; FINISHED →
  DOWNLOADED; REOPENED hands a held download back to reconcile (ADDED); DELETED (we deleted it, or it is gone from
  the account) and FAILED (refused, errored, or never added) are ends: nothing leaves them.
An unknown (state, event) pair raises `IllegalTransition` naming both; it is a bug, never a user's input.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from seerbridge.domain.states import ItemState, RequestState, TorrentState


class IllegalTransition(Exception):
    """A state write the lifecycle does not allow."""

    def __init__(self, what: str, state: str, event: str) -> None:
        super().__init__(f"a {what} in state {state!r} cannot take event {event!r}")
        self.state = state
        self.event = event


# ----- requests ---------------------------------------------------------------------------------------------------


class RequestEvent(StrEnum):
    START = "start"  # a worker takes it
    SETTLE = "settle"  # the work ended: the state derived from its items
    FAIL = "fail"  # an error the retries did not get past
    INTERRUPT = "interrupt"  # seerbridge is stopping: due again at the next start
    RESTORE = "restore"  # a re-check of a settled request could not finish: it stays as it was
    FINISHED = "download finished"  # the follower saw a download finish
    DROPPED = "download dropped"  # the follower dropped a download (failed, stalled, gone)
    VERIFIED = "verified"  # Jellyfin was seen holding what was fulfilled
    REPAIR = "repair"  # a fulfilled torrent vanished or turned bad: acquired again


# What a settled request (or item) may be derived to.
DERIVABLE = frozenset(
    {
        RequestState.FULFILLED,
        RequestState.AVAILABLE,
        RequestState.DOWNLOADING,
        RequestState.PARTIAL,
        RequestState.NO_RELEASE,
        RequestState.WAITING,
        RequestState.ALREADY_AVAILABLE,
    }
)
SETTLED = DERIVABLE | {RequestState.FAILED}
_OUTSIDE_WORK = SETTLED | {RequestState.NEW}

REQUEST_TABLE: dict[tuple[RequestState, RequestEvent], frozenset[RequestState]] = {
    **{(state, RequestEvent.START): frozenset({RequestState.WORKING}) for state in RequestState},
    (RequestState.WORKING, RequestEvent.SETTLE): DERIVABLE,
    (RequestState.WORKING, RequestEvent.FAIL): frozenset({RequestState.FAILED}),
    (RequestState.WORKING, RequestEvent.INTERRUPT): frozenset({RequestState.NEW}),
    (RequestState.WORKING, RequestEvent.RESTORE): SETTLED,
    **{(state, RequestEvent.FINISHED): DERIVABLE for state in _OUTSIDE_WORK},
    **{(state, RequestEvent.DROPPED): DERIVABLE for state in _OUTSIDE_WORK},
    **{(state, RequestEvent.VERIFIED): DERIVABLE for state in _OUTSIDE_WORK},
    **{(state, RequestEvent.REPAIR): frozenset({RequestState.NEW}) for state in _OUTSIDE_WORK},
}


def next_request_state(state: RequestState, event: RequestEvent, target: RequestState) -> RequestState:
    """`target` when the table lets a request in `state` take `event` to it; raises IllegalTransition otherwise.
    (For SETTLE, FINISHED and DROPPED, `target` is what `derive_request_state` said; RESTORE's is the state before.)"""
    allowed = REQUEST_TABLE.get((state, event))
    if allowed is None or target not in allowed:
        raise IllegalTransition("request", state.value, f"{event.value} → {target.value}")
    return target


def item_state(*, complete: bool, held: bool, downloading: bool, found: bool = False) -> ItemState:
    """One wanted item from what Real-Debrid holds for it: complete, partly held, still downloading, or nothing
    (NO_RELEASE). `found` marks an item this work already found complete without adding anything."""
    if downloading:
        return ItemState.DOWNLOADING
    if complete or found:
        return ItemState.FULFILLED
    return ItemState.PARTIAL if held else ItemState.NO_RELEASE


def derive_request_state(
    items: Iterable[ItemState], *, waits_for_slot: bool = False, next_candidate: bool = False
) -> RequestState:
    """A request's state from its items' states (the only place this is decided).

    Nothing to do: ALREADY_AVAILABLE. Anything downloading: DOWNLOADING. Everything held and seen in Jellyfin:
    AVAILABLE. Everything held (or already there, with at least one held): FULFILLED. Some held: PARTIAL. Nothing
    held: NO_RELEASE, or WAITING when acceptable releases wait for a free Real-Debrid download slot, or for their
    turn after a download was dropped (`next_candidate`).
    """
    states = set(items)
    if not states or states == {RequestState.ALREADY_AVAILABLE}:
        return RequestState.ALREADY_AVAILABLE
    if RequestState.DOWNLOADING in states:
        return RequestState.DOWNLOADING
    if states <= {RequestState.AVAILABLE, RequestState.ALREADY_AVAILABLE}:
        return RequestState.AVAILABLE
    if states <= {RequestState.FULFILLED, RequestState.AVAILABLE, RequestState.ALREADY_AVAILABLE}:
        return RequestState.FULFILLED
    held = {RequestState.FULFILLED, RequestState.AVAILABLE, RequestState.PARTIAL, RequestState.ALREADY_AVAILABLE}
    if states & held:
        return RequestState.PARTIAL
    return RequestState.WAITING if waits_for_slot or next_candidate else RequestState.NO_RELEASE


# ----- items ------------------------------------------------------------------------------------------------------


class ItemEvent(StrEnum):
    SETTLE = "settle"  # a request's work on it ended
    FOLLOWED = "followed"  # the follower saw one of its downloads finish or go
    VERIFIED = "verified"  # Jellyfin was seen holding its files
    REPAIR = "repair"  # one of its torrents vanished or turned bad: acquired again


ITEM_TABLE: dict[tuple[ItemState, ItemEvent], frozenset[ItemState]] = {
    **{(state, event): DERIVABLE for state in ItemState for event in (ItemEvent.SETTLE, ItemEvent.FOLLOWED)},
    (ItemState.FULFILLED, ItemEvent.VERIFIED): frozenset({ItemState.AVAILABLE}),
    (ItemState.AVAILABLE, ItemEvent.VERIFIED): frozenset({ItemState.AVAILABLE}),
    **{(state, ItemEvent.REPAIR): frozenset({ItemState.NEW}) for state in ItemState},
}


def verified_state(target: RequestState, *, verified: bool) -> RequestState:
    """What to write for `target` when Jellyfin holds (`verified`) what it stands for: FULFILLED becomes AVAILABLE,
    an AVAILABLE that is no longer verified is FULFILLED again; other states are as they are."""
    if target is RequestState.FULFILLED and verified:
        return RequestState.AVAILABLE
    if target is RequestState.AVAILABLE and not verified:
        return RequestState.FULFILLED
    return target


def next_item_state(state: ItemState, event: ItemEvent, target: ItemState) -> ItemState:
    allowed = ITEM_TABLE.get((state, event))
    if allowed is None or target not in allowed:
        raise IllegalTransition("work item", state.value, f"{event.value} → {target.value}")
    return target


# ----- torrents ---------------------------------------------------------------------------------------------------


class TorrentEvent(StrEnum):
    ANSWERED = "add answered"  # addMagnet gave the torrent's id (or the torrent was found in the account)
    FILES = "files selected"
    CACHED = "cached"  # the selected files are there at once
    DOWNLOAD = "download"  # kept while Real-Debrid downloads it
    FINISHED = "download finished"
    REOPENED = "reopened"  # a held download handed back to reconcile
    DELETED = "deleted"  # we deleted it, or it is gone from the account
    FAILED = "failed"  # refused, errored, or the add never happened
    VANISHED = "vanished"  # a kept torrent gone from the account or turned bad on its own (repair)


_LIVE = (TorrentState.ADDING, TorrentState.ADDED, TorrentState.DOWNLOADING, TorrentState.DOWNLOADED)

TORRENT_TABLE: dict[tuple[TorrentState, TorrentEvent], TorrentState] = {
    (TorrentState.ADDING, TorrentEvent.ANSWERED): TorrentState.ADDED,
    (TorrentState.ADDED, TorrentEvent.FILES): TorrentState.ADDED,
    (TorrentState.ADDED, TorrentEvent.CACHED): TorrentState.DOWNLOADED,
    (TorrentState.ADDED, TorrentEvent.DOWNLOAD): TorrentState.DOWNLOADING,
    # A download kept while its metadata converted gets its files later: it stays DOWNLOADING.
    (TorrentState.DOWNLOADING, TorrentEvent.FILES): TorrentState.DOWNLOADING,
    (TorrentState.DOWNLOADING, TorrentEvent.FINISHED): TorrentState.DOWNLOADED,
    (TorrentState.DOWNLOADING, TorrentEvent.REOPENED): TorrentState.ADDED,
    **{(state, TorrentEvent.DELETED): TorrentState.DELETED for state in _LIVE},
    **{(state, TorrentEvent.FAILED): TorrentState.FAILED for state in _LIVE},
    **{(state, TorrentEvent.VANISHED): TorrentState.FAILED for state in (TorrentState.DOWNLOADED,)},
}


def next_torrent_state(state: TorrentState, event: TorrentEvent) -> TorrentState:
    """The state a torrent row in `state` moves to on `event`; raises IllegalTransition for a pair not in the table."""
    target = TORRENT_TABLE.get((state, event))
    if target is None:
        raise IllegalTransition("torrent", state.value, event.value)
    return target
