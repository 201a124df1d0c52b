"""Store fixtures: every store test runs on SQLite, and on PostgreSQL when SEERBRIDGE_TEST_DATABASE_URL is set."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

from seerbridge.store.db import open_database

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


# Same event loop as the test (asyncpg connections are bound to the loop that opened them).
@pytest_asyncio.fixture(loop_scope="function")
async def db(db_url: str) -> AsyncIterator[tuple[AsyncEngine, async_sessionmaker[Any]]]:
    """A migrated database: the engine and its session factory (expire_on_commit=False, as the app uses)."""
    engine, sessions = await open_database(db_url)
    try:
        yield engine, sessions
    finally:
        await engine.dispose()


@pytest.fixture
def sessions(db: tuple[AsyncEngine, async_sessionmaker[Any]]) -> async_sessionmaker[Any]:
    return db[1]
