"""Library naming: safe, readable names; the folders and file names Jellyfin matches by TMDB id; which torrent file
each entry stands for."""

from __future__ import annotations

import unicodedata

import pytest

from seerbridge.domain.media import MediaKind
from seerbridge.library.naming import (
    MAX_NAME_BYTES,
    SECTIONS,
    EntrySpec,
    SelectedFile,
    folder_for,
    plan_entries,
    safe_name,
    section,
)

MB = 1024**2
GB = 1024**3


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Mission: Impossible", "Mission - Impossible"),
        ("Star Wars: Episode IV - A New Hope", "Star Wars - Episode IV - A New Hope"),
        ("3:10 to Yuma", "3-10 to Yuma"),
        ("Re:ZERO", "Re-ZERO"),
        ("Title:", "Title"),
        ("Face/Off", "Face-Off"),
        ("Love / Hate", "Love - Hate"),
        ("AC\\DC", "AC-DC"),
        (".hack//Sign", "hack-Sign"),
        ("What If...?", "What If"),
        ("M*A*S*H", "MASH"),
        ('The "Best" Show', "The Best Show"),
        ("a<b>c|d", "a b c d"),
        ("Tab\tand\nnewline", "Tab and newline"),
        ("Bell\x07\x00Null\x7f", "BellNull"),
        ("  lots   of    space  ", "lots of space"),
        ("Ends with dots...", "Ends with dots"),
        ("Ends. . .", "Ends"),
        ("...And Justice for All", "And Justice for All"),
        ("", "Untitled"),
        ("???", "Untitled"),
        ("...", "Untitled"),
        ("Amélie", "Amélie"),
        ("千と千尋の神隠し", "千と千尋の神隠し"),
    ],
)
def test_safe_name(title: str, expected: str) -> None:
    assert safe_name(title) == expected


def test_safe_name_composes_unicode() -> None:
    decomposed = unicodedata.normalize("NFD", "Amélie")
    assert decomposed != "Amélie"
    assert safe_name(decomposed) == "Amélie" == unicodedata.normalize("NFC", safe_name(decomposed))


def test_safe_name_is_deterministic_and_idempotent() -> None:
    for title in ["Mission: Impossible", "Face/Off", "What If...?", "x" * 500]:
        once = safe_name(title)
        assert safe_name(title) == once
        assert safe_name(once) == once


def test_a_long_title_is_cut_on_a_word_boundary() -> None:
    title = " ".join(["word"] * 60)  # 299 characters
    got = safe_name(title, limit=120)
    assert len(got) <= 120
    assert got == " ".join(["word"] * 24)  # 119 characters: the 25th word would cross the limit


def test_a_long_word_is_cut_where_it_must_be() -> None:
    assert safe_name("x" * 300, limit=50) == "x" * 50


def test_a_cut_leaves_no_dangling_separator() -> None:
    assert safe_name("Mission: Impossible", limit=9) == "Mission"


def test_a_long_title_in_a_wide_script_stays_under_the_byte_limit() -> None:
    got = safe_name("神" * 150)
    assert len(got.encode()) <= MAX_NAME_BYTES
    assert got == "神" * (MAX_NAME_BYTES // 3)


def test_safe_name_refuses_a_silly_limit() -> None:
    with pytest.raises(ValueError):
        safe_name("x", limit=0)


def test_sections() -> None:
    assert dict(SECTIONS) == {
        ("movie", False): "movies",
        ("show", False): "shows",
        ("movie", True): "movies-4k",
        ("show", True): "shows-4k",
    }
    assert section("movie", False) == "movies"
    assert section("show", True) == "shows-4k"
    assert section(MediaKind.SHOW, False) == "shows"  # the domain's enum is accepted as well
    with pytest.raises(ValueError):
        section("album", False)  # type: ignore[arg-type]


def test_folders() -> None:
    assert folder_for("movie", False, "Haunt", 2019, 572802) == "movies/Haunt (2019) [tmdbid-572802]"
    assert folder_for("show", True, "Breaking Bad", 2008, 1396) == "shows-4k/Breaking Bad (2008) [tmdbid-1396]"
    assert folder_for("movie", True, "Mission: Impossible", 1996, 954) == (
        "movies-4k/Mission - Impossible (1996) [tmdbid-954]"
    )
    assert folder_for("show", False, "Untitled Project", None, 7) == "shows/Untitled Project [tmdbid-7]"
    assert folder_for("movie", False, "", None, 7) == "movies/Untitled [tmdbid-7]"
    with pytest.raises(ValueError):
        folder_for("movie", False, "Haunt", 2019, 0)


# -- plan_entries ------------------------------------------------------------------------------------------------

MOVIE = "movies/Haunt (2019) [tmdbid-572802]"
SHOW = "shows/Breaking Bad (2008) [tmdbid-1396]"


def test_a_movie_is_its_largest_feature() -> None:
    files = [
        SelectedFile(1, "/Haunt.2019.1080p.BluRay/Haunt.2019.1080p.BluRay.MKV", 8 * GB),
        SelectedFile(2, "/Haunt.2019.1080p.BluRay/Sample/haunt.sample.mkv", 90 * MB),
        SelectedFile(3, "/Haunt.2019.1080p.BluRay/Haunt.2019.nfo", 3000),
        SelectedFile(4, "/Haunt.2019.1080p.BluRay/Extras/Haunt.Making.Of.mkv", 9 * GB),
    ]
    assert plan_entries(folder=MOVIE, season=None, wanted=None, files=files) == [
        EntrySpec(f"{MOVIE}/Haunt (2019).mkv", (), 1, "/Haunt.2019.1080p.BluRay/Haunt.2019.1080p.BluRay.MKV")
    ]


def test_a_4k_movie_without_a_year() -> None:
    folder = folder_for("movie", True, "Haunt", None, 572802)
    files = [SelectedFile(1, "/Haunt.2160p.mp4", 20 * GB)]
    assert plan_entries(folder=folder, season=None, wanted=None, files=files) == [
        EntrySpec("movies-4k/Haunt [tmdbid-572802]/Haunt.mp4", (), 1, "/Haunt.2160p.mp4")
    ]


def test_nothing_playable_plans_nothing() -> None:
    only_text = [SelectedFile(1, "/Haunt/readme.txt", 100)]
    only_samples = [SelectedFile(1, "/Haunt/Sample/haunt-sample.mkv", 90 * MB)]
    assert plan_entries(folder=MOVIE, season=None, wanted=None, files=only_text) == []
    assert plan_entries(folder=MOVIE, season=None, wanted=None, files=only_samples) == []
    assert plan_entries(folder=SHOW, season=1, wanted=None, files=[]) == []


def test_a_season_pack_with_samples_extras_and_sub_folders() -> None:
    root = "/Breaking.Bad.S01.1080p.BluRay.x264-EX"
    files = [
        SelectedFile(1, f"{root}/Breaking.Bad.S01E01.1080p.mkv", 1400 * MB),
        SelectedFile(2, f"{root}/Breaking.Bad.S01E02.1080p.mkv", 1300 * MB),
        SelectedFile(3, f"{root}/Sample/breaking.bad.s01e01.sample.mkv", 30 * MB),
        SelectedFile(4, f"{root}/Extras/Breaking.Bad.S01E03.Inside.mkv", 900 * MB),
        SelectedFile(5, f"{root}/Subs/Breaking.Bad.S01E01.srt", 60000),
        SelectedFile(6, f"{root}/Disc 2/Breaking.Bad.S01E03.1080p.MP4", 1200 * MB),
        SelectedFile(7, f"{root}/Breaking.Bad.S02E01.1080p.mkv", 1400 * MB),  # another season: not this one's
    ]
    got = plan_entries(folder=SHOW, season=1, wanted=None, files=files)
    assert got == [
        EntrySpec(f"{SHOW}/Season 01/Breaking Bad S01E01.mkv", (1,), 1, files[0].path),
        EntrySpec(f"{SHOW}/Season 01/Breaking Bad S01E02.mkv", (2,), 2, files[1].path),
        EntrySpec(f"{SHOW}/Season 01/Breaking Bad S01E03.mp4", (3,), 6, files[5].path),
    ]


def test_only_files_holding_a_wanted_episode() -> None:
    files = [SelectedFile(i, f"/BB/Breaking.Bad.S01E{i:02d}.mkv", GB) for i in range(1, 6)]
    got = plan_entries(folder=SHOW, season=1, wanted=frozenset({2, 4}), files=files)
    assert [e.rel_path for e in got] == [
        f"{SHOW}/Season 01/Breaking Bad S01E02.mkv",
        f"{SHOW}/Season 01/Breaking Bad S01E04.mkv",
    ]
    # An empty set wants the whole season, as in selection.
    assert len(plan_entries(folder=SHOW, season=1, wanted=frozenset(), files=files)) == 5


def test_a_multi_episode_file() -> None:
    files = [
        SelectedFile(1, "/BB/Breaking.Bad.S01E01E02.mkv", 2 * GB),
        SelectedFile(2, "/BB/Breaking.Bad.S01E03-E05.mkv", 3 * GB),
    ]
    got = plan_entries(folder=SHOW, season=1, wanted=None, files=files)
    assert got == [
        EntrySpec(f"{SHOW}/Season 01/Breaking Bad S01E01-E02.mkv", (1, 2), 1, files[0].path),
        EntrySpec(f"{SHOW}/Season 01/Breaking Bad S01E03-E05.mkv", (3, 4, 5), 2, files[1].path),
    ]


def test_specials_go_to_season_00() -> None:
    folder = folder_for("show", True, "Doctor Who", 2005, 57243)
    files = [SelectedFile(1, "/Doctor.Who.2005.S00E01.The.Christmas.Invasion.2160p.mkv", 4 * GB)]
    assert plan_entries(folder=folder, season=0, wanted=None, files=files) == [
        EntrySpec("shows-4k/Doctor Who (2005) [tmdbid-57243]/Season 00/Doctor Who S00E01.mkv", (1,), 1, files[0].path)
    ]


def test_the_same_episode_twice_keeps_the_larger() -> None:
    files = [
        SelectedFile(1, "/BB/Breaking.Bad.S01E01.720p.mkv", 700 * MB),
        SelectedFile(2, "/BB/Breaking.Bad.S01E01.1080p.mkv", 1400 * MB),
        SelectedFile(3, "/BB/Breaking.Bad.S01E02.mkv", 1400 * MB),
    ]
    got = plan_entries(folder=SHOW, season=1, wanted=None, files=files)
    assert [(e.rel_path, e.file_id) for e in got] == [
        (f"{SHOW}/Season 01/Breaking Bad S01E01.mkv", 2),
        (f"{SHOW}/Season 01/Breaking Bad S01E02.mkv", 3),
    ]
    # Whatever order Real-Debrid lists them in.
    assert plan_entries(folder=SHOW, season=1, wanted=None, files=list(reversed(files))) == got


def test_an_episode_a_larger_file_holds_is_not_counted_twice() -> None:
    files = [
        SelectedFile(1, "/BB/Breaking.Bad.S01E02.mkv", 2 * GB),
        SelectedFile(2, "/BB/Breaking.Bad.S01E01E02.mkv", GB),
    ]
    got = plan_entries(folder=SHOW, season=1, wanted=None, files=files)
    assert [(e.rel_path, e.episodes, e.file_id) for e in got] == [
        (f"{SHOW}/Season 01/Breaking Bad S01E01.mkv", (1,), 2),
        (f"{SHOW}/Season 01/Breaking Bad S01E02.mkv", (2,), 1),
    ]


def test_the_season_comes_from_folders_or_the_release_name() -> None:
    in_folders = [SelectedFile(1, "/Breaking Bad/Season 2/Episode 03.mkv", GB)]
    assert [e.rel_path for e in plan_entries(folder=SHOW, season=2, wanted=None, files=in_folders)] == [
        f"{SHOW}/Season 02/Breaking Bad S02E03.mkv"
    ]
    bare = [SelectedFile(1, "/pack/03 - Bit by a Dead Bee.mkv", GB)]
    assert plan_entries(folder=SHOW, season=2, wanted=None, files=bare, release_name="Breaking.Bad.S02.1080p") == [
        EntrySpec(f"{SHOW}/Season 02/Breaking Bad S02E03.mkv", (3,), 1, bare[0].path)
    ]
    assert plan_entries(folder=SHOW, season=2, wanted=None, files=bare, release_name="Breaking.Bad.S01-S03") == []


def test_a_title_ending_in_a_year_keeps_it_in_episode_names() -> None:
    folder = folder_for("show", False, "Doctor Who (2005)", 2005, 57243)
    assert folder == "shows/Doctor Who (2005) (2005) [tmdbid-57243]"
    files = [SelectedFile(1, "/DW/Doctor.Who.S01E01.mkv", GB)]
    assert [e.rel_path for e in plan_entries(folder=folder, season=1, wanted=None, files=files)] == [
        f"{folder}/Season 01/Doctor Who (2005) S01E01.mkv"
    ]
