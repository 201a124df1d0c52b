"""How the Seerr emulator's rows look on the wire: entity JSON as TypeORM serialises it, and TMDB-mapped details.

Most nullable columns the spec declares non-nullable (e.g. `plexUsername`) are left out when empty so that bodies
validate against the published spec; everything seerbridge reads is present with the server's names. A request's
`serverId`, `profileId`, `rootFolder` and `languageProfileId` are always sent, null when unset, as the server does
(the contract tests tolerate exactly that drift).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from seerbridge.sandbox.clock import js_date
from seerbridge.sandbox.scenario import MediaSpec, SeasonSpec
from seerbridge.sandbox.seerr_models import (
    USER_TYPE_JELLYFIN,
    JobSpec,
    MediaRow,
    RequestRow,
    SeasonRequestRow,
    SeasonRow,
    User,
    tmdb_seasons,
)
from seerbridge.sandbox.seerr_state import SeerrState
from seerbridge.sandbox.seerr_webhook import poster_path

Json = dict[str, Any]


def _when(moment: datetime | None) -> str | None:
    return js_date(moment) if moment is not None else None


def _day(day: date | None) -> str | None:
    return day.isoformat() if day is not None else None


def user_json(state: SeerrState, user: User) -> Json:
    return {
        "permissions": user.permissions,
        "warnings": [],
        "id": user.id,
        "email": user.email,
        "jellyfinUsername": user.name,
        "recoveryLinkExpirationDate": None,
        "userType": USER_TYPE_JELLYFIN,
        "plexId": None,
        "jellyfinUserId": user.jellyfin_user_id,
        "avatar": user.avatar,
        "movieQuotaLimit": None,
        "movieQuotaDays": None,
        "tvQuotaLimit": None,
        "tvQuotaDays": None,
        "createdAt": js_date(user.created_at),
        "updatedAt": js_date(user.created_at),
        "requestCount": state.request_count(user),
        "displayName": user.name,
    }


def season_json(season: SeasonRow) -> Json:
    return {
        "id": season.id,
        "seasonNumber": season.season_number,
        "status": int(season.status),
        "status4k": int(season.status4k),
        "createdAt": js_date(season.created_at),
        "updatedAt": js_date(season.updated_at),
    }


def media_json(state: SeerrState, media: MediaRow, *, with_requests: bool = False, with_seasons: bool = True) -> Json:
    """A `Media` row. `with_seasons=False` for the request list, whose query builder does not load the eager
    `seasons` relation (the key is then absent, not empty)."""
    body: Json = {
        "downloadStatus": state.servarr.downloads_for(media, is4k=False),
        "downloadStatus4k": state.servarr.downloads_for(media, is4k=True),
        "id": media.id,
        "mediaType": media.media_type,
        "tmdbId": media.tmdb_id,
        "tvdbId": media.spec.tvdb_id if media.media_type == "tv" else None,
        "imdbId": media.imdb_id,
        "status": int(media.status),
        "status4k": int(media.status4k),
        "createdAt": js_date(media.created_at),
        "updatedAt": js_date(media.updated_at),
        "lastSeasonChange": _when(media.last_season_change),
        "mediaAddedAt": _when(media.media_added_at),
        "serviceId": media.service.service_id,
        "serviceId4k": media.service4k.service_id,
        "externalServiceId": media.service.external_service_id,
        "externalServiceId4k": media.service4k.external_service_id,
        "externalServiceSlug": media.service.external_service_slug,
        "externalServiceSlug4k": media.service4k.external_service_slug,
        "ratingKey": None,
        "ratingKey4k": None,
        "jellyfinMediaId": media.jellyfin_media_id,
        "jellyfinMediaId4k": None,
    }
    if with_seasons:
        body["seasons"] = [season_json(s) for s in sorted(media.seasons, key=lambda s: s.id)]
    if with_requests:
        body["requests"] = [request_json(state, r, with_media=False) for r in state.requests_for(media)]
        body["issues"] = []
    return body


def season_request_json(season: SeasonRequestRow) -> Json:
    return {
        "id": season.id,
        "seasonNumber": season.season_number,
        "status": int(season.status),
        "createdAt": js_date(season.created_at),
        "updatedAt": js_date(season.updated_at),
    }


def request_json(
    state: SeerrState, request: RequestRow, *, with_media: bool = True, with_media_seasons: bool = True
) -> Json:
    """A `MediaRequest`; `with_media_seasons=False` as `GET /request` sends it (see `media_json`)."""
    body: Json = {
        "id": request.id,
        "status": int(request.status),
        "createdAt": js_date(request.created_at),
        "updatedAt": js_date(request.updated_at),
        "type": request.type,
        "is4k": request.is4k,
        "tags": request.tags,
        "isAutoRequest": request.is_auto_request,
    }
    body.update(
        {
            "serverId": request.server_id,
            "profileId": request.profile_id,
            "rootFolder": request.root_folder,
            "languageProfileId": request.language_profile_id,
        }
    )
    if with_media:
        body["media"] = media_json(state, request.media, with_seasons=with_media_seasons)
    body["seasons"] = [season_request_json(s) for s in request.seasons]
    body["modifiedBy"] = user_json(state, request.modified_by) if request.modified_by else None
    body["requestedBy"] = user_json(state, request.requested_by)
    body["seasonCount"] = len(request.seasons)
    return body


def _external_ids(spec: MediaSpec) -> Json:
    return {
        "facebookId": None,
        "freebaseId": None,
        "freebaseMid": None,
        "imdbId": spec.imdb_id,
        "instagramId": None,
        "tvdbId": spec.tvdb_id if spec.type == "tv" else None,
        "tvrageId": None,
        "twitterId": None,
    }


def localized_title(spec: MediaSpec, language: str | None) -> str:
    """The title TMDB gives in `language` ('fr', 'fr-FR'): its translation when it has one, else the English title."""
    if not language:
        return spec.title
    titles = {k.lower(): v for k, v in spec.titles.items()}
    language = language.lower()
    return titles.get(language) or titles.get(language.split("-")[0]) or spec.title


def movie_json(state: SeerrState, spec: MediaSpec, language: str | None = None) -> Json:
    """`GET /movie/{id}`: mapMovieDetails of the TMDB movie, with the media row as `mediaInfo` when there is one.

    `language` is the route's `?language=`, else Seerr's locale; the title is in it."""
    today = state.clock.today()
    released = spec.release_date is not None and spec.release_date <= today
    body: Json = {
        "id": spec.tmdb_id,
        "adult": False,
        "budget": 0,
        "genres": [],
        "relatedVideos": [],
        "originalLanguage": spec.original_language,
        "originalTitle": spec.original_title or spec.title,
        "popularity": 0,
        "productionCompanies": [],
        "productionCountries": [],
        "releaseDate": _day(spec.release_date) or "",
        "releases": {"results": []},
        "revenue": 0,
        "spokenLanguages": [],
        "status": "Released" if released else "Post Production",
        "tagline": "",
        "title": localized_title(spec, language),
        "video": False,
        "voteAverage": 0,
        "voteCount": 0,
        "posterPath": poster_path(spec.tmdb_id),
        "homepage": "",
        "credits": {"cast": [], "crew": []},
        "externalIds": _external_ids(spec),
        "watchProviders": [],
        "overview": spec.overview,
        "onUserWatchlist": False,
    }
    if spec.imdb_id:
        body["imdbId"] = spec.imdb_id
    media = state.media_for(spec.tmdb_id, "movie")
    if media is not None:
        body["mediaInfo"] = media_json(state, media, with_requests=True)
    return body


def _season_id(spec: MediaSpec, season: int) -> int:
    return spec.tmdb_id * 1000 + season


def episode_json(spec: MediaSpec, season: SeasonSpec, number: int) -> Json:
    return {
        "id": _season_id(spec, season.season) * 1000 + number,
        "airDate": _day(season.air_date(number)),
        "episodeNumber": number,
        "name": season.episode_title(number),
        "overview": "",
        "productionCode": "",
        "seasonNumber": season.season,
        "showId": spec.tmdb_id,
        "stillPath": None,
        "voteAverage": 0,
        "voteCount": 0,
    }


def _tv_season_json(spec: MediaSpec, season: SeasonSpec) -> Json:
    return {
        "airDate": _day(season.air_date(1)),
        "episodeCount": season.episodes,
        "id": _season_id(spec, season.season),
        "name": "Specials" if season.season == 0 else f"Season {season.season}",
        "overview": "",
        "seasonNumber": season.season,
    }


def tv_json(state: SeerrState, spec: MediaSpec, language: str | None = None) -> Json:
    """`GET /tv/{id}`: mapTvDetails, with last/next episode worked out from the virtual clock (`language` as for
    `movie_json`)."""
    today = state.clock.today()
    episodes = [
        (day, season, n)
        for season in spec.seasons
        if season.season > 0
        for n in range(1, season.episodes + 1)
        if (day := season.air_date(n)) is not None
    ]
    aired = sorted((e for e in episodes if e[0] <= today), key=lambda e: e[0])
    upcoming = sorted((e for e in episodes if e[0] > today), key=lambda e: e[0])
    body: Json = {
        "createdBy": [],
        "episodeRunTime": [],
        "firstAirDate": _day(spec.first_air_date) or "",
        "genres": [],
        "relatedVideos": [],
        "homepage": "",
        "id": spec.tmdb_id,
        "inProduction": bool(upcoming),
        "languages": [spec.original_language],
        "name": localized_title(spec, language),
        "networks": [],
        "numberOfEpisodes": sum(s.episodes for s in spec.seasons if s.season > 0),
        "numberOfSeasons": sum(1 for s in spec.seasons if s.season > 0),
        "originCountry": [],
        "originalLanguage": spec.original_language,
        "originalName": spec.original_title or spec.title,
        "tagline": "",
        "overview": spec.overview,
        "popularity": 0,
        "productionCompanies": [],
        "productionCountries": [],
        "contentRatings": {"results": []},
        "spokenLanguages": [],
        "seasons": [_tv_season_json(spec, s) for s in tmdb_seasons(spec)],
        "status": "Returning Series" if upcoming else "Ended",
        "type": "Scripted",
        "voteAverage": 0,
        "voteCount": 0,
        "posterPath": poster_path(spec.tmdb_id),
        "credits": {"cast": [], "crew": []},
        "externalIds": _external_ids(spec),
        "keywords": [],
        "watchProviders": [],
        "onUserWatchlist": False,
    }
    if aired:
        _, season, number = aired[-1]
        body["lastAirDate"] = _day(aired[-1][0])
        body["lastEpisodeToAir"] = episode_json(spec, season, number)
    if upcoming:
        _, season, number = upcoming[0]
        body["nextEpisodeToAir"] = episode_json(spec, season, number)
    media = state.media_for(spec.tmdb_id, "tv")
    if media is not None:
        body["mediaInfo"] = media_json(state, media, with_requests=True)
    return body


def tv_season_json(spec: MediaSpec, season: SeasonSpec) -> Json:
    """`GET /tv/{id}/season/{n}`: mapSeasonWithEpisodes."""
    return {
        "airDate": _day(season.air_date(1)),
        "episodes": [episode_json(spec, season, n) for n in range(1, season.episodes + 1)],
        "id": _season_id(spec, season.season),
        "name": "Specials" if season.season == 0 else f"Season {season.season}",
        "overview": "",
        "seasonNumber": season.season,
    }


def job_json(state: SeerrState, job: JobSpec) -> Json:
    return {
        "id": job.id,
        "name": job.name,
        "type": job.type,
        "interval": job.interval,
        "cronSchedule": job.cron_schedule,
        "nextExecutionTime": js_date(job.next_run(state.clock.now())),
        "running": False,
    }


def status_json(state: SeerrState) -> Json:
    return {
        "version": state.version,
        "commitTag": f"v{state.version}",
        "updateAvailable": False,
        "commitsBehind": 0,
        "restartRequired": False,
    }
