"""Scenario files: shipped ones load, references are checked, and release files are generated sensibly."""

from __future__ import annotations

from pathlib import Path

import pytest

from seerbridge.sandbox.scenario import GB, ScenarioError, list_scenarios, load_scenario


def test_every_shipped_scenario_loads() -> None:
    names = list_scenarios()
    assert "starter" in names
    for name in names:
        scenario = load_scenario(name)
        assert scenario.media, name


def test_unknown_name_lists_the_shipped_ones() -> None:
    with pytest.raises(ScenarioError, match=r"shipped: .*starter"):
        load_scenario("no-such-scenario")


def test_bad_reference_is_reported_with_the_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("name: bad\nrequests:\n  - {id: 1, tmdb_id: 99}\n")
    with pytest.raises(ScenarioError, match=r"bad\.yaml: .*tmdb_id 99, which is not in media"):
        load_scenario(path)


def test_json_scenarios_and_sizes_in_words(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    path.write_text(
        '{"name": "j", "media": [{"type": "movie", "tmdb_id": 1, "imdb_id": "tt1", "title": "T"}],'
        ' "releases": [{"imdb_id": "tt1", "name": "T.2020.1080p-X", "size": "1.5 GB"}]}'
    )
    scenario = load_scenario(path)
    assert scenario.releases[0].size == int(1.5 * GB)


def test_pack_files_are_generated_per_episode() -> None:
    scenario = load_scenario("starter")
    pack = next(r for r in scenario.releases if r.name.startswith("Breaking.Bad.S02.1080p"))
    files = pack.file_list("Breaking Bad")
    assert len(files) == 14  # 13 episodes + sample
    assert files[3].path.endswith("Breaking.Bad.S02E04.1080p.BluRay.x264.mkv")
    assert pack.file_for(2, 4, "Breaking Bad") == 3
    assert pack.file_for(1, 4, "Breaking Bad") is None
    assert len({r.info_hash for r in scenario.releases}) == len(scenario.releases)


def test_air_dates_follow_weekly_unless_given() -> None:
    show = load_scenario("starter").media_by_tmdb(126308)
    assert show is not None
    season2 = show.season(2)
    assert season2 is not None
    assert str(season2.air_date(1)) == "2027-01-12"
    assert str(season2.air_date(3)) == "2027-01-26"
