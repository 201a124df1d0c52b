"""The Torznab indexer emulator: `GET /api` as Jackett answers it, listing a scenario's releases.

Behaviour (shared/api/torznab.md): `apikey` (or `passkey`) is checked first, and a wrong or missing one is error
100 with HTTP 200, as Jackett does; `t=caps` lists search `q`, tv-search `q,imdbid,season,ep`, movie-search
`q,imdbid` (changeable on the state), categories 2000/5000 and limits 100/100; `t=search|tvsearch|movie` answer RSS
2.0 with `torznab:attr`s. A release is listed as the scenario says (`ReleaseSpec.torznab`): "infohash" gives the
`infohash` and `magneturl` attributes and a Jackett proxy link (which embeds the key, as Jackett's does); "magnet"
only a magnet in `<link>` and `enclosure`; "none" not at all. Releases `published` later than today are not listed.
Parameter errors are 201 (bad `imdbid`), 203 (an id the function does not take) and 202 (unknown `t`), with
HTTP 400; `offset` > 0 answers nothing (Jackett's `all` aggregate). The state (`app.state.emulator`) lets tests
add or remove releases, change caps, queue an error and count searches; faults come from the sandbox middleware.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, time
from typing import Any

from fastapi import FastAPI, Request, Response

from seerbridge.sandbox.clock import VirtualClock
from seerbridge.sandbox.middleware import install_sandbox
from seerbridge.sandbox.scenario import MediaSpec, ReleaseSpec, Scenario
from seerbridge.sandbox.torrentio_format import DEFAULT_TRACKERS
from seerbridge.sandbox.torznab_xml import FeedItem, caps_xml, error_xml, feed_xml

XML_TYPE = "application/xml; charset=utf-8"
RSS_TYPE = "application/rss+xml; charset=utf-8"
LIMIT_DEFAULT = LIMIT_MAX = 100
FUNCTIONS = ("search", "tvsearch", "movie")
ID_PARAMS = ("imdbid", "tmdbid", "tvdbid", "tvmazeid", "rid", "traktid", "doubanid")
# Jackett's answer to its own upstream rate limit: code 900 with HTTP 429 (the middleware's "too_many" fault).
TOO_MANY_BODY = error_xml(900, "Request limit reached, please try again later")
_IMDB = re.compile(r"^(?:tt)?(\d+)$", re.IGNORECASE)
_EPISODE_TOKEN = re.compile(r"^s(\d{1,4})e(\d{1,4})$")
_WORD = re.compile(r"[^\W_]+")


@dataclass(frozen=True)
class TorznabSearch:
    """One search the emulator answered: the function, its parameters (without the key) and how many items."""

    at: float  # virtual epoch seconds
    t: str
    params: dict[str, str]
    items: int


@dataclass(frozen=True)
class QueuedError:
    code: int
    description: str
    status: int = 200
    retry_after: int | None = None


@dataclass
class TorznabEmulator:
    """The emulator's state and the knobs tests use."""

    scenario: Scenario
    clock: VirtualClock
    releases: list[ReleaseSpec] = field(default_factory=list)
    api_key: str = ""
    search_params: str = "q"  # `supportedParams` per function; "" turns a function off
    tv_params: str = "q,imdbid,season,ep"
    movie_params: str = "q,imdbid"
    searches: list[TorznabSearch] = field(default_factory=list)
    queued_errors: list[QueuedError] = field(default_factory=list)

    # -- knobs ----------------------------------------------------------------------------------------------
    def add_release(self, release: ReleaseSpec | dict[str, Any]) -> ReleaseSpec:
        """Make a new release appear (e.g. a torrent uploaded later)."""
        spec = release if isinstance(release, ReleaseSpec) else ReleaseSpec.model_validate(release)
        if spec.torznab != "none":
            self.releases.append(spec)
        return spec

    def remove_release(self, info_hash: str) -> None:
        info_hash = info_hash.lower()
        self.releases = [r for r in self.releases if r.info_hash != info_hash]

    def queue_error(self, code: int, description: str, *, status: int = 200, retry_after: int | None = None) -> None:
        """Answer the next `/api` call (after the key check) with this `<error>`."""
        self.queued_errors.append(QueuedError(code, description, status, retry_after))

    def search_count(self, t: str | None = None) -> int:
        """Searches answered (any function, or only `t`); caps calls and refused calls are not counted."""
        return sum(1 for s in self.searches if t is None or s.t == t)

    def supported(self, t: str) -> frozenset[str]:
        listed = {"search": self.search_params, "tvsearch": self.tv_params, "movie": self.movie_params}[t]
        return frozenset(p.strip() for p in listed.split(",") if p.strip())

    # -- searching ------------------------------------------------------------------------------------------
    def find(self, t: str, query: SearchQuery) -> list[ReleaseSpec]:
        """The releases a search lists, in scenario order."""
        today = self.clock.today()
        out = []
        for release in self.releases:
            if release.published is not None and release.published > today:
                continue
            media = self.scenario.media_by_imdb(release.imdb_id)
            is_tv = bool(release.covers) or (media is not None and media.type == "tv")
            if (t == "movie" and is_tv) or (t == "tvsearch" and not is_tv):
                continue
            if query.imdb_id is not None and _imdb_key(release.imdb_id) != query.imdb_id:
                continue
            if query.words is not None and not _text_match(release, media, query.words):
                continue
            if query.season is not None and not _covers(release, query.season, query.episode):
                continue
            sub = _category(release, is_tv)
            if query.categories and not ({sub, sub // 1000 * 1000} & set(query.categories)):
                continue  # a parent category (2000) takes its subcategories (2040), as Jackett expands it
            out.append(release)
        return out

    def feed_item(self, release: ReleaseSpec) -> FeedItem:
        media = self.scenario.media_by_imdb(release.imdb_id)
        is_tv = bool(release.covers) or (media is not None and media.type == "tv")
        published = (
            datetime.combine(release.published, time(12, 0), tzinfo=UTC) if release.published else self.clock.now()
        )
        return FeedItem(
            title=release.name,
            info_hash=release.info_hash,
            listing=release.torznab,
            size=release.size,
            seeders=release.seeders,
            leechers=int(release.info_hash[:2], 16) % 7,
            category=_category(release, is_tv),
            imdb_id=release.imdb_id,
            published=published,
            indexer=release.provider or "sandbox",
            trackers=DEFAULT_TRACKERS if release.trackers is None else tuple(release.trackers),
        )


@dataclass(frozen=True)
class SearchQuery:
    """A search's filters, read from the query string."""

    imdb_id: str | None = None  # normalised: tt + at least 7 digits
    words: tuple[str, ...] | None = None  # lower-case words of `q`, None when no `q`
    season: int | None = None
    episode: int | None = None
    categories: tuple[int, ...] = ()


def _imdb_key(value: str) -> str | None:
    match = _IMDB.match(value.strip())
    if match is None or int(match.group(1)) == 0:
        return None
    return "tt" + match.group(1).zfill(7)


def _words(text: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(text)]


def _category(release: ReleaseSpec, is_tv: bool) -> int:
    uhd = "2160p" in release.name.lower()
    return (5000 if is_tv else 2000) + (45 if uhd else 40)


def _covers(release: ReleaseSpec, season: int, episode: int | None) -> bool:
    episodes = release.covers.get(season)
    return episodes is not None and (episode is None or episode in episodes)


def _text_match(release: ReleaseSpec, media: MediaSpec | None, words: tuple[str, ...]) -> bool:
    """Every word of `q` is in the release name, or the media's title or year; an `SxxEyy` word must be in the
    name as text (a text search never finds a season pack by an episode number)."""
    name_words = set(_words(release.name))
    known = set(name_words)
    if media is not None:
        for title in (media.title, media.original_title or ""):
            known.update(_words(title))
        if media.effective_year:
            known.add(str(media.effective_year))
    for word in words:
        token = _EPISODE_TOKEN.match(word)
        if token is not None:
            season, episode = int(token.group(1)), int(token.group(2))
            pattern = re.compile(rf"(?i)s0*{season}e0*{episode}(?!\d)")
            if not pattern.search(release.name):
                return False
        elif word not in known:
            return False
    return True


def _xml(body: bytes, status: int = 200, media_type: str = XML_TYPE, headers: dict[str, str] | None = None) -> Response:
    return Response(content=body, status_code=status, media_type=media_type, headers=headers)


def _error(code: int, description: str, status: int = 200, retry_after: int | None = None) -> Response:
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
    return _xml(error_xml(code, description), status, headers=headers)


class _Refused(Exception):
    def __init__(self, code: int, description: str, status: int = 400) -> None:
        self.code, self.description, self.status = code, description, status
        super().__init__(description)


def _read_query(emulator: TorznabEmulator, t: str, params: dict[str, str]) -> SearchQuery:
    supported = emulator.supported(t)
    for name in ID_PARAMS:
        if params.get(name) and name not in supported:
            raise _Refused(203, f"Function Not Available: {name} is not supported for this search")
    imdb_id = None
    if params.get("imdbid"):
        imdb_id = _imdb_key(params["imdbid"])
        if imdb_id is None:
            raise _Refused(201, "Incorrect parameter: invalid imdbid format")
    season = episode = None
    if t == "tvsearch" and "season" in supported and params.get("season"):
        if not params["season"].isdigit():
            raise _Refused(201, "Incorrect parameter: invalid season")
        season = int(params["season"])
        raw_ep = params.get("ep", "")
        episode = int(raw_ep) if raw_ep.isdigit() and "ep" in supported else None
    q = params.get("q", "").strip()
    categories = tuple(int(c) for c in params.get("cat", "").split(",") if c.strip().isdigit())
    return SearchQuery(
        imdb_id=imdb_id, words=tuple(_words(q)) or None, season=season, episode=episode, categories=categories
    )


def create_app(scenario: Scenario, clock: VirtualClock) -> FastAPI:
    """Build the Torznab indexer emulator for a scenario; its state is at `app.state.emulator`."""
    app = FastAPI(title="Torznab indexer (sandbox)", openapi_url=None, docs_url=None, redoc_url=None)
    install_sandbox(app, too_many_body=TOO_MANY_BODY, too_many_type=XML_TYPE)
    emulator = TorznabEmulator(
        scenario=scenario,
        clock=clock,
        releases=[r for r in scenario.releases if r.torznab != "none"],
        api_key=scenario.keys["torznab"],
    )
    app.state.emulator = emulator

    async def api(request: Request) -> Response:
        # ASP.NET binds parameter names case-insensitively (torznab.md §1).
        params = {key.lower(): value for key, value in request.query_params.items()}
        if (params.get("apikey") or params.get("passkey")) != emulator.api_key:
            return _error(100, "Invalid API Key")
        if emulator.queued_errors:
            queued = emulator.queued_errors.pop(0)
            return _error(queued.code, queued.description, queued.status, queued.retry_after)
        t = params.get("t", "").strip().lower()
        if not t:
            return _error(200, "Missing parameter (t)", 400)
        if t == "caps":
            return _xml(
                caps_xml(
                    search=emulator.search_params,
                    tv_search=emulator.tv_params,
                    movie_search=emulator.movie_params,
                    limit_default=LIMIT_DEFAULT,
                    limit_max=LIMIT_MAX,
                )
            )
        if t not in FUNCTIONS:
            return _error(202, f"No such function ({t})", 400)
        if not emulator.supported(t):
            return _error(203, f"Function Not Available: {t} is off", 400)
        try:
            query = _read_query(emulator, t, params)
        except _Refused as refused:
            return _error(refused.code, refused.description, refused.status)
        offset = int(params["offset"]) if params.get("offset", "").isdigit() else 0
        limit = int(params["limit"]) if params.get("limit", "").isdigit() else LIMIT_DEFAULT
        found = [] if offset > 0 else emulator.find(t, query)[: max(0, min(limit, LIMIT_MAX))]
        kept = {k: v for k, v in params.items() if k not in ("apikey", "passkey")}
        emulator.searches.append(TorznabSearch(clock.now().timestamp(), t, kept, len(found)))
        host = str(request.base_url).rstrip("/")
        items = [emulator.feed_item(release) for release in found]
        return _xml(feed_xml(items, host=host, api_key=emulator.api_key), media_type=RSS_TYPE)

    app.add_api_route("/api", api, methods=["GET"])
    return app


__all__ = ["SearchQuery", "TorznabEmulator", "TorznabSearch", "create_app"]
