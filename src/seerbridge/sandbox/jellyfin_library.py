"""The Jellyfin emulator's state: the library tree built from a scenario, files waiting for a scan, and tasks.

Items are kept flat in insertion order; the tree is carried by `parent_id`. Ids follow Jellyfin's own recipe
(`LibraryManager.GetNewItemId`: MD5 of the .NET type name plus the lower-cased path, read as a Guid), so they are
deterministic. Time comes only from the `VirtualClock`: a library scan runs for `scan_duration_s` virtual seconds,
and a path reported through `/Library/Media/Updated` is scanned after `monitor_delay_s` (Jellyfin's
`LibraryMonitorDelay`, 60 s). Files "on disk" that Jellyfin has not seen yet are *staged*; a scan that starts after
they were staged (or a reported path covering them) adds them to the library. State advances lazily: every request
and every helper first calls `settle()`.

Libraries can also sit on a real disk (`add_disk_library`; walking and matching in `jellyfin_disk`): a scan (the
scheduled task or `/Library/Refresh`) or a reported path looks at the real folder when it is queued (when the scan
starts; when the path is reported, again at each report that re-arms the same scan) and makes the items match that
look when it completes. Reading the disk when the scan is queued, not when it ends, keeps lazily evaluated time honest:
nothing tells the emulator when a file appeared between two looks, so it never lists a file Jellyfin could not yet have
seen. Real-time monitoring of the folders is not emulated: a file nobody reports waits for the next scan.
"""

from __future__ import annotations

import functools
import os
import posixpath
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from seerbridge.sandbox.clock import VirtualClock
from seerbridge.sandbox.jellyfin_disk import DiskLook, apply_look, look_at
from seerbridge.sandbox.jellyfin_items import (
    SCAN_TASK_KEY,
    TYPE_NAMES,
    ItemKind,
    LibraryItem,
    MediaUpdate,
    TaskRecord,
    clean_name,
    default_tasks,
    jellyfin_guid,
    safe_name,
)
from seerbridge.sandbox.scenario import MediaSpec, Scenario

__all__ = [
    "SCAN_TASK_KEY",
    "JellyfinLibrary",
    "LibraryItem",
    "MediaUpdate",
    "TaskRecord",
    "clean_name",
    "jellyfin_guid",
]


@dataclass
class _Staged:
    path: str
    at: datetime
    apply: Callable[[], object]


def _under_folder(staged: _Staged, *, folder: str, due: datetime) -> bool:
    return staged.at <= due and staged.path.startswith(folder + "/")


class JellyfinLibrary:
    """Everything the Jellyfin emulator knows, plus the helpers tests use to inspect and change it.

    Knobs (plain attributes, change them freely): `api_keys` (valid tokens), `legacy_auth` (accept `X-Emby-Token`,
    `X-MediaBrowser-Token`, `api_key` and the `Emby` scheme), `version` (12 or later also reads `{tmdb-N}`-style ids
    in disk folder names), `server_name`, `scan_duration_s`, `monitor_delay_s`, `strm_width` (what probing a `.strm`
    URL of a disk library finds: its width, or None for no video stream; unset, nothing is found). `users` holds the
    Jellyfin users by id (one administrator, `admin_user_id`, to begin with).
    """

    def __init__(self, scenario: Scenario, clock: VirtualClock) -> None:
        self.scenario = scenario
        self.clock = clock
        server = scenario.jellyfin
        self.server_name = server.server_name
        self.version = server.version
        self.server_id = jellyfin_guid("server:" + server.server_name)
        self.legacy_auth = server.legacy_auth
        self.api_keys: set[str] = {scenario.keys["jellyfin"]}
        self.movies_root = server.movies_root.rstrip("/")
        self.shows_root = server.shows_root.rstrip("/")
        self.scan_duration_s = 5.0
        self.monitor_delay_s = 60.0
        self.items: dict[str, LibraryItem] = {}
        self.refreshes: list[datetime] = []
        self.media_updates: list[MediaUpdate] = []
        self.task_runs: list[str] = []
        self.scans_completed = 0
        self.tasks = default_tasks()
        self.users: dict[str, str] = {}
        self.admin_user_id = self.add_user("admin")
        self._staged: list[_Staged] = []
        self._scan_started: datetime | None = None
        self._folder_scans: dict[str, datetime] = {}
        self.strm_width: Callable[[str], int | None] | None = None
        self._disk_ids: list[str] = []  # CollectionFolders on a real disk, in the order they were added
        self._disk_scans: dict[str, tuple[datetime, DiskLook]] = {}  # scope → (due, what the report's look saw)
        self._scan_looks: list[DiskLook] = []  # what the running library scan saw of each disk library at its start
        self._settling = False
        # Called before a scan or a reported path looks at the disk: the sandbox puts newly downloaded files there.
        self.on_disk_look: Callable[[], None] = lambda: None
        now = clock.now()
        self.movies_folder = self._add(
            LibraryItem(
                id=jellyfin_guid(TYPE_NAMES["CollectionFolder"] + "/config/root/default/movies"),
                kind="CollectionFolder",
                name="Movies",
                parent_id=None,
                path=self.movies_root,
                date_created=now,
                collection_type="movies",
            )
        )
        self.shows_folder = self._add(
            LibraryItem(
                id=jellyfin_guid(TYPE_NAMES["CollectionFolder"] + "/config/root/default/shows"),
                kind="CollectionFolder",
                name="Shows",
                parent_id=None,
                path=self.shows_root,
                date_created=now,
                collection_type="tvshows",
            )
        )
        self._load(scenario)

    # ----- building -------------------------------------------------------------------------------------------

    def _load(self, scenario: Scenario) -> None:
        for entry in scenario.library:
            media = self._media(entry.tmdb_id)
            if media.type == "movie":
                self.add_movie(entry.tmdb_id, path=entry.path)
                continue
            self.add_series(entry.tmdb_id, path=entry.path)
            for season_no, wanted in sorted(entry.episodes.items()):
                if wanted == "all":
                    spec = media.season(season_no)
                    numbers: Iterable[int] = range(1, (spec.episodes if spec else 0) + 1)
                else:
                    numbers = wanted
                self.add_episodes(entry.tmdb_id, season_no, numbers)
            for season_no, numbers in sorted(entry.virtual_episodes.items()):
                for number in numbers:
                    self.add_virtual_episode(entry.tmdb_id, season_no, number)

    def _media(self, tmdb_id: int) -> MediaSpec:
        media = self.scenario.media_by_tmdb(tmdb_id)
        if media is None:
            raise KeyError(f"tmdb_id {tmdb_id} is not in the scenario's media")
        return media

    def _add(self, item: LibraryItem) -> LibraryItem:
        self.items[item.id] = item
        return item

    @staticmethod
    def _item_id(kind: ItemKind, key: str) -> str:
        return jellyfin_guid(TYPE_NAMES[kind] + key.lower())

    def _movie_path(self, media: MediaSpec) -> str:
        year = media.effective_year
        stem = safe_name(f"{media.title} ({year})" if year else media.title)
        return f"{self.movies_root}/{stem}/{stem}.mkv"

    def _series_path(self, media: MediaSpec) -> str:
        year = media.effective_year
        return f"{self.shows_root}/{safe_name(f'{media.title} ({year})' if year else media.title)}"

    @staticmethod
    def _episode_path(series_path: str, title: str, season: int, episode: int, episode_end: int | None) -> str:
        span = f"E{episode:02d}" + (f"-E{episode_end:02d}" if episode_end else "")
        return f"{series_path}/Season {season:02d}/{safe_name(title)} S{season:02d}{span}.mkv"

    @staticmethod
    def _provider_ids(media: MediaSpec, *, tvdb: bool) -> dict[str, str]:
        ids = {"Tmdb": str(media.tmdb_id)}
        if media.imdb_id:
            ids["Imdb"] = media.imdb_id
        if tvdb and media.tvdb_id is not None:
            ids["Tvdb"] = str(media.tvdb_id)
        return ids

    # ----- helpers for tests and later features ---------------------------------------------------------------

    def add_movie(
        self,
        tmdb_id: int,
        *,
        path: str | None = None,
        width: int = 1920,
        height: int = 1080,
        size: int = 4 * 1024**3,
        provider_ids: dict[str, str] | None = None,
    ) -> LibraryItem:
        """Put a movie of the scenario's media in the library now (a file Jellyfin has scanned)."""
        self.settle()
        media = self._media(tmdb_id)
        path = path or self._movie_path(media)
        return self._add(
            LibraryItem(
                id=self._item_id("Movie", path),
                kind="Movie",
                name=media.title,
                parent_id=self.movies_folder.id,
                path=path,
                date_created=self.clock.now(),
                provider_ids=dict(provider_ids) if provider_ids is not None else self._provider_ids(media, tvdb=False),
                production_year=media.effective_year,
                premiere_date=media.premiere,
                original_title=media.original_title,
                size=size,
                width=width,
                height=height,
                runtime_s=6600,
            )
        )

    def add_series(self, tmdb_id: int, *, path: str | None = None, separate: bool = False) -> LibraryItem:
        """The series folder for a show (created when missing; returned as is when present).

        `separate`: the folder at `path` is a Series item of its own even when the show has another folder, as
        Jellyfin makes one per folder (a second library, or a folder named differently).
        """
        self.settle()
        if separate and path is not None:
            existing = next((i for i in self.of_kind("Series") if i.path == path.rstrip("/")), None)
        else:
            existing = self.series_by_tmdb(tmdb_id)
        if existing is not None:
            return existing
        media = self._media(tmdb_id)
        path = (path or self._series_path(media)).rstrip("/")
        return self._add(
            LibraryItem(
                id=self._item_id("Series", path),
                kind="Series",
                name=media.title,
                parent_id=self.shows_folder.id,
                path=path,
                date_created=self.clock.now(),
                provider_ids=self._provider_ids(media, tvdb=True),
                production_year=media.effective_year,
                premiere_date=media.premiere,
                original_title=media.original_title,
            )
        )

    def _season(self, series: LibraryItem, number: int, *, virtual: bool) -> LibraryItem:
        for item in self.children(series.id):
            if item.kind == "Season" and item.index_number == number:
                if not virtual and item.virtual:
                    item.virtual = False
                    item.path = f"{series.path}/Season {number:02d}"
                return item
        name = "Specials" if number == 0 else f"Season {number}"
        path = None if virtual else f"{series.path}/Season {number:02d}"
        media = self.scenario.media_by_tmdb(int(series.provider_ids.get("Tmdb", "0")))
        spec = media.season(number) if media else None
        first_air = spec.air_date(1) if spec else None
        return self._add(
            LibraryItem(
                id=self._item_id("Season", path or f"{series.id}:season:{number}"),
                kind="Season",
                name=name,
                parent_id=series.id,
                path=path,
                date_created=self.clock.now(),
                index_number=number,
                series_id=series.id,
                series_name=series.name,
                premiere_date=first_air,
                production_year=first_air.year if first_air else None,
                virtual=virtual,
            )
        )

    def _episode(
        self,
        tmdb_id: int,
        season: int,
        episode: int,
        *,
        episode_end: int | None,
        path: str | None,
        virtual: bool,
        series_path: str | None = None,
    ) -> LibraryItem:
        series = self.add_series(tmdb_id, path=series_path, separate=series_path is not None)
        season_item = self._season(series, season, virtual=virtual)
        if not virtual:
            covered = set(range(episode, (episode_end or episode) + 1))
            for old in list(self.children(season_item.id)):
                if old.virtual and old.index_number in covered:
                    del self.items[old.id]
        media = self.scenario.media_by_tmdb(tmdb_id)
        spec = media.season(season) if media else None
        aired = spec.air_date(episode) if spec else None
        if not virtual:
            path = path or self._episode_path(series.path or "", series.name, season, episode, episode_end)
        key = path if path else f"{series.id}:virtual:{season}:{episode}"
        return self._add(
            LibraryItem(
                id=self._item_id("Episode", key),
                kind="Episode",
                name=spec.episode_title(episode) if spec else f"Episode {episode}",
                parent_id=season_item.id,
                path=path,
                date_created=self.clock.now(),
                premiere_date=aired,
                production_year=aired.year if aired else None,
                index_number=episode,
                index_number_end=episode_end,
                parent_index_number=season,
                series_id=series.id,
                series_name=series.name,
                season_id=season_item.id,
                season_name=season_item.name,
                virtual=virtual,
                size=None if virtual else 1024**3,
                width=None if virtual else 1920,
                height=None if virtual else 1080,
                runtime_s=None if virtual else 2700,
            )
        )

    def add_episode(
        self,
        tmdb_id: int,
        season: int,
        episode: int,
        *,
        episode_end: int | None = None,
        path: str | None = None,
        series_path: str | None = None,
    ) -> LibraryItem:
        """Put one episode file in the library now; `episode_end` makes it a multi-episode file (IndexNumberEnd).

        Virtual placeholders for the episodes it covers disappear, as they do when Jellyfin finds the file.
        `series_path` puts it in that folder of the show, a Series item of its own (see `add_series`).
        """
        self.settle()
        return self._episode(
            tmdb_id, season, episode, episode_end=episode_end, path=path, virtual=False, series_path=series_path
        )

    def add_episodes(
        self, tmdb_id: int, season: int, episodes: Iterable[int], *, series_path: str | None = None
    ) -> list[LibraryItem]:
        """Put several single-episode files of one season in the library now (`series_path` as for `add_episode`)."""
        return [self.add_episode(tmdb_id, season, number, series_path=series_path) for number in episodes]

    def add_virtual_episode(self, tmdb_id: int, season: int, episode: int) -> LibraryItem:
        """A missing-episode placeholder (LocationType Virtual, no Path)."""
        self.settle()
        return self._episode(tmdb_id, season, episode, episode_end=None, path=None, virtual=True)

    def remove(self, item_id: str) -> None:
        """Delete an item and everything under it (like `DELETE /Items/{id}` without touching files)."""
        doomed = [item_id, *(d.id for d in self.descendants(item_id))]
        for key in doomed:
            self.items.pop(key, None)

    def stage_movie(
        self, tmdb_id: int, *, path: str | None = None, width: int = 1920, height: int = 1080, size: int = 4 * 1024**3
    ) -> str:
        """A movie file appears on disk; Jellyfin lists it only after a scan (or a reported path) finds it."""
        path = path or self._movie_path(self._media(tmdb_id))
        self._stage(path, functools.partial(self.add_movie, tmdb_id, path=path, width=width, height=height, size=size))
        return path

    def stage_episodes(self, tmdb_id: int, season: int, episodes: Iterable[int]) -> list[str]:
        """Episode files appear on disk; they are listed after a scan (or a reported path) finds them."""
        media = self._media(tmdb_id)
        existing = self.series_by_tmdb(tmdb_id)
        series_path = existing.path if existing is not None and existing.path else self._series_path(media)
        paths = []
        for number in episodes:
            path = self._episode_path(series_path, media.title, season, number, None)
            self._stage(path, functools.partial(self.add_episode, tmdb_id, season, number, path=path))
            paths.append(path)
        return paths

    def _stage(self, path: str, apply: Callable[[], object]) -> None:
        self.settle()
        self._staged.append(_Staged(path, self.clock.now(), apply))

    @property
    def staged_paths(self) -> list[str]:
        return [s.path for s in self._staged]

    @property
    def refresh_count(self) -> int:
        """How many times `POST /Library/Refresh` was called."""
        return len(self.refreshes)

    @property
    def media_updated_paths(self) -> list[str]:
        """Every path received by `POST /Library/Media/Updated`, in order (dropped ones included)."""
        return [u.path for u in self.media_updates]

    def add_user(self, name: str) -> str:
        """A Jellyfin user (id in N format, derived from the name); returns the id."""
        user_id = jellyfin_guid("user:" + name)
        self.users[user_id] = name
        return user_id

    def latest(
        self, *, parent_id: str | None = None, include: Sequence[str] = (), limit: int = 20, group: bool = True
    ) -> list[tuple[LibraryItem, int]]:
        """What `GET /Items/Latest` lists (UserViewManager.GetLatestItems, 10.11): (item, ChildCount) pairs.

        Under `parent_id` (a folder; any other value means every library): files, not placeholders (or the kinds in
        `include`, folders too), newest `DateCreated` first, then SortName and year descending. A TV library with
        `group` keeps the `limit` shows with the newest episodes and everything since the oldest of those. With
        `group`, episodes of one series collapse into that series, which stands for them with ChildCount = how many
        (a lone episode stands for itself, ChildCount 0). At most `limit` entries.
        """
        self.settle()
        parent = self.items.get(parent_id) if parent_id else None
        parents = [parent] if parent is not None and parent.is_folder else self.libraries
        found: dict[str, LibraryItem] = {}
        for folder in parents:
            for item in self.descendants(folder.id):
                found[item.id] = item

        def wanted(item: LibraryItem) -> bool:
            if item.virtual:
                return False
            return item.kind in include if include else not item.is_folder and item.media_type == "Video"

        candidates = sorted(
            (i for i in found.values() if wanted(i)),
            key=lambda i: (i.date_created, i.sort_name, i.production_year or 0),
            reverse=True,
        )
        collection = next((p.collection_type for p in parents if p.collection_type), None)
        if group and collection == "tvshows":
            newest: dict[str, datetime] = {}
            for item in candidates:
                key = item.series_name or item.name
                newest[key] = max(newest.get(key, item.date_created), item.date_created)
            shows = sorted(newest.values(), reverse=True)[: max(limit, 0)]
            chosen = [i for i in candidates if shows and i.date_created >= min(shows)]
        else:
            chosen = candidates[: max(limit, 0) * 5]
        groups: list[tuple[LibraryItem | None, list[LibraryItem]]] = []
        for item in chosen:
            container = self.items.get(item.series_id or "") if group and item.kind == "Episode" else None
            if container is None:
                groups.append((None, [item]))
            else:
                same = next((g for g in groups if g[0] is not None and g[0].id == container.id), None)
                if same is not None:
                    same[1].append(item)
                else:
                    groups.append((container, [item]))
            if len(groups) >= limit:
                break
        return [(head, len(members)) if head and len(members) > 1 else (members[0], 0) for head, members in groups]

    # ----- libraries on a real disk ------------------------------------------------------------------------------

    def add_disk_library(
        self, name: str, collection_type: Literal["movies", "tvshows"], location: str | os.PathLike[str]
    ) -> LibraryItem:
        """A library whose folder is the real directory `location`; its items come from scans of that folder.

        Names are unique, case-blind, as Jellyfin's AddVirtualFolder wants (ValueError otherwise). The folder is not
        looked at now: like a library added in Jellyfin's dashboard, it fills at the next scan.
        """
        self.settle()
        if any(folder.name.lower() == name.lower() for folder in self.libraries):
            raise ValueError(f"A media library with the name {name} already exists.")
        item = self._add(
            LibraryItem(
                id=self._item_id("CollectionFolder", f"/config/root/default/{name}"),
                kind="CollectionFolder",
                name=name,
                parent_id=None,
                path=os.path.abspath(os.fspath(location)),
                date_created=self.clock.now(),
                collection_type=collection_type,
            )
        )
        self._disk_ids.append(item.id)
        return item

    def rename_library(self, item_id: str, name: str) -> LibraryItem:
        """Rename a library (dashboard → Libraries → Rename). Its id follows the name, as the CollectionFolder's path
        (`<config>/root/default/<name>`) does, and its children move with it."""
        self.settle()
        folder = self.items[item_id]
        if any(f.name.lower() == name.lower() and f.id != item_id for f in self.libraries):
            raise ValueError(f"A media library with the name {name} already exists.")
        new_id = self._item_id("CollectionFolder", f"/config/root/default/{name}")
        for child in self.children(item_id):
            child.parent_id = new_id
        folder.id, folder.name = new_id, name
        self.items = {(new_id if key == item_id else key): item for key, item in self.items.items()}
        self._disk_ids = [new_id if key == item_id else key for key in self._disk_ids]
        return folder

    @property
    def libraries(self) -> list[LibraryItem]:
        """Every library (CollectionFolder), the scenario's two first."""
        return [i for i in self.items.values() if i.kind == "CollectionFolder"]

    @property
    def disk_libraries(self) -> list[LibraryItem]:
        return [self.items[key] for key in self._disk_ids if key in self.items]

    @property
    def reads_id_aliases(self) -> bool:
        """Jellyfin 12.0 reads `{tmdb-N}`, `(tvdb=N)` and `[imdb-tt…]` besides `[tmdbid-N]` (PathExtensions)."""
        major = re.match(r"\d+", self.version)
        return major is not None and int(major.group(0)) >= 12

    def in_disk_library(self, item: LibraryItem) -> bool:
        """True when the item lies under a disk library."""
        seen = item
        while seen.parent_id is not None and seen.parent_id in self.items:
            seen = self.items[seen.parent_id]
        return seen.id in self._disk_ids

    def _disk_library_of(self, path: str) -> LibraryItem | None:
        return next(
            (f for f in self.disk_libraries if f.path and (path == f.path or path.startswith(f.path + "/"))), None
        )

    def _disk_scope(self, folder: LibraryItem, path: str) -> str:
        """What a reported path makes Jellyfin refresh (FileRefresher.GetAffectedBaseItem): the item at that path or
        the nearest item above it, moved up while its path no longer exists; a new movie's nearest item is the library
        itself (movie items are files, their folders are not items)."""
        known = {i.path for i in self.descendants(folder.id) if i.path}
        scope = path
        while scope != folder.path and not (scope in known and os.path.exists(scope)):
            scope = posixpath.dirname(scope)
        return scope

    def _queue_disk_scan(self, folder: LibraryItem, scope: str, due: datetime) -> None:
        """Debounce as LibraryMonitor's refreshers do: a path inside a pending scope re-arms it, a path above pending
        scopes takes them over. The look is taken now (see the module's docstring)."""
        for pending in list(self._disk_scans):
            if scope == pending or scope.startswith(pending + "/"):
                scope = pending
                break
            if pending.startswith(scope + "/"):
                del self._disk_scans[pending]
        look = look_at(folder, scope)
        if look is not None:
            self._disk_scans[scope] = (due, look)

    def _run_disk_scans(self, until: datetime) -> None:
        for scope, (due, look) in sorted(self._disk_scans.items(), key=lambda kv: kv[1][0]):
            if due <= until:
                del self._disk_scans[scope]
                apply_look(self, look, due)

    # ----- lookups --------------------------------------------------------------------------------------------

    def get(self, item_id: str) -> LibraryItem | None:
        return self.items.get(item_id)

    def of_kind(self, kind: ItemKind) -> list[LibraryItem]:
        return [i for i in self.items.values() if i.kind == kind]

    def children(self, parent_id: str) -> list[LibraryItem]:
        return [i for i in self.items.values() if i.parent_id == parent_id]

    def descendants(self, parent_id: str) -> Iterator[LibraryItem]:
        for child in self.children(parent_id):
            yield child
            yield from self.descendants(child.id)

    def movie_by_tmdb(self, tmdb_id: int) -> LibraryItem | None:
        return next((i for i in self.of_kind("Movie") if i.provider_ids.get("Tmdb") == str(tmdb_id)), None)

    def series_by_tmdb(self, tmdb_id: int) -> LibraryItem | None:
        return next((i for i in self.of_kind("Series") if i.provider_ids.get("Tmdb") == str(tmdb_id)), None)

    def all_series_by_tmdb(self, tmdb_id: int) -> list[LibraryItem]:
        """Every Series item of a show: Jellyfin makes one per folder (another library, a folder named otherwise)."""
        return [i for i in self.of_kind("Series") if i.provider_ids.get("Tmdb") == str(tmdb_id)]

    def episodes_of(self, series_id: str, *, include_virtual: bool = True) -> list[LibraryItem]:
        episodes = [i for i in self.of_kind("Episode") if i.series_id == series_id]
        episodes = [e for e in episodes if include_virtual or not e.virtual]
        return sorted(episodes, key=lambda e: (e.parent_index_number or 0, e.index_number or 0))

    def has_episode(self, tmdb_id: int, season: int, episode: int) -> bool:
        """True when a file (not a placeholder) covers that episode."""
        series = self.series_by_tmdb(tmdb_id)
        if series is None:
            return False
        for item in self.episodes_of(series.id, include_virtual=False):
            first = item.index_number
            last = item.index_number_end or first
            if (
                item.parent_index_number == season
                and first is not None
                and last is not None
                and first <= episode <= last
            ):
                return True
        return False

    # ----- scans, reported paths and tasks --------------------------------------------------------------------

    @property
    def scan_running(self) -> bool:
        self.settle()
        return self._scan_started is not None

    def scan_progress(self) -> float | None:
        """Percent done of the running scan, or None when idle."""
        if self._scan_started is None:
            return None
        done = (self.clock.now() - self._scan_started).total_seconds()
        return min(100.0, 100.0 * done / self.scan_duration_s) if self.scan_duration_s > 0 else 100.0

    def task(self, key: str) -> TaskRecord:
        return next(t for t in self.tasks if t.key == key)

    def request_refresh(self) -> None:
        """`POST /Library/Refresh`: cancel a running scan and queue a new one (CancelIfRunningAndQueue)."""
        self.refreshes.append(self.clock.now())
        self.start_scan()

    def start_scan(self) -> None:
        self.on_disk_look()
        self.settle()
        now = self.clock.now()
        scan = self.task(SCAN_TASK_KEY)
        if self._scan_started is not None:
            scan.last_start, scan.last_end, scan.last_status = self._scan_started, now, "Cancelled"
        self._scan_started = now
        # The scan reads every disk library; what it saw is listed when it completes.
        self._scan_looks = [look for f in self.disk_libraries if (look := look_at(f, f.path or "")) is not None]
        self.settle()

    def run_task(self, task_id: str) -> bool:
        """`POST /ScheduledTasks/Running/{id}`: False when no task has that id."""
        self.settle()
        match = next((t for t in self.tasks if t.id == task_id.lower()), None)
        if match is None:
            return False
        self.task_runs.append(match.key)
        if match.key == SCAN_TASK_KEY:
            self.start_scan()
        else:
            now = self.clock.now()
            match.last_start, match.last_end, match.last_status = now, now, "Completed"
        return True

    def report_paths(self, updates: Iterable[tuple[str, str | None]]) -> None:
        """`POST /Library/Media/Updated`: each known path inside a library queues a debounced folder scan."""
        self.on_disk_look()
        self.settle()
        now = self.clock.now()
        for path, update_type in updates:
            clean = path.rstrip("/") or "/"
            disk = self._disk_library_of(clean)
            if disk is not None:
                # Jellyfin drops no path inside a library, existing or not: a removed file's path makes it refresh
                # the nearest item that still exists.
                self.media_updates.append(MediaUpdate(path, update_type, now, True))
                self._queue_disk_scan(
                    disk, self._disk_scope(disk, clean), now + timedelta(seconds=self.monitor_delay_s)
                )
                continue
            accepted = self._inside_library(clean) and self._exists(clean)
            self.media_updates.append(MediaUpdate(path, update_type, now, accepted))
            if accepted:
                folder = posixpath.dirname(clean)
                self._folder_scans[folder] = now + timedelta(seconds=self.monitor_delay_s)
        self.settle()

    def _inside_library(self, path: str) -> bool:
        return any(path.startswith(root + "/") for root in (self.movies_root, self.shows_root))

    def _exists(self, path: str) -> bool:
        known = [s.path for s in self._staged] + [i.path for i in self.items.values() if i.path]
        return any(p == path or p.startswith(path + "/") for p in known)

    def settle(self) -> None:
        """Bring the library up to the clock: finish due scans and add the staged files they find."""
        if self._settling:
            return
        self._settling = True
        try:
            self._settle(self.clock.now())
        finally:
            self._settling = False

    def _settle(self, now: datetime) -> None:
        for folder, due in sorted(self._folder_scans.items(), key=lambda kv: kv[1]):
            if due <= now:
                del self._folder_scans[folder]
                self._materialize(functools.partial(_under_folder, folder=folder, due=due))
        if self._scan_started is not None:
            end = self._scan_started + timedelta(seconds=self.scan_duration_s)
            if end <= now:
                self._run_disk_scans(until=end)  # reported paths due before the scan ended, in time order
                started = self._scan_started
                self._scan_started = None
                self._materialize(lambda s: s.at <= started)
                looks, self._scan_looks = self._scan_looks, []
                for look in looks:
                    apply_look(self, look, end)
                scan = self.task(SCAN_TASK_KEY)
                scan.last_start, scan.last_end, scan.last_status = started, end, "Completed"
                self.scans_completed += 1
        self._run_disk_scans(until=now)

    def _materialize(self, found: Callable[[_Staged], bool]) -> None:
        hits = [s for s in self._staged if found(s)]
        self._staged = [s for s in self._staged if s not in hits]
        for staged in hits:
            staged.apply()
