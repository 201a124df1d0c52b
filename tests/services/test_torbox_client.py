"""The TorBox client against hand-written handlers that answer as shared/api/torbox.md documents: cache check,
adds and their budget, listing and states, links without the key in any output, delete, errors, check()."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
import stamina
import structlog
from pydantic import SecretStr

from seerbridge import clock
from seerbridge.config import TorBoxSettings
from seerbridge.errors import (
    AuthenticationError,
    BadResponse,
    NotFound,
    PermissionDenied,
    RateLimited,
    RequestRejected,
    ServiceError,
    ServiceTimeout,
    ServiceUnavailable,
)
from seerbridge.services.calls import CallLedger
from seerbridge.services.torbox import CreateBudget, TorBoxClient
from seerbridge.services.torbox_errors import DuplicateItem, LimitExceeded, NotCached
from seerbridge.services.torbox_models import TorrentPhase, classify_state

URL = "http://torbox.test/v1/api"
KEY = "tb-key-5f0c2a9e-7d41-4b8e-a3c6-secret"
HASH_A = "a" * 40
HASH_B = "b" * 40
MAGNET = f"magnet:?xt=urn:btih:{HASH_A}"

Answer = httpx.Response | Callable[[httpx.Request], httpx.Response]


def ok(data: Any, detail: str = "done") -> httpx.Response:
    return httpx.Response(200, json={"success": True, "error": None, "detail": detail, "data": data})


def fail(status: int, error: str | None, detail: str = "refused", data: Any = None, **kw: Any) -> httpx.Response:
    return httpx.Response(status, json={"success": False, "error": error, "detail": detail, "data": data}, **kw)


class FakeTorBox:
    """Answers per (method, path); a list of answers is served in turn. Anything unplanned fails the test."""

    def __init__(self) -> None:
        self.routes: dict[tuple[str, str], list[Answer]] = {}
        self.requests: list[httpx.Request] = []

    def on(self, method: str, path: str, *answers: Answer) -> None:
        self.routes[(method, path)] = list(answers)

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path = request.url.path.removeprefix("/v1/api/")
        answers = self.routes.get((request.method, path))
        if not answers:
            raise AssertionError(f"unplanned call {request.method} {path}")
        answer = answers.pop(0) if len(answers) > 1 else answers[0]
        return answer(request) if callable(answer) else answer

    def sent(self, path: str) -> list[httpx.Request]:
        return [r for r in self.requests if r.url.path.endswith(path)]


class FakeTime:
    """A monotonic clock the create budget reads; its sleep moves it forward and remembers the wait."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


MakeClient = Callable[..., TorBoxClient]


@pytest.fixture
def fake() -> FakeTorBox:
    return FakeTorBox()


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
async def make_client(fake: FakeTorBox, fake_time: FakeTime) -> AsyncIterator[MakeClient]:
    made: list[TorBoxClient] = []

    def make(*, key: str = KEY, ledger: CallLedger | None = None, **overrides: Any) -> TorBoxClient:
        # No pacing and no real pause after a 429: these tests are about what is sent, not when.
        values: dict[str, Any] = {"rate_limit_per_min": 0, "rate_limited_pause_s": 0, "creates_per_min": 10}
        settings = TorBoxSettings(url=URL, api_key=SecretStr(key), **(values | overrides))
        budget = CreateBudget(
            per_min=settings.creates_per_min,
            per_hour=settings.creates_per_hour,
            margin_s=settings.rate_margin_s,
            clock=fake_time,
            sleep=fake_time.sleep,
        )
        client = TorBoxClient(
            settings, transport=httpx.MockTransport(fake.handler), ledger=ledger, create_budget=budget
        )
        made.append(client)
        return client

    yield make
    for client in made:
        await client.aclose()


@pytest.fixture
def tb(make_client: MakeClient) -> TorBoxClient:
    return make_client()


@pytest.fixture
def one_attempt() -> Iterator[None]:
    stamina.set_testing(True, attempts=1)
    yield
    stamina.set_testing(True, attempts=3)


def cached_entry(info_hash: str, name: str = "Movie.2020.1080p", size: int = 5_000_000_000) -> dict[str, Any]:
    return {
        "name": name,
        "size": size,
        "hash": info_hash,
        "trackers": [],
        "seeds": 12,
        "peers": 3,
        "files": [
            {"name": f"{name}/{name}.mkv", "size": size - 1000, "short_name": f"{name}.mkv", "opensubtitles_hash": ""},
            {"name": f"{name}/Subs/en.srt", "size": 1000, "short_name": "en.srt", "opensubtitles_hash": ""},
        ],
    }


# ----- checkcached -----


async def test_check_cached_reads_the_list_with_files_and_leaves_absent_hashes_out(
    tb: TorBoxClient, fake: FakeTorBox
) -> None:
    fake.on("POST", "torrents/checkcached", ok([cached_entry(HASH_A.upper())], "Torrent cache status retrieved."))
    found = await tb.check_cached([HASH_A.upper(), HASH_B])
    assert set(found) == {HASH_A}  # B is absent: uncached
    entry = found[HASH_A]
    assert (entry.hash, entry.name, entry.size) == (HASH_A, "Movie.2020.1080p", 5_000_000_000)
    assert [(f.name, f.short_name, f.size) for f in entry.files] == [
        ("Movie.2020.1080p/Movie.2020.1080p.mkv", "Movie.2020.1080p.mkv", 4_999_999_000),
        ("Movie.2020.1080p/Subs/en.srt", "en.srt", 1000),
    ]
    (request,) = fake.requests
    assert request.url.params["format"] == "list" and request.url.params["list_files"] == "true"
    assert json.loads(request.content) == {"hashes": [HASH_A, HASH_B]}
    assert request.headers["authorization"] == f"Bearer {KEY}"


@pytest.mark.parametrize("data", [None, {}, []])
async def test_check_cached_with_nothing_cached_is_empty(tb: TorBoxClient, fake: FakeTorBox, data: Any) -> None:
    fake.on("POST", "torrents/checkcached", ok(data))
    assert await tb.check_cached([HASH_A]) == {}


async def test_check_cached_reads_the_object_form_and_skips_empty_or_unreadable_entries(
    tb: TorBoxClient, fake: FakeTorBox
) -> None:
    c = "c" * 40
    data = {HASH_A: {"name": "A", "size": 10}, HASH_B: {"name": "B", "size": 0}, c: {"size": "lots"}}
    fake.on("POST", "torrents/checkcached", ok(data))
    found = await tb.check_cached([HASH_A, HASH_B, c])
    assert list(found) == [HASH_A] and found[HASH_A].files == ()


async def test_check_cached_sends_1200_hashes_in_three_posts(tb: TorBoxClient, fake: FakeTorBox) -> None:
    hashes = [f"{n:040x}" for n in range(1200)]

    def answer(request: httpx.Request) -> httpx.Response:
        asked = json.loads(request.content)["hashes"]
        return ok([cached_entry(h) for h in asked if int(h, 16) % 100 == 0])

    fake.on("POST", "torrents/checkcached", answer)
    found = await tb.check_cached(hashes)
    assert [len(json.loads(r.content)["hashes"]) for r in fake.requests] == [500, 500, 200]
    assert sorted(found) == [f"{n:040x}" for n in range(0, 1200, 100)]
    assert await tb.check_cached([]) == {} and len(fake.requests) == 3  # nothing to ask: no call


# ----- createtorrent -----


def created(torrent_id: int = 42, info_hash: str = HASH_A) -> httpx.Response:
    return ok({"torrent_id": torrent_id, "hash": info_hash, "auth_id": "auth-1"}, "Found Cached Torrent.")


@pytest.mark.parametrize(("only_if_cached", "sent"), [(True, "true"), (False, "false")])
async def test_create_sends_the_documented_form_fields(
    tb: TorBoxClient, fake: FakeTorBox, only_if_cached: bool, sent: str
) -> None:
    fake.on("POST", "torrents/createtorrent", created(info_hash=HASH_A.upper()))
    result = await tb.create_torrent(MAGNET, only_if_cached=only_if_cached, name="Movie 2020")
    assert (result.torrent_id, result.hash, result.auth_id, result.queued) == (42, HASH_A, "auth-1", False)
    assert result.detail == "Found Cached Torrent."
    (request,) = fake.requests
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    form = {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
    assert form == {
        "magnet": MAGNET,
        "seed": "3",
        "allow_zip": "false",
        "add_only_if_cached": sent,
        "name": "Movie 2020",
    }


async def test_a_queued_add_has_no_torrent_id(tb: TorBoxClient, fake: FakeTorBox) -> None:
    fake.on("POST", "torrents/createtorrent", ok({"queued_id": 7, "hash": HASH_A}))
    result = await tb.create_torrent(MAGNET, only_if_cached=False)
    assert result.queued and result.queued_id == 7 and result.torrent_id is None
    with pytest.raises(ValueError):
        await tb.create_torrent("http://not-a-magnet", only_if_cached=True)


async def test_an_eleventh_create_within_a_minute_waits_for_the_window(
    tb: TorBoxClient, fake: FakeTorBox, fake_time: FakeTime
) -> None:
    fake.on("POST", "torrents/createtorrent", created())
    for _ in range(10):
        await tb.create_torrent(MAGNET, only_if_cached=True)
    assert fake_time.slept == []  # ten may go back to back
    fake_time.now += 5
    await tb.create_torrent(MAGNET, only_if_cached=True)
    assert fake_time.slept == [pytest.approx(56.0)]  # until 60 s + 1 s margin after the first, within the retry budget
    assert len(fake.sent("createtorrent")) == 11


async def test_a_create_refuses_when_the_budget_frees_later_than_the_retry_budget(
    make_client: MakeClient, fake: FakeTorBox, fake_time: FakeTime
) -> None:
    tb = make_client(retry_timeout_s=30)
    fake.on("POST", "torrents/createtorrent", created())
    for _ in range(10):
        await tb.create_torrent(MAGNET, only_if_cached=True)
    fake_time.now += 20
    with pytest.raises(RateLimited) as caught:
        await tb.create_torrent(MAGNET, only_if_cached=True)
    assert caught.value.error == "create_budget" and caught.value.retry_after == pytest.approx(41.0)
    assert len(fake.sent("createtorrent")) == 10 and fake_time.slept == []


async def test_the_hourly_create_budget_holds_across_minutes(fake_time: FakeTime) -> None:
    budget = CreateBudget(per_min=10, per_hour=12, clock=fake_time, sleep=fake_time.sleep)
    for _ in range(12):
        await budget.take("create", max_wait_s=120)
    assert fake_time.slept == [pytest.approx(61.0)]  # the 11th waited for the minute; the 12th went with it
    assert budget.used(3600) == 12
    with pytest.raises(RateLimited) as caught:
        await budget.take("create", max_wait_s=120)
    assert caught.value.retry_after == pytest.approx(3601.0 - 61.0)
    fake_time.now += 3601 - 61
    assert budget.wait_s() == 0
    budget.hold(30)
    assert budget.wait_s() == pytest.approx(30)


async def test_a_create_that_timed_out_is_not_sent_again(make_client: MakeClient, fake: FakeTorBox) -> None:
    ledger = CallLedger()
    tb = make_client(ledger=ledger)

    def timeout(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("no answer", request=request)

    fake.on("POST", "torrents/createtorrent", timeout)
    with pytest.raises(ServiceTimeout):
        await tb.create_torrent(MAGNET, only_if_cached=True)
    assert ledger.by_endpoint("torbox") == {"torrents/createtorrent": 1}


async def test_a_create_is_sent_again_only_when_torbox_surely_did_not_act(
    make_client: MakeClient, fake: FakeTorBox, fake_time: FakeTime
) -> None:
    ledger = CallLedger()
    tb = make_client(ledger=ledger)

    def refused(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    fake.on("POST", "torrents/createtorrent", refused, fail(429, None, "slow down"), created())
    assert (await tb.create_torrent(MAGNET, only_if_cached=True)).torrent_id == 42
    assert ledger.by_endpoint("torbox") == {"torrents/createtorrent": 3}
    assert tb.creates.used(60) == 1  # one logical add spends one slot of the budget

    fake.on("POST", "torrents/createtorrent", fail(502, None, "bad gateway"))
    with pytest.raises(ServiceUnavailable):  # a gateway's 5xx does not say whether TorBox added it
        await tb.create_torrent(MAGNET, only_if_cached=True)
    assert ledger.by_endpoint("torbox") == {"torrents/createtorrent": 4}


async def test_torboxs_429_on_create_holds_the_create_budget(
    make_client: MakeClient, fake: FakeTorBox, one_attempt: None
) -> None:
    tb = make_client()
    fake.on("POST", "torrents/createtorrent", fail(429, None, "rate limit", headers={"Retry-After": "0.01"}))
    with pytest.raises(RateLimited) as caught:
        await tb.create_torrent(MAGNET, only_if_cached=True)
    assert caught.value.status == 429 and caught.value.retry_after == pytest.approx(0.01)
    assert tb.creates.wait_s() == pytest.approx(0.01)


@pytest.mark.parametrize(
    ("answer", "kind", "check"),
    [
        (
            fail(400, "DUPLICATE_ITEM", "already added", {"torrent_id": 99}),
            DuplicateItem,
            lambda e: e.existing_id == 99,
        ),
        (fail(409, "DUPLICATE_ITEM", "already added"), DuplicateItem, lambda e: e.existing_id is None),
        (
            fail(
                200,
                None,
                "You have reached your active torrent download limit of 3.",
                {"active_limit": 3, "current_active_downloads": 3},
            ),
            LimitExceeded,
            lambda e: (e.limit, e.active_limit, e.active_now, e.retryable) == ("ACTIVE_LIMIT", 3, 3, False),
        ),
        (fail(400, "MONTHLY_LIMIT", "monthly limit"), LimitExceeded, lambda e: e.limit == "MONTHLY_LIMIT"),
        (fail(429, "COOLDOWN_LIMIT", "cooldown"), LimitExceeded, lambda e: e.limit == "COOLDOWN_LIMIT"),
        (fail(400, "DIFF_ISSUE", "maximum queued reached"), LimitExceeded, lambda e: e.error == "DIFF_ISSUE"),
        (fail(400, "DIFF_ISSUE", "This is already queued"), DuplicateItem, lambda e: e.existing_id is None),
        (fail(400, "DOWNLOAD_NOT_CACHED", "not cached"), NotCached, lambda e: e.status == 400),
        (fail(200, None, "This torrent is not cached."), NotCached, lambda e: e.error is None),
        (fail(400, "BOZO_TORRENT", "bad magnet"), RequestRejected, lambda e: e.error == "BOZO_TORRENT"),
        (fail(400, "DOWNLOAD_TOO_LARGE", "too big"), RequestRejected, lambda e: e.error == "DOWNLOAD_TOO_LARGE"),
    ],
)
async def test_create_refusals_are_typed_and_not_retried(
    make_client: MakeClient, fake: FakeTorBox, answer: httpx.Response, kind: type[ServiceError], check: Any
) -> None:
    ledger = CallLedger()
    tb = make_client(ledger=ledger)
    fake.on("POST", "torrents/createtorrent", answer)
    with pytest.raises(kind) as caught:
        await tb.create_torrent(MAGNET, only_if_cached=True)
    assert type(caught.value) is kind and check(caught.value)
    assert ledger.total("torbox") == 1


# ----- mylist -----


def torrent_json(torrent_id: int, **fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": torrent_id,
        "auth_id": "auth-1",
        "server": 12,
        "hash": HASH_A.upper(),
        "name": f"Torrent {torrent_id}",
        "magnet": None,
        "size": 1_234_567,
        "active": True,
        "created_at": "2023-12-22T22:12:34.78989+00:00",
        "updated_at": "2023-12-22T22:20:00+00:00",
        "download_state": "downloading",
        "seeds": 4,
        "peers": 2,
        "ratio": 0,
        "progress": 0.5,
        "download_speed": 1000,
        "upload_speed": 0,
        "eta": 60,
        "download_finished": False,
        "download_present": False,
        "files": [
            {
                "id": 0,
                "md5": None,
                "hash": "x",
                "name": f"Torrent {torrent_id}/movie.mkv",
                "size": 1_234_000,
                "zipped": False,
                "s3_path": "s3/path",
                "infected": False,
                "mimetype": "video/x-matroska",
                "short_name": "movie.mkv",
                "absolute_path": "/abs",
            }
        ],
    }
    return base | fields


async def test_mylist_is_read_into_torrents(tb: TorBoxClient, fake: FakeTorBox) -> None:
    done = torrent_json(2, download_state="cached", progress=1, download_finished=True, download_present=True)
    fake.on("GET", "torrents/mylist", ok([torrent_json(1), done]))
    first, second = await tb.torrents()
    assert (first.id, first.hash, first.name, first.size, first.progress) == (1, HASH_A, "Torrent 1", 1_234_567, 0.5)
    assert first.created_at == datetime(2023, 12, 22, 22, 12, 34, 789890, tzinfo=UTC)
    assert first.download_state == "downloading" and first.phase is TorrentPhase.DOWNLOADING and not first.ready
    (file,) = first.files
    assert (file.id, file.name, file.short_name, file.size, file.zipped) == (
        0,
        "Torrent 1/movie.mkv",
        "movie.mkv",
        1_234_000,
        False,
    )
    assert second.phase is TorrentPhase.FINISHED and second.ready
    (request,) = fake.requests
    assert dict(request.url.params) == {"bypass_cache": "false", "offset": "0", "limit": "1000"}


async def test_mylist_follows_pages_and_drops_the_extra_item(tb: TorBoxClient, fake: FakeTorBox) -> None:
    everything = [torrent_json(n) for n in range(1, 6)]

    def page(request: httpx.Request) -> httpx.Response:
        offset, limit = int(request.url.params["offset"]), int(request.url.params["limit"])
        return ok(everything[offset : offset + limit + 1])  # one beyond the limit, as TorBox does

    fake.on("GET", "torrents/mylist", page)
    torrents = await tb.torrents(bypass_cache=True, page_size=2)
    assert [t.id for t in torrents] == [1, 2, 3, 4, 5]
    assert [r.url.params["offset"] for r in fake.requests] == ["0", "2", "4"]
    assert {r.url.params["bypass_cache"] for r in fake.requests} == {"true"}
    with pytest.raises(ValueError):
        await tb.torrents(page_size=1001)


async def test_mylist_404_is_an_empty_account_but_a_missing_endpoint_raises(tb: TorBoxClient, fake: FakeTorBox) -> None:
    fake.on("GET", "torrents/mylist", fail(404, "ITEM_NOT_FOUND", "no torrents"))
    assert await tb.torrents() == []
    fake.on("GET", "torrents/mylist", ok(None))
    assert await tb.torrents() == []
    fake.on("GET", "torrents/mylist", fail(404, "ENDPOINT_NOT_FOUND", "no such endpoint"))
    with pytest.raises(NotFound):
        await tb.torrents()


async def test_one_torrent_by_id_is_fresh_and_missing_ones_are_not_found(tb: TorBoxClient, fake: FakeTorBox) -> None:
    fake.on("GET", "torrents/mylist", ok(torrent_json(7, download_state="stalled (no seeds)", progress=0.1)))
    torrent = await tb.torrent(7)
    assert torrent.id == 7 and torrent.phase is TorrentPhase.STALLED
    assert dict(fake.requests[0].url.params) == {"id": "7", "bypass_cache": "true"}
    fake.on("GET", "torrents/mylist", fail(404, "ITEM_NOT_FOUND", "not found"))
    with pytest.raises(NotFound):
        await tb.torrent(8)
    fake.on("GET", "torrents/mylist", ok(None))
    with pytest.raises(NotFound):
        await tb.torrent(8)


async def test_find_by_hash_reads_the_fresh_list(tb: TorBoxClient, fake: FakeTorBox) -> None:
    fake.on("GET", "torrents/mylist", ok([torrent_json(1), torrent_json(2, hash=HASH_B)]))
    assert [t.id for t in await tb.find_by_hash(HASH_A.upper())] == [1]
    assert fake.requests[0].url.params["bypass_cache"] == "true"


@pytest.mark.parametrize(
    ("state", "finished", "present", "progress", "phase"),
    [
        ("completed", True, True, 1.0, TorrentPhase.FINISHED),
        ("uploading (no peers)", True, True, 1.0, TorrentPhase.FINISHED),
        ("cached", True, False, 1.0, TorrentPhase.DOWNLOADING),  # not on storage yet
        ("completed", False, False, 1.0, TorrentPhase.DOWNLOADING),
        ("downloading", False, False, 0.3, TorrentPhase.DOWNLOADING),
        ("forcedDL", False, False, 0.3, TorrentPhase.DOWNLOADING),
        ("metaDL", False, False, 0.0, TorrentPhase.QUEUED),
        ("queuedDL", False, False, 0.0, TorrentPhase.QUEUED),
        ("checkingResumeData", False, False, 0.0, TorrentPhase.QUEUED),
        ("stalled (no seeds)", False, False, 0.2, TorrentPhase.STALLED),
        ("pausedDL", False, False, 0.2, TorrentPhase.STALLED),
        ("paused", False, False, 0.2, TorrentPhase.STALLED),
        ("error", False, False, 0.2, TorrentPhase.FAILED),
        ("missingFiles", False, False, 0.2, TorrentPhase.FAILED),
        ("somethingNew", False, False, 0.2, TorrentPhase.DOWNLOADING),
        ("somethingNew", False, False, 0.0, TorrentPhase.QUEUED),
        ("", False, False, 0.0, TorrentPhase.QUEUED),
    ],
)
def test_download_states_are_classified(
    state: str, finished: bool, present: bool, progress: float, phase: TorrentPhase
) -> None:
    assert classify_state(state, finished=finished, present=present, progress=progress) is phase


# ----- requestdl -----


async def test_download_link_sends_the_key_as_token_and_returns_the_url(tb: TorBoxClient, fake: FakeTorBox) -> None:
    fake.on("GET", "torrents/requestdl", ok("https://cdn.torbox.test/dl/abc"))
    assert await tb.download_link(42, 0) == "https://cdn.torbox.test/dl/abc"
    (request,) = fake.requests
    assert dict(request.url.params) == {
        "token": KEY,
        "torrent_id": "42",
        "file_id": "0",
        "zip_link": "false",
        "redirect": "false",
    }
    fake.on("GET", "torrents/requestdl", ok(None))
    with pytest.raises(BadResponse):
        await tb.download_link(42, 0)


async def test_the_key_never_reaches_logs_or_errors(
    make_client: MakeClient,
    fake: FakeTorBox,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    # httpx's own request log names the URL with the token; seerbridge's logging setup (run by earlier tests)
    # quiets it to WARNING, so it is turned up here to prove the redaction, whatever ran before.
    caplog.set_level(logging.DEBUG, logger="httpx")
    tb = make_client()
    texts: list[str] = []

    def refused(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(f"cannot reach {request.url}", request=request)

    def echo(request: httpx.Request) -> httpx.Response:
        return fail(400, "INVALID_OPTION", f"bad request {request.url}")

    def timeout(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout(f"timed out on {request.url}", request=request)

    answers: list[Answer] = [
        ok("https://cdn.torbox.test/dl/abc"),
        fail(500, "DATABASE_ERROR", "db down"),
        refused,
        echo,
        timeout,
        httpx.Response(502, text=f"<html>bad gateway {URL}?token={KEY}</html>", headers={"content-type": "text/html"}),
    ]
    with structlog.testing.capture_logs() as events:
        fake.on("GET", "torrents/requestdl", answers[0])
        await tb.download_link(1, 2)
        for answer in answers[1:]:
            fake.on("GET", "torrents/requestdl", answer)
            with pytest.raises(ServiceError) as caught:
                await tb.download_link(1, 2)
            texts += [str(caught.value), repr(caught.value), caught.value.message, str(caught.value.args)]
    assert any("HTTP Request" in r.getMessage() and "token=" in r.getMessage() for r in caplog.records)
    assert any(e.get("event") == "retrying" for e in events)
    out = capsys.readouterr()
    texts += [caplog.text, repr(events), out.out, out.err]
    for text in texts:
        assert KEY not in text


# ----- controltorrent -----


async def test_delete_sends_the_documented_operation(tb: TorBoxClient, fake: FakeTorBox) -> None:
    fake.on("POST", "torrents/controltorrent", ok(None, "Torrent deleted."))
    assert await tb.delete(42) is None
    (request,) = fake.requests
    assert json.loads(request.content) == {"torrent_id": 42, "operation": "delete", "all": False}
    fake.on("POST", "torrents/controltorrent", fail(400, "ITEM_NOT_FOUND", "no such torrent"))
    with pytest.raises(NotFound) as caught:
        await tb.delete(42)
    assert caught.value.error == "ITEM_NOT_FOUND"


# ----- errors -----


@pytest.mark.parametrize(
    ("answer", "kind", "error"),
    [
        (fail(403, "BAD_TOKEN", "invalid token"), AuthenticationError, "BAD_TOKEN"),
        (fail(401, "NO_AUTH", "no auth"), AuthenticationError, "NO_AUTH"),
        (fail(403, "AUTH_ERROR", "auth"), AuthenticationError, "AUTH_ERROR"),
        (
            httpx.Response(403, text="<html>Forbidden</html>", headers={"content-type": "text/html"}),
            AuthenticationError,
            None,
        ),
        (fail(200, "BAD_TOKEN", "invalid token"), AuthenticationError, "BAD_TOKEN"),
        (fail(403, "PLAN_RESTRICTED_FEATURE", "pro only"), PermissionDenied, "PLAN_RESTRICTED_FEATURE"),
        (fail(404, "ITEM_NOT_FOUND", "gone"), NotFound, "ITEM_NOT_FOUND"),
        (httpx.Response(404, text="Not Found", headers={"content-type": "text/plain"}), NotFound, None),
        (fail(200, None, "something went wrong"), RequestRejected, None),
        (fail(400, "INVALID_OPTION", "bad option"), RequestRejected, "INVALID_OPTION"),
        (fail(400, "SOMETHING_NEW", "new code"), RequestRejected, "SOMETHING_NEW"),
        (fail(200, "DATABASE_ERROR", "db"), ServiceUnavailable, "DATABASE_ERROR"),
        (fail(500, "UNKNOWN_ERROR", "oops"), ServiceUnavailable, "UNKNOWN_ERROR"),
        (
            httpx.Response(502, text="<html>Bad gateway</html>", headers={"content-type": "text/html"}),
            ServiceUnavailable,
            None,
        ),
        (fail(429, None, "slow down", headers={"Retry-After": "7"}), RateLimited, None),
        (
            httpx.Response(200, text="<html>maintenance</html>", headers={"content-type": "text/html"}),
            BadResponse,
            None,
        ),
        (httpx.Response(200, json={"data": {}}), BadResponse, None),
    ],
)
async def test_error_answers_map_to_typed_errors(
    tb: TorBoxClient,
    fake: FakeTorBox,
    one_attempt: None,
    answer: httpx.Response,
    kind: type[ServiceError],
    error: str | None,
) -> None:
    fake.on("GET", "user/me", answer)
    with pytest.raises(kind) as caught:
        await tb.user()
    assert type(caught.value) is kind and caught.value.error == error and caught.value.service == "torbox"
    if kind is RateLimited:
        assert isinstance(caught.value, RateLimited) and caught.value.retry_after == 7
    if answer.headers.get("content-type") == "text/html":
        assert "<html>" not in str(caught.value)


async def test_torboxs_own_5xx_on_a_read_is_retried(make_client: MakeClient, fake: FakeTorBox) -> None:
    ledger = CallLedger()
    tb = make_client(ledger=ledger)
    fake.on("GET", "user/me", fail(500, "DATABASE_ERROR", "db"), ok({"id": 1, "plan": 2}))
    assert (await tb.user()).plan_name == "pro"
    assert ledger.total("torbox") == 2


# ----- user/me and check() -----


def user_json(plan: int = 2, days: float = 120.5, **fields: Any) -> dict[str, Any]:
    expires = clock.now() + timedelta(days=days)  # the program's clock, which check() reads
    return {
        "id": 1,
        "auth_id": "auth-1",
        "email": "me@example.com",
        "plan": plan,
        "is_subscribed": True,
        "premium_expires_at": expires.isoformat(),
        "cooldown_until": None,
        "settings": None,
    } | fields


async def test_user_and_check_report_plan_and_premium(tb: TorBoxClient, fake: FakeTorBox) -> None:
    fake.on("GET", "user/me", ok(user_json()))
    user = await tb.user()
    assert (user.plan, user.plan_name, user.is_subscribed) == (2, "pro", True)
    check = await tb.check()
    assert check.ok and check.service == "torbox"
    assert check.details == {"plan": "pro", "premium": "120 days left"}


@pytest.mark.parametrize(
    ("user", "problem"),
    [
        (user_json(plan=0, premium_expires_at=None), "free plan"),
        (user_json(plan=1, days=-2), "ended"),
        (user_json(plan=3, cooldown_until=(clock.now() + timedelta(hours=2)).isoformat()), "cooldown"),
    ],
)
async def test_check_flags_an_account_that_cannot_add(
    tb: TorBoxClient, fake: FakeTorBox, user: dict[str, Any], problem: str
) -> None:
    fake.on("GET", "user/me", ok(user))
    check = await tb.check()
    assert not check.ok and problem in check.problems[0]


async def test_check_with_a_bad_key_is_an_authentication_error(make_client: MakeClient, fake: FakeTorBox) -> None:
    tb = make_client(key="WRONG-KEY-0123456789")
    fake.on("GET", "user/me", fail(403, "BAD_TOKEN", "The token is invalid."))
    with pytest.raises(AuthenticationError) as caught:
        await tb.check()
    assert caught.value.status == 403 and "BAD_TOKEN" in str(caught.value)
    assert "WRONG-KEY" not in str(caught.value)
