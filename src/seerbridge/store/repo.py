"""Repository functions over the tables in `models.py`; callers pass an AsyncSession and own the transaction."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, TypeAlias, TypeVar

from sqlalchemy import ColumnElement, delete, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from seerbridge import clock
from seerbridge.domain.calls import CallLedger
from seerbridge.domain.states import ItemState, RequestState, TorrentState
from seerbridge.domain.transitions import (
    ItemEvent,
    RequestEvent,
    TorrentEvent,
    next_item_state,
    next_request_state,
    next_torrent_state,
    verified_state,
)
from seerbridge.store.models import (
    AppState,
    BadHash,
    Base,
    CallCount,
    Decision,
    LibraryEntry,
    Repair,
    Request,
    RequestCall,
    RequestCounter,
    RequestItem,
    SearchCache,
    SharedCall,
    Torrent,
    WorkItem,
)
from seerbridge.store.times import from_store as _read_utc
from seerbridge.store.times import to_store as _utc

_Row = TypeVar("_Row", bound=Base)


async def get_state(session: AsyncSession, key: str) -> str | None:
    row = await session.get(AppState, key)
    return row.value if row else None


async def set_state(session: AsyncSession, key: str, value: str) -> None:
    # An upsert: two tasks recording the same fact at once must not collide on the key.
    now = clock.now()
    stmt = upsert(session, AppState).values(key=key, value=value, updated_at=now)
    await session.execute(
        stmt.on_conflict_do_update(index_elements=[AppState.key], set_={"value": value, "updated_at": now})
    )
    loaded = session.identity_map.get(identity_key(AppState, key))
    if loaded is not None:  # a row this session read before must read the new value (without a reload)
        set_committed_value(loaded, "value", value)
        set_committed_value(loaded, "updated_at", now)


async def _add_counts(
    session: AsyncSession, model: type[Base], keys: Sequence[str], rows: list[dict[str, Any]]
) -> None:
    """Add each row's `count` to the stored row with the same `keys` (inserting it at that count when absent).

    The sum is done by the database in one upsert (`count = count + excluded.count`), never read, merged and written
    back here: concurrent writers each add their share and none is lost."""
    if not rows:
        return
    # The same order in every writer, so two PostgreSQL transactions never lock the same rows in opposite orders.
    rows = sorted(rows, key=lambda row: tuple(row[k] for k in keys))
    stmt = upsert(session, model).values(rows)
    table = model.__table__
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=[table.c[k] for k in keys], set_={"count": table.c["count"] + stmt.excluded["count"]}
        )
    )


async def add_call_counts(session: AsyncSession, day: date, ledger: CallLedger) -> None:
    """Add a ledger's counts to the day's totals."""
    rows = [{"day": day, "service": svc, "endpoint": ep, "count": n} for (svc, ep), n in ledger.counts.items() if n]
    await _add_counts(session, CallCount, ("day", "service", "endpoint"), rows)


async def calls_on(session: AsyncSession, day: date, service: str) -> int:
    rows = await session.scalars(select(CallCount.count).where(CallCount.day == day, CallCount.service == service))
    return sum(rows)


async def daily_call_counts(session: AsyncSession) -> list[tuple[date, str, str, int]]:
    """Every (day, service, endpoint, count) the daily budgets kept, by service, endpoint and day."""
    rows = await session.scalars(select(CallCount).order_by(CallCount.service, CallCount.endpoint, CallCount.day))
    return [(r.day, r.service, r.endpoint, r.count) for r in rows]


# --- acquisition ------------------------------------------------------------------------------------------------
# Functions below return frozen records, never ORM objects. Times are UTC-aware; SQLite hands back naive values,
# which are read as UTC (every time written here is UTC). `now` defaults to the wall clock; the pipeline passes its
# own clock's time so tests and the sandbox stay deterministic.

JSONValue: TypeAlias = Any

MOVIE_DONE: tuple[int, ...] = (0,)  # `done` of a movie item whose file is there (see models.WorkItem)

_HASH = re.compile(r"[0-9a-f]{40}")


@dataclass(frozen=True)
class RequestRecord:
    id: int
    media_type: str  # "movie" or "tv"
    tmdb_id: int
    is4k: bool
    seasons: tuple[int, ...]
    title: str
    profile: str | None
    state: RequestState
    reason: str | None
    last_error: str | None
    attempts: int
    first_seen_at: datetime
    updated_at: datetime  # last state change (or first sight); descriptive refreshes do not move it
    calls: dict[str, dict[str, int]]  # service -> endpoint -> count, cumulative (rows of `request_calls`)
    next_attempt_at: datetime | None = None  # backoff: not before this (None: whenever polled)
    backoff_step: int = 0
    next_air_date: date | None = None  # the next requested episode to air; due again from that day
    counters: dict[str, int] = field(default_factory=dict)  # events that are not calls (search cache hits, ...)

    def calls_to(self, service: str) -> int:
        return sum(self.calls.get(service, {}).values())


@dataclass(frozen=True)
class ItemRecord:
    key: str
    kind: str  # "movie" or "season"
    tmdb_id: int
    season: int | None
    is4k: bool
    wanted: tuple[int, ...]
    done: tuple[int, ...]
    state: ItemState
    reason: str | None
    updated_at: datetime
    library_folder: str | None = None  # its folder under the library root, fixed once
    available_at: datetime | None = None  # when Jellyfin was seen holding every wanted file

    @property
    def missing(self) -> tuple[int, ...]:
        """Wanted episodes not yet done (always empty for a movie)."""
        have = set(self.done)
        return tuple(e for e in self.wanted if e not in have)

    @property
    def complete(self) -> bool:
        """A movie marked MOVIE_DONE, or a season whose wanted episodes are all done."""
        if self.kind == "movie":
            return set(MOVIE_DONE) <= set(self.done)
        return not self.missing


@dataclass(frozen=True)
class SelectedFileRecord:
    id: int  # Real-Debrid's 1-based file id
    path: str
    bytes: int


@dataclass(frozen=True)
class TorrentRecord:
    id: int
    info_hash: str
    rd_id: str | None
    name: str
    item_key: str
    request_id: int | None
    season: int | None
    episodes: tuple[int, ...]
    file_ids: tuple[int, ...]
    cached: bool
    adopted: bool  # found in the account rather than added by us: never ours to delete
    state: TorrentState
    size_bytes: int | None
    added_at: datetime
    updated_at: datetime
    progress: float = 0.0
    progress_at: datetime | None = None
    superseded_by: int | None = None  # the row that replaced this one in an upgrade
    superseded_at: datetime | None = None
    upgrade_next_at: datetime | None = None
    upgrade_checked_at: datetime | None = None
    files: tuple[SelectedFileRecord, ...] | None = None  # the selected files as Real-Debrid listed them
    rd_names: tuple[str, ...] = ()  # Real-Debrid's names for it (filename, original_filename): its mount folder

    @property
    def ours(self) -> bool:
        """Added by seerbridge (not adopted from the account): ours to delete."""
        return not self.adopted


@dataclass(frozen=True)
class DecisionRecord:
    id: int
    request_id: int
    item_key: str | None
    at: datetime
    summary: str
    payload: list[dict[str, Any]]  # one entry per candidate: info_hash, name, accepted, reasons, score, probe


def _maybe_utc(moment: datetime | None) -> datetime | None:
    return _read_utc(moment) if moment is not None else None


def _info_hash(value: str) -> str:
    h = value.strip().lower()
    if not _HASH.fullmatch(h):
        raise ValueError(f"not a 40-hex info hash: {value!r}")
    return h


def _ints(values: Iterable[int]) -> list[int]:
    return sorted({int(v) for v in values})


def upsert(session: AsyncSession, model: type[Base]) -> sqlite.Insert | postgresql.Insert:
    """An INSERT that can take ON CONFLICT clauses on both backends (same API on each dialect)."""
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite":
        return sqlite.insert(model)
    if dialect == "postgresql":
        return postgresql.insert(model)
    raise NotImplementedError(f"the store supports SQLite and PostgreSQL, not {dialect}")


def _request_record(
    row: Request, calls: dict[str, dict[str, int]] | None = None, counters: dict[str, int] | None = None
) -> RequestRecord:
    return RequestRecord(
        id=row.id,
        media_type=row.media_type,
        tmdb_id=row.tmdb_id,
        is4k=row.is4k,
        seasons=tuple(row.seasons),
        title=row.title,
        profile=row.profile,
        state=RequestState(row.state),
        reason=row.reason,
        last_error=row.last_error,
        attempts=row.attempts,
        first_seen_at=_read_utc(row.first_seen_at),
        updated_at=_read_utc(row.updated_at),
        calls={svc: dict(eps) for svc, eps in (calls or {}).items()},
        next_attempt_at=_read_utc(row.next_attempt_at) if row.next_attempt_at else None,
        backoff_step=row.backoff_step or 0,
        next_air_date=row.next_air_date,
        counters=dict(counters or {}),
    )


def _item_record(row: WorkItem) -> ItemRecord:
    return ItemRecord(
        key=row.key,
        kind=row.kind,
        tmdb_id=row.tmdb_id,
        season=row.season,
        is4k=row.is4k,
        wanted=tuple(row.wanted),
        done=tuple(row.done),
        state=ItemState(row.state),
        reason=row.reason,
        updated_at=_read_utc(row.updated_at),
        library_folder=row.library_folder,
        available_at=_maybe_utc(row.available_at),
    )


def _rd_names(value: object) -> tuple[str, ...]:
    names = value.get("names") if isinstance(value, dict) else None
    return tuple(n for n in names if isinstance(n, str) and n) if isinstance(names, list) else ()


def _files(value: object) -> tuple[SelectedFileRecord, ...] | None:
    if isinstance(value, dict):
        value = value.get("files")
    if not isinstance(value, list):
        return None
    return tuple(
        SelectedFileRecord(int(f["id"]), str(f["path"]), int(f.get("bytes") or 0))
        for f in value
        if isinstance(f, dict) and isinstance(f.get("id"), int) and isinstance(f.get("path"), str)
    )


def _torrent_record(row: Torrent) -> TorrentRecord:
    return TorrentRecord(
        id=row.id,
        info_hash=row.info_hash,
        rd_id=row.rd_id,
        name=row.name,
        item_key=row.item_key,
        request_id=row.request_id,
        season=row.season,
        episodes=tuple(row.episodes),
        file_ids=tuple(row.file_ids),
        cached=row.cached,
        adopted=row.adopted,
        state=TorrentState(row.state),
        size_bytes=row.size_bytes,
        added_at=_read_utc(row.added_at),
        updated_at=_read_utc(row.updated_at),
        progress=row.progress or 0.0,
        progress_at=_read_utc(row.progress_at) if row.progress_at else None,
        superseded_by=row.superseded_by,
        superseded_at=_maybe_utc(row.superseded_at),
        upgrade_next_at=_maybe_utc(row.upgrade_next_at),
        upgrade_checked_at=_maybe_utc(row.upgrade_checked_at),
        files=_files(row.files),
        rd_names=_rd_names(row.files),
    )


def _decision_record(row: Decision) -> DecisionRecord:
    return DecisionRecord(
        id=row.id,
        request_id=row.request_id,
        item_key=row.item_key,
        at=_read_utc(row.at),
        summary=row.summary,
        payload=list(row.payload),
    )


class NotInStore(LookupError):
    """A repository function was asked to change a row that does not exist (a bug in the caller)."""


async def _request_records(
    session: AsyncSession, rows: Sequence[Request], *, every: bool = False
) -> list[RequestRecord]:
    """Records of `rows` with their counts (`every`: the rows are all the requests, so every count is read)."""
    ids = [row.id for row in rows]
    if not ids:
        return []
    call_query = select(RequestCall.request_id, RequestCall.service, RequestCall.endpoint, RequestCall.count)
    counter_query = select(RequestCounter.request_id, RequestCounter.name, RequestCounter.count)
    if not every:
        call_query = call_query.where(RequestCall.request_id.in_(ids))
        counter_query = counter_query.where(RequestCounter.request_id.in_(ids))
    calls: dict[int, dict[str, dict[str, int]]] = defaultdict(dict)
    for rid, service, endpoint, n in await session.execute(call_query):
        calls[rid].setdefault(service, {})[endpoint] = n
    counters: dict[int, dict[str, int]] = defaultdict(dict)
    for rid, name, n in await session.execute(counter_query):
        counters[rid][name] = n
    return [_request_record(row, calls.get(row.id), counters.get(row.id)) for row in rows]


async def _request_with_counts(session: AsyncSession, row: Request) -> RequestRecord:
    (record,) = await _request_records(session, [row])
    return record


async def _must_get(session: AsyncSession, model: type[_Row], ident: object, *, lock: bool = False) -> _Row:
    row = await session.get(model, ident, with_for_update=lock, populate_existing=True)
    if row is None:
        raise NotInStore(f"{model.__tablename__}: no row {ident!r}")
    return row


# Requests


async def upsert_request(
    session: AsyncSession,
    *,
    id: int,
    media_type: str,
    tmdb_id: int,
    is4k: bool,
    seasons: Iterable[int],
    title: str,
    now: datetime | None = None,
) -> RequestRecord:
    """Insert a request in state NEW, or refresh its descriptive fields; state, counts and history are kept."""
    if media_type not in ("movie", "tv"):
        raise ValueError(f"media_type must be 'movie' or 'tv', not {media_type!r}")
    at = _utc(now)
    described = {"media_type": media_type, "tmdb_id": tmdb_id, "is4k": is4k, "seasons": _ints(seasons), "title": title}
    stmt = upsert(session, Request).values(
        id=id, **described, state=RequestState.NEW.value, attempts=0, first_seen_at=at, updated_at=at
    )
    stmt = stmt.on_conflict_do_update(index_elements=[Request.id], set_=described)
    row = (await session.scalars(stmt.returning(Request), execution_options={"populate_existing": True})).one()
    return await _request_with_counts(session, row)


async def get_request(session: AsyncSession, id: int) -> RequestRecord | None:
    row = await session.get(Request, id, populate_existing=True)
    return await _request_with_counts(session, row) if row else None


async def list_requests(session: AsyncSession) -> list[RequestRecord]:
    """Every request, the most recently changed first."""
    rows = await session.scalars(
        select(Request).order_by(Request.updated_at.desc(), Request.id.desc()).execution_options(populate_existing=True)
    )
    return await _request_records(session, list(rows), every=True)


async def set_request_state(
    session: AsyncSession,
    id: int,
    state: RequestState,
    *,
    event: RequestEvent,
    reason: str | None = None,
    error: str | None = None,
    profile: str | None = None,
    now: datetime | None = None,
) -> RequestRecord:
    """Move a request to `state` on `event`, as the lifecycle table allows (domain/transitions.py; IllegalTransition
    otherwise). `reason` replaces the last one (None clears it); `error` and `profile` are kept unless given. Moving
    to WORKING counts an attempt."""
    row = await _must_get(session, Request, id)
    if state in (RequestState.FULFILLED, RequestState.AVAILABLE) and event is not RequestEvent.RESTORE:
        state = verified_state(RequestState(state), verified=await _request_verified(session, id))
    row.state = next_request_state(RequestState(row.state), event, RequestState(state)).value
    row.reason = reason
    if error is not None:
        row.last_error = error
    if profile is not None:
        row.profile = profile
    row.updated_at = _utc(now)
    if state == RequestState.WORKING:
        # Incremented in SQL so two writers cannot lose a count.
        row.attempts = Request.attempts + 1
    await session.flush()
    await session.refresh(row)
    return await _request_with_counts(session, row)


async def set_request_reason(session: AsyncSession, id: int, reason: str) -> None:
    """Replace what the request's reason says, its state and `updated_at` untouched (a diagnosis added later)."""
    row = await _must_get(session, Request, id)
    row.reason = reason
    await session.flush()


async def _request_verified(session: AsyncSession, id: int) -> bool:
    """Whether Jellyfin was seen holding everything the request's items fulfilled (all AVAILABLE or already there)."""
    states = await session.scalars(
        select(WorkItem.state)
        .join(RequestItem, RequestItem.item_key == WorkItem.key)
        .where(RequestItem.request_id == id)
    )
    held = [ItemState(s) for s in states]
    return (
        bool(held) and ItemState.AVAILABLE in held and set(held) <= {ItemState.AVAILABLE, ItemState.ALREADY_AVAILABLE}
    )


async def set_request_title(session: AsyncSession, id: int, title: str, *, profile: str | None = None) -> RequestRecord:
    """Replace the display title (and the profile when given) once the catalogue has named the media; the state
    and `updated_at` are untouched."""
    row = await _must_get(session, Request, id)
    row.title = title
    if profile is not None:
        row.profile = profile
    await session.flush()
    return await _request_with_counts(session, row)


async def add_request_calls(session: AsyncSession, id: int, ledger: CallLedger) -> RequestRecord:
    """Add a ledger's counts to the request's cumulative calls; returns the request with its new counts."""
    row = await _must_get(session, Request, id)
    rows = [
        {"request_id": id, "service": svc, "endpoint": ep, "count": n} for (svc, ep), n in ledger.counts.items() if n
    ]
    await _add_counts(session, RequestCall, ("request_id", "service", "endpoint"), rows)
    return await _request_with_counts(session, row)


async def add_request_counters(session: AsyncSession, id: int, counts: dict[str, int]) -> None:
    """Add event counts (not calls: search cache hits and misses, ...) to the request's cumulative counters."""
    rows = [{"request_id": id, "name": name, "count": n} for name, n in counts.items() if n]
    await _add_counts(session, RequestCounter, ("request_id", "name"), rows)


# Work items


async def upsert_item(
    session: AsyncSession,
    *,
    key: str,
    kind: str,
    tmdb_id: int,
    season: int | None,
    is4k: bool,
    wanted: Iterable[int] | None,
    now: datetime | None = None,
) -> ItemRecord:
    """Insert an item in state NEW, or refresh its `wanted` episodes; state, `done` and reason are kept. `wanted`
    None links an item without knowing its episodes: a new row starts empty, an existing one keeps its own.

    One INSERT ... ON CONFLICT statement, so two sessions creating the same key at once both succeed.
    """
    if kind not in ("movie", "season"):
        raise ValueError(f"kind must be 'movie' or 'season', not {kind!r}")
    at = _utc(now)
    wanted_list = _ints(wanted or ())
    stmt = upsert(session, WorkItem).values(
        key=key,
        kind=kind,
        tmdb_id=tmdb_id,
        season=season,
        is4k=is4k,
        wanted=wanted_list,
        done=[],
        state=ItemState.NEW.value,
        reason=None,
        updated_at=at,
    )
    # Without episodes to set, the conflict still "updates" (the key to itself) so RETURNING yields the row.
    refresh = {"wanted": wanted_list} if wanted is not None else {"key": key}
    stmt = stmt.on_conflict_do_update(index_elements=[WorkItem.key], set_=refresh)
    row = (await session.scalars(stmt.returning(WorkItem), execution_options={"populate_existing": True})).one()
    return _item_record(row)


async def link_request_item(session: AsyncSession, request_id: int, key: str) -> None:
    """Record that `key` serves `request_id`; linking twice is harmless."""
    stmt = upsert(session, RequestItem).values(request_id=request_id, item_key=key)
    await session.execute(stmt.on_conflict_do_nothing(index_elements=[RequestItem.request_id, RequestItem.item_key]))


async def get_item(session: AsyncSession, key: str) -> ItemRecord | None:
    row = await session.get(WorkItem, key, populate_existing=True)
    return _item_record(row) if row else None


async def set_item_state(
    session: AsyncSession,
    key: str,
    state: ItemState,
    *,
    event: ItemEvent,
    reason: str | None = None,
    done: Iterable[int] | None = None,
    now: datetime | None = None,
) -> ItemRecord:
    """Move an item to `state` on `event` (domain/transitions.py); `reason` replaces the last one (None clears it),
    `done` replaces the set when given (a movie's is MOVIE_DONE)."""
    row = await _must_get(session, WorkItem, key)
    if done is not None and not set(_ints(done)) <= set(row.done):
        row.available_at = None  # new files: Jellyfin has to be seen holding them too
    if state in (ItemState.FULFILLED, ItemState.AVAILABLE) and event is not ItemEvent.VERIFIED:
        state = verified_state(ItemState(state), verified=row.available_at is not None)
    row.state = next_item_state(ItemState(row.state), event, ItemState(state)).value
    row.reason = reason
    if done is not None:
        row.done = _ints(done)
    row.updated_at = _utc(now)
    await session.flush()
    return _item_record(row)


async def items_of_request(session: AsyncSession, request_id: int) -> list[ItemRecord]:
    """The items serving a request, by key."""
    rows = await session.scalars(
        select(WorkItem)
        .join(RequestItem, RequestItem.item_key == WorkItem.key)
        .where(RequestItem.request_id == request_id)
        .order_by(WorkItem.key)
        .execution_options(populate_existing=True)
    )
    return [_item_record(r) for r in rows]


async def requests_of_item(session: AsyncSession, key: str) -> list[int]:
    """Ids of the requests an item serves, ascending."""
    rows = await session.scalars(
        select(RequestItem.request_id).where(RequestItem.item_key == key).order_by(RequestItem.request_id)
    )
    return list(rows)


# Torrents


async def record_intent(
    session: AsyncSession,
    *,
    info_hash: str,
    name: str,
    item_key: str,
    request_id: int | None,
    season: int | None,
    episodes: Iterable[int],
    file_ids: Iterable[int],
    size_bytes: int | None,
    now: datetime | None = None,
) -> int:
    """Write "about to add `info_hash` for `item_key`" (state ADDING) and return the row id.

    Commit this before calling addMagnet; after the call, `mark_added` (or `set_torrent_state(..., FAILED)`).
    """
    at = _utc(now)
    row = Torrent(
        info_hash=_info_hash(info_hash),
        rd_id=None,
        name=name,
        item_key=item_key,
        request_id=request_id,
        season=season,
        episodes=_ints(episodes),
        file_ids=_ints(file_ids),
        cached=False,
        adopted=False,
        state=TorrentState.ADDING.value,
        size_bytes=size_bytes,
        added_at=at,
        updated_at=at,
    )
    session.add(row)
    await session.flush()
    return row.id


async def mark_added(
    session: AsyncSession, row_id: int, rd_id: str, *, adopted: bool = False, now: datetime | None = None
) -> TorrentRecord:
    """The add succeeded: remember Real-Debrid's id (state ADDED). `adopted` says the torrent was already in the
    account (the row records that it serves this item; it was not added by us)."""
    row = await _must_get(session, Torrent, row_id)
    row.rd_id = rd_id
    row.adopted = adopted
    row.state = next_torrent_state(TorrentState(row.state), TorrentEvent.ANSWERED).value
    row.updated_at = _utc(now)
    await session.flush()
    return _torrent_record(row)


async def set_torrent_state(
    session: AsyncSession,
    row_id: int,
    event: TorrentEvent,
    *,
    cached: bool | None = None,
    file_ids: Iterable[int] | None = None,
    episodes: Iterable[int] | None = None,
    now: datetime | None = None,
) -> TorrentRecord:
    """Move a torrent on `event` to the state the lifecycle table gives (domain/transitions.py; IllegalTransition
    for a pair it lacks); `cached`, `file_ids` and `episodes` change only when given."""
    row = await _must_get(session, Torrent, row_id)
    row.state = next_torrent_state(TorrentState(row.state), event).value
    if cached is not None:
        row.cached = cached
    if file_ids is not None:
        row.file_ids = _ints(file_ids)
    if episodes is not None:
        row.episodes = _ints(episodes)
    row.updated_at = _utc(now)
    await session.flush()
    return _torrent_record(row)


async def get_torrent(session: AsyncSession, row_id: int) -> TorrentRecord | None:
    row = await session.get(Torrent, row_id, populate_existing=True)
    return _torrent_record(row) if row else None


async def _torrents(session: AsyncSession, *where: ColumnElement[bool]) -> list[TorrentRecord]:
    rows = await session.scalars(
        select(Torrent).where(*where).order_by(Torrent.id).execution_options(populate_existing=True)
    )
    return [_torrent_record(r) for r in rows]


async def our_torrents_with_hash(session: AsyncSession, info_hash: str) -> list[TorrentRecord]:
    """Every row of ours for this hash that is not DELETED (intents included), oldest first."""
    return await _torrents(
        session, Torrent.info_hash == _info_hash(info_hash), Torrent.state != TorrentState.DELETED.value
    )


async def torrents_of_item(session: AsyncSession, key: str) -> list[TorrentRecord]:
    """Every torrent row for an item, deleted ones included, oldest first."""
    return await _torrents(session, Torrent.item_key == key)


async def torrents_in_state(session: AsyncSession, *states: TorrentState) -> list[TorrentRecord]:
    """Rows in any of `states`, oldest first; e.g. ADDING intents to reconcile at start-up."""
    return await _torrents(session, Torrent.state.in_([TorrentState(s).value for s in states]))


async def probed_not_kept_since(session: AsyncSession, since: datetime) -> frozenset[str]:
    """Hashes a probe added and deleted again (not cached, or not usable) since `since`: no copy of them is held."""
    rows = await session.scalars(
        select(Torrent.info_hash).where(
            Torrent.state == TorrentState.DELETED.value,
            Torrent.cached.is_(False),
            Torrent.updated_at >= _utc(since),
        )
    )
    return frozenset(rows)


async def all_torrents(session: AsyncSession) -> list[TorrentRecord]:
    return await _torrents(session)


# Bad hashes


@dataclass(frozen=True)
class BadMarkRecord:
    info_hash: str
    reason: str
    source: str  # e.g. "realdebrid:451", "realdebrid:dead", "stalled"
    marked_at: datetime
    expires_at: datetime | None  # None: for good


async def mark_bad(
    session: AsyncSession,
    info_hash: str,
    *,
    reason: str,
    source: str,
    now: datetime | None = None,
    ttl: timedelta | None = None,
) -> None:
    """Remember that a hash was refused or failed, for `ttl` from now (None: for good). Marking a hash that is still
    marked keeps the first reason and time, unless the new mark is for good and the old one was not; an expired mark
    is replaced."""
    at = _utc(now)
    expires = at + ttl if ttl is not None else None
    stmt = upsert(session, BadHash).values(
        info_hash=_info_hash(info_hash), reason=reason, source=source, marked_at=at, expires_at=expires
    )
    current, new = BadHash.expires_at, stmt.excluded.expires_at
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=[BadHash.info_hash],
            set_={"reason": reason, "source": source, "marked_at": at, "expires_at": expires},
            where=current.is_not(None) & ((current <= at) | new.is_(None)),
        )
    )


async def bad_hashes(session: AsyncSession, *, now: datetime | None = None) -> frozenset[str]:
    """The hashes marked bad whose mark has not expired at `now` (default: the clock's now)."""
    at = _utc(now)
    rows = await session.scalars(
        select(BadHash.info_hash).where(BadHash.expires_at.is_(None) | (BadHash.expires_at > at))
    )
    return frozenset(rows)


async def bad_marks(session: AsyncSession) -> list[BadMarkRecord]:
    """Every mark, expired ones included, oldest first."""
    rows = await session.scalars(select(BadHash).order_by(BadHash.marked_at, BadHash.info_hash))
    return [
        BadMarkRecord(r.info_hash, r.reason, r.source, _read_utc(r.marked_at), _maybe_utc(r.expires_at)) for r in rows
    ]


async def clear_bad_mark(session: AsyncSession, info_hash: str) -> bool:
    """Forget one mark (the hash may be tried again); False when the hash was not marked."""
    result = await session.execute(delete(BadHash).where(BadHash.info_hash == _info_hash(info_hash)))
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def clear_bad_marks(session: AsyncSession) -> int:
    """Forget every mark; returns how many there were."""
    result = await session.execute(delete(BadHash))
    return int(result.rowcount)  # type: ignore[attr-defined]


# Decisions


async def add_decision(
    session: AsyncSession,
    *,
    request_id: int,
    item_key: str | None,
    summary: str,
    payload: list[dict[str, Any]],
    now: datetime | None = None,
) -> DecisionRecord:
    row = Decision(request_id=request_id, item_key=item_key, at=_utc(now), summary=summary, payload=list(payload))
    session.add(row)
    await session.flush()
    return _decision_record(row)


async def decisions_of_request(session: AsyncSession, request_id: int) -> list[DecisionRecord]:
    """A request's decisions, oldest first."""
    rows = await session.scalars(
        select(Decision)
        .where(Decision.request_id == request_id)
        .order_by(Decision.at, Decision.id)
        .execution_options(populate_existing=True)
    )
    return [_decision_record(r) for r in rows]


async def latest_decision_of_item(session: AsyncSession, item_key: str) -> DecisionRecord | None:
    """The newest decision taken for a work item, whichever request it was taken for."""
    row = await session.scalar(
        select(Decision)
        .where(Decision.item_key == item_key)
        # Insertion order, not `at`: tests and the demo run on a virtual clock beside the wall clock.
        .order_by(Decision.id.desc())
        .limit(1)
        .execution_options(populate_existing=True)
    )
    return _decision_record(row) if row is not None else None


async def latest_weighed_decision_of_item(session: AsyncSession, item_key: str) -> DecisionRecord | None:
    """The newest decision for a work item that weighed candidates (the follower's later notes weigh none)."""
    rows = await session.scalars(
        select(Decision)
        .where(Decision.item_key == item_key)
        .order_by(Decision.id.desc())  # insertion order, as in `latest_decision_of_item`
        .execution_options(populate_existing=True)
    )
    return next((_decision_record(row) for row in rows if row.payload), None)


async def latest_decision(session: AsyncSession, request_id: int) -> DecisionRecord | None:
    row = await session.scalar(
        select(Decision)
        .where(Decision.request_id == request_id)
        .order_by(Decision.at.desc(), Decision.id.desc())
        .limit(1)
        .execution_options(populate_existing=True)
    )
    return _decision_record(row) if row else None


# Search cache


async def cache_get(session: AsyncSession, query: str, *, now: datetime) -> JSONValue | None:
    """The cached payload for `query`, or None when absent or expired at `now`."""
    row = await session.get(SearchCache, query, populate_existing=True)
    if row is None or _read_utc(row.expires_at) <= _utc(now):
        return None
    return row.payload


async def cache_put(session: AsyncSession, query: str, payload: JSONValue, *, now: datetime, ttl_s: float) -> None:
    """Store (or replace) the payload for `query`, valid for `ttl_s` seconds from `now`."""
    at = _utc(now)
    fresh = {"fetched_at": at, "expires_at": at + timedelta(seconds=ttl_s), "payload": payload}
    stmt = upsert(session, SearchCache).values(query=query, **fresh)
    await session.execute(stmt.on_conflict_do_update(index_elements=[SearchCache.query], set_=fresh))


# Retention


@dataclass(frozen=True)
class Pruned:
    """How many rows a prune deleted, by table."""

    decisions: int
    search_cache: int


async def prune(session: AsyncSession, *, now: datetime, decisions_keep_days: int) -> Pruned:
    """Delete what the store no longer needs, so it does not grow for ever on a daemon that runs for months:

    - decisions taken more than `decisions_keep_days` before `now` (0: keep them all), except the latest of each
      (request, item) pair, which is what `status` and `explain` show for a request or an item settled long ago
      (the latest by id, as `latest_decision_of_item` reads it);
    - search cache rows expired at `now`: `cache_get` never serves them, and the next search of the query rewrites
      its row anyway."""
    decisions = 0
    if decisions_keep_days > 0:
        latest = select(func.max(Decision.id)).group_by(Decision.request_id, Decision.item_key)
        old = delete(Decision).where(
            Decision.at < _utc(now - timedelta(days=decisions_keep_days)), Decision.id.not_in(latest)
        )
        decisions = (await session.execute(old)).rowcount  # type: ignore[attr-defined]
    expired = delete(SearchCache).where(SearchCache.expires_at <= _utc(now))
    cache = (await session.execute(expired)).rowcount  # type: ignore[attr-defined]
    return Pruned(decisions=int(decisions), search_cache=int(cache))


async def schedule_request(
    session: AsyncSession,
    id: int,
    *,
    next_attempt_at: datetime | None,
    backoff_step: int,
    next_air_date: date | None = None,
) -> None:
    """Set a request's backoff: when it may be worked again and how far up the ladder it stands."""
    row = await _must_get(session, Request, id)
    row.next_attempt_at = _utc(next_attempt_at) if next_attempt_at is not None else None
    row.backoff_step = backoff_step
    row.next_air_date = next_air_date


async def set_torrent_progress(
    session: AsyncSession, row_id: int, progress: float, *, moved_at: datetime | None = None, restart: bool = False
) -> None:
    """Record a download's progress; `progress_at` moves only when the progress did (stall detection), or when
    `restart` (a torrent waiting in Real-Debrid's queue: its stall clock starts when it leaves)."""
    row = await _must_get(session, Torrent, row_id)
    if restart or row.progress_at is None or progress > (row.progress or 0.0):
        row.progress_at = _utc(moved_at)
    row.progress = progress


async def supersede(session: AsyncSession, old_id: int, new_id: int, *, now: datetime | None = None) -> None:
    """Row `old_id` was replaced by row `new_id` in an upgrade (its torrent is deleted later, see `upgrade`)."""
    row = await _must_get(session, Torrent, old_id)
    row.superseded_by = new_id
    row.superseded_at = _utc(now)
    row.upgrade_next_at = None
    await session.flush()


async def schedule_upgrade(
    session: AsyncSession, row_id: int, *, next_at: datetime | None, checked_at: datetime | None = None
) -> None:
    """When a kept torrent is next checked for a better copy (None: never); `checked_at` when it was looked at."""
    row = await _must_get(session, Torrent, row_id)
    row.upgrade_next_at = _utc(next_at) if next_at is not None else None
    if checked_at is not None:
        row.upgrade_checked_at = _utc(checked_at)
    await session.flush()


async def add_shared_calls(session: AsyncSession, ledger: CallLedger, *, minus: CallLedger | None = None) -> None:
    """Add calls that served no single request (pass-wide listings, following downloads, upgrade rounds) to their
    cumulative count; `minus` takes out calls a nested ledger already gave to requests."""
    counts = dict(ledger.counts)
    if minus is not None:
        for key, n in minus.counts.items():
            counts[key] = counts.get(key, 0) - n
    rows = [{"service": svc, "endpoint": ep, "count": n} for (svc, ep), n in counts.items() if n > 0]
    await _add_counts(session, SharedCall, ("service", "endpoint"), rows)


async def shared_calls(session: AsyncSession) -> dict[str, dict[str, int]]:
    """The calls no single request owns, service -> endpoint -> count."""
    out: dict[str, dict[str, int]] = {}
    query = select(SharedCall.service, SharedCall.endpoint, SharedCall.count).order_by(
        SharedCall.service, SharedCall.endpoint
    )
    for service, endpoint, n in await session.execute(query):
        out.setdefault(service, {})[endpoint] = n
    return out


# The library (migration 20261206_0007)


async def set_item_folder(session: AsyncSession, key: str, folder: str) -> str:
    """The item's library folder: `folder` the first time, then always the one fixed then (paths never move)."""
    row = await _must_get(session, WorkItem, key)
    if row.library_folder is None:
        row.library_folder = folder
        await session.flush()
    return row.library_folder


async def set_item_available(session: AsyncSession, key: str, at: datetime | None) -> None:
    """Record when Jellyfin was seen holding the item's files (None: not, or no longer)."""
    row = await _must_get(session, WorkItem, key)
    row.available_at = _utc(at) if at is not None else None
    await session.flush()


async def items_with_folder(session: AsyncSession) -> list[ItemRecord]:
    rows = await session.scalars(
        select(WorkItem).where(WorkItem.library_folder.is_not(None)).execution_options(populate_existing=True)
    )
    return [_item_record(r) for r in rows]


async def set_torrent_files(
    session: AsyncSession, row_id: int, files: Iterable[SelectedFileRecord], *, names: Iterable[str] = ()
) -> None:
    """Remember the selected files (id, path, size) of a kept torrent, what library entries point at, and
    Real-Debrid's names for it (`filename`, `original_filename`: where a mount shows it)."""
    row = await _must_get(session, Torrent, row_id)
    row.files = {
        "names": [n for n in dict.fromkeys(names) if n],
        "files": [{"id": f.id, "path": f.path, "bytes": f.bytes} for f in files],
    }
    await session.flush()


@dataclass(frozen=True)
class LibraryEntryRecord:
    id: int
    item_key: str
    rel_path: str
    episodes: tuple[int, ...]
    torrent_id: int
    file_id: int
    file_path: str
    written: str | None
    waiting_since: datetime | None
    created_at: datetime
    updated_at: datetime


def _entry_record(row: LibraryEntry) -> LibraryEntryRecord:
    return LibraryEntryRecord(
        id=row.id,
        item_key=row.item_key,
        rel_path=row.rel_path,
        episodes=tuple(row.episodes),
        torrent_id=row.torrent_id,
        file_id=row.file_id,
        file_path=row.file_path,
        written=row.written,
        waiting_since=_maybe_utc(row.waiting_since),
        created_at=_read_utc(row.created_at),
        updated_at=_read_utc(row.updated_at),
    )


async def library_entries(session: AsyncSession, *, item_key: str | None = None) -> list[LibraryEntryRecord]:
    stmt = select(LibraryEntry).order_by(LibraryEntry.rel_path).execution_options(populate_existing=True)
    if item_key is not None:
        stmt = stmt.where(LibraryEntry.item_key == item_key)
    return [_entry_record(r) for r in await session.scalars(stmt)]


async def get_library_entry(session: AsyncSession, entry_id: int) -> LibraryEntryRecord | None:
    row = await session.get(LibraryEntry, entry_id, populate_existing=True)
    return _entry_record(row) if row else None


async def put_library_entry(
    session: AsyncSession,
    *,
    item_key: str,
    rel_path: str,
    episodes: Iterable[int],
    torrent_id: int,
    file_id: int,
    file_path: str,
    now: datetime | None = None,
) -> int:
    """Record an entry (or point an existing path at another file: its id, and so a strm token, stays)."""
    at = _utc(now)
    row = (await session.scalars(select(LibraryEntry).where(LibraryEntry.rel_path == rel_path))).one_or_none()
    if row is None:
        row = LibraryEntry(
            item_key=item_key,
            rel_path=rel_path,
            episodes=_ints(episodes),
            torrent_id=torrent_id,
            file_id=file_id,
            file_path=file_path,
            written=None,
            waiting_since=None,
            created_at=at,
            updated_at=at,
        )
        session.add(row)
    elif (row.torrent_id, row.file_id, row.file_path, row.item_key) != (torrent_id, file_id, file_path, item_key):
        row.item_key, row.torrent_id, row.file_id, row.file_path = item_key, torrent_id, file_id, file_path
        row.episodes = _ints(episodes)
        row.waiting_since = None
        row.updated_at = at
    await session.flush()
    return row.id


async def set_entry_written(
    session: AsyncSession, entry_id: int, written: str | None, *, waiting_since: datetime | None = None
) -> None:
    """What was put on disk for the entry (None: nothing yet; `waiting_since`: since when the mount lacks its file)."""
    row = await _must_get(session, LibraryEntry, entry_id)
    row.written = written
    row.waiting_since = _utc(waiting_since) if waiting_since is not None else None
    await session.flush()


async def delete_library_entries(session: AsyncSession, entry_ids: Iterable[int]) -> None:
    ids = list(entry_ids)
    if ids:
        await session.execute(delete(LibraryEntry).where(LibraryEntry.id.in_(ids)))


@dataclass(frozen=True)
class RepairRecord:
    id: int
    at: datetime
    torrent_id: int
    info_hash: str
    name: str
    item_key: str
    request_id: int | None
    kind: str
    reason: str
    resolved_at: datetime | None = None


async def add_repair(
    session: AsyncSession,
    *,
    torrent: TorrentRecord,
    kind: str,
    reason: str,
    request_id: int | None,
    now: datetime | None = None,
) -> None:
    session.add(
        Repair(
            at=_utc(now),
            torrent_id=torrent.id,
            info_hash=torrent.info_hash,
            name=torrent.name,
            item_key=torrent.item_key,
            request_id=request_id,
            kind=kind,
            reason=reason,
        )
    )
    await session.flush()


async def repairs(session: AsyncSession, *, request_id: int | None = None) -> list[RepairRecord]:
    stmt = select(Repair).order_by(Repair.at, Repair.id)
    if request_id is not None:
        stmt = stmt.where(Repair.request_id == request_id)
    return [
        RepairRecord(
            r.id,
            _read_utc(r.at),
            r.torrent_id,
            r.info_hash,
            r.name,
            r.item_key,
            r.request_id,
            r.kind,
            r.reason,
            _maybe_utc(r.resolved_at),
        )
        for r in await session.scalars(stmt)
    ]


async def items_under_repair(session: AsyncSession, request_id: int) -> list[str]:
    """Keys of the request's items with an open repair (a torrent broke; no new one kept yet)."""
    rows = await session.scalars(
        select(Repair.item_key)
        .join(RequestItem, RequestItem.item_key == Repair.item_key)
        .where(RequestItem.request_id == request_id, Repair.resolved_at.is_(None))
        .distinct()
    )
    return sorted(rows)


async def resolve_repairs(session: AsyncSession, item_key: str, *, now: datetime | None = None) -> int:
    """Close the item's open repairs (a new torrent is kept for it); returns how many."""
    rows = list(await session.scalars(select(Repair).where(Repair.item_key == item_key, Repair.resolved_at.is_(None))))
    for row in rows:
        row.resolved_at = _utc(now)
    await session.flush()
    return len(rows)
