"""The Torrentio emulator: routes, config parsing, stream formatting against Torrentio's examples, sort/filter/cull,
debrid links, key errors, the daily rate limit and injected faults."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from seerbridge.sandbox import torrentio_format as fmt
from seerbridge.sandbox.clock import VirtualClock
from seerbridge.sandbox.scenario import GB, Scenario
from seerbridge.sandbox.torrentio import TorrentioEmulator, create_app

EXAMPLES = Path(__file__).parent / "torrentio_examples"
PUBLIC = "https://torrentio.strem.fun"
HOST = "http://torrentio.sandbox"
MB = 1024**2
KEY = "EXAMPLEREALDEBRIDAPIKEY0123456789ABCDEFGHIJKLMNOP"
RD_CONFIG = f"sort=qualitysize|qualityfilter=480p,scr,cam|realdebrid={KEY}"

UHD = "Night.of.the.Living.Dead.1968.2160p.UHD.BluRay.x265.10bit.HDR.DV.DTS-HD.MA.1.0-EXAMPLE"
YTS = "Night Of The Living Dead (1968) [1080p] [BluRay] [YTS.MX]"
REMUX = "Night of the Living Dead 1968 REMUX 1080p BluRay AVC DTS-HD MA 1.0-EXAMPLE"
ITA = "Night of the Living Dead 1968 1080p BluRay x264 ITA ENG AC3-EXAMPLE"
DVD = "Night of the Living Dead (1968) DVDRip XviD-EXAMPLE"
SERIES = "Breaking Bad (2008) Complete Series S01-S05 (2160p BluRay x265 HEVC 10bit HDR AAC 5.1)-EXAMPLE"
PACK = "Breaking Bad Season 1 S01 1080p BluRay x265 10bit AAC 5.1 [EXAMPLE]"
PACK_DIR = "Breaking.Bad.S01.1080p.BluRay.x265.10bit.AAC.5.1-EXAMPLE"
RUTOR = "Breaking Bad S01 COMPLETE 720p BluRay x264 RUS ENG-EXAMPLE"


def _file(path: str, size: float) -> dict[str, Any]:
    return {"path": path, "size": int(size)}


def example_releases() -> list[dict[str, Any]]:
    """The database records behind the example files, as scenario releases."""
    movie = "tt0063350"
    show = "tt0903747"
    pack_ep = ".1080p.BluRay.x265.10bit.AAC.5.1-EXAMPLE"
    return [
        {"imdb_id": movie, "name": UHD, "hash": "000d38ea774db068c981ce70940e6a92ab472294", "seeders": 38,
         "provider": "1337x", "files": [_file(f"{UHD}.mkv", 21.5 * GB)]},
        {"imdb_id": movie, "name": YTS, "hash": "97b21f47079b2a329a785a7516e6730e30c3ef42", "seeders": 121,
         "provider": "YTS", "files": [
             _file(f"{YTS}/www.YTS.MX.jpg", 54_000),
             _file(f"{YTS}/Night.Of.The.Living.Dead.1968.1080p.BluRay.x264.AAC5.1-[YTS.MX].mp4", 1.64 * GB)]},
        {"imdb_id": movie, "name": REMUX, "hash": "13172f50b7ab459502efd44d97e1e36136468c98", "seeders": 17,
         "provider": "TorrentGalaxy", "files": [_file(f"{REMUX}.mkv", 18.4 * GB)]},
        {"imdb_id": movie, "name": ITA, "hash": "4b9cc72a95a251b87bc64d2bc026d00aba081f2b", "seeders": 9,
         "provider": "ilCorSaRoNeRo", "files": [_file(f"{ITA}.mkv", 4.3 * GB)]},
        # No explicit files: Torrentio does not know the file list, so no fileIdx/filename.
        {"imdb_id": movie, "name": "Night.of.the.Living.Dead.1968.720p.BluRay.x264-EXAMPLE", "seeders": 12,
         "hash": "b99385f624b392e12c1ac985a0edf424abae9cd2", "provider": "ThePirateBay", "size": int(4.38 * GB)},
        {"imdb_id": movie, "name": DVD, "hash": "832b0ab562c8f3190bf860878b81c17bba1d5469", "seeders": 3,
         "provider": "ThePirateBay", "trackers": [], "files": [
             _file(f"{DVD}/Night.of.the.Living.Dead.1968.DVDRip.XviD-EXAMPLE.nfo", 4000),
             _file(f"{DVD}/Sample/sample.avi", 10 * MB),
             _file(f"{DVD}/Night.of.the.Living.Dead.1968.DVDRip.XviD-EXAMPLE.avi", 698.5 * MB)]},
        # The 0-seeder torrent the culling removes.
        {"imdb_id": movie, "name": "Night.of.the.Living.Dead.1968.480p.DVDRip.x264-DEAD", "seeders": 0,
         "provider": "ThePirateBay", "size": int(0.7 * GB)},
        {"imdb_id": show, "name": SERIES, "hash": "15adb7813cd8942e84410b77178416e82db0a0dc", "seeders": 95,
         "provider": "TorrentGalaxy", "size": 160 * GB, "torrentio_cached": True, "files": [
             *[_file(f"{SERIES}/Extras/Featurette {i:02d}.mkv", 200 * MB) for i in range(11)],
             _file(f"{SERIES}/Season 1/Breaking Bad (2008) - S01E01 - Pilot (2160p BluRay x265 10bit HDR AAC 5.1).mkv",
                   6 * GB),
             _file(f"{SERIES}/Season 1/Breaking Bad (2008) - S01E02 - Cat's in the Bag... "
                   "(2160p BluRay x265 10bit HDR AAC 5.1).mkv", 4.8 * GB)]},
        {"imdb_id": show, "name": PACK, "hash": "030a1e4a3e55369476d073c2103dd40f2b5d937c", "seeders": 212,
         "provider": "1337x", "size": int(9.6 * GB), "torrentio_cached": True, "files": [
             _file(f"{PACK_DIR}/Breaking.Bad.S01E01.Pilot{pack_ep}.mkv", 1.9 * GB),
             _file(f"{PACK_DIR}/Breaking.Bad.S01E02.Cats.in.the.Bag{pack_ep}.mkv", 1.32 * GB),
             *[_file(f"{PACK_DIR}/Breaking.Bad.S01E0{e}{pack_ep}.mkv", 1.3 * GB) for e in range(3, 8)],
             _file(f"{PACK_DIR}/Breaking.Bad.S01E01.Pilot{pack_ep}.en.srt", 60_000),
             _file(f"{PACK_DIR}/info.nfo", 1000),
             _file(f"{PACK_DIR}/Breaking.Bad.S01E02.Cats.in.the.Bag{pack_ep}.en.srt", 55_000)]},
        {"imdb_id": show, "name": "Breaking.Bad.S01E02.1080p.BluRay.x264-EXAMPLE", "seeders": 64, "provider": "EZTV",
         "hash": "febc63565a87f99b167e85efa31f08ebecb399f3",
         "files": [_file("Breaking.Bad.S01E02.1080p.BluRay.x264-EXAMPLE.mkv", 1.8 * GB)]},
        {"imdb_id": show, "name": "Breaking.Bad.S01E02.720p.WEB-DL.DD5.1.H.264-EXAMPLE", "seeders": 23,
         "provider": "EZTV", "hash": "a0c150bb412c14f73b740a34facf7455279559f6",
         "files": [_file("Breaking.Bad.S01E02.720p.WEB-DL.DD5.1.H.264-EXAMPLE.mkv", 1.2 * GB)]},
        {"imdb_id": show, "name": RUTOR, "hash": "242507d8a86ffa86ab70e97ab73dfd6ff83cfa9b", "seeders": 7,
         "provider": "Rutor", "size": 9 * GB, "files": [
             _file(f"{RUTOR}/Breaking.Bad.S01E01.720p.BluRay.x264.RUS.ENG-EXAMPLE.mkv", 1.3 * GB),
             _file(f"{RUTOR}/Breaking.Bad.S01E02.720p.BluRay.x264.RUS.ENG-EXAMPLE.mkv", 1.3 * GB)]},
        {"imdb_id": show, "name": "Breaking.Bad.S01E02.480p.x264-mSD", "seeders": 5, "provider": "EZTV",
         "hash": "4648cf8f135a3e60591034113cf6ca03d272bf4e",
         "files": [_file("Breaking.Bad.S01E02.480p.x264-mSD.mkv", 175 * MB)]},
    ]  # fmt: skip


def scenario(releases: list[dict[str, Any]] | None = None, **extra: Any) -> Scenario:
    return Scenario.model_validate(
        {
            "name": "torrentio-test",
            "keys": {"realdebrid": KEY},
            "media": [
                {"type": "movie", "tmdb_id": 10331, "imdb_id": "tt0063350", "title": "Night of the Living Dead"},
                {"type": "movie", "tmdb_id": 1, "imdb_id": "tt0000001", "title": "Test Movie"},
                {
                    "type": "tv",
                    "tmdb_id": 1396,
                    "imdb_id": "tt0903747",
                    "title": "Breaking Bad",
                    "seasons": [{"season": 1, "episodes": 7}],
                },
            ],
            "releases": example_releases() if releases is None else releases,
            **extra,
        }
    )


def client_for(app: Any, base: str = HOST, ip: str = "127.0.0.1") -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=(ip, 5000)), base_url=base)


def example(name: str) -> Any:
    return json.loads((EXAMPLES / name).read_text(encoding="utf-8"))


def movie(name: str, seeders: int | None, size: float = 2 * GB, provider: str = "1337x", **kw: Any) -> dict[str, Any]:
    return {"imdb_id": "tt0000001", "name": name, "seeders": seeders, "size": int(size), "provider": provider, **kw}


async def get_streams(path: str, releases: list[dict[str, Any]], **extra: Any) -> list[dict[str, Any]]:
    app = create_app(scenario(releases, **extra), VirtualClock())
    async with client_for(app) as c:
        r = await c.get(path)
    assert r.status_code == 200, r.text
    streams: list[dict[str, Any]] = r.json()["streams"]
    return streams


def titles(streams: list[dict[str, Any]]) -> list[str]:
    return [s["title"].split("\n")[0] for s in streams]


# -- fidelity ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("/stream/movie/tt0063350.json", "movie-tt0063350.json"),
        ("/stream/series/tt0903747:1:2.json", "series-tt0903747-1-2.json"),
        (f"/{RD_CONFIG}/stream/series/tt0903747:1:2.json", "series-tt0903747-1-2-realdebrid.json"),
        ("/realdebrid=SHORTKEY/stream/movie/tt0063350.json", "movie-tt0063350-realdebrid-invalid-token.json"),
        ("/manifest.json", "manifest.json"),
        (f"/{RD_CONFIG}/manifest.json", "manifest-realdebrid.json"),
    ],
)
async def test_output_equals_torrentio_examples(path: str, name: str) -> None:
    """Whole bodies equal, field order included: name, title lines, infoHash, fileIdx, hints, sources, subtitles."""
    app = create_app(scenario(), VirtualClock())
    async with client_for(app, PUBLIC) as c:
        r = await c.get(path)
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/json; charset=utf-8"
    want = example(name)
    got = r.json()
    assert got == want
    if "streams" in want:
        for got_stream, want_stream in zip(got["streams"], want["streams"], strict=True):
            assert list(got_stream) == list(want_stream)


async def test_body_is_compact_json_with_mirrored_cache_control() -> None:
    app = create_app(scenario(), VirtualClock())
    async with client_for(app) as c:
        r = await c.get("/stream/movie/tt0063350.json")
        empty = await c.get("/stream/movie/tt9999999.json")
        invalid = await c.get("/realdebrid=short/stream/movie/tt0063350.json")
    assert r.content == json.dumps(r.json(), ensure_ascii=False, separators=(",", ":")).encode()
    assert "👤".encode() in r.content  # not \u-escaped
    assert r.headers["cache-control"] == "max-age=3600, stale-while-revalidate=14400, stale-if-error=604800, public"
    assert empty.json() == {"streams": [], "cacheMaxAge": 60, "staleRevalidate": 14400, "staleError": 604800}
    assert empty.headers["cache-control"].startswith("max-age=60,")
    assert invalid.json()["cacheMaxAge"] == 0
    assert invalid.headers["cache-control"].startswith("max-age=0,")


def test_size_formatting_follows_javascript() -> None:
    assert fmt.format_size(int(1.64 * GB)) == "1.64 GB"
    assert fmt.format_size(int(4.3 * GB)) == "4.3 GB"
    assert fmt.format_size(175 * MB) == "175 MB"
    assert fmt.format_size(int(698.5 * MB)) == "698.5 MB"
    assert fmt.format_size(1023) == "1023 B"
    assert fmt.format_size(1024) == "1 kB"
    assert fmt.format_size(1536 * GB) == "1.5 TB"
    assert fmt.format_size(300_000_000) is None  # Torrentio's "unknown"
    assert fmt.format_size(0) is None


async def test_name_quality_from_file_then_torrent_and_cam_overrides_resolution() -> None:
    streams = await get_streams(
        "/stream/movie/tt0000001.json",
        [
            movie("Test.Movie.2020.1080p.HDCAM.x264-GRP", 50),
            movie("Test.Movie.2020.HDTS.x264-GRP", 40),
            movie("Test Movie 2020 3D HSBS 1080p BluRay x264-GRP", 30),
            movie("Test.Movie.2020.2160p.WEB-DL.HDR10+.H.265-GRP", 20),
            movie("Test.Movie.2020-NOINFO", 10),
        ],
    )
    names = {s["title"].split("\n")[0]: s["name"] for s in streams}
    assert names["Test.Movie.2020.1080p.HDCAM.x264-GRP"] == "Torrentio\nCAM"
    assert names["Test.Movie.2020.HDTS.x264-GRP"] == "Torrentio\nTeleSync"
    assert names["Test Movie 2020 3D HSBS 1080p BluRay x264-GRP"] == "Torrentio\n1080p 3D HSBS"
    assert names["Test.Movie.2020.2160p.WEB-DL.HDR10+.H.265-GRP"] == "Torrentio\n4k HDR10+"
    assert names["Test.Movie.2020-NOINFO"] == "Torrentio"


async def test_title_collapses_commas_and_omits_unknown_parts() -> None:
    streams = await get_streams(
        "/stream/movie/tt0000001.json",
        [movie("Test Movie,, 2020  1080p", None, size=300_000_000, provider="YTS", languages=["🇬🇧"])],
    )
    assert streams[0]["title"] == "Test Movie 2020 1080p\n⚙️ YTS"


async def test_second_title_line_only_for_a_different_file() -> None:
    files_near = [_file("Folder.Name/Test.Movie.2020.1080p.mkv", 2 * GB)]
    files_far = [_file("Folder.Name/Test.Movie.2020.1080p.mkv", 1 * GB), _file("Folder.Name/extra.mkv", 1 * GB)]
    streams = await get_streams(
        "/stream/movie/tt0000001.json",
        [
            movie("Same size 1080p", 50, size=2.05 * GB, files=files_near),  # < 5 % apart: same info
            movie("Half size 1080p", 40, size=2 * GB, files=files_far),  # 50 % apart, path lacks the name
            movie("Inside 1080p", 30, size=9 * GB, files=[_file("Inside 1080p/a.mkv", 1 * GB)]),
        ],
    )
    by_name = {s["title"].split("\n")[0]: s for s in streams}
    assert by_name["Same size 1080p"]["title"].count("\n") == 1
    assert by_name["Half size 1080p"]["title"].split("\n")[1] == "Folder.Name/Test.Movie.2020.1080p.mkv"
    assert by_name["Half size 1080p"]["fileIdx"] == 0  # equal sizes: the first video wins
    assert by_name["Inside 1080p"]["title"].count("\n") == 1


async def test_generated_files_give_movies_no_file_index_and_series_the_episode_file() -> None:
    app = create_app(scenario([]), VirtualClock())
    emulator: TorrentioEmulator = app.state.emulator
    emulator.add_release(movie("Test.Movie.2020.1080p.WEB-DL.H.264-GRP", 10, sample=True))
    emulator.add_release(movie("Test.Movie.2020.720p.WEB-DL.H.264-GRP", 10))
    emulator.add_release(
        {"imdb_id": "tt0903747", "name": "Breaking.Bad.S01.1080p.WEB-DL-GRP", "covers": {1: [1, 2, 3]}, "size": "3 GB"}
    )
    async with client_for(app) as c:
        movies = (await c.get("/stream/movie/tt0000001.json")).json()["streams"]
        episode = (await c.get("/stream/series/tt0903747:1:3.json")).json()["streams"]
        missing = (await c.get("/stream/series/tt0903747:1:4.json")).json()["streams"]
        as_movie = (await c.get("/stream/movie/tt0903747.json")).json()["streams"]
    by_name = {s["title"].split("\n")[0]: s for s in movies}
    assert by_name["Test.Movie.2020.1080p.WEB-DL.H.264-GRP"]["fileIdx"] == 0  # main file beside a sample
    assert "fileIdx" not in by_name["Test.Movie.2020.720p.WEB-DL.H.264-GRP"]
    assert "filename" not in by_name["Test.Movie.2020.720p.WEB-DL.H.264-GRP"]["behaviorHints"]
    assert episode[0]["fileIdx"] == 2
    assert episode[0]["behaviorHints"]["filename"].startswith("Breaking.Bad.S01E03.")
    assert "💾 1 GB" in episode[0]["title"]  # the file's size, not the torrent's
    assert missing == [] and as_movie == []


# -- routes --------------------------------------------------------------------------------------------------


async def test_root_redirects_and_configure_pages_are_html() -> None:
    app = create_app(scenario([]), VirtualClock())
    async with client_for(app) as c:
        root = await c.get("/")
        lite = await c.get("/lite")
        plain = await c.get("/configure")
        configured = await c.get("/sort=size|limit=2/configure")
    assert root.status_code == 302 and root.headers["location"] == "/configure"
    assert lite.status_code == 302 and lite.headers["location"] == "/lite/configure"
    for page in (plain, configured):
        assert page.status_code == 200
        assert page.headers["content-type"].startswith("text/html")
    assert "sort=size|limit=2" in configured.text


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/nothing-here"),
        ("GET", "/images"),
        ("GET", "/stream/movie"),
        ("GET", "/bogus/movie/tt0063350.json"),
        ("GET", "/a/b/c/d/e/f.json"),
        ("GET", "/catalog/other/torrentio-realdebrid.json"),  # no debrid configured: no catalog
        ("POST", "/manifest.json"),
        ("GET", "/resolve/realdebrid/KEY/not-a-hash/null/0/x.mkv"),
        ("GET", "/resolve/nodebrid/" + KEY + "/" + "a" * 40 + "/null/0/x.mkv"),
    ],
)
async def test_unknown_routes_answer_404_with_an_empty_body(method: str, path: str) -> None:
    app = create_app(scenario([]), VirtualClock())
    async with client_for(app) as c:
        r = await c.request(method, path)
    assert r.status_code == 404
    assert r.content == b""


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/stream/movie/abc.json", {"streams": []}),
        ("/stream/other/tt0063350.json", {"streams": []}),
        ("/stream/series/kitsu:123:4.json", fmt.envelope([])),  # kitsu ids are handled; we hold no anime
        ("/stream/movie/tt0903747:1:2.json", fmt.envelope([])),
        ("/stream/series/tt0903747.json", fmt.envelope([])),
    ],
)
async def test_unsupported_ids_answer_200_with_no_streams(path: str, body: dict[str, Any]) -> None:
    app = create_app(scenario(), VirtualClock())
    async with client_for(app) as c:
        r = await c.get(path)
    assert r.status_code == 200
    assert r.json() == body


async def test_percent_encoded_colons_and_pipes_are_accepted() -> None:
    app = create_app(scenario(), VirtualClock())
    async with client_for(app) as c:
        plain = await c.get(f"/{RD_CONFIG}/stream/series/tt0903747:1:2.json")
        raw = RD_CONFIG.replace("|", "%7C")
        encoded = await c.get(httpx.URL(f"{HOST}/{raw}/stream/series/tt0903747%3A1%3A2.json"))
    assert encoded.status_code == 200
    assert encoded.json() == plain.json()
    assert len(plain.json()["streams"]) == 5


async def test_extra_segment_and_handler_error() -> None:
    app = create_app(scenario(), VirtualClock())
    app.state.emulator.fail_handler("tt0063350")
    async with client_for(app) as c:
        with_extra = await c.get("/stream/series/tt0903747:1:2/videoHash=abc.json")
        failing = await c.get("/stream/movie/tt0063350.json")
    assert len(with_extra.json()["streams"]) == 6
    assert failing.status_code == 500
    assert failing.json() == {"err": "handler error"}


async def test_debrid_catalog_is_served_only_with_a_key() -> None:
    app = create_app(scenario(), VirtualClock())
    async with client_for(app) as c:
        catalog = await c.get(f"/realdebrid={KEY}/catalog/other/torrentio-realdebrid/skip=0.json")
        refused = await c.get("/realdebrid=WRONGWRONGWRONGWRONG/catalog/other/torrentio-realdebrid.json")
    assert catalog.json() == {"metas": [], "cacheMaxAge": 0}
    assert refused.status_code == 500


# -- config --------------------------------------------------------------------------------------------------


def test_config_segment_parsing_rules() -> None:
    config = fmt.parse_config(
        "Sort=QualitySize|Providers=YTS,EZTV|qualityfilter=480P,Cam|sizefilter=10gb,2gb|limit=2"
        "|language=Spanish|debridoptions=NoDownloadLinks|realdebrid=AbCdEf|novalue|a=b=c"
    )
    assert config.sort == "qualitysize"
    assert config.providers == ("yts", "eztv")
    assert config.quality_filter == ("480p", "cam")
    assert config.size_filter == ("10GB", "2GB")
    assert config.limit == 2
    assert config.languages == ("spanish",)
    assert config.debrid_options == ("nodownloadlinks",)
    assert [(m.key, key) for m, key in config.mochs] == [("realdebrid", "AbCdEf")]  # the key keeps its case
    assert "novalue" not in config.values and "a" not in config.values
    assert fmt.parse_config("sort=size%7Climit=3").limit == 3
    assert fmt.parse_config("limit=0").limit is None
    assert fmt.parse_config("lite").quality_filter == ("scr", "cam")
    assert fmt.parse_config(None).mochs == []


async def test_manifest_follows_the_config() -> None:
    app = create_app(scenario([]), VirtualClock())
    async with client_for(app) as c:
        only_yts = (await c.get("/providers=yts/manifest.json")).json()
        no_catalog = (await c.get(f"/debridoptions=nocatalog|realdebrid={KEY}/manifest.json")).json()
        two = (await c.get(f"/realdebrid={KEY}|premiumize={KEY}/manifest.json")).json()
    assert "YTS(+), EZTV(-)" in only_yts["description"]
    assert only_yts["background"] == f"{HOST}/images/background_v1.jpg"
    assert no_catalog["name"] == "Torrentio RD"
    assert no_catalog["catalogs"] == [] and len(no_catalog["resources"]) == 1
    assert two["name"] == "Torrentio RD/PM"
    assert "and RealDebrid & Premiumize enabled." in two["description"]


# -- filters, sorting, culling -------------------------------------------------------------------------------


async def test_provider_filter_defaults_to_known_providers() -> None:
    releases = [movie("A 1080p", 50, provider="YTS"), movie("B 1080p", 40, provider="EZTV")]
    releases.append(movie("C 1080p", 30, provider="SomeTracker"))
    assert titles(await get_streams("/stream/movie/tt0000001.json", releases)) == ["A 1080p", "B 1080p"]
    assert titles(await get_streams("/providers=eztv/stream/movie/tt0000001.json", releases)) == ["B 1080p"]


async def test_quality_filter_matches_torrentio_quirks() -> None:
    releases = [
        movie("Movie.2020.1080p.BluRay.x264-A", 50),
        movie("Movie.2020.1080p.BluRay.HDR.x265-B", 40),
        movie("Movie.2020.HDCAM.x264-C", 30),
        movie("Movie.2020.DVDRip.XviD-D", 20),
        movie("Movie.2020.1080p.BluRay.REMUX.AVC-E", 10),
    ]
    path = "/qualityfilter={}/stream/movie/tt0000001.json"
    # `1080p` drops exactly "1080p": the HDR stream's quality is "1080p HDR" and stays.
    assert titles(await get_streams(path.format("1080p"), releases)) == [
        "Movie.2020.1080p.BluRay.HDR.x265-B",
        "Movie.2020.HDCAM.x264-C",
        "Movie.2020.DVDRip.XviD-D",
    ]
    kept = titles(await get_streams(path.format("cam,other,hdrall,brremux"), releases))
    assert kept == ["Movie.2020.1080p.BluRay.x264-A"]


async def test_size_filter_uses_first_value_for_movies_and_last_for_series() -> None:
    releases = [movie("Small 1080p", 50, size=1 * GB), movie("Big 1080p", 40, size=8 * GB)]
    assert titles(await get_streams("/sizefilter=5GB,500MB/stream/movie/tt0000001.json", releases)) == ["Small 1080p"]
    show = [
        {"imdb_id": "tt0903747", "name": "Breaking.Bad.S01E01.1080p-A", "covers": {1: [1]}, "size": "400 MB"},
        {"imdb_id": "tt0903747", "name": "Breaking.Bad.S01E01.720p-B", "covers": {1: [1]}, "size": "900 MB"},
    ]
    kept = titles(await get_streams("/sizefilter=5GB,500MB/stream/series/tt0903747:1:1.json", show))
    assert kept == ["Breaking.Bad.S01E01.1080p-A"]


async def test_quality_groups_order_and_nested_sorts() -> None:
    releases = [
        movie("Movie.2020.720p.WEB-DL-A", 90, size=1 * GB),
        movie("Movie.2020.1080p.WEB-DL-B", 80, size=2 * GB),
        movie("Movie.2020.1080p.WEB-DL-C", 70, size=6 * GB),
        movie("Movie.2020.1080p.WEB-DL.HDR-D", 60, size=5 * GB),
        movie("Movie.2020.2160p.WEB-DL-E", 50, size=20 * GB),
        movie("Movie.2020.DVDRip-F", 40, size=1 * GB),
        movie("Movie.2020.HDCAM-G", 30, size=1 * GB),
    ]
    by_quality = titles(await get_streams("/stream/movie/tt0000001.json", releases))
    assert by_quality == [
        "Movie.2020.2160p.WEB-DL-E",
        "Movie.2020.1080p.WEB-DL.HDR-D",  # HDR ranks just above plain 1080p
        "Movie.2020.1080p.WEB-DL-B",
        "Movie.2020.1080p.WEB-DL-C",
        "Movie.2020.720p.WEB-DL-A",
        "Movie.2020.HDCAM-G",  # "Cam" sorts before "Other (...)"
        "Movie.2020.DVDRip-F",
    ]
    by_size = titles(await get_streams("/sort=qualitysize/stream/movie/tt0000001.json", releases))
    assert by_size[2:4] == ["Movie.2020.1080p.WEB-DL-C", "Movie.2020.1080p.WEB-DL-B"]
    limited = titles(await get_streams("/sort=qualitysize|limit=1/stream/movie/tt0000001.json", releases))
    assert limited == [
        "Movie.2020.2160p.WEB-DL-E",
        "Movie.2020.1080p.WEB-DL.HDR-D",
        "Movie.2020.1080p.WEB-DL-C",
        "Movie.2020.720p.WEB-DL-A",
        "Movie.2020.HDCAM-G",
        "Movie.2020.DVDRip-F",
    ]
    seeders = titles(await get_streams("/sort=seeders|limit=3/stream/movie/tt0000001.json", releases))
    assert seeders == ["Movie.2020.720p.WEB-DL-A", "Movie.2020.1080p.WEB-DL-B", "Movie.2020.1080p.WEB-DL-C"]
    size = titles(await get_streams("/sort=size|limit=2/stream/movie/tt0000001.json", releases))
    assert size == ["Movie.2020.2160p.WEB-DL-E", "Movie.2020.1080p.WEB-DL-C"]


async def test_seeder_culling_without_debrid_and_none_with_it() -> None:
    few = [movie(f"Movie.2020.1080p-{i}", s) for i, s in enumerate([3, 2, 0, 0, 0, 0, 0])]
    # Fewer than 5 seeded streams: only the first 5 (by seeders) are kept, 0-seeders included.
    assert len(await get_streams("/stream/movie/tt0000001.json", few)) == 5
    some = [movie(f"Movie.2020.1080p-{i}", s) for i, s in enumerate([9, 4, 3, 2, 1, 0, 0])]
    # At least 5 seeded: the 0-seeder ones go.
    assert len(await get_streams("/stream/movie/tt0000001.json", some)) == 5
    many = [movie(f"Movie.2020.1080p-h{i}", 5 + i) for i in range(50)]
    many += [movie(f"Movie.2020.1080p-w{i}", 1) for i in range(10)]
    healthy = await get_streams("/stream/movie/tt0000001.json", many)
    assert len(healthy) == 50 and all(fmt.extract_seeders(s["title"]) >= 5 for s in healthy)
    seeded = [movie(f"Movie.2020.1080p-s{i}", 1 + i % 3) for i in range(60)]
    assert len(await get_streams("/stream/movie/tt0000001.json", seeded)) == 50
    with_key = await get_streams(f"/realdebrid={KEY}/stream/movie/tt0000001.json", seeded)
    assert len(with_key) == 60


async def test_language_option_puts_flagged_streams_first() -> None:
    releases = [
        movie("Movie.2020.1080p.BluRay-A", 90),
        movie("Movie.2020.720p.ITALIAN.WEB-B", 10),
        movie("Movie.2020.1080p.BluRay-C", 80, languages=["🇮🇹"]),
    ]
    streams = await get_streams("/language=italian/stream/movie/tt0000001.json", releases)
    assert titles(streams) == [
        "Movie.2020.1080p.BluRay-C",
        "Movie.2020.720p.ITALIAN.WEB-B",
        "Movie.2020.1080p.BluRay-A",
    ]
    assert streams[0]["title"].endswith("\n🇮🇹")


async def test_language_line_skips_english_only_and_orders_flags() -> None:
    releases = [
        movie("Movie.2020.1080p.ENG-A", 50),
        movie("Movie.2020.1080p.GERMAN.DL-B", 40, languages=["english", "fr"]),
        movie("Movie.2020.1080p.MULTi-C", 30),
        movie("Movie.2020.1080p.DUBBED-D", 20),
    ]
    got = await get_streams("/stream/movie/tt0000001.json", releases)
    lines = {s["title"].split("\n")[0]: s["title"].split("\n")[-1] for s in got}
    assert lines["Movie.2020.1080p.ENG-A"].startswith("👤")
    assert lines["Movie.2020.1080p.GERMAN.DL-B"] == "🇬🇧 / 🇫🇷 / 🇩🇪"
    assert lines["Movie.2020.1080p.MULTi-C"] == "Multi Audio"
    assert lines["Movie.2020.1080p.DUBBED-D"] == "Dubbed"


# -- debrid ---------------------------------------------------------------------------------------------------


async def test_debrid_links_follow_the_torrentio_cache_marker() -> None:
    app = create_app(scenario(), VirtualClock())
    emulator: TorrentioEmulator = app.state.emulator
    path = f"/realdebrid={KEY}/stream/movie/tt0063350.json"
    async with client_for(app) as c:
        before = (await c.get(path)).json()["streams"]
        emulator.set_torrentio_cached("97b21f47079b2a329a785a7516e6730e30c3ef42")
        after = (await c.get(path)).json()["streams"]
        no_downloads = await c.get(f"/debridoptions=nodownloadlinks|realdebrid={KEY}/stream/movie/tt0063350.json")
    assert all(s["name"].startswith("[RD download] ") for s in before)
    assert all(set(s) == {"name", "title", "url", "behaviorHints"} for s in before)
    # No seeder culling with a key, but the 0-seeder non-4k stream gets no download link (more than 5 seeded).
    assert len(before) == 6
    assert after[0]["name"] == "[RD+] Torrentio\n1080p"
    assert after[0]["url"] == (
        f"{HOST}/resolve/realdebrid/{KEY}/97b21f47079b2a329a785a7516e6730e30c3ef42/null/1/"
        "Night.Of.The.Living.Dead.1968.1080p.BluRay.x264.AAC5.1-%5BYTS.MX%5D.mp4"
    )
    undefined = next(s for s in before if "b99385f624b392e12c1ac985a0edf424abae9cd2" in s["url"])
    assert undefined["url"].endswith("/null/undefined/Night.of.the.Living.Dead.1968.720p.BluRay.x264-EXAMPLE")
    assert [s["name"] for s in no_downloads.json()["streams"]] == ["[RD+] Torrentio\n1080p"]


async def test_refused_keys_give_the_single_error_stream() -> None:
    app = create_app(scenario(), VirtualClock())
    emulator: TorrentioEmulator = app.state.emulator
    want = example("movie-tt0063350-realdebrid-invalid-token.json")
    want["streams"][0]["url"] = f"{HOST}/videos/failed_access_v3.mp4"
    async with client_for(app) as c:
        wrong = (await c.get("/realdebrid=THIS-IS-LONG-BUT-WRONG/stream/movie/tt0063350.json")).json()
        emulator.reject_key(KEY)
        rejected = (await c.get(f"/realdebrid={KEY}/stream/movie/tt0063350.json")).json()
        nothing = (await c.get("/realdebrid=short/stream/movie/tt7777777.json")).json()
    assert wrong == want
    assert rejected == want
    assert nothing == fmt.envelope([])  # no streams: the debrid step (and its key check) never runs


async def test_expired_subscription_stream() -> None:
    app = create_app(scenario(realdebrid={"premium_days": 0}), VirtualClock())
    async with client_for(app) as c:
        body = (await c.get(f"/realdebrid={KEY}/stream/movie/tt0063350.json")).json()
    assert body["streams"] == [
        {
            "name": "Torrentio\nRD error",
            "title": "Expired/invalid RealDebrid subscription!",
            "url": f"{HOST}/videos/failed_access_v3.mp4",
        }
    ]


async def test_resolve_redirects_and_is_recorded() -> None:
    releases = [
        movie("Cached 1080p", 5, hash="a" * 40, rd="cached"),
        movie("Uncached 1080p", 5, hash="b" * 40, rd="uncached"),
        movie("Refused 1080p", 5, hash="c" * 40, rd="refused"),
    ]
    app = create_app(scenario(releases), VirtualClock())
    emulator: TorrentioEmulator = app.state.emulator
    async with client_for(app) as c:
        ok = await c.get(f"/resolve/realdebrid/{KEY}/{'a' * 40}/null/0/Cached%201080p.mkv")
        waiting = await c.get(f"/resolve/realdebrid/{KEY}/{'b' * 40}/null/undefined/x.mkv")
        refused = await c.get(f"/resolve/realdebrid/{KEY}/{'c' * 40}/null/0/x.mkv")
        bad_key = await c.get(f"/resolve/realdebrid/short/{'a' * 40}/null/0/x.mkv")
    assert ok.status_code == 302
    assert ok.headers["location"].startswith("https://sandbox1.download.real-debrid.com/d/")
    assert ok.headers["location"].endswith("/Cached%201080p.mkv")
    assert ok.headers["cache-control"] == "max-age=21600, public"
    assert waiting.headers["location"] == f"{HOST}/videos/downloading_v3.mp4"
    assert refused.headers["location"] == f"{HOST}/videos/failed_infringement_v3.mp4"
    assert bad_key.headers["location"] == f"{HOST}/videos/failed_access_v3.mp4"
    assert [(r.info_hash[0], r.file_index, r.outcome) for r in emulator.resolves] == [
        ("a", 0, "ok"),
        ("b", None, "downloading_v3"),
        ("c", 0, "failed_infringement_v3"),
        ("a", 0, "failed_access_v3"),
    ]


# -- rate limit and faults -------------------------------------------------------------------------------------


async def test_daily_limit_per_client_ip_in_a_virtual_24h_window() -> None:
    clock = VirtualClock()
    app = create_app(scenario(torrentio={"daily_limit": 3}), clock)
    emulator: TorrentioEmulator = app.state.emulator
    async with client_for(app) as c, client_for(app, ip="10.0.0.2") as other:
        statuses = [(await c.get("/stream/movie/tt0063350.json")).status_code for _ in range(3)]
        refused = await c.get("/stream/series/tt0903747:1:2.json")
        manifest = await c.get("/manifest.json")
        elsewhere = await other.get("/stream/movie/tt0063350.json")
        clock.advance(23 * 3600)
        still = await c.get("/stream/movie/tt0063350.json")
        clock.advance(3600)
        again = await c.get("/stream/movie/tt0063350.json")
    assert statuses == [200, 200, 200]
    assert refused.status_code == 429
    assert refused.content == b"Too many requests, please try again later."
    assert refused.headers["content-type"] == "text/html; charset=utf-8"
    assert not any(h.lower().startswith(("ratelimit", "x-ratelimit", "retry-after")) for h in refused.headers)
    assert manifest.status_code == 200  # only resource routes count
    assert elsewhere.status_code == 200
    assert still.status_code == 429
    assert again.status_code == 200
    assert emulator.used_today("127.0.0.1") == 1
    assert [r.id for r in emulator.stream_calls()] == ["tt0063350"] * 5  # refused calls are not answered


async def test_injected_faults_use_torrentio_shapes() -> None:
    app = create_app(scenario(), VirtualClock())
    control = app.state.sandbox
    control.queue("too_many")
    control.queue("error")
    control.queue("malformed")
    async with client_for(app) as c:
        too_many = await c.get("/stream/movie/tt0063350.json")
        error = await c.get("/stream/movie/tt0063350.json")
        malformed = await c.get("/stream/movie/tt0063350.json")
        fine = await c.get("/stream/movie/tt0063350.json")
    assert too_many.status_code == 429 and too_many.content == b"Too many requests, please try again later."
    assert too_many.headers["content-type"] == "text/html; charset=utf-8"
    assert error.status_code == 503
    assert malformed.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        malformed.json()
    assert fine.status_code == 200
    assert control.count(path_pattern=r"/stream/movie/") == 4


async def test_releases_can_appear_and_disappear() -> None:
    app = create_app(scenario([]), VirtualClock())
    emulator: TorrentioEmulator = app.state.emulator
    async with client_for(app) as c:
        assert (await c.get("/stream/movie/tt0000001.json")).json()["streams"] == []
        spec = emulator.add_release(movie("Movie.2020.1080p-NEW", 10))
        assert len((await c.get("/stream/movie/tt0000001.json")).json()["streams"]) == 1
        emulator.remove_release(spec.info_hash)
        assert (await c.get("/stream/movie/tt0000001.json")).json()["streams"] == []
