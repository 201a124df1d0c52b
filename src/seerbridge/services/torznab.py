"""Torznab client: one configured indexer endpoint (Prowlarr, Jackett, Comet, StremThru), searched as its caps allow.

Facts it encodes (shared/api/torznab.md): the endpoint is the configured URL called with `?t=`, the API key goes in
`apikey=`, and both are secrets (proxy links in feeds embed the key too, so no link is ever logged or kept); the
search is chosen by caps (§2.1: an id when listed, else `q` with the title); one page is asked for and that is all
(§4: Jackett answers nothing past offset 0, Comet ignores paging, and no server gives a reliable total); every
answer is read for an `<error>` element whatever its HTTP status (§5: Jackett and Comet send them with 200), and
the code says who is at fault. Parsing lives in `torznab_feed` (no I/O); this module picks the call and maps errors.
"""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlsplit, urlunsplit
from xml.etree.ElementTree import Element

import httpx
import structlog

from seerbridge.config import SourceSettings
from seerbridge.errors import (
    AuthenticationError,
    BadResponse,
    NotFound,
    PermissionDenied,
    RateLimited,
    RequestRejected,
    ServiceError,
    ServiceUnavailable,
)
from seerbridge.redact import redact, register
from seerbridge.services.base import ServiceClient
from seerbridge.services.budget import DailyBudget
from seerbridge.services.calls import CallLedger
from seerbridge.services.health import ServiceCheck
from seerbridge.services.http import RemoteError, ServiceHttp, parse_retry_after, read_error_body
from seerbridge.services.streams import Stream
from seerbridge.services.torznab_feed import (
    FeedError,
    MalformedFeed,
    Search,
    SearchCaps,
    TorznabCaps,
    TorznabErrorCode,
    find_error,
    parse_caps,
    parse_feed,
    read_document,
)

log = structlog.get_logger("seerbridge.torznab")

# The most items asked for in one search: Jackett's default and maximum, and plenty for one title. A server whose
# caps allow less gets its own maximum.
PAGE_CAP = 100
MOVIES = (2000, 2999)  # Comet's rule for movie and TV categories (§2.2); subcategories included
TV = (5000, 5999)
# Answers whose body we read ourselves: a Torznab `<error>` may come with any of these (§5). Other statuses (401,
# 403, 429, 5xx) go through the shared HTTP layer: retries, Retry-After, the circuit breaker.
_READ_BODY_OF = (200, 400, 404, 410)
_LIMIT_CODES = frozenset(
    {
        TorznabErrorCode.TOO_MANY_REQUESTS,
        TorznabErrorCode.REQUEST_LIMIT_REACHED,
        TorznabErrorCode.DOWNLOAD_LIMIT_REACHED,
    }
)
_DOWN_CODES = frozenset(
    {TorznabErrorCode.UNKNOWN_ERROR, TorznabErrorCode.API_DISABLED, TorznabErrorCode.INDEXER_DISABLED}
)
_IMDB_ID = re.compile(r"^tt\d{1,12}$")
_NOT_WORD = re.compile(r"[^\w']+")


class NoSearch(ValueError):
    """The indexer's caps offer no function for this kind of search."""


@dataclass(frozen=True)
class SearchPlan:
    """One Torznab search call: the function `t`, its parameters, and the category range items must fall in."""

    t: str
    params: dict[str, str] = field(default_factory=dict)
    categories: tuple[int, int] | None = None


def _query_words(*parts: str) -> str:
    """Free text as indexers match it: words only (`Spider-Man: Homecoming` → `Spider Man Homecoming`)."""
    return " ".join(_NOT_WORD.sub(" ", " ".join(parts)).split())


def page_size(caps: TorznabCaps) -> int:
    """`limit` for one search: the caps default, within the caps maximum and PAGE_CAP."""
    size = caps.limit_default or PAGE_CAP
    if caps.limit_max:
        size = min(size, caps.limit_max)
    return max(1, min(size, PAGE_CAP))


def _function(caps: TorznabCaps, preferred: Search, t: str) -> tuple[str, SearchCaps]:
    """The specific function when it is on, else the generic `search`; NoSearch when both are off."""
    specific = caps.function(preferred)
    if specific.available:
        return t, specific
    generic = caps.function(Search.SEARCH)
    if generic.available:
        return "search", generic
    raise NoSearch(f"caps list neither {preferred.value} nor search as available")


def _common(caps: TorznabCaps, wanted: tuple[int, int], standard: int) -> dict[str, str]:
    params = {"limit": str(page_size(caps))}
    # Sent only when listed: an indexer that does not know the category could answer nothing at all.
    if caps.has_category_in(*wanted):
        params["cat"] = str(standard)
    return params


def plan_movie(
    caps: TorznabCaps, *, imdb_id: str | None, tmdb_id: int | None, title: str, year: int | None
) -> SearchPlan:
    """The movie search caps allow: `imdbid` when listed, else `tmdbid`, else `q` = title and year."""
    t, function = _function(caps, Search.MOVIE, "movie")
    params = _common(caps, MOVIES, 2000)
    if imdb_id and function.takes("imdbid"):
        params["imdbid"] = imdb_id
    elif tmdb_id is not None and function.takes("tmdbid"):
        params["tmdbid"] = str(tmdb_id)
    else:
        params["q"] = _query_words(title, str(year) if year else "")
    return SearchPlan(t=t, params=params, categories=MOVIES)


def plan_episode(
    caps: TorznabCaps, *, imdb_id: str | None, tvdb_id: int | None, title: str, season: int, episode: int
) -> SearchPlan:
    """The episode search caps allow: `imdbid`, else `tvdbid`, else `q` = title; `season`/`ep` when both are
    listed, else `SxxEyy` in `q`."""
    t, function = _function(caps, Search.TV, "tvsearch")
    params = _common(caps, TV, 5000)
    words: list[str] = []
    if imdb_id and function.takes("imdbid"):
        params["imdbid"] = imdb_id
    elif tvdb_id is not None and function.takes("tvdbid"):
        params["tvdbid"] = str(tvdb_id)
    else:
        words.append(title)
    if function.takes("season") and function.takes("ep"):
        params["season"], params["ep"] = str(season), str(episode)
    else:
        words.append(f"S{season:02d}E{episode:02d}")
    if words:
        params["q"] = _query_words(*words)
    return SearchPlan(t=t, params=params, categories=TV)


def read_torznab_error(response: httpx.Response) -> RemoteError:
    """For the statuses the HTTP layer maps itself (401, 403, 429, 5xx): the `<error>` element, when there is one."""
    try:
        error = find_error(read_document(response.content))
    except MalformedFeed:
        error = None
    if error is None:
        return read_error_body(response)
    code = TorznabErrorCode.of(error.code)
    return RemoteError(
        error=code.name.lower() if code is not None else "torznab_error",
        error_code=error.code,
        message=error.description,
    )


def _split_endpoint(url: str) -> tuple[str, str, dict[str, str]]:
    """URL → (base ending in /, last path segment, query parameters it carries).

    The endpoint is called exactly as configured: as a base with an empty path, httpx would add a trailing slash,
    which FastAPI servers (Comet) answer with a redirect.
    """
    parts = urlsplit(url)
    head, _, last = parts.path.rpartition("/")
    base = urlunsplit((parts.scheme, parts.netloc, head + "/", "", ""))
    return base, last, dict(parse_qsl(parts.query, keep_blank_values=True))


def _describe(function: SearchCaps) -> str:
    return ",".join(sorted(function.params)) if function.available else "off"


class TorznabClient(ServiceClient):
    """Typed calls to one Torznab endpoint; `name` is the configured source name (calls, breaker, budget, streams)."""

    def __init__(
        self,
        name: str,
        settings: SourceSettings,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        ledger: CallLedger | None = None,
    ) -> None:
        url = settings.url.get_secret_value()
        api_key = settings.api_key.get_secret_value()
        register(url, api_key)
        self.name = name
        self.settings = settings
        base, self._path, self._fixed_params = _split_endpoint(url)
        if api_key:
            self._fixed_params["apikey"] = api_key
        # Search calls per UTC day; the running app keeps the count in the store (`budget.keep_in`).
        self.budget = DailyBudget(name, settings.daily_budget)
        self.skipped: Counter[str] = Counter()  # items left out of results, by reason, since the client started
        self._caps: TorznabCaps | None = None
        self._caps_lock = asyncio.Lock()
        super().__init__(
            ServiceHttp(name, base, policy=settings, transport=transport, ledger=ledger, read_error=read_torznab_error)
        )

    async def caps(self) -> TorznabCaps:
        """The endpoint's caps, read once and kept (they change only when the indexer is reconfigured)."""
        if self._caps is None:
            async with self._caps_lock:
                if self._caps is None:
                    self._caps = await self._read_caps()
        return self._caps

    async def movie(self, *, imdb_id: str | None, tmdb_id: int | None, title: str, year: int | None) -> list[Stream]:
        """Releases the indexer lists for a movie (one page, in its order)."""
        _check_imdb(imdb_id)
        caps = await self.caps()
        try:
            plan = plan_movie(caps, imdb_id=imdb_id, tmdb_id=tmdb_id, title=title, year=year)
        except NoSearch as exc:
            raise self._no_search(exc) from None
        return await self._search(plan)

    async def episode(
        self, *, imdb_id: str | None, tvdb_id: int | None, title: str, season: int, episode: int
    ) -> list[Stream]:
        """Releases the indexer lists for one episode, season packs included when it files them under it."""
        _check_imdb(imdb_id)
        for label, number in (("season", season), ("episode", episode)):
            if isinstance(number, bool) or not isinstance(number, int) or number < 0:
                raise ValueError(f"{label} must be an integer >= 0, not {number!r}")
        caps = await self.caps()
        try:
            plan = plan_episode(caps, imdb_id=imdb_id, tvdb_id=tvdb_id, title=title, season=season, episode=episode)
        except NoSearch as exc:
            raise self._no_search(exc) from None
        return await self._search(plan)

    async def check(self) -> ServiceCheck:
        """Caps readable (with our key, where the server wants one) and movie and TV searches on."""
        caps = await self._read_caps()
        self._caps = caps
        problems = []
        movie, tv, generic = caps.function(Search.MOVIE), caps.function(Search.TV), caps.function(Search.SEARCH)
        if not (movie.available or generic.available):
            problems.append("caps offer no movie search (movie-search and search are off)")
        if not (tv.available or generic.available):
            problems.append("caps offer no TV search (tv-search and search are off)")
        limits = f"default {caps.limit_default or '-'}, max {caps.limit_max or '-'}"
        return ServiceCheck(
            service=self.name,
            version=caps.version,
            details={
                "server": caps.server or "unnamed",
                "movie-search": _describe(movie),
                "tv-search": _describe(tv),
                "search": _describe(generic),
                "limits": limits,
                "categories": str(len(caps.categories)),
            },
            problems=problems,
        )

    def _no_search(self, exc: NoSearch) -> RequestRejected:
        """No call is sent: the indexer said in its caps that it cannot search this (as its error 203 would)."""
        return RequestRejected(self.name, "caps", str(exc), error=TorznabErrorCode.FUNCTION_NOT_AVAILABLE.name.lower())

    async def _read_caps(self) -> TorznabCaps:
        root = await self._fetch({"t": "caps"}, endpoint="caps")
        try:
            return parse_caps(root)
        except MalformedFeed as exc:
            raise BadResponse(self.name, "caps", str(exc), status=200) from None

    async def _search(self, plan: SearchPlan) -> list[Stream]:
        endpoint = plan.t
        self._http.refuse_if_down(endpoint)  # a call refused unsent must not spend the day's budget
        await self.budget.spend(endpoint)
        root = await self._fetch({"t": plan.t, **plan.params}, endpoint=endpoint)
        try:
            feed = parse_feed(root, source=self.name, categories=plan.categories)
        except MalformedFeed as exc:
            raise BadResponse(self.name, endpoint, str(exc), status=200) from None
        for title, reason in feed.skips:
            self.skipped[reason] += 1
            log.debug("skipped item", source=self.name, endpoint=endpoint, title=redact(title)[:160], reason=reason)
        return feed.streams

    async def _fetch(self, params: dict[str, str], *, endpoint: str) -> Element:
        """One GET of the endpoint → the root element of its answer; every `<error>` raised as a typed error."""
        response = await self._http.request(
            "GET", self._path, endpoint=endpoint, params={**self._fixed_params, **params}, ok=_READ_BODY_OF
        )
        try:
            root = read_document(response.content)
        except MalformedFeed as exc:
            if response.status_code == 200:
                raise BadResponse(self.name, endpoint, str(exc), status=200) from None
            raise self._status_error(response, endpoint) from None
        error = find_error(root)
        if error is not None:
            raise self._feed_error(error, response, endpoint)
        if response.status_code != 200:
            raise self._status_error(response, endpoint)
        return root

    def _status_error(self, response: httpx.Response, endpoint: str) -> ServiceError:
        """A 4xx we read ourselves that carried no `<error>`: its status says enough (the body is not echoed)."""
        status = response.status_code
        if status == 404:
            return NotFound(self.name, endpoint, "no Torznab endpoint at the configured URL", status=status)
        return RequestRejected(self.name, endpoint, f"refused with HTTP {status}", status=status)

    def _feed_error(self, error: FeedError, response: httpx.Response, endpoint: str) -> ServiceError:
        """A Torznab `<error>` → the typed error that says who is at fault and whether waiting helps.

        These answers got past the HTTP layer as answers, so they are not retried within the call: a search that
        failed this way is asked again on a later pass, and a limit pauses the client meanwhile.
        """
        code = TorznabErrorCode.of(error.code)
        status = response.status_code
        key = code.name.lower() if code is not None else "torznab_error"
        message = redact(error.description) or f"error {error.code}"
        args = (self.name, endpoint, message)
        if code is TorznabErrorCode.INCORRECT_USER_CREDENTIALS:
            return AuthenticationError(*args, status=status, error=key, error_code=error.code)
        if error.code is not None and 101 <= error.code <= 107:  # suspended, no privileges, registration
            return PermissionDenied(*args, status=status, error=key, error_code=error.code)
        if code in _LIMIT_CODES:
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            # A limit said in the body (with HTTP 200 or 400) pauses the client as an HTTP 429 would.
            self._http.rate_limited(endpoint, retry_after)
            return RateLimited(*args, status=status, error=key, error_code=error.code, retry_after=retry_after)
        if code in _DOWN_CODES:
            return ServiceUnavailable(*args, status=status, error=key, error_code=error.code)
        if code is TorznabErrorCode.NO_SUCH_ITEM:
            return NotFound(*args, status=status, error=key, error_code=error.code)
        return RequestRejected(*args, status=status, error=key, error_code=error.code)


def _check_imdb(imdb_id: str | None) -> None:
    if imdb_id is not None and (not isinstance(imdb_id, str) or not _IMDB_ID.match(imdb_id)):
        raise ValueError(f"not an IMDb id: {imdb_id!r} (expected tt followed by digits)")


__all__ = [
    "PAGE_CAP",
    "NoSearch",
    "SearchPlan",
    "TorznabCaps",
    "TorznabClient",
    "page_size",
    "plan_episode",
    "plan_movie",
    "read_torznab_error",
]
