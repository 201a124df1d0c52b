"""All four emulators built from one scenario and one virtual clock, reachable in-process or on loopback."""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Literal

import httpx
from fastapi import FastAPI

from seerbridge.sandbox.clock import VirtualClock
from seerbridge.sandbox.middleware import SandboxControl
from seerbridge.sandbox.scenario import Scenario

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

    def control(self, service: ServiceName) -> SandboxControl:
        control: SandboxControl = self.apps[service].state.sandbox
        return control

    def transport(self, service: ServiceName) -> httpx.ASGITransport:
        return httpx.ASGITransport(app=self.apps[service])

    def base_urls(self, hosts: dict[ServiceName, str] | None = None) -> dict[ServiceName, str]:
        """Base URLs as seerbridge's settings want them; `hosts` maps a service to `http://127.0.0.1:PORT`."""
        hosts = hosts or {name: f"http://{name}.sandbox" for name in SERVICES}
        return {name: hosts[name] + BASE_PATHS[name] for name in SERVICES}

    def env(self, hosts: dict[ServiceName, str] | None = None) -> dict[str, str]:
        """The SEERBRIDGE_* variables that point seerbridge at these emulators."""
        urls = self.base_urls(hosts)
        keys = self.scenario.keys
        return {
            "SEERBRIDGE_SEERR__URL": urls["seerr"],
            "SEERBRIDGE_SEERR__API_KEY": keys["seerr"],
            "SEERBRIDGE_JELLYFIN__URL": urls["jellyfin"],
            "SEERBRIDGE_JELLYFIN__API_KEY": keys["jellyfin"],
            "SEERBRIDGE_TORRENTIO__URL": urls["torrentio"],
            "SEERBRIDGE_REALDEBRID__URL": urls["realdebrid"],
            "SEERBRIDGE_REALDEBRID__API_KEY": keys["realdebrid"],
        }
