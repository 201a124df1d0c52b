"""The sentence an item that found nothing acceptable ends with counts what the decision log (and `explain`) lists:
each distinct release once, however many of the season's episode searches returned it."""

from __future__ import annotations

from typing import Any

from seerbridge.config import AcquireSettings
from seerbridge.domain.decision import Rejection, Verdict
from seerbridge.domain.media import Wanted
from seerbridge.domain.release import Candidate
from seerbridge.pipeline.acquire import Acquirer, rejection_summary
from tests.selection.builders import cand, movie, show

PACK = cand("Some.Show.S01.1080p.WEB-DL-EXAMPLE")
OTHER = cand("Some.Show.S01.720p.HDTV-EXAMPLE")


def _reject_all(candidates: list[Candidate], wanted: Wanted) -> list[Verdict]:
    return [Verdict(c, (Rejection("title" if c is PACK else "year", "not this one"),)) for c in candidates]


class _NoProbes:
    """Nothing is acceptable, so nothing may be probed."""

    def __init__(self) -> None:
        self.bad_hashes: set[str] = set()

    async def probe(self, *args: Any, **kwargs: Any) -> Any:
        raise AssertionError("nothing acceptable was probed")


def _acquirer() -> Acquirer:
    return Acquirer(_NoProbes(), AcquireSettings(), ["2160p", "1080p", "720p"], request_id=1)  # type: ignore[arg-type]


async def test_a_season_whose_episode_searches_return_the_same_releases_counts_each_release_once() -> None:
    wanted = show("Some Show", 2020, 1, range(1, 9))

    async def search_episode(episode: int) -> list[Candidate]:
        return [PACK, OTHER]  # Torrentio lists the season's packs under every episode

    outcome = await _acquirer().season(wanted, [PACK, OTHER], search_episode, _reject_all)
    assert outcome.state == "no_release"
    assert len(outcome.verdicts) == 2  # what the decision log keeps, and `explain` lists
    assert outcome.reason.startswith("2 releases"), outcome.reason
    assert "8 episode searches" in outcome.reason, outcome.reason
    assert outcome.reason.endswith("none acceptable (title 1, year 1)"), outcome.reason


async def test_a_movie_answer_with_one_release_twice_counts_it_once() -> None:
    outcome = await _acquirer().movie(movie("Some Film", 2020), [PACK, PACK], _reject_all)
    assert outcome.reason == "1 release, none acceptable (title 1)"


def test_the_summary_says_release_in_the_singular_for_one() -> None:
    assert rejection_summary([Verdict(OTHER, (Rejection("year", "wrong year"),))]) == (
        "1 release, none acceptable (year 1)"
    )
