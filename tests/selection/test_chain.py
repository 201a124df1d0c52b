"""evaluate: every rule runs, all reasons are kept, duplicates merge, order is accepted-then-rejected."""

from __future__ import annotations

from dataclasses import replace

from seerbridge.config import SelectionSettings
from seerbridge.domain.release import Candidate
from seerbridge.selection.chain import dedupe, evaluate
from seerbridge.selection.parse import candidate
from seerbridge.selection.rules import RuleContext, build_chain
from tests.selection.builders import cand, ctx, movie, show


def test_all_rejections_are_collected_in_chain_order() -> None:
    dune = movie("Dune", 2021)
    [verdict] = evaluate([cand("Dune.Part.Two.2024.2160p.HDCAM.x264", gb=80)], ctx(dune))
    assert not verdict.accepted
    assert verdict.reasons == ["trash", "title", "year", "resolution", "size"]
    assert verdict.score is None
    assert all(r.reason for r in verdict.rejections)


def test_disable_and_reorder_rules() -> None:
    dune = movie("Dune", 2021)
    c = cand("Dune.2021.2160p.UHD.BluRay.x265", gb=80)
    assert evaluate([c], ctx(dune))[0].reasons == ["resolution", "size"]
    reordered = SelectionSettings(rules=["size", "resolution"])
    assert evaluate([c], ctx(dune, settings=reordered))[0].reasons == ["size", "resolution"]
    without_resolution = SelectionSettings(rules=["parse", "title", "year"])
    [verdict] = evaluate([c], ctx(dune, settings=without_resolution))
    assert verdict.accepted and verdict.score is not None


def test_explicit_chain_argument_wins() -> None:
    dune = movie("Dune", 2021)
    c = cand("Dune.2021.2160p.UHD.BluRay.x265", gb=8)
    assert evaluate([c], ctx(dune), build_chain(["title"]))[0].accepted


def test_order_accepted_then_rejected_in_input_order() -> None:
    dune = movie("Dune", 2021)
    given = [
        cand("Dune.Part.Two.2024.1080p.WEB-DL", gb=5),
        cand("Dune.2021.720p.BluRay.x264", gb=4),
        cand("Dune.1984.1080p.BluRay.x264", gb=5),
        cand("Dune.2021.1080p.BluRay.x264", gb=5),
    ]
    got = [v.candidate.name for v in evaluate(given, ctx(dune))]
    assert got == [
        "Dune.2021.1080p.BluRay.x264",
        "Dune.2021.720p.BluRay.x264",
        "Dune.Part.Two.2024.1080p.WEB-DL",
        "Dune.1984.1080p.BluRay.x264",
    ]


def test_verdict_carries_season_episodes_and_pack() -> None:
    s2 = show("Breaking Bad", 2008, 2, [4, 5])
    pack, single, wrong = evaluate(
        [
            cand("Breaking.Bad.S02.1080p.BluRay.x264", gb=1.4),
            cand("Breaking.Bad.S02E05.720p.HDTV.x264", gb=0.5),
            cand("Breaking.Bad.S01.1080p.BluRay.x264", gb=1.4),
        ],
        ctx(s2),
    )
    assert (pack.season, pack.episodes, pack.is_pack, pack.accepted) == (2, frozenset({4, 5}), True, True)
    assert (single.season, single.episodes, single.is_pack) == (2, frozenset({5}), False)
    assert (wrong.season, wrong.episodes, wrong.accepted, wrong.reasons) == (1, frozenset(), False, ["coverage"])


def test_dedupe_keeps_best_described_and_merges_hint() -> None:
    bare = candidate(info_hash="A" * 40, name="...", max_chars=300, cached_hint=True)
    full = candidate(info_hash="a" * 40, name="Dune.2021.1080p.BluRay.x264", max_chars=300, seeders=9, size_bytes=5)
    [kept] = dedupe([bare, full])
    assert kept.name == "Dune.2021.1080p.BluRay.x264"
    assert kept.cached_hint
    verdicts = evaluate([bare, full], ctx(movie("Dune", 2021)))
    assert len(verdicts) == 1


def test_failing_rule_rejects_without_stopping_others() -> None:
    class Exploding:
        name = "exploding"

        def check(self, candidate: Candidate, ctx: RuleContext) -> str | None:
            if "720p" in candidate.name:
                raise RuntimeError("bug")
            return None

    dune = movie("Dune", 2021)
    chain = (*build_chain(["title"]), Exploding())
    got = evaluate([cand("Dune.2021.720p.BluRay", gb=4), cand("Dune.2021.1080p.BluRay", gb=4)], ctx(dune), chain)
    assert [v.accepted for v in got] == [True, False]
    assert got[1].reasons == ["exploding"]
    assert "RuntimeError" in got[1].rejections[0].reason


def test_unparsed_candidate_only_fails_parse() -> None:
    c = replace(cand("...", gb=1), seeders=1)
    [verdict] = evaluate([c], ctx(movie("Dune", 2021)))
    assert verdict.reasons == ["parse"]
