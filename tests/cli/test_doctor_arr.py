"""`seerbridge doctor`'s Radarr/Sonarr rows: the four servers called on the running seerbridge as Seerr's Test calls
them; off without a key, a warning when nothing runs, a failure when the key is refused."""

from __future__ import annotations

import httpx
from pydantic import SecretStr

from seerbridge.arr.facade import ArrFacade
from seerbridge.commands.doctor_arr import address, check_arr
from seerbridge.config import ServerSettings, Settings
from seerbridge.web.app import create_app
from tests.e2e.conftest import Factory

KEY = "doctor-arr-key-0123456"


async def test_every_server_answers_as_seerr_calls_it(make_e2e: Factory) -> None:
    e2e = make_e2e(arr={"api_key": SecretStr(KEY)}, server={"enabled": True})
    async with e2e.bridge() as bridge:
        app = create_app(
            submit=lambda _i, _w: True, health=dict, secret="", arr=ArrFacade(bridge, None, bridge.now()), arr_key=KEY
        )
        rows = await check_arr(e2e.settings, httpx.ASGITransport(app=app))
        assert [(r.ok, r.warning) for r in rows] == [(True, False)] * 4
        assert [r.summary for r in rows] == [
            "Radarr at /radarr: answers as Seerr calls it",
            "Radarr 4K at /radarr-4k: answers as Seerr calls it",
            "Sonarr at /sonarr: answers as Seerr calls it",
            "Sonarr 4K at /sonarr-4k: answers as Seerr calls it",
        ]
        assert rows[2].version.startswith("4.")
        assert rows[1].details["root folder"].endswith("movies-4k")
        assert "auto" in rows[0].details["quality profiles"]

        wrong = e2e.settings.model_copy(update={"arr": e2e.settings.arr.model_copy(update={"api_key": SecretStr("x")})})
        refused = await check_arr(wrong, httpx.ASGITransport(app=app))
        assert [r.ok for r in refused] == [False] * 4
        assert all("refused the API key" in r.summary for r in refused)
        assert not any(r.summary == "x" for r in refused)


async def test_off_without_a_key_and_a_warning_when_nothing_runs() -> None:
    (off,) = await check_arr(Settings())
    assert off.ok and off.version == "off" and "SEERBRIDGE_ARR__API_KEY" in off.summary

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    settings = Settings(arr={"api_key": SecretStr(KEY)}, server={"enabled": True, "port": 8787})
    (nothing,) = await check_arr(settings, httpx.MockTransport(refuse))
    assert nothing.ok and nothing.warning
    assert nothing.summary.startswith("nothing answers at http://127.0.0.1:8787: start `seerbridge run`")
    assert KEY not in nothing.summary


def test_doctor_calls_the_public_url_when_there_is_one() -> None:
    assert address(Settings(server=ServerSettings(host="0.0.0.0", port=9000))) == "http://127.0.0.1:9000"
    assert address(Settings(server=ServerSettings(public_url="http://seerbridge:8787/"))) == "http://seerbridge:8787"
    assert address(Settings(server=ServerSettings(host="::1", port=1))) == "http://[::1]:1"
