"""What the four Radarr/Sonarr servers do: record what Seerr adds, start work on it at once, and report back only what
is true (files Jellyfin holds, downloads in progress). The routes (web/servarr.py) only parse and answer.

Work is still keyed by Seerr's request: an add (or a search command, or a PUT that monitors more) looks up the
approved Seerr requests for that media and submits them to the work queue, where they coalesce with the same request
arriving by webhook or poll. The title row adds what Seerr chose on this path: the profile (the quality profile id)
and, for series, the monitored seasons.
"""

from __future__ import annotations

import asyncio
import itertools
import re
from collections.abc import Callable, Coroutine, Mapping
from datetime import datetime
from typing import Any

import structlog

from seerbridge.arr import resources
from seerbridge.arr.facts import TitleFacts, item_keys, title_facts
from seerbridge.arr.servers import Server, free_space, root_folder
from seerbridge.domain.states import TorrentState
from seerbridge.errors import NotFound, ServiceError
from seerbridge.pipeline.backoff import SETTLED_OK
from seerbridge.pipeline.process import Bridge
from seerbridge.services.seerr import MediaRequest
from seerbridge.store import arr_repo, repo
from seerbridge.store.arr_repo import ArrSeason, ArrTitleRecord

log = structlog.get_logger("seerbridge.arr")

Submit = Callable[[int, str], bool]
REMOVED_RULE = "removed_in_seerr"
DESCRIBED_FOR_S = 300
MAX_LABEL = 255
AUTO = "auto"
"""The quality profile that leaves the choice to `selection.profile_rules` (listed first; e.g. `classic` for old
films, `4k` for 4K requests), next to one quality profile per seerbridge profile."""


class ArrError(Exception):
    """An answer other than success: the status and the JSON body Radarr/Sonarr would send."""

    def __init__(self, status: int, body: Any) -> None:
        super().__init__(f"{status}: {body}")
        self.status = status
        self.body = body


def invalid(prop: str, message: str, attempted: Any, code: str) -> ArrError:
    return ArrError(400, resources.validation_errors([(prop, message, attempted, code)]))


def not_found(what: str) -> ArrError:
    return ArrError(404, {"message": f"{what} not found"})


MAX_ID = 2**31 - 1  # the specs' ids are int32, and so are the store's columns


def _id_value(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_ID


def _int(body: Mapping[str, Any], key: str) -> int | None:
    value = body.get(key)
    return value if _id_value(value) else None


def _ints(value: Any) -> list[int]:
    return [v for v in value if _id_value(v)] if isinstance(value, list) else []


def _imdb(value: Any) -> str | None:
    return value if isinstance(value, str) and re.fullmatch(r"tt\d{1,12}", value) else None


def parse_term(term: str) -> tuple[str, str]:
    """`tmdb:603` → ("tmdb", "603"); a plain title → ("title", text)."""
    prefix, _, rest = term.strip().partition(":")
    if rest and prefix.lower() in ("tmdb", "tvdb", "imdb"):
        return prefix.lower(), rest.strip()
    return "title", term.strip()


class ArrFacade:
    def __init__(self, bridge: Bridge, submit: Submit | None, started: datetime) -> None:
        self.bridge = bridge
        self.settings = bridge.settings
        self.sessions = bridge.sessions
        self.submit = submit
        self.started = started
        self._lock = asyncio.Lock()  # adds and updates one at a time: Seerr's re-sends never add a title twice
        self._tasks: set[asyncio.Task[None]] = set()
        self._tmdb_of_tvdb: dict[int, int] = {}
        # Seerr looks a title up and adds it a moment later: the add reuses the lookup's description.
        self._described: dict[tuple[str, int], tuple[datetime, ArrTitleRecord]] = {}
        self._commands = itertools.count(1)
        self._unread: set[tuple[str, int]] = set()
        self._profile_ids: dict[str, int] = {}
        self._profile_lock = asyncio.Lock()  # nudges started that have not read Seerr's requests yet

    # ----- background work -----

    def _later(self, work: Coroutine[Any, Any, None], name: str) -> None:
        task = asyncio.create_task(work, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def settle(self) -> None:
        """Wait for the work started in the background (submitting requests, cleanup after a delete)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    def _nudge_later(self, server: Server, title: ArrTitleRecord, why: str) -> None:
        """`_nudge` in the background. Seerr follows a PUT with a search command at once: a nudge for the same
        title that has not read Seerr's requests yet covers both (one that has may have read them before a newer
        approval, so another is started)."""
        key = (server.base, title.id)
        if key in self._unread:
            return
        self._unread.add(key)
        self._later(self._nudge(server, title.tmdb_id, title.tvdb_id, why, key), "arr-nudge")

    async def _nudge(
        self, server: Server, tmdb_id: int | None, tvdb_id: int | None, why: str, key: tuple[str, int]
    ) -> None:
        """Submit the approved (or failed) Seerr requests for this media and kind that are not settled."""
        self._unread.discard(key)
        if self.submit is None:
            return
        try:
            requests = await self.bridge.pending_requests()
        except ServiceError as exc:  # polling picks them up later
            log.warning("could not read Seerr's requests after an add; polling will find them", error=str(exc))
            return
        matched = [r for r in requests if self._matches(r, server, tmdb_id, tvdb_id)]
        async with self.sessions() as session:
            known = {r.id: r for r in await repo.list_requests(session)}
        for request in matched:
            record = known.get(request.id)
            if record is not None and record.state in SETTLED_OK:
                continue
            queued = self.submit(request.id, why)
            log.info("work started by Seerr's add", server=server.label, request_id=request.id, queued=queued)
        if not matched:
            log.info("no approved Seerr request for this title yet; polling will find it", server=server.label)

    @staticmethod
    def _matches(request: MediaRequest, server: Server, tmdb_id: int | None, tvdb_id: int | None) -> bool:
        kind = "movie" if server.app == "radarr" else "tv"
        if request.media_type != kind or request.is4k != server.is4k:
            return False
        return (tmdb_id is not None and request.media.tmdb_id == tmdb_id) or (
            tvdb_id is not None and request.media.tvdb_id == tvdb_id
        )

    # ----- fixed answers -----

    def status(self, server: Server) -> dict[str, Any]:
        return resources.system_status(server, self.started)

    def profile_names(self) -> list[str]:
        return list(dict.fromkeys([AUTO, *self.settings.selection.profiles]))

    async def profile_ids(self) -> dict[str, int]:
        """Stable ids of the profiles (kept in the store; read once per process, as they never change)."""
        names = self.profile_names()
        if not set(names) <= set(self._profile_ids):
            async with self._profile_lock:
                if not set(names) <= set(self._profile_ids):
                    async with self.sessions.begin() as session:
                        self._profile_ids = await arr_repo.profile_ids(session, names)
        return {name: self._profile_ids[name] for name in names}

    async def profiles(self) -> list[dict[str, Any]]:
        return resources.quality_profiles(self.profile_names(), await self.profile_ids())

    def root_folders(self, server: Server) -> list[dict[str, Any]]:
        return resources.root_folders(root_folder(self.settings, server), free_space(self.settings))

    async def tags(self) -> list[dict[str, Any]]:
        async with self.sessions() as session:
            return [resources.tag(i, label) for i, label in await arr_repo.tags(session)]

    async def tag(self, tag_id: int) -> dict[str, Any]:
        for found in await self.tags():
            if found["id"] == tag_id:
                return found
        raise not_found("Tag")

    async def add_tag(self, body: Any) -> dict[str, Any]:
        label = _label(body)
        async with self._lock, self.sessions.begin() as session:
            return resources.tag(*await arr_repo.add_tag(session, label))

    async def rename_tag(self, tag_id: int, body: Any) -> dict[str, Any]:
        label = _label(body)
        try:
            async with self._lock, self.sessions.begin() as session:
                renamed = await arr_repo.rename_tag(session, tag_id, label)
        except arr_repo.TagTaken as exc:
            raise invalid("Label", "A tag with this label already exists", label, "UniqueTagValidator") from exc
        if renamed is None:
            raise not_found("Tag")
        return resources.tag(*renamed)

    # ----- titles -----

    async def _resource(
        self,
        server: Server,
        title: ArrTitleRecord,
        facts: TitleFacts | None = None,
        ids: Mapping[str, int] | None = None,
    ) -> dict[str, Any]:
        if facts is None:
            async with self.sessions() as session:
                facts = await title_facts(session, title)
        ids = ids if ids is not None else await self.profile_ids()
        profile_id = ids.get(title.profile, 0)
        root = title.root_folder or root_folder(self.settings, server)
        build = resources.movie if server.app == "radarr" else resources.series
        return build(title, facts, server, profile_id, root)

    async def titles(self, server: Server, *, tmdb_id: int | None = None, tvdb_id: int | None = None) -> list[Any]:
        async with self.sessions() as session:
            found = await arr_repo.list_titles(session, server.app, server.is4k)
        if tmdb_id is not None:
            found = [t for t in found if t.tmdb_id == tmdb_id]
        if tvdb_id is not None:
            found = [t for t in found if t.tvdb_id == tvdb_id]
        ids = await self.profile_ids()
        async with self.sessions() as session:
            facts = [await title_facts(session, t) for t in found]
        return [await self._resource(server, t, f, ids) for t, f in zip(found, facts, strict=True)]

    async def _title(self, server: Server, title_id: int) -> ArrTitleRecord:
        async with self.sessions() as session:
            title = await arr_repo.get_title(session, server.app, server.is4k, title_id)
        if title is None:
            raise not_found("Movie" if server.app == "radarr" else "Series")
        return title

    async def title(self, server: Server, title_id: int) -> dict[str, Any]:
        return await self._resource(server, await self._title(server, title_id))

    async def lookup(self, server: Server, term: str) -> list[dict[str, Any]]:
        """Exactly one title for an id Seerr knows (the held one, else a new one with id 0); [] for unknown ones."""
        kind, value = parse_term(term)
        if not (value.isascii() and value.isdigit() and len(value) <= 9) or kind not in ("tmdb", "tvdb"):
            return []  # seerbridge searches nothing by title: Seerr looks titles up by id
        if (server.app == "radarr") != (kind == "tmdb"):
            return []  # seerbridge searches nothing by title: Seerr looks titles up by id
        number = int(value)
        async with self.sessions() as session:
            held = await arr_repo.find_title(
                session,
                server.app,
                server.is4k,
                tmdb_id=number if kind == "tmdb" else None,
                tvdb_id=number if kind == "tvdb" else None,
            )
        if held is not None:
            if server.app == "sonarr":
                held = await self._refresh_seasons(held)
            return [await self._resource(server, held)]
        try:
            fresh = await self._describe(server, number)
        except NotFound:
            return []
        return [] if fresh is None else [await self._resource(server, fresh, TitleFacts())]

    async def _refresh_seasons(self, title: ArrTitleRecord) -> ArrTitleRecord:
        """A held series with the seasons and episode counts Seerr shows now: a season that came out since it was
        added must be in the lookup, or Seerr cannot monitor it (its flags are kept; a failure keeps what is held)."""
        if title.tmdb_id is None:
            return title
        try:
            show = await self.bridge.services.seerr.tv(title.tmdb_id)
        except ServiceError as exc:
            log.warning("could not refresh a series' seasons from Seerr", title=title.title, error=str(exc))
            return title
        held = {s.number: s for s in title.seasons}
        fresh = {s.season_number: s.episode_count for s in show.seasons}
        seasons = tuple(
            ArrSeason(n, held[n].monitored if n in held else False, fresh.get(n, held[n].episodes if n in held else 0))
            for n in sorted(set(held) | set(fresh))
        )
        if seasons == title.seasons:
            return title
        async with self._lock, self.sessions.begin() as session:
            return await arr_repo.set_seasons(session, title.id, seasons)

    async def _tmdb_for_tvdb(self, tvdb_id: int) -> int | None:
        """The TMDB id of a series Seerr knows by its TVDB id: from titles held, else Seerr's pending requests."""
        if tvdb_id in self._tmdb_of_tvdb:
            return self._tmdb_of_tvdb[tvdb_id]
        for request in await self.bridge.pending_requests():
            if request.media.tvdb_id is not None:
                self._tmdb_of_tvdb[request.media.tvdb_id] = request.media.tmdb_id
        return self._tmdb_of_tvdb.get(tvdb_id)

    async def _describe(self, server: Server, number: int) -> ArrTitleRecord | None:
        """A title not held yet (id 0), described by Seerr: `number` is a TMDB id (movies) or TVDB id (series)."""
        now = self.bridge.now()
        cached = self._described.get((server.base, number))
        if cached is not None and (now - cached[0]).total_seconds() < DESCRIBED_FOR_S:
            return cached[1]
        described = await self._ask_seerr(server, number, now)
        if described is not None:
            self._described = {
                k: v for k, v in self._described.items() if (now - v[0]).total_seconds() < DESCRIBED_FOR_S
            }
            self._described[(server.base, number)] = (now, described)
        return described

    async def _ask_seerr(self, server: Server, number: int, now: datetime) -> ArrTitleRecord | None:
        seerr = self.bridge.services.seerr
        if server.app == "radarr":
            details = await seerr.movie(number)
            year = details.release_date.year if details.release_date else 0
            return self._new(server, number, None, details.external_ids.imdb_id, details.title, year, (), now)
        tmdb_id = await self._tmdb_for_tvdb(number)
        if tmdb_id is None:
            return None
        show = await seerr.tv(tmdb_id)
        year = show.first_air_date.year if show.first_air_date else 0
        seasons = tuple(ArrSeason(s.season_number, False, s.episode_count) for s in show.seasons)
        return self._new(server, tmdb_id, number, show.external_ids.imdb_id, show.name, year, seasons, now)

    def _new(
        self,
        server: Server,
        tmdb_id: int,
        tvdb_id: int | None,
        imdb_id: str | None,
        name: str,
        year: int,
        seasons: tuple[ArrSeason, ...],
        now: datetime,
    ) -> ArrTitleRecord:
        return ArrTitleRecord(
            id=0,
            app=server.app,
            is4k=server.is4k,
            tmdb_id=tmdb_id,
            tvdb_id=tvdb_id,
            imdb_id=imdb_id,
            title=name,
            year=year,
            profile="",
            root_folder=root_folder(self.settings, server),
            monitored=False,
            seasons=seasons,
            tags=(),
            added_at=now,
            updated_at=now,
        )

    async def _profile(self, server: Server, body: Mapping[str, Any], current: str | None = None) -> str:
        """The profile a quality profile id names; 400 for an id seerbridge never listed. A 4K server means 4K: a
        profile there that allows no 2160p is replaced by `auto` (the profile rules' choice for a 4K request)."""
        wanted = _int(body, "qualityProfileId") or _int(body, "profileId")
        if wanted is None and current is not None:
            return current
        names = {i: name for name, i in (await self.profile_ids()).items()}
        if wanted is None or wanted not in names:
            raise invalid("QualityProfileId", "Quality Profile does not exist", wanted, "QualityProfileExistsValidator")
        name = names[wanted]
        profile = self.settings.selection.profiles.get(name)
        if server.is4k and profile is not None and "2160p" not in profile.resolutions:
            log.warning(
                "the 4K server was given a profile without 2160p; the profile rules choose instead",
                server=server.label,
                profile=name,
            )
            return AUTO
        return name

    async def add(self, server: Server, body: Any) -> dict[str, Any]:
        """`POST /movie` or `POST /series`: hold the title, then start work on its Seerr requests."""
        if not isinstance(body, dict):
            raise invalid("", "The body must be a JSON object", None, "NotNullValidator")
        profile = await self._profile(server, body)
        async with self._lock:
            if server.app == "radarr":
                title = await self._add_movie(server, body, profile)
            else:
                title = await self._add_series(server, body, profile)
        log.info("Seerr added a title", server=server.label, title=title.title, id=title.id, profile=profile)
        self._nudge_later(server, title, f"{server.label} add")
        return await self._resource(server, title)

    async def _add_movie(self, server: Server, body: dict[str, Any], profile: str) -> ArrTitleRecord:
        tmdb_id = await self._unheld_id(server, body)
        title, year = body.get("title"), body.get("year")
        imdb = _imdb(body.get("imdbId"))
        if not isinstance(title, str) or not title or not isinstance(year, int) or year <= 0:
            described = await self._describe(server, tmdb_id)
            assert described is not None
            title, year, imdb = described.title, described.year, described.imdb_id
        async with self.sessions.begin() as session:
            return await arr_repo.add_title(
                session,
                app="radarr",
                is4k=server.is4k,
                tmdb_id=tmdb_id,
                tvdb_id=None,
                imdb_id=imdb,
                title=str(title),
                year=int(year),
                profile=profile,
                root_folder=self._root(server, body),
                monitored=body.get("monitored") is not False,
                seasons=(),
                tags=_ints(body.get("tags")),
            )

    async def _unheld_id(self, server: Server, body: Mapping[str, Any]) -> int:
        """The TMDB (movie) or TVDB (series) id of an add; 400 as Radarr/Sonarr answer when it is missing or the
        server holds that title already."""
        movie = server.app == "radarr"
        key, prop = ("tmdbId", "TmdbId") if movie else ("tvdbId", "TvdbId")
        number = _int(body, key)
        if number is None:
            raise invalid(prop, f"'{prop[:-2]} Id' must be greater than '0'.", body.get(key), "GreaterThanValidator")
        async with self.sessions() as session:
            held = await arr_repo.find_title(
                session,
                server.app,
                server.is4k,
                tmdb_id=number if movie else None,
                tvdb_id=None if movie else number,
            )
        if held is not None:
            noun, code = ("movie", "MovieExistsValidator") if movie else ("series", "SeriesExistsValidator")
            raise invalid(prop, f"This {noun} has already been added", number, code)
        return number

    def _root(self, server: Server, body: Mapping[str, Any]) -> str:
        given = body.get("rootFolderPath")
        return given.rstrip("/") if isinstance(given, str) and given.strip("/") else root_folder(self.settings, server)

    async def _add_series(self, server: Server, body: dict[str, Any], profile: str) -> ArrTitleRecord:
        tvdb_id = await self._unheld_id(server, body)
        described = await self._describe(server, tvdb_id)
        if described is None:
            raise invalid(
                "TvdbId",
                "seerbridge found no approved Seerr request for this series (it learns the TMDB id there)",
                tvdb_id,
                "SeriesExistsValidator",
            )
        seasons = _monitored(described.seasons, body.get("seasons"))
        async with self.sessions.begin() as session:
            return await arr_repo.add_title(
                session,
                app="sonarr",
                is4k=server.is4k,
                tmdb_id=described.tmdb_id,
                tvdb_id=tvdb_id,
                imdb_id=described.imdb_id,
                title=body["title"] if isinstance(body.get("title"), str) and body["title"] else described.title,
                year=described.year,
                profile=profile,
                root_folder=self._root(server, body),
                monitored=body.get("monitored") is not False,
                seasons=seasons,
                tags=_ints(body.get("tags")),
            )

    async def update(self, server: Server, body: Any, path_id: int | None) -> dict[str, Any]:
        """`PUT /movie` or `PUT /series` (the id in the body, as Seerr sends it, or in the path)."""
        if not isinstance(body, dict):
            raise invalid("", "The body must be a JSON object", None, "NotNullValidator")
        title_id = path_id or _int(body, "id")
        if title_id is None:
            raise not_found("Movie" if server.app == "radarr" else "Series")
        async with self._lock:
            title = await self._title(server, title_id)
            profile = await self._profile(server, body, title.profile)
            seasons = _monitored(title.seasons, body.get("seasons"), keep=True) if server.app == "sonarr" else ()
            async with self.sessions.begin() as session:
                title = await arr_repo.update_title(
                    session,
                    title.id,
                    monitored=body.get("monitored", title.monitored) is not False,
                    seasons=seasons,
                    tags=_ints(body.get("tags")) if "tags" in body else title.tags,
                    profile=profile,
                    root_folder=self._root(server, body) if "rootFolderPath" in body else title.root_folder,
                )
        if title.monitored:
            self._nudge_later(server, title, f"{server.label} update")
        return await self._resource(server, title)

    async def delete(self, server: Server, title_id: int, *, delete_files: bool) -> None:
        """Forget the title; with `deleteFiles`, cleanup takes its torrents under its usual rules."""
        title = await self._title(server, title_id)
        async with self.sessions.begin() as session:
            await arr_repo.delete_title(session, title.id, delete_files=delete_files)
        log.info("Seerr deleted a title", server=server.label, title=title.title, delete_files=delete_files)
        if delete_files:
            self._later(self._clean_up(title), "arr-delete")

    async def _clean_up(self, title: ArrTitleRecord) -> None:
        from seerbridge.pipeline.cleanup import apply_cleanup, plan_cleanup  # cleanup imports the pipeline

        cleanup = self.settings.cleanup
        if REMOVED_RULE not in cleanup.rules:
            log.info("Seerr deleted files, but cleanup.rules leaves out removed_in_seerr: nothing deleted")
            return
        if not cleanup.periodic:
            log.info(
                "Seerr asked for files to go; `seerbridge cleanup` lists them (cleanup.periodic is off, so nothing "
                "is deleted without you)",
                title=title.title,
            )
            return
        try:
            # Alone, as every cleanup: no request or upgrade may reuse or add a torrent between plan and deletions.
            async with self.bridge.gate.cleanup():
                plan = await plan_cleanup(self.bridge, rules=[REMOVED_RULE])
                await apply_cleanup(self.bridge, plan)
        except ServiceError as exc:
            log.warning("cleanup after Seerr's delete failed; the next cleanup will find it", error=str(exc))

    # ----- episodes -----

    async def episodes(self, server: Server, series_id: int | None) -> list[dict[str, Any]]:
        if series_id is None:
            raise invalid("SeriesId", "seriesId is missing", None, "NotNullValidator")
        title = await self._title(server, series_id)
        async with self.sessions.begin() as session:
            facts = await title_facts(session, title)
            ids = await arr_repo.episode_ids(session, title.id, resources.episode_numbers(title))
        return resources.episodes(title, facts, ids)

    async def monitor_episodes(self, server: Server, body: Any) -> list[dict[str, Any]]:
        """`PUT /episode/monitor`: monitoring is kept per season, so a season with a monitored episode is."""
        ids = _ints(body.get("episodeIds")) if isinstance(body, dict) else []
        monitored = isinstance(body, dict) and body.get("monitored") is not False
        touched: dict[int, set[int]] = {}
        async with self.sessions() as session:
            for ident in ids:
                found = await arr_repo.episode_of(session, ident)
                if found is not None:
                    touched.setdefault(found[0], set()).add(found[1])
        changed = []
        async with self._lock:
            for series_id, numbers in touched.items():
                try:
                    title = await self._title(server, series_id)
                except ArrError:
                    continue
                seasons = tuple(
                    ArrSeason(s.number, monitored if s.number in numbers else s.monitored, s.episodes)
                    for s in title.seasons
                )
                async with self.sessions.begin() as session:
                    changed.append(await arr_repo.set_seasons(session, title.id, seasons))
        out = []
        for title in changed:
            async with self.sessions.begin() as session:
                facts = await title_facts(session, title)
                given = await arr_repo.episode_ids(session, title.id, resources.episode_numbers(title))
            out += [e for e in resources.episodes(title, facts, given) if e["id"] in ids]
        return out

    # ----- commands and the queue -----

    async def command(self, server: Server, body: Any) -> dict[str, Any]:
        """Searches start work on the named titles' requests; RefreshMonitoredDownloads needs nothing (the
        follower keeps progress current)."""
        name = body.get("name") if isinstance(body, dict) else None
        if not isinstance(name, str) or not name:
            raise invalid("Name", "'Name' must not be empty.", name, "NotEmptyValidator")
        assert isinstance(body, dict)
        wanted = _ints(body.get("movieIds")) + ([body["seriesId"]] if _int(body, "seriesId") else [])
        if name in ("MoviesSearch", "MissingEpisodeSearch", "SeriesSearch", "SeasonSearch"):
            for title_id in wanted:
                try:
                    title = await self._title(server, title_id)
                except ArrError:
                    continue
                self._nudge_later(server, title, f"{server.label} {name}")
        return resources.command(next(self._commands), name, self.bridge.now())

    async def queue(self, server: Server, page: int, page_size: int | None) -> dict[str, Any]:
        """Downloads in progress for this server's titles; only titles with a download are looked at."""
        now = self.bridge.now()
        async with self.sessions.begin() as session:
            downloading = await repo.torrents_in_state(session, TorrentState.DOWNLOADING)
            keys = {t.item_key for t in downloading}
            records: list[dict[str, Any]] = []
            if keys:
                for title in await arr_repo.list_titles(session, server.app, server.is4k):
                    if keys.isdisjoint(item_keys(title)):
                        continue
                    facts = await title_facts(session, title)
                    if server.app == "radarr":
                        records += resources.movie_queue(title, facts, now)
                    else:
                        ids = await arr_repo.episode_ids(session, title.id, resources.queued_episodes(facts))
                        records += resources.series_queue(title, facts, now, ids)
        return resources.page(records, page, page_size)


def _label(body: Any) -> str:
    label = body.get("label") if isinstance(body, dict) else None
    if not isinstance(label, str) or not label.strip():
        raise invalid("Label", "'Label' must not be empty.", label, "NotEmptyValidator")
    if len(label.strip()) > MAX_LABEL:
        raise invalid("Label", f"'Label' must be {MAX_LABEL} characters or fewer.", None, "MaximumLengthValidator")
    return label.strip()


def _monitored(seasons: tuple[ArrSeason, ...], given: Any, *, keep: bool = False) -> tuple[ArrSeason, ...]:
    """The seasons with the monitored flags Seerr sent; a season Seerr did not send keeps its flag (`keep`) or is
    not monitored; a season Seerr sent that the title does not list is added (its episode count unknown)."""
    flags: dict[int, bool] = {}
    if isinstance(given, list):
        for entry in given:
            if isinstance(entry, dict) and isinstance(entry.get("seasonNumber"), int):
                flags[entry["seasonNumber"]] = entry.get("monitored") is True
    out = [ArrSeason(s.number, flags.get(s.number, s.monitored if keep else False), s.episodes) for s in seasons]
    listed = {s.number for s in seasons}
    out += [ArrSeason(n, m, 0) for n, m in sorted(flags.items()) if n not in listed]
    return tuple(sorted(out, key=lambda s: s.number))
