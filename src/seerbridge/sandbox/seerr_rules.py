"""Seerr's entity-subscriber rules (MediaRequestSubscriber, MediaSubscriber), applied after each state change.

Followed from Seerr v3.1.0; callers hold `state.lock`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from seerbridge.sandbox.seerr_models import MediaRow, MediaStatus, RequestRow, RequestStatus

if TYPE_CHECKING:
    from seerbridge.sandbox.seerr_state import SeerrState

Snapshot = tuple[MediaStatus, MediaStatus, dict[int, tuple[MediaStatus, MediaStatus]]]


def update_parent_status(state: SeerrState, row: RequestRow) -> None:
    """MediaRequestSubscriber.updateParentStatus."""
    media, is4k, now = row.media, row.is4k, state.clock.now()
    current = media.get(is4k)
    if row.status is RequestStatus.APPROVED and current not in (
        MediaStatus.AVAILABLE,
        MediaStatus.PARTIALLY_AVAILABLE,
        MediaStatus.PROCESSING,
    ):
        media.put(is4k, MediaStatus.PROCESSING)
        media.updated_at = now
    if media.media_type == "movie" and row.status is RequestStatus.DECLINED and current is not MediaStatus.DELETED:
        media.put(is4k, MediaStatus.UNKNOWN)
        media.updated_at = now
    if media.media_type == "tv" and row.status is RequestStatus.DECLINED:
        others_pending = any(
            r.status is RequestStatus.PENDING and r.is4k == is4k and r is not row for r in state.requests_for(media)
        )
        if media.get(is4k) is MediaStatus.PENDING and not others_pending:
            media.put(is4k, MediaStatus.UNKNOWN)
            media.updated_at = now
        for season_request in row.seasons:
            season_request.status = RequestStatus.DECLINED
            season_request.updated_at = now
            season = media.season(season_request.season_number)
            if season is not None:
                if is4k:
                    season.status4k = MediaStatus.UNKNOWN
                else:
                    season.status = MediaStatus.UNKNOWN
                season.updated_at = now
    if media.media_type == "tv" and row.status is RequestStatus.APPROVED:
        for season_request in row.seasons:
            season_request.status = RequestStatus.APPROVED
            season_request.updated_at = now


def snapshot(media: MediaRow) -> Snapshot:
    return media.status, media.status4k, {s.season_number: (s.status, s.status4k) for s in media.seasons}


def after_media_update(
    state: SeerrState,
    media: MediaRow,
    before: Snapshot,
) -> bool:
    """MediaSubscriber.beforeUpdate/afterUpdate; returns whether any status changed."""
    old_status, old_status4k, old_seasons = before
    now = state.clock.now()
    for is4k, old in ((False, old_status), (True, old_status4k)):
        if media.get(is4k) is MediaStatus.AVAILABLE and old is MediaStatus.PENDING:
            for row in state.requests_for(media):
                if row.is4k == is4k and row.status is RequestStatus.PENDING:
                    row.status = RequestStatus.APPROVED
                    row.updated_at = now
                    update_parent_status(state, row)
    seasons_changed = {
        is4k: any(
            (s.status4k if is4k else s.status) != old_seasons.get(s.season_number, (None, None))[int(is4k)]
            for s in media.seasons
        )
        for is4k in (False, True)
    }
    changed = False
    for is4k, old in ((False, old_status), (True, old_status4k)):
        moved = media.get(is4k) != old or (media.media_type == "tv" and seasons_changed[is4k])
        changed = changed or moved
        if moved and media.get(is4k) in (
            MediaStatus.PARTIALLY_AVAILABLE,
            MediaStatus.AVAILABLE,
            MediaStatus.DELETED,
        ):
            _complete_related(state, media, old_seasons, is4k)
    if changed:
        media.updated_at = now
        if any(seasons_changed.values()):
            media.last_season_change = now
    return changed


def _complete_related(
    state: SeerrState, media: MediaRow, old_seasons: dict[int, tuple[MediaStatus, MediaStatus]], is4k: bool
) -> None:
    """MediaSubscriber.updateRelatedMediaRequest: finish requests whose media (or seasons) became available."""
    done = (MediaStatus.AVAILABLE, MediaStatus.DELETED)
    now = state.clock.now()
    for row in state.requests_for(media):
        if row.is4k != is4k or row.status not in (RequestStatus.APPROVED, RequestStatus.FAILED):
            continue
        if media.media_type == "movie":
            complete = media.get(is4k) in done
        else:
            results = []
            for season_request in row.seasons:
                season = media.season(season_request.season_number)
                if season is None:
                    results.append(False)
                    continue
                current = season.status4k if is4k else season.status
                previous = old_seasons.get(season.season_number)
                moved = previous is None or previous[int(is4k)] != current
                if (moved or season_request.status is RequestStatus.COMPLETED) and current in done:
                    season_request.status = RequestStatus.COMPLETED
                    season_request.updated_at = now
                    results.append(True)
                else:
                    results.append(False)
            complete = all(results)
        if complete:
            row.status = RequestStatus.COMPLETED
            row.updated_at = now
            if media.media_type == "movie":
                available = media.get(is4k) is MediaStatus.AVAILABLE
            else:
                wanted = set(row.season_numbers)
                ready = {
                    s.season_number
                    for s in media.seasons
                    if s.season_number in wanted and (s.status4k if is4k else s.status) is MediaStatus.AVAILABLE
                }
                available = bool(ready) and ready == wanted
            if available:
                state._notify("MEDIA_AVAILABLE", row)
