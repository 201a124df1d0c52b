"""Generated scenarios: any number of Seerr requests in a realistic mix of every acquisition path, fixed by a seed.

`generated_scenario(n, seed=...)` builds a `Scenario` whose requests fall into these kinds (shares of n, rounded by
largest remainder; when n ≥ 9 every kind gets at least one request):

    kind                 share  what the bridge meets
    cached-movie           30%  a movie whose best-ranked release is cached on Real-Debrid
    later-cached-movie     10%  the first choice is not cached (or refused with 451); a lower-ranked one is cached
    uncached-movie          8%  nothing is cached; the best-seeded acceptable release is downloaded
    nothing-acceptable      5%  only cam copies, another film, a 2160p or a tiny file (or no releases at all)
    short-title-decoy       7%  a one-word title; a same-name film of another year and a year-less copy are decoys,
                                the right one (first choice) is cached
    missing-season         12%  a whole season missing; its season pack (sometimes a complete-series pack) is cached
    partial-season         10%  Jellyfin has most of the season; the pack is not cached (or absent), single episodes
                                are (sometimes only the second-best copy of an episode)
    airing-season           8%  a season still airing: only single-episode releases of the aired episodes, cached
    4k-movie               10%  a 4K request (`is4k`); the best 2160p release is cached

Beside the requests: movies and shows already in Jellyfin that nobody requested (a fifth and a tenth of n), and a few
torrents added to the Real-Debrid account by hand. Release names follow scene style (`Title.Year.1080p.BluRay.x264-GRP`,
`Show.S02.1080p.WEB-DL...`, `Show.S01E03...`) and parse with RTN. Each request's kind is written into its
`requested_by` (the Seerr user), so `request_kinds(scenario)` recovers it. Ids (request, TMDB, IMDb, TVDB) are unique.
"""

from __future__ import annotations

import hashlib
import random
import re
from datetime import date, timedelta
from enum import StrEnum
from typing import Any

from seerbridge.sandbox.scenario import GB, Scenario

MB = 1024**2


class RequestKind(StrEnum):
    CACHED_MOVIE = "cached-movie"
    LATER_CACHED_MOVIE = "later-cached-movie"
    UNCACHED_MOVIE = "uncached-movie"
    NOTHING_ACCEPTABLE = "nothing-acceptable"
    SHORT_TITLE_DECOY = "short-title-decoy"
    MISSING_SEASON = "missing-season"
    PARTIAL_SEASON = "partial-season"
    AIRING_SEASON = "airing-season"
    MOVIE_4K = "4k-movie"


KIND_SHARES: dict[RequestKind, float] = {
    RequestKind.CACHED_MOVIE: 0.30,
    RequestKind.LATER_CACHED_MOVIE: 0.10,
    RequestKind.UNCACHED_MOVIE: 0.08,
    RequestKind.NOTHING_ACCEPTABLE: 0.05,
    RequestKind.SHORT_TITLE_DECOY: 0.07,
    RequestKind.MISSING_SEASON: 0.12,
    RequestKind.PARTIAL_SEASON: 0.10,
    RequestKind.AIRING_SEASON: 0.08,
    RequestKind.MOVIE_4K: 0.10,
}

EXPECTED_OUTCOME: dict[RequestKind, str] = {kind: "fulfilled" for kind in RequestKind} | {
    RequestKind.UNCACHED_MOVIE: "downloading",
    RequestKind.NOTHING_ACCEPTABLE: "no_release",
}
"""The request state a correct bridge ends the first pass in, per kind."""

FIRST_CHOICE_CACHED = frozenset({RequestKind.CACHED_MOVIE, RequestKind.SHORT_TITLE_DECOY, RequestKind.MOVIE_4K})
"""Movie kinds whose best-ranked acceptable release is cached."""

MAX_REQUESTS = 500

_ADJECTIVES = (
    "Silent", "Crimson", "Hollow", "Golden", "Broken", "Distant", "Frozen", "Hidden", "Quiet", "Restless",
    "Scarlet", "Wandering", "Burning", "Forgotten", "Northern", "Electric", "Velvet", "Iron", "Paper", "Glass",
)  # fmt: skip
_NOUNS = (
    "Harbor", "Valley", "Orchard", "Signal", "Meridian", "Lantern", "Garden", "Frontier", "Horizon", "Archive",
    "Compass", "Tide", "Canyon", "Citadel", "Station", "River", "Kingdom", "Mirror", "Harvest", "Empire",
)  # fmt: skip
_PLACES = (
    "Avalon", "Marrow", "Eastbrook", "Halden", "Corvel", "Isenport", "Lowmoor", "Redfern", "Stillwater", "Thornbury",
)  # fmt: skip
_ROLES = (
    "Keepers", "Wardens", "Runners", "Makers", "Watchers", "Sisters", "Travelers", "Drifters", "Strangers", "Heirs",
)  # fmt: skip
_SHORT = (
    "Ember", "Drift", "Hush", "Vigil", "Hex", "Rift", "Sable", "Thaw", "Brink", "Cinder", "Lure", "Omen", "Grit",
    "Husk", "Knell", "Prey", "Quarry", "Relic", "Shiver", "Tether", "Wake", "Haven", "Gloom", "Mire", "Lull",
    "Snare", "Crest", "Flint", "Gust", "Lodge", "Marsh", "Nook", "Pyre", "Roost", "Sleet", "Spire", "Talon",
    "Veil", "Wisp", "Yarrow",
)  # fmt: skip
_GROUPS = ("NOVA", "QUILL", "ORBIT", "HALCYON", "KESTREL", "LUMEN", "MOSAIC", "TIDEWATER", "VANTA", "ZEPHYR")
_MOVIE_PROVIDERS = ("YTS", "1337x", "ThePirateBay", "TorrentGalaxy", "RARBG")
_SHOW_PROVIDERS = ("EZTV", "1337x", "ThePirateBay", "TorrentGalaxy")

# Release name tails and size ranges (GB), best first under the default `standard` profile (and `classic`).
_MOVIE_VARIANTS: tuple[tuple[str, tuple[float, float]], ...] = (
    ("1080p.BluRay.x265.10bit", (4.5, 9.0)),
    ("1080p.BluRay.x264", (8.0, 14.0)),
    ("1080p.WEB-DL.DDP5.1.H.264", (4.0, 7.0)),
    ("1080p.WEBRip.x264", (2.0, 3.5)),
    ("720p.BluRay.x264", (1.2, 2.5)),
    ("720p.WEBRip.x264", (0.8, 1.5)),
)
# Best first under the `4k` profile; the last is the 1080p fallback.
_UHD_VARIANTS: tuple[tuple[str, tuple[float, float]], ...] = (
    ("2160p.UHD.BluRay.REMUX.DV.HDR.HEVC.TrueHD.Atmos.7.1", (45.0, 80.0)),
    ("2160p.BluRay.x265.10bit.HDR", (15.0, 30.0)),
    ("2160p.WEB-DL.DV.HDR.H.265", (12.0, 22.0)),
    ("2160p.WEB-DL.DDP5.1.H.265", (10.0, 18.0)),
    ("1080p.BluRay.x264", (8.0, 14.0)),
)


def dotted(title: str) -> str:
    """A title as release names write it: words joined by dots."""
    return re.sub(r"[^\w]+", ".", title).strip(".")


def request_kinds(scenario: Scenario) -> dict[int, RequestKind]:
    """Request id → kind, read back from `requested_by` (requests of other users are left out)."""
    known = {k.value: k for k in RequestKind}
    return {r.id: known[r.requested_by] for r in scenario.requests if r.requested_by in known}


def allocate(requests: int) -> dict[RequestKind, int]:
    """How many requests of each kind: shares of `requests` by largest remainder, at least one each when n ≥ 9."""
    raw = {kind: requests * share for kind, share in KIND_SHARES.items()}
    counts = {kind: int(value) for kind, value in raw.items()}
    order = list(KIND_SHARES)
    by_remainder = sorted(order, key=lambda k: (-(raw[k] - counts[k]), order.index(k)))
    for kind in by_remainder[: requests - sum(counts.values())]:
        counts[kind] += 1
    if requests >= len(KIND_SHARES):
        for kind in order:
            if counts[kind] == 0:
                donor = max(order, key=lambda k: (counts[k], -order.index(k)))
                counts[donor] -= 1
                counts[kind] = 1
    return counts


def generated_scenario(requests: int, *, seed: int = 0, today: date = date(2026, 11, 24)) -> Scenario:
    """A scenario with `requests` approved Seerr requests in the mix described in this module's docstring."""
    if not 1 <= requests <= MAX_REQUESTS:
        raise ValueError(f"requests must be between 1 and {MAX_REQUESTS}, not {requests}")
    builder = _Builder(random.Random(f"seerbridge-generate:{seed}"), today)
    kinds = [kind for kind, count in allocate(requests).items() for _ in range(count)]
    builder.rng.shuffle(kinds)
    for request_id, kind in enumerate(kinds, start=1):
        builder.add(request_id, kind)
    builder.fill_library(requests // 5, requests // 10)
    builder.hand_added(max(2, requests // 25))
    counts = ", ".join(f"{kind.value} {n}" for kind, n in allocate(requests).items())
    return Scenario.model_validate(
        {
            "name": f"generated-{requests}-seed{seed}",
            "description": f"{requests} generated requests: {counts}.",
            "today": today,
            "media": builder.media,
            "requests": builder.requests,
            "library": builder.library,
            "releases": builder.releases,
            "realdebrid": {"username": "bench", "premium_days": 120, "torrents": builder.account},
        }
    )


class _Builder:
    """Accumulates scenario parts; every random choice goes through `rng`, so a seed fixes the result."""

    def __init__(self, rng: random.Random, today: date) -> None:
        self.rng = rng
        self.today = today
        self.media: list[dict[str, Any]] = []
        self.requests: list[dict[str, Any]] = []
        self.library: list[dict[str, Any]] = []
        self.releases: list[dict[str, Any]] = []
        self.account: list[dict[str, Any]] = []
        self._ids: dict[str, set[int]] = {"tmdb": set(), "imdb": set(), "tvdb": set()}
        movie_titles = [f"{a} {n}" for a in _ADJECTIVES for n in _NOUNS]
        movie_titles += [f"The {n} of {p}" for n in _NOUNS for p in _PLACES]
        show_titles = [f"The {n} {r}" for n in _NOUNS for r in _ROLES] + [f"{p} {n}" for p in _PLACES for n in _NOUNS]
        self._movie_titles = self._shuffled(movie_titles)
        self._show_titles = self._shuffled(show_titles)
        self._short_titles = self._shuffled(list(_SHORT))

    # ----- small helpers -----

    def _shuffled(self, items: list[str]) -> list[str]:
        self.rng.shuffle(items)
        return items

    def _take(self, pool: list[str], what: str) -> str:
        if not pool:
            raise ValueError(f"ran out of {what}; ask for fewer requests")
        return pool.pop()

    def _id(self, kind: str, low: int, high: int) -> int:
        used = self._ids[kind]
        while True:
            value = self.rng.randint(low, high)
            if value not in used:
                used.add(value)
                return value

    def _gb(self, bounds: tuple[float, float]) -> int:
        return int(self.rng.uniform(*bounds) * 1024) * MB

    def _group(self) -> str:
        return self.rng.choice(_GROUPS)

    def _seeders(self, low: int = 8, high: int = 600) -> int:
        return self.rng.randint(low, high)

    def _date_in(self, year: int) -> date:
        return min(date(year, self.rng.randint(1, 12), self.rng.randint(1, 28)), self.today - timedelta(days=30))

    def _release(self, imdb_id: str, name: str, size: int, rd: str, **extra: Any) -> None:
        provider = self.rng.choice(_SHOW_PROVIDERS if "covers" in extra else _MOVIE_PROVIDERS)
        release = {"imdb_id": imdb_id, "name": name, "size": size, "rd": rd, "provider": provider}
        release.setdefault("seeders", self._seeders())
        self.releases.append({**release, **extra})

    def _request(self, request_id: int, kind: RequestKind, tmdb_id: int, **extra: Any) -> None:
        created = self.today - timedelta(days=self.rng.randint(0, 60))
        request = {"id": request_id, "tmdb_id": tmdb_id, "status": "approved", "created_at": created}
        self.requests.append({**request, "requested_by": kind.value, **extra})

    def _movie(self, title: str, year: int) -> dict[str, Any]:
        media = {
            "type": "movie",
            "tmdb_id": self._id("tmdb", 10_000, 1_400_000),
            "imdb_id": f"tt{self._id('imdb', 1_000_000, 39_999_999):07d}",
            "title": title,
            "year": year,
            "release_date": self._date_in(year),
        }
        self.media.append(media)
        return media

    def _show(self, title: str, seasons: list[tuple[int, date]]) -> dict[str, Any]:
        """A show; `seasons` are (episode count, first air date), numbered from 1."""
        first = seasons[0][1]
        media = {
            "type": "tv",
            "tmdb_id": self._id("tmdb", 10_000, 1_400_000),
            "tvdb_id": self._id("tvdb", 70_000, 460_000),
            "imdb_id": f"tt{self._id('imdb', 1_000_000, 39_999_999):07d}",
            "title": title,
            "year": first.year,
            "first_air_date": first,
            "seasons": [
                {"season": n, "episodes": count, "first_air_date": aired}
                for n, (count, aired) in enumerate(seasons, start=1)
            ],
        }
        self.media.append(media)
        return media

    def _aired_show(self, seasons: int) -> dict[str, Any]:
        """A show whose every season has finished airing."""
        start = self.rng.randint(1998, self.today.year - seasons - 1)
        specs = [(self.rng.randint(6, 13), self._date_in(start + n)) for n in range(seasons)]
        return self._show(self._take(self._show_titles, "show titles"), specs)

    def _movie_releases(
        self,
        media: dict[str, Any],
        variants: tuple[tuple[str, tuple[float, float]], ...],
        picks: list[int],
        rd: list[str],
    ) -> None:
        name = dotted(media["title"])
        for index, behaviour in zip(picks, rd, strict=True):
            tail, size = variants[index]
            self._release(media["imdb_id"], f"{name}.{media['year']}.{tail}-{self._group()}", self._gb(size), behaviour)

    def _cached_or_not(self) -> str:
        return self.rng.choice(("cached", "uncached"))

    # ----- kinds -----

    def add(self, request_id: int, kind: RequestKind) -> None:
        build = {
            RequestKind.CACHED_MOVIE: self._cached_movie,
            RequestKind.LATER_CACHED_MOVIE: self._later_cached_movie,
            RequestKind.UNCACHED_MOVIE: self._uncached_movie,
            RequestKind.NOTHING_ACCEPTABLE: self._nothing_acceptable,
            RequestKind.SHORT_TITLE_DECOY: self._short_title_decoy,
            RequestKind.MISSING_SEASON: self._missing_season,
            RequestKind.PARTIAL_SEASON: self._partial_season,
            RequestKind.AIRING_SEASON: self._airing_season,
            RequestKind.MOVIE_4K: self._movie_4k,
        }[kind]
        tmdb_id, extra = build()
        self._request(request_id, kind, tmdb_id, **extra)

    def _new_movie(self) -> dict[str, Any]:
        return self._movie(self._take(self._movie_titles, "movie titles"), self.rng.randint(1965, self.today.year - 1))

    def _cached_movie(self) -> tuple[int, dict[str, Any]]:
        media = self._new_movie()
        picks = sorted(self.rng.sample(range(len(_MOVIE_VARIANTS)), self.rng.randint(1, 4)))
        rd = ["cached"] + [self._cached_or_not() for _ in picks[1:]]
        self._movie_releases(media, _MOVIE_VARIANTS, picks, rd)
        return media["tmdb_id"], {}

    def _later_cached_movie(self) -> tuple[int, dict[str, Any]]:
        media = self._new_movie()
        picks = sorted(self.rng.sample(range(len(_MOVIE_VARIANTS)), self.rng.randint(2, 4)))
        hit = self.rng.randint(1, len(picks) - 1)
        first = "refused" if self.rng.random() < 0.3 else "uncached"
        rd = [first] + ["uncached"] * (hit - 1) + ["cached"] + [self._cached_or_not() for _ in picks[hit + 1 :]]
        self._movie_releases(media, _MOVIE_VARIANTS, picks, rd)
        return media["tmdb_id"], {}

    def _uncached_movie(self) -> tuple[int, dict[str, Any]]:
        media = self._new_movie()
        picks = sorted(self.rng.sample(range(len(_MOVIE_VARIANTS)), self.rng.randint(2, 4)))
        rd = ["refused" if i == 0 and self.rng.random() < 0.2 else "uncached" for i in range(len(picks))]
        self._movie_releases(media, _MOVIE_VARIANTS, picks, rd)
        # At least one release is seeded well enough to download.
        self.releases[-self.rng.randint(1, len(picks))]["seeders"] = self._seeders(40, 900)
        return media["tmdb_id"], {}

    def _nothing_acceptable(self) -> tuple[int, dict[str, Any]]:
        media = self._new_movie()
        if self.rng.random() < 0.15:
            return media["tmdb_id"], {}  # Torrentio knows no release at all
        name, year, imdb = dotted(media["title"]), media["year"], media["imdb_id"]
        other = dotted(f"{self.rng.choice(_ADJECTIVES)} {self.rng.choice(_NOUNS)} {self.rng.choice(_ROLES)}")
        options = [
            (f"{name}.{year}.HDCAM.x264-{self._group()}", 1.4),  # Torrentio hides cam copies itself
            (f"{name}.{year}.TS.x264-{self._group()}", 1.2),
            (f"{other}.{self.rng.randint(1970, self.today.year - 1)}.1080p.BluRay.x264-{self._group()}", 9.0),
            (f"{name}.{year}.2160p.WEB-DL.DV.HDR.H.265-{self._group()}", 16.0),  # not in the standard profile
            (f"{name}.{year}.1080p.WEB-DL.H264-{self._group()}", 0.1),  # too small to be the film
        ]
        for release_name, size in self.rng.sample(options, self.rng.randint(2, 4)):
            self._release(imdb, release_name, int(size * GB), "cached")
        return media["tmdb_id"], {}

    def _short_title_decoy(self) -> tuple[int, dict[str, Any]]:
        year = self.rng.randint(1990, self.today.year - 1)
        media = self._movie(self._take(self._short_titles, "short titles"), year)
        decoy_year = year + self.rng.choice((-1, 1)) * self.rng.randint(3, 25)
        if not 1950 <= decoy_year < self.today.year:
            decoy_year = year - self.rng.randint(3, 25) if year - 3 >= 1950 else year + 3
        name, imdb, group = media["title"], media["imdb_id"], self._group
        high = self._seeders(600, 2000)
        self._release(
            imdb, f"{name}.{decoy_year}.1080p.BluRay.x264-{group()}", self._gb((8, 12)), "cached", seeders=high
        )
        self._release(imdb, f"{name}.1080p.WEB-DL.H264-{group()}", self._gb((3, 5)), "cached", seeders=high // 2)
        self._release(imdb, f"{name}.{year}.1080p.WEB-DL.DDP5.1.H.264-{group()}", self._gb((4, 7)), "cached")
        if self.rng.random() < 0.5:
            self._release(imdb, f"{name}.{year}.720p.WEBRip.x264-{group()}", self._gb((0.8, 1.5)), "uncached")
        return media["tmdb_id"], {}

    def _movie_4k(self) -> tuple[int, dict[str, Any]]:
        media = self._new_movie()
        best = self.rng.randint(0, 3)  # a 2160p release is the first choice
        lower = range(best + 1, len(_UHD_VARIANTS))
        picks = [best, *sorted(self.rng.sample(lower, min(len(lower), self.rng.randint(0, 2))))]
        rd = ["cached"] + [self._cached_or_not() for _ in picks[1:]]
        self._movie_releases(media, _UHD_VARIANTS, picks, rd)
        return media["tmdb_id"], {"is4k": True}

    def _pack(self, media: dict[str, Any], season: int, tail: str, per_episode: tuple[float, float], rd: str) -> None:
        episodes = media["seasons"][season - 1]["episodes"]
        name = f"{dotted(media['title'])}.S{season:02d}.{tail}-{self._group()}"
        covers = {season: list(range(1, episodes + 1))}
        size = self._gb(per_episode) * episodes
        self._release(media["imdb_id"], name, size, rd, covers=covers, sample=self.rng.random() < 0.3)

    def _single(self, media: dict[str, Any], season: int, episode: int, tail: str, rd: str, **extra: Any) -> None:
        name = f"{dotted(media['title'])}.S{season:02d}E{episode:02d}.{tail}-{self._group()}"
        size = self._gb((0.4, 0.9) if "720p" in tail else (1.2, 3.0) if "1080p" in tail else (4.0, 8.0))
        self._release(media["imdb_id"], name, size, rd, covers={season: [episode]}, **extra)

    def _in_library(self, media: dict[str, Any], episodes: dict[int, Any]) -> None:
        if episodes:
            self.library.append({"tmdb_id": media["tmdb_id"], "episodes": episodes})

    def _missing_season(self) -> tuple[int, dict[str, Any]]:
        count = self.rng.randint(1, 4)
        media = self._aired_show(count)
        season = self.rng.randint(1, count)
        self._in_library(media, {n: "all" for n in range(1, count + 1) if n != season})
        if count > 1 and self.rng.random() < 0.3:
            # A complete-series pack ranks first (BluRay x265) and is cached.
            name = f"{dotted(media['title'])}.S01-S{count:02d}.COMPLETE.1080p.BluRay.x265-{self._group()}"
            covers = {s["season"]: list(range(1, s["episodes"] + 1)) for s in media["seasons"]}
            size = self._gb((1.0, 2.0)) * sum(len(eps) for eps in covers.values())
            self._release(media["imdb_id"], name, size, "cached", covers=covers)
        self._pack(media, season, "1080p.WEB-DL.DDP5.1.H.264", (1.2, 2.5), "cached")
        if self.rng.random() < 0.5:
            self._pack(media, season, "720p.BluRay.x264", (0.5, 1.0), self._cached_or_not())
        for other in range(1, count + 1):
            if other != season and self.rng.random() < 0.5:
                self._pack(media, other, "1080p.WEB-DL.DDP5.1.H.264", (1.2, 2.5), "cached")
        episodes = media["seasons"][season - 1]["episodes"]
        for episode in self.rng.sample(range(1, episodes + 1), self.rng.randint(0, 3)):
            self._single(media, season, episode, "1080p.WEB-DL.DDP5.1.H.264", self._cached_or_not())
        return media["tmdb_id"], {"seasons": [season]}

    def _partial_season(self) -> tuple[int, dict[str, Any]]:
        count = self.rng.randint(1, 4)
        media = self._aired_show(count)
        season = self.rng.randint(1, count)
        episodes = media["seasons"][season - 1]["episodes"]
        gap = self.rng.randint(1, min(4, episodes - 1))
        if self.rng.random() < 0.6:
            missing = list(range(episodes - gap + 1, episodes + 1))
        else:
            missing = sorted(self.rng.sample(range(1, episodes + 1), gap))
        present = [e for e in range(1, episodes + 1) if e not in missing]
        library: dict[int, Any] = {n: "all" for n in range(1, count + 1) if n != season}
        self._in_library(media, {**library, season: present})
        if self.rng.random() < 0.7:
            self._pack(media, season, "1080p.BluRay.x264", (1.5, 3.0), "uncached")
        for episode in missing:
            if self.rng.random() < 0.2:  # the best copy is not cached, the 720p one is
                self._single(media, season, episode, "1080p.WEB-DL.DDP5.1.H.264", "uncached")
                self._single(media, season, episode, "720p.HDTV.x264", "cached")
            else:
                self._single(media, season, episode, "1080p.WEB-DL.DDP5.1.H.264", "cached")
        for episode in self.rng.sample(present, min(len(present), 2)):
            self._single(media, season, episode, "720p.HDTV.x264", "cached")
        return media["tmdb_id"], {"seasons": [season]}

    def _airing_season(self) -> tuple[int, dict[str, Any]]:
        aired = self.rng.randint(2, 5)
        premiere = self.today - timedelta(days=7 * (aired - 1) + self.rng.randint(0, 6))
        earlier = 0 if self.rng.random() < 0.6 else self.rng.randint(1, 3)
        start = self.rng.randint(2005, self.today.year - earlier - 1)
        seasons = [(self.rng.randint(6, 10), self._date_in(start + n)) for n in range(earlier)]
        seasons.append((self.rng.randint(max(aired + 1, 8), 10), premiere))
        media = self._show(self._take(self._show_titles, "show titles"), seasons)
        season = earlier + 1
        self._in_library(media, {n: "all" for n in range(1, season)})
        for episode in range(1, aired + 1):
            self._single(
                media, season, episode, "1080p.WEB-DL.DDP5.1.H.264", "cached", seeders=self._seeders(200, 3000)
            )
            if self.rng.random() < 0.3:  # rejected under the standard profile
                self._single(media, season, episode, "2160p.WEB-DL.DV.HDR.H.265", "cached")
            if self.rng.random() < 0.3:
                self._single(media, season, episode, "720p.WEBRip.x264", self._cached_or_not())
        return media["tmdb_id"], {"seasons": [season]}

    # ----- the rest of the world -----

    def fill_library(self, movies: int, shows: int) -> None:
        """Titles Jellyfin already holds that nobody requested, so library listings have a realistic size."""
        for _ in range(movies):
            self.library.append({"tmdb_id": self._new_movie()["tmdb_id"]})
        for _ in range(shows):
            media = self._aired_show(self.rng.randint(1, 3))
            self._in_library(media, {s["season"]: "all" for s in media["seasons"]})

    def hand_added(self, count: int) -> None:
        """Torrents someone added to the Real-Debrid account by hand: seerbridge must leave them alone."""
        for n in range(count):
            title = dotted(f"{self.rng.choice(_ADJECTIVES)} {self.rng.choice(_PLACES)} Home Videos")
            name = f"{title}.{self.rng.randint(2005, self.today.year)}.1080p.WEB-DL-{self._group()}"
            status = "downloading" if n == 1 else "downloaded"
            info_hash = hashlib.sha1(f"hand-added:{n}:{name}".encode()).hexdigest()
            self.account.append({"hash": info_hash, "name": name, "status": status, "size": self._gb((1.0, 6.0))})
