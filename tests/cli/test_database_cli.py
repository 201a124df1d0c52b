"""The database as the commands meet it: only `run` and `db upgrade` migrate; the others check the schema and say
in one line when it is new, behind or ahead; an unreachable database is one line too, never a traceback."""

from __future__ import annotations

import asyncio
import os
import queue
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import text

from seerbridge.store.db import create_engine, open_database
from seerbridge.store.migrate import alembic_config, current_revision, head_revision
from tests.cli_runner import invoke

OLD_REVISION = "20261124_0001"
NO_RETRIES = {"SEERBRIDGE_TORRENTIO__RETRIES": "1"}
READ_ONLY = [
    ["status"],
    ["status", "--json"],
    ["stats"],
    ["retry", "7"],
    ["cleanup"],
    ["upgrade"],
    ["explain", "--request", "7"],
    ["bad-hashes"],
]


def _url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


def _revision(url: str) -> str | None:
    async def read() -> str | None:
        engine = create_engine(url)
        try:
            return await current_revision(engine)
        finally:
            await engine.dispose()

    return asyncio.run(read())


def _database_at(url: str, revision: str) -> None:
    """A database migrated to head, then moved to `revision` (older, or one this seerbridge does not know)."""

    async def prepare() -> None:
        engine, _ = await open_database(url)
        try:
            async with engine.begin() as conn:
                if revision == OLD_REVISION:
                    await conn.run_sync(lambda c: command.downgrade(alembic_config(c), revision))
                else:
                    await conn.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": revision})
        finally:
            await engine.dispose()

    asyncio.run(prepare())


def _one_line(out: str) -> str:
    lines = [line for line in out.splitlines() if line.strip()]
    assert len(lines) == 1, out
    assert "Traceback" not in out
    return lines[0]


@pytest.mark.parametrize("args", READ_ONLY, ids=" ".join)
def test_read_only_commands_do_not_migrate_a_database_that_is_behind(
    args: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = _url(tmp_path / "old.db")
    _database_at(url, OLD_REVISION)
    code, out = invoke(args, {"SEERBRIDGE_DATABASE__URL": url}, monkeypatch)
    assert code == 1, out
    line = _one_line(out)
    assert "behind" in line and "seerbridge db upgrade" in line and "seerbridge run" in line, line
    assert _revision(url) == OLD_REVISION  # left as it was: an older daemon may still be running on it


@pytest.mark.parametrize("args", READ_ONLY[:3], ids=" ".join)
def test_read_only_commands_on_a_database_from_a_newer_seerbridge(
    args: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = _url(tmp_path / "new.db")
    _database_at(url, "20991231_9999")
    code, out = invoke(args, {"SEERBRIDGE_DATABASE__URL": url}, monkeypatch)
    assert code == 1, out
    line = _one_line(out)
    assert "older than the database" in line, line
    assert _revision(url) == "20991231_9999"


def test_run_refuses_a_database_from_a_newer_seerbridge(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = _url(tmp_path / "new.db")
    _database_at(url, "20991231_9999")
    code, out = invoke(["run", "--once"], {"SEERBRIDGE_DATABASE__URL": url}, monkeypatch)
    assert code == 1, out
    assert "older than the database" in _one_line(out)


def test_status_on_a_new_database_says_so_and_creates_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "data" / "seerbridge.db"
    code, out = invoke(["status"], {"SEERBRIDGE_DATABASE__URL": _url(path)}, monkeypatch)
    assert code == 0, out
    assert "Traceback" not in out
    assert "is new" in out and "seerbridge run" in out
    assert not path.parent.exists()

    code, out = invoke(["status", "--json"], {"SEERBRIDGE_DATABASE__URL": _url(path)}, monkeypatch)
    assert code == 0, out
    assert '"requests": []' in out

    code, out = invoke(["stats"], {"SEERBRIDGE_DATABASE__URL": _url(path)}, monkeypatch)
    assert code == 0, out
    assert "is new" in out

    code, out = invoke(["retry", "7"], {"SEERBRIDGE_DATABASE__URL": _url(path)}, monkeypatch)
    assert code == 1, out
    assert "is new" in _one_line(out)
    assert not path.parent.exists()


def test_db_upgrade_migrates_and_then_status_reads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = _url(tmp_path / "old.db")
    _database_at(url, OLD_REVISION)
    code, out = invoke(["db", "upgrade"], {"SEERBRIDGE_DATABASE__URL": url}, monkeypatch)
    assert code == 0, out
    assert _revision(url) == head_revision()
    assert OLD_REVISION in out and str(head_revision()) in out
    code, out = invoke(["status"], {"SEERBRIDGE_DATABASE__URL": url}, monkeypatch)
    assert code == 0, out
    assert "No requests yet" in out


def test_doctor_reports_the_schema_without_migrating(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = _url(tmp_path / "old.db")
    _database_at(url, OLD_REVISION)
    env = {"SEERBRIDGE_DATABASE__URL": url, "SEERBRIDGE_TORRENTIO__URL": "http://127.0.0.1:1", **NO_RETRIES}
    _, out = invoke(["doctor"], env, monkeypatch)
    database = [line for line in out.splitlines() if "Database" in line]
    assert database and "FAIL" in database[0], out
    assert "behind" in out
    assert _revision(url) == OLD_REVISION


UNREACHABLE = {
    "postgresql": "postgresql+asyncpg://seerbridge:pg-password-123456@127.0.0.1:1/seerbridge",
    "sqlite-folder": "sqlite+aiosqlite:////proc/nope/seerbridge.db",
}


@pytest.mark.parametrize("args", [["status"], ["run", "--once"], ["db", "upgrade"], ["stats", "--json"]], ids=" ".join)
@pytest.mark.parametrize("url", list(UNREACHABLE.values()), ids=list(UNREACHABLE))
def test_an_unreachable_database_is_one_line(
    url: str, args: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if url.startswith("sqlite") and args[0] in ("status", "stats"):
        pytest.skip("a read-only command creates no folder: to it the database is just new")
    code, out = invoke(args, {"SEERBRIDGE_DATABASE__URL": url}, monkeypatch)
    assert code == 1, out
    line = _one_line(out)
    assert line.startswith("seerbridge: cannot open the database "), line
    assert "pg-password-123456" not in out
    if url.startswith("postgresql"):
        assert "127.0.0.1:1" in line and "connection refused" in line, line
    else:
        assert "/proc/nope/seerbridge.db" in line and "folder cannot be created" in line, line


def _daemon(env: dict[str, str]) -> subprocess.Popen[str]:
    child_env = {k: v for k, v in os.environ.items() if not k.startswith("SEERBRIDGE_")} | env
    child_env |= {
        f"SEERBRIDGE_{s}__URL": "http://127.0.0.1:1" for s in ("SEERR", "JELLYFIN", "TORRENTIO", "REALDEBRID")
    }
    child_env |= {"SEERBRIDGE_SERVER__ENABLED": "false", "SEERBRIDGE_LOG__LEVEL": "info"}
    return subprocess.Popen(
        [sys.executable, "-m", "seerbridge", "run"],
        env=child_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _lines(proc: subprocess.Popen[str]) -> queue.Queue[str]:
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in proc.stdout], daemon=True).start()  # type: ignore[union-attr]
    return lines


def _until(lines: queue.Queue[str], needle: str, seen: list[str]) -> str:
    while True:
        line = lines.get(timeout=30)
        seen.append(line)
        if needle in line:
            return line


def test_the_daemon_waits_for_an_unreachable_database_and_stops_on_ctrl_c() -> None:
    proc = _daemon({"SEERBRIDGE_DATABASE__URL": UNREACHABLE["postgresql"]})
    seen: list[str] = []
    try:
        lines = _lines(proc)
        first = _until(lines, "waiting for the database", seen)
        second = _until(lines, "waiting for the database", seen)  # it tries again, one line per attempt
        for line in (first, second):
            assert "cannot open the database" in line and "127.0.0.1:1" in line, line
        assert "attempt=1" in first and "attempt=2" in second
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=15) == 0, "".join(seen)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    rest = proc.stdout.read() if proc.stdout else ""  # type: ignore[union-attr]
    out = "".join(seen) + rest
    assert "Traceback" not in out
    assert "pg-password-123456" not in out


def test_the_daemon_goes_on_once_the_database_can_be_opened(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "data"
    blocker.write_text("a file where the database's folder should be")
    url = _url(blocker / "seerbridge.db")
    proc = _daemon({"SEERBRIDGE_DATABASE__URL": url})
    seen: list[str] = []
    try:
        lines = _lines(proc)
        _until(lines, "waiting for the database", seen)
        blocker.unlink()
        _until(lines, "database ready", seen)
        code, out = invoke(["status"], {"SEERBRIDGE_DATABASE__URL": url}, monkeypatch)
        assert code == 0, out
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0, "".join(seen)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert _revision(url) == head_revision()
    assert "Traceback" not in "".join(seen)
