"""2026-12-06 seerbridge as Seerr's Radarr and Sonarr: arr_titles, arr_tags, arr_profiles

- `arr_titles`: every movie or series Seerr added through the Radarr/Sonarr API, with the id Seerr keeps for it, the
  profile and root folder it chose, the seasons it monitors, and when (and how) it was deleted.
- `arr_tags`: the tags Seerr creates there (one per user with "tag requests").
- `arr_profiles`: the quality profile id of each of seerbridge's profiles, fixed the first time it is listed.
- `arr_episodes`: the id Sonarr's answers give each episode of a series (season and number), fixed the first time
  it is listed (Seerr sends them back to monitor episodes).

Revision ID: 20261206_0008
Revises: 20261206_0007
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "20261206_0008"
down_revision = "20261206_0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "arr_titles",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("app", sa.String(8), nullable=False),
        sa.Column("is4k", sa.Boolean(), nullable=False),
        sa.Column("tmdb_id", sa.Integer(), nullable=True, index=True),
        sa.Column("tvdb_id", sa.Integer(), nullable=True, index=True),
        sa.Column("imdb_id", sa.String(16), nullable=True),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("profile", sa.String(64), nullable=False),
        sa.Column("root_folder", sa.Text(), nullable=False),
        sa.Column("monitored", sa.Boolean(), nullable=False),
        sa.Column("seasons", sa.JSON(), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("delete_files", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.create_table(
        "arr_tags",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("label", sa.String(255), nullable=False, unique=True),
    )
    op.create_table(
        "arr_profiles",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(64), nullable=False, unique=True),
    )

    op.create_table(
        "arr_episodes",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("title_id", sa.Integer(), nullable=False),
        sa.Column("season", sa.Integer(), nullable=False),
        sa.Column("episode", sa.Integer(), nullable=False),
        sa.UniqueConstraint("title_id", "season", "episode", name="uq_arr_episodes_title_id"),
    )


def downgrade() -> None:
    op.drop_table("arr_episodes")
    op.drop_table("arr_profiles")
    op.drop_table("arr_tags")
    op.drop_table("arr_titles")
