"""select_files: the right files of a Real-Debrid torrent for a movie or the wanted episodes; samples/extras never."""

from __future__ import annotations

from seerbridge.sandbox.scenario import Scenario
from seerbridge.selection.files import (
    FileSelection,
    TorrentFile,
    file_episodes,
    is_extra,
    pack_share,
    select_files,
)
from tests.selection.builders import movie, show

MB = 1024**2
GB = 1024**3


def test_pack_with_sample_extras_nfo_and_nested_folders() -> None:
    files = [
        (1, "/Breaking.Bad.S02.1080p.BluRay.x264-EX/Breaking.Bad.S02E01.1080p.BluRay.x264-EX.mkv", 1400 * MB),
        (2, "/Breaking.Bad.S02.1080p.BluRay.x264-EX/Breaking.Bad.S02E02.1080p.BluRay.x264-EX.mkv", 1400 * MB),
        (3, "/Breaking.Bad.S02.1080p.BluRay.x264-EX/Breaking.Bad.S02E03.1080p.BluRay.x264-EX.mkv", 1400 * MB),
        (4, "/Breaking.Bad.S02.1080p.BluRay.x264-EX/Sample/breaking.bad.s02e01.sample.mkv", 30 * MB),
        (5, "/Breaking.Bad.S02.1080p.BluRay.x264-EX/Breaking.Bad.S02.1080p.BluRay.x264-EX.nfo", 4000),
        (6, "/Breaking.Bad.S02.1080p.BluRay.x264-EX/Extras/Breaking.Bad.S02E02.Inside.Episode.mkv", 900 * MB),
        (7, "/Breaking.Bad.S02.1080p.BluRay.x264-EX/Subs/Breaking.Bad.S02E02.srt", 60000),
    ]
    got = select_files(files, show("Breaking Bad", 2008, 2, [1, 2, 3]))
    assert got == FileSelection(file_ids=(1, 2, 3), covered=frozenset({1, 2, 3}), reason=None)


def test_only_wanted_episodes_of_the_wanted_season() -> None:
    files = [
        TorrentFile(i, f"/Breaking Bad S01-S02/Season {s}/Breaking.Bad.S{s:02d}E{e:02d}.mkv", GB)
        for i, (s, e) in enumerate([(s, e) for s in (1, 2) for e in range(1, 8)], start=1)
    ]
    got = select_files(files, show("Breaking Bad", 2008, 2, [4, 5, 9]))
    assert got.file_ids == (11, 12)
    assert got.covered == frozenset({4, 5})
    assert pack_share(got, show("Breaking Bad", 2008, 2, [4, 5, 9])) == 2 / 3


def test_nxm_names_and_multi_episode_files() -> None:
    files = [
        (1, "/Show/show.1x01.pilot.mkv", GB),
        (2, "/Show/Show.S01E02E03.mkv", 2 * GB),
        (3, "/Show/Show - 1x04-1x05 - Two Parter.mkv", 2 * GB),
        (4, "/Show/Show.S01E06-E08.720p.mkv", 3 * GB),
        (5, "/Show/Show.S01E09.mkv", GB),
    ]
    got = select_files(files, show("Show", 2010, 1, range(1, 9)))
    assert got.file_ids == (1, 2, 3, 4)
    assert got.covered == frozenset(range(1, 9))
    assert file_episodes("/Show/Show - 1x04-1x05 - Two Parter.mkv") == (1, (4, 5))


def test_season_from_the_folder() -> None:
    files = [
        (1, "/Show Complete/Season 1/Episode 03.mkv", GB),
        (2, "/Show Complete/Season 2/Episode 03.mkv", GB),
        (3, "/Show Complete/Season 2/Episode 04.mkv", GB),
        (4, "/Show Complete/Season 2/05 - Gray Matter.mkv", GB),
    ]
    got = select_files(files, show("Show", 2010, 2, [3, 5]))
    assert got.file_ids == (2, 4)
    assert got.covered == frozenset({3, 5})


def test_season_from_the_release_name() -> None:
    files = [
        (1, "/01 - Pilot.mkv", GB),
        (2, "/02 - Cat's in the Bag.mkv", GB),
        (3, "/03 - And the Bag's in the River.mkv", GB),
    ]
    wanted = show("Breaking Bad", 2008, 1, [2, 3])
    assert select_files(files, wanted).file_ids == ()
    got = select_files(files, wanted, release_name="Breaking.Bad.S01.1080p.BluRay.x264-EXAMPLE")
    assert got.file_ids == (2, 3)


def test_duplicate_episode_takes_the_largest_file() -> None:
    files = [(1, "/S/Show.S01E01.720p.mkv", GB), (2, "/S/Show.S01E01.1080p.mkv", 3 * GB)]
    assert select_files(files, show("Show", 2010, 1, [1])).file_ids == (2,)


def test_no_wanted_episode_gives_a_reason() -> None:
    files = [(1, "/S/Show.S01E01.mkv", GB)]
    got = select_files(files, show("Show", 2010, 2, [1]))
    assert got.file_ids == ()
    assert got.reason is not None and "season 2" in got.reason
    assert pack_share(got, show("Show", 2010, 2, [1])) == 0.0


def test_title_containing_trailer_or_sample_is_kept() -> None:
    files = [(i, f"/Trailer.Park.Boys.S01/Trailer.Park.Boys.S01E0{i}.mkv", 500 * MB) for i in range(1, 4)]
    files.append((4, "/Trailer.Park.Boys.S01/Trailer.Park.Boys.S01E01.sample.mkv", 20 * MB))
    got = select_files(files, show("Trailer Park Boys", 2001, 1, [1, 2, 3]))
    assert got.file_ids == (1, 2, 3)


def test_movie_sample_and_main() -> None:
    files = [
        (1, "/Night.of.the.Living.Dead.1968.1080p/Sample/sample-notld.mkv", 40 * MB),
        (2, "/Night.of.the.Living.Dead.1968.1080p/Night.of.the.Living.Dead.1968.1080p.BluRay.x264.mkv", 1600 * MB),
        (3, "/Night.of.the.Living.Dead.1968.1080p/Night.of.the.Living.Dead.1968.1080p-sample.mkv", 1700 * MB),
        (4, "/Night.of.the.Living.Dead.1968.1080p/Trailer.mkv", 80 * MB),
        (5, "/Night.of.the.Living.Dead.1968.1080p/RARBG.txt", 100),
    ]
    got = select_files(files, movie("Night of the Living Dead", 1968))
    assert got == FileSelection(file_ids=(2,), covered=frozenset(), reason=None)
    assert pack_share(got, movie("Night of the Living Dead", 1968)) == 1.0


def test_movie_whose_title_contains_sample() -> None:
    files = [(1, "/The.Sample.Man.2020.1080p.mkv", 2 * GB), (2, "/The.Sample.Man.2020.1080p-sample.mkv", 50 * MB)]
    assert select_files(files, movie("The Sample Man", 2020)).file_ids == (1,)
    assert not is_extra("/Samples.of.Life.2020.mkv", 10 * MB, 2 * GB)
    assert not is_extra("/Resampled.2020.mkv", 10 * MB, 2 * GB)
    assert is_extra("/Samples/x.mkv", 2 * GB, 2 * GB)


def test_multi_part_movie() -> None:
    files = [
        (1, "/Movie.1968.DVDRip/Movie.1968.DVDRip.CD1.avi", 700 * MB),
        (2, "/Movie.1968.DVDRip/Movie.1968.DVDRip.CD2.avi", 690 * MB),
        (3, "/Movie.1968.DVDRip/Movie.1968.DVDRip.sample.avi", 10 * MB),
    ]
    assert select_files(files, movie("Movie", 1968)).file_ids == (1, 2)


def test_tiny_movie_is_still_taken() -> None:
    files = [(1, "/Movie.1968/Movie.1968.avi", 150 * MB), (2, "/Movie.1968/Movie.1968.iso.part.rar", 4 * GB)]
    assert select_files(files, movie("Movie", 1968)).file_ids == (1,)


def test_nothing_usable() -> None:
    assert select_files([(1, "/x/readme.txt", 100)], movie("X", 2000)).reason == "no video file in the torrent"
    only_sample = select_files([(1, "/x/Sample/x.mkv", 100)], movie("X", 2000))
    assert only_sample.file_ids == () and only_sample.reason is not None
    assert select_files([], movie("X", 2000)).file_ids == ()


def test_scenario_generated_pack(starter: Scenario) -> None:
    release = next(r for r in starter.releases if r.name.startswith("Breaking.Bad.S02.1080p"))
    files = [(i, "/" + f.path, f.size) for i, f in enumerate(release.file_list("Breaking Bad"), start=1)]
    got = select_files(files, show("Breaking Bad", 2008, 2, range(4, 14)))
    assert got.covered == frozenset(range(4, 14))
    assert len(got.file_ids) == 10
    assert all("sample" not in files[i - 1][1].lower() for i in got.file_ids)


def test_accepts_the_realdebrid_client_file_model() -> None:
    from seerbridge.services.realdebrid import TorrentFile as RdFile

    files = [
        RdFile(id=1, path="/Movie.2020.1080p/Movie.2020.1080p.mkv", bytes=2 * GB, selected=False),
        RdFile(id=2, path="/Movie.2020.1080p/Sample/movie.sample.mkv", bytes=20 * MB, selected=False),
    ]
    assert select_files(files, movie("Movie", 2020)).file_ids == (1,)


# --- fakes: a video file far too small to be what it claims (Real-Debrid's own sizes) -------------------------------


def test_tiny_movie_beside_an_exe_is_a_fake() -> None:
    files = [
        (1, "/Movie.2020.1080p.WEB-DL/Movie.2020.1080p.mkv", 2 * MB),
        (2, "/Movie.2020.1080p.WEB-DL/setup.exe", MB),
    ]
    got = select_files(files, movie("Movie", 2020))
    assert got == FileSelection(
        (),
        frozenset(),
        "no video file reaches the 50 MB a movie file needs (largest: Movie.2020.1080p.mkv, 2 MB)",
        unusable=True,  # true of the torrent whatever is wanted: marked bad, never added again
    )


def test_empty_movie_file_beside_an_archive_is_a_fake() -> None:
    files = [(1, "/Movie.2020.1080p/Movie.2020.1080p.mkv", 0), (2, "/Movie.2020.1080p/Movie.2020.1080p.rar", 2 * GB)]
    got = select_files(files, movie("Movie", 2020))
    assert got.file_ids == ()
    assert got.reason == "no video file reaches the 50 MB a movie file needs (largest: Movie.2020.1080p.mkv, 0 bytes)"


def test_a_real_movie_file_stays_selected() -> None:
    files = [
        (1, "/Movie.2020.1080p.WEB-DL/Movie.2020.1080p.mkv", 2 * GB),
        (2, "/Movie.2020.1080p.WEB-DL/info.nfo", 900),
    ]
    assert select_files(files, movie("Movie", 2020)) == FileSelection((1,), frozenset())


def test_a_torrent_whose_only_video_is_a_sample_is_rejected() -> None:
    alone = select_files([(1, "/Movie.2020.1080p/sample.mkv", 40 * MB)], movie("Movie", 2020))
    assert alone == FileSelection((), frozenset(), "only samples or extras in the torrent", unusable=True)
    # named like the scene's samples ("sample-<name>"), with nothing bigger beside it to show it up as small
    named = select_files([(1, "/sample-movie.2020.1080p.mkv", 30 * MB), (2, "/movie.nfo", 900)], movie("Movie", 2020))
    assert named.file_ids == ()
    assert (
        named.reason
        == "no video file reaches the 50 MB a movie file needs (largest: sample-movie.2020.1080p.mkv, 30 MB)"
    )


def test_tiny_episode_files_are_left_out() -> None:
    files = [
        (1, "/Show.S01.1080p/Show.S01E01.1080p.mkv", 900 * MB),
        (2, "/Show.S01.1080p/Show.S01E02.1080p.mkv", 3 * MB),
        (3, "/Show.S01.1080p/Show.S01E03.1080p.mkv", 900 * MB),
    ]
    got = select_files(files, show("Show", 2010, 1, [1, 2, 3]))
    assert got == FileSelection((1, 3), frozenset({1, 3}))
    only_the_fake = select_files(files, show("Show", 2010, 1, [2]))
    assert only_the_fake.file_ids == () and not only_the_fake.unusable  # the others serve other episodes
    assert only_the_fake.reason == (
        "no video file holds a wanted episode of season 1 (1 under the 20 MB an episode file needs)"
    )
    fake = [(1, "/Show.S01E02.1080p.mkv", 3 * MB), (2, "/Show.S01E02.1080p.exe", 3 * MB)]
    got = select_files(fake, show("Show", 2010, 1, [2]))
    assert got == FileSelection(
        (),
        frozenset(),
        "no video file reaches the 20 MB an episode file needs (largest: Show.S01E02.1080p.mkv, 3 MB)",
        unusable=True,
    )


def test_the_floor_is_a_parameter() -> None:
    files = [(1, "/Movie.1968/Movie.1968.avi", 150 * MB)]
    assert select_files(files, movie("Movie", 1968)).file_ids == (1,)
    higher = select_files(files, movie("Movie", 1968), min_movie_bytes=200 * MB)
    assert higher.reason == "no video file reaches the 200 MB a movie file needs (largest: Movie.1968.avi, 150 MB)"
    episode = [(1, "/Show.S01E01.mkv", 30 * MB)]
    assert select_files(episode, show("Show", 2010, 1, [1]), min_episode_bytes=40 * MB).file_ids == ()
