"""2026-12-06 bad-hash marks expire: `expires_at` on bad_hashes (NULL: for good)

Existing marks: Real-Debrid's 451 refusals stay for good; every other mark (a stall, a dead or failed download)
expires 7 days after it was made.

Revision ID: 20261206_0005
Revises: 20261125_0004
Create Date: 2026-12-06
"""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from alembic import op

revision = "20261206_0005"
down_revision = "20261125_0004"
branch_labels = None
depends_on = None

PERMANENT_SOURCE = "realdebrid:451"
EXISTING_MARK_DAYS = 7


def upgrade() -> None:
    with op.batch_alter_table("bad_hashes") as batch:
        batch.add_column(sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))
    # Computed row by row (the table is small) so the date arithmetic is the same on SQLite and PostgreSQL.
    marks = sa.table(
        "bad_hashes",
        sa.column("info_hash", sa.String()),
        sa.column("source", sa.String()),
        sa.column("marked_at", sa.DateTime(timezone=True)),
        sa.column("expires_at", sa.DateTime(timezone=True)),
    )
    bind = op.get_bind()
    rows = bind.execute(sa.select(marks.c.info_hash, marks.c.marked_at).where(marks.c.source != PERMANENT_SOURCE))
    for info_hash, marked_at in rows.all():
        bind.execute(
            marks.update()
            .where(marks.c.info_hash == info_hash)
            .values(expires_at=marked_at + timedelta(days=EXISTING_MARK_DAYS))
        )


def downgrade() -> None:
    with op.batch_alter_table("bad_hashes") as batch:
        batch.drop_column("expires_at")
