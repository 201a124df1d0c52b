"""Profile choice: first matching rule by 4K-ness, kind and age (shows: from the first air date)."""

from __future__ import annotations

from datetime import date

import pytest

from seerbridge.config import ProfileRule, ProfileSettings, SelectionSettings
from seerbridge.domain.media import MediaKind, Title
from seerbridge.selection.profiles import NoProfile, choose_profile, profile_by_name

TODAY = date(2026, 11, 24)


def title(kind: MediaKind, year: int | None, premiere: date | None = None) -> Title:
    return Title(kind=kind, tmdb_id=1, title="X", year=year, premiere=premiere)


def test_defaults() -> None:
    s = SelectionSettings()
    assert choose_profile(s, title(MediaKind.MOVIE, 2021), is4k=False, today=TODAY)[0] == "standard"
    assert choose_profile(s, title(MediaKind.MOVIE, 2021), is4k=True, today=TODAY)[0] == "4k"
    assert choose_profile(s, title(MediaKind.MOVIE, 1968), is4k=False, today=TODAY)[0] == "classic"
    # 4K wins over age because its rule comes first
    assert choose_profile(s, title(MediaKind.MOVIE, 1968), is4k=True, today=TODAY)[0] == "4k"
    name, profile = choose_profile(s, title(MediaKind.MOVIE, None), is4k=False, today=TODAY)
    assert name == "standard" and profile is s.profiles["standard"]


def test_old_show_uses_classic_by_first_air_date() -> None:
    s = SelectionSettings()
    old = title(MediaKind.SHOW, None, premiere=date(1975, 9, 1))
    assert choose_profile(s, old, is4k=False, today=TODAY)[0] == "classic"
    # the first air date counts, not a later year the catalogue might give
    recent_premiere = title(MediaKind.SHOW, 1970, premiere=date(2005, 3, 26))
    assert choose_profile(s, recent_premiere, is4k=False, today=TODAY)[0] == "standard"


def test_kind_and_max_age_rules() -> None:
    s = SelectionSettings(
        profiles={"standard": ProfileSettings(), "fresh-shows": ProfileSettings(resolutions=["1080p"])},
        profile_rules=[
            ProfileRule(profile="fresh-shows", kind="show", max_age_years=2),
            ProfileRule(profile="standard"),
        ],
    )
    new_show = title(MediaKind.SHOW, None, premiere=date(2025, 6, 1))
    assert choose_profile(s, new_show, is4k=False, today=TODAY)[0] == "fresh-shows"
    assert choose_profile(s, title(MediaKind.MOVIE, 2026), is4k=False, today=TODAY)[0] == "standard"
    assert choose_profile(s, title(MediaKind.SHOW, 2010), is4k=False, today=TODAY)[0] == "standard"
    assert choose_profile(s, title(MediaKind.SHOW, None), is4k=False, today=TODAY)[0] == "standard"  # age unknown


def test_no_matching_rule() -> None:
    s = SelectionSettings(profile_rules=[ProfileRule(profile="4k", is4k=True)])
    with pytest.raises(NoProfile, match=r"no selection\.profile_rules"):
        choose_profile(s, title(MediaKind.MOVIE, 2021), is4k=False, today=TODAY)


def test_profile_by_name() -> None:
    s = SelectionSettings()
    assert profile_by_name(s, "classic")[1] is s.profiles["classic"]
    with pytest.raises(NoProfile) as err:
        profile_by_name(s, "ultra")
    assert "4k, classic, standard" in str(err.value)
