"""Plain records of the Jellyfin emulator: library items, scheduled tasks, reported paths, and Jellyfin's id recipe."""

from __future__ import annotations

import hashlib
import re
import unicodedata
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal

ItemKind = Literal["CollectionFolder", "Movie", "Series", "Season", "Episode"]

# .NET type names Jellyfin hashes into item ids.
TYPE_NAMES: dict[ItemKind, str] = {
    "CollectionFolder": "MediaBrowser.Controller.Entities.CollectionFolder",
    "Movie": "MediaBrowser.Controller.Entities.Movies.Movie",
    "Series": "MediaBrowser.Controller.Entities.TV.Series",
    "Season": "MediaBrowser.Controller.Entities.TV.Season",
    "Episode": "MediaBrowser.Controller.Entities.TV.Episode",
}
TICKS_PER_SECOND = 10_000_000
_ARTICLES = re.compile(r"^(the|a|an)\s+", re.IGNORECASE)


def jellyfin_guid(text: str) -> str:
    """Jellyfin's `string.GetMD5()`: MD5 of the UTF-16LE text as a .NET Guid, in N format (32 lowercase hex)."""
    return uuid.UUID(bytes_le=hashlib.md5(text.encode("utf-16-le")).digest()).hex


def clean_name(text: str) -> str:
    """Jellyfin's search form of a name: no diacritics, lower case, punctuation turned into spaces."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(re.sub(r"[^\w]+", " ", plain.lower()).split())


def safe_name(text: str) -> str:
    return re.sub(r'[<>:"/\\|?*]', "", text).strip()


@dataclass
class LibraryItem:
    """One BaseItem as the emulator stores it (rendered to a BaseItemDto by `jellyfin_wire.item_dto`)."""

    id: str
    kind: ItemKind
    name: str
    parent_id: str | None
    path: str | None
    date_created: datetime
    provider_ids: dict[str, str] = field(default_factory=dict)
    production_year: int | None = None
    premiere_date: date | None = None
    index_number: int | None = None
    index_number_end: int | None = None
    parent_index_number: int | None = None
    series_id: str | None = None
    series_name: str | None = None
    season_id: str | None = None
    season_name: str | None = None
    collection_type: str | None = None
    original_title: str | None = None
    virtual: bool = False
    size: int | None = None
    width: int | None = None
    height: int | None = None
    runtime_s: int | None = None
    container: str = "mkv"
    # A `.strm` file's URL (Jellyfin's ShortcutPath): its media source plays that URL instead of `path`.
    shortcut_url: str | None = None

    @property
    def is_folder(self) -> bool:
        return self.kind in ("CollectionFolder", "Series", "Season")

    @property
    def location_type(self) -> str:
        return "Virtual" if self.virtual else "FileSystem"

    @property
    def media_type(self) -> str:
        return "Video" if self.kind in ("Movie", "Episode") else "Unknown"

    @property
    def sort_name(self) -> str:
        """Jellyfin's SortName: episodes "SSS - EEEE - name", seasons "NNNN", others lower-cased without articles."""
        if self.kind == "Episode":
            season = f"{self.parent_index_number:03d} - " if self.parent_index_number is not None else ""
            episode = f"{self.index_number:04d} - " if self.index_number is not None else ""
            return f"{season}{episode}{self.name}".lower()
        if self.kind == "Season" and self.index_number is not None:
            return f"{self.index_number:04d}"
        return _ARTICLES.sub("", self.name.lower())

    @property
    def run_time_ticks(self) -> int | None:
        return None if self.runtime_s is None else self.runtime_s * TICKS_PER_SECOND


@dataclass(frozen=True)
class MediaUpdate:
    """One path received by `POST /Library/Media/Updated`; `accepted` is False when Jellyfin drops it."""

    path: str
    update_type: str | None
    at: datetime
    accepted: bool


@dataclass
class TaskRecord:
    """A scheduled task as `GET /ScheduledTasks` shows it."""

    key: str
    name: str
    category: str
    description: str
    type_name: str
    interval_hours: float
    is_hidden: bool = False
    last_start: datetime | None = None
    last_end: datetime | None = None
    last_status: Literal["Completed", "Failed", "Cancelled", "Aborted"] | None = None

    @property
    def id(self) -> str:
        return jellyfin_guid(self.type_name)


SCAN_TASK_KEY = "RefreshLibrary"


def default_tasks() -> list[TaskRecord]:
    base = "Emby.Server.Implementations.ScheduledTasks.Tasks."
    return [
        TaskRecord(
            SCAN_TASK_KEY,
            "Scan Media Library",
            "Library",
            "Scans your media library for new files and refreshes metadata.",
            base + "RefreshMediaLibraryTask",
            12,
        ),
        TaskRecord(
            "RefreshPeople",
            "Refresh People",
            "Library",
            "Updates metadata for actors and directors in your media library.",
            base + "PeopleValidationTask",
            24 * 7,
        ),
        TaskRecord(
            "DeleteCacheFiles",
            "Clean Cache Directory",
            "Maintenance",
            "Deletes cache files no longer needed by the system.",
            base + "DeleteCacheFileTask",
            24,
        ),
        TaskRecord(
            "CleanLogFiles",
            "Clean Log Directory",
            "Maintenance",
            "Deletes log files that are more than 3 days old.",
            base + "DeleteLogFileTask",
            24,
        ),
    ]
