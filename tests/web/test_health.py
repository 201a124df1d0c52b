"""What the running daemon tells an operator: /healthz follows the last poll as well as the breakers, a failed poll
names the setting to fix, webhooks without a secret say which setting is missing, and a busy port is one line."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from structlog.testing import capture_logs

from seerbridge.config import Settings, load_settings
from seerbridge.errors import AuthenticationError, ServiceUnreachable
from seerbridge.runtime.daemon import Daemon
from tests.web.helpers import Hook


class FakeBridge:
    """What the poller and /healthz use of a bridge: a poll that fails with `error`, breakers that are all up."""

    def __init__(self, error: Exception | None) -> None:
        self.error = error

    async def reconcile(self) -> None:
        return None

    async def due_request_ids(self) -> list[int]:
        if self.error is not None:
            raise self.error
        return []

    def health_details(self) -> dict[str, Any]:
        return {"services": dict.fromkeys(("seerr", "jellyfin", "torrentio", "realdebrid"), "up")}


def _settings(**sections: dict[str, str]) -> Settings:
    return load_settings(overrides=sections)


async def _healthz(daemon: Daemon) -> dict[str, Any]:
    transport = httpx.ASGITransport(app=daemon.web_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://seerbridge") as web:
        response = await web.get("/healthz")
    assert response.status_code == 200  # alive: a liveness probe must not restart the daemon for Seerr's sake
    body: dict[str, Any] = response.json()
    return body


async def test_healthz_says_which_service_failed_the_last_poll() -> None:
    settings = _settings(seerr={"api_key": "seerr-key-123456"})
    down = ServiceUnreachable("seerr", "requests", "connection refused")
    daemon = Daemon(settings, FakeBridge(down))  # type: ignore[arg-type]
    await daemon.poll_once()
    body = await _healthz(daemon)
    assert body["ok"] is False
    assert body["services"]["seerr"] != "up"
    assert "connection refused" in body["services"]["seerr"]
    assert body["services"]["jellyfin"] == "up"

    daemon.bridge.error = None  # type: ignore[attr-defined]
    await daemon.poll_once()
    body = await _healthz(daemon)
    assert body["ok"] is True
    assert body["services"]["seerr"] == "up"


async def test_a_failed_poll_names_the_missing_setting() -> None:
    settings = _settings()  # nothing configured
    refused = AuthenticationError("seerr", "requests", "unauthorized", status=401)
    daemon = Daemon(settings, FakeBridge(refused))  # type: ignore[arg-type]
    with capture_logs() as logs:
        await daemon.poll_once()
    (failed,) = [e for e in logs if e["event"] == "poll failed"]
    assert "SEERBRIDGE_SEERR__API_KEY" in failed["hint"], failed
    assert "not set" in failed["hint"], failed


async def test_an_unreachable_seerr_hint_names_the_url_setting() -> None:
    settings = _settings(seerr={"api_key": "seerr-key-123456", "url": "http://127.0.0.1:1"})
    daemon = Daemon(settings, FakeBridge(ServiceUnreachable("seerr", "requests", "refused")))  # type: ignore[arg-type]
    with capture_logs() as logs:
        await daemon.poll_once()
    (failed,) = [e for e in logs if e["event"] == "poll failed"]
    assert "SEERBRIDGE_SEERR__URL" in failed["hint"] and "http://127.0.0.1:1" in failed["hint"], failed
    assert "seerr-key-123456" not in str(failed)


async def test_webhooks_without_a_secret_say_which_setting_is_missing() -> None:
    hook = Hook(secret="")
    try:
        response = await hook.post({"notification_type": "TEST_NOTIFICATION"}, authorization="anything")
    finally:
        await hook.aclose()
    assert response.status_code == 401
    detail = response.json()["detail"]
    assert "no webhook secret is configured" in detail and "SEERBRIDGE_WEBHOOK__SECRET" in detail, detail


def test_a_busy_port_is_one_line(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        env = {k: v for k, v in os.environ.items() if not k.startswith("SEERBRIDGE_")}
        env |= {f"SEERBRIDGE_{s}__URL": "http://127.0.0.1:1" for s in ("SEERR", "JELLYFIN", "TORRENTIO", "REALDEBRID")}
        env |= {
            "SEERBRIDGE_DATABASE__URL": f"sqlite+aiosqlite:///{tmp_path}/port.db",
            "SEERBRIDGE_SERVER__PORT": str(port),
        }
        proc = subprocess.run(
            [sys.executable, "-m", "seerbridge", "run"], env=env, capture_output=True, text=True, timeout=60
        )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out
    assert "Traceback" not in out
    lines = [line for line in out.splitlines() if line.strip()]
    assert lines == [f"seerbridge: port {port} on 127.0.0.1 is in use (set SEERBRIDGE_SERVER__PORT)"], out


@pytest.fixture(autouse=True)
def _no_seerbridge_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in list(os.environ):
        if key.startswith("SEERBRIDGE_"):
            monkeypatch.delenv(key)
