"""Release names → `ParsedRelease` with rank-torrent-name (RTN), cut to a safe length first; and `Candidate` building.

Only the release name (Torrentio's first title line) is parsed: the whole multi-line title fools the parser (a
season pack became "episode 3"). The name is cut to `max_chars` before parsing because RTN's regexes (PTT) are
superlinear on long bracket runs. `parse_release` raises only `ParseFailure` (a clear reason the `parse` rule shows);
whatever the parser itself raises is turned into one.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from seerbridge.domain.release import Candidate, ParsedRelease

with warnings.catch_warnings():  # RTN's models still use pydantic v1 style config
    warnings.simplefilter("ignore")
    from RTN import parse as _rtn_parse

TRASH_QUALITIES = frozenset({"CAM", "TeleSync", "TeleCine", "SCR", "R5"})
"""RTN quality names that are cinema recordings or pre-release copies (RTN also sets `trash` for most)."""

_KNOWN_RESOLUTIONS = ("2160p", "1440p", "1080p", "720p", "576p", "480p", "360p")
_HEIGHT = re.compile(r"(?:\d{3,4}x)?(\d{3,4})[pi]?$", re.IGNORECASE)
_QUALITY_ALIASES = {"REMUX": "BluRay REMUX"}  # a bare REMUX is a Blu-ray remux in practice
_NOT_HDR = frozenset({"SDR"})

# Torrentio's language line shows flags; the country a flag stands for → the ISO 639-1 language it means there.
_FLAG_LANGUAGE = {
    "GB": "en", "US": "en", "JP": "ja", "RU": "ru", "IT": "it", "PT": "pt", "BR": "pt", "ES": "es", "MX": "es",
    "KR": "ko", "CN": "zh", "TW": "zh", "HK": "zh", "FR": "fr", "DE": "de", "NL": "nl", "IN": "hi", "PL": "pl",
    "LT": "lt", "LV": "lv", "EE": "et", "CZ": "cs", "SK": "sk", "SI": "sl", "HU": "hu", "RO": "ro", "BG": "bg",
    "RS": "sr", "HR": "hr", "UA": "uk", "GR": "el", "DK": "da", "FI": "fi", "SE": "sv", "NO": "no", "TR": "tr",
    "SA": "ar", "IR": "fa", "IL": "he", "VN": "vi", "ID": "id", "MY": "ms", "TH": "th",
}  # fmt: skip
_REGIONAL_A = 0x1F1E6


class ParseFailure(ValueError):
    """The name could not be understood; the message says why in words."""


def _resolution(value: object) -> str:
    """RTN's resolution ("1080p", "1080i", "1024x576p", "4k", "240p", "unknown") → one of config.RESOLUTIONS."""
    if not isinstance(value, str):
        return "unknown"
    value = value.strip().lower()
    if value in _KNOWN_RESOLUTIONS:
        return value
    if value in ("4k", "uhd"):
        return "2160p"
    m = _HEIGHT.match(value)
    if not m:
        return "unknown"
    height = int(m.group(1))
    for floor, name in ((2000, "2160p"), (1300, "1440p"), (1000, "1080p"), (700, "720p"), (560, "576p"), (460, "480p")):
        if height >= floor:
            return name
    return "360p" if height >= 100 else "unknown"


def _ints(value: Any) -> tuple[int, ...]:
    if not isinstance(value, list | tuple):
        return ()
    return tuple(sorted({v for v in value if isinstance(v, int) and not isinstance(v, bool) and v >= 0}))


def _strs(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list | tuple):
        return ()
    out: list[str] = []
    for v in value:
        if isinstance(v, str) and v and v not in out:
            out.append(v)
    return tuple(out)


def _opt_str(value: Any) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def parse_fields(name: str, *, max_chars: int) -> ParsedRelease:
    """Parse a name without insisting on a title (file names like `05 - Pilot.mkv` have none worth having).

    Raises ParseFailure only.
    """
    if not isinstance(name, str):
        raise ParseFailure("the name is not text")
    cut = name.replace("\r", " ").replace("\n", " ").strip()[: max(1, max_chars)].strip()
    if not cut:
        raise ParseFailure("the name is empty")
    try:
        data = _rtn_parse(cut)
    except Exception as exc:  # any parser bug becomes a reason, never a crash
        raise ParseFailure(f"the parser failed on this name ({type(exc).__name__})") from None
    try:
        year = data.year if isinstance(data.year, int) and not isinstance(data.year, bool) else None
        quality = _opt_str(data.quality)
        quality = _QUALITY_ALIASES.get(quality, quality) if quality else None
        return ParsedRelease(
            title=data.parsed_title.strip() if isinstance(data.parsed_title, str) else "",
            year=year if year and 1870 <= year <= 2200 else None,
            seasons=_ints(data.seasons),
            episodes=_ints(data.episodes),
            complete=bool(data.complete),
            resolution=_resolution(data.resolution),
            quality=quality,
            codec=_opt_str(data.codec),
            hdr=tuple(h for h in _strs(data.hdr) if h not in _NOT_HDR),
            languages=_strs(data.languages),
            trash=bool(data.trash) or quality in TRASH_QUALITIES,
            group=_opt_str(data.group),
        )
    except Exception as exc:  # an odd field shape must not escape either
        raise ParseFailure(f"the parser returned unusable fields ({type(exc).__name__})") from None


def parse_release(name: str, *, max_chars: int) -> ParsedRelease:
    """The facts a release name states. Raises ParseFailure (only) when it has no usable title."""
    parsed = parse_fields(name, max_chars=max_chars)
    if not parsed.title:
        raise ParseFailure("no title could be read from the name")
    return parsed


def flag_languages(flags: Iterable[str]) -> tuple[str, ...]:
    """Torrentio's language line parts (`🇬🇧`, `🇮🇹`, `Multi Audio`, …) → ISO 639-1 codes; words/unknown flags drop."""
    out: list[str] = []
    for part in flags:
        chars = [ord(c) - _REGIONAL_A for c in part.strip() if 0 <= ord(c) - _REGIONAL_A < 26]
        for i in range(0, len(chars) - 1, 2):
            country = chr(chars[i] + 65) + chr(chars[i + 1] + 65)
            code = _FLAG_LANGUAGE.get(country)
            if code and code not in out:
                out.append(code)
    return tuple(out)


def candidate(
    *,
    info_hash: str,
    name: str,
    max_chars: int,
    seeders: int | None = None,
    size_bytes: int | None = None,
    provider: str | None = None,
    file_idx: int | None = None,
    filename: str | None = None,
    file_path: str | None = None,
    cached_hint: bool = False,
    languages: Iterable[str] = (),
) -> Candidate:
    """A `Candidate` from raw stream fields, parsed; a name that does not parse gives `parsed=None` + `parse_error`.

    `languages` are extra hints (ISO codes or Torrentio flags); they are merged into `parsed.languages`, because
    Torrentio shows languages as flags on their own line rather than in the name.
    """
    extra = [code for code in languages if re.fullmatch(r"[a-z]{2}", code)]
    extra += flag_languages(languages)
    try:
        parsed: ParsedRelease | None = parse_release(name, max_chars=max_chars)
        error = None
    except ParseFailure as exc:
        parsed, error = None, str(exc)
    if parsed is not None and extra:
        merged = tuple(dict.fromkeys((*parsed.languages, *extra)))
        parsed = replace(parsed, languages=merged)
    return Candidate(
        info_hash=info_hash.lower(),
        name=name,
        parsed=parsed,
        parse_error=error,
        seeders=seeders,
        size_bytes=size_bytes,
        provider=provider,
        file_idx=file_idx,
        filename=filename,
        file_path=file_path,
        cached_hint=cached_hint,
    )


__all__ = ["TRASH_QUALITIES", "ParseFailure", "candidate", "flag_languages", "parse_fields", "parse_release"]
