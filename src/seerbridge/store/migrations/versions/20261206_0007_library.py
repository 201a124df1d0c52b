"""2026-12-06 the library seerbridge writes: library_entries, repairs, and the facts they need

- `library_entries`: one row per file entry in the library (`movies/Title (Year) [tmdbid-N]/Title (Year).mkv`),
  written before the entry is put on disk, with the torrent file it points at now. Its id is what a strm entry's
  play token names, so the entry's content never changes when an upgrade or a repair swaps the file behind it.
- `repairs`: a fulfilled torrent that vanished from Real-Debrid or turned bad; open until a new one is kept.
- `work_items.library_folder` (the item's folder, fixed once), `work_items.available_at` (when Jellyfin was seen to
  hold every wanted file), `torrents.files` (the selected files: id, path, size).

Columns are added with plain ALTER TABLE (no batch rebuild: on SQLite a rebuild of a parent table cascades).

Revision ID: 20261206_0007
Revises: 20261206_0006
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "20261206_0007"
down_revision = "20261206_0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("work_items", sa.Column("library_folder", sa.Text(), nullable=True))
    op.add_column("work_items", sa.Column("available_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("torrents", sa.Column("files", sa.JSON(), nullable=True))
    op.create_table(
        "library_entries",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("item_key", sa.String(80), nullable=False, index=True),
        sa.Column("rel_path", sa.String(1024), nullable=False, unique=True),
        sa.Column("episodes", sa.JSON(), nullable=False),
        sa.Column("torrent_id", sa.Integer(), nullable=False, index=True),
        sa.Column("file_id", sa.Integer(), nullable=False),
        sa.Column("file_path", sa.Text(), nullable=False),
        sa.Column("written", sa.Text(), nullable=True),
        sa.Column("waiting_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "repairs",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("torrent_id", sa.Integer(), nullable=False),
        sa.Column("info_hash", sa.String(40), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("item_key", sa.String(80), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=True, index=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("repairs")
    op.drop_table("library_entries")
    op.drop_column("torrents", "files")
    op.drop_column("work_items", "available_at")
    op.drop_column("work_items", "library_folder")
