"""2026-12-06 cumulative counts as rows: request_calls, request_counters and shared_calls replace the JSON in
requests.calls, requests.counters and the app state key `calls.shared`

A JSON value was read, merged and written back whole, so two passes adding at once lost one's share. A row per
counted thing is added to in SQL instead. Every existing count moves into the new rows; the downgrade folds them back.

The JSON columns are dropped in place (ALTER TABLE ... DROP COLUMN, SQLite 3.35+), not by alembic's batch rebuild:
on SQLite a rebuild drops `requests`, and with foreign keys on that deletes every request_items and decisions row
(ON DELETE CASCADE) and unlinks every torrent (SET NULL).

Revision ID: 20261206_0006
Revises: 20261206_0005
Create Date: 2026-12-06
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

import sqlalchemy as sa
from alembic import op

from seerbridge import clock

revision = "20261206_0006"
down_revision = "20261206_0005"
branch_labels = None
depends_on = None

SHARED_CALLS_KEY = "calls.shared"  # the app state key that held the shared calls as JSON

_requests = sa.table(
    "requests", sa.column("id", sa.Integer()), sa.column("calls", sa.JSON()), sa.column("counters", sa.JSON())
)
_state = sa.table(
    "app_state",
    sa.column("key", sa.String()),
    sa.column("value", sa.Text()),
    sa.column("updated_at", sa.DateTime(True)),
)


def _big() -> sa.types.TypeEngine[int]:
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _request_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["request_id"], ["requests.id"], name=op.f(f"fk_{table}_request_id_requests"), ondelete="CASCADE"
    )


def _positive(counts: Any) -> dict[str, int]:
    """A JSON object's entries as counts; anything else (or nothing worth a row) is dropped."""
    if not isinstance(counts, dict):
        return {}
    return {str(k): int(n) for k, n in counts.items() if isinstance(n, int) and n > 0}


def upgrade() -> None:
    op.create_table(
        "request_calls",
        sa.Column("request_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("service", sa.String(length=32), nullable=False),
        sa.Column("endpoint", sa.String(length=64), nullable=False),
        sa.Column("count", _big(), nullable=False),
        _request_fk("request_calls"),
        sa.PrimaryKeyConstraint("request_id", "service", "endpoint", name=op.f("pk_request_calls")),
    )
    op.create_table(
        "request_counters",
        sa.Column("request_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("count", _big(), nullable=False),
        _request_fk("request_counters"),
        sa.PrimaryKeyConstraint("request_id", "name", name=op.f("pk_request_counters")),
    )
    op.create_table(
        "shared_calls",
        sa.Column("service", sa.String(length=32), nullable=False),
        sa.Column("endpoint", sa.String(length=64), nullable=False),
        sa.Column("count", _big(), nullable=False),
        sa.PrimaryKeyConstraint("service", "endpoint", name=op.f("pk_shared_calls")),
    )

    bind = op.get_bind()
    calls: list[dict[str, Any]] = []
    counters: list[dict[str, Any]] = []
    for rid, per_service, events in bind.execute(sa.select(_requests.c.id, _requests.c.calls, _requests.c.counters)):
        for service, endpoints in (per_service or {}).items():
            calls += [
                {"request_id": rid, "service": service, "endpoint": ep, "count": n}
                for ep, n in _positive(endpoints).items()
            ]
        counters += [{"request_id": rid, "name": name, "count": n} for name, n in _positive(events).items()]
    if calls:
        bind.execute(sa.table("request_calls", *(sa.column(c) for c in calls[0])).insert(), calls)
    if counters:
        bind.execute(sa.table("request_counters", *(sa.column(c) for c in counters[0])).insert(), counters)

    raw = bind.execute(sa.select(_state.c.value).where(_state.c.key == SHARED_CALLS_KEY)).scalar()
    shared = [
        {"service": service, "endpoint": ep, "count": n}
        for service, endpoints in (json.loads(raw) if raw else {}).items()
        for ep, n in _positive(endpoints).items()
    ]
    if shared:
        bind.execute(sa.table("shared_calls", *(sa.column(c) for c in shared[0])).insert(), shared)
    bind.execute(_state.delete().where(_state.c.key == SHARED_CALLS_KEY))

    op.drop_column("requests", "counters")
    op.drop_column("requests", "calls")


def downgrade() -> None:
    # Added in place for the same reason they are dropped in place; a default lets SQLite add a NOT NULL column.
    op.add_column("requests", sa.Column("calls", sa.JSON(), nullable=False, server_default="{}"))
    op.add_column("requests", sa.Column("counters", sa.JSON(), nullable=False, server_default="{}"))
    if op.get_bind().dialect.name != "sqlite":
        op.alter_column("requests", "calls", server_default=None)  # as 20261124_0002 made it (SQLite cannot alter)

    bind = op.get_bind()
    calls: dict[int, dict[str, dict[str, int]]] = defaultdict(dict)
    for rid, service, ep, n in bind.execute(sa.text("SELECT request_id, service, endpoint, count FROM request_calls")):
        calls[rid].setdefault(service, {})[ep] = n
    counters: dict[int, dict[str, int]] = defaultdict(dict)
    for rid, name, n in bind.execute(sa.text("SELECT request_id, name, count FROM request_counters")):
        counters[rid][name] = n
    for rid in calls.keys() | counters.keys():
        bind.execute(
            _requests.update()
            .where(_requests.c.id == rid)
            .values(calls=calls.get(rid, {}), counters=counters.get(rid, {}))
        )

    shared: dict[str, dict[str, int]] = {}
    for service, ep, n in bind.execute(sa.text("SELECT service, endpoint, count FROM shared_calls")):
        shared.setdefault(service, {})[ep] = n
    if shared:
        value = json.dumps(shared, sort_keys=True)
        bind.execute(_state.insert().values(key=SHARED_CALLS_KEY, value=value, updated_at=clock.now()))

    op.drop_table("shared_calls")
    op.drop_table("request_counters")
    op.drop_table("request_calls")
