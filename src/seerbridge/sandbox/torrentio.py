"""The Torrentio emulator: the Stremio addon routes Torrentio serves, answering from a scenario's releases.

Routes (see /shared/api/torrentio.md §1): `/` → 302 `/configure`; `[/{config}]/configure` (HTML);
`[/{config}]/manifest.json`; `[/{config}]/{resource}/{type}/{id}[/{extra}].json` (rate-limited per client IP per
24 h virtual window); `/resolve/{moch}/{key}/{hash}/{cached}/{fileIdx}[/{filename}]` → 302; `/videos/*.mp4`; anything
else → 404 with an empty body. Stream lists are built by `torrentio_format` exactly as Torrentio's own code does.
The state object (`app.state.emulator`) lets tests add or remove releases, flip Torrentio's `[RD+]` cache marker,
change the daily limit and read what was asked.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request, Response

from seerbridge.sandbox import torrentio_format as fmt
from seerbridge.sandbox.clock import VirtualClock
from seerbridge.sandbox.middleware import install_sandbox
from seerbridge.sandbox.scenario import FileSpec, ReleaseSpec, Scenario

TOO_MANY_BODY = b"Too many requests, please try again later."
TOO_MANY_TYPE = "text/html; charset=utf-8"
JSON_TYPE = "application/json; charset=utf-8"
WINDOW_S = 24 * 60 * 60
RESOURCES = ("stream", "catalog", "meta")
_HASH = re.compile(r"^[0-9a-fA-F]{40}$")
_MOVIE_ID = re.compile(r"^tt\d+$")
_SERIES_ID = re.compile(r"^(tt\d+):(\d+):(\d+)$")


@dataclass(frozen=True)
class StreamRequest:
    """One resource call the emulator answered (after the rate limiter let it through)."""

    at: float  # virtual epoch seconds
    client: str
    config: str | None
    resource: str
    type: str
    id: str
    status: int
    streams: int


@dataclass(frozen=True)
class ResolveRequest:
    """One `/resolve/...` call: which hash a client tried to play through Torrentio's debrid resolver."""

    moch: str
    info_hash: str
    file_index: int | None
    outcome: str  # "ok" or the static video name


@dataclass
class _Window:
    started: float
    count: int = 0


@dataclass
class TorrentioEmulator:
    """The emulator's state and the Python-side knobs tests use."""

    scenario: Scenario
    clock: VirtualClock
    releases: list[ReleaseSpec] = field(default_factory=list)
    daily_limit: int = 5000
    windows: dict[str, _Window] = field(default_factory=dict)
    requests: list[StreamRequest] = field(default_factory=list)
    resolves: list[ResolveRequest] = field(default_factory=list)
    rejected_keys: set[str] = field(default_factory=set)
    fail_ids: set[str] = field(default_factory=set)

    # -- knobs ----------------------------------------------------------------------------------------------
    def add_release(self, release: ReleaseSpec | dict[str, Any]) -> ReleaseSpec:
        """Make a new release appear (e.g. a torrent that gets uploaded later)."""
        spec = release if isinstance(release, ReleaseSpec) else ReleaseSpec.model_validate(release)
        self.releases.append(spec)
        return spec

    def remove_release(self, info_hash: str) -> None:
        info_hash = info_hash.lower()
        self.releases = [r for r in self.releases if r.info_hash != info_hash]

    def set_torrentio_cached(self, info_hash: str, cached: bool = True) -> None:
        """Flip Torrentio's own availability marker (`[RD+]`) for a hash."""
        info_hash = info_hash.lower()
        self.releases = [
            r.model_copy(update={"torrentio_cached": cached}) if r.info_hash == info_hash else r for r in self.releases
        ]

    def reject_key(self, key: str) -> None:
        """Make a debrid key count as refused by Real-Debrid (Torrentio then answers the error stream)."""
        self.rejected_keys.add(key)

    def fail_handler(self, stream_id: str) -> None:
        """Make the handler for this id throw, so the route answers 500 `{"err":"handler error"}`."""
        self.fail_ids.add(stream_id)

    def reset_rate_limit(self) -> None:
        self.windows.clear()

    def used_today(self, client: str = "127.0.0.1") -> int:
        """Resource calls counted in the client's current 24 h window."""
        window = self.windows.get(client)
        if window is None or self._now() - window.started >= WINDOW_S:
            return 0
        return window.count

    def stream_calls(self, stream_id: str | None = None) -> list[StreamRequest]:
        return [r for r in self.requests if r.resource == "stream" and (stream_id is None or r.id == stream_id)]

    # -- internals ------------------------------------------------------------------------------------------
    def _now(self) -> float:
        return self.clock.now().timestamp()

    def count_call(self, client: str) -> bool:
        """Count one resource call; False when the client is over its daily limit (express-rate-limit)."""
        now = self._now()
        window = self.windows.get(client)
        if window is None or now - window.started >= WINDOW_S:
            window = self.windows[client] = _Window(started=now)
        window.count += 1
        return window.count <= self.daily_limit

    def key_error(self, moch: fmt.Moch, key: str) -> str | None:
        """Why Torrentio refuses a debrid key: too short, blacklisted, or (for RD) not the scenario's key."""
        if len(key) < fmt.MIN_API_KEY_SYMBOLS or key in self.rejected_keys:
            return "bad_token"
        if moch.key == "realdebrid" and key != self.scenario.keys["realdebrid"]:
            return "bad_token"
        if moch.key == "realdebrid" and self.scenario.realdebrid.premium_days <= 0:
            return "access_denied"
        return None

    def is_cached(self, moch: fmt.Moch, info_hash: str, file_index: int | None) -> bool:
        if moch.key != "realdebrid":
            return False
        release = next((r for r in self.releases if r.info_hash == info_hash), None)
        return bool(release and release.torrentio_cached)

    def records(self, imdb_id: str, episode: tuple[int, int] | None) -> list[fmt.Record]:
        """Torrentio's database rows for a movie, or for one episode of a show."""
        media = self.scenario.media_by_imdb(imdb_id)
        show_title = media.title if media else None
        out: list[fmt.Record] = []
        today = self.clock.now().date()
        for release in self.releases:
            if release.imdb_id != imdb_id or (release.published is not None and release.published > today):
                continue
            files = release.file_list(show_title)
            if episode is None:
                if (media is not None and media.type == "tv") or release.covers:
                    continue
                index = _main_video(release, files)
            else:
                index = release.file_for(episode[0], episode[1], show_title)
                if index is None:
                    continue
            if index == _NO_VIDEO:
                continue
            out.append(_record(release, files, index, episode is None))
        return out


def _is_video(path: str) -> bool:
    ext = path.rsplit(".", 1)[-1].lower() if "." in path else ""
    return ext in fmt.VIDEO_EXTENSIONS and "sample" not in path.lower()


_NO_VIDEO = -1


def _main_video(release: ReleaseSpec, files: list[FileSpec]) -> int | None:
    """fileIdx of a movie: the largest non-sample video (the first of equals); None when Torrentio never learned
    the file list (a release without explicit `files` that is a single file); _NO_VIDEO when it holds no video."""
    if release.files is None and len(files) == 1:
        return None
    videos = [(spec.size, -i) for i, spec in enumerate(files) if _is_video(spec.path)]
    if not videos:
        return _NO_VIDEO
    return -max(videos)[1]


def _torrent_size(release: ReleaseSpec, files: list[FileSpec]) -> int:
    if release.files is None or "size" in release.model_fields_set:
        return release.size
    return sum(f.size for f in files)


def _subtitles(files: list[FileSpec], index: int) -> tuple[fmt.SubtitleFile, ...]:
    video = files[index].path
    folder, _, leaf = video.rpartition("/")
    stem = leaf.rsplit(".", 1)[0]
    out = []
    for i, spec in enumerate(files):
        s_folder, _, s_leaf = spec.path.rpartition("/")
        ext = s_leaf.rsplit(".", 1)[-1].lower() if "." in s_leaf else ""
        if ext in fmt.SUBTITLE_EXTENSIONS and s_folder == folder and s_leaf.startswith(stem):
            out.append(fmt.SubtitleFile(file_index=i, path=spec.path, size=spec.size))
    return tuple(out)


def _record(release: ReleaseSpec, files: list[FileSpec], index: int | None, is_movie: bool) -> fmt.Record:
    torrent_size = _torrent_size(release, files)
    subtitles: tuple[fmt.SubtitleFile, ...] = ()
    if index is None:
        file_title, file_size = release.name, torrent_size
    else:
        file_title, file_size, subtitles = files[index].path, files[index].size, _subtitles(files, index)
    return fmt.Record(
        info_hash=release.info_hash,
        torrent_title=release.name,
        torrent_size=torrent_size,
        seeders=release.seeders,
        provider=release.provider or None,
        provider_languages=tuple(release.languages),
        is_movie=is_movie,
        file_index=index,
        file_title=file_title,
        file_size=file_size,
        trackers=fmt.DEFAULT_TRACKERS if release.trackers is None else tuple(release.trackers),
        subtitles=subtitles,
    )


# -- HTTP ---------------------------------------------------------------------------------------------------


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    content = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
    all_headers = {"Access-Control-Allow-Origin": "*", **(headers or {})}
    return Response(content=content, status_code=status, media_type=JSON_TYPE, headers=all_headers)


def _empty(status: int) -> Response:
    return Response(content=b"", status_code=status)


def _redirect(location: str, cache: str | None = None) -> Response:
    headers = {"Location": location}
    if cache:
        headers["Cache-Control"] = cache
    return Response(content=b"", status_code=302, headers=headers)


def _host(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def manifest(config: fmt.TorrentioConfig, host: str) -> dict[str, Any]:
    """lib/manifest.js for a parsed config."""
    mochs = config.mochs
    selected = config.providers or fmt.PROVIDER_KEYS
    providers_desc = ", ".join(f"{label}({'+' if key in selected else '-'})" for key, label in fmt.PROVIDERS)
    enabled = " & ".join(m.name for m, _ in mochs)
    mochs_desc = f" and {enabled} enabled" if enabled else ""
    possible = "/".join(m.name for m in fmt.MOCHS)
    show_catalog = "nocatalog" not in config.debrid_options
    catalog_mochs = [m for m, _ in mochs if m.catalog] if show_catalog else []
    resources: list[dict[str, Any]] = [
        {"name": "stream", "types": ["movie", "series", "anime"], "idPrefixes": ["tt", "kitsu"]}
    ]
    if catalog_mochs:
        resources.append({"name": "meta", "types": ["other"], "idPrefixes": [m.key for m in catalog_mochs]})
    suffix = "/".join(m.short_name for m, _ in mochs)
    return {
        "id": "com.stremio.torrentio.addon",
        "version": "0.0.15",
        "name": f"{fmt.ADDON_NAME} {suffix}" if suffix else fmt.ADDON_NAME,
        "description": "Provides torrent streams from scraped torrent providers."
        f" Currently supports {providers_desc}{mochs_desc}."
        f" To configure providers, {possible} support and other settings visit https://torrentio.strem.fun",
        "catalogs": [
            {"id": f"torrentio-{m.key}", "name": m.name, "type": "other", "extra": [{"name": "skip"}]}
            for m in catalog_mochs
        ],
        "resources": resources,
        "types": ["movie", "series", "anime", "other"],
        "background": f"{host}/images/background_v1.jpg",
        "logo": f"{host}/images/logo_v1.png",
        "behaviorHints": {"configurable": True, "configurationRequired": False},
    }


_CONFIGURE_HTML = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Torrentio</title></head>
<body><h1>Torrentio</h1><p>Sandbox emulator. Configuration: <code>{config}</code></p>
<p><a href="{host}/{prefix}manifest.json">manifest.json</a></p></body></html>
"""


def _configure_page(config: str | None, host: str) -> Response:
    from html import escape

    prefix = f"{config}/" if config else ""
    body = _CONFIGURE_HTML.format(config=escape(config or "(default)"), host=host, prefix=escape(prefix))
    return Response(content=body.encode(), media_type="text/html; charset=utf-8")


class _Handlers:
    def __init__(self, emulator: TorrentioEmulator) -> None:
        self.emulator = emulator

    def stream(self, config: fmt.TorrentioConfig, type_: str, stream_id: str, host: str) -> dict[str, Any]:
        if not re.search(r"tt\d+", stream_id, re.IGNORECASE) and not re.search(r"kitsu:\d+", stream_id, re.I):
            return {"streams": []}
        if type_ not in ("movie", "series"):
            return {"streams": []}
        if stream_id in self.emulator.fail_ids:
            raise RuntimeError("handler error")
        is_movie = type_ == "movie"
        if is_movie:
            records = self.emulator.records(stream_id, None) if _MOVIE_ID.match(stream_id) else []
        else:
            m = _SERIES_ID.match(stream_id)
            records = self.emulator.records(m.group(1), (int(m.group(2)), int(m.group(3)))) if m else []
        # addon.js: seeders descending (stable, so scenario order stands in for the upload date).
        records.sort(key=lambda r: -(r.seeders or 0))
        streams = [fmt.to_stream_info(r) for r in records]
        streams = fmt.apply_filters(streams, config, is_movie=is_movie)
        streams = fmt.sort_streams(streams, config)
        streams = fmt.apply_mochs(
            streams, config, host=host, is_cached=self.emulator.is_cached, key_error=self.emulator.key_error
        )
        return fmt.envelope(streams)

    def catalog(self, config: fmt.TorrentioConfig, type_: str, catalog_id: str) -> dict[str, Any] | None:
        for moch, key in config.mochs:
            if catalog_id == f"torrentio-{moch.key}" and moch.catalog and type_ == "other":
                if self.emulator.key_error(moch, key):
                    raise RuntimeError("invalid api key")
                return {"metas": [], "cacheMaxAge": 0}
        return None


def create_app(scenario: Scenario, clock: VirtualClock) -> FastAPI:
    """Build the Torrentio emulator for a scenario; its state is at `app.state.emulator`."""
    app = FastAPI(title="Torrentio (sandbox)", openapi_url=None, docs_url=None, redoc_url=None)
    install_sandbox(app, too_many_body=TOO_MANY_BODY, too_many_type=TOO_MANY_TYPE)
    emulator = TorrentioEmulator(
        scenario=scenario,
        clock=clock,
        releases=[r for r in scenario.releases if r.torrentio],
        daily_limit=scenario.torrentio.daily_limit,
    )
    app.state.emulator = emulator
    handlers = _Handlers(emulator)

    async def route(request: Request, full_path: str) -> Response:
        if request.method != "GET":
            return _empty(404)
        # The ASGI path is already percent-decoded, so `%7C` and `%3A` arrive as `|` and `:`.
        return dispatch(request, full_path.split("/") if full_path else [])

    def dispatch(request: Request, parts: list[str]) -> Response:
        host = _host(request)
        if not parts or parts == [""]:
            return _redirect("/configure")
        if len(parts) == 1 and parts[0] in fmt.PRESETS:
            return _redirect(f"/{parts[0]}/configure")
        if parts[-1] == "configure" and len(parts) <= 2:
            return _configure_page(parts[0] if len(parts) == 2 else None, host)
        if parts[-1] == "manifest.json" and len(parts) <= 2:
            config = fmt.parse_config(parts[0] if len(parts) == 2 else None)
            return _json(manifest(config, host))
        if parts[0] == "resolve":
            return resolve(parts[1:], host)
        if parts[0] == "videos" and len(parts) == 2 and parts[1].endswith(".mp4"):
            return Response(content=b"\x00\x00\x00\x18ftypmp42", media_type="video/mp4")
        if parts[-1].endswith(".json") and 3 <= len(parts) <= 5:
            return resource(request, parts, host)
        return _empty(404)

    def resource(request: Request, parts: list[str], host: str) -> Response:
        parts = [*parts[:-1], parts[-1].removesuffix(".json")]
        config_segment: str | None = None
        if len(parts) == 5 or (len(parts) == 4 and parts[0] not in RESOURCES):
            config_segment, parts = parts[0], parts[1:]
        if len(parts) not in (3, 4) or parts[0] not in RESOURCES:
            return _empty(404)
        name, type_, item_id = parts[0], parts[1], re.sub(r"%3A", ":", parts[2], flags=re.IGNORECASE)
        client = _client(request)
        if not emulator.count_call(client):
            return Response(content=TOO_MANY_BODY, status_code=429, media_type=TOO_MANY_TYPE)
        config = fmt.parse_config(config_segment)
        body: dict[str, Any] | None
        try:
            if name == "stream":
                body = handlers.stream(config, type_, item_id, host)
            elif name == "catalog":
                body = handlers.catalog(config, type_, item_id)
            elif config.mochs:
                # The real handler looks the item up in the debrid account, which this emulator does not hold.
                raise LookupError(f"no debrid item {item_id}")
            else:
                body = None
        except Exception:
            _log(emulator, client, config_segment, name, type_, item_id, 500, 0)
            return _json({"err": "handler error"}, status=500)
        if body is None:
            _log(emulator, client, config_segment, name, type_, item_id, 404, 0)
            return _empty(404)
        _log(emulator, client, config_segment, name, type_, item_id, 200, len(body.get("streams", [])))
        cache = fmt.cache_control(body)
        return _json(body, headers={"Cache-Control": cache} if cache else None)

    def resolve(parts: list[str], host: str) -> Response:
        if len(parts) < 5:
            return _empty(404)
        moch_key, key, info_hash, _cached, file_index = parts[:5]
        moch = fmt.MOCH_BY_KEY.get(moch_key)
        if moch is None or not key or not _HASH.match(info_hash):
            return _empty(404)
        idx = int(file_index) if file_index.isdigit() else None
        outcome = _resolve_outcome(emulator, moch, key, info_hash.lower())
        emulator.resolves.append(ResolveRequest(moch.key, info_hash.lower(), idx, outcome))
        if outcome != "ok":
            return _redirect(f"{host}/videos/{outcome}.mp4", "max-age=60, public")
        filename = "/".join(parts[5:]) or f"{info_hash.lower()}.mkv"
        link_id = hashlib.sha1(f"{info_hash}:{idx}".encode()).hexdigest()[:13].upper()
        location = f"https://sandbox1.download.real-debrid.com/d/{link_id}/{fmt.encode_uri_component(filename)}"
        return _redirect(location, "max-age=21600, public")

    app.add_api_route("/{full_path:path}", route, methods=["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD"])
    return app


def _log(
    emulator: TorrentioEmulator,
    client: str,
    config: str | None,
    resource: str,
    type_: str,
    item_id: str,
    status: int,
    streams: int,
) -> None:
    emulator.requests.append(StreamRequest(emulator._now(), client, config, resource, type_, item_id, status, streams))


_RESOLVE_OUTCOMES: dict[str, str] = {
    "cached": "ok",
    "uncached": "downloading_v3",
    "dead": "download_failed_v3",
    "magnet_error": "download_failed_v3",
    "error": "download_failed_v3",
    "virus": "download_failed_v3",
    "refused": "failed_infringement_v3",
}


def _resolve_outcome(emulator: TorrentioEmulator, moch: fmt.Moch, key: str, info_hash: str) -> str:
    kind = emulator.key_error(moch, key)
    if kind == "bad_token":
        return "failed_access_v3"
    if kind == "access_denied":
        return "failed_access_v3"
    release = next((r for r in emulator.releases if r.info_hash == info_hash), None)
    if release is None:
        return "downloading_v3"
    return _RESOLVE_OUTCOMES.get(release.rd, "failed_unexpected_v3")
