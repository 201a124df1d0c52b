"""Each rule on real-world-shaped release names: what passes, what is rejected, and the reason given."""

from __future__ import annotations

from datetime import date

import pytest

from seerbridge.config import DEFAULT_RULES, ProfileSettings, SelectionSettings
from seerbridge.domain.media import Wanted
from seerbridge.domain.release import Candidate
from seerbridge.selection.rules import (
    MinSeeders,
    RuleContext,
    UnknownRule,
    build_chain,
    coverage,
    is_short_title,
    known_rules,
    title_matches,
)
from tests.selection.builders import cand, ctx, movie, show


def reasons(candidate: Candidate, context: RuleContext, rules: list[str] | None = None) -> dict[str, str]:
    out = {}
    for rule in build_chain(rules or DEFAULT_RULES):
        reason = rule.check(candidate, context)
        if reason is not None:
            out[rule.name] = reason
    return out


HAUNT = movie("Haunt", 2019)


def test_default_chain_is_registered() -> None:
    assert set(DEFAULT_RULES) <= set(known_rules())
    assert [r.name for r in build_chain(DEFAULT_RULES)] == DEFAULT_RULES


# --- year / title: short and common titles ---------------------------------------------------------------------------


def test_haunt_2019_accepted() -> None:
    assert reasons(cand("Haunt.2019.1080p.WEB-DL.H264-EXAMPLE", gb=2), ctx(HAUNT)) == {}


def test_haunt_2013_rejected_by_year() -> None:
    got = reasons(cand("Haunt.2013.1080p.BluRay.x264-EXAMPLE", gb=2), ctx(HAUNT))
    assert list(got) == ["year"]
    assert "2013" in got["year"] and "2019" in got["year"]


def test_haunt_without_year_rejected_for_a_movie() -> None:
    got = reasons(cand("Haunt.1080p.WEB-DL.H264-EXAMPLE", gb=2), ctx(HAUNT))
    assert list(got) == ["year"]
    assert "no year" in got["year"]


def test_year_tolerance() -> None:
    assert reasons(cand("Haunt.2020.1080p.WEB-DL", gb=2), ctx(HAUNT)) == {}
    strict = SelectionSettings(year_tolerance=0)
    assert "year" in reasons(cand("Haunt.2020.1080p.WEB-DL", gb=2), ctx(HAUNT, settings=strict))


def test_long_movie_title_without_year_passes_but_other_year_fails() -> None:
    notld = movie("Night of the Living Dead", 1968)
    assert reasons(cand("Night.of.the.Living.Dead.1080p.BluRay.x264", gb=4), ctx(notld)) == {}
    assert list(reasons(cand("Night.of.the.Living.Dead.1990.1080p.BluRay.x264", gb=4), ctx(notld))) == ["year"]


def test_dune_is_not_dune_part_two() -> None:
    dune = movie("Dune", 2021)
    assert reasons(cand("Dune.2021.1080p.WEB-DL.DDP5.1.Atmos.H.264-EXAMPLE", gb=6), ctx(dune)) == {}
    got = reasons(cand("Dune.Part.Two.2024.1080p.WEB-DL.DDP5.1.H.264-EXAMPLE", gb=6), ctx(dune))
    assert set(got) == {"title", "year"}
    assert "Dune Part Two" in got["title"]
    assert list(reasons(cand("Dune.1984.1080p.BluRay.x264", gb=6), ctx(dune))) == ["year"]


def test_shogun_2024_versus_1980() -> None:
    shogun = show("Shōgun", 2024, 1, range(1, 11), original="Shogun")
    assert reasons(cand("Shogun.2024.S01.1080p.DSNP.WEB-DL.DDP5.1.H.264-EXAMPLE", gb=3), ctx(shogun)) == {}
    got = reasons(cand("Shogun.1980.S01.1080p.BluRay.x264-EXAMPLE", gb=3), ctx(shogun))
    assert list(got) == ["year"]
    # series releases rarely carry a year: none is fine even for a short title
    assert reasons(cand("Shogun.S01.1080p.WEB-DL.H.264-EXAMPLE", gb=3), ctx(shogun)) == {}


def test_long_series_title_with_the_seasons_year_passes() -> None:
    bb = show("Breaking Bad", 2008, 2, range(1, 14), last_air=date(2013, 8, 11))
    assert reasons(cand("Breaking.Bad.2009.S02.1080p.BluRay.x264", gb=1.5), ctx(bb)) == {}


# A reboot shares its long title with the original: the year a release carries must fall in the show's years.
MAGNUM_2018 = show("Magnum P.I.", 2018, 1, range(1, 21), premiere=date(2018, 9, 24), last_air=date(2023, 2, 19))
HAWAII_2010 = show("Hawaii Five-0", 2010, 1, range(1, 25), premiere=date(2010, 9, 20), last_air=date(2019, 9, 27))


def test_magnum_pi_2018_series_rejects_the_1980_release() -> None:
    assert reasons(cand("Magnum.P.I.2018.S01.1080p.WEB-DL.DDP5.1.H.264-EXAMPLE", gb=2), ctx(MAGNUM_2018)) == {}
    got = reasons(cand("Magnum.P.I.1980.S01.1080p.BluRay.x264-EXAMPLE", gb=2), ctx(MAGNUM_2018))
    assert list(got) == ["year"]
    assert got["year"] == "year 1980 is outside the show's years 2018–2023 (±1)"


def test_hawaii_five_0_2010_series_rejects_the_1968_release() -> None:
    assert reasons(cand("Hawaii.Five-0.2010.S01.1080p.BluRay.x264-EXAMPLE", gb=1.5), ctx(HAWAII_2010)) == {}
    got = reasons(cand("Hawaii.Five-0.1968.S01.1080p.BluRay.x264-EXAMPLE", gb=1.5), ctx(HAWAII_2010))
    assert list(got) == ["year"]
    assert "1968" in got["year"] and "2010–2019" in got["year"]


def test_series_release_with_a_later_seasons_year_in_the_span_passes() -> None:
    s03 = show("Magnum P.I.", 2018, 3, range(1, 17), premiere=date(2018, 9, 24), last_air=date(2023, 2, 19))
    assert reasons(cand("Magnum.P.I.2020.S03.1080p.WEB-DL.DDP5.1.H.264-EXAMPLE", gb=2), ctx(s03)) == {}


def test_long_series_title_without_a_year_passes() -> None:
    assert reasons(cand("Magnum.P.I.S01.1080p.WEB-DL.DDP5.1.H.264-EXAMPLE", gb=2), ctx(MAGNUM_2018)) == {}
    assert reasons(cand("Hawaii.Five-0.S01.720p.BluRay.x264-EXAMPLE", gb=1), ctx(HAWAII_2010)) == {}


def test_original_series_rejects_the_reboots_release() -> None:
    magnum_1980 = show("Magnum, P.I.", 1980, 1, range(1, 19), premiere=date(1980, 12, 11), last_air=date(1987, 9, 30))
    assert reasons(cand("Magnum.P.I.1980.S01.1080p.BluRay.x264-EXAMPLE", gb=2), ctx(magnum_1980)) == {}
    got = reasons(cand("Magnum.P.I.2018.S01.1080p.WEB-DL.DDP5.1.H.264-EXAMPLE", gb=2), ctx(magnum_1980))
    assert got == {"year": "year 2018 is outside the show's years 1980–1987 (±1)"}


def test_span_runs_to_today_when_the_last_season_is_not_known() -> None:
    # The builders' today is 2026-11-24: a running show's release may carry any year up to now.
    running = show("Hawaii Five-0", 2010, 1, range(1, 25))
    assert reasons(cand("Hawaii.Five-0.2026.S01.1080p.WEB-DL-EXAMPLE", gb=1.5), ctx(running)) == {}
    got = reasons(cand("Hawaii.Five-0.1968.S01.1080p.BluRay.x264-EXAMPLE", gb=1.5), ctx(running))
    assert got == {"year": "year 1968 is outside the show's years 2010–2026 (±1)"}


def test_short_title_detection() -> None:
    assert is_short_title("Haunt", 6)
    assert is_short_title("Us", 6)
    assert is_short_title("Inception", 6)  # one word
    assert is_short_title("The Thing", 6)  # one word once the article is dropped
    assert is_short_title("Up Up", 6)  # four letters
    assert not is_short_title("Breaking Bad", 6)
    assert not is_short_title("Night of the Living Dead", 6)


def test_title_matching() -> None:
    assert title_matches("The Office", ["The Office US"], 0.85)
    assert title_matches("Matrix", ["The Matrix"], 0.85)
    assert title_matches("Amelie", ["Amélie"], 0.85)
    assert title_matches("Fast and Furious", ["Fast & Furious"], 0.85)
    assert not title_matches("Dune Part Two", ["Dune"], 0.85)
    assert not title_matches("Up", ["Us"], 0.85)
    assert not title_matches("", ["Us"], 0.85)


def test_title_matches_original_title_and_aliases() -> None:
    heist = show("Money Heist", 2017, 1, [1], original="La casa de papel", aliases=["Casa de Papel"])
    assert "title" not in reasons(cand("La.Casa.de.Papel.S01E01.1080p.NF.WEB-DL", gb=1), ctx(heist))
    assert "title" not in reasons(cand("Money.Heist.S01E01.1080p.NF.WEB-DL", gb=1), ctx(heist))
    assert "title" in reasons(cand("Narcos.S01E01.1080p.NF.WEB-DL", gb=1), ctx(heist))


def test_the_office_us_release_matches_the_office() -> None:
    office = show("The Office", 2005, 1, range(1, 7))
    assert reasons(cand("The.Office.US.S01.1080p.WEB-DL.x264", gb=1), ctx(office)) == {}


def test_similarity_threshold_is_configurable() -> None:
    loose = SelectionSettings(title_similarity=0.4)
    dune = movie("Dune", 2024)
    assert "title" not in reasons(cand("Dune.Part.Two.2024.1080p.WEB-DL", gb=6), ctx(dune, settings=loose))


# --- coverage -----------------------------------------------------------------------------------------------------


def test_season_two_pack_never_fills_season_one() -> None:
    s1 = show("Breaking Bad", 2008, 1, range(1, 8))
    got = reasons(cand("Breaking.Bad.S02.1080p.BluRay.x264-EXAMPLE", gb=1.3), ctx(s1))
    assert list(got) == ["coverage"]
    assert "season 2" in got["coverage"] and "season 1" in got["coverage"]


def test_complete_multi_season_pack_fills_season_two() -> None:
    s2 = show("Breaking Bad", 2008, 2, [4, 5, 6])
    c = cand("Breaking Bad (2008) Complete Series S01-S05 (1080p BluRay x265 HEVC 10bit AAC 5.1)-EXAMPLE", gb=1.2)
    assert reasons(c, ctx(s2)) == {}
    assert c.parsed is not None
    cov = coverage(c.parsed, s2)
    assert (cov.season, cov.episodes, cov.is_pack, cov.problem) == (2, frozenset({4, 5, 6}), True, None)


def test_multi_season_pack_without_the_season() -> None:
    s6 = show("Breaking Bad", 2008, 6, [1])
    got = reasons(cand("Breaking.Bad.S01-S05.1080p.BluRay.x264", gb=1.2), ctx(s6))
    assert list(got) == ["coverage"]


def test_single_episode_coverage() -> None:
    wanted = show("Breaking Bad", 2008, 2, [4, 5])
    c = cand("Breaking.Bad.S02E04.720p.HDTV.x264-EXAMPLE", gb=0.6)
    assert c.parsed is not None
    assert reasons(c, ctx(wanted)) == {}
    cov = coverage(c.parsed, wanted)
    assert (cov.season, cov.episodes, cov.is_pack) == (2, frozenset({4}), False)
    got = reasons(c, ctx(show("Breaking Bad", 2008, 2, [5, 6])))
    assert list(got) == ["coverage"] and "none wanted" in got["coverage"]
    assert list(reasons(c, ctx(show("Breaking Bad", 2008, 1, [4])))) == ["coverage"]


def test_multi_episode_release_covers_the_wanted_ones() -> None:
    wanted = show("Stranger Things", 2016, 4, [2, 3, 9])
    c = cand("Stranger.Things.S04E01E02E03.1080p.NF.WEB-DL.x264", gb=2)
    assert c.parsed is not None
    assert reasons(c, ctx(wanted)) == {}
    assert coverage(c.parsed, wanted).episodes == frozenset({2, 3})


def test_series_release_for_a_movie_is_rejected() -> None:
    got = reasons(cand("Dune.2021.S01E01.1080p.WEB-DL", gb=2), ctx(movie("Dune", 2021)))
    assert list(got) == ["coverage"]
    assert "series" in got["coverage"]


def test_complete_series_without_season_numbers_is_a_pack() -> None:
    wanted = show("Breaking Bad", 2008, 3, [1, 2])
    c = cand("Breaking Bad Complete Series 1080p BluRay x264", gb=1)
    assert c.parsed is not None
    assert reasons(c, ctx(wanted)) == {}
    assert coverage(c.parsed, wanted).is_pack


def test_name_without_season_is_rejected_for_a_show() -> None:
    got = reasons(cand("Breaking Bad 1080p BluRay x264", gb=1), ctx(show("Breaking Bad", 2008, 1, [1])))
    assert list(got) == ["coverage"]


# --- trash, resolution, size, language, regexes, hashes ---------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "Night.of.the.Living.Dead.1968.HDCAM.x264-EXAMPLE",
        "Night.of.the.Living.Dead.1968.CAM.x264",
        "Night.of.the.Living.Dead.1968.TS.x264",
        "Night.of.the.Living.Dead.1968.HDTS.x264",
        "Night.of.the.Living.Dead.1968.TELESYNC.x264",
        "Night.of.the.Living.Dead.1968.DVDSCR.x264",
    ],
)
def test_trash_rejected(name: str) -> None:
    notld = movie("Night of the Living Dead", 1968)
    assert "trash" in reasons(cand(name, gb=0.7), ctx(notld, profile="classic"))


def test_resolution_ladder() -> None:
    dune = movie("Dune", 2021)
    standard = ctx(dune)
    assert "resolution" not in reasons(cand("Dune.2021.1080p.BluRay.x264", gb=8), standard)
    assert "resolution" not in reasons(cand("Dune.2021.720p.BluRay.x264", gb=4), standard)
    got = reasons(cand("Dune.2021.2160p.UHD.BluRay.x265", gb=30), standard)
    assert list(got) == ["resolution"] and "2160p" in got["resolution"]
    assert list(reasons(cand("Dune.2021.480p.WEB.x264", gb=1), standard)) == ["resolution"]
    assert list(reasons(cand("Dune.2021.DVDRip.XviD", gb=1), standard)) == ["resolution"]
    four_k = ctx(Wanted(title=dune.title, is4k=True), profile="4k")
    assert reasons(cand("Dune.2021.2160p.UHD.BluRay.x265", gb=30), four_k) == {}
    assert "resolution" in reasons(cand("Dune.2021.720p.BluRay.x264", gb=4), four_k)


def test_unknown_resolution_allowed_when_the_ladder_lists_it() -> None:
    lenient = ProfileSettings(resolutions=["1080p", "unknown"])
    got = reasons(cand("Dune.2021.DVDRip.XviD", gb=1), ctx(movie("Dune", 2021), profile_settings=lenient))
    assert got == {}


def test_movie_size_band() -> None:
    dune = movie("Dune", 2021)
    assert "size" not in reasons(cand("Dune.2021.1080p.BluRay.x264", gb=4), ctx(dune))
    small = reasons(cand("Dune.2021.1080p.BluRay.x264", gb=0.2), ctx(dune))
    assert list(small) == ["size"] and "0.20 GB" in small["size"]
    assert list(reasons(cand("Dune.2021.1080p.BluRay.x264", gb=45), ctx(dune))) == ["size"]
    assert "size" not in reasons(cand("Dune.2021.1080p.BluRay.x264", gb=None), ctx(dune))


def test_size_is_per_episode_for_seasons() -> None:
    s1 = show("Breaking Bad", 2008, 1, range(1, 8))
    # Torrentio's 💾 for a pack is the one episode file it points at, not the 18 GB torrent
    assert reasons(cand("Breaking.Bad.S01.1080p.BluRay.x265-EXAMPLE", gb=1.32), ctx(s1)) == {}
    assert list(reasons(cand("Breaking.Bad.S01.1080p.BluRay.x265-EXAMPLE", gb=12), ctx(s1))) == ["size"]
    assert list(reasons(cand("Breaking.Bad.S01E01.1080p.BluRay.x265", gb=0.01), ctx(s1))) == ["size"]


def test_languages_required() -> None:
    notld = movie("Night of the Living Dead", 1968)
    english = ProfileSettings(resolutions=["1080p"], languages_required=["en"])
    context = ctx(notld, profile_settings=english)
    assert "language" not in reasons(cand("Night of the Living Dead 1968 1080p BluRay x264 ITA ENG", gb=4), context)
    assert "language" not in reasons(cand("Night.of.the.Living.Dead.1968.1080p.BluRay.x264", gb=4), context)
    got = reasons(cand("Night.of.the.Living.Dead.1968.1080p.BluRay.x264.iTALiAN", gb=4), context)
    assert list(got) == ["language"]
    italian = ProfileSettings(resolutions=["1080p"], languages_required=["it"])
    got = reasons(cand("Night.of.the.Living.Dead.1968.1080p.BluRay.x264", gb=4), ctx(notld, profile_settings=italian))
    assert list(got) == ["language"] and "taken as en" in got["language"]


def test_languages_excluded_from_name_and_flags() -> None:
    s1 = show("Breaking Bad", 2008, 1, range(1, 8))
    no_ru = ProfileSettings(languages_excluded=["ru"])
    context = ctx(s1, profile_settings=no_ru)
    got = reasons(cand("Breaking Bad S01 COMPLETE 720p BluRay x264 RUS ENG-EXAMPLE", gb=1.3), context)
    assert list(got) == ["language"] and "ru" in got["language"]
    flagged = cand("Breaking.Bad.S01.720p.BluRay.x264-EXAMPLE", gb=1.3, languages=["🇬🇧 / 🇷🇺"])
    assert list(reasons(flagged, context)) == ["language"]
    assert reasons(cand("Breaking.Bad.S01.720p.BluRay.x264-EXAMPLE", gb=1.3), context) == {}


def test_regexes_are_case_insensitive() -> None:
    dune = movie("Dune", 2021)
    profile = ProfileSettings(exclude_regex=[r"\bx265\b", "HEVC"], require_regex=["bluray"])
    context = ctx(dune, profile_settings=profile)
    assert reasons(cand("Dune.2021.1080p.BLURAY.x264", gb=5), context) == {}
    assert list(reasons(cand("Dune.2021.1080p.BluRay.X265", gb=5), context)) == ["exclude_regex"]
    assert list(reasons(cand("Dune.2021.1080p.WEB-DL.x264", gb=5), context)) == ["require_regex"]


def test_bad_hash() -> None:
    dune = movie("Dune", 2021)
    c = cand("Dune.2021.1080p.BluRay.x264", gb=5)
    got = reasons(c, ctx(dune, bad=[c.info_hash.upper()]))
    assert list(got) == ["bad_hash"]
    assert reasons(c, ctx(dune, bad=["0" * 40])) == {}


def test_unparseable_name() -> None:
    c = cand("...", gb=1)
    got = reasons(c, ctx(movie("Dune", 2021)))
    assert list(got) == ["parse"]
    assert "title" in got["parse"]


def test_min_seeders() -> None:
    rule = MinSeeders(5)
    context = ctx(movie("Dune", 2021))
    assert rule.check(cand("Dune.2021.1080p", seeders=5), context) is None
    reason = rule.check(cand("Dune.2021.1080p", seeders=3), context)
    assert reason is not None and "3 seeders" in reason
    assert rule.check(cand("Dune.2021.1080p", seeders=None), context) is not None
    assert rule.name == "min_seeders"


# --- the chain as configuration ---------------------------------------------------------------------------------------


def test_unknown_rule_lists_known_names() -> None:
    with pytest.raises(UnknownRule) as err:
        build_chain(["parse", "resolutoin"])
    assert "resolutoin" in str(err.value)
    for name in DEFAULT_RULES:
        assert name in str(err.value)


def test_rule_listed_twice_is_an_error() -> None:
    with pytest.raises(UnknownRule, match="twice"):
        build_chain(["parse", "parse"])


def test_rule_context_today_is_kept() -> None:
    context = ctx(movie("Dune", 2021))
    assert context.today == date(2026, 11, 24)
