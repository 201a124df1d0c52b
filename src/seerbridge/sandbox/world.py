"""All four emulators built from one scenario and one virtual clock, reachable in-process or on loopback.

Two real directories can join the world. `mount_dir` stands in for a zurg mount of the Real-Debrid account
(`realdebrid_mount.py`): it is brought up to date whenever something could look at it — every Real-Debrid API call
and state helper (`RealDebridState.on_look`), every time Jellyfin looks at its disk, and `Sandbox.sync_mount()` —
so a pure clock advance with nobody looking leaves it as it was (tests that look at the directory directly after
advancing the clock call `sync_mount()` first). `library_root` gives Jellyfin four libraries on disk
("Movies", "Shows", "Movies 4K", "Shows 4K" over `movies/`, `shows/`, `movies-4k/`, `shows-4k/`) that list only what
seerbridge writes there; the scenario's own two libraries stay, renamed "Movies (existing)" and "Shows (existing)".
Without `library_root`, downloaded scenario releases appear straight in the scenario's libraries, as before.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, time
from pathlib import Path
from typing import Any, Literal

import httpx
from fastapi import FastAPI

from seerbridge import clock
from seerbridge.sandbox.clock import VirtualClock
from seerbridge.sandbox.jellyfin_library import JellyfinLibrary
from seerbridge.sandbox.middleware import SandboxControl
from seerbridge.sandbox.realdebrid_mount import MountDir
from seerbridge.sandbox.realdebrid_state import RealDebridState
from seerbridge.sandbox.realdebrid_torrent import is_video
from seerbridge.sandbox.scenario import LibraryEntry, Scenario
from seerbridge.sandbox.seerr_state import SeerrState

_EPISODE = re.compile(r"S(\d{1,2})E(\d{1,3})", re.IGNORECASE)

ServiceName = Literal["seerr", "jellyfin", "torrentio", "realdebrid", "torznab", "zilean"]
SERVICES: tuple[ServiceName, ...] = ("seerr", "jellyfin", "torrentio", "realdebrid", "torznab", "zilean")
"""Every emulator the world serves; the settings name the Torznab indexer and Zilean only when the scenario's
`sources` lists them (as sources of the same names)."""

# The path each service's base URL carries after host:port.
TORRENTIO_CONFIG = "sort=qualitysize|qualityfilter=480p,scr,cam"
BASE_PATHS: dict[ServiceName, str] = {
    "seerr": "",
    "jellyfin": "",
    "torrentio": "/" + TORRENTIO_CONFIG,
    "realdebrid": "/rest/1.0",
    "torznab": "/api",
    "zilean": "",
}

# Jellyfin's libraries in a world with a library root: (name, collection type, folder under the root).
DISK_LIBRARIES: tuple[tuple[str, Literal["movies", "tvshows"], str], ...] = (
    ("Movies", "movies", "movies"),
    ("Shows", "tvshows", "shows"),
    ("Movies 4K", "movies", "movies-4k"),
    ("Shows 4K", "tvshows", "shows-4k"),
)


class Sandbox:
    """The emulated world: one FastAPI app per service, sharing a scenario and a clock."""

    def __init__(
        self,
        scenario: Scenario,
        clock: VirtualClock | None = None,
        *,
        library_root: Path | None = None,
        mount_dir: Path | None = None,
    ) -> None:
        from seerbridge.sandbox import jellyfin, realdebrid, seerr, torrentio, torznab, zilean

        if clock is None:
            start = datetime.combine(scenario.today, time(12, 0), tzinfo=UTC) if scenario.today else None
            clock = VirtualClock(start)
        self.scenario = scenario
        self.clock = clock
        self.apps: dict[ServiceName, FastAPI] = {
            "seerr": seerr.create_app(scenario, clock),
            "jellyfin": jellyfin.create_app(scenario, clock),
            "torrentio": torrentio.create_app(scenario, clock),
            "realdebrid": realdebrid.create_app(scenario, clock),
            "torznab": torznab.create_app(scenario, clock),
            "zilean": zilean.create_app(scenario, clock),
        }
        # A Jellyfin scan job run in Seerr reads the Jellyfin emulator's library, as the real Seerr would.
        self.seerr_state.on_scan = self._scan_into_seerr
        self._mounted: set[str] = set()  # Real-Debrid torrent ids whose files are on Jellyfin's disk
        self.library_root = Path(library_root) if library_root is not None else None
        self.mount = MountDir(self.realdebrid_state, mount_dir) if mount_dir is not None else None
        if self.mount is not None:
            self.realdebrid_state.on_look = self.mount.sync
            self.mount.sync()
        root = self.library_root
        if root is None:
            # Before Jellyfin looks at its disk, the user's Real-Debrid mount (zurg + rclone) shows what is downloaded.
            self.jellyfin_state.on_disk_look = self._look_at_disk
            return
        # Jellyfin sees only what seerbridge writes under the library root (and the scenario's existing libraries).
        jellyfin_state = self.jellyfin_state
        jellyfin_state.on_disk_look = self.sync_mount
        jellyfin_state.rename_library(jellyfin_state.movies_folder.id, "Movies (existing)")
        jellyfin_state.rename_library(jellyfin_state.shows_folder.id, "Shows (existing)")
        for name, collection_type, folder in DISK_LIBRARIES:
            (root / folder).mkdir(parents=True, exist_ok=True)
            jellyfin_state.add_disk_library(name, collection_type, root / folder)

    def sync_mount(self) -> None:
        """Bring the mount directory (if any) up to the Real-Debrid account as it is now."""
        if self.mount is not None:
            self.mount.sync()

    def _look_at_disk(self) -> None:
        self.sync_mount()
        self._mount_downloads()

    @property
    def seerr_state(self) -> SeerrState:
        state: SeerrState = self.apps["seerr"].state.emulator
        return state

    @property
    def jellyfin_state(self) -> JellyfinLibrary:
        state: JellyfinLibrary = self.apps["jellyfin"].state.emulator
        return state

    @property
    def realdebrid_state(self) -> RealDebridState:
        state: RealDebridState = self.apps["realdebrid"].state.emulator
        return state

    def _scan_into_seerr(self, job_id: str) -> None:
        """Seerr's Jellyfin scan: the full scan reads every library item; the recently-added one only what
        `GET /Items/Latest?Limit=12&ParentId=<library>&userId=<admin>` lists per library, each title then read in full
        (server/lib/scanners/jellyfin, server/api/jellyfin.ts `getRecentlyAdded`)."""
        self.jellyfin_state.settle()  # Seerr reads Jellyfin over HTTP, which brings Jellyfin up to the clock
        entries = self.library_entries()
        if job_id == "jellyfin-recently-added-scan":
            recent = self._recently_added_tmdb_ids()
            entries = [entry for entry in entries if entry.tmdb_id in recent]
        self.seerr_state.apply_library(entries)

    def _recently_added_tmdb_ids(self) -> set[int]:
        library = self.jellyfin_state
        found: set[int] = set()
        for folder in library.libraries:
            for item, _count in library.latest(parent_id=folder.id, limit=12):
                # processItem reads `SeriesId ?? SeasonId ?? Id`, i.e. the show for an episode or a season.
                title = library.get(item.series_id or item.season_id or item.id) or item
                tmdb = title.provider_ids.get("Tmdb", "")
                if tmdb.isdigit():
                    found.add(int(tmdb))
        return found

    def _mount_downloads(self) -> None:
        """The mount as the sandbox models it: every downloaded torrent of a scenario release puts its selected
        video files on Jellyfin's disk, in the library of its kind, under the torrent's name (as zurg's per-kind
        folders do). Jellyfin lists them once a scan finds them; a title already in the library is left alone."""
        rd, library = self.realdebrid_state, self.jellyfin_state
        releases = {r.info_hash: r for r in self.scenario.releases}
        for torrent in rd.listing():
            release = releases.get(torrent.hash)
            if torrent.id in self._mounted or release is None or rd.snapshot(torrent).status != "downloaded":
                continue
            media = next((m for m in self.scenario.media if m.imdb_id == release.imdb_id), None)
            if media is None:
                continue
            self._mounted.add(torrent.id)
            videos = [torrent.files[i - 1] for i in torrent.selected if is_video(torrent.files[i - 1].path)]
            if media.type == "movie":
                if videos and library.movie_by_tmdb(media.tmdb_id) is None:
                    largest = max(videos, key=lambda f: f.size)
                    library.stage_movie(media.tmdb_id, path=f"{library.movies_root}/{torrent.name}/{largest.path}")
                continue
            by_season: dict[int, set[int]] = {}
            for video in videos:
                found = _EPISODE.search(video.path)
                if found:
                    by_season.setdefault(int(found[1]), set()).add(int(found[2]))
            for season, episodes in sorted(by_season.items()):
                new = [e for e in sorted(episodes) if not library.has_episode(media.tmdb_id, season, e)]
                if new:
                    library.stage_episodes(media.tmdb_id, season, new)

    def library_entries(self) -> list[LibraryEntry]:
        """What the Jellyfin emulator holds now, in scenario terms (files only, no placeholders)."""
        library = self.jellyfin_state
        entries: list[LibraryEntry] = []
        for media in self.scenario.media:
            if media.type == "movie":
                if library.movie_by_tmdb(media.tmdb_id) is not None:
                    entries.append(LibraryEntry(tmdb_id=media.tmdb_id))
                continue
            series = library.series_by_tmdb(media.tmdb_id)
            if series is None:
                continue
            # The show's folders in disk libraries count too (each is a Series item of its own).
            folders = [series, *(s for s in library.all_series_by_tmdb(media.tmdb_id) if library.in_disk_library(s))]
            episodes: dict[int, list[int]] = {}
            for index, folder in enumerate({s.id: s for s in folders}.values()):
                for item in library.episodes_of(folder.id, include_virtual=False):
                    if item.parent_index_number is None or item.index_number is None:
                        continue
                    last = item.index_number_end or item.index_number
                    numbers = episodes.setdefault(item.parent_index_number, [])
                    span = range(item.index_number, last + 1)
                    numbers.extend(span if index == 0 else (n for n in span if n not in numbers))
            entries.append(LibraryEntry(tmdb_id=media.tmdb_id, episodes=dict(episodes)))
        return entries

    def control(self, service: ServiceName) -> SandboxControl:
        control: SandboxControl = self.apps[service].state.sandbox
        return control

    def transport(self, service: ServiceName) -> httpx.ASGITransport:
        return httpx.ASGITransport(app=self.apps[service])

    def base_urls(self, hosts: dict[ServiceName, str] | None = None) -> dict[ServiceName, str]:
        """Base URLs as seerbridge's settings want them; `hosts` maps a service to `http://127.0.0.1:PORT`."""
        hosts = hosts or {name: f"http://{name}.sandbox" for name in SERVICES}
        return {name: hosts[name] + BASE_PATHS[name] for name in SERVICES}

    def overrides(self, hosts: dict[ServiceName, str] | None = None) -> dict[str, dict[str, Any]]:
        """Settings values (by section) that point seerbridge at these emulators; `sources` names those the
        scenario lists, each as a source of its own name."""
        urls = self.base_urls(hosts)
        keys = self.scenario.keys
        values: dict[str, dict[str, Any]] = {
            "seerr": {"url": urls["seerr"], "api_key": keys["seerr"]},
            "jellyfin": {"url": urls["jellyfin"], "api_key": keys["jellyfin"]},
            "torrentio": {"url": urls["torrentio"]},
            "realdebrid": {"url": urls["realdebrid"], "api_key": keys["realdebrid"]},
        }
        sources: dict[str, Any] = {}
        for name in self.scenario.sources:
            source: dict[str, Any] = {"kind": name, "url": urls[name]}
            if name == "torznab":
                source["api_key"] = keys["torznab"]
            sources[name] = source
        if sources:
            values["sources"] = sources
        return values

    def env(self, hosts: dict[ServiceName, str] | None = None) -> dict[str, str]:
        """The SEERBRIDGE_* variables that point seerbridge at these emulators, and its clock at theirs (a process
        started with them reads the scenario's time from then on, at real speed)."""
        urls: dict[str, str] = {}

        def flatten(prefix: str, values: dict[str, Any]) -> None:
            for key, value in values.items():
                if isinstance(value, dict):
                    flatten(f"{prefix}__{key.upper()}", value)
                else:
                    urls[f"{prefix}__{key.upper()}"] = str(value)

        for section, values in self.overrides(hosts).items():
            flatten(f"SEERBRIDGE_{section.upper()}", values)
        return urls | clock.as_env(self.clock)
