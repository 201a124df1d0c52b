"""What seerbridge spent (calls, probes) and gained (cache hits, upgrades, space reclaimed), per request and in total.

Everything is read from the store: per-request call counts and event counters (`request_calls`, `request_counters`),
the calls no request owns (`shared_calls`), torrent rows (probes), the upgrade and removal history, and the per-day
`call_counts`.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from seerbridge.pipeline.search import SEARCH_CACHE_HIT, SEARCH_CACHE_MISS
from seerbridge.store import history, repo


class UnknownRequest(LookupError):
    """Stats were asked for a request the store does not know."""

    def __init__(self, request_id: int) -> None:
        super().__init__(f"no request {request_id} in the store (`seerbridge status` lists the requests it knows)")
        self.request_id = request_id


CORE_SERVICES = frozenset({"seerr", "jellyfin", "torrentio", "realdebrid"})


def _source_calls(calls: dict[str, dict[str, int]]) -> int:
    """Calls to every configured source besides Torrentio (each is counted under its own name)."""
    return sum(sum(endpoints.values()) for service, endpoints in calls.items() if service not in CORE_SERVICES)


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


@dataclass(frozen=True)
class Figures:
    """One set of counts; added together for totals. Rates are None when there is nothing to divide."""

    torrentio_calls: int = 0
    source_calls: int = 0  # calls to the other sources (`sources.<name>`: Torznab indexers, Zilean), together
    realdebrid_calls: int = 0
    probes: int = 0  # torrents seerbridge added (refused adds included), not ones adopted from the account
    cached_probes: int = 0  # of those, found already downloaded on Real-Debrid
    search_cache_hits: int = 0  # Torrentio queries answered from the store's cache
    search_cache_misses: int = 0  # Torrentio queries the cache could not answer (so Torrentio was asked)
    upgrades: int = 0
    repairs: int = 0  # kept torrents that vanished from Real-Debrid or turned bad, acquired again
    removals: int = 0
    reclaimed_bytes: int = 0  # sum of the removed torrents' known sizes
    removals_of_unknown_size: int = 0  # removed torrents whose size was never learned (not in `reclaimed_bytes`)

    @property
    def cached_rate(self) -> float | None:
        return _rate(self.cached_probes, self.probes)

    @property
    def search_cache_hit_rate(self) -> float | None:
        return _rate(self.search_cache_hits, self.search_cache_hits + self.search_cache_misses)

    def __add__(self, other: Figures) -> Figures:
        return Figures(**{f.name: getattr(self, f.name) + getattr(other, f.name) for f in dataclasses.fields(Figures)})

    def as_json(self) -> dict[str, Any]:
        return {
            **dataclasses.asdict(self),
            "cached_rate": self.cached_rate,
            "search_cache_hit_rate": self.search_cache_hit_rate,
        }


@dataclass(frozen=True)
class RequestStats:
    request_id: int
    title: str
    state: str
    figures: Figures

    def as_json(self) -> dict[str, Any]:
        return {"id": self.request_id, "title": self.title, "state": self.state, **self.figures.as_json()}


@dataclass(frozen=True)
class DailyCalls:
    """The per-day `call_counts` table summed over its days: service -> endpoint -> calls.

    Written by the daily budgets (today: Torrentio's stream calls), so it holds calls that no request made too
    (`doctor`'s key check, `explain`, upgrade re-searches), and counts each call once where a request's figures count
    every HTTP attempt (retries included).
    """

    first_day: date | None
    last_day: date | None
    calls: dict[str, dict[str, int]]

    def total(self, service: str) -> int:
        return sum(self.calls.get(service, {}).values())

    def as_json(self) -> dict[str, Any]:
        return {
            "first_day": self.first_day.isoformat() if self.first_day else None,
            "last_day": self.last_day.isoformat() if self.last_day else None,
            "calls": self.calls,
        }


@dataclass(frozen=True)
class Stats:
    """Per request, what was not tied to any request, and the sum of both.

    For one request (`gather_stats(..., request_id=N)`) `unattributed` is zero and `daily_calls` None: neither can be
    split by request. Calls that serve a whole pass (the request list, account and library listings), following
    downloads and the shared parts of upgrade rounds belong to no request: they are in `unattributed`.
    """

    requests: list[RequestStats]
    unattributed: Figures  # shared calls; probes, upgrades, removals with no request (or one the store forgot)
    daily_calls: DailyCalls | None

    @property
    def total(self) -> Figures:
        return sum((r.figures for r in self.requests), self.unattributed)

    def as_json(self) -> dict[str, Any]:
        return {
            "requests": [r.as_json() for r in self.requests],
            "unattributed": self.unattributed.as_json(),
            "total": self.total.as_json(),
            "daily_calls": self.daily_calls.as_json() if self.daily_calls else None,
        }


async def _daily_calls(session: AsyncSession) -> DailyCalls:
    calls: dict[str, dict[str, int]] = {}
    days: list[date] = []
    for day, service, endpoint, count in await repo.daily_call_counts(session):
        per = calls.setdefault(service, {})
        per[endpoint] = per.get(endpoint, 0) + count
        days.append(day)
    return DailyCalls(min(days, default=None), max(days, default=None), calls)


async def gather_stats(sessions: async_sessionmaker[AsyncSession], request_id: int | None = None) -> Stats:
    """Read the figures from the store; raises UnknownRequest when `request_id` is given and not known."""
    async with sessions() as session:
        if request_id is None:
            records = await repo.list_requests(session)
        else:
            record = await repo.get_request(session, request_id)
            if record is None:
                raise UnknownRequest(request_id)
            records = [record]
        torrents = await repo.all_torrents(session)
        upgrades = await history.list_upgrades(session, request_id)
        removals = await history.list_removals(session, request_id)
        repairs = await repo.repairs(session, request_id=request_id)
        daily = await _daily_calls(session) if request_id is None else None
        shared = await repo.shared_calls(session) if request_id is None else {}

    # Rows with no request, or a request the store no longer knows, are counted under None.
    known = {r.id for r in records}
    counts: dict[int | None, dict[str, int]] = defaultdict(lambda: defaultdict(int))

    def bucket(rid: int | None) -> dict[str, int]:
        return counts[rid if rid in known else None]

    for t in torrents:
        if t.adopted or (request_id is not None and t.request_id != request_id):
            continue
        into = bucket(t.request_id)
        into["probes"] += 1
        into["cached_probes"] += int(t.cached)
    for u in upgrades:
        bucket(u.request_id)["upgrades"] += 1
    for fixed in repairs:
        bucket(fixed.request_id)["repairs"] += 1
    for r in removals:
        into = bucket(r.request_id)
        into["removals"] += 1
        if r.size_bytes is None:
            into["removals_of_unknown_size"] += 1
        else:
            into["reclaimed_bytes"] += r.size_bytes

    per_request = [
        RequestStats(
            request_id=rec.id,
            title=rec.title,
            state=str(rec.state),
            figures=Figures(
                torrentio_calls=rec.calls_to("torrentio"),
                source_calls=_source_calls(rec.calls),
                realdebrid_calls=rec.calls_to("realdebrid"),
                search_cache_hits=rec.counters.get(SEARCH_CACHE_HIT, 0),
                search_cache_misses=rec.counters.get(SEARCH_CACHE_MISS, 0),
                **counts.get(rec.id, {}),
            ),
        )
        for rec in sorted(records, key=lambda r: r.id)
    ]
    unattributed = Figures(
        torrentio_calls=sum(shared.get("torrentio", {}).values()),
        source_calls=_source_calls(shared),
        realdebrid_calls=sum(shared.get("realdebrid", {}).values()),
        **counts.get(None, {}),
    )
    return Stats(per_request, unattributed, daily)


__all__ = ["DailyCalls", "Figures", "RequestStats", "Stats", "UnknownRequest", "gather_stats"]
