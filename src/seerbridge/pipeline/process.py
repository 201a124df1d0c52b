"""One pass of the bridge: every approved, not-yet-available Seerr request is planned, searched and acquired.

Requests run concurrently up to `run.concurrency`; work on the same wanted item (two requests for one film) is
serialised by a lock per item key, so it is done once. One request's failure is recorded on that request and
never stops the others. Calls to each service are counted per request.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from seerbridge import clock
from seerbridge.config import Settings
from seerbridge.domain.decision import Verdict
from seerbridge.domain.media import MediaKind, Title, Wanted
from seerbridge.domain.release import Candidate
from seerbridge.domain.states import KEPT_STATES, ItemState, RequestState, TorrentState
from seerbridge.domain.transitions import ItemEvent, RequestEvent, derive_request_state
from seerbridge.errors import ServiceError
from seerbridge.library.sync import library_4k_roots
from seerbridge.pipeline import backoff
from seerbridge.pipeline.acquire import Acquirer, ItemOutcome, Judge
from seerbridge.pipeline.announce import Announced, announce
from seerbridge.pipeline.gate import AccountGate
from seerbridge.pipeline.health import ServiceHealth
from seerbridge.pipeline.plan import JellyfinIndex, Plan, describe_title, plan_request
from seerbridge.pipeline.probe import Account, Interrupted, Prober
from seerbridge.pipeline.search import Searcher
from seerbridge.pipeline.sources import search_sources
from seerbridge.pipeline.track import Follower
from seerbridge.redact import redact
from seerbridge.selection.chain import evaluate
from seerbridge.selection.profiles import choose_profile
from seerbridge.selection.rules import RuleContext, build_chain
from seerbridge.services.budget import SlotGate
from seerbridge.services.bundle import Services
from seerbridge.services.calls import CallLedger, attribute_calls
from seerbridge.services.seerr import MediaRequest, MediaRequestStatus, MediaStatus
from seerbridge.store import arr_repo, repo

log = structlog.get_logger("seerbridge.pass")


@dataclass
class RequestResult:
    request_id: int
    title: str
    state: RequestState
    reason: str
    chosen: list[str] = field(default_factory=list)
    calls: dict[str, dict[str, int]] = field(default_factory=dict)
    next_air: date | None = None
    next_attempt_at: datetime | None = None


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


_UNFOUND = (RequestState.NO_RELEASE, RequestState.PARTIAL, RequestState.WAITING)


@dataclass(frozen=True)
class StoredCallCounts:
    """The store's `call_counts` table as a daily budget's count (`services.budget.CallCountStore`).

    Only daily budgets write it (Torrentio's stream calls), so a service's total for a day is its budget's count.
    """

    sessions: async_sessionmaker[AsyncSession]

    async def used(self, day: date, service: str) -> int:
        async with self.sessions() as session:
            return await repo.calls_on(session, day, service)

    async def spend(self, day: date, service: str, endpoint: str) -> None:
        one = CallLedger()
        one.record(service, endpoint)
        async with self.sessions.begin() as session:
            await repo.add_call_counts(session, day, one)


# Seerr's request statuses seerbridge works: approved, and approved then failed (its Radarr/Sonarr push failed).
WORKED_STATUSES = frozenset({MediaRequestStatus.APPROVED, MediaRequestStatus.FAILED})
SEERR_FAILED_NOTE = "Seerr marked it failed (its push to Radarr/Sonarr failed); seerbridge works it anyway"


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
    ) -> None:
        self.settings = settings
        self.services = services
        self.sessions = sessions
        self.today = clock.today  # the program's one clock (seerbridge.clock): the demo and tests move it
        self.chain = build_chain(settings.selection.rules)
        self._cycle: PassContext | None = None  # the daemon's current poll cycle
        self.gate = AccountGate()  # requests and upgrade checks side by side; a cleanup alone
        self._in_flight: set[int] = set()  # torrent rows being probed by any pass: reconciliation leaves them alone
        self._item_locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)  # per item key, process-wide
        # Set when the daemon stops: requests in hand end at the next step boundary (`Interrupted`), due at restart.
        self.stopping = False
        self.now = clock.now  # the time followed downloads are judged by (stall detection, download backoff)
        self.follower = Follower(settings, services, sessions, now=lambda: self.now(), in_flight=self._in_flight)
        self.searcher = Searcher(
            search_sources(settings, services),
            sessions,
            ttl_s=settings.search.cache_ttl_s,
            max_name_chars=settings.selection.max_name_chars,
            now=lambda: self.now(),  # the bridge's clock: the demo and tests move it, and cached answers age with it
        )
        # Daily budgets count in the store, so a restart keeps the day's count.
        services.torrentio.budget.keep_in(StoredCallCounts(sessions))
        for client in services.sources.values():
            client.budget.keep_in(StoredCallCounts(sessions))
        # Real-Debrid's download slots as last seen, for every pass of the process (see services/budget.SlotGate).
        self.slots = SlotGate(self._read_slots, recheck_s=settings.realdebrid.slot_recheck_s)
        self.health = ServiceHealth(services, sessions, self.slots)  # services' condition, for status and healthz

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

    async def new_context(self, ledger: CallLedger) -> PassContext:
        """Fresh views of the library and the account, for one pass (or one poll cycle of the daemon)."""
        async with self.sessions() as session:
            bad = set(await repo.bad_hashes(session))
        account = Account(self.services.realdebrid, ledger)
        return PassContext(
            library=JellyfinIndex(self.services.jellyfin, ledger, library_4k=library_4k_roots(self.settings)),
            prober=Prober(
                self.services.realdebrid,
                self.sessions,
                account,
                self.settings.acquire,
                bad,
                self._in_flight,
                stopping=lambda: self.stopping,
                slots=self.slots,
                mount=self.settings.jellyfin.rd_mount_path,
            ),
            today=self.today(),
            ledger=ledger,
            _locks=self._item_locks,
        )

    # ----- the daemon's entry points (see runtime/daemon.py) -----

    async def reconcile(self) -> None:
        """Settle probes a crash or kill left half done, before any new work."""
        ctx = await self.new_context(CallLedger())
        try:
            with attribute_calls(ctx.ledger):
                await ctx.prober.reconcile()
        except ServiceError as exc:
            log.warning("could not settle half-done probes yet", error=str(exc))

    async def due_request_ids(self) -> list[int]:
        """Start a new cycle and return the approved requests whose backoff allows work now."""
        self._cycle = await self.new_context(CallLedger())
        with attribute_calls(self._cycle.ledger):
            requests = await self.pending_requests()
        now = self.now()
        async with self.sessions() as session:
            known = {r.id: r for r in await repo.list_requests(session)}
        due = []
        for request in requests:
            record = known.get(request.id)
            if record is None:
                due.append(request.id)  # never seen: worked once, so `status` knows it
            elif is_available(request) and record.state in backoff.SETTLED_OK:
                continue  # Seerr says available and nothing changed on our side: nothing to look at
            elif backoff.is_due(record.next_attempt_at, record.next_air_date, now):
                due.append(request.id)
        return due

    async def work_request(self, request_id: int) -> RequestResult | None:
        """Work one request now (a webhook or the poller asked); None when Seerr no longer has it approved."""
        ctx = await self.cycle_context()
        request = await self.services.seerr.request(request_id)
        # A request Seerr completed is worked again only to repair it (an item's torrent broke).
        repairing = request.status is MediaRequestStatus.COMPLETED and await self._repairing(request_id)
        if request.status not in WORKED_STATUSES and not repairing:
            await self._settle_repaired(request_id)
            log.info("request is not approved (any more); nothing to do", request_id=request_id)
            return None
        return await self.process(request, ctx)

    async def cycle_context(self) -> PassContext:
        """The daemon's current poll cycle (one account view, one set of item locks for all its work), begun now if
        none is: work outside a pass (a webhook, an upgrade round) shares it, so two never add the same hash."""
        if self._cycle is None:
            self._cycle = await self.new_context(CallLedger())
        return self._cycle

    async def follow_downloads(self) -> float:
        """One round over the uncached downloads (see pipeline/track.py); returns the seconds to wait before the
        next. Never raises: a failing service, or a bug, makes it ask for the longest wait."""
        try:
            report = await self.follower.follow()
        except Exception:  # the follower must outlive one bad round; the store is consistent per step
            log.exception("following downloads failed")
            return self.settings.follow.max_interval_s
        if self._cycle is not None:
            self._cycle.prober.bad_hashes.update(report.bad)  # the current cycle's judge rejects them at once
        if report.finished or report.failed or report.missing:
            self.slots.freed()  # a download slot on Real-Debrid is free again: new torrents may go
        await self.record_services()
        return report.delay

    def health_details(self) -> dict[str, Any]:
        return self.health.details()

    async def record_services(self) -> None:
        await self.health.record()

    async def _read_slots(self) -> tuple[int, int]:
        active = await self.services.realdebrid.active_count()
        return active.nb, active.limit

    async def pending_requests(self) -> list[MediaRequest]:
        """Approved requests (all pages), one per request id, and those Seerr approved and then marked failed: with
        a Radarr or Sonarr configured in Seerr, a request whose push to it failed turns FAILED, but it was approved
        and seerbridge works it all the same. (A request can move between the two lists between the calls.)"""
        seen: dict[int, MediaRequest] = {}
        for request in await self.services.seerr.requests(filter="approved"):
            seen.setdefault(request.id, request)
        for request in await self.services.seerr.requests(filter="failed"):
            seen.setdefault(request.id, request)
        return list(seen.values())

    async def run_pass(self, only: set[int] | None = None) -> PassReport:
        started = clock.now()
        pass_ledger = CallLedger()
        with attribute_calls(pass_ledger):
            requests = await self.pending_requests()
        if only is not None:
            requests = [r for r in requests if r.id in only]
        ctx = await self.new_context(pass_ledger)
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
        with attribute_calls(pass_ledger):
            await self.announce(full_sync=True)  # the library, then one Jellyfin call for all the pass kept
        async with self.sessions.begin() as session:
            await repo.set_state(session, "last_pass", started.isoformat())
            await repo.add_shared_calls(session, pass_ledger)
        await self.record_services()
        return PassReport(started, list(results), pass_ledger.as_dict())

    async def announce(self, *, full_sync: bool = False) -> Announced:
        """Send what Jellyfin and Seerr are owed (pipeline/announce.py); failures are logged and stay owed.
        `full_sync` brings the whole library on disk up to date first (at start)."""
        done = await announce(self.services, self.sessions, now=self.now(), settings=self.settings, full_sync=full_sync)
        for what, exc in done.errors:
            log.warning(what, error=str(exc))
        return done

    async def process(self, request: MediaRequest, ctx: PassContext) -> RequestResult:
        ledger = CallLedger()
        label = f"{request.media_type} {request.tmdb_id}"
        async with self.sessions.begin() as session:
            before = await repo.get_request(session, request.id)
            # A request whose seasons changed in Seerr starts its backoff afresh.
            changed = before is not None and list(before.seasons) != request.season_numbers
            await repo.upsert_request(
                session,
                id=request.id,
                media_type=request.media_type,
                tmdb_id=request.tmdb_id,
                is4k=request.is4k,
                seasons=request.season_numbers,
                title=label,
            )
            await repo.set_request_state(session, request.id, RequestState.WORKING, event=RequestEvent.START)
        event = RequestEvent.SETTLE  # how the work ended (domain/transitions.py)
        down_for: float | None = None  # a service is down or paused: seconds until it may be called again
        settled_error: str | None = None
        service_failed = False  # ended FAILED by a service error its retries did not get past
        ctx.prober.slot_waits.discard(request.id)
        try:
            async with self.gate.work():
                with attribute_calls(ledger):
                    result = await self._work(request, ctx, ledger)
        except ServiceError as exc:
            down_for = self.health.down_for(exc)
            if before is not None and before.state in backoff.SETTLED_OK:
                # A re-check that could not finish changes nothing already settled (a fulfilled request stays
                # fulfilled through a Seerr hiccup); the error is kept for `status`, and the next poll looks again.
                result = RequestResult(request.id, before.title, before.state, before.reason or "")
                settled_error = redact(str(exc))
                event = RequestEvent.RESTORE
            else:
                result = RequestResult(request.id, label, RequestState.FAILED, redact(str(exc)))
                service_failed = True
                event = RequestEvent.FAIL
        except Interrupted:  # shutdown, between two steps: nothing is half done; worked again at the next start
            result = RequestResult(request.id, label, RequestState.NEW, "interrupted by a shutdown; resumes at start")
            event = RequestEvent.INTERRUPT
        except Exception as exc:  # one request's bug must not stop the pass
            log.exception("request failed", request_id=request.id)
            result = RequestResult(request.id, label, RequestState.FAILED, redact(f"internal error: {exc!r}"))
            event = RequestEvent.FAIL
        result.calls = ledger.as_dict()
        if request.status is MediaRequestStatus.FAILED and result.state is not RequestState.FAILED:
            result.reason = f"{result.reason}; {SEERR_FAILED_NOTE}" if result.reason else SEERR_FAILED_NOTE
        waits_for_slot = result.state in _UNFOUND and request.id in ctx.prober.slot_waits
        async with self.sessions.begin() as session:
            error = result.reason if result.state is RequestState.FAILED else settled_error
            await repo.set_request_state(
                session, request.id, result.state, event=event, reason=result.reason, error=error
            )
            await repo.add_request_calls(session, request.id, ledger)
            await repo.add_request_counters(session, request.id, ledger.events)
            record = await repo.get_request(session, request.id)
            step = 0 if record is None or changed else record.backoff_step
            cfg = self.settings.backoff
            schedule = backoff.after_work(
                result.state,
                step,
                self.now(),
                minutes=cfg.request_minutes,
                recheck_minutes=cfg.settled_recheck_minutes,
                interrupted=event is RequestEvent.INTERRUPT,
                down_for=down_for,
                slot_wait_s=self.settings.realdebrid.slot_recheck_s if waits_for_slot else None,
                service_failed=service_failed,
            )
            result.next_attempt_at = schedule.next_attempt_at
            await repo.schedule_request(
                session,
                request.id,
                next_attempt_at=schedule.next_attempt_at,
                backoff_step=schedule.step,
                next_air_date=result.next_air,
            )
        # A settled request is looked at again every poll until Seerr marks it available: say only what changed.
        same = before is not None and before.state is result.state and (before.reason or "") == result.reason
        (log.debug if same else log.info)("request", id=request.id, state=result.state.value, reason=result.reason)
        await self.record_services()
        return result

    async def _settle_repaired(self, request_id: int) -> None:
        """A request sent back to work by a repair whose items another request's work already repaired: its state
        from those items (it would otherwise stay NEW, Seerr having completed it)."""
        async with self.sessions.begin() as session:
            record = await repo.get_request(session, request_id)
            if record is None or record.state is not RequestState.NEW:
                return
            items = await repo.items_of_request(session, request_id)
            if not items or any(i.state is ItemState.NEW for i in items):
                return
            state = derive_request_state(i.state for i in items)
            reason = "; ".join(i.reason for i in items if i.reason)
            await repo.set_request_state(session, request_id, state, event=RequestEvent.VERIFIED, reason=reason)

    async def _profile(self, request: MediaRequest, title: Title, today: date) -> str:
        """The profile Seerr chose when it added the title to seerbridge's Radarr/Sonarr (its quality profile), else
        (none chosen, or `auto`) the first `selection.profile_rules` entry that matches."""
        app: arr_repo.App = "radarr" if request.media_type == "movie" else "sonarr"
        async with self.sessions() as session:
            added = await arr_repo.titles_of_media(session, app, request.media.tmdb_id, request.is4k)
        for title_row in added:
            if title_row.deleted_at is None and title_row.profile in self.settings.selection.profiles:
                return title_row.profile
        return choose_profile(self.settings.selection, title, is4k=request.is4k, today=today)[0]

    async def _repairing(self, request_id: int) -> list[str]:
        async with self.sessions() as session:
            return await repo.items_under_repair(session, request_id)

    async def _work(self, request: MediaRequest, ctx: PassContext, ledger: CallLedger) -> RequestResult:
        seerr = self.services.seerr
        if repairing := await self._repairing(request.id):
            return await self._repair(request, ctx, repairing)
        if is_available(request):
            title = await describe_title(request, seerr)
            await self._name(request.id, title)
            return RequestResult(request.id, title.title, RequestState.ALREADY_AVAILABLE, "Seerr says it is available")
        title = await describe_title(request, seerr)
        profile_name = await self._profile(request, title, ctx.today)
        await self._name(request.id, title, profile_name)
        plan = await plan_request(
            request,
            title,
            seerr=seerr,
            library=ctx.library,
            owned=self._owned,
            today=ctx.today,
            aired_after_days=self.settings.plan.aired_after_days,
            by_title=self.searcher.by_title,
        )
        await self._link(request.id, plan, title)
        if plan.nothing_missing:
            result = await self._settled_without_work(request, title, plan)
        else:
            outcomes: list[ItemOutcome] = []
            for wanted in plan.wanted:
                others = [w for w in plan.wanted if w.key != wanted.key]
                async with ctx.lock(wanted.key):
                    outcomes.append(await self._acquire(request, wanted, profile_name, ctx, others))
            waits = request.id in ctx.prober.slot_waits  # acceptable releases met full download slots
            result = self._combine(request, title, outcomes, plan.notes, waits_for_slot=waits)
        result.next_air = plan.next_air
        return result

    async def _repair(self, request: MediaRequest, ctx: PassContext, keys: list[str]) -> RequestResult:
        """Acquire the items under repair again, whatever Jellyfin and Seerr show (the library entry stands while its
        torrent is gone); the request's state comes from those outcomes and its other items as stored."""
        title = await describe_title(request, self.services.seerr)
        profile_name = await self._profile(request, title, ctx.today)
        await self._name(request.id, title, profile_name)
        # A fresh view: the cycle's account listing may still show the broken torrent, and its bad hashes lack it.
        ctx = await self.new_context(ctx.ledger)
        async with self.sessions() as session:
            items = await repo.items_of_request(session, request.id)
        outcomes = []
        states = [i.state for i in items if i.key not in keys]
        for item in items:
            if item.key not in keys:
                continue
            wanted = Wanted(title, item.season, frozenset(item.wanted), item.is4k)
            async with ctx.lock(item.key):
                outcome = await self._acquire(request, wanted, profile_name, ctx, [])
            outcomes.append(outcome)
            states.append(ItemState(outcome.state))
        state = derive_request_state(states)
        reason = "; ".join(f"repaired: {o.reason}" if o.state == "fulfilled" else o.reason for o in outcomes)
        return RequestResult(request.id, title.title, state, reason, [n for o in outcomes for n in o.chosen])

    async def _acquire(
        self, request: MediaRequest, wanted: Wanted, profile_name: str, ctx: PassContext, others: list[Wanted]
    ) -> ItemOutcome:
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
        # The request's other seasons, less what is already held: a pack that also holds them is added once for all.
        also = []
        for other in others:
            missing = other.episodes - await self._owned(other.key)
            if missing and not other.is_movie:
                also.append(Wanted(other.title, other.season, missing, other.is4k))
        acquirer = Acquirer(ctx.prober, self.settings.acquire, profile.resolutions, request.id, also)
        if wanted.is_movie:
            outcome = await acquirer.movie(wanted, await self.searcher.movie(wanted.title), judge)
        else:
            season = wanted.season
            assert season is not None

            async def search_episode(episode: int) -> list[Candidate]:
                if self.stopping:
                    raise Interrupted("seerbridge is stopping")
                return await self.searcher.episode(wanted.title, season, episode)

            first = await search_episode(min(wanted.episodes))
            outcome = await acquirer.season(wanted, first, search_episode, judge)
        await self._record(request.id, wanted, outcome)
        ctx.worked[wanted.key] = outcome
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
                "sources": list(v.candidate.sources),
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
            await repo.set_item_state(
                session, wanted.key, ItemState(outcome.state), event=ItemEvent.SETTLE, reason=outcome.reason, done=done
            )
            if outcome.state in (ItemState.FULFILLED, ItemState.DOWNLOADING):
                await repo.resolve_repairs(session, wanted.key)  # a new torrent stands behind the item's path

    async def _owned(self, key: str) -> frozenset[int]:
        return await owned_episodes(self.sessions, key)

    async def _link(self, request_id: int, plan: Plan, title: Title) -> None:
        """Tie the request to every item it involves, so two requests for one film share what was found."""
        async with self.sessions.begin() as session:
            for key in plan.keys:
                season = None if title.kind is MediaKind.MOVIE else Wanted.season_of_key(key)
                await repo.upsert_item(
                    session,
                    key=key,
                    kind="movie" if season is None else "season",
                    tmdb_id=title.tmdb_id,
                    season=season,
                    is4k=key.endswith(":4k"),
                    wanted=None,  # linking only: another request's wanted episodes stay as they are
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
        reason = "; ".join(plan.notes) or "nothing missing"
        if plan.held_by_us:
            # Done in an earlier pass (maybe for another request): the reason worth showing is that decision.
            async with self.sessions() as session:
                latest = [await repo.latest_decision_of_item(session, key) for key in plan.keys]
            reason = "; ".join(d.summary for d in latest if d is not None) or reason
        # Nothing to search: what the request's items come to, in the order that decides (one held item makes it
        # fulfilled even when a later season is not out yet; one not out with nothing held, no release yet).
        if await self._downloading(request.id):
            item = ItemState.DOWNLOADING
        elif plan.held_by_us:
            item = ItemState.FULFILLED
        elif plan.unsearchable or plan.not_out_yet:
            item = ItemState.NO_RELEASE
        else:
            item = ItemState.ALREADY_AVAILABLE
        return RequestResult(request.id, title.title, derive_request_state([item]), reason)

    def _combine(
        self,
        request: MediaRequest,
        title: Title,
        outcomes: list[ItemOutcome],
        notes: list[str],
        *,
        waits_for_slot: bool = False,
    ) -> RequestResult:
        state = derive_request_state((ItemState(o.state) for o in outcomes), waits_for_slot=waits_for_slot)
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
    ledger: CallLedger = field(default_factory=CallLedger)
    worked: dict[str, ItemOutcome] = field(default_factory=dict)  # item key → what this pass's work on it came to
    # Locks per item key, shared by every context of one process (the bridge's): work on an item that began in one
    # poll cycle still holds it when the next cycle's context is made.
    _locks: defaultdict[str, asyncio.Lock] = field(default_factory=lambda: defaultdict(asyncio.Lock))

    @contextlib.asynccontextmanager
    async def lock(self, key: str) -> AsyncIterator[None]:
        async with self._locks[key]:
            yield
