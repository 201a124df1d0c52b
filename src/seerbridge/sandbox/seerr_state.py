"""Seerr emulator state: users, media rows, requests and jobs, changed by the rules Seerr's entity subscribers apply.

Behaviour follows Seerr v3.1.0 (server/entity/MediaRequest.ts, server/subscriber/Media*Subscriber.ts,
server/routes/request.ts and media.ts):

- Creating a request: a new media row starts PENDING (with no `imdbId`: only a Jellyfin scan of a movie sets one);
  an existing UNKNOWN/DELETED one goes back to PENDING. The API key acts as the admin, so its requests are APPROVED
  at once (auto-approve); another user's (X-API-User) stay PENDING. Approval moves the media to PROCESSING unless it
  is already PROCESSING, PARTIALLY_AVAILABLE or AVAILABLE.
- Approve/decline works on a request in any status (v3.1.0 has no "only pending" check; each save re-notifies).
  Declining a movie resets its media to UNKNOWN; declining a show's request resets its seasons. The approval or
  decline notification reads the media row as it was before the change (the entity listener's read is queued before
  the subscriber's save), and is skipped when that row was already AVAILABLE.
- Radarr/Sonarr servers added through the settings API or `servarr.add_server` get real pushes and jobs
  (`seerr_servarr`); without any for a kind, that kind follows the scenario's `radarr`/`sonarr` setting.
- Radarr/Sonarr (`radarr`, `sonarr`, from the scenario): with "none" configured, an approved request is not sent
  anywhere and waits for someone (seerbridge). With a default non-4K server that does not answer ("unreachable"),
  each approval (or auto-approved creation) of a request whose media is not AVAILABLE is sent there, fails, and
  Seerr marks the request FAILED and notifies MEDIA_FAILED. Seerr sends without waiting, so the approving call still
  answers APPROVED; the routes render their answer before `push_to_servarr`.
- Media turning AVAILABLE from PENDING approves its pending requests. Media turning PARTIALLY_AVAILABLE, AVAILABLE
  or DELETED completes approved/failed requests: a movie's at once, a show's when every requested season is
  AVAILABLE or DELETED. Completion sends MEDIA_AVAILABLE.
- `POST /media/{id}/deleted` is accepted but changes nothing (the route has no case for it).
- `DELETE /request/{id}` removes the request (a manager may remove any; a user only their own pending one); then,
  with no request of that kind (4K or not) left, media that is not AVAILABLE goes back to UNKNOWN (the subscriber's
  `handleRemoveParentUpdate`). `DELETE /media/{id}` removes the media row and, by the foreign key's ON DELETE CASCADE,
  its requests; no subscriber runs for those.

Notifications are recorded with their rendered default-webhook body (`notifications`, `on_notification`); nothing is
sent over the network.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, time, timedelta
from typing import Literal

from seerbridge.sandbox import seerr_rules as rules
from seerbridge.sandbox.clock import VirtualClock
from seerbridge.sandbox.scenario import LibraryEntry, MediaSpec, Scenario, ServarrSetting
from seerbridge.sandbox.seerr_models import (
    DEFAULT_JOBS,
    JELLYFIN_SCAN_JOBS,
    JobRun,
    JobSpec,
    MediaRow,
    MediaStatus,
    MediaStatuses,
    Notification,
    RequestRow,
    RequestStatus,
    SeasonRequestRow,
    SeasonRow,
    SeerrFailure,
    User,
    aired,
    stable_hex,
)
from seerbridge.sandbox.seerr_servarr import Servarr
from seerbridge.sandbox.seerr_servarr_client import ServarrKind

_SCENARIO_REQUEST_STATUS = {
    "pending": RequestStatus.PENDING,
    "approved": RequestStatus.APPROVED,
    "declined": RequestStatus.DECLINED,
    "failed": RequestStatus.FAILED,
    "completed": RequestStatus.COMPLETED,
}


class SeerrState:
    """Everything the Seerr emulator knows, plus the helpers tests and later features use to drive it."""

    def __init__(self, scenario: Scenario, clock: VirtualClock) -> None:
        self.scenario = scenario
        self.clock = clock
        self.api_key = scenario.keys["seerr"]
        self.version = scenario.seerr.version
        self.lock = threading.RLock()
        self.users: dict[int, User] = {}
        self.media: dict[int, MediaRow] = {}
        self.requests: dict[int, RequestRow] = {}
        self.jobs: tuple[JobSpec, ...] = DEFAULT_JOBS
        self.job_runs: list[JobRun] = []
        self.notifications: list[Notification] = []
        self.on_scan: Callable[[str], None] | None = None
        """Called with the job id when a Jellyfin scan job runs; the sandbox wires it to the Jellyfin library."""
        self.on_notification: Callable[[Notification], None] | None = None
        self.radarr: ServarrSetting = scenario.seerr.radarr
        """Seerr's Radarr: "none" configured, or one that does not answer (approvals then end FAILED)."""
        self.sonarr: ServarrSetting = scenario.seerr.sonarr
        self.servarr = Servarr(self)
        """Configured Radarr/Sonarr servers; when a kind has any, they replace `radarr`/`sonarr` for that kind."""
        self._unsent: dict[int, MediaStatuses] = {}  # approved requests not yet sent, with their media's prior status
        self._next_id = {"user": 1, "media": 1, "season": 1, "season_request": 1}
        self._seed()

    # ---------------------------------------------------------------- seeding

    def _new_id(self, kind: str) -> int:
        value = self._next_id[kind]
        self._next_id[kind] = value + 1
        return value

    def _seed(self) -> None:
        start = self.clock.now()
        self.admin = self._add_user("admin", is_admin=True, at=start - timedelta(days=365))
        specs = {r.id: r for r in self.scenario.requests}
        library = {entry.tmdb_id: entry for entry in self.scenario.library}
        wanted = {r.tmdb_id for r in self.scenario.requests} | set(library)
        for spec in self.scenario.media:  # catalogue order, so media ids differ from request ids
            if spec.tmdb_id in wanted:
                self._new_media(spec, start - timedelta(days=30))
        count = len(specs)
        for index, request_id in enumerate(sorted(specs)):
            rs = specs[request_id]
            media = self.media_for(rs.tmdb_id)
            assert media is not None
            created = (
                datetime.combine(rs.created_at, time(12, 0), tzinfo=UTC)
                if rs.created_at
                else start - timedelta(hours=count - index)
            )
            user = self.user_named(rs.requested_by) or self._add_user(rs.requested_by, at=created - timedelta(days=1))
            status = _SCENARIO_REQUEST_STATUS[rs.status]
            season_status = RequestStatus.APPROVED if status is RequestStatus.FAILED else status
            row = RequestRow(
                id=rs.id,
                media=media,
                status=status,
                requested_by=user,
                modified_by=None if status is RequestStatus.PENDING else self.admin,
                created_at=created,
                updated_at=created,
                is4k=rs.is4k,
                seasons=[
                    SeasonRequestRow(self._new_id("season_request"), n, season_status, created, created)
                    for n in rs.seasons
                ],
            )
            self.requests[row.id] = row
            media.created_at = min(media.created_at, created)
        for media in self.media.values():
            self._derive_seed_status(media, library.get(media.tmdb_id), start)

    def _derive_seed_status(self, media: MediaRow, entry: LibraryEntry | None, now: datetime) -> None:
        for is4k in (False, True):
            statuses = {r.status for r in self.requests.values() if r.media is media and r.is4k == is4k}
            if RequestStatus.APPROVED in statuses or RequestStatus.FAILED in statuses:
                media.put(is4k, MediaStatus.PROCESSING)
            elif RequestStatus.PENDING in statuses:
                media.put(is4k, MediaStatus.PENDING)
            elif RequestStatus.COMPLETED in statuses:
                media.put(is4k, MediaStatus.AVAILABLE)
                if media.media_type == "tv" and not is4k:
                    done = {
                        n
                        for r in self.requests.values()
                        if r.media is media and not r.is4k and r.status is RequestStatus.COMPLETED
                        for n in r.season_numbers
                    }
                    for number in sorted(done):
                        self._season_row(media, number, now).status = MediaStatus.AVAILABLE
        if entry is not None:
            status, seasons = self.library_status(entry)
            for number, season_status in sorted(seasons.items()):
                self._season_row(media, number, now).status = season_status
            if status is not None:
                media.status = status
                media.media_added_at = now - timedelta(days=7)
                media.jellyfin_media_id = stable_hex("jellyfin-item", media.tmdb_id)
                if media.media_type == "movie":
                    media.imdb_id = media.spec.imdb_id  # the scan reads it from the item's ProviderIds.Imdb
            # The scan that made those seasons available completed the open requests' matching seasons.
            for row in self.requests_for(media):
                if row.is4k or row.status not in (RequestStatus.APPROVED, RequestStatus.FAILED):
                    continue
                for season_request in row.seasons:
                    season = media.season(season_request.season_number)
                    if season is not None and season.status is MediaStatus.AVAILABLE:
                        season_request.status = RequestStatus.COMPLETED
        media.updated_at = max(media.created_at, now - timedelta(minutes=5))
        media.last_season_change = media.created_at

    def _add_user(self, name: str, *, is_admin: bool = False, at: datetime | None = None) -> User:
        user = User(self._new_id("user"), name, f"{name}@example.com", is_admin, at or self.clock.now())
        self.users[user.id] = user
        return user

    def _new_media(self, spec: MediaSpec, at: datetime) -> MediaRow:
        media = MediaRow(id=self._new_id("media"), spec=spec, created_at=at, updated_at=at, last_season_change=at)
        self.media[media.id] = media
        return media

    def _season_row(self, media: MediaRow, number: int, at: datetime) -> SeasonRow:
        row = media.season(number)
        if row is None:
            row = SeasonRow(self._new_id("season"), number, MediaStatus.UNKNOWN, MediaStatus.UNKNOWN, at, at)
            media.seasons.append(row)
        return row

    # ---------------------------------------------------------------- lookups

    def user_named(self, name: str) -> User | None:
        return next((u for u in self.users.values() if u.name == name), None)

    def media_for(self, tmdb_id: int, media_type: str | None = None) -> MediaRow | None:
        return next(
            (
                m
                for m in self.media.values()
                if m.tmdb_id == tmdb_id and (media_type is None or m.media_type == media_type)
            ),
            None,
        )

    def requests_for(self, media: MediaRow) -> list[RequestRow]:
        return [r for r in sorted(self.requests.values(), key=lambda r: r.id) if r.media is media]

    def request_count(self, user: User) -> int:
        return sum(1 for r in self.requests.values() if r.requested_by is user)

    def library_status(self, entry: LibraryEntry) -> tuple[MediaStatus | None, dict[int, MediaStatus]]:
        """What a Jellyfin scan concludes: a movie is AVAILABLE; a season is AVAILABLE when every aired episode is
        present and PARTIALLY_AVAILABLE when some are; a show is AVAILABLE when every aired regular season is."""
        spec = self.scenario.media_by_tmdb(entry.tmdb_id)
        if spec is None:
            raise KeyError(entry.tmdb_id)
        if spec.type == "movie":
            return MediaStatus.AVAILABLE, {}
        today = self.clock.today()
        seasons: dict[int, MediaStatus] = {}
        for number, held in entry.episodes.items():
            season = spec.season(number)
            total = season.episodes if season else 0
            present = set(range(1, total + 1)) if held == "all" else set(held)
            if not present:
                continue
            aired_episodes = {e for e in range(1, total + 1) if season and aired(season.air_date(e), today)}
            complete = held == "all" or aired_episodes <= present
            seasons[number] = MediaStatus.AVAILABLE if complete else MediaStatus.PARTIALLY_AVAILABLE
        if not seasons:
            return None, {}
        aired_seasons = [
            s.season for s in spec.seasons if s.season > 0 and s.episodes > 0 and aired(s.air_date(1), today)
        ]
        if aired_seasons and all(seasons.get(n) is MediaStatus.AVAILABLE for n in aired_seasons):
            return MediaStatus.AVAILABLE, seasons
        return MediaStatus.PARTIALLY_AVAILABLE, seasons

    # ---------------------------------------------------------------- notifications

    def _notify(
        self, notification_type: str, request: RequestRow | None, *, media_status: MediaStatuses | None = None
    ) -> None:
        """Record a notification; `media_status` is the media row's (status, status4k) as the sender read it."""
        from seerbridge.sandbox.seerr_webhook import render_webhook

        note = Notification(
            type=notification_type,
            request_id=request.id if request else None,
            at=self.clock.now(),
            payload=render_webhook(notification_type, request, media_status=media_status),
        )
        self.notifications.append(note)
        if self.on_notification is not None:
            self.on_notification(note)

    # ---------------------------------------------------------------- requests

    def create_request(
        self,
        *,
        media_type: str,
        tmdb_id: int,
        acting: User,
        seasons: list[int] | Literal["all"] | None = None,
        is4k: bool = False,
        user_id: int | None = None,
        server_id: int | None = None,
        profile_id: int | None = None,
        root_folder: str | None = None,
        language_profile_id: int | None = None,
        tags: list[int] | None = None,
        send: bool = True,
    ) -> RequestRow:
        """`POST /request`, following `MediaRequest.request()`; raises SeerrFailure with Seerr's status/message.

        An auto-approved request is then sent to Radarr/Sonarr (`push_to_servarr`) unless `send` is False, which the
        route uses to answer before the send fails, as Seerr does.
        """
        with self.lock:
            requester = acting
            if user_id:
                if not acting.is_admin:
                    raise SeerrFailure(403, "You do not have permission to modify the request user.")
                found = self.users.get(user_id)
                if found is None:
                    raise SeerrFailure(
                        500, f'Could not find any entity of type "User" matching: {{"where": {{"id": {user_id}}}}}'
                    )
                requester = found
            spec = self.scenario.media_by_tmdb(tmdb_id)
            if spec is None or spec.type != media_type:
                what = "movie details" if media_type == "movie" else "TV show details"
                raise SeerrFailure(500, f"[TMDB] Failed to fetch {what}: Request failed with status code 404")
            key4k = bool(is4k)
            media = self.media_for(tmdb_id, media_type)
            if media is not None and media.status is MediaStatus.BLOCKLISTED:
                raise SeerrFailure(403, "This media is blocklisted.")
            existing = [r for r in self.requests_for(media) if r.is4k == key4k] if media else []
            closed = (RequestStatus.DECLINED, RequestStatus.COMPLETED)
            if media_type == "movie" and existing and existing[0].status not in closed:
                raise SeerrFailure(409, "Request for this media already exists.")
            final_seasons: list[int] = []
            if media_type == "tv":
                if seasons == "all":
                    wanted = [s.season for s in spec.seasons if s.season != 0 and s.episodes > 0]
                elif seasons is None:
                    raise SeerrFailure(500, "Cannot read properties of undefined (reading 'filter')")
                else:
                    wanted = list(seasons)
                wanted = [n for n in wanted if n > 0]  # enableSpecialEpisodes is off by default
                taken = {
                    n
                    for r in existing
                    if r.status not in (RequestStatus.DECLINED, RequestStatus.COMPLETED)
                    for n in r.season_numbers
                }
                if media is not None:
                    taken |= {
                        s.season_number
                        for s in media.seasons
                        if (s.status4k if key4k else s.status) not in (MediaStatus.UNKNOWN, MediaStatus.DELETED)
                    }
                final_seasons = [n for n in wanted if n not in taken]
                if not final_seasons:
                    raise SeerrFailure(202, "No seasons available to request")
            now = self.clock.now()
            if media is None:
                media = self._new_media(spec, now)
                media.put(key4k, MediaStatus.PENDING)
            elif media.get(key4k) in (MediaStatus.UNKNOWN, MediaStatus.DELETED):
                media.put(key4k, MediaStatus.PENDING)
                media.updated_at = now
            status = RequestStatus.APPROVED if acting.is_admin else RequestStatus.PENDING
            row = RequestRow(
                id=max(self.requests, default=0) + 1,
                media=media,
                status=status,
                requested_by=requester,
                modified_by=acting if status is RequestStatus.APPROVED else None,
                created_at=now,
                updated_at=now,
                is4k=key4k,
                seasons=[SeasonRequestRow(self._new_id("season_request"), n, status, now, now) for n in final_seasons],
                server_id=server_id,
                profile_id=profile_id,
                root_folder=root_folder,
                language_profile_id=language_profile_id,
                tags=tags,
            )
            self.requests[row.id] = row
            before = (media.status, media.status4k)
            rules.update_parent_status(self, row)
            if status is RequestStatus.PENDING:
                self._notify("MEDIA_PENDING", row, media_status=before)
            else:
                self._notify_approved_or_declined(row, before, auto=True)
                self._unsent[row.id] = before
                if send:
                    self.push_to_servarr(row)
            return row

    def add_request(
        self,
        tmdb_id: int,
        *,
        seasons: list[int] | Literal["all"] | None = None,
        is4k: bool = False,
        requested_by: str = "alice",
        approved: bool = False,
    ) -> RequestRow:
        """Make a request as user `requested_by` (created if new); pending unless `approved` (an admin's request)."""
        with self.lock:
            spec = self.scenario.media_by_tmdb(tmdb_id)
            if spec is None:
                raise KeyError(f"tmdb_id {tmdb_id} is not in the scenario's media")
            user = self.user_named(requested_by) or self._add_user(requested_by)
            if approved:
                return self.create_request(
                    media_type=spec.type,
                    tmdb_id=tmdb_id,
                    seasons=seasons,
                    is4k=is4k,
                    acting=self.admin,
                    user_id=user.id,
                )
            return self.create_request(media_type=spec.type, tmdb_id=tmdb_id, seasons=seasons, is4k=is4k, acting=user)

    def set_request_status(
        self, request_id: int, action: Literal["approve", "decline"], *, by: User | None = None, send: bool = True
    ) -> RequestRow:
        """`POST /request/{id}/approve|decline`: in v3.1.0 any status may be changed, and each save notifies.

        An approved request is then sent to Radarr/Sonarr (`push_to_servarr`) unless `send` is False.
        """
        with self.lock:
            row = self.requests.get(request_id)
            if row is None:
                raise SeerrFailure(404, "Request not found.")
            before = (row.media.status, row.media.status4k)
            row.status = RequestStatus.APPROVED if action == "approve" else RequestStatus.DECLINED
            row.modified_by = by or self.admin
            row.updated_at = self.clock.now()
            rules.update_parent_status(self, row)
            self._notify_approved_or_declined(row, before, auto=False)
            if row.status is RequestStatus.APPROVED:
                self._unsent[row.id] = before
                if send:
                    self.push_to_servarr(row)
            return row

    def retry_request(self, request_id: int, *, by: User | None = None) -> RequestRow:
        """`POST /request/{id}/retry`: the request is saved as APPROVED again, which sends it to Radarr/Sonarr again
        (the caller pushes, after answering); no approval notification (the status may not change)."""
        with self.lock:
            row = self.requests.get(request_id)
            if row is None:
                raise SeerrFailure(404, "Request not found.")
            before = (row.media.status, row.media.status4k)
            row.status = RequestStatus.APPROVED
            row.modified_by = by or self.admin
            row.updated_at = self.clock.now()
            rules.update_parent_status(self, row)
            self._unsent[row.id] = before
            return row

    def approve(self, request_id: int) -> RequestRow:
        return self.set_request_status(request_id, "approve")

    def decline(self, request_id: int) -> RequestRow:
        return self.set_request_status(request_id, "decline")

    def _notify_approved_or_declined(self, row: RequestRow, before: MediaStatuses, *, auto: bool) -> None:
        """MediaRequest.notifyApprovedOrDeclined, reading the media row as it was before the change (`before`)."""
        if before[int(row.is4k)] is MediaStatus.AVAILABLE:
            return  # "Media became available before request was approved. Skipping approval notification"
        if row.status is RequestStatus.APPROVED:
            self._notify("MEDIA_AUTO_APPROVED" if auto else "MEDIA_APPROVED", row, media_status=before)
        elif row.status is RequestStatus.DECLINED:
            self._notify("MEDIA_DECLINED", row, media_status=before)

    def push_to_servarr(self, row: RequestRow) -> None:
        """MediaRequestSubscriber.sendToRadarr/sendToSonarr for a just-approved request (once per approval).

        With servers configured for the kind (`servarr`), the real push is scheduled as a task (`servarr.send`).
        Otherwise the scenario's setting applies: nothing is sent with no server configured ("none"), for a 4K
        request (the configured server is not 4K), or when the media was already AVAILABLE. An unreachable server
        fails the send: the request becomes FAILED (its seasons and the media row keep the approval's statuses) and
        MEDIA_FAILED goes out.
        """
        with self.lock:
            before = self._unsent.pop(row.id, None)
            if before is None or row.status is not RequestStatus.APPROVED or self.requests.get(row.id) is not row:
                return
            if self.servarr.configured("radarr" if row.type == "movie" else "sonarr"):
                self.servarr.send(row, before)  # runs as a task: the push's outcome comes after this returns
                return
            server = self.radarr if row.type == "movie" else self.sonarr
            if server == "none" or row.is4k or before[int(row.is4k)] is MediaStatus.AVAILABLE:
                return
            row.status = RequestStatus.FAILED
            row.updated_at = self.clock.now()
            self._notify("MEDIA_FAILED", row, media_status=before)

    def service_errors(self) -> dict[str, list[dict[str, int | str]]]:
        """`serviceErrors` of `GET /request`: the configured servers whose quality profiles could not be read (for
        configured servers, as the last `servarr.refresh_profiles()` found)."""
        errors: dict[str, list[dict[str, int | str]]] = {}
        kinds: tuple[tuple[ServarrKind, ServarrSetting], ...] = (("radarr", self.radarr), ("sonarr", self.sonarr))
        for kind, setting in kinds:
            if self.servarr.configured(kind):
                errors[kind] = self.servarr.service_errors(kind)
            else:
                errors[kind] = [{"id": 0, "name": kind.capitalize()}] if setting == "unreachable" else []
        return errors

    # ---------------------------------------------------------------- media

    def set_media_status(
        self, media_id: int, status: str, *, is4k: bool = False, seasons: Iterable[int] | None = None
    ) -> MediaRow:
        """`POST /media/{id}/{status}` with the subscriber effects; raises SeerrFailure like the route."""
        with self.lock:
            media = self.media.get(media_id)
            if media is None:
                raise SeerrFailure(404, "Media does not exist.")
            before = rules.snapshot(media)
            now = self.clock.now()
            if status == "available":
                media.put(is4k, MediaStatus.AVAILABLE)
                if media.media_type == "tv":
                    for number in seasons or ():
                        season = self._season_row(media, number, now)
                        if is4k:
                            season.status4k = MediaStatus.AVAILABLE
                        else:
                            season.status = MediaStatus.AVAILABLE
            elif status == "partial":
                if media.media_type == "movie":
                    raise SeerrFailure(400, "Only series can be set to be partially available")
                media.put(is4k, MediaStatus.PARTIALLY_AVAILABLE)
            elif status in ("processing", "pending", "unknown"):
                media.put(is4k, MediaStatus[status.upper()])
            # "deleted" passes the validator but the route has no case for it: nothing changes.
            rules.after_media_update(self, media, before)
            return media

    def delete_request(self, request_id: int, *, by: User | None = None) -> None:
        """`DELETE /request/{id}` (server/routes/request.ts); raises SeerrFailure like the route."""
        with self.lock:
            row = self.requests.get(request_id)
            if row is None:
                raise SeerrFailure(404, "Request not found.")
            acting = by or self.admin
            if not acting.is_admin and (row.requested_by is not acting or row.status is not RequestStatus.PENDING):
                raise SeerrFailure(401, "You do not have permission to delete this request.")
            del self.requests[request_id]
            media = row.media
            for is4k in (False, True):
                left = any(r.is4k == is4k for r in self.requests_for(media))
                if not left and media.get(is4k) is not MediaStatus.AVAILABLE:
                    media.put(is4k, MediaStatus.UNKNOWN)
                    media.updated_at = self.clock.now()

    def delete_media(self, media_id: int) -> None:
        """`DELETE /media/{id}` (server/routes/media.ts): the row goes, and its requests with it (cascade)."""
        with self.lock:
            media = self.media.get(media_id)
            if media is None:
                raise SeerrFailure(404, "Media not found")
            for row in self.requests_for(media):
                del self.requests[row.id]
            del self.media[media_id]

    def apply_library(self, entries: Iterable[LibraryEntry]) -> list[int]:
        """What a Jellyfin scan does for each library entry: create/refresh the media row and its seasons.

        Returns the ids of the media rows whose status changed. Completion of requests follows as usual.
        """
        changed: list[int] = []
        with self.lock:
            now = self.clock.now()
            for entry in entries:
                status, seasons = self.library_status(entry)
                if status is None:
                    continue
                spec = self.scenario.media_by_tmdb(entry.tmdb_id)
                assert spec is not None
                media = self.media_for(entry.tmdb_id, spec.type) or self._new_media(spec, now)
                before = rules.snapshot(media)
                for number, season_status in seasons.items():
                    self._season_row(media, number, now).status = season_status
                media.status = status
                if media.media_added_at is None:
                    media.media_added_at = now
                media.jellyfin_media_id = media.jellyfin_media_id or stable_hex("jellyfin-item", media.tmdb_id)
                if media.media_type == "movie" and media.imdb_id is None:
                    media.imdb_id = spec.imdb_id  # processMovie: `if (imdbId && !existing.imdbId)`
                if rules.after_media_update(self, media, before):
                    changed.append(media.id)
        return changed

    # ---------------------------------------------------------------- jobs

    def job(self, job_id: str) -> JobSpec | None:
        return next((j for j in self.jobs if j.id == job_id), None)

    def run_job(self, job_id: str) -> JobSpec:
        """`POST /settings/jobs/{id}/run`: record the run; a Jellyfin scan also calls `on_scan`."""
        with self.lock:
            job = self.job(job_id)
            if job is None:
                raise SeerrFailure(404, "Job not found.")
            self.job_runs.append(JobRun(job_id, self.clock.now()))
        if job_id in JELLYFIN_SCAN_JOBS and self.on_scan is not None:
            self.on_scan(job_id)
        self.servarr.run_job(job_id)
        return job

    def runs_of(self, job_id: str) -> list[JobRun]:
        return [run for run in self.job_runs if run.job_id == job_id]
