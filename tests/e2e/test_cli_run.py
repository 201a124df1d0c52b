"""`seerbridge run --once` and `seerbridge status` as a user runs them, against the demo emulators on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from seerbridge.sandbox.scenario import load_scenario
from seerbridge.sandbox.serve import running_in_thread
from seerbridge.sandbox.world import Sandbox, ServiceName
from tests.cli_runner import invoke

runner = CliRunner()
KEPT_REQUESTS = {101, 106, 107, 108, 109}


@pytest.fixture
def loopback() -> Iterator[tuple[Sandbox, dict[ServiceName, str]]]:
    # Real-Debrid keeps its real 250/min pacing here (the CLI has no way around it), so few requests keep it quick.
    demo = load_scenario("demo")
    world = Sandbox(demo.model_copy(update={"requests": [r for r in demo.requests if r.id in KEPT_REQUESTS]}))
    world.realdebrid_state.conversion_s = 0.0
    world.realdebrid_state.queue_s = 0.0
    with running_in_thread(world) as hosts:
        yield world, hosts


def _invoke(args: list[str], env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> tuple[int, str]:
    return invoke(args, env, monkeypatch, width=200)


def test_run_once_then_status(
    loopback: tuple[Sandbox, dict[ServiceName, str]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    world, hosts = loopback
    env = world.env(hosts)
    env |= {
        "SEERBRIDGE_DATABASE__URL": f"sqlite+aiosqlite:///{tmp_path}/cli.db",
        "SEERBRIDGE_TORRENTIO__RATE_LIMIT_PER_MIN": "0",
        "SEERBRIDGE_ACQUIRE__CONVERSION_POLL_S": "0",
    }
    code, out = _invoke(["run", "--once"], env, monkeypatch)
    assert code == 0, out
    for request_id in (101, 106, 107, 108):
        assert f"request {request_id} " in out
    assert "request 109" not in out
    assert "failed" not in out

    code, out = _invoke(["status"], env, monkeypatch)
    assert code == 0, out
    lines = out.splitlines()
    for request_id, state in ((101, "fulfilled"), (106, "downloading"), (107, "no_release"), (108, "fulfilled")):
        row = [line for line in lines if line.strip("│┃ ").startswith(str(request_id))]
        assert row and state in row[0], (request_id, out)
    hashes = world.realdebrid_state.hashes()
    assert len(hashes) == len(set(hashes))
