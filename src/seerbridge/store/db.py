"""Builds the async engine for SQLite (WAL) or PostgreSQL, and opens the store: migrated (`seerbridge run`,
`seerbridge db upgrade`) or checked (every other command, which must never change the schema under a running
daemon of another version)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

from seerbridge.errors import SeerbridgeError
from seerbridge.redact import redact
from seerbridge.store.migrate import current_revision, head_revision, known_revision, upgrade_to_head

UPGRADE_HINT = "run `seerbridge db upgrade` or start `seerbridge run`"


class DatabaseError(SeerbridgeError):
    """The database cannot be used as it is; the message is one line naming it (never with its password)."""


class DatabaseUnreachable(DatabaseError):
    """No connection could be made (server down, wrong address or credentials, a folder that cannot be created)."""

    retryable = True


class DatabaseNew(DatabaseError):
    """The database holds no seerbridge schema yet: nothing has run against it."""


class SchemaBehind(DatabaseError):
    """The schema is older than this seerbridge's; only `run` and `db upgrade` migrate it."""


class SchemaAhead(DatabaseError):
    """A newer seerbridge migrated the database past every revision this one knows."""


def database_name(url: str) -> str:
    """How messages name the database: the SQLite file, or the server URL without the password."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return parsed.database or ":memory:"
    return parsed.set(drivername=parsed.get_backend_name(), password=None).render_as_string(hide_password=True)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets status readers work while the daemon writes; busy_timeout rides out short write locks.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_file(url: str) -> Path | None:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    return Path(parsed.database).expanduser()


def create_engine(url: str) -> AsyncEngine:
    """An engine for `url`; for SQLite the file's parent directories are created first."""
    if (path := _sqlite_file(url)) is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    if make_url(url).get_backend_name() == "sqlite":
        engine = create_async_engine(url)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    return create_async_engine(url, pool_pre_ping=True)


def _reason(exc: BaseException) -> str:
    """Why a connection failed, in a few words: the driver's own message, not SQLAlchemy's wrapping of it."""
    if isinstance(exc, DBAPIError) and exc.orig is not None:
        exc = exc.orig.__cause__ or exc.orig
    if isinstance(exc, TimeoutError):
        text = "no answer in time"
    elif isinstance(exc, ConnectionRefusedError) or "Connect call failed" in str(exc):  # asyncio's words for it
        text = "connection refused (is the server running?)"
    elif isinstance(exc, OSError) and exc.strerror:
        text = exc.strerror[:1].lower() + exc.strerror[1:]
    else:
        text = str(exc) or type(exc).__name__
    return redact(" ".join(text.split()))[:200]


def unreachable(url: str, exc: BaseException) -> DatabaseUnreachable:
    """The one-line error for a database that cannot be opened."""
    if isinstance(exc, OSError) and (path := _sqlite_file(url)) is not None and not path.parent.is_dir():
        return DatabaseUnreachable(
            f"cannot open the database {database_name(url)}: its folder cannot be created ({_reason(exc)})"
        )
    return DatabaseUnreachable(f"cannot open the database {database_name(url)}: {_reason(exc)}")


async def _prepared(url: str, migrate: bool) -> tuple[AsyncEngine, str | None]:
    """The engine, checked (and migrated when `migrate`), with the revision it was at before."""
    name = database_name(url)
    path = _sqlite_file(url)
    if not migrate and make_url(url).get_backend_name() == "sqlite" and (path is None or not path.exists()):
        # A read-only command creates nothing: no folder, no file.
        raise DatabaseNew(f"the database {name} is new: nothing has run yet (start `seerbridge run`)")
    try:
        engine = create_engine(url)
    except OSError as exc:
        raise unreachable(url, exc) from exc
    try:
        before = await current_revision(engine)
        if before is not None and not known_revision(before):
            raise SchemaAhead(
                f"the database {name} is at schema {before}, which this seerbridge does not know: "
                "this seerbridge is older than the database (use the newer one)"
            )
        if migrate:
            await upgrade_to_head(engine)
        elif before is None:
            raise DatabaseNew(f"the database {name} is new: nothing has run yet (start `seerbridge run`)")
        elif before != (head := head_revision()):
            raise SchemaBehind(
                f"the database {name} is at schema {before}, behind this seerbridge ({head}): {UPGRADE_HINT}"
            )
    except (OSError, DBAPIError) as exc:
        await engine.dispose()
        raise unreachable(url, exc) from exc
    except BaseException:
        await engine.dispose()
        raise
    return engine, before


async def open_database(url: str, *, migrate: bool = True) -> tuple[AsyncEngine, async_sessionmaker[Any]]:
    """The engine and a session factory.

    `migrate=True` (`seerbridge run`, and everything that opens the store the way it does: the demo, the sandbox,
    tests) applies pending migrations. `migrate=False` (every other command) changes nothing: it raises DatabaseNew,
    SchemaBehind or SchemaAhead unless the schema is exactly this seerbridge's. Either way a database that cannot
    be reached raises DatabaseUnreachable and one newer than this seerbridge raises SchemaAhead.
    """
    engine, _ = await _prepared(url, migrate)
    return engine, async_sessionmaker(engine, expire_on_commit=False)


async def check_database(url: str) -> None:
    """Raise as `open_database(url, migrate=False)` would; for commands that then open the store another way."""
    engine, _ = await _prepared(url, migrate=False)
    await engine.dispose()


async def upgrade_database(url: str) -> tuple[str | None, str | None]:
    """Apply pending migrations (`seerbridge db upgrade`); the revisions before and after."""
    engine, before = await _prepared(url, migrate=True)
    try:
        return before, await current_revision(engine)
    finally:
        await engine.dispose()
