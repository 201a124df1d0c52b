"""Torrentio's stream pipeline as pure functions: config segment, title facts, stream objects, filters, sorting, debrid.

This mirrors `addon/lib/{configuration,streamInfo,filter,sort,languages,subtitles}.js` and `addon/moch/moch.js` of
TheBeastLT/torrentio-scraper (see /shared/api/torrentio.md). Like the original, the filters and sorts read the
strings they produced (`name`, `title`) instead of structured fields, so quirks carry over exactly (e.g. the
`1080p` quality filter does not drop `1080p HDR`). Titles are parsed with RTN for resolution, source, HDR, bit depth
and languages; the codec and release group use small regexes copied from Torrentio's title parser because RTN
normalises `x264` to `avc`, while Torrentio keeps the raw token (`torrentio|1080p|BluRay|x264`); see
`torrentio_titles`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from seerbridge.sandbox.torrentio_titles import (
    LANGUAGE_FLAGS,
    SUBTITLE_CODE,
    TitleInfo,
    encode_uri_component,
    extract_provider,
    extract_seeders,
    extract_size,
    format_size,
    language_name,
    map_languages,
    parse_size,
    parse_title,
)

ADDON_NAME = "Torrentio"
SIZE_DELTA = 0.05
CACHE_MAX_AGE = 3600
CACHE_MAX_AGE_EMPTY = 60
STALE_REVALIDATE_AGE = 4 * 60 * 60
STALE_ERROR_AGE = 7 * 24 * 60 * 60
MIN_API_KEY_SYMBOLS = 15
HEALTHY_SEEDERS = 5
SEEDED_SEEDERS = 1
MIN_HEALTHY_COUNT = 50
MAX_UNHEALTHY_COUNT = 5
DEFAULT_TRACKERS = (
    "udp://tracker.opentrackr.org:1337/announce",
    "udp://open.demonii.com:1337/announce",
    "udp://tracker.torrent.eu.org:451/announce",
)
CAM_SOURCES = ("CAM", "TeleSync", "TeleCine", "SCR")
VIDEO_EXTENSIONS = frozenset(
    {"mkv", "mp4", "avi", "m4v", "mov", "wmv", "ts", "m2ts", "mts", "webm", "mpg", "mpeg", "flv", "vob", "divx"}
)
SUBTITLE_EXTENSIONS = frozenset({"srt", "vtt", "ass", "ssa"})

# (key, label) in the order the manifest description lists them.
PROVIDERS: tuple[tuple[str, str], ...] = (
    ("yts", "YTS"),
    ("eztv", "EZTV"),
    ("rarbg", "RARBG"),
    ("1337x", "1337x"),
    ("ext", "EXT"),
    ("thepiratebay", "ThePirateBay"),
    ("kickasstorrents", "KickassTorrents"),
    ("torrentgalaxy", "TorrentGalaxy"),
    ("magnetdl", "MagnetDL"),
    ("horriblesubs", "HorribleSubs"),
    ("nyaasi", "NyaaSi"),
    ("tokyotosho", "TokyoTosho"),
    ("anidex", "AniDex"),
    ("nekobt", "nekoBT"),
    ("rutor", "Rutor"),
    ("rutracker", "Rutracker"),
    ("comando", "Comando"),
    ("bludv", "BluDV"),
    ("micoleaodublado", "MicoLeaoDublado"),
    ("torrent9", "Torrent9"),
    ("ilcorsaronero", "ilCorSaRoNeRo"),
    ("mejortorrent", "MejorTorrent"),
    ("wolfmax4k", "Wolfmax4k"),
    ("cinecalidad", "Cinecalidad"),
    ("besttorrents", "BestTorrents"),
)
PROVIDER_KEYS = tuple(key for key, _ in PROVIDERS)
FOREIGN_PROVIDER_LANGUAGE = {
    "Rutor": "rus",
    "Rutracker": "rus",
    "Comando": "por",
    "BluDV": "por",
    "MicoLeaoDublado": "por",
    "Torrent9": "fre",
    "ilCorSaRoNeRo": "ita",
    "MejorTorrent": "spa",
    "Wolfmax4k": "spa",
    "Cinecalidad": "spa",
    "BestTorrents": "pol",
}


@dataclass(frozen=True)
class Moch:
    """A debrid service Torrentio can hand streams to."""

    key: str
    name: str
    short_name: str
    catalog: bool


MOCHS: tuple[Moch, ...] = (
    Moch("realdebrid", "RealDebrid", "RD", True),
    Moch("premiumize", "Premiumize", "PM", True),
    Moch("alldebrid", "AllDebrid", "AD", True),
    Moch("debridlink", "DebridLink", "DL", True),
    Moch("easydebrid", "EasyDebrid", "ED", True),
    Moch("offcloud", "Offcloud", "OC", True),
    Moch("torbox", "TorBox", "TB", True),
    Moch("putio", "Put.io", "Putio", False),
)
MOCH_BY_KEY = {m.key: m for m in MOCHS}

# ---------------------------------------------------------------------------------------------------------------
# Config segment (lib/configuration.js)


@dataclass(frozen=True)
class TorrentioConfig:
    """A parsed `{config}` path segment; `values` keeps every recognised pair, lists already split."""

    values: Mapping[str, str | tuple[str, ...]] = field(default_factory=dict)

    def _list(self, key: str) -> tuple[str, ...] | None:
        value = self.values.get(key)
        if value is None:
            return None
        return value if isinstance(value, tuple) else (value,)

    @property
    def providers(self) -> tuple[str, ...] | None:
        return self._list("providers")

    @property
    def sort(self) -> str | None:
        value = self.values.get("sort")
        return value.lower() if isinstance(value, str) and value else None

    @property
    def quality_filter(self) -> tuple[str, ...]:
        return self._list("qualityfilter") or ()

    @property
    def size_filter(self) -> tuple[str, ...]:
        return self._list("sizefilter") or ()

    @property
    def languages(self) -> tuple[str, ...]:
        return self._list("language") or ()

    @property
    def debrid_options(self) -> tuple[str, ...]:
        return self._list("debridoptions") or ()

    @property
    def limit(self) -> int | None:
        value = self.values.get("limit")
        if isinstance(value, str) and re.fullmatch(r"[1-9][0-9]*", value):
            return int(value)
        return None

    @property
    def mochs(self) -> list[tuple[Moch, str]]:
        """Configured debrid services and their keys, in Torrentio's order."""
        out = []
        for moch in MOCHS:
            key = self.values.get(moch.key)
            if isinstance(key, str) and key:
                out.append((moch, key))
        return out


_LOWER_LISTS = ("providers", "qualityfilter", "debridoptions", "language")
_UPPER_LISTS = ("sizefilter",)
PRESETS: dict[str, dict[str, str | tuple[str, ...]]] = {
    "lite": {
        "providers": tuple(k for k, label in PROVIDERS if label not in FOREIGN_PROVIDER_LANGUAGE),
        "qualityfilter": ("scr", "cam"),
        "limit": "1",
    },
    "brazuca": {"providers": tuple(k for k in PROVIDER_KEYS if k != "rutor"), "language": ("portuguese",)},
}


def parse_config(segment: str | None) -> TorrentioConfig:
    """Read `k=v|k2=a,b` (with `|` possibly still encoded as %7C) the way configuration.js does."""
    if not segment:
        return TorrentioConfig()
    if segment in PRESETS:
        return TorrentioConfig(dict(PRESETS[segment]))
    segment = re.sub(r"%7C", "|", segment, flags=re.IGNORECASE)
    values: dict[str, str | tuple[str, ...]] = {}
    for pair in segment.split("|"):
        parts = pair.split("=")
        if len(parts) == 2:
            values[parts[0].lower()] = parts[1]
    for key in _LOWER_LISTS:
        raw = values.get(key)
        if isinstance(raw, str) and raw:
            values[key] = tuple(v.lower() for v in raw.split(","))
    for key in _UPPER_LISTS:
        raw = values.get(key)
        if isinstance(raw, str) and raw:
            values[key] = tuple(v.upper() for v in raw.split(","))
    return TorrentioConfig(values)


# ---------------------------------------------------------------------------------------------------------------
# Records → stream objects (lib/streamInfo.js, lib/subtitles.js)


@dataclass(frozen=True)
class SubtitleFile:
    file_index: int
    path: str
    size: int


@dataclass(frozen=True)
class Record:
    """One row of Torrentio's database: a video file (or a whole torrent when its files are unknown)."""

    info_hash: str
    torrent_title: str
    torrent_size: int
    seeders: int | None
    provider: str | None
    provider_languages: tuple[str, ...]
    is_movie: bool
    file_index: int | None
    file_title: str
    file_size: int
    trackers: tuple[str, ...] = DEFAULT_TRACKERS
    subtitles: tuple[SubtitleFile, ...] = ()


def _join(parts: Iterable[Any], prefix: str = "", delimiter: str = " ") -> str | None:
    """streamInfo.js joinDetailParts: drop None, join, prefix; None when nothing is left."""
    text = delimiter.join(str(p) for p in parts if p is not None)
    return f"{prefix}{text}" if text else None


def _same_info(record: Record) -> bool:
    if record.file_index is None:
        return True
    if record.torrent_size and abs(record.file_size / record.torrent_size - 1) < SIZE_DELTA:
        return True
    return record.torrent_title in record.file_title


def _quality(torrent: TitleInfo, file: TitleInfo) -> str | None:
    if file.source in CAM_SOURCES:
        return file.source
    if torrent.source in CAM_SOURCES:
        return torrent.source
    return file.resolution or torrent.resolution or file.source or torrent.source


def _languages(record: Record, torrent: TitleInfo, file: TitleInfo) -> list[str]:
    names = [*torrent.languages, *file.languages]
    for value in record.provider_languages:
        name = language_name(value)
        names.append(name if name else value.lower())
    languages = list(dict.fromkeys(names))
    if languages == ["english"]:
        languages = []
    if not languages and (torrent.dubbed or file.dubbed):
        languages = ["dubbed"]
    return map_languages(languages)


def _binge_group(record: Record, same_info: bool, quality: str | None, torrent: TitleInfo, file: TitleInfo) -> str:
    parts: list[str | None]
    if record.is_movie:
        source = torrent.source or file.source
        parts = [quality, source if source != quality else None, torrent.codec or file.codec]
        parts += [torrent.bit_depth or file.bit_depth, *(torrent.hdr or file.hdr)]
    elif same_info:
        parts = [quality, *file.hdr, file.group]
    else:
        parts = [record.info_hash]
    return _join(parts, "torrentio|", "|") or "torrentio|"


def _subtitle_language(subtitle: SubtitleFile, record: Record) -> str:
    name = subtitle.path.split("/")[-1]
    video_stem = re.sub(r"\.\w{2,5}$", "", record.file_title.split("/")[-1])
    rest = re.sub(r"\.\w{2,5}$", "", name.replace(video_stem, "", 1)).strip(" ._-[]()")
    if rest:
        language = language_name(rest) or next(
            (n for n in parse_title(rest + ".srt").languages if n in SUBTITLE_CODE), None
        )
        if language in SUBTITLE_CODE:
            return SUBTITLE_CODE[language]
    else:
        return FOREIGN_PROVIDER_LANGUAGE.get(record.provider or "", "eng")
    m = re.search(r"(?:(?:^|[._ ])([A-Za-z][a-z]{1,2})|\[([a-z]{2,3})])\.\w{3,4}$", name)
    return m.group(1).lower() if m and m.group(1) else "Unknown"


def to_stream_info(record: Record) -> dict[str, Any]:
    """streamInfo.js toStreamInfo, with applyStaticInfo's subtitle URLs already filled in."""
    torrent = parse_title(record.torrent_title)
    file = parse_title(record.file_title)
    same_info = _same_info(record)
    quality = _quality(torrent, file)
    hdr = torrent.hdr or file.hdr
    title = _join(
        [
            re.sub(r"[, ]+", " ", record.torrent_title),
            record.file_title if not same_info else None,
            _join(
                [
                    _join([record.seeders], "👤 "),
                    _join([format_size(record.file_size)], "💾 "),
                    _join([record.provider], "⚙️ "),
                ]
            ),
            _join(_languages(record, torrent, file), "", " / "),
        ],
        "",
        "\n",
    )
    name = _join([ADDON_NAME, _join([quality, torrent.three_d or file.three_d, _join(hdr, "", " | ")])], "", "\n")
    filename = record.file_title.split("/")[-1] if record.file_index is not None else None
    hints: dict[str, Any] = {"bingeGroup": _binge_group(record, same_info, quality, torrent, file)}
    if filename is not None:
        hints["filename"] = filename
    stream: dict[str, Any] = {"name": name, "title": title, "infoHash": record.info_hash}
    if record.file_index is not None:
        stream["fileIdx"] = record.file_index
    stream["behaviorHints"] = hints
    if record.trackers:
        stream["sources"] = [f"tracker:{t}" for t in record.trackers] + [f"dht:{record.info_hash}"]
    if record.subtitles:
        subtitles = sorted(record.subtitles, key=lambda s: -s.size)
        stream["subtitles"] = [
            {
                "id": str(s.file_index),
                "lang": _subtitle_language(s, record),
                "url": f"http://localhost:11470/{record.info_hash}/{s.file_index}/{s.path.split('/')[-1]}",
            }
            for s in subtitles
        ]
    return stream


# ---------------------------------------------------------------------------------------------------------------
# Filters (lib/filter.js)


def _hdr_profiles(quality: str | None) -> str:
    return ",".join((quality or "").split(" ")[1:])


_QUALITY_TESTS: dict[str, Callable[[str | None, str | None], bool]] = {
    "brremux": lambda q, binge: "BluRay REMUX" in (binge or ""),
    "hdrall": lambda q, binge: any(h in _hdr_profiles(q) for h in ("HDR", "HDR10+", "DV")),
    "dolbyvision": lambda q, binge: _hdr_profiles(q) == "DV",
    "dolbyvisionwithhdr": lambda q, binge: "DV" in _hdr_profiles(q) and "HDR" in _hdr_profiles(q),
    "threed": lambda q, binge: "3D" in _hdr_profiles(q),
    "nonthreed": lambda q, binge: "3D" not in _hdr_profiles(q),
    "4k": lambda q, binge: bool(q) and (q or "").split(" ")[0] == "4k",
    "1080p": lambda q, binge: q == "1080p",
    "720p": lambda q, binge: q == "720p",
    "480p": lambda q, binge: q == "480p",
    "other": lambda q, binge: (
        bool(q) and (q or "").split(" ")[0] not in {"4k", "1080p", "720p", "480p", "SCR", "CAM", "TeleSync", "TeleCine"}
    ),
    "scr": lambda q, binge: q == "SCR",
    "cam": lambda q, binge: q in {"CAM", "TeleSync", "TeleCine"},
    "unknown": lambda q, binge: not q,
}


def _stream_quality(stream: Mapping[str, Any]) -> str | None:
    lines = str(stream.get("name", "")).split("\n")
    return lines[1] if len(lines) > 1 else None


def apply_filters(streams: list[dict[str, Any]], config: TorrentioConfig, *, is_movie: bool) -> list[dict[str, Any]]:
    providers = config.providers or PROVIDER_KEYS
    out = [s for s in streams if (extract_provider(s["title"]) or "").lower() in providers]
    tests = [test for key, test in _QUALITY_TESTS.items() if key in config.quality_filter]
    if tests:
        out = [
            s
            for s in out
            if not any(test(_stream_quality(s), s.get("behaviorHints", {}).get("bingeGroup")) for test in tests)
        ]
    sizes = config.size_filter
    if sizes:
        limit = parse_size(sizes[0] if is_movie else sizes[-1])
        out = [s for s in out if extract_size(s["title"]) <= limit]
    return out


# ---------------------------------------------------------------------------------------------------------------
# Sorting (lib/sort.js)

_OTHER_LABEL = "Other (DVDRip/HDRip/BDRip...)"
_CAM_LABEL = "Cam"


def _quality_group(stream: Mapping[str, Any]) -> str:
    desc = _stream_quality(stream)
    if desc is None:
        return "undefined"
    is_hdr = re.search(r"HDR|DV", desc) is not None

    def with_hdr(resolution: str) -> str:
        return resolution.replace("0p", "1p", 1) if is_hdr else resolution

    m = re.search(r"\d+p", desc)
    if m:
        return with_hdr(m.group(0))
    if re.search(r"8k", desc, re.IGNORECASE):
        return with_hdr("4320p")
    if re.search(r"4k|uhd", desc, re.IGNORECASE):
        return with_hdr("2060p")
    if _QUALITY_TESTS["cam"](desc, None):
        return _CAM_LABEL
    if _QUALITY_TESTS["other"](desc, None):
        return _OTHER_LABEL
    return desc


def _group_order(key: str) -> tuple[int, int, str]:
    m = re.match(r"\d+", key) if re.search(r"\d+p", key) else None
    if m and int(m.group(0)):
        return (0, -int(m.group(0)), "")
    return (1, 0, key)


def _cull_by_seeders(streams: list[dict[str, Any]]) -> list[dict[str, Any]]:
    healthy = [s for s in streams if extract_seeders(s["title"]) >= HEALTHY_SEEDERS]
    seeded = [s for s in streams if extract_seeders(s["title"]) >= SEEDED_SEEDERS]
    if len(healthy) >= MIN_HEALTHY_COUNT:
        return healthy
    if len(seeded) >= MAX_UNHEALTHY_COUNT:
        return seeded[:MIN_HEALTHY_COUNT]
    return streams[:MAX_UNHEALTHY_COUNT]


def _by_size(streams: list[dict[str, Any]], limit: int | None) -> list[dict[str, Any]]:
    return sorted(streams, key=lambda s: -extract_size(s["title"]))[:limit]


def _sort(streams: list[dict[str, Any]], config: TorrentioConfig) -> list[dict[str, Any]]:
    limit = config.limit
    ranked = streams if config.mochs else _cull_by_seeders(streams)
    if config.sort == "seeders":
        return ranked[:limit]
    if config.sort == "size":
        return _by_size(ranked, limit)
    groups: dict[str, list[dict[str, Any]]] = {}
    for stream in ranked:
        groups.setdefault(_quality_group(stream), []).append(stream)
    out: list[dict[str, Any]] = []
    for key in sorted(groups, key=_group_order):
        members = _by_size(groups[key], None) if config.sort == "qualitysize" else groups[key]
        out.extend(members[:limit])
    return out


def sort_streams(streams: list[dict[str, Any]], config: TorrentioConfig) -> list[dict[str, Any]]:
    """sort.js sortStreams: streams in a preferred language first, each part culled, grouped and limited."""
    languages = config.languages
    if languages and languages[0] != "english":
        flags = [LANGUAGE_FLAGS[lang] for lang in languages if lang in LANGUAGE_FLAGS]
        with_language = [s for s in streams if any(flag in s["title"] for flag in flags)]
        rest = [s for s in streams if not any(s is w for w in with_language)]
        return _sort(with_language, config) + _sort(rest, config)
    return _sort(streams, config)


# ---------------------------------------------------------------------------------------------------------------
# Debrid (moch/moch.js)


def error_stream(moch: Moch, host: str, kind: str = "bad_token") -> dict[str, Any]:
    """The single stream that replaces the list when a debrid key is refused or its subscription is over."""
    if kind == "access_denied":
        title = f"Expired/invalid {moch.name} subscription!"
    else:
        title = f"Invalid {moch.name} ApiKey/Token!"
    return {
        "name": f"{ADDON_NAME}\n{moch.short_name} error",
        "title": title,
        "url": f"{host}/videos/failed_access_v3.mp4",
    }


def _stream_filename(stream: Mapping[str, Any]) -> str:
    filename = stream.get("behaviorHints", {}).get("filename")
    if not filename:
        head = re.sub(r"\n👤.*", "", stream["title"], flags=re.DOTALL)
        filename = head.split("\n")[-1].split("/")[-1]
    return encode_uri_component(filename)


def _debrid_stream(label: str, stream: Mapping[str, Any], url: str) -> dict[str, Any]:
    out: dict[str, Any] = {"name": f"{label} {stream['name']}", "title": stream["title"], "url": url}
    if stream.get("behaviorHints") is not None:
        out["behaviorHints"] = stream["behaviorHints"]
    return out


def apply_mochs(
    streams: list[dict[str, Any]],
    config: TorrentioConfig,
    *,
    host: str,
    is_cached: Callable[[Moch, str, int | None], bool],
    key_error: Callable[[Moch, str], str | None],
) -> list[dict[str, Any]]:
    """Turn torrent streams into debrid links: `[RD+]` in place for cached ones, `[RD download]` appended."""
    mochs = config.mochs
    if not streams or not mochs:
        return streams
    errors = [error_stream(moch, host, kind) for moch, key in mochs if (kind := key_error(moch, key)) is not None]
    if errors:
        return errors

    def url(moch: Moch, key: str, stream: Mapping[str, Any]) -> str:
        file_idx = stream.get("fileIdx")
        idx = "undefined" if file_idx is None else str(file_idx)
        return f"{host}/resolve/{moch.key}/{key}/{stream['infoHash']}/null/{idx}/{_stream_filename(stream)}"

    result = list(streams)
    for moch, key in mochs:
        result = [
            _debrid_stream(f"[{moch.short_name}+]", s, url(moch, key, s))
            if "infoHash" in s and is_cached(moch, s["infoHash"], s.get("fileIdx"))
            else s
            for s in result
        ]
    if "nodownloadlinks" not in config.debrid_options:
        torrent_streams = [s for s in result if "infoHash" in s]
        seeded_count = sum(1 for s in result if "👤 0" not in s["title"])
        for stream in torrent_streams:
            for moch, key in mochs:
                healthy = "👤 0" not in stream["title"] or "4k" in stream["name"] or seeded_count <= 5
                if not is_cached(moch, stream["infoHash"], stream.get("fileIdx")) and healthy:
                    result.append(_debrid_stream(f"[{moch.short_name} download]", stream, url(moch, key, stream)))
    return [s for s in result if "url" in s]


def envelope(streams: list[dict[str, Any]]) -> dict[str, Any]:
    """addon.js: the stream list with its cache ages (60 s when empty, 0 when only static error videos)."""
    if not streams:
        max_age = CACHE_MAX_AGE_EMPTY
    elif all("/videos/" in str(s.get("url", "")) and "infoHash" not in s for s in streams):
        max_age = 0
    else:
        max_age = CACHE_MAX_AGE
    return {
        "streams": streams,
        "cacheMaxAge": max_age,
        "staleRevalidate": STALE_REVALIDATE_AGE,
        "staleError": STALE_ERROR_AGE,
    }


def cache_control(body: Mapping[str, Any]) -> str | None:
    """The stremio-addon-sdk Cache-Control header mirrored from the envelope's ages."""
    parts = [
        f"{header}={body[prop]}"
        for prop, header in (
            ("cacheMaxAge", "max-age"),
            ("staleRevalidate", "stale-while-revalidate"),
            ("staleError", "stale-if-error"),
        )
        if isinstance(body.get(prop), int)
    ]
    return ", ".join(parts) + ", public" if parts else None


__all__ = [
    "Moch",
    "Record",
    "SubtitleFile",
    "TorrentioConfig",
    "apply_filters",
    "apply_mochs",
    "cache_control",
    "encode_uri_component",
    "envelope",
    "error_stream",
    "extract_seeders",
    "extract_size",
    "format_size",
    "parse_config",
    "sort_streams",
    "to_stream_info",
]
