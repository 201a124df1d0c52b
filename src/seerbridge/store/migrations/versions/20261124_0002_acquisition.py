"""2026-11-24 acquisition: requests, work items, torrents we added, bad hashes, decisions, search cache

Revision ID: 20261124_0002
Revises: 20261124_0001
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "20261124_0002"
down_revision = "20261124_0001"
branch_labels = None
depends_on = None

_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "requests",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("media_type", sa.String(8), nullable=False),
        sa.Column("tmdb_id", sa.Integer(), nullable=False),
        sa.Column("is4k", sa.Boolean(), nullable=False),
        sa.Column("seasons", sa.JSON(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("profile", sa.String(64), nullable=True),
        sa.Column("state", sa.String(32), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("first_seen_at", _TS, nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
        sa.Column("calls", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_requests")),
    )
    op.create_index(op.f("ix_requests_updated_at"), "requests", ["updated_at"])

    op.create_table(
        "work_items",
        sa.Column("key", sa.String(80), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("tmdb_id", sa.Integer(), nullable=False),
        sa.Column("season", sa.Integer(), nullable=True),
        sa.Column("is4k", sa.Boolean(), nullable=False),
        sa.Column("wanted", sa.JSON(), nullable=False),
        sa.Column("done", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(32), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("updated_at", _TS, nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_work_items")),
    )

    op.create_table(
        "request_items",
        sa.Column("request_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("item_key", sa.String(80), nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"], ["requests.id"], name=op.f("fk_request_items_request_id_requests"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["item_key"], ["work_items.key"], name=op.f("fk_request_items_item_key_work_items"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("request_id", "item_key", name=op.f("pk_request_items")),
    )
    op.create_index(op.f("ix_request_items_item_key"), "request_items", ["item_key"])

    op.create_table(
        "torrents",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("info_hash", sa.String(40), nullable=False),
        sa.Column("rd_id", sa.String(64), nullable=True),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("item_key", sa.String(80), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=True),
        sa.Column("season", sa.Integer(), nullable=True),
        sa.Column("episodes", sa.JSON(), nullable=False),
        sa.Column("file_ids", sa.JSON(), nullable=False),
        sa.Column("cached", sa.Boolean(), nullable=False),
        sa.Column("adopted", sa.Boolean(), nullable=False),
        sa.Column("state", sa.String(32), nullable=False),
        sa.Column("size_bytes", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("added_at", _TS, nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
        sa.ForeignKeyConstraint(["item_key"], ["work_items.key"], name=op.f("fk_torrents_item_key_work_items")),
        sa.ForeignKeyConstraint(
            ["request_id"], ["requests.id"], name=op.f("fk_torrents_request_id_requests"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_torrents")),
    )
    op.create_index(op.f("ix_torrents_info_hash"), "torrents", ["info_hash"])
    op.create_index(op.f("ix_torrents_rd_id"), "torrents", ["rd_id"])
    op.create_index(op.f("ix_torrents_item_key"), "torrents", ["item_key"])
    op.create_index(op.f("ix_torrents_request_id"), "torrents", ["request_id"])

    op.create_table(
        "bad_hashes",
        sa.Column("info_hash", sa.String(40), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("marked_at", _TS, nullable=False),
        sa.PrimaryKeyConstraint("info_hash", name=op.f("pk_bad_hashes")),
    )

    op.create_table(
        "decisions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("item_key", sa.String(80), nullable=True),
        sa.Column("at", _TS, nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"], ["requests.id"], name=op.f("fk_decisions_request_id_requests"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["item_key"], ["work_items.key"], name=op.f("fk_decisions_item_key_work_items"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_decisions")),
    )
    op.create_index(op.f("ix_decisions_request_id"), "decisions", ["request_id"])

    op.create_table(
        "search_cache",
        sa.Column("query", sa.String(255), nullable=False),
        sa.Column("fetched_at", _TS, nullable=False),
        sa.Column("expires_at", _TS, nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("query", name=op.f("pk_search_cache")),
    )


def downgrade() -> None:
    op.drop_table("search_cache")
    op.drop_index(op.f("ix_decisions_request_id"), table_name="decisions")
    op.drop_table("decisions")
    op.drop_table("bad_hashes")
    for column in ("request_id", "item_key", "rd_id", "info_hash"):
        op.drop_index(op.f(f"ix_torrents_{column}"), table_name="torrents")
    op.drop_table("torrents")
    op.drop_index(op.f("ix_request_items_item_key"), table_name="request_items")
    op.drop_table("request_items")
    op.drop_table("work_items")
    op.drop_index(op.f("ix_requests_updated_at"), table_name="requests")
    op.drop_table("requests")
