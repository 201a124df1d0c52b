"""Builds the async engine for SQLite (WAL) or PostgreSQL and brings the schema to the newest migration."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

from seerbridge.store.migrate import upgrade_to_head


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets status readers work while the daemon writes; busy_timeout rides out short write locks.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def create_engine(url: str) -> AsyncEngine:
    """An engine for `url`; for SQLite the file's parent directories are created first."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    return create_async_engine(url, pool_pre_ping=True)


async def open_database(url: str) -> tuple[AsyncEngine, async_sessionmaker[Any]]:
    """Create the engine, apply pending migrations, and return it with a session factory."""
    engine = create_engine(url)
    await upgrade_to_head(engine)
    return engine, async_sessionmaker(engine, expire_on_commit=False)
