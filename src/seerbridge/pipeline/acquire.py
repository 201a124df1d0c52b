"""Acquire: choose which candidates to probe, in what order, and stop as soon as the wanted item is covered.

Preference, per the design: a cached pack covering the wanted episodes of a season, then cached single episodes
for what remains, then (when allowed) an uncached download of the best-seeded acceptable release above a floor.
Torrentio's [RD+] mark only moves a candidate ahead of others of the same resolution; the probe decides.
Every item spends at most `max_probes` probes that end unkept per phase (packs, single episodes, uncached), so a
season of single episodes gets one kept probe per episode but never `max_probes` misses per episode; a hash probed
once is not probed again in the pass, except that the best-seeded release may be added once more to download it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from seerbridge.config import AcquireSettings
from seerbridge.domain.decision import Verdict
from seerbridge.domain.media import Wanted
from seerbridge.domain.release import Candidate
from seerbridge.errors import ServiceError
from seerbridge.pipeline.probe import Interrupted, ProbeOutcome, Prober, ProbeResult

Judge = Callable[[list[Candidate], Wanted], list[Verdict]]
EpisodeSearch = Callable[[int], Awaitable[list[Candidate]]]

MOVIE_DONE = frozenset({0})


@dataclass
class ItemOutcome:
    """How one wanted item ended this pass; `done`/`downloading` are episode numbers ({0} stands for a movie)."""

    state: str  # fulfilled | downloading | partial | no_release
    reason: str
    done: frozenset[int] = frozenset()
    downloading: frozenset[int] = frozenset()
    verdicts: dict[str, Verdict] = field(default_factory=dict)
    probes: dict[str, ProbeResult] = field(default_factory=dict)
    chosen: list[str] = field(default_factory=list)  # names of the releases kept

    def probe_note(self, info_hash: str) -> str:
        result = self.probes.get(info_hash)
        if result is None:
            return "not probed"
        return result.outcome.value + (f" ({result.detail})" if result.detail else "")


def probe_order(verdicts: list[Verdict], ladder: list[str]) -> list[Verdict]:
    """Accepted verdicts in rank order, except that [RD+]-hinted ones go first within the same resolution."""
    position = {res: i for i, res in enumerate(ladder)}

    def key(item: tuple[int, Verdict]) -> tuple[int, bool, int]:
        index, v = item
        res = v.candidate.parsed.resolution if v.candidate.parsed else "unknown"
        return (position.get(res, len(ladder)), not v.candidate.cached_hint, index)

    return [v for _, v in sorted(enumerate(verdicts), key=key)]


def distinct(verdicts: Sequence[Verdict]) -> list[Verdict]:
    """Each release (by hash) once, as first weighed: what the decision log keeps and `explain` lists. A season's
    episode searches return its packs again and again, and Torrentio may list one hash twice."""
    first: dict[str, Verdict] = {}
    for v in verdicts:
        first.setdefault(v.candidate.info_hash, v)
    return list(first.values())


def rejection_summary(verdicts: Sequence[Verdict], *, searches: int = 1) -> str:
    """ "7 releases, none acceptable (trash 3, year 2, title 2)": each distinct release once, under the first rule
    that rejected it; "… in 8 episode searches" when more than one search found them."""
    releases = distinct(verdicts)
    counts = Counter(v.rejections[0].rule for v in releases if not v.accepted)
    parts = ", ".join(f"{rule} {n}" for rule, n in counts.most_common())
    noun = "release" if len(releases) == 1 else "releases"
    where = f" in {searches} episode searches" if searches > 1 else ""
    return f"{len(releases)} {noun}{where}, none acceptable" + (f" ({parts})" if parts else "")


class Acquirer:
    """Runs the acquisition strategy for one wanted item with the pass's prober."""

    def __init__(
        self,
        prober: Prober,
        settings: AcquireSettings,
        ladder: list[str],
        request_id: int,
        also: Sequence[Wanted] = (),
    ) -> None:
        self.prober = prober
        self.settings = settings
        self.ladder = ladder
        self.request_id = request_id
        self.also = also  # the request's other seasons: a pack holding them too is added once for all
        self._downloads_tried: set[str] = set()  # hashes already added to be downloaded: never added again

    def _seeded(self, verdicts: list[Verdict], outcome: ItemOutcome) -> Verdict | None:
        """The uncached pick: best-seeded acceptable release above the floor, not already found bad."""
        floor = self.settings.uncached_min_seeders

        def eligible(v: Verdict) -> bool:
            if not v.accepted or (v.candidate.seeders or 0) < floor or v.candidate.info_hash in self.prober.bad_hashes:
                return False
            if v.candidate.info_hash in self._downloads_tried:
                return False
            probed = outcome.probes.get(v.candidate.info_hash)
            return probed is None or probed.outcome in (ProbeOutcome.NOT_CACHED, ProbeOutcome.CONVERTING)

        pool = [v for v in verdicts if eligible(v)]
        return max(pool, key=lambda v: (v.candidate.seeders or 0, v.score or 0), default=None)

    async def movie(self, wanted: Wanted, candidates: list[Candidate], judge: Judge) -> ItemOutcome:
        verdicts = judge(candidates, wanted)
        outcome = ItemOutcome("no_release", "", verdicts={v.candidate.info_hash: v for v in verdicts})
        accepted = [v for v in verdicts if v.accepted]
        if not accepted:
            outcome.reason = rejection_summary(verdicts) if verdicts else "Torrentio has no releases"
            return outcome
        held: ProbeResult | None = None
        for verdict in probe_order(accepted, self.ladder)[: self.settings.max_probes]:
            # The uncached pick can change as probes find hashes Real-Debrid refuses; hold it if we meet it.
            pick = self._seeded(accepted, outcome) if self.settings.allow_uncached and held is None else None
            keep = pick is not None and verdict is pick
            if keep:
                self._downloads_tried.add(verdict.candidate.info_hash)
            try:
                result = await self.prober.probe(verdict, wanted, request_id=self.request_id, keep_uncached=keep)
            except (ServiceError, Interrupted):
                if held is not None:
                    # The item stops undecided: the held download must not pass for the choice (a cached copy
                    # may come next), so `reconcile` settles it and the next work on the item decides afresh.
                    await self.prober.reopen(held)
                raise
            outcome.probes[verdict.candidate.info_hash] = result
            if result.outcome in (ProbeOutcome.CACHED, ProbeOutcome.IN_PROGRESS):
                if held is not None:
                    try:
                        await self.prober.release(held)
                    except ServiceError:
                        await self.prober.reopen(held)  # `reconcile` deletes it when Real-Debrid answers again
                    outcome.probes[held.verdict.candidate.info_hash] = ProbeResult(
                        ProbeOutcome.NOT_CACHED, held.verdict, rd_id=held.rd_id, detail="held, then dropped"
                    )
                return self._kept(outcome, result, MOVIE_DONE)
            if result.outcome is ProbeOutcome.DOWNLOADING:
                held = result
            if result.outcome is ProbeOutcome.NO_SLOT:
                break
        if held is not None:
            return self._kept(outcome, held, MOVIE_DONE)
        return await self._uncached_movie(wanted, accepted, outcome)

    async def _uncached_movie(self, wanted: Wanted, accepted: list[Verdict], outcome: ItemOutcome) -> ItemOutcome:
        probed, acceptable = len(outcome.probes), len(distinct(accepted))
        if not self.settings.allow_uncached:
            outcome.reason = f"{acceptable} acceptable, none cached ({probed} probed); uncached downloads are off"
            return outcome
        if any(r.outcome is ProbeOutcome.NO_SLOT for r in outcome.probes.values()):
            outcome.reason = "no free Real-Debrid download slot; will try again"
            return outcome
        pick = self._seeded(accepted, outcome)
        if pick is None:
            outcome.reason = (
                f"{acceptable} acceptable, none cached ({probed} probed), "
                f"none with at least {self.settings.uncached_min_seeders} seeders"
            )
            return outcome
        self._downloads_tried.add(pick.candidate.info_hash)
        result = await self.prober.probe(pick, wanted, request_id=self.request_id, keep_uncached=True)
        outcome.probes[pick.candidate.info_hash] = result
        if result.kept:
            return self._kept(outcome, result, MOVIE_DONE)
        outcome.reason = f"the best-seeded release could not be added: {result.outcome.value}"
        return outcome

    async def season(
        self, wanted: Wanted, first: list[Candidate], search_episode: EpisodeSearch, judge: Judge
    ) -> ItemOutcome:
        """Packs first (from the first episode's search), then single episodes, then uncached by seeders."""
        assert wanted.season is not None
        outcome = ItemOutcome("no_release", "")
        remaining = set(wanted.episodes)
        first_episode = min(remaining)
        verdicts = judge(first, wanted)
        self._remember(outcome, verdicts)
        packs = [v for v in verdicts if v.accepted and v.is_pack]
        await self._first_kept(packs, wanted, outcome, remaining, min_share=self.settings.pack_min_share)
        misses = [self.settings.max_probes]  # the single-episode phase's budget of unkept probes, for all episodes
        all_verdicts = list(verdicts)
        searches = 1
        for episode in sorted(remaining):
            if episode not in remaining:
                continue  # a pack found for an earlier episode covered it
            target = Wanted(wanted.title, wanted.season, frozenset({episode}), wanted.is4k)
            if episode != first_episode:
                searches += 1
            found = first if episode == first_episode else await search_episode(episode)
            ep_verdicts = judge(found, target)
            self._remember(outcome, ep_verdicts)
            all_verdicts.extend(ep_verdicts)
            fresh = [v for v in ep_verdicts if v.accepted and v.candidate.info_hash not in outcome.probes]
            await self._first_kept(fresh, wanted, outcome, remaining, misses=misses)
        if remaining and self.settings.allow_uncached:
            await self._uncached_season(wanted, all_verdicts, outcome, remaining)
        return self._season_result(wanted, outcome, remaining, all_verdicts, searches)

    async def _first_kept(
        self,
        verdicts: list[Verdict],
        wanted: Wanted,
        outcome: ItemOutcome,
        remaining: set[int],
        *,
        min_share: float = 0.0,
        misses: list[int] | None = None,
    ) -> None:
        """Probe in order until one release is kept for the season: at most `max_probes` probes, or as many as the
        phase's shared budget of unkept probes (`misses`) has left."""
        budget = misses if misses is not None else [self.settings.max_probes]
        for verdict in probe_order(verdicts, self.ladder):
            if budget[0] <= 0:
                return
            # Ask for every remaining episode the release holds, not only the one searched for.
            target = Wanted(wanted.title, wanted.season, frozenset(remaining), wanted.is4k)
            result = await self.prober.probe(
                verdict, target, request_id=self.request_id, min_share=min_share, also=self.also
            )
            outcome.probes[verdict.candidate.info_hash] = result
            if result.kept:
                self._take(outcome, result, remaining)
                return
            budget[0] -= 1
            if result.outcome is ProbeOutcome.NO_SLOT:
                return

    async def _uncached_season(
        self, wanted: Wanted, verdicts: list[Verdict], outcome: ItemOutcome, remaining: set[int]
    ) -> None:
        for _ in range(self.settings.max_probes):
            if not remaining or any(r.outcome is ProbeOutcome.NO_SLOT for r in outcome.probes.values()):
                return
            covering = [v for v in verdicts if v.episodes & remaining or v.is_pack]
            pick = self._seeded(covering, outcome)
            if pick is None:
                return
            target = Wanted(wanted.title, wanted.season, frozenset(remaining), wanted.is4k)
            self._downloads_tried.add(pick.candidate.info_hash)
            result = await self.prober.probe(
                pick, target, request_id=self.request_id, keep_uncached=True, also=self.also
            )
            outcome.probes[pick.candidate.info_hash] = result
            if result.kept:
                self._take(outcome, result, remaining)

    def _season_result(
        self, wanted: Wanted, outcome: ItemOutcome, remaining: set[int], verdicts: list[Verdict], searches: int
    ) -> ItemOutcome:
        total = len(wanted.episodes)
        got = len(outcome.done) + len(outcome.downloading)
        if not remaining:
            outcome.state = "downloading" if outcome.downloading else "fulfilled"
            outcome.reason = f"all {total} wanted episodes " + ("cached" if not outcome.downloading else "found")
        elif got:
            outcome.state = "downloading" if outcome.downloading else "partial"
            missing = ",".join(str(e) for e in sorted(remaining))
            outcome.reason = f"{got} of {total} wanted episodes found; nothing acceptable for E[{missing}]"
        else:
            accepted = distinct([v for v in verdicts if v.accepted])
            if not verdicts:
                outcome.reason = "Torrentio has no releases"
            elif not accepted:
                outcome.reason = rejection_summary(verdicts, searches=searches)
            elif any(r.outcome is ProbeOutcome.NO_SLOT for r in outcome.probes.values()):
                outcome.reason = "no free Real-Debrid download slot; will try again"
            else:
                tail = "" if self.settings.allow_uncached else "; uncached downloads are off"
                outcome.reason = f"{len(accepted)} acceptable, none cached ({len(outcome.probes)} probed){tail}"
        return outcome

    def _remember(self, outcome: ItemOutcome, verdicts: list[Verdict]) -> None:
        for v in verdicts:
            outcome.verdicts.setdefault(v.candidate.info_hash, v)

    def _take(self, outcome: ItemOutcome, result: ProbeResult, remaining: set[int]) -> None:
        covered = result.covered & remaining
        remaining -= covered
        if result.outcome is ProbeOutcome.CACHED:
            outcome.done |= covered
        else:
            outcome.downloading |= covered
        outcome.chosen.append(result.verdict.candidate.name)

    def _kept(self, outcome: ItemOutcome, result: ProbeResult, episodes: frozenset[int]) -> ItemOutcome:
        name = result.verdict.candidate.name
        outcome.chosen.append(name)
        if result.outcome is ProbeOutcome.CACHED:
            outcome.state, outcome.done = "fulfilled", episodes
            outcome.reason = f"cached: {name}"
        else:
            outcome.state, outcome.downloading = "downloading", episodes
            seeders = result.verdict.candidate.seeders
            outcome.reason = f"downloading (not cached, {seeders} seeders): {name}"
        return outcome
