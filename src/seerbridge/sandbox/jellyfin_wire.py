"""How the Jellyfin emulator speaks: token lookup, ASP.NET-style query binding, BaseItemDto rendering, errors.

Faithful to Jellyfin 10.11 (see shared/api/jellyfin.md): query names are case-insensitive and unknown ones are
ignored; arrays are comma-delimited or repeated, and values that do not convert are dropped (Jellyfin's
`CommaDelimitedCollectionModelBinder`); a scalar that does not convert is a 400 ValidationProblemDetails; JSON is
PascalCase with null properties left out and GUIDs in N format.
"""

from __future__ import annotations

import json
import re
import urllib.parse
import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from seerbridge.sandbox.jellyfin_items import LibraryItem
from seerbridge.sandbox.jellyfin_library import JellyfinLibrary

JSON_TYPE = "application/json; charset=utf-8"


def _names(text: str) -> tuple[str, ...]:
    return tuple(text.split())


# Enum names from the 10.11.11 spec (BaseItemKind, ItemFields, ItemSortBy, LocationType, SortOrder).
BASE_ITEM_KINDS = _names(
    "AggregateFolder Audio AudioBook BasePluginFolder Book BoxSet Channel ChannelFolderItem CollectionFolder Episode "
    "Folder Genre ManualPlaylistsFolder Movie LiveTvChannel LiveTvProgram MusicAlbum MusicArtist MusicGenre MusicVideo "
    "Person Photo PhotoAlbum Playlist PlaylistsFolder Program Recording Season Series Studio Trailer TvChannel "
    "TvProgram UserRootFolder UserView Video Year"
)
ITEM_FIELDS = _names(
    "AirTime CanDelete CanDownload ChannelInfo Chapters Trickplay ChildCount CumulativeRunTimeTicks CustomRating "
    "DateCreated DateLastMediaAdded DisplayPreferencesId Etag ExternalUrls Genres ItemCounts MediaSourceCount "
    "MediaSources OriginalTitle Overview ParentId Path People PlayAccess ProductionLocations ProviderIds "
    "PrimaryImageAspectRatio RecursiveItemCount Settings SeriesStudio SortName SpecialEpisodeNumbers Studios "
    "Taglines Tags RemoteTrailers MediaStreams SeasonUserData DateLastRefreshed DateLastSaved RefreshState "
    "ChannelImage EnableMediaSourceDisplay Width Height ExtraIds LocalTrailerCount IsHD SpecialFeatureCount"
)
SORT_BY = _names(
    "Default AiredEpisodeOrder Album AlbumArtist Artist DateCreated OfficialRating DatePlayed PremiereDate StartDate "
    "SortName Name Random Runtime CommunityRating ProductionYear PlayCount CriticRating IsFolder IsUnplayed IsPlayed "
    "SeriesSortName VideoBitRate AirTime Studio IsFavoriteOrLiked DateLastContentAdded SeriesDatePlayed "
    "ParentIndexNumber IndexNumber"
)
LOCATION_TYPES = ("FileSystem", "Remote", "Virtual", "Offline")
SORT_ORDERS = ("Ascending", "Descending")


# ----- authentication (Jellyfin.Server.Implementations/Security/AuthorizationContext.cs) --------------------------


def parse_authorization_params(text: str) -> dict[str, str]:
    """`Key="Value", Key2="Value2"` → dict, like Jellyfin's `GetParts`: keys case-sensitive, values URL-decoded."""
    result: dict[str, str] = {}
    in_quotes = False
    start = 0
    key = ""
    for i, char in enumerate(text):
        if char == '"':
            in_quotes = not in_quotes
        elif char == "," and not in_quotes:
            if start < i and key:
                result[key] = urllib.parse.unquote_plus(text[start:i].strip().strip('"'))
            key = ""
            start = i + 1
        elif char == "=" and not in_quotes and not key:
            key = text[start:i].strip()
            start = i + 1
    if start < len(text) and key:
        result[key] = urllib.parse.unquote_plus(text[start:].strip().strip('"'))
    return result


def _authorization_token(value: str, *, legacy: bool) -> str | None:
    scheme, _, rest = value.strip().partition(" ")
    if not rest:
        return None
    valid = scheme.lower() == "mediabrowser" or (legacy and scheme.lower() == "emby")
    if not valid:
        return None
    return parse_authorization_params(rest).get("Token") or None


def request_token(headers: Mapping[str, str], query: Iterable[tuple[str, str]], *, legacy: bool) -> str | None:
    """The token Jellyfin would read from this request: the first non-empty source in its lookup order."""
    auth = headers.get("authorization")
    if auth is None and legacy:
        auth = headers.get("x-emby-authorization")
    token = _authorization_token(auth, legacy=legacy) if auth else None
    if not token and legacy:
        token = headers.get("x-emby-token") or headers.get("x-mediabrowser-token")
    pairs = list(query)
    if not token:
        token = next((v for k, v in pairs if k.lower() == "apikey" and v), None)
    if not token and legacy:
        token = next((v for k, v in pairs if k.lower() == "api_key" and v), None)
    return token or None


def authenticated(request: Request, library: JellyfinLibrary) -> bool:
    token = request_token(request.headers, request.query_params.multi_items(), legacy=library.legacy_auth)
    return token is not None and token in library.api_keys


# ----- responses ----------------------------------------------------------------------------------------------


def json_response(payload: Any, status: int = 200) -> Response:
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    return Response(body, status_code=status, media_type=JSON_TYPE)


def _trace_id() -> str:
    return f"00-{uuid.uuid4().hex}-{uuid.uuid4().hex[:16]}-00"


_PROBLEM_TYPES = {
    400: "https://tools.ietf.org/html/rfc9110#section-15.5.1",
    404: "https://tools.ietf.org/html/rfc9110#section-15.5.5",
}
_PROBLEM_TITLES = {400: "Bad Request", 404: "Not Found"}


def problem(status: int, detail: str | None = None) -> Response:
    """ASP.NET ProblemDetails, as Jellyfin's controllers answer 400/404."""
    body: dict[str, Any] = {"type": _PROBLEM_TYPES.get(status), "title": _PROBLEM_TITLES.get(status), "status": status}
    if detail is not None:
        body["detail"] = detail
    body["traceId"] = _trace_id()
    return json_response({k: v for k, v in body.items() if v is not None}, status)


def validation_problem(errors: Mapping[str, list[str]]) -> Response:
    """ASP.NET's automatic 400 when model binding fails ([ApiController])."""
    return json_response(
        {
            "type": _PROBLEM_TYPES[400],
            "title": "One or more validation errors occurred.",
            "status": 400,
            "errors": dict(errors),
            "traceId": _trace_id(),
        },
        400,
    )


class BindingError(Exception):
    """A query or route value that ASP.NET could not convert; becomes a 400 ValidationProblemDetails."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__(errors)
        self.errors = errors


# ----- query binding ----------------------------------------------------------------------------------------------


def parse_guid(value: str) -> str | None:
    """Guid.TryParse: N, D, B or P form → N form; None when it is not a GUID."""
    text = value.strip()
    if re.fullmatch(r"[0-9a-fA-F]{32}", text) or re.fullmatch(
        r"[({]?[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}[)}]?", text
    ):
        return uuid.UUID(text.strip("(){}")).hex
    return None


def route_guid(name: str, value: str) -> str:
    guid = parse_guid(value)
    if guid is None:
        raise BindingError({name: [f"The value '{value}' is not valid."]})
    return guid


class QueryArgs:
    """Query parameters read the ASP.NET way: names case-insensitive, first value for scalars, errors collected."""

    def __init__(self, request: Request) -> None:
        self._values: dict[str, list[str]] = {}
        for key, value in request.query_params.multi_items():
            self._values.setdefault(key.lower(), []).append(value)
        self.errors: dict[str, list[str]] = {}

    def _raw(self, name: str) -> str | None:
        values = self._values.get(name.lower())
        if not values or values[0] == "":
            return None
        return values[0]

    def _fail(self, name: str, raw: str) -> None:
        self.errors.setdefault(name, []).append(f"The value '{raw}' is not valid.")

    def string(self, name: str) -> str | None:
        return self._raw(name)

    def boolean(self, name: str) -> bool | None:
        raw = self._raw(name)
        if raw is None:
            return None
        lowered = raw.strip().lower()
        if lowered not in ("true", "false"):
            self._fail(name, raw)
            return None
        return lowered == "true"

    def integer(self, name: str) -> int | None:
        raw = self._raw(name)
        if raw is None:
            return None
        if not re.fullmatch(r"\s*[+-]?\d+\s*", raw) or not -(2**31) <= int(raw) < 2**31:
            self._fail(name, raw)
            return None
        return int(raw)

    def guid(self, name: str) -> str | None:
        raw = self._raw(name)
        if raw is None:
            return None
        guid = parse_guid(raw)
        if guid is None:
            self._fail(name, raw)
        return guid

    def _items(self, name: str) -> list[str]:
        values = self._values.get(name.lower(), [])
        if len(values) == 1:
            values = values[0].split(",")
        return [v.strip() for v in values if v.strip()]

    def choices(self, name: str, allowed: Iterable[str]) -> list[str]:
        """An enum array: case-insensitive names, unknown entries silently dropped, canonical spelling returned."""
        canon = {a.lower(): a for a in allowed}
        return [canon[v.lower()] for v in self._items(name) if v.lower() in canon]

    def guids(self, name: str) -> list[str]:
        return [g for g in (parse_guid(v) for v in self._items(name)) if g is not None]

    def integers(self, name: str) -> list[int]:
        return [int(v) for v in self._items(name) if re.fullmatch(r"[+-]?\d+", v)]

    def check(self) -> None:
        if self.errors:
            raise BindingError(self.errors)


# ----- DTOs -------------------------------------------------------------------------------------------------------


def jellyfin_datetime(moment: datetime | date) -> str:
    """Jellyfin's DateTime form: ISO-8601 UTC with seven fractional digits and Z."""
    if not isinstance(moment, datetime):
        moment = datetime(moment.year, moment.month, moment.day, tzinfo=UTC)
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond:06d}0Z"


def _video_stream(item: LibraryItem) -> dict[str, Any]:
    height = item.height or 1080
    width = item.width or 1920
    codec = "hevc" if height > 1080 else "h264"
    label = "4K" if height > 1080 else f"{height}p"
    return {
        "Codec": codec,
        "TimeBase": "1/1000",
        "VideoRange": "SDR",
        "VideoRangeType": "SDR",
        "AudioSpatialFormat": "None",
        "DisplayTitle": f"{label} {codec.upper()} SDR",
        "IsInterlaced": False,
        "IsAVC": codec == "h264",
        "BitRate": 8_000_000,
        "BitDepth": 8,
        "RefFrames": 1,
        "IsDefault": True,
        "IsForced": False,
        "IsHearingImpaired": False,
        "Height": height,
        "Width": width,
        "AverageFrameRate": 23.976,
        "RealFrameRate": 23.976,
        "Profile": "Main" if codec == "hevc" else "High",
        "Type": "Video",
        "AspectRatio": "16:9",
        "Index": 0,
        "IsExternal": False,
        "IsTextSubtitleStream": False,
        "SupportsExternalStream": False,
        "PixelFormat": "yuv420p",
        "Level": 150 if codec == "hevc" else 41,
        "IsAnamorphic": False,
    }


def _video_streams(item: LibraryItem) -> list[dict[str, Any]]:
    # A `.strm` whose URL no probe could read has no streams; a file always has its video stream.
    if item.shortcut_url is not None and item.width is None:
        return []
    return [_video_stream(item)]


def _media_source(item: LibraryItem) -> dict[str, Any]:
    path = item.path or ""
    name = path.rsplit("/", 1)[-1].rsplit(".", 1)[0]
    remote = item.shortcut_url is not None
    # BaseItem.GetVersionInfo: a `.strm` plays its URL (ShortcutPath), over Http, as a remote source.
    source: dict[str, Any] = {
        "Protocol": "Http" if remote else "File",
        "Id": item.id,
        "Path": item.shortcut_url if remote else path,
        "Type": "Default",
        "Container": item.container,
        "Size": item.size,
        "Name": name,
        "IsRemote": remote,
        "ETag": None if remote else item.id[::-1],  # GetVersionInfo sets it for File sources only
        "RunTimeTicks": item.run_time_ticks,
        "ReadAtNativeFramerate": False,
        "IgnoreDts": False,
        "IgnoreIndex": False,
        "GenPtsInput": False,
        "SupportsTranscoding": True,
        "SupportsDirectStream": True,
        "SupportsDirectPlay": True,
        "IsInfiniteStream": False,
        "UseMostCompatibleTranscodingProfile": False,
        "RequiresOpening": False,
        "RequiresClosing": False,
        "RequiresLooping": False,
        "SupportsProbing": True,
        "VideoType": "VideoFile",
        "MediaStreams": _video_streams(item),
        "MediaAttachments": [],
        "Formats": [],
        "Bitrate": 8_000_000 if item.width is not None else None,
        "RequiredHttpHeaders": {},
        "TranscodingSubProtocol": "http",
        "HasSegments": False,
    }
    return {key: value for key, value in source.items() if value is not None}  # Jellyfin leaves nulls out


def item_dto(item: LibraryItem, fields: set[str], library: JellyfinLibrary) -> dict[str, Any]:
    """A BaseItemDto in Jellyfin's property order; optional properties only when `fields` asks for them."""
    is_video = item.kind in ("Movie", "Episode") and not item.virtual
    dto: dict[str, Any] = {"Name": item.name, "ServerId": library.server_id, "Id": item.id}
    if "Etag" in fields:
        dto["Etag"] = item.id[::-1]
    if "DateCreated" in fields:
        dto["DateCreated"] = jellyfin_datetime(item.date_created)
    if "CanDelete" in fields:
        dto["CanDelete"] = item.kind != "CollectionFolder"
    if "CanDownload" in fields:
        dto["CanDownload"] = is_video
    if is_video:
        dto["Container"] = item.container
    if "SortName" in fields:
        dto["SortName"] = item.sort_name
    if item.premiere_date is not None:
        dto["PremiereDate"] = jellyfin_datetime(item.premiere_date)
    if "ExternalUrls" in fields:
        dto["ExternalUrls"] = []
    if "MediaSources" in fields and is_video:
        dto["MediaSources"] = [_media_source(item)]
    if "Path" in fields and item.path is not None:
        dto["Path"] = item.path
    if "OriginalTitle" in fields and item.original_title:
        dto["OriginalTitle"] = item.original_title
    if "ChildCount" in fields and item.is_folder:
        dto["ChildCount"] = len(library.children(item.id))
    if "RecursiveItemCount" in fields and item.is_folder:
        dto["RecursiveItemCount"] = sum(1 for _ in library.descendants(item.id))
    if is_video and item.run_time_ticks is not None:
        dto["RunTimeTicks"] = item.run_time_ticks
    if item.production_year is not None:
        dto["ProductionYear"] = item.production_year
    if item.index_number is not None:
        dto["IndexNumber"] = item.index_number
    if item.index_number_end is not None:
        dto["IndexNumberEnd"] = item.index_number_end
    if item.parent_index_number is not None:
        dto["ParentIndexNumber"] = item.parent_index_number
    if "ProviderIds" in fields:
        dto["ProviderIds"] = dict(item.provider_ids)
    dto["IsFolder"] = item.is_folder
    if "ParentId" in fields and item.parent_id is not None:
        dto["ParentId"] = item.parent_id
    dto["Type"] = item.kind
    if item.series_name is not None:
        dto["SeriesName"] = item.series_name
    if item.series_id is not None:
        dto["SeriesId"] = item.series_id
    if item.season_id is not None:
        dto["SeasonId"] = item.season_id
    if item.season_name is not None and item.kind == "Episode":
        dto["SeasonName"] = item.season_name
    if is_video:
        dto["VideoType"] = "VideoFile"
    if item.collection_type is not None:
        dto["CollectionType"] = item.collection_type
    if "MediaStreams" in fields and is_video:
        dto["MediaStreams"] = _video_streams(item)
    if "Width" in fields and is_video and item.width is not None:
        dto["Width"] = item.width
    if "Height" in fields and is_video and item.height is not None:
        dto["Height"] = item.height
    if "IsHD" in fields and is_video and item.height is not None:
        dto["IsHD"] = item.height >= 720
    dto["ImageTags"] = {}
    dto["BackdropImageTags"] = []
    dto["LocationType"] = item.location_type
    dto["MediaType"] = item.media_type
    return dto
