"""The Torrentio client: every example shape parsed, hashes from resolve URLs, the debrid key kept out of models,
errors and logs, episode routing, bad bodies turned into typed errors, and the emulator end to end."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import structlog
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import SecretStr

from seerbridge.config import TorrentioSettings
from seerbridge.errors import (
    AuthenticationError,
    BadResponse,
    PermissionDenied,
    RateLimited,
    ServiceUnavailable,
    ServiceUnreachable,
)
from seerbridge.sandbox.clock import VirtualClock
from seerbridge.sandbox.scenario import Scenario, load_scenario
from seerbridge.sandbox.torrentio import create_app
from seerbridge.services.calls import CallLedger
from seerbridge.services.torrentio import SkippedStream, Stream, TorrentioClient, parse_stream, parse_streams

EXAMPLES = Path(__file__).parents[1] / "sandbox" / "torrentio_examples"
GB = 1024**3
EXAMPLE_KEY = "EXAMPLEREALDEBRIDAPIKEY0123456789ABCDEFGHIJKLMNOP"
STARTER_KEY = "SANDBOXREALDEBRIDTOKEN0123456789ABCDEFGHIJKLMNOPQR"
PLAIN_URL = "http://torrentio.sandbox/sort=qualitysize|qualityfilter=480p,scr,cam"


def tio_settings(url: str = PLAIN_URL, **kw: Any) -> TorrentioSettings:
    values: dict[str, Any] = {
        "url": SecretStr(url),
        "rate_limit_per_min": 0,
        "daily_budget": 0,
        "retries": 2,
        "timeout_s": 2.0,
        **kw,
    }
    return TorrentioSettings(**values)


def example(name: str) -> Any:
    return json.loads((EXAMPLES / name).read_text(encoding="utf-8"))


class Served:
    """A MockTransport handler answering from a function of the request path; records requests."""

    def __init__(self, answer: Callable[[httpx.Request], httpx.Response]) -> None:
        self.answer = answer
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.answer(request)


def serve_example(name: str, status: int = 200) -> Served:
    body = (EXAMPLES / name).read_bytes()
    return Served(lambda request: httpx.Response(status, content=body, headers={"content-type": "application/json"}))


def client(served: Served, url: str = PLAIN_URL, **kw: Any) -> TorrentioClient:
    return TorrentioClient(tio_settings(url, **kw), transport=httpx.MockTransport(served))


# -- example shapes -------------------------------------------------------------------------------------------


async def test_movie_example_is_read_field_by_field() -> None:
    served = serve_example("movie-tt0063350.json")
    async with client(served) as tio:
        streams = await tio.movie_streams("tt0063350")
    assert len(streams) == 6
    first, yts, _, ita, no_index, dvd = streams
    assert first == Stream(
        release_name="Night.of.the.Living.Dead.1968.2160p.UHD.BluRay.x265.10bit.HDR.DV.DTS-HD.MA.1.0-EXAMPLE",
        info_hash="000d38ea774db068c981ce70940e6a92ab472294",
        file_idx=0,
        filename="Night.of.the.Living.Dead.1968.2160p.UHD.BluRay.x265.10bit.HDR.DV.DTS-HD.MA.1.0-EXAMPLE.mkv",
        seeders=38,
        size_bytes=int(21.5 * GB),
        provider="1337x",
        quality_label="4k DV | HDR",
        binge_group="torrentio|4k|BluRay|x265|10bit|DV|HDR",
    )
    assert yts.release_name == "Night Of The Living Dead (1968) [1080p] [BluRay] [YTS.MX]"
    assert (yts.file_idx, yts.size_bytes, yts.provider) == (1, int(1.64 * GB), "YTS")
    assert yts.filename == "Night.Of.The.Living.Dead.1968.1080p.BluRay.x264.AAC5.1-[YTS.MX].mp4"
    assert ita.languages == ("🇬🇧", "🇮🇹")
    assert (no_index.file_idx, no_index.filename, no_index.size_bytes) == (None, None, int(4.38 * GB))
    assert dvd.quality_label == "DVDRip" and dvd.size_bytes == int(698.5 * 1024**2)
    assert not any(s.cached_hint or s.debrid for s in streams)
    assert served.requests[0].url.path == "/sort=qualitysize|qualityfilter=480p,scr,cam/stream/movie/tt0063350.json"


async def test_series_example_keeps_the_pack_file_path() -> None:
    served = serve_example("series-tt0903747-1-2.json")
    async with client(served) as tio:
        streams = await tio.episode_streams("tt0903747", 1, 2)
    assert [s.file_idx for s in streams] == [12, 1, 0, 0, 1, 0]
    pack = streams[1]
    assert pack.release_name == "Breaking Bad Season 1 S01 1080p BluRay x265 10bit AAC 5.1 [EXAMPLE]"
    assert pack.file_path == (
        "Breaking.Bad.S01.1080p.BluRay.x265.10bit.AAC.5.1-EXAMPLE/"
        "Breaking.Bad.S01E02.Cats.in.the.Bag.1080p.BluRay.x265.10bit.AAC.5.1-EXAMPLE.mkv"
    )
    assert (pack.seeders, pack.size_bytes) == (212, int(1.32 * GB))
    assert streams[0].file_path is None and streams[0].quality_label == "4k HDR"
    assert streams[4].languages == ("🇬🇧", "🇷🇺") and streams[4].provider == "Rutor"
    assert streams[5].size_bytes == 175 * 1024**2
    assert served.requests[0].url.path.endswith("/stream/series/tt0903747:1:2.json")


async def test_debrid_example_hashes_and_indexes_come_from_the_resolve_url() -> None:
    served = serve_example("series-tt0903747-1-2-realdebrid.json")
    url = f"https://torrentio.strem.fun/sort=qualitysize|qualityfilter=480p,scr,cam|realdebrid={EXAMPLE_KEY}"
    async with client(served, url) as tio:
        streams = await tio.episode_streams("tt0903747", 1, 2)
    assert [(s.info_hash[:6], s.file_idx, s.cached_hint) for s in streams] == [
        ("15adb7", 12, True),
        ("030a1e", 1, True),
        ("febc63", 0, False),
        ("242507", 1, False),
        ("a0c150", 0, False),
    ]
    assert all(s.debrid == "RD" for s in streams)
    assert streams[0].quality_label == "4k HDR"
    assert streams[1].file_path is not None and streams[1].file_path.endswith(".mkv")
    assert EXAMPLE_KEY not in repr(streams)


def test_resolve_url_with_undefined_file_index() -> None:
    raw = {
        "name": "[RD download] Torrentio\n720p",
        "title": "Some.Movie.720p-GRP\n👤 3 💾 1.1 GB ⚙️ ThePirateBay",
        "url": f"http://h/resolve/realdebrid/{EXAMPLE_KEY}/{'AB' * 20}/null/undefined/Some.Movie.720p-GRP",
    }
    stream = parse_stream(raw)
    assert stream.info_hash == "ab" * 20
    assert stream.file_idx is None
    assert stream.filename is None
    assert (stream.cached_hint, stream.debrid) == (False, "RD")


@pytest.mark.parametrize(
    ("body", "error", "text"),
    [
        ("movie-tt0063350-realdebrid-invalid-token.json", AuthenticationError, "Invalid RealDebrid ApiKey/Token!"),
        (
            {"streams": [{"name": "Torrentio\nRD error", "title": "Expired/invalid RealDebrid subscription!",
                          "url": "https://torrentio.strem.fun/videos/failed_access_v3.mp4"}], "cacheMaxAge": 0},
            PermissionDenied,
            "subscription",
        ),
        (
            {"streams": [{"name": "Torrentio\nRD error", "title": "RealDebrid is unavailable, try again later",
                          "url": "https://torrentio.strem.fun/videos/failed_unavailable_v1.mp4"}], "cacheMaxAge": 0},
            ServiceUnavailable,
            "unavailable",
        ),
    ],
)  # fmt: skip
async def test_error_streams_raise_typed_errors_without_the_key(
    body: Any, error: type[Exception], text: str, capsys: pytest.CaptureFixture[str]
) -> None:
    content = (EXAMPLES / body).read_bytes() if isinstance(body, str) else json.dumps(body).encode()
    served = Served(lambda request: httpx.Response(200, content=content))
    url = f"https://torrentio.strem.fun/realdebrid={EXAMPLE_KEY}"
    with structlog.testing.capture_logs() as logs:
        async with client(served, url) as tio:
            with pytest.raises(error) as caught:
                await tio.movie_streams("tt0063350")
    assert text in str(caught.value)
    assert EXAMPLE_KEY not in str(caught.value)
    assert EXAMPLE_KEY not in repr(logs) + capsys.readouterr().out


async def test_manifest_and_check() -> None:
    plain = client(serve_example("manifest.json"))
    debrid_url = f"https://torrentio.strem.fun/realdebrid={EXAMPLE_KEY}"
    manifest_rd = (EXAMPLES / "manifest-realdebrid.json").read_bytes()
    streams_rd = (EXAMPLES / "series-tt0903747-1-2-realdebrid.json").read_bytes()
    by_path = Served(
        lambda request: httpx.Response(
            200, content=manifest_rd if request.url.path.endswith("manifest.json") else streams_rd
        )
    )
    debrid = client(by_path, debrid_url)
    ignored = client(serve_example("manifest.json"), debrid_url)
    async with plain, debrid, ignored:
        manifest = await plain.manifest()
        plain_check = await plain.check()
        debrid_check = await debrid.check()
        ignored_check = await ignored.check()
    assert (manifest.id, manifest.version, manifest.name) == ("com.stremio.torrentio.addon", "0.0.15", "Torrentio")
    assert manifest.serves_streams()
    assert plain_check.ok and plain_check.version == "0.0.15"
    assert plain_check.details == {"name": "Torrentio", "debrid": "none"}
    assert debrid_check.ok and debrid_check.details == {"name": "Torrentio RD", "debrid": "realdebrid"}
    assert not ignored_check.ok
    assert EXAMPLE_KEY not in repr(debrid_check) + repr(ignored_check)
    assert by_path.requests[-1].url.path.endswith("/stream/movie/tt0063350.json")  # the key probe


async def test_check_flags_an_addon_that_is_not_torrentio() -> None:
    other = {"id": "org.example.addon", "version": "1.0.0", "name": "Other", "resources": ["catalog"], "types": []}
    served = Served(lambda request: httpx.Response(200, json=other))
    async with client(served) as tio:
        check = await tio.check()
    assert check.problems == [
        "the URL serves addon 'org.example.addon', not Torrentio",
        "the addon does not serve streams",
    ]


# -- robustness -----------------------------------------------------------------------------------------------


async def test_garbage_streams_are_skipped_with_a_reason() -> None:
    good = example("movie-tt0063350.json")["streams"][1]
    body = {
        "streams": [
            "not an object",
            {"name": "Torrentio\n1080p", "infoHash": "a" * 40},
            {"name": "Torrentio\n1080p", "title": "   \n👤 3", "infoHash": "a" * 40},
            {"name": "Torrentio\n1080p", "title": "No.Hash.1080p", "infoHash": "xyz"},
            {"name": "Torrentio\n1080p", "title": "Magnet.Only", "url": "magnet:?xt=urn:btih:" + "b" * 40},
            good,
            good,  # a duplicate (same hash and file) is dropped
            {"title": "Odd.Lines.1080p\n\nsomething/else.mkv\n👤 many 💾 lots ⚙️ \n\n", "infoHash": "C" * 40},
        ]
    }
    served = Served(lambda request: httpx.Response(200, json=body))
    with structlog.testing.capture_logs() as logs:
        async with client(served) as tio:
            streams = await tio.movie_streams("tt0063350")
    assert [s.release_name for s in streams] == [good["title"].split("\n")[0], "Odd.Lines.1080p"]
    odd = streams[1]
    assert (odd.info_hash, odd.file_path, odd.seeders, odd.size_bytes, odd.provider) == (
        "c" * 40,
        "something/else.mkv",
        None,
        None,
        None,
    )
    assert odd.quality_label is None and odd.languages == ()
    reasons = [entry["reason"] for entry in logs if entry["event"] == "skipped stream"]
    assert reasons == [
        "not an object",
        "no title",
        "empty release name",
        "no info hash (neither infoHash nor a /resolve/ URL)",
        "no info hash (neither infoHash nor a /resolve/ URL)",
    ]


@settings(max_examples=150, deadline=None)
@given(
    st.one_of(
        st.dictionaries(
            st.sampled_from(["name", "title", "infoHash", "fileIdx", "url", "behaviorHints"]),
            st.one_of(
                st.text(max_size=80), st.integers(), st.none(), st.booleans(), st.dictionaries(st.text(), st.text())
            ),
        ),
        st.text(max_size=20),
        st.integers(),
    )
)
def test_parsing_never_crashes(raw: Any) -> None:
    try:
        stream = parse_stream(raw)
    except SkippedStream:
        return
    assert len(stream.info_hash) == 40
    assert parse_streams([raw], endpoint="stream/movie") in ([stream], [])


@pytest.mark.parametrize(
    ("status", "content", "error"),
    [
        (200, b'{"truncated": [1, 2', BadResponse),
        (200, b"<html>cdn says hi</html>", BadResponse),
        (200, b'{"metas": []}', BadResponse),
        (200, b"[]", BadResponse),
        (200, b'{"streams": "nope"}', BadResponse),
        (500, b'{"err":"handler error"}', ServiceUnavailable),
        (503, b"<html>upstream error</html>", ServiceUnavailable),
    ],
)
async def test_unusable_answers_raise_typed_errors(status: int, content: bytes, error: type[Exception]) -> None:
    served = Served(lambda request: httpx.Response(status, content=content))
    async with client(served) as tio:
        with pytest.raises(error) as caught:
            await tio.movie_streams("tt0063350")
    if status == 500:
        assert "handler error" in str(caught.value)


async def test_daily_limit_429_raises_rate_limited_without_retrying() -> None:
    served = Served(lambda request: httpx.Response(429, content=b"Too many requests, please try again later."))
    async with client(served, retries=4) as tio:
        with pytest.raises(RateLimited) as caught:
            await tio.episode_streams("tt0903747", 1, 2)
    assert "Too many requests" in str(caught.value)
    assert caught.value.retry_after is None
    assert len(served.requests) == 1


async def test_own_daily_budget_stops_calls_before_they_are_sent() -> None:
    manifest = (EXAMPLES / "manifest.json").read_bytes()
    streams = (EXAMPLES / "movie-tt0063350.json").read_bytes()
    served = Served(
        lambda r: httpx.Response(200, content=manifest if r.url.path.endswith("manifest.json") else streams)
    )
    async with client(served, daily_budget=2) as tio:
        await tio.movie_streams("tt0063350")
        await tio.manifest()  # not a stream call: not counted
        await tio.movie_streams("tt0063350")
        with pytest.raises(RateLimited) as caught:
            await tio.movie_streams("tt0063350")
    assert caught.value.error == "daily_budget"
    assert caught.value.retry_after is not None and 0 < caught.value.retry_after <= 86400  # until the next UTC day
    assert len(served.requests) == 3


@pytest.mark.parametrize(
    "call",
    [
        lambda tio: tio.movie_streams("0063350"),
        lambda tio: tio.movie_streams("tt0063350:1:2"),
        lambda tio: tio.episode_streams("tt0903747", -1, 2),
        lambda tio: tio.episode_streams("tt0903747", 1, -1),
        lambda tio: tio.episode_streams("nm123", 1, 1),
    ],
)
async def test_bad_ids_are_refused_before_any_call(call: Callable[[TorrentioClient], Any]) -> None:
    served = serve_example("movie-tt0063350.json")
    async with client(served) as tio:
        with pytest.raises(ValueError):
            await call(tio)
    assert served.requests == []


async def test_episode_zero_has_no_streams_and_costs_no_call() -> None:
    # TMDB numbers an unaired pilot or a special "episode 0"; Torrentio numbers from 1, so there is nothing to ask.
    served = serve_example("series-tt0903747-1-2.json")
    async with client(served, daily_budget=1) as tio:
        assert await tio.episode_streams("tt0903747", 1, 0) == []
        assert await tio.episode_streams("tt0903747", 0, 0) == []
        assert served.requests == []
        specials = await tio.episode_streams("tt0903747", 0, 1)  # season 0 (specials) is asked, from episode 1
    assert specials != []
    assert [r.url.path for r in served.requests] == [
        "/sort=qualitysize|qualityfilter=480p,scr,cam/stream/series/tt0903747:0:1.json"
    ]


async def test_debrid_key_never_reaches_errors_or_logs(
    caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    key = "TOPSECRETDEBRIDKEY0123456789XYZ"
    url = f"http://torrentio.sandbox/sort=qualitysize|realdebrid={key}"

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(f"cannot reach {request.url}", request=request)

    caplog.set_level(logging.DEBUG)
    with structlog.testing.capture_logs() as logs:
        async with client(Served(refuse), url) as tio:
            with pytest.raises(ServiceUnreachable) as unreachable:
                await tio.movie_streams("tt0063350")
        async with client(Served(lambda r: httpx.Response(503, content=str(r.url).encode())), url) as tio:
            with pytest.raises(ServiceUnavailable) as unavailable:
                await tio.movie_streams("tt0063350")
    seen = str(unreachable.value) + str(unavailable.value) + repr(logs) + caplog.text + capsys.readouterr().out
    assert "realdebrid=***" in str(unreachable.value)
    assert key not in seen


# -- against the emulator ---------------------------------------------------------------------------------------


def emulated(scenario: Scenario, url: str = PLAIN_URL, **kw: Any) -> tuple[TorrentioClient, Any]:
    app = create_app(scenario, VirtualClock())
    ledger = CallLedger()
    tio = TorrentioClient(tio_settings(url, **kw), transport=httpx.ASGITransport(app=app), ledger=ledger)
    return tio, app


async def test_against_the_emulator_episode_routing_and_call_counts() -> None:
    tio, app = emulated(load_scenario("starter"))
    async with tio:
        check = await tio.check()
        episode = await tio.episode_streams("tt0903747", 2, 4)
        movie = await tio.movie_streams("tt0063350")
        nothing = await tio.episode_streams("tt0903747", 3, 1)
    assert check.ok and check.details["name"] == "Torrentio"
    assert [s.file_idx for s in episode] == [10, 3, 0]
    assert {s.filename for s in episode} >= {"Breaking.Bad.S02E04.720p.HDTV.x264.mkv"}
    assert all(s.filename and "S02E04" in s.filename for s in episode)
    assert [s.quality_label for s in movie] == ["4k DV | HDR", "1080p"]  # cam filtered by the config
    assert nothing == []
    calls = app.state.emulator.stream_calls()
    assert [(c.type, c.id, c.config) for c in calls] == [
        ("series", "tt0903747:2:4", "sort=qualitysize|qualityfilter=480p,scr,cam"),
        ("movie", "tt0063350", "sort=qualitysize|qualityfilter=480p,scr,cam"),
        ("series", "tt0903747:3:1", "sort=qualitysize|qualityfilter=480p,scr,cam"),
    ]
    assert tio.ledger.by_endpoint("torrentio") == {"manifest": 1, "stream/movie": 1, "stream/series": 2}


async def test_against_the_emulator_with_a_debrid_key() -> None:
    url = f"http://torrentio.sandbox/sort=qualitysize|realdebrid={STARTER_KEY}"
    tio, _ = emulated(load_scenario("starter"), url)
    async with tio:
        check = await tio.check()
        streams = await tio.episode_streams("tt0903747", 2, 4)
    assert check.details == {"name": "Torrentio RD", "debrid": "realdebrid"}
    assert [(s.cached_hint, s.file_idx) for s in streams] == [(True, 3), (False, 10), (False, 0)]
    assert STARTER_KEY not in repr(streams)


async def test_against_the_emulator_faults_and_refused_key() -> None:
    tio, app = emulated(load_scenario("starter"), "http://torrentio.sandbox/realdebrid=WRONGKEYWRONGKEY123")
    control = app.state.sandbox
    async with tio:
        with pytest.raises(AuthenticationError):
            await tio.movie_streams("tt0063350")
        control.queue("malformed")
        with pytest.raises(BadResponse):
            await tio.movie_streams("tt0063350")
        control.queue("error", 1)
        streams = await tio.movie_streams("tt0000001")  # one 503, retried, then an empty list
        control.queue("too_many")
        with pytest.raises(RateLimited):
            await tio.movie_streams("tt0063350")
    assert streams == []
    assert tio.ledger.by_endpoint("torrentio") == {"stream/movie": 5}


async def test_check_proves_a_configured_debrid_key(starter: Scenario) -> None:
    from seerbridge.sandbox.world import TORRENTIO_CONFIG

    app = create_app(starter, VirtualClock())
    good = starter.keys["realdebrid"]
    for key, ok in ((good, True), ("WRONGKEYWRONGKEY12345", False)):
        settings = TorrentioSettings(
            url=SecretStr(f"http://torrentio.sandbox/{TORRENTIO_CONFIG}|realdebrid={key}"), rate_limit_per_min=0
        )
        async with TorrentioClient(settings, transport=httpx.ASGITransport(app=app)) as client:
            if ok:
                check = await client.check()
                assert check.ok and check.details["debrid"] == "realdebrid"
            else:
                with pytest.raises(AuthenticationError) as err:
                    await client.check()
                assert "WRONGKEY" not in str(err.value)
