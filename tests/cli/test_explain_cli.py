"""`seerbridge explain`: the offline form calls nothing; the live form asks the services and probes nothing."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from seerbridge.cli import app
from seerbridge.sandbox.scenario import load_scenario
from seerbridge.sandbox.serve import running_in_thread
from seerbridge.sandbox.world import Sandbox

EXAMPLES = Path(__file__).parents[1] / "sandbox" / "torrentio_examples"
runner = CliRunner()


def _env(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> None:
    for key in list(os.environ):
        if key.startswith("SEERBRIDGE_"):
            monkeypatch.delenv(key)
    for key, value in env.items():
        monkeypatch.setenv(key, value)


def test_offline_json_calls_no_service(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # Every service points at a closed port: any call would fail the command.
    _env(
        monkeypatch,
        {
            "SEERBRIDGE_SEERR__URL": "http://127.0.0.1:9",
            "SEERBRIDGE_TORRENTIO__URL": "http://127.0.0.1:9/x",
            "SEERBRIDGE_REALDEBRID__URL": "http://127.0.0.1:9",
            "SEERBRIDGE_DATABASE__URL": f"sqlite+aiosqlite:///{tmp_path}/never.db",
        },
    )
    args = ["explain", "--streams", str(EXAMPLES / "series-tt0903747-1-2.json"), "--kind", "show"]
    args += ["--title", "Breaking Bad", "--year", "2008", "--season", "1", "--episodes", "1-7", "--json"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    assert set(body) == {"candidates"}
    keys = {"info_hash", "name", "sources", "accepted", "reasons", "score", "season", "episodes"}
    assert all(set(c) == keys for c in body["candidates"])
    flags = [c["accepted"] for c in body["candidates"]]
    assert flags == sorted(flags, reverse=True)  # accepted first
    assert all(c["reasons"] for c in body["candidates"] if not c["accepted"])
    assert not (tmp_path / "never.db").exists()


def test_offline_form_needs_a_title(monkeypatch: pytest.MonkeyPatch) -> None:
    _env(monkeypatch, {})
    result = runner.invoke(app, ["explain", "--streams", str(EXAMPLES / "movie-tt0063350.json")])
    assert result.exit_code == 2
    assert "--title is required" in result.output


@pytest.fixture(scope="module")
def loopback() -> Iterator[tuple[Sandbox, dict[str, str]]]:
    world = Sandbox(load_scenario("demo"))
    with running_in_thread(world) as hosts:
        yield world, dict(hosts)


def test_live_explain_probes_nothing(
    loopback: tuple[Sandbox, dict[str, str]], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    world, hosts = loopback
    env = world.env(hosts)  # type: ignore[arg-type]
    env["SEERBRIDGE_DATABASE__URL"] = f"sqlite+aiosqlite:///{tmp_path}/live.db"
    env["SEERBRIDGE_TORRENTIO__RATE_LIMIT_PER_MIN"] = "0"
    _env(monkeypatch, env)
    before = world.control("realdebrid").count()
    result = runner.invoke(app, ["explain", "--request", "102", "--json"])
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    assert body["request"] == 102
    (item,) = body["items"]
    assert item["item"] == "movie:572802"
    top = item["candidates"][0]
    assert top["accepted"] and "Haunt.2019" in top["name"]
    decoy = next(c for c in item["candidates"] if c["name"].startswith("Haunt.2013"))
    assert decoy["reasons"] == ["year"]
    assert world.control("realdebrid").count() == before  # nothing asked of Real-Debrid
    assert not (tmp_path / "live.db").exists()  # a new database stays new: only `run` and `db upgrade` set it up
