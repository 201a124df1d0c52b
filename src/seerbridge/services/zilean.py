"""Zilean client: DMM hashlist search (`GET /dmm/filtered`) read into `Stream`s, with a health check behind every "[]".

Facts it encodes (see shared/api/zilean.md): Zilean is a name → hash lookup with no seeders and no cache state;
`size` is a decimal *string*; info hashes arrive in whatever case DMM stored; and `/dmm/filtered` swallows every
exception (a database outage included) into HTTP 200 `[]`. So an empty answer is ambiguous: before it is believed,
`/healthchecks/ping` must answer (checked at most once a minute; a non-empty answer proves health on its own), else
the search raises `ServiceUnavailable` and an outage never reads as "nothing exists". Caveat: in Zilean v3.5.0 the
ping does not touch the database (it always answers `Pong!` while the process runs), so it catches a dead or
misrouted service, not a database that fails behind a live process.

`Query` matching is strict (pg_trgm similarity >= 0.85 on the cleaned parsed title), so the query is the bare
title: no "(year)", no S01E02, no apostrophes (release names drop them).
"""

from __future__ import annotations

import re
import time
import unicodedata
from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any

import httpx
import structlog
from pydantic import TypeAdapter

from seerbridge.config import SourceSettings
from seerbridge.errors import ServiceError, ServiceUnavailable
from seerbridge.redact import redact, register
from seerbridge.services.base import ServiceClient
from seerbridge.services.budget import DailyBudget
from seerbridge.services.calls import CallLedger
from seerbridge.services.health import ServiceCheck
from seerbridge.services.http import ServiceHttp
from seerbridge.services.streams import Stream

log = structlog.get_logger("seerbridge.zilean")

SEARCH = "dmm/filtered"
PING = "healthchecks/ping"
HEALTH_MEMORY_S = 60.0
"""How long a ping's verdict stands for later empty answers (so a run of empty searches pings once a minute)."""

# doctor's probe: a public-domain film every DMM hashlist knows (the one Torrentio's check uses).
PROBE_TITLE = "Night of the Living Dead"
PROBE_YEAR = 1968

_HASH = re.compile(r"^[0-9a-fA-F]{40}$")
_YEAR_IN_PARENS = re.compile(r"\(\s*\d{4}\s*\)")
_EPISODE_CODE = re.compile(r"\bS\d{1,3}(?:\s*E\d{1,4})+\b", re.IGNORECASE)
_APOSTROPHES = re.compile(r"['’`´]")
_NOT_WORD = re.compile(r"[^\w]+")
_ANSWER: TypeAdapter[list[Any]] = TypeAdapter(list[Any])


class SkippedTorrent(ValueError):
    """A `TorrentInfo` we cannot use; the message is the reason."""


def clean_query(title: str) -> str:
    """A title as Zilean's `Query` wants it: no "(1999)", no S01E02, apostrophes dropped ("Marvel's" → "Marvels",
    as release names spell it), other punctuation turned into spaces (pg_trgm ignores it anyway), one space between
    words. Accents are dropped ("Shōgun" → "Shogun"): scene names are ASCII and pg_trgm sees "ō" as another letter.
    A bare year stays: it may be the title itself ("1917", "Blade Runner 2049")."""
    text = unicodedata.normalize("NFKD", title)
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = _YEAR_IN_PARENS.sub(" ", text)
    text = _EPISODE_CODE.sub(" ", text)
    text = _APOSTROPHES.sub("", text)
    return _NOT_WORD.sub(" ", text).replace("_", " ").strip()


def _size(value: Any) -> int | None:
    """Zilean's size is bytes as a decimal string; a number is taken too; anything else, or 0, is unknown."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value > 0 else None
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        size = int(value.strip())
        return size if size > 0 else None
    return None


def parse_torrent(raw: Any, *, source: str) -> Stream:
    """One `TorrentInfo` → `Stream`; raises SkippedTorrent with the reason when it cannot be used."""
    if not isinstance(raw, dict):
        raise SkippedTorrent("not an object")
    info_hash = raw.get("info_hash")
    if not isinstance(info_hash, str) or not _HASH.match(info_hash.strip()):
        raise SkippedTorrent("no 40-hex info_hash")
    title = raw.get("raw_title")
    if not isinstance(title, str) or not title.strip():
        raise SkippedTorrent("no raw_title")
    languages = raw.get("languages")
    return Stream(
        release_name=title.strip(),
        info_hash=info_hash.strip().lower(),
        size_bytes=_size(raw.get("size")),
        seeders=None,  # Zilean knows none: hashlists hold names, hashes and sizes
        languages=tuple(v for v in languages if isinstance(v, str) and v) if isinstance(languages, list) else (),
        source=source,
    )


def parse_torrents(body: list[Any], *, source: str) -> tuple[list[Stream], int]:
    """`TorrentInfo[]` → (usable `Stream`s in Zilean's order, one per hash; how many items were skipped)."""
    out: list[Stream] = []
    seen: set[str] = set()
    reasons: Counter[str] = Counter()
    for raw in body:
        try:
            stream = parse_torrent(raw, source=source)
        except SkippedTorrent as exc:
            reasons[str(exc)] += 1
            continue
        if stream.info_hash not in seen:
            seen.add(stream.info_hash)
            out.append(stream)
    skipped = sum(reasons.values())
    if skipped:
        log.warning("skipped torrents", service=source, endpoint=SEARCH, skipped=skipped, reasons=dict(reasons))
    return out, skipped


def _check_number(name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{name} must be an integer >= 0, not {value!r}")


class ZileanClient(ServiceClient):
    """Searches one Zilean instance's DMM hashlists (`sources.<name>` with `kind = "zilean"`).

    `imdb_ids_seen` turns True once an answer carries an `imdb_id`: the deployment runs Zilean's IMDb matching, so
    an `ImdbId` search can find what the strict title match missed. `skipped` counts unusable items so far.
    `monotonic` is the clock the health memory reads (replaceable in tests).
    """

    def __init__(
        self,
        name: str,
        settings: SourceSettings,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        ledger: CallLedger | None = None,
    ) -> None:
        if settings.kind != "zilean":
            raise ValueError(f"source {name!r} is of kind {settings.kind!r}, not 'zilean'")
        url = settings.url.get_secret_value()
        register(url, settings.api_key.get_secret_value())
        self.name = name
        self.settings = settings
        # Search calls per UTC day; the running app keeps the count in the store (`budget.keep_in`).
        self.budget = DailyBudget(name, settings.daily_budget)
        self.imdb_ids_seen = False
        self.skipped = 0
        self.monotonic: Callable[[], float] = time.monotonic
        self._health: tuple[float, str | None] | None = None  # (when, why the ping failed or None)
        super().__init__(ServiceHttp(name, url, policy=settings, transport=transport, ledger=ledger))

    async def movie(self, *, imdb_id: str | None, tmdb_id: int | None, title: str, year: int | None) -> list[Stream]:
        """Releases whose parsed title matches `title` and whose parsed year is within one of `year` (when given;
        Zilean's Year filter drops releases without a year, which movie releases rarely lack)."""
        params: dict[str, Any] = {"Query": self._query(title)}
        if year is not None:
            params["Year"] = year
        return await self._search(params, imdb_id=imdb_id)

    async def episode(
        self, *, imdb_id: str | None, tvdb_id: int | None, title: str, season: int, episode: int
    ) -> list[Stream]:
        """Releases of `title` holding the episode, season packs (no parsed episodes) included: selection judges
        them. Episode 0 (TMDB's number for some specials) is [] without a call, as for Torrentio: Zilean would
        answer every season pack for it. No Year: later seasons' names rarely carry one, and Zilean would drop them.
        """
        _check_number("season", season)
        _check_number("episode", episode)
        if episode == 0:
            return []
        params: dict[str, Any] = {"Query": self._query(title), "Season": season, "Episode": episode}
        return await self._search(params, imdb_id=imdb_id)

    async def check(self) -> ServiceCheck:
        """For doctor: the ping answers `Pong!`, and a filtered search answers a JSON array (one call of the
        daily budget)."""
        response = await self._http.request("GET", PING, endpoint=PING, ok=(200,))
        problems: list[str] = []
        if "pong" not in response.text.lower():
            problems.append("the health check did not answer Pong!: is the URL Zilean's base (http://zilean:8181)?")
        else:
            self._health = (self.monotonic(), None)
        found, _ = await self._filtered({"Query": PROBE_TITLE, "Year": PROBE_YEAR})
        return ServiceCheck(
            service=self.name,
            details={
                "probe": f"{len(found)} releases of {PROBE_TITLE} ({PROBE_YEAR})",
                "imdb matching": "seen" if self.imdb_ids_seen else "not seen",
            },
            problems=problems,
        )

    # -- internals ----------------------------------------------------------------------------------------------

    def _query(self, title: str) -> str:
        query = clean_query(title) if isinstance(title, str) else ""
        if not query:
            raise ValueError(f"no title to search for in {title!r}")
        return query

    async def _search(self, params: Mapping[str, Any], *, imdb_id: str | None) -> list[Stream]:
        """One `Query` search. Only when it is empty: the health check, then (where the deployment is known to
        match IMDb ids) one `ImdbId` search.

        Why `Query` and not `ImdbId` first: `ImdbId` matches only rows Zilean's optional IMDb matching tagged, so
        on many deployments it finds nothing; and sent *with* `Query` the two are ANDed, losing untagged rows. A
        title search works everywhere and costs one call when it finds something (the common case). The `ImdbId`
        retry catches titles the strict 0.85 trigram match misses (punctuation, alternative names); it costs a
        second call only on an empty answer, and only where `imdb_id`s have been seen, so never where it cannot
        help. It drops `Year` (exact id; Zilean's Year would drop rows without a parsed year).
        """
        streams, raw_count = await self._filtered(params)
        if raw_count:
            return streams
        await self._confirm_healthy()
        if imdb_id and self.imdb_ids_seen:
            fallback = {k: v for k, v in params.items() if k not in ("Query", "Year")}
            streams, _ = await self._filtered({**fallback, "ImdbId": imdb_id})
        return streams

    async def _filtered(self, params: Mapping[str, Any]) -> tuple[list[Stream], int]:
        """One charged `/dmm/filtered` call → (streams, items in the answer before skipping)."""
        self._http.refuse_if_down(SEARCH)  # a call refused unsent must not spend the day's budget
        await self.budget.spend(SEARCH)
        response = await self._http.request("GET", SEARCH, endpoint=SEARCH, params=params)
        body = self._http.parse(response, _ANSWER, endpoint=SEARCH)
        if body:
            self._health = (self.monotonic(), None)  # rows came back: the database answers
        if any(isinstance(raw, dict) and isinstance(raw.get("imdb_id"), str) and raw["imdb_id"] for raw in body):
            self.imdb_ids_seen = True
        streams, skipped = parse_torrents(body, source=self.name)
        self.skipped += skipped
        return streams, len(body)

    async def _confirm_healthy(self) -> None:
        """Raise ServiceUnavailable unless the ping answers (a verdict stands for HEALTH_MEMORY_S)."""
        if self._health is None or self.monotonic() - self._health[0] >= HEALTH_MEMORY_S:
            self._health = (self.monotonic(), await self._ping_failure())
        failure = self._health[1]
        if failure is not None:
            raise ServiceUnavailable(
                self.name,
                SEARCH,
                f"an empty answer while the health check fails ({failure}): Zilean answers [] for its own errors",
                error="unhealthy",
            )

    async def _ping_failure(self) -> str | None:
        """None when `/healthchecks/ping` answers Pong!, else why not (redacted)."""
        try:
            response = await self._http.request("GET", PING, endpoint=PING, ok=(200,))
        except ServiceError as exc:
            log.warning("health check failed", service=self.name, endpoint=PING, error=redact(str(exc)))
            return redact(str(exc))
        if "pong" not in response.text.lower():
            return "the health check did not answer Pong!"
        return None


__all__ = ["SkippedTorrent", "ZileanClient", "clean_query", "parse_torrent", "parse_torrents"]
