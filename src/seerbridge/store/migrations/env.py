"""Alembic environment: migrates the connection seerbridge hands over, or a URL given for development."""

from __future__ import annotations

import asyncio
import os

from alembic import context
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from seerbridge.store.models import Base

target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def _run_with_own_engine() -> None:
    # For developers running `alembic revision --autogenerate`: SEERBRIDGE_DATABASE__URL names the database.
    url = os.environ.get("SEERBRIDGE_DATABASE__URL", "sqlite+aiosqlite:///./dev.db")

    async def go() -> None:
        engine = create_async_engine(url)
        async with engine.begin() as conn:
            await conn.run_sync(_run)
        await engine.dispose()

    asyncio.run(go())


connection = context.config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    _run_with_own_engine()
