"""One pass of the bridge: every approved, not-yet-available Seerr request is planned, searched and acquired.

Requests run concurrently up to `run.concurrency`; work on the same wanted item (two requests for one film) is
serialised by a lock per item key, so it is done once. One request's failure is recorded on that request and
never stops the others. Calls to each service are counted per request.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from seerbridge.config import Settings
from seerbridge.domain.decision import Verdict
from seerbridge.domain.media import MediaKind, Title, Wanted
from seerbridge.domain.release import Candidate
from seerbridge.domain.states import ItemState, RequestState, TorrentState
from seerbridge.errors import ServiceError
from seerbridge.pipeline.acquire import Acquirer, ItemOutcome, Judge
from seerbridge.pipeline.plan import JellyfinIndex, Plan, describe_title, plan_request
from seerbridge.pipeline.probe import Account, Prober
from seerbridge.pipeline.search import Searcher
from seerbridge.redact import redact
from seerbridge.selection.chain import evaluate
from seerbridge.selection.profiles import choose_profile
from seerbridge.selection.rules import RuleContext, build_chain
from seerbridge.services.bundle import Services
from seerbridge.services.calls import CallLedger, attribute_calls
from seerbridge.services.seerr import MediaRequest, MediaStatus
from seerbridge.store import repo

log = structlog.get_logger("seerbridge.pass")

# Torrents that hold an item's files. ADDED is not one: it is a probe in flight (files not selected or not checked).
KEPT_STATES = (TorrentState.DOWNLOADED, TorrentState.DOWNLOADING)


@dataclass
class RequestResult:
    request_id: int
    title: str
    state: RequestState
    reason: str
    chosen: list[str] = field(default_factory=list)
    calls: dict[str, dict[str, int]] = field(default_factory=dict)


@dataclass
class PassReport:
    started_at: datetime
    results: list[RequestResult]
    shared_calls: dict[str, dict[str, int]]  # calls serving the whole pass (request list, account and library listings)

    def all_known(self) -> bool:
        return all(r.state is not RequestState.FAILED for r in self.results)


async def owned_episodes(sessions: async_sessionmaker[AsyncSession], key: str) -> frozenset[int]:
    """Episodes ({0} for a movie) that torrents seerbridge keeps on Real-Debrid hold for a work item."""
    async with sessions() as session:
        rows = await repo.torrents_of_item(session, key)
    episodes: set[int] = set()
    for row in rows:
        if row.state in KEPT_STATES:
            episodes.update(row.episodes or [0])
    return frozenset(episodes)


def is_available(request: MediaRequest) -> bool:
    status = request.media.status4k if request.is4k else request.media.status
    return status is MediaStatus.AVAILABLE


class Bridge:
    """seerbridge's core: given clients and a store, run passes over Seerr's approved requests."""

    def __init__(
        self,
        settings: Settings,
        services: Services,
        sessions: async_sessionmaker[AsyncSession],
        *,
        today: Callable[[], date] = lambda: datetime.now(UTC).date(),
    ) -> None:
        self.settings = settings
        self.services = services
        self.sessions = sessions
        self.today = today
        self.chain = build_chain(settings.selection.rules)
        self._in_flight: set[int] = set()  # torrent rows being probed by any pass: reconciliation leaves them alone
        self.searcher = Searcher(
            services.torrentio,
            sessions,
            ttl_s=settings.search.cache_ttl_s,
            max_name_chars=settings.selection.max_name_chars,
        )

    def judge(self, profile_name: str, bad_hashes: frozenset[str], today: date) -> Judge:
        """The rule chain and ranking with one profile, as a function of (candidates, wanted item)."""
        profile = self.settings.selection.profiles[profile_name]

        def judge(candidates: list[Candidate], target: Wanted) -> list[Verdict]:
            rule_ctx = RuleContext(
                wanted=target,
                profile=profile,
                profile_name=profile_name,
                settings=self.settings.selection,
                bad_hashes=bad_hashes,
                today=today,
            )
            return evaluate(candidates, rule_ctx, self.chain)

        return judge

    async def pending_requests(self) -> list[MediaRequest]:
        """Approved requests (all pages), one per request id."""
        seen: dict[int, MediaRequest] = {}
        for request in await self.services.seerr.requests(filter="approved"):
            seen.setdefault(request.id, request)
        return list(seen.values())

    async def run_pass(self, only: set[int] | None = None) -> PassReport:
        started = datetime.now(UTC)
        pass_ledger = CallLedger()
        with attribute_calls(pass_ledger):
            requests = await self.pending_requests()
        if only is not None:
            requests = [r for r in requests if r.id in only]
        async with self.sessions() as session:
            bad = set(await repo.bad_hashes(session))
        account = Account(self.services.realdebrid, pass_ledger)
        ctx = PassContext(
            library=JellyfinIndex(self.services.jellyfin, pass_ledger),
            prober=Prober(
                self.services.realdebrid, self.sessions, account, self.settings.acquire, bad, self._in_flight
            ),
            today=self.today(),
        )
        try:
            with attribute_calls(pass_ledger):
                await ctx.prober.reconcile()
        except ServiceError as exc:  # Real-Debrid down: the rows wait for the next pass; requests fail on their own
            log.warning("could not settle half-done probes", error=str(exc))
        semaphore = asyncio.Semaphore(self.settings.run.concurrency)

        async def one(request: MediaRequest) -> RequestResult:
            async with semaphore:
                return await self.process(request, ctx)

        # Listing the account and the library serves every request; those calls count as the pass's own.
        results = await asyncio.gather(*(one(r) for r in requests))
        if any(r.state is RequestState.FULFILLED for r in results) and ctx.newly_fulfilled:
            with attribute_calls(pass_ledger):
                await self._announce(ctx)
        async with self.sessions.begin() as session:
            await repo.set_state(session, "last_pass", started.isoformat())
        return PassReport(started, list(results), pass_ledger.as_dict())

    async def _announce(self, ctx: PassContext) -> None:
        """New files on Real-Debrid: one library scan for the whole pass, however many items arrived."""
        try:
            await self.services.jellyfin.refresh_library()
        except ServiceError as exc:
            log.warning("could not ask Jellyfin to scan", error=str(exc))

    async def process(self, request: MediaRequest, ctx: PassContext) -> RequestResult:
        ledger = CallLedger()
        label = f"{request.media_type} {request.tmdb_id}"
        async with self.sessions.begin() as session:
            await repo.upsert_request(
                session,
                id=request.id,
                media_type=request.media_type,
                tmdb_id=request.tmdb_id,
                is4k=request.is4k,
                seasons=request.season_numbers,
                title=label,
            )
            await repo.set_request_state(session, request.id, RequestState.WORKING)
        try:
            with attribute_calls(ledger):
                result = await self._work(request, ctx, ledger)
        except ServiceError as exc:
            result = RequestResult(request.id, label, RequestState.FAILED, redact(str(exc)))
        except Exception as exc:  # one request's bug must not stop the pass
            log.exception("request failed", request_id=request.id)
            result = RequestResult(request.id, label, RequestState.FAILED, redact(f"internal error: {exc!r}"))
        result.calls = ledger.as_dict()
        async with self.sessions.begin() as session:
            error = result.reason if result.state is RequestState.FAILED else None
            await repo.set_request_state(session, request.id, result.state, reason=result.reason, error=error)
            await repo.add_request_calls(session, request.id, ledger)
        log.info("request", id=request.id, state=result.state.value, reason=result.reason)
        return result

    async def _work(self, request: MediaRequest, ctx: PassContext, ledger: CallLedger) -> RequestResult:
        seerr = self.services.seerr
        if is_available(request):
            title = await describe_title(request, seerr)
            await self._name(request.id, title)
            return RequestResult(request.id, title.title, RequestState.ALREADY_AVAILABLE, "Seerr says it is available")
        title = await describe_title(request, seerr)
        profile_name, _ = choose_profile(self.settings.selection, title, is4k=request.is4k, today=ctx.today)
        await self._name(request.id, title, profile_name)
        plan = await plan_request(request, title, seerr=seerr, library=ctx.library, owned=self._owned, today=ctx.today)
        await self._link(request.id, plan, title)
        if plan.nothing_missing:
            return await self._settled_without_work(request, title, plan)
        outcomes: list[ItemOutcome] = []
        for wanted in plan.wanted:
            async with ctx.lock(wanted.key):
                outcomes.append(await self._acquire(request, wanted, profile_name, ctx))
        return self._combine(request, title, outcomes, plan.notes)

    async def _acquire(self, request: MediaRequest, wanted: Wanted, profile_name: str, ctx: PassContext) -> ItemOutcome:
        profile = self.settings.selection.profiles[profile_name]
        async with self.sessions.begin() as session:
            await repo.upsert_item(
                session,
                key=wanted.key,
                kind="movie" if wanted.is_movie else "season",
                tmdb_id=wanted.title.tmdb_id,
                season=wanted.season,
                is4k=wanted.is4k,
                wanted=sorted(wanted.episodes),
            )
            await repo.link_request_item(session, request.id, wanted.key)
        # Another request may have worked this item while we waited for its lock: the same media is worked once
        # per pass, whatever came of it (found, downloading or nothing acceptable), and both requests show it.
        earlier = ctx.worked.get(wanted.key)
        if earlier is not None:
            await self._record(request.id, wanted, earlier)
            return earlier
        owned = await self._owned(wanted.key)
        held = "downloading" if await self._item_downloading(wanted.key) else "fulfilled"
        if wanted.is_movie and owned:
            return ItemOutcome(held, "already on Real-Debrid (added by seerbridge)", done=frozenset({0}))
        if not wanted.is_movie:
            wanted = Wanted(wanted.title, wanted.season, wanted.episodes - owned, wanted.is4k)
            if not wanted.episodes:
                return ItemOutcome(held, "already on Real-Debrid (added by seerbridge)")

        judge = self.judge(profile_name, frozenset(ctx.prober.bad_hashes), ctx.today)
        acquirer = Acquirer(ctx.prober, self.settings.acquire, profile.resolutions, request.id)
        imdb = wanted.title.imdb_id
        assert imdb is not None
        if wanted.is_movie:
            outcome = await acquirer.movie(wanted, await self.searcher.movie(imdb), judge)
        else:
            season = wanted.season
            assert season is not None

            async def search_episode(episode: int) -> list[Candidate]:
                return await self.searcher.episode(imdb, season, episode)

            first = await search_episode(min(wanted.episodes))
            outcome = await acquirer.season(wanted, first, search_episode, judge)
        await self._record(request.id, wanted, outcome)
        ctx.worked[wanted.key] = outcome
        if outcome.done:
            ctx.newly_fulfilled = True
        return outcome

    async def _record(self, request_id: int, wanted: Wanted, outcome: ItemOutcome) -> None:
        ordered = sorted(
            outcome.verdicts.values(),
            key=lambda v: (not v.accepted, -(v.score or 0), -(v.candidate.seeders or 0)),
        )
        payload: list[dict[str, Any]] = [
            {
                "info_hash": v.candidate.info_hash,
                "name": v.candidate.name,
                "accepted": v.accepted,
                "reasons": [f"{r.rule}: {r.reason}" for r in v.rejections],
                "score": v.score,
                "probe": outcome.probe_note(v.candidate.info_hash),
            }
            for v in ordered
        ]
        async with self.sessions.begin() as session:
            await repo.add_decision(
                session, request_id=request_id, item_key=wanted.key, summary=outcome.reason, payload=payload
            )
            done = sorted(outcome.done) if not wanted.is_movie else None
            await repo.set_item_state(session, wanted.key, ItemState(outcome.state), reason=outcome.reason, done=done)

    async def _owned(self, key: str) -> frozenset[int]:
        return await owned_episodes(self.sessions, key)

    async def _link(self, request_id: int, plan: Plan, title: Title) -> None:
        """Tie the request to every item it involves, so two requests for one film share what was found."""
        async with self.sessions.begin() as session:
            for key in plan.keys:
                season = None if title.kind is MediaKind.MOVIE else int(key.split(":s")[1][:2])
                await repo.upsert_item(
                    session,
                    key=key,
                    kind="movie" if season is None else "season",
                    tmdb_id=title.tmdb_id,
                    season=season,
                    is4k=key.endswith(":4k"),
                    wanted=[],
                )
                await repo.link_request_item(session, request_id, key)

    async def _item_downloading(self, key: str) -> bool:
        async with self.sessions() as session:
            torrents = await repo.torrents_of_item(session, key)
        return any(t.state is TorrentState.DOWNLOADING for t in torrents)

    async def _downloading(self, request_id: int) -> bool:
        async with self.sessions() as session:
            for item in await repo.items_of_request(session, request_id):
                torrents = await repo.torrents_of_item(session, item.key)
                if any(t.state is TorrentState.DOWNLOADING for t in torrents):
                    return True
        return False

    async def _settled_without_work(self, request: MediaRequest, title: Title, plan: Plan) -> RequestResult:
        notes = plan.notes
        reason = "; ".join(notes) or "nothing missing"
        if any("seerbridge" in n for n in notes):
            # Done in an earlier pass (maybe for another request): the reason worth showing is that decision.
            async with self.sessions() as session:
                latest = [await repo.latest_decision_of_item(session, key) for key in plan.keys]
            reason = "; ".join(d.summary for d in latest if d is not None) or reason
        if await self._downloading(request.id):
            return RequestResult(request.id, title.title, RequestState.DOWNLOADING, reason)
        if any("seerbridge" in n for n in notes):
            return RequestResult(request.id, title.title, RequestState.FULFILLED, reason)
        if plan.unsearchable or any(("aired" in n or "released" in n) and "every" not in n for n in notes):
            return RequestResult(request.id, title.title, RequestState.NO_RELEASE, reason)
        return RequestResult(request.id, title.title, RequestState.ALREADY_AVAILABLE, reason)

    def _combine(
        self, request: MediaRequest, title: Title, outcomes: list[ItemOutcome], notes: list[str]
    ) -> RequestResult:
        states = {o.state for o in outcomes}
        if states == {"fulfilled"}:
            state = RequestState.FULFILLED
        elif "downloading" in states:
            state = RequestState.DOWNLOADING
        elif states & {"fulfilled", "partial"}:
            state = RequestState.PARTIAL
        else:
            state = RequestState.NO_RELEASE
        reason = "; ".join([o.reason for o in outcomes] + notes)
        chosen = [name for o in outcomes for name in o.chosen]
        return RequestResult(request.id, title.title, state, reason, chosen)

    async def _name(self, request_id: int, title: Title, profile: str | None = None) -> None:
        shown = title.title if title.year is None else f"{title.title} ({title.year})"
        async with self.sessions.begin() as session:
            await repo.set_request_title(session, request_id, shown, profile=profile)


@dataclass
class PassContext:
    """What requests in one pass share: the library listing, the account view and prober, the item locks."""

    library: JellyfinIndex
    prober: Prober
    today: date
    newly_fulfilled: bool = False
    worked: dict[str, ItemOutcome] = field(default_factory=dict)  # item key → what this pass's work on it came to
    _locks: defaultdict[str, asyncio.Lock] = field(default_factory=lambda: defaultdict(asyncio.Lock))

    @contextlib.asynccontextmanager
    async def lock(self, key: str) -> AsyncIterator[None]:
        async with self._locks[key]:
            yield
