"""2026-11-24 lifecycle: request backoff schedule, download progress

Revision ID: 20261124_0003
Revises: 20261124_0002
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "20261124_0003"
down_revision = "20261124_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("requests") as batch:
        batch.add_column(sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("backoff_step", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("next_air_date", sa.Date(), nullable=True))
        batch.create_index(batch.f("ix_requests_next_attempt_at"), ["next_attempt_at"])
    with op.batch_alter_table("torrents") as batch:
        batch.add_column(sa.Column("progress", sa.Float(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("progress_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("torrents") as batch:
        batch.drop_column("progress_at")
        batch.drop_column("progress")
    with op.batch_alter_table("requests") as batch:
        batch.drop_index(batch.f("ix_requests_next_attempt_at"))
        batch.drop_column("next_air_date")
        batch.drop_column("backoff_step")
        batch.drop_column("next_attempt_at")
