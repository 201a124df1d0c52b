"""Counts of calls per service and endpoint, and of other named events (search cache hits, ...): a plain value the
services fill in and the store records."""

from __future__ import annotations

from collections import Counter
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
