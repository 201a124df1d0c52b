"""Migrations: applied at start-up on SQLite (default) and on PostgreSQL when one is configured for tests."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Column, DateTime, Integer, MetaData, Table, column, inspect, table, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from seerbridge.services.calls import CallLedger
from seerbridge.store import repo
from seerbridge.store.db import open_database
from seerbridge.store.migrate import alembic_config, current_revision, head_revision
from seerbridge.store.models import Base

ACQUISITION_TABLES = {"requests", "work_items", "request_items", "torrents", "bad_hashes", "decisions", "search_cache"}


async def _tables(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as conn:
        return set(await conn.run_sync(lambda c: inspect(c).get_table_names()))


async def test_start_up_applies_every_migration_and_is_repeatable(db_url: str) -> None:
    engine, _ = await open_database(db_url)
    try:
        assert await current_revision(engine) == head_revision()
        tables = await _tables(engine)
        assert {"app_state", "call_counts", "alembic_version", *ACQUISITION_TABLES} <= tables
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


def _drift(connection: Connection, metadata: MetaData) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True, "render_as_batch": True})
    return list(compare_metadata(context, metadata))


async def test_models_and_migrations_agree(db_url: str) -> None:
    """`alembic check` in a test: autogenerate finds nothing to do on a freshly migrated database."""
    engine, _ = await open_database(db_url)
    try:
        async with engine.connect() as conn:
            assert await conn.run_sync(_drift, Base.metadata) == []
            # ...and the comparison does see a difference when there is one.
            changed = MetaData(naming_convention=Base.metadata.naming_convention)
            for table in Base.metadata.tables.values():
                table.to_metadata(changed)
            Table("search_cache", changed, Column("hits", Integer), extend_existing=True)
            diff = await conn.run_sync(_drift, changed)
            assert [(d[0], d[2], d[3].name) for d in diff] == [("add_column", "search_cache", "hits")]
    finally:
        await engine.dispose()


async def test_acquisition_migration_downgrades_and_upgrades_again(db_url: str) -> None:
    engine, _ = await open_database(db_url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(lambda c: command.downgrade(alembic_config(c), "20261124_0001"))
        assert await current_revision(engine) == "20261124_0001"
        tables = await _tables(engine)
        assert not ACQUISITION_TABLES & tables
        assert {"app_state", "call_counts"} <= tables
        async with engine.begin() as conn:
            await conn.run_sync(lambda c: command.upgrade(alembic_config(c), "head"))
        assert await _tables(engine) >= ACQUISITION_TABLES
        async with engine.connect() as conn:
            assert await conn.run_sync(_drift, Base.metadata) == []
    finally:
        await engine.dispose()


async def test_bad_hash_expiry_migration_keeps_refusals_for_good_and_gives_the_rest_a_week(db_url: str) -> None:
    marked = datetime(2026, 11, 20, 8, 30, tzinfo=UTC)
    engine, sessions = await open_database(db_url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(lambda c: command.downgrade(alembic_config(c), "20261125_0004"))
            old_marks = table(
                "bad_hashes",
                column("info_hash"),
                column("reason"),
                column("source"),
                column("marked_at", DateTime(True)),
            )
            for info_hash, source in (
                ("a" * 40, "realdebrid:451"),
                ("b" * 40, "stalled"),
                ("c" * 40, "realdebrid:dead"),
            ):
                await conn.execute(
                    old_marks.insert().values(info_hash=info_hash, reason="r", source=source, marked_at=marked)
                )
        async with engine.begin() as conn:
            await conn.run_sync(lambda c: command.upgrade(alembic_config(c), "head"))
        async with sessions() as session:
            marks = {m.info_hash: m.expires_at for m in await repo.bad_marks(session)}
            week_later = marked + timedelta(days=7)
            assert marks == {"a" * 40: None, "b" * 40: week_later, "c" * 40: week_later}
            assert await repo.bad_hashes(session, now=week_later) == frozenset({"a" * 40})
        async with engine.connect() as conn:
            assert await conn.run_sync(_drift, Base.metadata) == []
    finally:
        await engine.dispose()
