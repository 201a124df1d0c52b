"""Migrations: applied at start-up on SQLite (default) and on PostgreSQL when one is configured for tests."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from seerbridge.services.calls import CallLedger
from seerbridge.store import repo
from seerbridge.store.db import open_database
from seerbridge.store.migrate import current_revision, head_revision

PG_URL = os.environ.get("SEERBRIDGE_TEST_DATABASE_URL")


async def _fresh_pg_database(base_url: str) -> AsyncIterator[str]:
    """A private database per test so runs never see each other's tables."""
    name = f"seerbridge_t_{uuid.uuid4().hex[:12]}"
    admin = create_async_engine(base_url, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(base_url).set(database=name).render_as_string(hide_password=False)
    finally:
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
async def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path}/nested/dir/seerbridge.db"
        return
    if not PG_URL:
        pytest.skip("SEERBRIDGE_TEST_DATABASE_URL is not set (no PostgreSQL for this run)")
    async for url in _fresh_pg_database(PG_URL):
        yield url


def _tables(engine: AsyncEngine) -> object:
    async def run() -> set[str]:
        async with engine.connect() as conn:
            return set(await conn.run_sync(lambda c: inspect(c).get_table_names()))

    return run()


async def test_start_up_applies_every_migration_and_is_repeatable(db_url: str) -> None:
    engine, _ = await open_database(db_url)
    try:
        assert await current_revision(engine) == head_revision()
        assert {"app_state", "call_counts", "alembic_version"} <= await _tables(engine)  # type: ignore[operator]
    finally:
        await engine.dispose()
    engine, _ = await open_database(db_url)  # second start: nothing to do, nothing breaks
    try:
        assert await current_revision(engine) == head_revision()
    finally:
        await engine.dispose()


async def test_repository_round_trip(db_url: str) -> None:
    engine, sessions = await open_database(db_url)
    try:
        ledger = CallLedger()
        for _ in range(3):
            ledger.record("torrentio", "stream/movie")
        ledger.record("realdebrid", "torrents/info")
        day = date(2026, 11, 24)
        async with sessions.begin() as session:
            await repo.add_call_counts(session, day, ledger)
            await repo.set_state(session, "last_pass", "2026-11-24T12:00:00Z")
        async with sessions.begin() as session:
            await repo.add_call_counts(session, day, ledger)
            await repo.set_state(session, "last_pass", "2026-11-24T13:00:00Z")
        async with sessions() as session:
            assert await repo.calls_on(session, day, "torrentio") == 6
            assert await repo.calls_on(session, day, "realdebrid") == 2
            assert await repo.calls_on(session, date(2026, 11, 25), "torrentio") == 0
            assert await repo.get_state(session, "last_pass") == "2026-11-24T13:00:00Z"
            assert await repo.get_state(session, "missing") is None
    finally:
        await engine.dispose()


async def test_sqlite_runs_in_wal_mode(tmp_path: Path) -> None:
    engine, _ = await open_database(f"sqlite+aiosqlite:///{tmp_path}/wal.db")
    try:
        async with engine.connect() as conn:
            assert (await conn.execute(text("PRAGMA journal_mode"))).scalar() == "wal"
    finally:
        await engine.dispose()
