"""Counts of calls per service and endpoint, and of other named events (search cache hits, ...), attributable to the
work in progress through contextvars."""

from __future__ import annotations

import contextlib
import contextvars
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field


@dataclass
class CallLedger:
    """Counts calls by (service, endpoint); every HTTP attempt counts, since each one spends budget.

    `events` counts things that are not calls (a search answered from the cache, ...), by name.
    """

    counts: Counter[tuple[str, str]] = field(default_factory=Counter)
    events: Counter[str] = field(default_factory=Counter)

    def record(self, service: str, endpoint: str) -> None:
        self.counts[(service, endpoint)] += 1

    def note(self, name: str, n: int = 1) -> None:
        self.events[name] += n

    def total(self, service: str | None = None) -> int:
        return sum(n for (svc, _), n in self.counts.items() if service is None or svc == service)

    def by_endpoint(self, service: str) -> dict[str, int]:
        return {ep: n for (svc, ep), n in sorted(self.counts.items()) if svc == service}

    def as_dict(self) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = {}
        for (svc, ep), n in sorted(self.counts.items()):
            out.setdefault(svc, {})[ep] = n
        return out


_active: contextvars.ContextVar[tuple[CallLedger, ...]] = contextvars.ContextVar("seerbridge_ledgers", default=())


@contextlib.contextmanager
def attribute_calls(ledger: CallLedger) -> Iterator[CallLedger]:
    """Within this block (and tasks started from it) every call is also counted in `ledger`."""
    token = _active.set((*_active.get(), ledger))
    try:
        yield ledger
    finally:
        _active.reset(token)


@contextlib.contextmanager
def attribute_only(ledger: CallLedger) -> Iterator[CallLedger]:
    """Within this block calls count in `ledger` alone: shared work (listing an account) that serves many requests."""
    token = _active.set((ledger,))
    try:
        yield ledger
    finally:
        _active.reset(token)


def active_ledgers() -> tuple[CallLedger, ...]:
    return _active.get()


def note_event(name: str, n: int = 1) -> None:
    """Count an event on every active ledger, as calls are (a no-op outside any `attribute_*` block)."""
    for ledger in active_ledgers():
        ledger.note(name, n)
