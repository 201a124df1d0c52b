"""The daemon over time: memory, work done and where requests end, with every service failing now and then.

Starts `seerbridge sandbox` with a generated scenario (default 120 requests, clock 300x) and faults on all four
emulators (default 5 % 5xx, 1 % timeouts), then `seerbridge run` against it (poll every 30 s, upgrade rounds every
2 min, periodic cleanup every 3 min) as separate processes on loopback. Every 30 s it prints the daemon's resident
memory; after `--minutes` it stops the daemon with SIGINT and prints its exit code, the request states
(`seerbridge status --json`), the duplicate hashes in the Real-Debrid emulator, and the warnings and errors logged.

Run: .venv/bin/python bench/bench_soak.py [--minutes 10] [--requests 120] [--error-rate 0.05] [--timeout-rate 0.01]
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from seerbridge.sandbox.generate import generated_scenario

SEERBRIDGE = [sys.executable, "-m", "seerbridge"]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def start_sandbox(scenario: Path, workdir: Path) -> tuple[subprocess.Popen[str], dict[str, str]]:
    proc = subprocess.Popen(
        [*SEERBRIDGE, "sandbox", "--scenario", str(scenario), "--speed", "300"],
        stdout=subprocess.PIPE,
        stderr=(workdir / "sandbox.log").open("w"),
        text=True,
    )
    env: dict[str, str] = {}
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith("export "):
            key, _, value = line.removeprefix("export ").strip().partition("=")
            env[key] = value.strip("'")
        if "SEERBRIDGE_REALDEBRID__API_KEY" in env:  # the last line it prints (its notes go to stderr)
            return proc, env
    raise SystemExit("the sandbox did not start: see " + str(workdir / "sandbox.log"))


def account(env: dict[str, str]) -> list[dict[str, object]]:
    """Every torrent in the emulated Real-Debrid account, page by page."""
    headers = {"Authorization": f"Bearer {env['SEERBRIDGE_REALDEBRID__API_KEY']}"}
    torrents: list[dict[str, object]] = []
    while True:
        page = httpx.get(
            f"{env['SEERBRIDGE_REALDEBRID__URL']}/torrents",
            params={"limit": 100, "offset": len(torrents)},
            headers=headers,
        )
        page.raise_for_status()
        batch = page.json() if page.status_code == 200 else []
        torrents += batch
        if len(batch) < 100:
            return torrents


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--requests", type=int, default=120)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--error-rate", type=float, default=0.05)
    parser.add_argument("--timeout-rate", type=float, default=0.01)
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="seerbridge-soak-"))
    scenario = workdir / "scenario.json"
    scenario.write_text(generated_scenario(args.requests, seed=args.seed).model_dump_json(by_alias=True))
    sandbox, env = start_sandbox(scenario, workdir)
    try:
        plan = {"error_rate": args.error_rate, "timeout_rate": args.timeout_rate, "seed": 3}
        bases = {
            name: re.sub(r"(/sort=.*|/rest/1\.0)$", "", env[f"SEERBRIDGE_{name}__URL"])
            for name in ("SEERR", "JELLYFIN", "TORRENTIO", "REALDEBRID")
        }
        for base in bases.values():
            httpx.put(f"{base}/__sandbox/faults", json=plan).raise_for_status()
        env |= {
            "SEERBRIDGE_DATABASE__URL": f"sqlite+aiosqlite:///{workdir}/soak.db",
            "SEERBRIDGE_SERVER__ENABLED": "false",
            "SEERBRIDGE_RUN__POLL_INTERVAL_S": "30",
            "SEERBRIDGE_TORRENTIO__RATE_LIMIT_PER_MIN": "120",
            "SEERBRIDGE_UPGRADE__INTERVAL_S": "120",
            "SEERBRIDGE_CLEANUP__PERIODIC": "true",
            "SEERBRIDGE_CLEANUP__INTERVAL_H": "0.05",
        }
        child_env = {k: v for k, v in os.environ.items() if not k.startswith("SEERBRIDGE_")} | env
        log_path = workdir / "run.log"
        with log_path.open("w") as log:
            daemon = subprocess.Popen([*SEERBRIDGE, "run"], env=child_env, stdout=log, stderr=log)
            started = time.monotonic()
            print(f"{args.requests} requests, faults {plan}; daemon pid {daemon.pid}; files in {workdir}")
            while time.monotonic() - started < args.minutes * 60 and daemon.poll() is None:
                time.sleep(30)
                if daemon.poll() is None:
                    print(f"{(time.monotonic() - started) / 60:5.1f} min  RSS {rss_mb(daemon.pid):6.1f} MB")
            daemon.send_signal(signal.SIGINT)
            code = daemon.wait(timeout=120)
        print(f"daemon exit code after SIGINT: {code}")
        status = json.loads(
            subprocess.run(
                [*SEERBRIDGE, "status", "--json"], env=child_env, capture_output=True, text=True, check=True
            ).stdout
        )
        states = collections.Counter(r["state"] for r in status["requests"])
        print("request states:", dict(sorted(states.items())))
        for request in status["requests"]:
            if request["state"] == "failed":
                print(f"  failed {request['id']}: {request['reason']} (next attempt {request['next_attempt_at']})")
        for base in bases.values():
            httpx.delete(f"{base}/__sandbox/faults").raise_for_status()
        torrents = account(env)
        hashes = collections.Counter(t["hash"] for t in torrents)
        print(
            f"torrents on Real-Debrid: {len(torrents)}, hashes there twice: {[h for h, n in hashes.items() if n > 1]}"
        )
        levels = collections.Counter(
            re.findall(r"\[(warning|error|critical)\s*\]\s+(\S.*?)\s{2}", log_path.read_text())
        )
        print("warnings and errors logged:", dict(levels.most_common(12)) or "none")
    finally:
        sandbox.send_signal(signal.SIGINT)
        sandbox.wait(timeout=30)


if __name__ == "__main__":
    main()
