"""What selection concluded about each candidate, in a form `explain`, `status` and the log can show."""

from __future__ import annotations

from dataclasses import dataclass, field

from seerbridge.domain.release import Candidate


@dataclass(frozen=True)
class Rejection:
    """A rule said no: its name and a sentence a person can read."""

    rule: str
    reason: str


@dataclass(frozen=True)
class Verdict:
    """A candidate after the rule chain: accepted when nothing rejected it; `score` orders accepted ones."""

    candidate: Candidate
    rejections: tuple[Rejection, ...] = ()
    score: int | None = None
    season: int | None = None
    episodes: frozenset[int] = field(default_factory=frozenset)  # wanted episodes this release covers
    is_pack: bool = False

    @property
    def accepted(self) -> bool:
        return not self.rejections

    @property
    def reasons(self) -> list[str]:
        return [r.rule for r in self.rejections]
