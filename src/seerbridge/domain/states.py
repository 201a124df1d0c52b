"""The states a request, a work item and a torrent we added can be in; stored by value, so never rename a value."""

from __future__ import annotations

from enum import StrEnum


class RequestState(StrEnum):
    """Where a Seerr request stands; `reason` (and `last_error` for FAILED) on the row says why."""

    NEW = "new"  # seen in Seerr, not worked yet
    WORKING = "working"  # a pass is planning, searching or acquiring for it
    FULFILLED = "fulfilled"  # every wanted file is on Real-Debrid; Jellyfin has not been seen holding them yet
    AVAILABLE = "available"  # fulfilled, and Jellyfin holds every wanted file under the request's ids
    DOWNLOADING = "downloading"  # chosen, but Real-Debrid is still downloading (uncached)
    PARTIAL = "partial"  # some wanted episodes found, nothing acceptable for the rest
    NO_RELEASE = "no_release"  # nothing acceptable (or nothing cached when uncached use is off)
    WAITING = "waiting"  # acceptable releases wait: for a free Real-Debrid download slot, or after a dropped download
    ALREADY_AVAILABLE = "already_available"  # Jellyfin already has everything asked for
    FAILED = "failed"  # an error stopped the work; `last_error` says which

    @property
    def settled(self) -> bool:
        """A known end of a pass (anything but NEW and WORKING); `run --once` exits 0 when all are settled."""
        return self not in (RequestState.NEW, RequestState.WORKING)


# A work item (one movie, or one season's wanted episodes) moves through the same states as a request.
ItemState = RequestState


class TorrentState(StrEnum):
    """A torrent seerbridge put on (or adopted from) Real-Debrid.

    ADDING is the intent, written before addMagnet is called: a row still ADDING after a restart means the call's
    outcome is unknown and must be reconciled against the account (by hash) before anything is added again.
    """

    ADDING = "adding"
    ADDED = "added"  # addMagnet answered; rd_id is known
    DOWNLOADING = "downloading"  # files selected, not cached: Real-Debrid is downloading
    DOWNLOADED = "downloaded"  # the selected files are on Real-Debrid
    DELETED = "deleted"  # we deleted it (a probe that was not cached, a cleanup)
    FAILED = "failed"  # the add was refused or the torrent errored on Real-Debrid


# Torrents that hold an item's files. ADDED is not one: it is a probe in flight (files not selected or not checked).
KEPT_STATES = (TorrentState.DOWNLOADED, TorrentState.DOWNLOADING)
