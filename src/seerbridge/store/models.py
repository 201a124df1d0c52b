"""ORM tables. Kept apart from `domain/`: these describe rows, not behaviour."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class AppState(Base):
    """Small facts about this installation (first start, last successful pass, ...), by key."""

    __tablename__ = "app_state"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class CallCount(Base):
    """Calls made per day, service and endpoint; lets daily budgets (Torrentio) survive restarts."""

    __tablename__ = "call_counts"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    service: Mapped[str] = mapped_column(String(32), primary_key=True)
    endpoint: Mapped[str] = mapped_column(String(64), primary_key=True)
    count: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), default=0)


# --- acquisition (migration 20261124_0002) ---------------------------------------------------------------------
# Times are timezone-aware UTC. State columns hold the values of the enums in `seerbridge.domain.states`.
# JSON columns are replaced whole on change (plain `JSON` does not track in-place mutation).


class Request(Base):
    """One Seerr media request, by Seerr's request id. The calls and events it cost are rows of `request_calls` and
    `request_counters` (migration 20261206_0006)."""

    __tablename__ = "requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    media_type: Mapped[str] = mapped_column(String(8))  # "movie" or "tv", as Seerr says
    tmdb_id: Mapped[int] = mapped_column(Integer)
    is4k: Mapped[bool] = mapped_column(Boolean)
    seasons: Mapped[list[int]] = mapped_column(JSON)  # requested season numbers; [] for movies
    title: Mapped[str] = mapped_column(Text)
    profile: Mapped[str | None] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str | None] = mapped_column(Text)
    last_error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer)
    first_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    # Backoff: when to try again (None = whenever polled), how far up the ladder it is, and the next air date
    # among its requested seasons (a newly aired episode makes it due at once).
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    backoff_step: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    next_air_date: Mapped[date | None] = mapped_column(Date)


class WorkItem(Base):
    """One unit of acquisition, keyed by `Wanted.key`; shared by every request for the same thing.

    `wanted` and `done` are episode numbers. A movie has `wanted == []` and `done == [0]` once its file is there
    (episode 0 never names a real episode, so the marker cannot be confused with one).
    """

    __tablename__ = "work_items"

    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))  # "movie" or "season"
    tmdb_id: Mapped[int] = mapped_column(Integer)
    season: Mapped[int | None] = mapped_column(Integer)
    is4k: Mapped[bool] = mapped_column(Boolean)
    wanted: Mapped[list[int]] = mapped_column(JSON)
    done: Mapped[list[int]] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # The library (migration 20261206_0007): the item's folder under the library root, fixed the first time a
    # torrent is kept for it; when Jellyfin was seen holding every wanted file (cleared when new files arrive).
    library_folder: Mapped[str | None] = mapped_column(Text)
    available_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class RequestItem(Base):
    """Which work items serve which request (two requests for the same media share one item)."""

    __tablename__ = "request_items"

    request_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("requests.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    item_key: Mapped[str] = mapped_column(
        String(80), ForeignKey("work_items.key", ondelete="CASCADE"), primary_key=True, index=True
    )


class Torrent(Base):
    """A torrent seerbridge added to (or adopted from) Real-Debrid; the row is written as intent before the add."""

    __tablename__ = "torrents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    info_hash: Mapped[str] = mapped_column(String(40), index=True)  # lower-case hex
    rd_id: Mapped[str | None] = mapped_column(String(64), index=True)
    name: Mapped[str] = mapped_column(Text)
    # No cascade: what is ours on Real-Debrid must stay known even if an item row goes.
    item_key: Mapped[str] = mapped_column(String(80), ForeignKey("work_items.key"), index=True)
    request_id: Mapped[int | None] = mapped_column(Integer, ForeignKey("requests.id", ondelete="SET NULL"), index=True)
    season: Mapped[int | None] = mapped_column(Integer)
    episodes: Mapped[list[int]] = mapped_column(JSON)
    file_ids: Mapped[list[int]] = mapped_column(JSON)  # Real-Debrid's 1-based file ids we selected
    cached: Mapped[bool] = mapped_column(Boolean)
    # Found already in the account (not added by us): served an item, but cleanup must leave it alone.
    adopted: Mapped[bool] = mapped_column(Boolean)
    state: Mapped[str] = mapped_column(String(32))
    size_bytes: Mapped[int | None] = mapped_column(BigInteger().with_variant(Integer, "sqlite"))
    added_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # Following an uncached download: last progress seen and when it last moved (for stall detection).
    progress: Mapped[float] = mapped_column(Float, default=0.0, server_default="0")
    progress_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Quality over time (migration 20261125_0004): the row that replaced this one in an upgrade, and when; the next
    # upgrade check of this torrent and the last one.
    superseded_by: Mapped[int | None] = mapped_column(Integer)
    superseded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    upgrade_next_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    upgrade_checked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The selected files as Real-Debrid listed them and its names for the torrent, {"names": [filename, original],
    # "files": [{"id", "path", "bytes"}]} (migration 20261206_0007): what the library's entries point at. NULL for
    # rows from before; the library then reads the torrent's info once.
    files: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class BadHash(Base):
    """A hash a service refused (e.g. Real-Debrid 451 `infringing_file`) or that failed to download; skipped by
    selection until `expires_at` (NULL: for good, as for a 451 refusal; migration 20261206_0005)."""

    __tablename__ = "bad_hashes"

    info_hash: Mapped[str] = mapped_column(String(40), primary_key=True)
    reason: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(64))  # e.g. "realdebrid:451"
    marked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Decision(Base):
    """What selection concluded for one item of one request: a one-line summary and every candidate's verdict."""

    __tablename__ = "decisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    request_id: Mapped[int] = mapped_column(Integer, ForeignKey("requests.id", ondelete="CASCADE"), index=True)
    item_key: Mapped[str | None] = mapped_column(String(80), ForeignKey("work_items.key", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    summary: Mapped[str] = mapped_column(Text)
    payload: Mapped[list[dict[str, Any]]] = mapped_column(JSON)


class SearchCache(Base):
    """A Torrentio answer by query (`movie/tt0063350`, `series/tt0903747:1:1`), kept until `expires_at`."""

    __tablename__ = "search_cache"

    query: Mapped[str] = mapped_column(String(255), primary_key=True)
    fetched_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    payload: Mapped[Any] = mapped_column(JSON, nullable=False)


# --- quality over time (migration 20261125_0004) ---------------------------------------------------------------


class Upgrade(Base):
    """One replacement of a torrent by a better one: what was there, what came, under which profile."""

    __tablename__ = "upgrades"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    item_key: Mapped[str] = mapped_column(String(80))
    request_id: Mapped[int | None] = mapped_column(Integer, index=True)
    profile: Mapped[str] = mapped_column(String(64))
    old_torrent_id: Mapped[int] = mapped_column(Integer)
    new_torrent_id: Mapped[int] = mapped_column(Integer)
    old_name: Mapped[str] = mapped_column(Text)
    new_name: Mapped[str] = mapped_column(Text)
    old_score: Mapped[int] = mapped_column(Integer)
    new_score: Mapped[int] = mapped_column(Integer)


class Removal(Base):
    """A torrent deleted from Real-Debrid by an upgrade or a cleanup, with the rule and the reason (kept forever)."""

    __tablename__ = "removals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    info_hash: Mapped[str] = mapped_column(String(40))
    rd_id: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(Text)
    size_bytes: Mapped[int | None] = mapped_column(BigInteger().with_variant(Integer, "sqlite"))
    rule: Mapped[str] = mapped_column(
        String(32)
    )  # duplicates, superseded, covered_episodes, deleted_media, removed_in_seerr
    reason: Mapped[str] = mapped_column(Text)
    ours: Mapped[bool] = mapped_column(Boolean)  # added by seerbridge (False: by hand, deleted on opt-in only)
    torrent_id: Mapped[int | None] = mapped_column(Integer)  # our row, when there is one
    request_id: Mapped[int | None] = mapped_column(Integer, index=True)


# --- cumulative counts (migration 20261206_0006) ------------------------------------------------------------------
# One row per thing counted, added to in SQL (`count = count + n`, an upsert), never read, merged and written back:
# concurrent passes each add their share and none is lost. They replaced JSON columns that were rewritten whole.


class RequestCall(Base):
    """Calls spent on one request, per service and endpoint, cumulative."""

    __tablename__ = "request_calls"

    request_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("requests.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    service: Mapped[str] = mapped_column(String(32), primary_key=True)
    endpoint: Mapped[str] = mapped_column(String(64), primary_key=True)
    count: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"))


class RequestCounter(Base):
    """Events for one request that are not calls (`search_cache_hit`, `search_cache_miss`, ...), cumulative."""

    __tablename__ = "request_counters"

    request_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("requests.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    count: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"))


class SharedCall(Base):
    """Calls that served no single request (pass-wide listings, following downloads, upgrade rounds), cumulative."""

    __tablename__ = "shared_calls"

    service: Mapped[str] = mapped_column(String(32), primary_key=True)
    endpoint: Mapped[str] = mapped_column(String(64), primary_key=True)
    count: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"))


# --- the library (migration 20261206_0007) -------------------------------------------------------------------------


class LibraryEntry(Base):
    """One file entry of the library seerbridge writes, recorded before it is put on disk. The path never changes
    for the life of the item; `torrent_id`/`file_id` say what it points at now (swapped in place by an upgrade or a
    repair); `written` is what was last put on disk (a symlink's target or a strm file's address)."""

    __tablename__ = "library_entries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    item_key: Mapped[str] = mapped_column(String(80), index=True)
    rel_path: Mapped[str] = mapped_column(String(1024), unique=True)
    episodes: Mapped[list[int]] = mapped_column(JSON)
    torrent_id: Mapped[int] = mapped_column(Integer, index=True)
    file_id: Mapped[int] = mapped_column(Integer)
    file_path: Mapped[str] = mapped_column(Text)
    written: Mapped[str | None] = mapped_column(Text)
    waiting_since: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # the mount lacks the file
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Repair(Base):
    """A fulfilled torrent that vanished from Real-Debrid or turned bad, noticed and sent back to acquisition."""

    __tablename__ = "repairs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    torrent_id: Mapped[int] = mapped_column(Integer)
    info_hash: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(Text)
    item_key: Mapped[str] = mapped_column(String(80))
    request_id: Mapped[int | None] = mapped_column(Integer, index=True)
    kind: Mapped[str] = mapped_column(String(32))  # vanished, error, dead, virus, magnet_error, play_failed
    reason: Mapped[str] = mapped_column(Text)
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # a new torrent kept for the item


# --- seerbridge as Seerr's Radarr and Sonarr (migration 20261206_0008) ---------------------------------------------


class ArrTitle(Base):
    """A movie or series Seerr added to one of seerbridge's Radarr/Sonarr servers. Its id is the Radarr/Sonarr id
    Seerr stores and later finds in `/queue` and `/movie/{id}`, so it never changes; a deleted title keeps its row
    (with `deleted_at`) so cleanup knows Seerr asked for its files to go."""

    __tablename__ = "arr_titles"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    app: Mapped[str] = mapped_column(String(8))  # "radarr" or "sonarr"
    is4k: Mapped[bool] = mapped_column(Boolean)
    tmdb_id: Mapped[int | None] = mapped_column(Integer, index=True)
    tvdb_id: Mapped[int | None] = mapped_column(Integer, index=True)
    imdb_id: Mapped[str | None] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(Text)
    year: Mapped[int] = mapped_column(Integer)
    profile: Mapped[str] = mapped_column(String(64))  # seerbridge's profile, named by the quality profile id
    root_folder: Mapped[str] = mapped_column(Text)
    monitored: Mapped[bool] = mapped_column(Boolean)
    seasons: Mapped[list[dict[str, Any]]] = mapped_column(JSON)  # [{"season", "monitored", "episodes"}]; [] movies
    tags: Mapped[list[int]] = mapped_column(JSON)
    added_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    delete_files: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class ArrTag(Base):
    """A tag Seerr created on the Radarr/Sonarr servers (per-user tags); ids are stable."""

    __tablename__ = "arr_tags"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    label: Mapped[str] = mapped_column(String(255), unique=True)


class ArrProfile(Base):
    """The stable quality profile id Seerr knows each of seerbridge's profiles by (Seerr keeps the id it chose)."""

    __tablename__ = "arr_profiles"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)


class ArrEpisode(Base):
    """The stable id Sonarr's answers give an episode of a series (Seerr sends it back to monitor episodes)."""

    __tablename__ = "arr_episodes"
    __table_args__ = (UniqueConstraint("title_id", "season", "episode"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    title_id: Mapped[int] = mapped_column(Integer)
    season: Mapped[int] = mapped_column(Integer)
    episode: Mapped[int] = mapped_column(Integer)
