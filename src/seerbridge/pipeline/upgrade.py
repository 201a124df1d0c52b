"""Upgrades: torrents seerbridge fulfilled below their profile's cutoff are looked at again, slowly, and replaced by a
better cached copy. The order is what keeps a library whole: the new copy is added and confirmed `downloaded`,
Jellyfin is told, and only `upgrade.keep_replaced_minutes` later (and once Jellyfin has been told) is the old one
deleted. A new copy that is not cached is deleted at once by its probe; the old one is never touched then.

Which torrents: those seerbridge added itself (never adopted ones), kept (`downloaded`), not already replaced.
When: each is first due somewhere in the first `revisit_days` after it arrived (spread by its hash, so a library
fulfilled in one evening is not re-searched in one evening), then every `revisit_days`. A round checks at most its
share of the library (`interval_s / revisit_days`) and stops early when it has spent `budget_share` of Torrentio's
daily budget or of Real-Debrid's pace for the round.

Which profile: the one acquisition would choose today (age rules included: an old series in the classic profile,
whose cutoff is 720p, is never searched again once it has 720p), or the `upgrade.to_4k` profile for the kinds and
ages chosen there. A candidate must pass the whole rule chain under that profile, cover every episode the old
torrent holds, be sharper or from a better source (`selection.cutoff.is_better`) and never less sharp.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

import structlog

from seerbridge.config import Settings, To4kSettings
from seerbridge.domain.decision import Verdict
from seerbridge.domain.media import MediaKind, Title, Wanted
from seerbridge.domain.release import Candidate
from seerbridge.domain.states import TorrentState
from seerbridge.errors import ServiceError
from seerbridge.pipeline import removal
from seerbridge.pipeline.announce import jellyfin_owed, owe_jellyfin
from seerbridge.pipeline.cleanup import apply_cleanup, plan_cleanup
from seerbridge.pipeline.plan import describe_media
from seerbridge.pipeline.probe import Interrupted, ProbeOutcome, ProbeResult
from seerbridge.selection.cutoff import is_better, is_downgrade, meets_cutoff
from seerbridge.selection.parse import parse_release
from seerbridge.selection.profiles import choose_profile
from seerbridge.selection.rank import preference_key, score
from seerbridge.selection.rules import RuleContext
from seerbridge.services.calls import CallLedger, attribute_calls
from seerbridge.store import history, repo

if TYPE_CHECKING:
    from seerbridge.pipeline.process import Bridge, PassContext

log = structlog.get_logger("seerbridge.upgrade")

RD_DOCUMENTED_LIMIT_PER_MIN = 250.0
QUALITY_RULES = frozenset({"resolution", "size"})  # what an upgrade to another profile may disagree with


@dataclass
class Check:
    """One kept torrent looked at: what it was measured against and what came of it."""

    torrent_id: int
    name: str
    item_key: str
    profile: str
    outcome: str  # "upgraded", "at cutoff", "nothing better", "no better copy cached", "skipped", "error"
    detail: str = ""
    new_name: str | None = None


@dataclass
class UpgradeReport:
    checks: list[Check] = field(default_factory=list)
    removed: list[removal.Doomed] = field(default_factory=list)  # replaced torrents deleted this round
    left_for_later: int = 0  # due, but this round's share or budget was spent
    calls: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def upgraded(self) -> list[Check]:
        return [c for c in self.checks if c.outcome == "upgraded"]


def to_4k_applies(rule: To4kSettings, title: Title, *, is4k: bool, today: date) -> bool:
    """Does `upgrade.to_4k` send this title to its profile? Never for what is already a 4K request."""
    if not rule.enabled or is4k:
        return False
    if ("movie" if title.kind is MediaKind.MOVIE else "show") not in rule.kinds:
        return False
    if rule.min_age_years is None and rule.max_age_years is None:
        return True
    age = title.age_years(today)
    if age is None:
        return False
    if rule.min_age_years is not None and age < rule.min_age_years:
        return False
    return rule.max_age_years is None or age <= rule.max_age_years


def upgrade_profile(settings: Settings, title: Title, *, is4k: bool, today: date) -> str:
    """The profile an upgrade of this title aims for."""
    if to_4k_applies(settings.upgrade.to_4k, title, is4k=is4k, today=today):
        return settings.upgrade.to_4k.profile
    return choose_profile(settings.selection, title, is4k=is4k, today=today)[0]


def first_check_at(row: repo.TorrentRecord, revisit: timedelta) -> datetime:
    """A new torrent's first check: between half and all of `revisit` after it arrived, spread by its hash."""
    spread = int(row.info_hash[:8], 16) / 0xFFFFFFFF
    return row.updated_at + revisit * (0.5 + 0.5 * spread)


class Upgrader:
    """Runs upgrade rounds for one bridge (its clients, store, clock and rule chain)."""

    def __init__(self, bridge: Bridge) -> None:
        self.bridge = bridge
        self.settings = bridge.settings

    @property
    def revisit(self) -> timedelta:
        return timedelta(days=self.settings.upgrade.revisit_days)

    async def round(self, *, everything: bool = False) -> UpgradeReport:
        """Delete replaced torrents whose hold is over, then check the torrents that are due.

        `everything`: check every eligible torrent now, whatever its schedule and the round's share (the budget
        share still applies). Never raises a ServiceError: a failing service ends the round early, logged.
        """
        report = UpgradeReport()
        ledger = CallLedger()  # every call of the round (its budget caps)
        attributed = CallLedger()  # those of them the checks gave to requests
        now = self.bridge.now()
        with attribute_calls(ledger):
            await self.remove_replaced(report, now)
            if self.settings.upgrade.enabled or everything:
                await self._check_due(report, ledger, attributed, now, everything=everything)
        report.calls = ledger.as_dict()
        async with self.bridge.sessions.begin() as session:
            await repo.add_shared_calls(session, ledger, minus=attributed)
        if report.checks or report.removed:
            log.info(
                "upgrade round",
                checked=len(report.checks),
                upgraded=len(report.upgraded),
                removed=len(report.removed),
                left_for_later=report.left_for_later,
            )
        return report

    # ----- choosing what to check -----

    async def eligible(self) -> list[repo.TorrentRecord]:
        """Kept torrents seerbridge added and nothing has replaced yet."""
        async with self.bridge.sessions() as session:
            rows = await repo.torrents_in_state(session, TorrentState.DOWNLOADED)
        return [r for r in rows if r.ours and r.superseded_by is None and r.rd_id is not None]

    async def _check_due(
        self, report: UpgradeReport, ledger: CallLedger, attributed: CallLedger, now: datetime, *, everything: bool
    ) -> None:
        rows = await self.eligible()
        due: list[tuple[datetime, repo.TorrentRecord]] = []
        async with self.bridge.sessions.begin() as session:  # one transaction for the torrents seen the first time
            for row in rows:
                next_at = row.upgrade_next_at
                if next_at is None and row.upgrade_checked_at is None:
                    next_at = first_check_at(row, self.revisit)
                    await repo.schedule_upgrade(session, row.id, next_at=next_at)
                if everything or (next_at is not None and next_at <= now):
                    due.append((next_at or now, row))
        if not due:
            return
        due.sort(key=lambda pair: (pair[0], pair[1].id))
        share = len(due) if everything else self._round_share(len(rows))
        torrentio_cap, rd_cap = self._budget_caps()
        ctx = await self.bridge.cycle_context()
        for position, (_, row) in enumerate(due):
            spent_tio, spent_rd = ledger.total("torrentio"), ledger.total("realdebrid")
            if (
                position >= share
                or (torrentio_cap is not None and spent_tio >= torrentio_cap)
                or spent_rd >= rd_cap
                or self.bridge.stopping
            ):
                report.left_for_later = len(due) - position
                break
            try:
                report.checks.append(await self._check(row, ctx, now, attributed))
            except Interrupted:
                report.left_for_later = len(due) - position
                break
            except ServiceError as exc:  # still due: the next round tries again (a breaker keeps it cheap)
                report.checks.append(Check(row.id, row.name, row.item_key, "?", "error", str(exc)))
                log.warning("upgrade check failed", torrent=row.name, error=str(exc))
                report.left_for_later = len(due) - position - 1
                break
        if report.upgraded:
            done = await self.bridge.announce()
            if done.jellyfin and self.settings.upgrade.keep_replaced_minutes == 0:
                await self.remove_replaced(report, now)

    def _round_share(self, eligible: int) -> int:
        """How many checks one round may make so that every eligible torrent is seen once per `revisit_days`
        (twice that, so a round that was skipped or cut short is caught up)."""
        rounds = max(1.0, self.revisit.total_seconds() / self.settings.upgrade.interval_s)
        return max(1, math.ceil(2 * eligible / rounds))

    def _budget_caps(self) -> tuple[float | None, float]:
        """Calls one round may spend: `budget_share` of Torrentio's daily budget (spread over the day's rounds) and
        of Real-Debrid's pace over the round's interval."""
        upgrade = self.settings.upgrade
        rounds_per_day = max(1.0, 86400.0 / upgrade.interval_s)
        daily = self.settings.torrentio.daily_budget
        torrentio = max(1.0, daily * upgrade.budget_share / rounds_per_day) if daily > 0 else None
        pace = self.settings.realdebrid.rate_limit_per_min or RD_DOCUMENTED_LIMIT_PER_MIN
        per_probe = 4  # add, info, select, info: a check must be able to afford at least its probes
        realdebrid = max(
            1.0 + per_probe * upgrade.max_probes, pace * upgrade.budget_share * min(upgrade.interval_s, 86400) / 60
        )
        return torrentio, realdebrid

    # ----- one check -----

    async def _check(
        self, row: repo.TorrentRecord, ctx: PassContext, now: datetime, attributed: CallLedger | None = None
    ) -> Check:
        request_ledger = CallLedger()
        async with self.bridge.gate.work(), ctx.lock(row.item_key):  # no cleanup, no request on the item meanwhile
            with attribute_calls(request_ledger):
                check = await self._measure(row, ctx, now)
        if row.request_id is not None:
            async with self.bridge.sessions.begin() as session:
                if await repo.get_request(session, row.request_id) is not None:
                    await repo.add_request_calls(session, row.request_id, request_ledger)
                    await repo.add_request_counters(session, row.request_id, request_ledger.events)
                    if attributed is not None:
                        attributed.counts.update(request_ledger.counts)
        log.info("upgrade check", torrent=row.name, profile=check.profile, outcome=check.outcome, detail=check.detail)
        return check

    async def _measure(self, row: repo.TorrentRecord, ctx: PassContext, now: datetime) -> Check:
        request = await self._request_of(row)
        if request is None:
            await self._next_check(row, now)
            return Check(row.id, row.name, row.item_key, "-", "skipped", "no request in the store serves it")
        title = await describe_media(request.media_type, request.tmdb_id, self.bridge.services.seerr)
        profile_name = upgrade_profile(self.settings, title, is4k=request.is4k, today=ctx.today)
        profile = self.settings.selection.profiles[profile_name]
        max_chars = self.settings.selection.max_name_chars
        current = parse_release(row.name, max_chars=max_chars)
        if meets_cutoff(current, profile):
            await self._next_check(row, now)
            return Check(row.id, row.name, row.item_key, profile_name, "at cutoff", profile.cutoff)
        is4k = row.item_key.endswith(":4k")
        season = row.season
        wanted = Wanted(title, season, frozenset(row.episodes) if season is not None else frozenset(), is4k)
        searchable = title.imdb_id is not None or self.bridge.searcher.by_title
        if wanted.key != row.item_key or not searchable or (season is not None and not row.episodes):
            await self._next_check(row, now)
            return Check(row.id, row.name, row.item_key, profile_name, "skipped", "its item cannot be searched")
        if season is None:
            candidates = await self.bridge.searcher.movie(title)
        else:
            candidates = await self.bridge.searcher.episode(title, season, min(row.episodes))
        judge = self.bridge.judge(profile_name, frozenset(ctx.prober.bad_hashes), ctx.today)
        better = [
            v
            for v in judge(candidates, wanted)
            if v.accepted
            and v.candidate.info_hash != row.info_hash
            and is_better(v.candidate.parsed, current, profile)
            and not is_downgrade(v.candidate.parsed, current)
            and (season is None or set(row.episodes) <= v.episodes)
        ]
        own_profile = choose_profile(self.settings.selection, title, is4k=request.is4k, today=ctx.today)[0]
        if own_profile != profile_name:
            # An upgrade to another profile (4K) changes the quality on purpose, nothing else: the request's own
            # profile must accept the copy but for its resolution and size bounds (languages, regexes stay).
            own = {
                v.candidate.info_hash: v
                for v in self.bridge.judge(own_profile, frozenset(ctx.prober.bad_hashes), ctx.today)(
                    [v.candidate for v in better], wanted
                )
            }
            better = [
                v
                for v in better
                if v.candidate.info_hash in own and set(own[v.candidate.info_hash].reasons) <= QUALITY_RULES
            ]
        async with self.bridge.sessions() as session:
            # A copy a probe found not cached within the revisit period is not probed again before it is over (a
            # season of single episodes would otherwise probe the same uncached pack once per episode).
            recent_misses = await repo.probed_not_kept_since(session, now - self.revisit)
        skipped = [v for v in better if v.candidate.info_hash in recent_misses]
        better = [v for v in better if v.candidate.info_hash not in recent_misses]
        better.sort(key=preference_key)
        if not better and skipped:
            await self._next_check(row, now)
            names = "; ".join(v.candidate.name for v in skipped)
            return Check(
                row.id, row.name, row.item_key, profile_name, "no better copy cached", f"not cached lately: {names}"
            )
        if not better:
            await self._next_check(row, now)
            return Check(row.id, row.name, row.item_key, profile_name, "nothing better", f"below {profile.cutoff}")
        tried: list[str] = []
        for verdict in better[: self.settings.upgrade.max_probes]:
            result = await ctx.prober.probe(
                verdict,
                wanted,
                request_id=request.id,
                keep_uncached=False,
                min_share=1.0 if season is not None else 0.0,
                adopt_downloading=False,  # a copy still downloading is the user's (or a request's); looked at later
            )
            if result.outcome is ProbeOutcome.CACHED and result.rd_id is not None and result.covered >= wanted.episodes:
                await self._replace(row, verdict, result, profile_name, now)
                return Check(
                    row.id,
                    row.name,
                    row.item_key,
                    profile_name,
                    "upgraded",
                    f"{verdict.candidate.parsed.resolution if verdict.candidate.parsed else '?'} replaces it",
                    new_name=verdict.candidate.name,
                )
            tried.append(f"{verdict.candidate.name}: {result.outcome.value}")
        await self._next_check(row, now)
        return Check(row.id, row.name, row.item_key, profile_name, "no better copy cached", "; ".join(tried))

    async def _request_of(self, row: repo.TorrentRecord) -> repo.RequestRecord | None:
        async with self.bridge.sessions() as session:
            ids = [row.request_id] if row.request_id is not None else []
            ids += await repo.requests_of_item(session, row.item_key)
            for request_id in ids:
                record = await repo.get_request(session, request_id)
                if record is not None:
                    return record
        return None

    async def _next_check(self, row: repo.TorrentRecord, now: datetime) -> None:
        async with self.bridge.sessions.begin() as session:
            await repo.schedule_upgrade(session, row.id, next_at=now + self.revisit, checked_at=now)

    async def _replace(
        self, old: repo.TorrentRecord, verdict: Verdict, result: ProbeResult, profile: str, now: datetime
    ) -> None:
        """The better copy is downloaded: mark the old one replaced (deleted after its hold), owe Jellyfin a look."""
        async with self.bridge.sessions() as session:
            rows = await repo.our_torrents_with_hash(session, verdict.candidate.info_hash)
        new = next(r for r in rows if r.rd_id == result.rd_id and r.state is TorrentState.DOWNLOADED)
        mount, folder = self.settings.jellyfin.rd_mount_path, result.filename.strip().strip("/")
        path = f"{mount.rstrip('/')}/{folder}" if mount and folder else None  # else a library refresh is owed
        old_score = self._score_of(old, profile)
        async with self.bridge.sessions.begin() as session:
            await repo.supersede(session, old.id, new.id, now=now)
            await repo.schedule_upgrade(session, new.id, next_at=now + self.revisit, checked_at=now)
            await history.record_upgrade(
                session,
                item_key=old.item_key,
                request_id=old.request_id,
                profile=profile,
                old_torrent_id=old.id,
                new_torrent_id=new.id,
                old_name=old.name,
                new_name=new.name,
                old_score=old_score,
                new_score=verdict.score or 0,
                now=now,
            )
            await owe_jellyfin(session, path=path)
        log.info("upgraded", old=old.name, new=new.name, profile=profile, item=old.item_key)

    def _score_of(self, row: repo.TorrentRecord, profile_name: str) -> int:
        """The old copy's score under the profile the upgrade used (recorded beside the new one's)."""
        parsed = parse_release(row.name, max_chars=self.settings.selection.max_name_chars)
        title = Title(kind=MediaKind.MOVIE if row.season is None else MediaKind.SHOW, tmdb_id=0, title=parsed.title)
        ctx = RuleContext(
            wanted=Wanted(title, row.season, frozenset(row.episodes)),
            profile=self.settings.selection.profiles[profile_name],
            profile_name=profile_name,
            settings=self.settings.selection,
            bad_hashes=frozenset(),
            today=self.bridge.today(),
        )
        per_file = row.size_bytes // max(1, len(row.episodes)) if row.size_bytes else None
        return score(Candidate(row.info_hash, row.name, parsed, size_bytes=per_file), ctx)

    # ----- the old copies -----

    async def remove_replaced(self, report: UpgradeReport, now: datetime) -> None:
        """Delete replaced torrents whose hold is over, once Jellyfin has been told of their replacements: the
        cleanup planner's `superseded` rule (replacement downloaded on Real-Debrid, nothing else served by the old
        copy), applied. Costs one account listing, and only while a replaced torrent is still held."""
        async with self.bridge.sessions() as session:
            rows = await repo.torrents_in_state(session, TorrentState.DOWNLOADED)
        if not any(r.superseded_by is not None for r in rows) or await jellyfin_owed(self.bridge.sessions):
            return
        try:
            plan = await plan_cleanup(self.bridge, rules=("superseded",))
        except ServiceError as exc:
            log.warning(
                "could not list the account to delete replaced torrents; the next round tries again", error=str(exc)
            )
            return
        outcome = await apply_cleanup(self.bridge, plan)
        report.removed.extend(outcome.deleted)


__all__ = ["Check", "UpgradeReport", "Upgrader", "first_check_at", "to_4k_applies", "upgrade_profile"]
