"""All four emulators built from one scenario and one virtual clock, reachable in-process or on loopback."""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Literal

import httpx
from fastapi import FastAPI

from seerbridge import clock
from seerbridge.sandbox.clock import VirtualClock
from seerbridge.sandbox.jellyfin_library import JellyfinLibrary
from seerbridge.sandbox.middleware import SandboxControl
from seerbridge.sandbox.realdebrid_state import RealDebridState
from seerbridge.sandbox.scenario import LibraryEntry, Scenario
from seerbridge.sandbox.seerr_state import SeerrState

ServiceName = Literal["seerr", "jellyfin", "torrentio", "realdebrid"]
SERVICES: tuple[ServiceName, ...] = ("seerr", "jellyfin", "torrentio", "realdebrid")

# The path each service's base URL carries after host:port.
TORRENTIO_CONFIG = "sort=qualitysize|qualityfilter=480p,scr,cam"
BASE_PATHS: dict[ServiceName, str] = {
    "seerr": "",
    "jellyfin": "",
    "torrentio": "/" + TORRENTIO_CONFIG,
    "realdebrid": "/rest/1.0",
}


class Sandbox:
    """The emulated world: one FastAPI app per service, sharing a scenario and a clock."""

    def __init__(self, scenario: Scenario, clock: VirtualClock | None = None) -> None:
        from seerbridge.sandbox import jellyfin, realdebrid, seerr, torrentio

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
        }
        # A Jellyfin scan job run in Seerr reads the Jellyfin emulator's library, as the real Seerr would.
        self.seerr_state.on_scan = self._scan_into_seerr

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

    def _scan_into_seerr(self, _job_id: str) -> None:
        self.seerr_state.apply_library(self.library_entries())

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
            episodes: dict[int, list[int]] = {}
            for item in library.episodes_of(series.id, include_virtual=False):
                if item.parent_index_number is None or item.index_number is None:
                    continue
                last = item.index_number_end or item.index_number
                episodes.setdefault(item.parent_index_number, []).extend(range(item.index_number, last + 1))
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

    def overrides(self, hosts: dict[ServiceName, str] | None = None) -> dict[str, dict[str, str]]:
        """Settings values (by section) that point seerbridge at these emulators."""
        urls = self.base_urls(hosts)
        keys = self.scenario.keys
        return {
            "seerr": {"url": urls["seerr"], "api_key": keys["seerr"]},
            "jellyfin": {"url": urls["jellyfin"], "api_key": keys["jellyfin"]},
            "torrentio": {"url": urls["torrentio"]},
            "realdebrid": {"url": urls["realdebrid"], "api_key": keys["realdebrid"]},
        }

    def env(self, hosts: dict[ServiceName, str] | None = None) -> dict[str, str]:
        """The SEERBRIDGE_* variables that point seerbridge at these emulators, and its clock at theirs (a process
        started with them reads the scenario's time from then on, at real speed)."""
        urls = {
            f"SEERBRIDGE_{section.upper()}__{key.upper()}": value
            for section, values in self.overrides(hosts).items()
            for key, value in values.items()
        }
        return urls | clock.as_env(self.clock)
