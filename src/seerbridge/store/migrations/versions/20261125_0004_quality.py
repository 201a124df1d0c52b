"""2026-11-25 quality over time: upgrade schedule and supersession on torrents, upgrade and removal history,
per-request counters

Revision ID: 20261125_0004
Revises: 20261124_0003
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "20261125_0004"
down_revision = "20261124_0003"
branch_labels = None
depends_on = None


def _big() -> sa.types.TypeEngine[int]:
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("torrents") as batch:
        batch.add_column(sa.Column("superseded_by", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("superseded_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("upgrade_next_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("upgrade_checked_at", sa.DateTime(timezone=True), nullable=True))
        batch.create_index(batch.f("ix_torrents_upgrade_next_at"), ["upgrade_next_at"])
    with op.batch_alter_table("requests") as batch:
        batch.add_column(sa.Column("counters", sa.JSON(), nullable=False, server_default="{}"))
    op.create_table(
        "upgrades",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("item_key", sa.String(length=80), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=True),
        sa.Column("profile", sa.String(length=64), nullable=False),
        sa.Column("old_torrent_id", sa.Integer(), nullable=False),
        sa.Column("new_torrent_id", sa.Integer(), nullable=False),
        sa.Column("old_name", sa.Text(), nullable=False),
        sa.Column("new_name", sa.Text(), nullable=False),
        sa.Column("old_score", sa.Integer(), nullable=False),
        sa.Column("new_score", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_upgrades")),
    )
    op.create_index(op.f("ix_upgrades_request_id"), "upgrades", ["request_id"])
    op.create_table(
        "removals",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("info_hash", sa.String(length=40), nullable=False),
        sa.Column("rd_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("size_bytes", _big(), nullable=True),
        sa.Column("rule", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("ours", sa.Boolean(), nullable=False),
        sa.Column("torrent_id", sa.Integer(), nullable=True),
        sa.Column("request_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_removals")),
    )
    op.create_index(op.f("ix_removals_request_id"), "removals", ["request_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_removals_request_id"), table_name="removals")
    op.drop_table("removals")
    op.drop_index(op.f("ix_upgrades_request_id"), table_name="upgrades")
    op.drop_table("upgrades")
    with op.batch_alter_table("requests") as batch:
        batch.drop_column("counters")
    with op.batch_alter_table("torrents") as batch:
        batch.drop_index(batch.f("ix_torrents_upgrade_next_at"))
        batch.drop_column("upgrade_checked_at")
        batch.drop_column("upgrade_next_at")
        batch.drop_column("superseded_at")
        batch.drop_column("superseded_by")
