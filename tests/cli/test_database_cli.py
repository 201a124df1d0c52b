"""The database as the commands meet it: only `run` and `db upgrade` migrate; the others check the schema and say
in one line when it is new, behind or ahead; an unreachable database is one line too, never a traceback."""

from __future__ import annotations

import asyncio
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
