"""The Zilean emulator: DMM hashlist search over a scenario's releases that have `zilean: true`.

Routes (see /shared/api/zilean.md): `GET /dmm/filtered` (parameters bound case-insensitively, as ASP.NET does),
`POST /dmm/search` (`{"queryText": ...}`), `GET /healthchecks/ping` (text `[<UTC time>]: Pong!`); anything else is
404. Rows are `TorrentInfo` objects (snake_case, `size` a decimal string) parsed from the release name with RTN
(`selection.parse.parse_fields`), as Zilean parses DMM names. Title matching is pg_trgm's own similarity (words of
letters and digits, lower-cased, each padded "  w " and cut into trigrams; shared / all), on titles cleaned of the
stop words Zilean's `Parsing.CleanQuery` removes; `/dmm/filtered` keeps scores >= 0.85, `/dmm/search` >= 0.3
(PostgreSQL's default threshold). The state object (`app.state.emulator`) lets tests add or remove releases, take
the database down (`/dmm/*` then answer 200 `[]`, as Zilean swallows its errors, and the ping answers 503), turn
IMDb matching off, and read the calls.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, time
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse

from seerbridge.domain.release import ParsedRelease
from seerbridge.sandbox.clock import VirtualClock
from seerbridge.sandbox.middleware import install_sandbox
from seerbridge.sandbox.scenario import ReleaseSpec, Scenario
from seerbridge.selection.parse import ParseFailure, parse_fields

FILTERED = "dmm/filtered"
SEARCH = "dmm/search"
PING = "healthchecks/ping"
MIN_SCORE_MATCH = 0.85  # Dmm.MinimumScoreMatch
UNFILTERED_THRESHOLD = 0.3  # pg_trgm.similarity_threshold's default, which `%` in /dmm/search uses
MAX_FILTERED_RESULTS = 200  # Dmm.MaxFilteredResults
MAX_SEARCH_RESULTS = 100
_STOP_WORDS = re.compile(r"(?i)\b(?:a|the|and|of|in|on|with|to|for|by|is|it)\b")
_WORD = re.compile(r"[^\W_]+")
_INT_PARAMS = ("season", "episode", "year")
_STR_PARAMS = ("query", "language", "resolution", "imdbid", "category")
_FALSE_FLAGS = (
    "dubbed", "subbed", "extended", "converted", "hardcoded", "ppv", "_3d", "proper", "repack", "retail", "upscaled",
    "remastered", "unrated", "documentary", "torrent", "adult",
)  # fmt: skip
_NULL_FIELDS = (
    "bit_depth", "bitrate", "container", "extension", "edition", "region", "country", "network", "site", "date",
    "episode_code",
)  # fmt: skip


def clean_title(text: str) -> str:
    """Zilean's `Parsing.CleanQuery`: stop words removed, runs of spaces made one."""
    return re.sub(r"\s{2,}", " ", _STOP_WORDS.sub("", text)).strip()


def _trigrams(text: str) -> frozenset[str]:
    grams: set[str] = set()
    for word in _WORD.findall(text.lower()):
        padded = f"  {word} "
        grams.update(padded[i : i + 3] for i in range(len(padded) - 2))
    return frozenset(grams)


def similarity(a: str, b: str) -> float:
    """pg_trgm's `similarity(a, b)`: shared trigrams over all trigrams of both (0 when either has none)."""
    ta, tb = _trigrams(a), _trigrams(b)
    if not ta or not tb:
        return 0.0
    return len(ta & tb) / len(ta | tb)


@functools.lru_cache(maxsize=4096)
def _parse(name: str) -> ParsedRelease | None:
    try:
        return parse_fields(name, max_chars=300)
    except ParseFailure:
        return None


class BadParameter(ValueError):
    """A query parameter ASP.NET could not bind (an int that is not one): 400."""


@dataclass(frozen=True)
class FilteredQuery:
    """`SearchFilteredRequest`: every field optional; empty strings count as absent."""

    query: str | None = None
    season: int | None = None
    episode: int | None = None
    year: int | None = None
    language: str | None = None
    resolution: str | None = None
    imdb_id: str | None = None
    category: str | None = None

    @classmethod
    def from_params(cls, params: dict[str, str]) -> FilteredQuery:
        """Bind like ASP.NET: names case-insensitive, the first value of a repeated name."""
        lowered: dict[str, str] = {}
        for key, value in params.items():
            lowered.setdefault(key.lower(), value)
        ints: dict[str, int | None] = {}
        for name in _INT_PARAMS:
            raw = lowered.get(name, "").strip()
            try:
                ints[name] = int(raw) if raw else None
            except ValueError:
                raise BadParameter(f"{name}={raw!r} is not an integer") from None
        strs = {name: (lowered.get(name) or None) for name in _STR_PARAMS}
        imdb = strs["imdbid"]
        return cls(
            query=strs["query"],
            language=strs["language"],
            resolution=strs["resolution"],
            imdb_id=(imdb if imdb.startswith("tt") else f"tt{imdb}") if imdb else None,
            category=strs["category"],
            **ints,
        )


@dataclass(frozen=True)
class ZileanCall:
    """One call the emulator answered."""

    at: datetime  # virtual time
    endpoint: str  # FILTERED, SEARCH or PING
    params: dict[str, str]
    status: int
    results: int


@dataclass
class ZileanEmulator:
    """The emulator's state and the Python-side knobs tests use.

    `database_down`: Zilean's PostgreSQL fails; searches answer 200 `[]` and the ping 503. Zilean v3.5.0's real
    ping never touches the database, so with `ping_ignores_database` the ping answers Pong! all the same, as it
    would there. `imdb_matching` off leaves every row's `imdb_id` null (so an `ImdbId` search finds nothing).
    """

    scenario: Scenario
    clock: VirtualClock
    releases: list[ReleaseSpec] = field(default_factory=list)
    database_down: bool = False
    ping_ignores_database: bool = False
    imdb_matching: bool = True
    min_score: float = MIN_SCORE_MATCH
    max_filtered_results: int = MAX_FILTERED_RESULTS
    calls: list[ZileanCall] = field(default_factory=list)
    ingested: dict[str, datetime] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for release in self.releases:
            self.ingested.setdefault(release.info_hash, self._ingest_time(release))

    # -- knobs ----------------------------------------------------------------------------------------------
    def add_release(self, release: ReleaseSpec | dict[str, Any]) -> ReleaseSpec:
        """Make a release appear in the hashlists (ingested now, or on its `published` day if later)."""
        spec = release if isinstance(release, ReleaseSpec) else ReleaseSpec.model_validate(release)
        self.releases.append(spec)
        self.ingested[spec.info_hash] = self._ingest_time(spec)
        return spec

    def remove_release(self, info_hash: str) -> None:
        info_hash = info_hash.lower()
        self.releases = [r for r in self.releases if r.info_hash != info_hash]

    def set_database_down(self, down: bool = True) -> None:
        self.database_down = down

    def calls_to(self, endpoint: str) -> list[ZileanCall]:
        return [c for c in self.calls if c.endpoint == endpoint]

    def count(self, endpoint: str | None = None) -> int:
        return len(self.calls) if endpoint is None else len(self.calls_to(endpoint))

    # -- searching ------------------------------------------------------------------------------------------
    def filtered(self, q: FilteredQuery) -> list[dict[str, Any]]:
        """`search_torrents_meta`: the filters ANDed, score (similarity) descending, then newest ingested first."""
        query = clean_title(q.query) if q.query else None
        scored: list[tuple[float, datetime, dict[str, Any]]] = []
        for release in self._known():
            row = self.row(release, with_imdb=True)
            score = similarity(row["cleaned_parsed_title"], query) if query is not None else 0.0
            if query is not None and score < self.min_score:
                continue
            if not _passes(row, q):
                continue
            scored.append((score, self.ingested[release.info_hash], row))
        scored.sort(key=lambda item: (-item[0], -item[1].timestamp()))
        return [row for _, _, row in scored[: self.max_filtered_results]]

    def search(self, text: str) -> list[dict[str, Any]]:
        """`/dmm/search`: `ParsedTitle % text` at PostgreSQL's default threshold, at most 100, no ordering."""
        if not text:
            return []
        rows = [self.row(r, with_imdb=False) for r in self._known()]
        return [row for row in rows if similarity(row["parsed_title"], text) >= UNFILTERED_THRESHOLD][
            :MAX_SEARCH_RESULTS
        ]

    def row(self, release: ReleaseSpec, *, with_imdb: bool) -> dict[str, Any]:
        """The `TorrentInfo` Zilean holds for a release (`imdb` object only in filtered answers)."""
        parsed = _parse(release.name)
        title = parsed.title if parsed else ""
        seasons = list(parsed.seasons) if parsed else []
        episodes = list(parsed.episodes) if parsed else []
        imdb_id = release.imdb_id if self.imdb_matching else None
        category = "tvSeries" if seasons or episodes else "movie"
        row: dict[str, Any] = {
            "info_hash": release.info_hash,
            "raw_title": release.name,
            "parsed_title": title,
            "normalized_title": " ".join(_WORD.findall(title.lower())),
            "cleaned_parsed_title": clean_title(title),
            "size": str(_torrent_size(release)),
            "year": (parsed.year or 0) if parsed else 0,
            "seasons": seasons,
            "episodes": episodes,
            "volumes": [],
            "complete": bool(parsed and parsed.complete),
            "resolution": parsed.resolution if parsed and parsed.resolution != "unknown" else None,
            "quality": parsed.quality if parsed else None,
            "codec": parsed.codec if parsed else None,
            "group": parsed.group if parsed else None,
            "languages": list(parsed.languages) if parsed else [],
            "hdr": list(parsed.hdr) if parsed else [],
            "audio": [],
            "channels": [],
            "trash": bool(parsed and parsed.trash),
            "category": category,
            "imdb_id": imdb_id,
            "ingested_at": self.ingested[release.info_hash].isoformat(),
            **dict.fromkeys(_FALSE_FLAGS, False),
            **dict.fromkeys(_NULL_FIELDS),
        }
        if with_imdb and imdb_id is not None:
            media = self.scenario.media_by_imdb(imdb_id)
            row["imdb"] = {
                "imdbId": imdb_id,
                "category": ("movie" if media.type == "movie" else "tvSeries") if media else category,
                "title": media.title if media else title,
                "adult": False,
                "year": (media.effective_year or 0) if media else row["year"],
            }
        return row

    # -- internals ------------------------------------------------------------------------------------------
    def _known(self) -> list[ReleaseSpec]:
        """Releases in the hashlists today (a release is not there before its `published` day)."""
        today = self.clock.now().date()
        return [r for r in self.releases if r.published is None or r.published <= today]

    def _ingest_time(self, release: ReleaseSpec) -> datetime:
        if release.published is not None:  # DMM lists it from its upload day
            return datetime.combine(release.published, time(0, 0), tzinfo=UTC)
        return self.clock.now()

    def log(self, endpoint: str, params: dict[str, str], status: int, results: int) -> None:
        self.calls.append(ZileanCall(self.clock.now(), endpoint, params, status, results))


def _passes(row: dict[str, Any], q: FilteredQuery) -> bool:
    """The WHERE clause of `search_torrents_meta` (v5), minus the title match."""
    if q.category is not None and row["category"] != q.category:
        return False
    if q.imdb_id is not None and row["imdb_id"] != q.imdb_id:
        return False
    if q.season is not None and q.season not in row["seasons"]:
        return False
    if q.episode is not None and (q.season is None or (row["episodes"] and q.episode not in row["episodes"])):
        return False  # an Episode without a Season matches nothing; empty `episodes` (a pack) matches any
    if q.year is not None and not (q.year - 1 <= row["year"] <= q.year + 1):
        return False
    if q.language is not None and q.language not in row["languages"]:
        return False
    return q.resolution is None or row["resolution"] == q.resolution


def _torrent_size(release: ReleaseSpec) -> int:
    """The whole torrent's size: the files' sum when the scenario lists files and no explicit size."""
    if release.files is None or "size" in release.model_fields_set:
        return release.size
    return sum(f.size for f in release.files)


def create_app(scenario: Scenario, clock: VirtualClock) -> FastAPI:
    """Build the Zilean emulator for a scenario; its state is at `app.state.emulator`."""
    app = FastAPI(title="Zilean (sandbox)", openapi_url=None, docs_url=None, redoc_url=None)
    install_sandbox(app, too_many_body=b"", too_many_type="text/plain")
    emulator = ZileanEmulator(scenario=scenario, clock=clock, releases=[r for r in scenario.releases if r.zilean])
    app.state.emulator = emulator

    @app.get("/dmm/filtered")
    async def filtered(request: Request) -> Response:
        params = dict(request.query_params)
        try:
            q = FilteredQuery.from_params(params)
        except BadParameter as exc:
            emulator.log(FILTERED, params, 400, 0)
            return JSONResponse({"title": "Bad Request", "status": 400, "detail": str(exc)}, status_code=400)
        rows = [] if emulator.database_down else emulator.filtered(q)
        emulator.log(FILTERED, params, 200, len(rows))
        return JSONResponse(rows)

    @app.post("/dmm/search")
    async def search(request: Request) -> Response:
        try:
            body = await request.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            emulator.log(SEARCH, {}, 400, 0)
            return JSONResponse({"title": "Bad Request", "status": 400}, status_code=400)
        # System.Text.Json's web defaults read property names case-insensitively.
        text = next((v for k, v in body.items() if k.lower() == "querytext"), None)
        text = text if isinstance(text, str) else ""
        rows = [] if emulator.database_down else emulator.search(text)
        emulator.log(SEARCH, {"queryText": text}, 200, len(rows))
        return JSONResponse(rows)

    @app.get("/healthchecks/ping")
    async def ping() -> Response:
        if emulator.database_down and not emulator.ping_ignores_database:
            emulator.log(PING, {}, 503, 0)
            return PlainTextResponse("Service Unavailable", status_code=503)
        emulator.log(PING, {}, 200, 0)
        # DateTime.UtcNow.ToString(CultureInfo.InvariantCulture): MM/dd/yyyy HH:mm:ss
        return PlainTextResponse(f"[{clock.now().strftime('%m/%d/%Y %H:%M:%S')}]: Pong!")

    return app


__all__ = [
    "FilteredQuery",
    "ZileanCall",
    "ZileanEmulator",
    "clean_title",
    "create_app",
    "similarity",
]
