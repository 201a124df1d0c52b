"""`seerbridge run --once` and `seerbridge status` as a user runs them, against the demo emulators on loopback."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
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
        "SEERBRIDGE_ACQUIRE__CONVERSION_POLL_S": "0.5",
    }
    code, out = _invoke(["run", "--once"], env, monkeypatch)
    assert code == 0, out
    for request_id in (101, 106, 107, 108):
        assert f"request {request_id} " in out
    assert "request 109" not in out
    assert "failed" not in out
    assert "downloading - downloading" not in out  # the reason beside a state does not say it again

    code, out = _invoke(["status"], env, monkeypatch)
    assert code == 0, out
    lines = out.splitlines()
    for request_id, state in ((101, "fulfilled"), (106, "downloading"), (107, "no_release"), (108, "fulfilled")):
        row = [line for line in lines if line.strip("│┃ ").startswith(str(request_id))]
        assert row and state in row[0], (request_id, out)
    hashes = world.realdebrid_state.hashes()
    assert len(hashes) == len(set(hashes))

    code, out = _invoke(["status", "--json"], env, monkeypatch)
    assert code == 0, out
    status = json.loads(out)
    assert status["worked_by"] is None  # `run --once` gave the account lease up when it ended
    by_id = {r["id"]: r for r in status["requests"]}
    assert {i: by_id[i]["state"] for i in (101, 106, 107, 108)} == {
        101: "fulfilled",
        106: "downloading",
        107: "no_release",
        108: "fulfilled",
    }
    assert by_id[107]["next_attempt_at"] is not None and by_id[107]["backoff_step"] == 1
    assert by_id[101]["reason"].startswith("cached: ")
    # 101 and 108 ask for the same film: one of them (whichever was worked first) spent the one search.
    assert sum(sum(by_id[i]["calls"].get("torrentio", {}).values()) for i in (101, 108)) == 1


def test_one_process_at_a_time_works_the_account(
    loopback: tuple[Sandbox, dict[ServiceName, str]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While `seerbridge run` works the account, commands that change it refuse (naming the daemon), a second
    daemon will not start, and `status` says who holds it; once the daemon stops, they work again."""
    world, hosts = loopback
    env = world.env(hosts) | {
        "SEERBRIDGE_DATABASE__URL": f"sqlite+aiosqlite:///{tmp_path}/lease.db",
        "SEERBRIDGE_TORRENTIO__RATE_LIMIT_PER_MIN": "0",
        "SEERBRIDGE_ACQUIRE__CONVERSION_POLL_S": "0.5",
        "SEERBRIDGE_SERVER__ENABLED": "false",
    }
    child_env = {k: v for k, v in os.environ.items() if not k.startswith("SEERBRIDGE_")} | env
    log = (tmp_path / "daemon.log").open("wb")  # a file, not a pipe nobody reads while it runs
    daemon = subprocess.Popen([sys.executable, "-m", "seerbridge", "run"], env=child_env, stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + 30
        while "Worked now by `seerbridge run`" not in (out := _invoke(["status"], env, monkeypatch)[1]):
            assert daemon.poll() is None and time.monotonic() < deadline, out
            time.sleep(0.2)
        assert f"(pid {daemon.pid} on " in out

        for args in (["cleanup", "--apply"], ["upgrade"], ["run", "--once"]):
            code, out = _invoke(args, env, monkeypatch)
            assert code == 1, (args, out)
            flat = " ".join(out.split())
            assert "another seerbridge is working this account: `seerbridge run`" in flat, (args, out)
        assert _invoke(["cleanup"], env, monkeypatch)[0] == 0  # a plan changes nothing: no lease needed

        second = subprocess.run(
            [sys.executable, "-m", "seerbridge", "run"], env=child_env, capture_output=True, text=True, timeout=60
        )
        assert second.returncode == 1, second.stdout + second.stderr
        assert "another seerbridge is working this account" in " ".join((second.stdout + second.stderr).split())
    finally:
        daemon.send_signal(signal.SIGINT)
        code = daemon.wait(timeout=60)
        log.close()
        assert code == 0, (tmp_path / "daemon.log").read_text()
    code, out = _invoke(["status"], env, monkeypatch)
    assert "No seerbridge process is working the account now." in out
    code, out = _invoke(["cleanup", "--apply"], env, monkeypatch)
    assert code == 0, out
