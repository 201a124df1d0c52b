"""TorBox emulator torrents: one torrent's facts, its download state over virtual time, and its `mylist` JSON.

Nothing advances a torrent in the background: each keeps the moment it was added, and `progress()` works out its
state from that and the virtual clock at read time:

    cached on TorBox when added → `cached` at once (progress 1.0, download_finished and download_present true)
    otherwise → `metaDL` (meta_s, no files yet) → `downloading` (size / speed) → `completed` when the add asked
        not to seed (seed=3), else `uploading` (seeding); both finished and present.
"""

from __future__ import annotations

import mimetypes
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from seerbridge.sandbox.magnets import read_magnet
from seerbridge.sandbox.scenario import FileSpec

SERVER = 1  # the storage server every emulated torrent sits on (links point at store-1)


class TorBoxFailure(Exception):
    """An error answer in TorBox's envelope: HTTP status, `error` code (None is legal: see ACTIVE_LIMIT), `detail`."""

    def __init__(self, status: int, error: str | None, detail: str, data: Any = None) -> None:
        super().__init__(f"{status} {error}: {detail}")
        self.status = status
        self.error = error
        self.detail = detail
        self.data = data


def tb_time(moment: datetime) -> str:
    """TorBox's timestamp form: ISO-8601 with offset and microseconds, e.g. 2026-11-24T12:00:00.000000+00:00.

    The doc's example has five fraction digits (`…34.78989+00:00`), so clients must accept any; six are sent here."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def parse_magnet(magnet: str) -> tuple[str, str | None]:
    """The lower-case hex info hash and the `dn` of a magnet URI; TorBoxFailure(400 BOZO_TORRENT) if unusable."""
    found = read_magnet(magnet)
    if found is None:
        raise TorBoxFailure(400, "BOZO_TORRENT", "The magnet link is invalid. Please check it and try again.")
    return found


@dataclass(frozen=True)
class TbFile:
    """One file as TorBox lists it: `name` carries the torrent's root folder, `short_name` is the base name."""

    id: int
    name: str
    short_name: str
    size: int


def torbox_files(torrent_name: str, specs: list[FileSpec]) -> list[TbFile]:
    """Files under their root folder: kept when every path already shares one, else under the torrent's name.

    TorBox shows a single-file torrent's file as `<torrent name>/<file>` too (the note: `name` is the full path
    including the root folder; a bare file name is not shown in any example)."""
    tops = {s.path.split("/", 1)[0] for s in specs}
    rooted = len(tops) == 1 and all("/" in s.path for s in specs)
    out = []
    for index, spec in enumerate(specs):
        path = spec.path.lstrip("/")
        name = path if rooted else f"{torrent_name}/{path}"
        out.append(TbFile(index, name, path.rsplit("/", 1)[-1], spec.size))
    return out


def file_json(info_hash: str, f: TbFile) -> dict[str, Any]:
    return {
        "id": f.id,
        "md5": None,
        "hash": info_hash,
        "name": f.name,
        "size": f.size,
        "zipped": False,
        "s3_path": f"{info_hash}/{f.name}",
        "infected": False,
        "mimetype": mimetypes.guess_type(f.short_name)[0] or "application/octet-stream",
        "short_name": f.short_name,
        "absolute_path": f"/downloads/{info_hash}/{f.name}",
        "opensubtitles_hash": None,
    }


@dataclass(frozen=True)
class Progress:
    """A torrent's state at one moment."""

    state: str
    progress: float  # 0.0-1.0
    finished: bool
    speed: int
    eta: int
    updated_at: datetime


@dataclass
class TorBoxTorrent:
    """A torrent in the account."""

    id: int
    hash: str
    name: str
    magnet_name: str  # what the torrent is called while its metadata is fetched
    size: int
    files: list[TbFile]
    created_at: datetime
    cached: bool  # TorBox had it cached when it was added
    speed: int  # bytes per virtual second while downloading
    seed: int = 1
    allow_zip: bool = False
    magnet: str | None = None
    meta_s: float = 5.0
    auth_id: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def finished_at(self) -> datetime:
        if self.cached:
            return self.created_at
        return self.created_at + timedelta(seconds=self.meta_s + self.size / self.speed)

    def progress(self, now: datetime) -> Progress:
        if self.cached:
            return Progress("cached", 1.0, True, 0, 0, self.created_at)
        since = (now - self.created_at).total_seconds()
        if since < self.meta_s:
            return Progress("metaDL", 0.0, False, 0, 0, self.created_at)
        done = (since - self.meta_s) * self.speed
        if done < self.size:
            left = int((self.size - done) / self.speed) + 1
            return Progress("downloading", round(done / self.size, 4), False, self.speed, left, now)
        state = "completed" if self.seed == 3 else "uploading"
        return Progress(state, 1.0, True, 0, 0, self.finished_at())

    def to_json(self, now: datetime) -> dict[str, Any]:
        p = self.progress(now)
        metadata = p.state != "metaDL"
        return {
            "id": self.id,
            "auth_id": self.auth_id,
            "server": SERVER,
            "hash": self.hash,
            "name": self.name if metadata else self.magnet_name,
            "magnet": self.magnet,
            "size": self.size if metadata else 0,
            "active": p.state in ("metaDL", "downloading", "uploading"),
            "created_at": tb_time(self.created_at),
            "updated_at": tb_time(p.updated_at),
            "download_state": p.state,
            "seeds": 0 if p.finished else 12,
            "peers": 0 if p.finished else 3,
            "ratio": 0.0,
            "progress": p.progress,
            "download_speed": p.speed,
            "upload_speed": 0,
            "eta": p.eta,
            "torrent_file": False,
            "expires_at": None,
            "download_present": p.finished,
            "download_finished": p.finished,
            "files": [file_json(self.hash, f) for f in self.files] if metadata else [],
            "inactive_check": 0,
            "availability": 1.0 if metadata else 0.0,
            "cached": self.cached,
            "cached_at": tb_time(self.created_at) if self.cached else None,
            "allow_zipped": self.allow_zip,
            "seed_torrent": self.seed != 3,
            "long_term_seeding": False,
            "tracker": None,
            "tracker_message": None,
            "owner": self.auth_id,
            "total_uploaded": 0,
            "total_downloaded": int(p.progress * self.size),
        }
