"""Store access for seerbridge as Seerr's Radarr and Sonarr: the titles Seerr added, its tags, the profile ids."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from seerbridge import clock
from seerbridge.store.models import ArrEpisode, ArrProfile, ArrTag, ArrTitle
from seerbridge.store.repo import upsert
from seerbridge.store.times import from_store as read_utc

App = Literal["radarr", "sonarr"]


@dataclass(frozen=True)
class ArrSeason:
    number: int
    monitored: bool
    episodes: int  # how many episodes the season has (TMDB's count, as Seerr shows it)

    def as_json(self) -> dict[str, Any]:
        return {"season": self.number, "monitored": self.monitored, "episodes": self.episodes}


@dataclass(frozen=True)
class ArrTitleRecord:
    id: int
    app: App
    is4k: bool
    tmdb_id: int | None
    tvdb_id: int | None
    imdb_id: str | None
    title: str
    year: int
    profile: str
    root_folder: str
    monitored: bool
    seasons: tuple[ArrSeason, ...]
    tags: tuple[int, ...]
    added_at: datetime
    updated_at: datetime
    deleted_at: datetime | None = None
    delete_files: bool = False

    @property
    def monitored_seasons(self) -> frozenset[int]:
        return frozenset(s.number for s in self.seasons if s.monitored)


def _season(value: Any) -> ArrSeason:
    return ArrSeason(int(value["season"]), bool(value["monitored"]), int(value.get("episodes", 0)))


def _record(row: ArrTitle) -> ArrTitleRecord:
    return ArrTitleRecord(
        id=row.id,
        app="radarr" if row.app == "radarr" else "sonarr",
        is4k=row.is4k,
        tmdb_id=row.tmdb_id,
        tvdb_id=row.tvdb_id,
        imdb_id=row.imdb_id,
        title=row.title,
        year=row.year,
        profile=row.profile,
        root_folder=row.root_folder,
        monitored=row.monitored,
        seasons=tuple(_season(s) for s in row.seasons or ()),
        tags=tuple(int(t) for t in row.tags or ()),
        added_at=read_utc(row.added_at),
        updated_at=read_utc(row.updated_at),
        deleted_at=read_utc(row.deleted_at) if row.deleted_at is not None else None,
        delete_files=row.delete_files,
    )


def _live(app: App, is4k: bool) -> Any:
    return select(ArrTitle).where(ArrTitle.app == app, ArrTitle.is4k == is4k, ArrTitle.deleted_at.is_(None))


async def list_titles(session: AsyncSession, app: App, is4k: bool) -> list[ArrTitleRecord]:
    rows = (await session.scalars(_live(app, is4k).order_by(ArrTitle.id))).all()
    return [_record(r) for r in rows]


async def get_title(session: AsyncSession, app: App, is4k: bool, title_id: int) -> ArrTitleRecord | None:
    row = (await session.scalars(_live(app, is4k).where(ArrTitle.id == title_id))).first()
    return _record(row) if row is not None else None


async def find_title(
    session: AsyncSession, app: App, is4k: bool, *, tmdb_id: int | None = None, tvdb_id: int | None = None
) -> ArrTitleRecord | None:
    """The live title of this server with this TMDB (movies) or TVDB (series) id."""
    query = _live(app, is4k)
    query = query.where(ArrTitle.tmdb_id == tmdb_id) if tvdb_id is None else query.where(ArrTitle.tvdb_id == tvdb_id)
    row = (await session.scalars(query.order_by(ArrTitle.id.desc()))).first()
    return _record(row) if row is not None else None


async def titles_of_media(session: AsyncSession, app: App, tmdb_id: int, is4k: bool) -> list[ArrTitleRecord]:
    """Every title (deleted ones too, newest first) Seerr added for this media and kind."""
    query = select(ArrTitle).where(ArrTitle.app == app, ArrTitle.is4k == is4k, ArrTitle.tmdb_id == tmdb_id)
    rows = (await session.scalars(query.order_by(ArrTitle.id.desc()))).all()
    return [_record(r) for r in rows]


async def deleted_with_files(session: AsyncSession) -> list[ArrTitleRecord]:
    """Titles Seerr deleted asking for their files to go (`deleteFiles=true`), for cleanup."""
    query = select(ArrTitle).where(ArrTitle.deleted_at.is_not(None), ArrTitle.delete_files.is_(True))
    return [_record(r) for r in (await session.scalars(query)).all()]


async def live_titles(session: AsyncSession) -> list[ArrTitleRecord]:
    query = select(ArrTitle).where(ArrTitle.deleted_at.is_(None)).order_by(ArrTitle.id)
    return [_record(r) for r in (await session.scalars(query)).all()]


async def add_title(
    session: AsyncSession,
    *,
    app: App,
    is4k: bool,
    tmdb_id: int | None,
    tvdb_id: int | None,
    imdb_id: str | None,
    title: str,
    year: int,
    profile: str,
    root_folder: str,
    monitored: bool,
    seasons: Iterable[ArrSeason],
    tags: Iterable[int],
) -> ArrTitleRecord:
    now = clock.now()
    row = ArrTitle(
        app=app,
        is4k=is4k,
        tmdb_id=tmdb_id,
        tvdb_id=tvdb_id,
        imdb_id=imdb_id,
        title=title,
        year=year,
        profile=profile,
        root_folder=root_folder,
        monitored=monitored,
        seasons=[s.as_json() for s in seasons],
        tags=sorted(set(tags)),
        added_at=now,
        updated_at=now,
        deleted_at=None,
        delete_files=False,
    )
    session.add(row)
    await session.flush()
    return _record(row)


async def update_title(
    session: AsyncSession,
    title_id: int,
    *,
    monitored: bool,
    seasons: Iterable[ArrSeason],
    tags: Iterable[int],
    profile: str,
    root_folder: str,
) -> ArrTitleRecord:
    row = await session.get(ArrTitle, title_id, with_for_update=True)
    assert row is not None, f"arr title {title_id} vanished"
    row.monitored = monitored
    row.seasons = [s.as_json() for s in seasons]
    row.tags = sorted(set(tags))
    row.profile = profile
    row.root_folder = root_folder
    row.updated_at = clock.now()
    await session.flush()
    return _record(row)


async def set_seasons(session: AsyncSession, title_id: int, seasons: Iterable[ArrSeason]) -> ArrTitleRecord:
    """The title with these seasons (numbers, monitored flags, episode counts); the rest as it is."""
    row = await session.get(ArrTitle, title_id, with_for_update=True)
    assert row is not None, f"arr title {title_id} vanished"
    row.seasons = [s.as_json() for s in seasons]
    row.updated_at = clock.now()
    await session.flush()
    return _record(row)


async def delete_title(session: AsyncSession, title_id: int, *, delete_files: bool) -> None:
    row = await session.get(ArrTitle, title_id, with_for_update=True)
    if row is None or row.deleted_at is not None:
        return
    row.deleted_at = clock.now()
    row.delete_files = delete_files
    row.updated_at = row.deleted_at


# --- tags ------------------------------------------------------------------------------------------------------------


async def tags(session: AsyncSession) -> list[tuple[int, str]]:
    rows = (await session.scalars(select(ArrTag).order_by(ArrTag.id))).all()
    return [(r.id, r.label) for r in rows]


async def add_tag(session: AsyncSession, label: str) -> tuple[int, str]:
    """The tag with this label (case-insensitive, as Radarr compares them), created when new."""
    for tag_id, existing in await tags(session):
        if existing.lower() == label.lower():
            return tag_id, existing
    await session.execute(upsert(session, ArrTag).values(label=label).on_conflict_do_nothing())
    row = (await session.scalars(select(ArrTag).where(ArrTag.label == label))).one()
    return row.id, row.label


class TagTaken(Exception):
    """Another tag already has that label."""


async def rename_tag(session: AsyncSession, tag_id: int, label: str) -> tuple[int, str] | None:
    """None when there is no such tag; TagTaken when another tag has the label."""
    row = await session.get(ArrTag, tag_id)
    if row is None:
        return None
    if any(other != tag_id and existing.lower() == label.lower() for other, existing in await tags(session)):
        raise TagTaken(label)
    row.label = label
    await session.flush()
    return row.id, row.label


# --- profiles --------------------------------------------------------------------------------------------------------


async def profile_ids(session: AsyncSession, names: Iterable[str]) -> dict[str, int]:
    """The id of each named profile; a name seen for the first time gets the next id, kept from then on (two
    callers at once both get the same ids: the insert ignores a name the other just added)."""
    wanted = list(dict.fromkeys(names))
    rows = {r.name: r.id for r in (await session.scalars(select(ArrProfile))).all()}
    for name in wanted:
        if name not in rows:
            await session.execute(upsert(session, ArrProfile).values(name=name).on_conflict_do_nothing())
    if not set(wanted) <= set(rows):
        rows = {r.name: r.id for r in (await session.scalars(select(ArrProfile))).all()}
    return {name: rows[name] for name in wanted}


# --- episodes --------------------------------------------------------------------------------------------------------


async def episode_ids(
    session: AsyncSession, title_id: int, episodes: Iterable[tuple[int, int]]
) -> dict[tuple[int, int], int]:
    """The id of each (season, episode) of a series, made the first time it is asked for and kept from then on."""
    wanted = list(dict.fromkeys(episodes))
    query = select(ArrEpisode).where(ArrEpisode.title_id == title_id)
    known = {(r.season, r.episode): r.id for r in (await session.scalars(query)).all()}
    missing = [pair for pair in wanted if pair not in known]
    if missing:
        values = [{"title_id": title_id, "season": s, "episode": e} for s, e in missing]
        await session.execute(upsert(session, ArrEpisode).values(values).on_conflict_do_nothing())
        known = {(r.season, r.episode): r.id for r in (await session.scalars(query)).all()}
    return {pair: known[pair] for pair in wanted}


async def episode_of(session: AsyncSession, episode_id: int) -> tuple[int, int, int] | None:
    """(title id, season, episode) of an episode id, None for an id never given out."""
    row = await session.get(ArrEpisode, episode_id)
    return None if row is None else (row.title_id, row.season, row.episode)
