"""The services' condition as the bridge sees it: up, down (breaker open), trying, or paused, kept in the store for
`seerbridge status` and shown by `/healthz`; and how long work must wait for a service that failed as down."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import structlog
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from seerbridge import clock
from seerbridge.errors import RateLimited, ServiceError
from seerbridge.redact import redact
from seerbridge.services.breaker import CircuitOpen
from seerbridge.services.budget import SlotGate
from seerbridge.services.bundle import Services
from seerbridge.services.http import Paused
from seerbridge.store import repo

log = structlog.get_logger("seerbridge.health")

SERVICE_NAMES = ("seerr", "jellyfin", "torrentio", "realdebrid")


class ServiceHealth:
    """Reads the clients' breakers and pauses (and Real-Debrid's download slots); writes what changed."""

    def __init__(self, services: Services, sessions: async_sessionmaker[AsyncSession], slots: SlotGate) -> None:
        self.services = services
        self.sessions = sessions
        self.slots = slots
        self._written: dict[str, Any] | None = None

    def view(self) -> dict[str, dict[str, Any]]:
        """Each service's condition: `state` up / down / trying / paused, `until` (ISO, UTC) and a `summary`."""
        out: dict[str, dict[str, Any]] = {}
        now = clock.now()
        clients = {name: getattr(self.services, name) for name in SERVICE_NAMES} | dict(self.services.sources)
        for name, client in clients.items():
            view = client.breaker.view()
            state, until, summary = "up", None, "up"
            if view.down:
                state = "down" if view.until is not None else "trying"
                until = view.until.isoformat(timespec="seconds") if view.until else None
                summary = view.describe()
            elif client.paused_for > 0:
                state = "paused"
                until = (now + timedelta(seconds=client.paused_for)).isoformat(timespec="seconds")
                summary = f"paused until {until} ({client.pause_reason})"
            out[name] = {"state": state, "until": until, "summary": summary}
        slots = self.slots.describe()
        if slots is not None and out["realdebrid"]["state"] == "up":
            out["realdebrid"]["summary"] = f"up; {slots}"
        return out

    def details(self) -> dict[str, Any]:
        return {"services": {name: view["summary"] for name, view in self.view().items()}}

    async def record(self) -> None:
        """Keep the services' condition in the store (`app_state` "services") when it changed."""
        health = self.view()
        if health == self._written:
            return
        payload = {"as_of": clock.now().isoformat(timespec="seconds"), "services": health}
        try:
            async with self.sessions.begin() as session:
                await repo.set_state(session, "services", json.dumps(payload))
        except SQLAlchemyError as exc:  # only `status` reads it: never worth failing the work for
            log.warning("could not record the services' condition", error=redact(str(exc)))
            return
        self._written = health

    def down_for(self, exc: ServiceError) -> float | None:
        """Seconds until the service behind `exc` may be called again, when it failed as "down or paused"."""
        if isinstance(exc, CircuitOpen):
            return exc.retry_after
        if isinstance(exc, Paused) or (isinstance(exc, RateLimited) and exc.error == "daily_budget"):
            return exc.retry_after
        client = getattr(self.services, exc.service, None) or self.services.sources.get(exc.service)
        if exc.retryable and client is not None and client.breaker.view().down:
            return float(client.breaker.open_for)  # this outage was the one that opened the breaker
        return None
