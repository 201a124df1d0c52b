"""Torrentio's title helpers: what its title parser and languages table make of a release name or file path.

Resolution, source, HDR, bit depth and languages come from RTN. The codec and release group use regexes copied from
`TheBeastLT/parse-torrent-title` because RTN normalises `x264` to `avc`, while Torrentio keeps the raw token
(`torrentio|1080p|BluRay|x264`). Sizes are formatted and read back the way `streamInfo.js`/`titleHelper.js` do.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from urllib.parse import quote

from RTN import parse as rtn_parse

UNKNOWN_SIZE = 300_000_000
SIZE_UNITS = ("B", "kB", "MB", "GB", "TB")
# RTN's parser is superlinear on pathological input; Torrentio titles are never this long in practice.
MAX_PARSE_CHARS = 300

# languages.js: display order is the order of this table.
LANGUAGE_FLAGS: dict[str, str] = {
    "dubbed": "Dubbed",
    "multi audio": "Multi Audio",
    "multi subs": "Multi Subs",
    "dual audio": "Dual Audio",
    "english": "🇬🇧",
    "japanese": "🇯🇵",
    "russian": "🇷🇺",
    "italian": "🇮🇹",
    "portuguese": "🇵🇹",
    "spanish": "🇪🇸",
    "latino": "🇲🇽",
    "korean": "🇰🇷",
    "chinese": "🇨🇳",
    "taiwanese": "🇹🇼",
    "french": "🇫🇷",
    "german": "🇩🇪",
    "dutch": "🇳🇱",
    "hindi": "🇮🇳",
    "telugu": "🇮🇳",
    "tamil": "🇮🇳",
    "polish": "🇵🇱",
    "lithuanian": "🇱🇹",
    "latvian": "🇱🇻",
    "estonian": "🇪🇪",
    "czech": "🇨🇿",
    "slovakian": "🇸🇰",
    "slovenian": "🇸🇮",
    "hungarian": "🇭🇺",
    "romanian": "🇷🇴",
    "bulgarian": "🇧🇬",
    "serbian": "🇷🇸",
    "croatian": "🇭🇷",
    "ukrainian": "🇺🇦",
    "greek": "🇬🇷",
    "danish": "🇩🇰",
    "finnish": "🇫🇮",
    "swedish": "🇸🇪",
    "norwegian": "🇳🇴",
    "turkish": "🇹🇷",
    "arabic": "🇸🇦",
    "persian": "🇮🇷",
    "hebrew": "🇮🇱",
    "vietnamese": "🇻🇳",
    "indonesian": "🇮🇩",
    "malay": "🇲🇾",
    "thai": "🇹🇭",
}
_FLAG_ORDER = {flag: i for i, flag in reversed(list(enumerate(LANGUAGE_FLAGS.values())))}
_NAME_BY_FLAG = {flag: name for name, flag in reversed(list(LANGUAGE_FLAGS.items()))}
# RTN reports ISO 639-1 codes; Torrentio works with English names.
_NAME_BY_ISO = {
    "en": "english", "ja": "japanese", "ru": "russian", "ko": "korean", "zh": "chinese", "fr": "french",
    "es": "spanish", "pt": "portuguese", "de": "german", "it": "italian", "nl": "dutch", "hi": "hindi",
    "te": "telugu", "ta": "tamil", "pl": "polish", "lt": "lithuanian", "lv": "latvian", "et": "estonian",
    "cs": "czech", "sk": "slovakian", "sl": "slovenian", "hu": "hungarian", "ro": "romanian", "bg": "bulgarian",
    "sr": "serbian", "hr": "croatian", "uk": "ukrainian", "el": "greek", "da": "danish", "fi": "finnish",
    "sv": "swedish", "no": "norwegian", "tr": "turkish", "ar": "arabic", "fa": "persian", "he": "hebrew",
    "vi": "vietnamese", "id": "indonesian", "ms": "malay", "th": "thai",
}  # fmt: skip
# subtitles.js: language name → the 3-letter code Stremio gets.
SUBTITLE_CODE = {
    "english": "eng", "japanese": "jpn", "russian": "rus", "italian": "ita", "portuguese": "por", "spanish": "spa",
    "latino": "lat", "korean": "kor", "chinese": "zho", "taiwanese": "zht", "french": "fre", "german": "ger",
    "dutch": "dut", "hindi": "hin", "telugu": "tel", "tamil": "tam", "polish": "pol", "lithuanian": "lit",
    "latvian": "lav", "estonian": "est", "czech": "cze", "slovakian": "slo", "slovenian": "slv", "hungarian": "hun",
    "romanian": "rum", "bulgarian": "bul", "serbian": "scc", "croatian": "hrv", "ukrainian": "ukr", "greek": "ell",
    "danish": "dan", "finnish": "fin", "swedish": "swe", "norwegian": "nor", "turkish": "tur", "arabic": "ara",
    "persian": "per", "hebrew": "heb", "vietnamese": "vie", "indonesian": "ind", "thai": "tha",
}  # fmt: skip


@dataclass(frozen=True)
class TitleInfo:
    resolution: str | None = None
    source: str | None = None
    codec: str | None = None
    bit_depth: str | None = None
    hdr: tuple[str, ...] = ()
    three_d: str | None = None
    group: str | None = None
    languages: tuple[str, ...] = ()
    dubbed: bool = False


_CODEC = (
    (re.compile(r"\b[xh][-. ]?26[45]", re.IGNORECASE), None),
    (re.compile(r"\bhevc(?:\s?10)?\b", re.IGNORECASE), "hevc"),
    (re.compile(r"\b(?:dvix|mpeg2|divx|xvid|avc)\b", re.IGNORECASE), None),
)
_HDR = (
    (re.compile(r"\bDV\b|dolby.?vision|\bDoVi\b", re.IGNORECASE), "DV"),
    (re.compile(r"HDR10(?:\+|plus)", re.IGNORECASE), "HDR10+"),
    (re.compile(r"\bHDR(?:10)?\b", re.IGNORECASE), "HDR"),
)
_BIT_DEPTH = re.compile(r"(?:8|10|12)[- ]?bit", re.IGNORECASE)
_THREE_D = (
    (re.compile(r"\b(3D)\b.*\b(Half-?SBS|H[-\\/]?SBS)\b", re.IGNORECASE), "3D HSBS"),
    (re.compile(r"\bHalf.Side.?By.?Side\b", re.IGNORECASE), "3D HSBS"),
    (re.compile(r"\b(3D)\b.*\b(Full-?SBS|SBS)\b", re.IGNORECASE), "3D SBS"),
    (re.compile(r"\bSide.?By.?Side\b", re.IGNORECASE), "3D SBS"),
    (re.compile(r"\b(3D)\b.*\b(Half-?OU|H[-\\/]?OU)\b", re.IGNORECASE), "3D HOU"),
    (re.compile(r"\bHalf.?Over.?Under\b", re.IGNORECASE), "3D HOU"),
    (re.compile(r"\b(3D)\b.*\b(OU)\b", re.IGNORECASE), "3D OU"),
    (re.compile(r"\bOver.?Under\b", re.IGNORECASE), "3D OU"),
    (re.compile(r"(?<!^)\b((?:BD)?3D)\b", re.IGNORECASE), "3D"),
)
_GROUP = re.compile(
    r"- ?(?!\d+$|S\d+|\d+x|ep?\d+|[^\[]+]$)([^\-. \[]+[^\-. \[)\]\d][^\-. \[)\]]*)(?:\[[\w.-]+])?(?=\.\w{2,4}$|$)",
    re.IGNORECASE,
)
_MULTI_AUDIO = re.compile(r"\bmulti(?:[ .-]?(?:audio|lang(?:uage)?s?))?\b(?![ .-]?subs?)", re.IGNORECASE)
_MULTI_SUBS = re.compile(r"\bmulti[ .-]?subs?\b", re.IGNORECASE)
_DUAL_AUDIO = re.compile(r"\bdual[ .-]?(?:audio|lang(?:uage)?s?)\b|\bdual\b(?=.*\b(?:audio|dub))", re.IGNORECASE)
_DUBBED = re.compile(r"\b(?:dubbed|dublado|dubbing|dubs?)\b", re.IGNORECASE)


def _resolution(value: str | None) -> str | None:
    if not value or value == "unknown":
        return None
    if value in {"2160p", "4k", "4K", "2160i"}:
        return "4k"
    return value


@lru_cache(maxsize=8192)
def parse_title(title: str) -> TitleInfo:
    """The facts Torrentio shows for a torrent title or an in-torrent file path."""
    text = title[:MAX_PARSE_CHARS]
    parsed = rtn_parse(text)
    codec = None
    for pattern, fixed in _CODEC:
        m = pattern.search(text)
        if m:
            codec = fixed or re.sub(r"[ .-]", "", m.group(0).lower(), count=1)
            if fixed is None:
                break
    hdr: list[str] = []
    rest = text
    for pattern, label in _HDR:  # each match is removed before the next tag is looked for, as in the JS parser
        if pattern.search(rest):
            hdr.append(label)
            rest = pattern.sub("", rest, count=1)
    bit = _BIT_DEPTH.search(text)
    bit_depth = re.sub(r"[ -]", "", bit.group(0).lower(), count=1) if bit else None
    if bit_depth is None and re.search(r"\bhevc\s?10\b|\bhdr10\b|\bhi10\b", text, re.IGNORECASE):
        bit_depth = "10bit"
    three_d = next((label for pattern, label in _THREE_D if pattern.search(text)), None)
    group_match = _GROUP.search(text)
    languages = [_NAME_BY_ISO[code] for code in parsed.languages if code in _NAME_BY_ISO]
    if _MULTI_SUBS.search(text):
        languages.append("multi subs")
    if _MULTI_AUDIO.search(text):
        languages.append("multi audio")
    if _DUAL_AUDIO.search(text):
        languages.append("dual audio")
    return TitleInfo(
        resolution=_resolution(parsed.resolution),
        source=parsed.quality or None,
        codec=codec,
        bit_depth=bit_depth,
        hdr=tuple(hdr),
        three_d=three_d,
        group=group_match.group(1) if group_match else None,
        languages=tuple(dict.fromkeys(languages)),
        dubbed=bool(_DUBBED.search(text)),
    )


def language_name(value: str) -> str | None:
    """A scenario language given as a flag, an English name or an ISO 639-1 code → Torrentio's name."""
    value = value.strip()
    if value in _NAME_BY_FLAG:
        return _NAME_BY_FLAG[value]
    lowered = value.lower()
    if lowered in LANGUAGE_FLAGS:
        return lowered
    return _NAME_BY_ISO.get(lowered)


def map_languages(languages: Iterable[str]) -> list[str]:
    """languages.js mapLanguages: flags in table order, then unknown names alphabetically, without repeats."""
    langs = list(languages)
    mapped = sorted((LANGUAGE_FLAGS[lang] for lang in langs if lang in LANGUAGE_FLAGS), key=_FLAG_ORDER.__getitem__)
    unmapped = sorted(lang for lang in langs if lang not in LANGUAGE_FLAGS)
    return list(dict.fromkeys([*mapped, *unmapped]))


def format_size(size: int | None) -> str | None:
    """streamInfo.js formatSize: `Number((size / 1024^i).toFixed(2)) + ' ' + unit`."""
    if not size or size == UNKNOWN_SIZE:
        return None
    i = min(math.floor(math.log(size) / math.log(1024)), len(SIZE_UNITS) - 1)
    # JS toFixed rounds the exact binary value half-up; Decimal(float) is that exact value.
    number = float(Decimal(size / 1024**i).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))
    text = str(int(number)) if number.is_integer() else repr(number)
    return f"{text} {SIZE_UNITS[i]}"


def parse_size(text: str | None) -> int:
    """titleHelper.js parseSize: '1.64 GB' or '10GB' → bytes (0 when unreadable)."""
    if not text:
        return 0
    scale = 1
    for unit, factor in (("TB", 1024**4), ("GB", 1024**3), ("MB", 1024**2), ("kB", 1024)):
        if unit in text:
            scale = factor
            break
    m = re.match(r"\s*([\d.]+)", text.replace(",", ""))
    return math.floor(float(m.group(1)) * scale) if m else 0


def extract_seeders(title: str) -> int:
    m = re.search(r"👤 (\d+)", title)
    return int(m.group(1)) if m else 0


def extract_size(title: str) -> int:
    m = re.search(r"💾 ([\d.]+ \w+)", title)
    return parse_size(m.group(1)) if m else 0


def extract_provider(title: str) -> str | None:
    m = re.search(r"⚙.* ([^ \n]+)", title)
    return m.group(1) if m else None


def encode_uri_component(text: str) -> str:
    return quote(text, safe="-_.!~*'()")
