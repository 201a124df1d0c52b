"""What every service client shares: one `ServiceHttp`, its call ledger, and closing with `async with`."""

from __future__ import annotations

from typing import Self

from seerbridge.services.breaker import CircuitBreaker
from seerbridge.services.calls import CallLedger
from seerbridge.services.http import ServiceHttp


class ServiceClient:
    """Base of the four clients; subclasses build their `ServiceHttp` and pass it here."""

    def __init__(self, http: ServiceHttp) -> None:
        self._http = http

    @property
    def ledger(self) -> CallLedger:
        """Calls this client made, by endpoint (every attempt counts)."""
        return self._http.ledger

    @property
    def breaker(self) -> CircuitBreaker:
        """This service's circuit breaker: open while the service is taken for down."""
        return self._http.breaker

    @property
    def paused_for(self) -> float:
        """Seconds left in a pause after a 429 or an account limit (0 when not paused)."""
        return self._http.paused_for

    @property
    def pause_reason(self) -> str:
        return self._http.pacer.pause_reason

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
