"""TorBox's answers as typed values: the envelope, cache entries, torrents and their state, the account."""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


class _Model(BaseModel):
    """Frozen, extra fields ignored, and a `null` read as "absent" so a field's default applies (TorBox sends null
    for fields it has no value for, and one odd torrent must not fail a whole listing)."""

    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)

    @model_validator(mode="before")
    @classmethod
    def _drop_nulls(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {k: v for k, v in value.items() if v is not None}
        return value


class Envelope(BaseModel):
    """Every JSON answer: `{"success", "error", "detail", "data"}`. Decide on `success`: `error` can be null on a
    failure (the documented ACTIVE_LIMIT example)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    success: bool
    error: str | None = None
    detail: str = ""
    data: Any = None


def _base_name(path: str) -> str:
    return path.rstrip("/").rsplit("/", 1)[-1]


class _NamedFile(_Model):
    @model_validator(mode="before")
    @classmethod
    def _short_name(cls, value: Any) -> Any:
        # `short_name` is the base name of `name`; fill it when an answer leaves it out.
        if isinstance(value, dict) and not value.get("short_name") and isinstance(value.get("name"), str):
            return {**value, "short_name": _base_name(value["name"])}
        return value


class CachedFile(_NamedFile):
    """A file of a cached torrent: `name` is the full path with the torrent's root folder, `short_name` the base."""

    name: str
    short_name: str = ""
    size: int = 0


class CachedTorrent(_Model):
    """One entry of `checkcached`: TorBox holds this hash in its cache."""

    hash: str
    name: str = ""
    size: int = 0
    files: tuple[CachedFile, ...] = ()

    @field_validator("hash")
    @classmethod
    def _lower(cls, v: str) -> str:
        return v.lower()


class CreatedTorrent(_Model):
    """`createtorrent`'s `data`. A queued add carries `queued_id` and no `torrent_id` (Torrentio reads it so)."""

    torrent_id: int | None = None
    queued_id: int | None = None
    hash: str = ""
    auth_id: str = ""
    detail: str = Field("", description="TorBox's message, e.g. 'Found Cached Torrent. Using Cached Torrent.'")

    @field_validator("hash")
    @classmethod
    def _lower(cls, v: str) -> str:
        return v.lower()

    @model_validator(mode="after")
    def _has_an_id(self) -> CreatedTorrent:
        if self.torrent_id is None and self.queued_id is None:
            raise ValueError("neither torrent_id nor queued_id")
        return self

    @property
    def queued(self) -> bool:
        """TorBox queued the add instead of starting it: no torrent id yet."""
        return self.torrent_id is None


class TorrentPhase(StrEnum):
    """What a torrent's state means for a bridge (see `classify_state`)."""

    FINISHED = "finished"
    DOWNLOADING = "downloading"
    QUEUED = "queued"
    STALLED = "stalled"
    FAILED = "failed"


# `download_state` values (the note §4: TorBox's own list plus qBittorrent states seen in Decypharr and Torrentio),
# compared lower-case with any "(…)" suffix removed ("stalled (no seeds)" → "stalled").
_FAILED_STATES = frozenset({"error", "missingfiles"})
_STALLED_STATES = frozenset({"stalled", "stalleddl", "paused", "pauseddl"})
_QUEUED_STATES = frozenset({"queueddl", "metadl", "checkingdl", "checkingresumedata", "allocating"})
_DOWNLOADING_STATES = frozenset({"downloading", "forceddl", "moving"})
# Download over by TorBox's word, but readiness is only `download_finished && download_present` (the doc warns
# against `completed`): without both flags the files are not on storage yet, so it is still on its way.
_DONE_STATES = frozenset(
    {
        "completed",
        "cached",
        "uploading",
        "seeding",
        "downloaded",
        "pausedup",
        "queuedup",
        "checkingup",
        "forcedup",
        "stalledup",
    }
)
_SUFFIX = re.compile(r"\s*\(.*\)\s*$")


def base_state(state: str) -> str:
    """`download_state` lower-cased without its "(…)" suffix, as Torrentio matches it."""
    return _SUFFIX.sub("", state).strip().lower()


def classify_state(state: str, *, finished: bool, present: bool, progress: float) -> TorrentPhase:
    """The phase of a torrent, decided in this order:

    1. `finished and present` → FINISHED (the note's readiness rule; no state string is trusted for it);
    2. `error`/`missingFiles` → FAILED;
    3. stalled or paused while downloading → STALLED (waiting alone will not move it);
    4. queued, fetching metadata, checking, allocating → QUEUED;
    5. downloading, or a "done" state without both flags → DOWNLOADING;
    6. anything else (a state TorBox adds later): `progress > 0` → DOWNLOADING, else QUEUED (StremThru's rule).
    """
    if finished and present:
        return TorrentPhase.FINISHED
    base = base_state(state)
    if base in _FAILED_STATES:
        return TorrentPhase.FAILED
    if base in _STALLED_STATES:
        return TorrentPhase.STALLED
    if base in _QUEUED_STATES:
        return TorrentPhase.QUEUED
    if base in _DOWNLOADING_STATES or base in _DONE_STATES:
        return TorrentPhase.DOWNLOADING
    return TorrentPhase.DOWNLOADING if progress > 0 else TorrentPhase.QUEUED


class TorBoxFile(_NamedFile):
    """A file of a torrent in the account; `id` is what `requestdl` takes as `file_id` (0 is a valid id)."""

    id: int
    name: str
    short_name: str = ""
    size: int = 0
    zipped: bool = Field(False, description="Only inside TorBox's zip: no link of its own.")


class TorBoxTorrent(_Model):
    """An element of `mylist` (or `mylist?id=` on its own), with the fields a bridge reads."""

    id: int
    hash: str = ""
    name: str = ""
    size: int = 0
    progress: float = Field(0.0, description="0.0 to 1.0.")
    download_state: str = Field("", description="TorBox's raw state; see `phase`.")
    download_finished: bool = False
    download_present: bool = False
    files: tuple[TorBoxFile, ...] = ()
    created_at: datetime | None = None
    updated_at: datetime | None = None

    @field_validator("hash")
    @classmethod
    def _lower(cls, v: str) -> str:
        return v.lower()

    @property
    def phase(self) -> TorrentPhase:
        return classify_state(
            self.download_state,
            finished=self.download_finished,
            present=self.download_present,
            progress=self.progress,
        )

    @property
    def ready(self) -> bool:
        """Downloaded and on TorBox's storage: links can be requested."""
        return self.download_finished and self.download_present


PLAN_NAMES = {0: "free", 1: "essential", 2: "pro", 3: "standard"}
"""`user/me` `plan` (2 and 3 are not in price order; Decypharr and StremThru map them so)."""


class TorBoxUser(_Model):
    """`user/me`: the account behind the key."""

    id: int | None = None
    email: str = ""
    plan: int = 0
    is_subscribed: bool = False
    premium_expires_at: datetime | None = None
    cooldown_until: datetime | None = None

    @property
    def plan_name(self) -> str:
        return PLAN_NAMES.get(self.plan, f"plan {self.plan}")


__all__ = [
    "PLAN_NAMES",
    "CachedFile",
    "CachedTorrent",
    "CreatedTorrent",
    "Envelope",
    "TorBoxFile",
    "TorBoxTorrent",
    "TorBoxUser",
    "TorrentPhase",
    "base_state",
    "classify_state",
]
