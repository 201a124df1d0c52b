"""What a service's self-check reports, for `seerbridge doctor`."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ServiceCheck:
    """A successful check: the service answered and accepted our credentials.

    `details` are short facts worth showing (e.g. "premium": "120 days left"). A failed check is not a
    ServiceCheck: the client raises the ServiceError that explains it, and `doctor` turns it into one line.
    """

    service: str
    version: str | None = None
    details: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems
