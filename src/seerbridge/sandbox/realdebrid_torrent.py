"""Real-Debrid emulator torrents: one torrent's facts and its status over virtual time, plus magnet parsing.

Status is never advanced by a background task. Each torrent keeps the moments that matter (added, metadata
ready, files selected) and `snapshot()` works its status out from them and the virtual clock at read time:

    magnet_conversion ─(conversion_s; 0 for cached hashes)→ waiting_files_selection ─selectFiles→
        cached hash, selection ⊆ video files → downloaded at once (progress 100, links, ended)
        otherwise → queued (queue_s) → downloading (selected bytes / rd_speed) → downloaded
        dead         → queued → downloading (never past 99 %) → dead after rd_dies_after
        error, virus → that status at once
    magnet_error hashes end their conversion in magnet_error and never reach file selection.

A torrent can also be pinned to a status by hand (scenario torrents, `set_status`), which freezes it there.
"""

from __future__ import annotations

import mimetypes
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from seerbridge.sandbox.magnets import read_magnet
from seerbridge.sandbox.scenario import FileSpec, RdBehaviour

Status = Literal[
    "magnet_error",
    "magnet_conversion",
    "waiting_files_selection",
    "queued",
    "downloading",
    "downloaded",
    "error",
    "virus",
    "compressing",
    "uploading",
    "dead",
]
# What uses one of the account's download slots (`activeCount.nb`, checked against `active_limit`).
SLOT_STATUSES: frozenset[str] = frozenset({"queued", "downloading", "compressing", "uploading"})
# What `GET /torrents?filter=active` lists: anything not finished one way or the other.
FINAL_STATUSES: frozenset[str] = frozenset({"downloaded", "error", "virus", "dead", "magnet_error"})
VIDEO_EXTENSIONS = frozenset({".mkv", ".mp4", ".avi", ".m4v", ".mov", ".wmv", ".ts", ".m2ts", ".webm", ".mpg"})
HOST = "real-debrid.com"
LINK_PREFIX = f"https://{HOST}/d/"
DOWNLOAD_HOST = "https://sandbox.download.real-debrid.com"


class RdFailure(Exception):
    """An error answer in Real-Debrid's shape: HTTP status plus `{"error": key, "error_code": code}`."""

    def __init__(self, status: int, error: str, code: int) -> None:
        super().__init__(f"{status} {error} ({code})")
        self.status = status
        self.error = error
        self.code = code


def wrong_parameter() -> RdFailure:
    return RdFailure(400, "wrong_parameter", 2)


def unknown_resource() -> RdFailure:
    return RdFailure(404, "unknown_ressource", 7)


def parse_magnet(magnet: str) -> tuple[str, str | None]:
    """The lower-case hex info hash and the `dn` of a magnet URI; RdFailure(400 wrong_parameter) if unusable."""
    found = read_magnet(magnet)
    if found is None:
        raise wrong_parameter()
    return found


def is_video(path: str) -> bool:
    dot = path.rfind(".")
    return dot >= 0 and path[dot:].lower() in VIDEO_EXTENSIONS


@dataclass
class HashBehaviour:
    """How the emulated Real-Debrid treats one info hash."""

    behaviour: RdBehaviour
    name: str
    files: list[FileSpec]
    speed: int = 20 * 1024**2
    dies_after: float = 60.0
    seeders: int = 0


@dataclass
class Snapshot:
    """A torrent as it is at one moment."""

    status: Status
    progress: int
    speed: int | None = None
    seeders: int | None = None
    ended: datetime | None = None


@dataclass
class EmulatedTorrent:
    """One torrent in the account, with the facts its status is derived from."""

    id: str
    hash: str
    magnet_name: str
    behaviour: HashBehaviour
    added: datetime
    ready_at: datetime
    selected: tuple[int, ...] = ()
    selected_at: datetime | None = None
    instant: bool = False
    link_codes: list[str] = field(default_factory=list)
    pinned: Status | None = None
    pinned_progress: int = 0
    split: int = 2000
    seq: int = 0  # insertion order: breaks ties between torrents added at the same moment

    @property
    def files(self) -> list[FileSpec]:
        return self.behaviour.files

    @property
    def name(self) -> str:
        return self.behaviour.name

    @property
    def original_bytes(self) -> int:
        return sum(f.size for f in self.files)

    @property
    def selected_bytes(self) -> int:
        return sum(self.files[i - 1].size for i in self.selected)

    def video_ids(self) -> set[int]:
        return {i for i, f in enumerate(self.files, start=1) if is_video(f.path)}

    def snapshot(self, now: datetime, *, queue_s: float, settle_s: float = 0.0) -> Snapshot:
        b = self.behaviour
        if self.pinned is not None:
            return _pinned_snapshot(self, self.pinned)
        if now < self.ready_at:
            return Snapshot("magnet_conversion", 0, seeders=b.seeders)
        if b.behaviour == "magnet_error":
            return Snapshot("magnet_error", 0)
        if self.selected_at is None:
            return Snapshot("waiting_files_selection", 0)
        if b.behaviour in ("error", "virus"):
            return Snapshot(b.behaviour, 0)
        if self.instant:
            # Real-Debrid shows a cached torrent as downloading at 100 % for a moment after its files are selected.
            if (now - self.selected_at).total_seconds() < settle_s:
                return Snapshot("downloading", 100, speed=0, seeders=b.seeders)
            return Snapshot("downloaded", 100, ended=self.selected_at)
        since = (now - self.selected_at).total_seconds()
        total = max(1, self.selected_bytes)
        if b.behaviour == "dead" and since >= b.dies_after:
            done = max(0.0, min(b.dies_after, since) - queue_s) * b.speed
            return Snapshot("dead", min(99, int(done * 100 // total)))
        if since < queue_s:
            return Snapshot("queued", 0)
        done = (since - queue_s) * b.speed
        if b.behaviour == "dead":
            return Snapshot("downloading", min(99, int(done * 100 // total)), speed=b.speed, seeders=b.seeders)
        if done < total:
            return Snapshot("downloading", int(done * 100 // total), speed=b.speed, seeders=b.seeders)
        ended = self.selected_at + timedelta(seconds=queue_s + total / b.speed)
        return Snapshot("downloaded", 100, ended=ended)


def _pinned_snapshot(t: EmulatedTorrent, status: Status) -> Snapshot:
    ended = t.selected_at or t.added
    if status == "downloaded":
        return Snapshot(status, 100, ended=ended)
    if status == "dead":
        return Snapshot(status, t.pinned_progress, ended=ended if t.pinned_progress >= 100 else None)
    if status in ("downloading", "compressing", "uploading"):
        speed = t.behaviour.speed
        return Snapshot(status, t.pinned_progress, speed=speed, seeders=t.behaviour.seeders)
    if status == "magnet_conversion":
        return Snapshot(status, 0, seeders=t.behaviour.seeders)
    return Snapshot(status, t.pinned_progress)


def torrent_name(release_name: str, files: list[FileSpec]) -> str:
    """RD names a torrent after its single file, or after the folder all its files share."""
    if len(files) == 1 and "/" not in files[0].path:
        return files[0].path
    tops = {f.path.split("/", 1)[0] for f in files}
    if len(tops) == 1 and all("/" in f.path for f in files):
        return tops.pop()
    return release_name


def mime_type(filename: str) -> str:
    if filename.lower().endswith(".mkv"):
        return "video/x-matroska"
    return mimetypes.guess_type(filename)[0] or "application/octet-stream"
