"""Jellyfin emulator libraries on a real disk, in a sandbox with a library root and a zurg-like mount: what a scan
lists (ids from folder names, raw names misfiled as Jellyfin misfiles them, `.strm` entries, broken symlinks), when
it lists it (after the scan delay, on the virtual clock), and what Seerr's emulated scan makes of it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from seerbridge.sandbox.clock import VirtualClock
from seerbridge.sandbox.jellyfin_names import (
    ParsedName,
    episode_numbers,
    parse_name,
    resolution_width,
    search_form,
    tagged_id,
)
from seerbridge.sandbox.realdebrid_torrent import HashBehaviour
from seerbridge.sandbox.scenario import FileSpec, LibraryEntry, Scenario, load_scenario
from seerbridge.sandbox.seerr_models import MediaStatus
from seerbridge.sandbox.world import Sandbox

SOME_FILM, SOME_FILM_1920, OLD_TWIN, NEW_TWIN, SOME_SHOW = 100, 101, 201, 202, 300


def _scenario(*, with_1920_film: bool = False) -> Scenario:
    media: list[dict[str, Any]] = [
        {"type": "movie", "tmdb_id": SOME_FILM, "imdb_id": "tt0000100", "title": "Some Film", "year": 2019},
        {"type": "movie", "tmdb_id": OLD_TWIN, "imdb_id": "tt0000201", "title": "Twin Film", "year": 1998},
        {"type": "movie", "tmdb_id": NEW_TWIN, "title": "Twin Film", "year": 2021, "popularity": 40.5},
        {
            "type": "tv",
            "tmdb_id": SOME_SHOW,
            "tvdb_id": 3000,
            "title": "Some Show",
            "first_air_date": "2020-01-06",
            "seasons": [
                {"season": 0, "episodes": 1, "first_air_date": "2020-06-01"},
                {"season": 1, "episodes": 4, "first_air_date": "2020-01-06"},
            ],
        },
    ]
    if with_1920_film:
        media.append({"type": "movie", "tmdb_id": SOME_FILM_1920, "title": "Some Film", "year": 1920})
    return Scenario.model_validate(
        {"name": "disk", "today": "2026-11-24", "media": media, "requests": [{"id": 1, "tmdb_id": SOME_FILM}]}
    )


def _world(tmp_path: Path, scenario: Scenario | None = None) -> Sandbox:
    clock = VirtualClock(datetime(2026, 11, 24, 12, tzinfo=UTC), speed=0)
    return Sandbox(scenario or _scenario(), clock, library_root=tmp_path / "library", mount_dir=tmp_path / "mount")


@pytest.fixture
def world(tmp_path: Path) -> Sandbox:
    return _world(tmp_path)


@pytest.fixture
async def http(world: Sandbox) -> AsyncIterator[httpx.AsyncClient]:
    headers = {"Authorization": f'MediaBrowser Token="{world.scenario.keys["jellyfin"]}"'}
    async with httpx.AsyncClient(
        transport=world.transport("jellyfin"), base_url="http://jellyfin.sandbox", headers=headers
    ) as client:
        yield client


def _downloaded(world: Sandbox, name: str, files: list[str]) -> str:
    """A torrent already downloaded on Real-Debrid (so on the mount); returns its id."""
    behaviour = HashBehaviour("cached", name, [FileSpec(path=p, size=2 * 1024**3) for p in files])
    info_hash = f"{len(world.realdebrid_state.torrents):02x}" * 20
    return world.realdebrid_state.add_torrent(info_hash, behaviour=behaviour, status="downloaded")


def _link(world: Sandbox, entry: Path, torrent_id: str, file_id: int = 1) -> Path:
    """A library entry seerbridge would write: a symlink into the mount's `__all__` folder."""
    assert world.mount is not None
    target = world.mount.path_of(world.realdebrid_state.get(torrent_id), file_id)
    assert target.is_file()
    entry.parent.mkdir(parents=True, exist_ok=True)
    entry.symlink_to(target)
    return entry


def _root(world: Sandbox, folder: str) -> Path:
    assert world.library_root is not None
    return world.library_root / folder


async def _items(http: httpx.AsyncClient, kind: str, **params: str) -> list[dict[str, Any]]:
    query = {"recursive": "true", "includeItemTypes": kind, "fields": "ProviderIds,Path,MediaSources"} | params
    response = await http.get("/Items", params=query)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["Items"]
    return items


async def _scan(http: httpx.AsyncClient, world: Sandbox) -> None:
    """A full library scan, run to its end on the virtual clock."""
    assert (await http.post("/Library/Refresh")).status_code == 204
    world.clock.advance(world.jellyfin_state.scan_duration_s)


async def _report(http: httpx.AsyncClient, *paths: Path) -> None:
    body = {"Updates": [{"Path": str(p), "UpdateType": "Created"} for p in paths]}
    assert (await http.post("/Library/Media/Updated", json=body)).status_code == 204


def _width(item: dict[str, Any]) -> int | None:
    streams = item["MediaSources"][0]["MediaStreams"]
    return streams[0]["Width"] if streams else None


# ----- the name rules ---------------------------------------------------------------------------------------------


def test_jellyfins_cleaners_read_years_and_names_as_jellyfin_does() -> None:
    # The CleanDateTime regexes' greedy `.+` takes the last 19xx/20xx after a separator that is not followed by digits.
    assert parse_name("Some.Film.1920x1080.WEB") == ParsedName("Some.Film", 1920)
    assert parse_name("Some.Film.2019.1920x1080") == ParsedName("Some.Film.2019", 1920)
    assert parse_name("Some Film (2019) [tmdbid-100]") == ParsedName("Some Film", 2019)
    assert parse_name("Twin.Film.1080p.BluRay.x264") == ParsedName("Twin.Film", None)  # cut at the first tag
    assert search_form("Twin_Film.Ünïcode") == "twin film unicode"
    assert tagged_id("X (2019) [tmdbid-603]", "tmdb", aliases=False) == "603"
    assert tagged_id("X (2019) [tmdbid=603]", "tmdb", aliases=False) == "603"
    assert tagged_id("X (2019) {tmdb-603}", "tmdb", aliases=False) is None  # Jellyfin 12.0 reads it, 10.11 not
    assert tagged_id("X (2019) {tmdb-603}", "tmdb", aliases=True) == "603"
    assert episode_numbers("Some Show S01E01-E02.mkv") == (1, 1, 2)
    assert episode_numbers("Some.Show.S01E03.1080p.x264.mkv") == (1, 3, None)
    assert resolution_width(["Film.2160p.WEB.mkv", "x"]) == 3840
    assert resolution_width(["Film.mkv", "Film.UHD.BluRay"]) == 3840
    assert resolution_width(["Film.WEB.mkv"]) is None


# ----- movies -----------------------------------------------------------------------------------------------------


async def test_an_id_named_symlink_is_listed_with_its_ids_after_the_monitor_delay(
    world: Sandbox, http: httpx.AsyncClient
) -> None:
    torrent = _downloaded(world, "Some.Film.2019.2160p.WEB-DL.mkv", ["Some.Film.2019.2160p.WEB-DL.mkv"])
    entry = _link(world, _root(world, "movies") / "Some Film (2019) [tmdbid-100]" / "Some Film (2019).mkv", torrent)
    await _report(http, entry)
    assert await _items(http, "Movie") == []
    world.clock.advance(59)
    assert await _items(http, "Movie") == []  # Jellyfin's LibraryMonitorDelay is 60 s
    world.clock.advance(1)
    [movie] = await _items(http, "Movie")
    assert movie["Name"] == "Some Film" and movie["ProductionYear"] == 2019
    assert movie["ProviderIds"] == {"Tmdb": "100", "Imdb": "tt0000100"}
    assert movie["Path"] == str(entry)  # the symlink's own path, not its target
    assert _width(movie) == 3840  # 2160p in the target's name
    assert world.jellyfin_state.media_updates[-1].accepted


async def test_a_scan_lists_only_what_was_there_when_it_started(world: Sandbox, http: httpx.AsyncClient) -> None:
    torrent = _downloaded(world, "Some.Film.2019.1080p.WEB.mkv", ["Some.Film.2019.1080p.WEB.mkv"])
    assert (await http.post("/Library/Refresh")).status_code == 204
    _link(world, _root(world, "movies") / "Some Film (2019) [tmdbid-100]" / "Some Film (2019).mkv", torrent)
    world.clock.advance(world.jellyfin_state.scan_duration_s)
    assert await _items(http, "Movie") == []  # written after the scan had read the folder
    await _scan(http, world)
    [movie] = await _items(http, "Movie")
    assert _width(movie) == 1920


async def test_a_strm_entry_plays_its_url_and_has_a_width_only_when_probed(
    world: Sandbox, http: httpx.AsyncClient
) -> None:
    folder = _root(world, "movies") / "Some Film (2019) [tmdbid-100]"
    folder.mkdir()
    entry = folder / "Some Film (2019).strm"
    entry.write_text("http://seerbridge.local/play/tok123\n")
    await _scan(http, world)
    [movie] = await _items(http, "Movie")
    assert movie["ProviderIds"]["Tmdb"] == "100"
    assert movie["Path"] == str(entry)  # BaseItem.Path is the .strm file; its media source plays the URL
    [source] = movie["MediaSources"]
    assert (source["Path"], source["Protocol"], source["IsRemote"]) == (
        "http://seerbridge.local/play/tok123",
        "Http",
        True,
    )
    assert source["MediaStreams"] == [] and source["Container"] == "strm"

    probed: list[str] = []
    world.jellyfin_state.strm_width = lambda url: probed.append(url) or 3840
    entry.write_text("# written by seerbridge\nhttp://seerbridge.local/play/tok456\n")
    await _scan(http, world)
    [movie] = await _items(http, "Movie")
    assert probed == ["http://seerbridge.local/play/tok456"]  # a changed URL is probed again
    assert movie["MediaSources"][0]["Path"].endswith("tok456") and _width(movie) == 3840


async def test_a_broken_symlink_is_not_listed(world: Sandbox, http: httpx.AsyncClient) -> None:
    folder = _root(world, "movies") / "Some Film (2019) [tmdbid-100]"
    folder.mkdir()
    (folder / "Some Film (2019).mkv").symlink_to(Path(str(world.mount and world.mount.root)) / "__all__" / "gone.mkv")
    await _scan(http, world)
    assert await _items(http, "Movie") == []


@pytest.mark.parametrize("with_1920_film", [False, True], ids=["no-match", "wrong-match"])
async def test_a_raw_release_name_is_misfiled_where_the_id_named_folder_is_not(
    tmp_path: Path, with_1920_film: bool
) -> None:
    world = _world(tmp_path, _scenario(with_1920_film=with_1920_film))
    torrent = _downloaded(world, "Some.Film.1920x1080.WEB", ["Some.Film.1920x1080.WEB/Some.Film.1920x1080.WEB.mkv"])
    movies = _root(world, "movies")
    raw = _link(world, movies / "Some.Film.1920x1080.WEB" / "Some.Film.1920x1080.WEB.mkv", torrent)
    named = _link(world, movies / "Some Film (2019) [tmdbid-100]" / "Some Film (2019).mkv", torrent)
    library = world.jellyfin_state
    library.request_refresh()
    world.clock.advance(library.scan_duration_s)
    library.settle()
    by_path = {i.path: i for i in library.of_kind("Movie")}
    assert by_path[str(named)].provider_ids["Tmdb"] == str(SOME_FILM)
    misfiled = by_path[str(raw)]
    assert misfiled.production_year == 1920  # `1920` of 1920x1080 is read as the year
    if with_1920_film:
        assert misfiled.provider_ids["Tmdb"] == str(SOME_FILM_1920)  # the wrong film
    else:
        # TMDB's search finds no "Some Film" of 1920: no ids, so Seerr cannot see it; the raw name stays.
        assert misfiled.provider_ids == {} and misfiled.name == "Some.Film.1920x1080.WEB"


async def test_same_title_films_the_id_decides_and_a_yearless_name_takes_the_popular_one(
    world: Sandbox, http: httpx.AsyncClient
) -> None:
    torrent = _downloaded(world, "Twin.Film.1998.1080p.BluRay.x264.mkv", ["Twin.Film.1998.1080p.BluRay.x264.mkv"])
    movies = _root(world, "movies")
    named = _link(world, movies / "Twin Film (1998) [tmdbid-201]" / "Twin Film (1998).mkv", torrent)
    raw = _link(world, movies / "Twin.Film.1080p.BluRay.x264" / "Twin.Film.1080p.BluRay.x264.mkv", torrent)
    year_only = _link(world, movies / "Twin Film (1998)" / "Twin Film (1998).mkv", torrent)
    await _scan(http, world)
    tmdb = {i["Path"]: i["ProviderIds"].get("Tmdb") for i in await _items(http, "Movie")}
    assert tmdb == {str(named): str(OLD_TWIN), str(raw): str(NEW_TWIN), str(year_only): str(OLD_TWIN)}


async def test_only_jellyfin_12_reads_the_short_id_form(world: Sandbox, http: httpx.AsyncClient) -> None:
    torrent = _downloaded(world, "Twin.Film.1998.mkv", ["Twin.Film.1998.mkv"])
    _link(world, _root(world, "movies") / "Twin Film (1998) {tmdb-202}" / "Twin Film (1998).mkv", torrent)
    await _scan(http, world)
    [movie] = await _items(http, "Movie")
    assert movie["ProviderIds"]["Tmdb"] == str(OLD_TWIN)  # 10.11 reads no id there: name and year find 1998's
    world.jellyfin_state.version = "12.0.0"
    await _scan(http, world)
    [movie] = await _items(http, "Movie")
    assert movie["ProviderIds"]["Tmdb"] == str(NEW_TWIN)


async def test_an_item_goes_when_its_file_goes_or_its_torrent_vanishes(world: Sandbox, http: httpx.AsyncClient) -> None:
    first = _downloaded(world, "Some.Film.2019.1080p.WEB.mkv", ["Some.Film.2019.1080p.WEB.mkv"])
    second = _downloaded(world, "Twin.Film.1998.720p.mkv", ["Twin.Film.1998.720p.mkv"])
    movies = _root(world, "movies")
    some = _link(world, movies / "Some Film (2019) [tmdbid-100]" / "Some Film (2019).mkv", first)
    twin = _link(world, movies / "Twin Film (1998) [tmdbid-201]" / "Twin Film (1998).mkv", second)
    await _scan(http, world)
    assert len(await _items(http, "Movie")) == 2
    movie_id = next(i["Id"] for i in await _items(http, "Movie") if i["Path"] == str(some))

    some.unlink()
    some.parent.rmdir()
    await _report(http, some)  # a removed path is still accepted: Jellyfin refreshes the nearest item that exists
    world.clock.advance(60)
    assert [i["Path"] for i in await _items(http, "Movie")] == [str(twin)]
    assert (await http.get(f"/Items/{movie_id}")).status_code == 404

    world.realdebrid_state.vanish(second)
    assert not twin.exists() and twin.is_symlink()  # the symlink is broken now
    await _scan(http, world)
    assert await _items(http, "Movie") == []


# ----- shows ------------------------------------------------------------------------------------------------------


async def test_a_show_folder_gives_seasons_and_a_multi_episode_file(world: Sandbox, http: httpx.AsyncClient) -> None:
    torrent = _downloaded(
        world,
        "Some.Show.S01.1080p.WEB",
        [f"Some.Show.S01.1080p.WEB/Some.Show.S01E0{n}.1080p.WEB.mkv" for n in (1, 2, 3)]
        + ["Some.Show.S00E01.720p.WEB.mkv"],
    )
    show = _root(world, "shows") / "Some Show (2020) [tmdbid-300]"
    _link(world, show / "Season 01" / "Some Show S01E01-E02.mkv", torrent, 1)
    _link(world, show / "Season 01" / "Some Show S01E03.mkv", torrent, 3)
    _link(world, show / "Season 00" / "Some Show S00E01.mkv", torrent, 4)
    await _scan(http, world)
    [series] = await _items(http, "Series")
    assert series["ProviderIds"] == {"Tmdb": "300", "Tvdb": "3000"} and series["Path"] == str(show)
    seasons = (await http.get(f"/Shows/{series['Id']}/Seasons")).json()["Items"]
    assert [(s["IndexNumber"], s["Name"]) for s in seasons] == [(0, "Specials"), (1, "Season 1")]
    episodes = (
        await http.get(f"/Shows/{series['Id']}/Episodes", params={"season": 1, "fields": "MediaSources"})
    ).json()
    spans = [(e["ParentIndexNumber"], e["IndexNumber"], e.get("IndexNumberEnd")) for e in episodes["Items"]]
    assert spans == [(1, 1, 2), (1, 3, None)]
    assert {_width(e) for e in episodes["Items"]} == {1920}
    assert world.jellyfin_state.has_episode(SOME_SHOW, 1, 2)

    # Seerr's emulated scan sees the disk library's episodes too.
    assert world.library_entries() == [LibraryEntry(tmdb_id=SOME_SHOW, episodes={0: [1], 1: [1, 2, 3]})]


async def test_a_raw_show_folder_parses_its_episodes_the_same_way(world: Sandbox, http: httpx.AsyncClient) -> None:
    torrent = _downloaded(world, "Some.Show.S01E04.2160p.WEB.mkv", ["Some.Show.S01E04.2160p.WEB.mkv"])
    show = _root(world, "shows") / "Some.Show.S01.2160p.WEB"
    _link(world, show / "Some.Show.S01E04.2160p.WEB.mkv", torrent)
    await _scan(http, world)
    [series] = await _items(http, "Series")
    assert series["Name"] == "Some.Show.S01.2160p.WEB" and series["ProviderIds"] == {}  # "Some Show S01": no match
    [episode] = await _items(http, "Episode")
    assert (episode["ParentIndexNumber"], episode["IndexNumber"], _width(episode)) == (1, 4, 3840)


# ----- the libraries and Seerr -------------------------------------------------------------------------------------


async def test_virtual_folders_list_the_disk_libraries_beside_the_scenarios(
    world: Sandbox, http: httpx.AsyncClient
) -> None:
    folders = (await http.get("/Library/VirtualFolders")).json()
    root = world.library_root
    assert [(f["Name"], f["Locations"], f["CollectionType"]) for f in folders] == [
        ("Movies (existing)", ["/media/movies"], "movies"),
        ("Shows (existing)", ["/media/shows"], "tvshows"),
        ("Movies", [f"{root}/movies"], "movies"),
        ("Shows", [f"{root}/shows"], "tvshows"),
        ("Movies 4K", [f"{root}/movies-4k"], "movies"),
        ("Shows 4K", [f"{root}/shows-4k"], "tvshows"),
    ]
    assert len({f["ItemId"] for f in folders}) == 6
    top = (await http.get("/Items")).json()["Items"]  # the libraries are the top-level items
    assert [i["Name"] for i in top] == sorted(f["Name"] for f in folders)
    with pytest.raises(ValueError, match="already exists"):
        world.jellyfin_state.add_disk_library("movies", "movies", str(root))


async def test_seerrs_scans_mark_a_disk_library_movie_available(world: Sandbox, http: httpx.AsyncClient) -> None:
    seerr = world.seerr_state
    torrent = _downloaded(world, "Some.Film.2019.2160p.WEB.mkv", ["Some.Film.2019.2160p.WEB.mkv"])
    entry = _link(world, _root(world, "movies-4k") / "Some Film (2019) [tmdbid-100]" / "Some Film (2019).mkv", torrent)
    await _report(http, entry)
    seerr.run_job("jellyfin-recently-added-scan")
    assert seerr.media_for(SOME_FILM, "movie").status is not MediaStatus.AVAILABLE  # type: ignore[union-attr]
    world.clock.advance(60)
    library = world.jellyfin_state
    four_k = next(f for f in library.libraries if f.name == "Movies 4K")
    latest = await http.get("/Items/Latest", params={"parentId": four_k.id, "userId": library.admin_user_id})
    assert [(i["Name"], i["Type"]) for i in latest.json()] == [("Some Film", "Movie")]
    seerr.run_job("jellyfin-recently-added-scan")  # reads /Items/Latest of every library, the 4K one included
    assert seerr.media_for(SOME_FILM, "movie").status is MediaStatus.AVAILABLE  # type: ignore[union-attr]


def test_without_a_library_root_downloads_still_reach_the_scenarios_library(tmp_path: Path) -> None:
    starter = load_scenario("starter")
    clock = VirtualClock(datetime(2026, 11, 24, 12, tzinfo=UTC), speed=0)
    world = Sandbox(starter, clock, mount_dir=tmp_path / "mount")
    library = world.jellyfin_state
    assert [f.name for f in library.libraries] == ["Movies", "Shows"]
    release = next(r for r in starter.releases if r.name.startswith("Night.of.the.Living.Dead.1968.1080p"))
    torrent_id = world.realdebrid_state.add_torrent(release.info_hash, status="downloaded")
    assert world.mount is not None and world.mount.path_of(world.realdebrid_state.get(torrent_id), 1).is_file()
    assert library.movie_by_tmdb(10331) is None
    library.request_refresh()
    clock.advance(library.scan_duration_s)
    library.settle()
    movie = library.movie_by_tmdb(10331)
    assert movie is not None and movie.parent_id == library.movies_folder.id  # staged by the old mount model
