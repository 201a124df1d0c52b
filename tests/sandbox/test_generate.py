"""Generated scenarios: the same per seed, valid, unique ids, and every kind present and built as documented."""

from __future__ import annotations

import re
from collections import Counter
from datetime import date
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from seerbridge.commands.demo import in_process, sandbox_settings
from seerbridge.runtime.bridge import open_bridge
from seerbridge.sandbox.generate import (
    EXPECTED_OUTCOME,
    KIND_SHARES,
    RequestKind,
    allocate,
    dotted,
    generated_scenario,
    request_kinds,
)
from seerbridge.sandbox.scenario import MediaSpec, Scenario, load_scenario
from seerbridge.sandbox.world import Sandbox
from seerbridge.selection.parse import parse_fields

TODAY = date(2026, 11, 24)


def _media_of(scenario: Scenario, request_id: int) -> MediaSpec:
    request = next(r for r in scenario.requests if r.id == request_id)
    media = scenario.media_by_tmdb(request.tmdb_id)
    assert media is not None
    return media


def _by_kind(scenario: Scenario, kind: RequestKind) -> list[int]:
    return [rid for rid, k in request_kinds(scenario).items() if k is kind]


def test_same_seed_same_scenario_other_seed_another() -> None:
    a = generated_scenario(60, seed=7)
    assert a.model_dump() == generated_scenario(60, seed=7).model_dump()
    b = generated_scenario(60, seed=8)
    assert [r.name for r in a.releases] != [r.name for r in b.releases]


def test_loads_through_model_validate_and_a_yaml_file(tmp_path: Path) -> None:
    scenario = generated_scenario(40, seed=3)
    assert Scenario.model_validate(scenario.model_dump()) == scenario
    path = tmp_path / "generated.yaml"
    path.write_text(yaml.safe_dump(scenario.model_dump(mode="json"), sort_keys=False))
    assert load_scenario(path) == scenario


@settings(max_examples=25, deadline=None)
@given(requests=st.integers(min_value=1, max_value=300), seed=st.integers(min_value=0, max_value=10**6))
def test_ids_are_unique(requests: int, seed: int) -> None:
    scenario = generated_scenario(requests, seed=seed)
    assert len(scenario.requests) == requests
    assert len({r.id for r in scenario.requests}) == requests
    for ids in (
        [m.tmdb_id for m in scenario.media],
        [m.imdb_id for m in scenario.media],
        [m.tvdb_id for m in scenario.media if m.type == "tv"],
        [m.title for m in scenario.media],
        [r.info_hash for r in scenario.releases] + [t.hash for t in scenario.realdebrid.torrents],
    ):
        assert len(ids) == len(set(ids))
    assert len({r.tmdb_id for r in scenario.requests}) == requests  # one request per title
    assert all(r.status == "approved" for r in scenario.requests)
    assert set(request_kinds(scenario)) == {r.id for r in scenario.requests}


@pytest.mark.parametrize("requests", [20, 33, 200])
def test_every_kind_is_present_in_its_share(requests: int) -> None:
    scenario = generated_scenario(requests)
    counts = Counter(request_kinds(scenario).values())
    assert set(counts) == set(RequestKind)
    assert sum(counts.values()) == requests
    assert counts == Counter(allocate(requests))
    for kind, share in KIND_SHARES.items():
        assert abs(counts[kind] - share * requests) <= 1, kind


def test_allocation_rounds_and_covers_every_kind() -> None:
    assert sum(KIND_SHARES.values()) == pytest.approx(1.0)
    for n in range(1, 120):
        counts = allocate(n)
        assert sum(counts.values()) == n
        if n >= len(RequestKind):
            assert min(counts.values()) >= 1, n


def test_out_of_range_sizes_are_refused() -> None:
    with pytest.raises(ValueError, match="between 1 and"):
        generated_scenario(0)
    with pytest.raises(ValueError, match="between 1 and"):
        generated_scenario(10_000)


def test_release_names_parse_as_their_title_and_coverage() -> None:
    scenario = generated_scenario(200, seed=1)
    nothing = {_media_of(scenario, rid).imdb_id for rid in _by_kind(scenario, RequestKind.NOTHING_ACCEPTABLE)}
    for release in scenario.releases:
        media = scenario.media_by_imdb(release.imdb_id)
        assert media is not None
        parsed = parse_fields(release.name, max_chars=300)
        if media.imdb_id not in nothing:  # those also carry another film's release on purpose
            assert parsed.title.lower() == media.title.lower(), release.name
        assert parsed.resolution in ("2160p", "1080p", "720p", "unknown"), release.name
        if release.covers:
            assert set(parsed.seasons) == set(release.covers), release.name
            if len(release.covers) == 1 and len(next(iter(release.covers.values()))) == 1:
                assert parsed.episodes == tuple(next(iter(release.covers.values()))), release.name
            else:
                assert parsed.episodes == (), release.name


def test_each_kind_is_built_as_documented() -> None:
    scenario = generated_scenario(200, seed=2)
    library = {entry.tmdb_id: entry for entry in scenario.library}
    requests = {r.id: r for r in scenario.requests}

    for rid in _by_kind(scenario, RequestKind.SHORT_TITLE_DECOY):
        media = _media_of(scenario, rid)
        assert len(media.title) <= 6 and " " not in media.title
        years = {
            m.group(1) for r in scenario.releases_for(media.imdb_id or "") if (m := re.search(r"\.(\d{4})\.", r.name))
        }
        assert str(media.year) in years and len(years) == 2  # the right year and a decoy's
        assert any(not re.search(r"\.\d{4}\.", r.name) for r in scenario.releases_for(media.imdb_id or ""))

    for rid in _by_kind(scenario, RequestKind.MOVIE_4K):
        releases = scenario.releases_for(_media_of(scenario, rid).imdb_id or "")
        assert requests[rid].is4k
        assert "2160p" in releases[0].name and releases[0].rd == "cached"

    for rid in _by_kind(scenario, RequestKind.CACHED_MOVIE):
        assert scenario.releases_for(_media_of(scenario, rid).imdb_id or "")[0].rd == "cached"

    for rid in _by_kind(scenario, RequestKind.UNCACHED_MOVIE):
        releases = scenario.releases_for(_media_of(scenario, rid).imdb_id or "")
        assert all(r.rd in ("uncached", "refused") for r in releases)

    for rid in _by_kind(scenario, RequestKind.MISSING_SEASON):
        media, (season,) = _media_of(scenario, rid), requests[rid].seasons
        assert season not in (library[media.tmdb_id].episodes if media.tmdb_id in library else {})
        packs = [r for r in scenario.releases_for(media.imdb_id or "") if len(r.covers.get(season, [])) > 1]
        assert any(p.rd == "cached" for p in packs)

    for rid in _by_kind(scenario, RequestKind.PARTIAL_SEASON):
        media, (season,) = _media_of(scenario, rid), requests[rid].seasons
        present = library[media.tmdb_id].episodes[season]
        spec = media.season(season)
        assert spec is not None and isinstance(present, list) and 0 < len(present) < spec.episodes

    for rid in _by_kind(scenario, RequestKind.AIRING_SEASON):
        media, (season,) = _media_of(scenario, rid), requests[rid].seasons
        spec = media.season(season)
        assert spec is not None
        aired = [e for e in range(1, spec.episodes + 1) if (d := spec.air_date(e)) is not None and d <= TODAY]
        assert 2 <= len(aired) < spec.episodes
        releases = scenario.releases_for(media.imdb_id or "")
        assert releases and all(len(r.covers[season]) == 1 and r.covers[season][0] in aired for r in releases)

    assert scenario.realdebrid.torrents  # some torrents were added by hand
    unrequested = {m.tmdb_id for m in scenario.media} - {r.tmdb_id for r in scenario.requests}
    assert unrequested and unrequested <= set(library)


def test_dotted_names() -> None:
    assert dotted("The Harbor of Avalon") == "The.Harbor.of.Avalon"


async def test_one_pass_ends_every_request_in_its_kinds_outcome(tmp_path: Path) -> None:
    scenario = generated_scenario(20, seed=5)
    world = Sandbox(scenario)
    world.realdebrid_state.conversion_s = 0.0
    world.realdebrid_state.rate.enabled = False
    settings_ = sandbox_settings(world, f"sqlite+aiosqlite:///{tmp_path}/t.db", unpaced=True)
    async with open_bridge(settings_, in_process(world), clock=world.clock) as bridge:
        report = await bridge.run_pass()
    kinds = request_kinds(scenario)
    outcomes = {r.request_id: (kinds[r.request_id], r.state.value, r.reason) for r in report.results}
    wrong = {rid: o for rid, o in outcomes.items() if o[1] != EXPECTED_OUTCOME[o[0]]}
    assert len(outcomes) == 20
    assert not wrong
