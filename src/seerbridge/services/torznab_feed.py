"""Torznab XML read without I/O: caps, `<error>` elements, and result items turned into `Stream`s.

Facts it encodes (shared/api/torznab.md §2, §3, §5, §7): feeds are untrusted, so they are parsed with defusedxml and
DTDs are refused (no Torznab server sends one); `torznab:attr` is read by local name whatever its namespace prefix;
an item's hash is its `infohash` attribute, else the btih of a magnet in `magneturl`, `<link>` or `enclosure url`
(40 hex or 32 base32); links that are not magnets are never fetched (Prowlarr and Jackett proxy links embed the API
key and count as grabs), so items without either are skipped; `peers` includes seeders; StremThru omits `seeders`
when it is 0, so an absent value stays None; the `<category>` element may be a name, the attribute is an id.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections import Counter
from dataclasses import dataclass, field
from enum import IntEnum, StrEnum
from xml.etree.ElementTree import Element

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from seerbridge.services.streams import Stream

_HEX_HASH = re.compile(r"^[0-9a-fA-F]{40}$")
_BTIH = re.compile(r"(?:^|[?&])xt=urn:btih:([^&#\s]*)", re.IGNORECASE)
_BASE32_HASH = re.compile(r"^[A-Za-z2-7]{32}$")


class Search(StrEnum):
    """The caps elements under `<searching>` that seerbridge uses, by their element name."""

    SEARCH = "search"
    TV = "tv-search"
    MOVIE = "movie-search"


# What a function supports when caps list it without `supportedParams` (the Sonarr wiki's default for tv-search).
_DEFAULT_PARAMS = {
    Search.SEARCH: frozenset({"q"}),
    Search.TV: frozenset({"q", "rid", "season", "ep"}),
    Search.MOVIE: frozenset({"q"}),
}


class TorznabErrorCode(IntEnum):
    """The Newznab error codes (§5), plus the HTTP-like numbers Prowlarr writes in `code` (410, 429)."""

    INCORRECT_USER_CREDENTIALS = 100
    ACCOUNT_SUSPENDED = 101
    INSUFFICIENT_PRIVILEGES = 102
    REGISTRATION_DENIED = 103
    REGISTRATIONS_CLOSED = 104
    EMAIL_ADDRESS_TAKEN = 105
    EMAIL_ADDRESS_BAD = 106
    REGISTRATION_FAILED = 107
    MISSING_PARAMETER = 200
    INCORRECT_PARAMETER = 201
    NO_SUCH_FUNCTION = 202
    FUNCTION_NOT_AVAILABLE = 203
    NO_SUCH_ITEM = 300
    INDEXER_DISABLED = 410
    TOO_MANY_REQUESTS = 429
    REQUEST_LIMIT_REACHED = 500
    DOWNLOAD_LIMIT_REACHED = 501
    UNKNOWN_ERROR = 900
    API_DISABLED = 910

    @classmethod
    def of(cls, code: int | None) -> TorznabErrorCode | None:
        try:
            return cls(code) if code is not None else None
        except ValueError:
            return None


class MalformedFeed(ValueError):
    """The body is not the XML a Torznab server sends; the message says why (never quotes the body)."""


@dataclass(frozen=True)
class FeedError:
    """A Torznab `<error code description>` element."""

    code: int | None
    description: str


@dataclass(frozen=True)
class SearchCaps:
    """One search function in caps: whether it is on, and the parameters it takes (lower case)."""

    available: bool
    params: frozenset[str] = frozenset()

    def takes(self, param: str) -> bool:
        return self.available and param in self.params


@dataclass(frozen=True)
class TorznabCaps:
    """What a Torznab endpoint says it can do (`t=caps`)."""

    server: str | None = None
    version: str | None = None
    limit_default: int | None = None
    limit_max: int | None = None
    searching: dict[Search, SearchCaps] = field(default_factory=dict)
    categories: dict[int, str] = field(default_factory=dict)  # every id listed, subcategories included

    def function(self, which: Search) -> SearchCaps:
        return self.searching.get(which, SearchCaps(available=False))

    def has_category_in(self, low: int, high: int) -> bool:
        return any(low <= cat <= high for cat in self.categories)


@dataclass
class Feed:
    """The usable items of one result page, and the skipped ones as (title, reason)."""

    streams: list[Stream] = field(default_factory=list)
    skips: list[tuple[str, str]] = field(default_factory=list)
    items: int = 0

    @property
    def skipped(self) -> Counter[str]:
        """Skipped items by reason."""
        return Counter(reason for _, reason in self.skips)


def _local(tag: object) -> str:
    """An element's name without its namespace (`{uri}attr` → `attr`)."""
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def read_document(body: bytes) -> Element:
    """Parse a body into its root element; MalformedFeed when it is not well-formed XML or carries a DTD."""
    if not body.strip():
        raise MalformedFeed("the body is empty")
    try:
        root: Element = SafeET.fromstring(body, forbid_dtd=True)
    except SafeET.ParseError as exc:
        raise MalformedFeed(f"the body is not well-formed XML ({exc.msg})") from None
    except DefusedXmlException as exc:
        raise MalformedFeed(f"the body holds forbidden XML ({type(exc).__name__})") from None
    return root


def find_error(root: Element) -> FeedError | None:
    """The `<error>` a server answers instead of a feed (on any HTTP status), or None."""
    if _local(root.tag) != "error":
        return None
    raw_code = (root.get("code") or "").strip()
    code = int(raw_code) if raw_code.isdigit() else None
    return FeedError(code=code, description=(root.get("description") or "").strip()[:200])


def _int(value: str | None) -> int | None:
    if value is None:
        return None
    value = value.strip()
    return int(value) if value.isdigit() else None


def parse_caps(root: Element) -> TorznabCaps:
    """A `<caps>` document → TorznabCaps; MalformedFeed when the root is something else."""
    if _local(root.tag) != "caps":
        raise MalformedFeed(f"expected <caps>, got <{_local(root.tag)}>")
    server = version = None
    limit_default = limit_max = None
    searching: dict[Search, SearchCaps] = {}
    categories: dict[int, str] = {}
    for child in root:
        name = _local(child.tag)
        if name == "server":
            server = child.get("title") or None
            version = child.get("version") or None
        elif name == "limits":
            limit_default, limit_max = _int(child.get("default")), _int(child.get("max"))
        elif name == "searching":
            for function in child:
                try:
                    which = Search(_local(function.tag))
                except ValueError:
                    continue  # music-search, book-search, …
                listed = function.get("supportedParams")
                params = (
                    frozenset(p.strip().lower() for p in listed.split(",") if p.strip())
                    if listed is not None
                    else _DEFAULT_PARAMS[which]
                )
                available = (function.get("available") or "").strip().lower() == "yes"
                searching[which] = SearchCaps(available=available, params=params)
        elif name == "categories":
            for category in child.iter():
                cat_id = _int(category.get("id"))
                if _local(category.tag) in ("category", "subcat") and cat_id is not None:
                    categories[cat_id] = category.get("name") or ""
    return TorznabCaps(
        server=server,
        version=version,
        limit_default=limit_default,
        limit_max=limit_max,
        searching=searching,
        categories=categories,
    )


class SkippedItem(ValueError):
    """An item we cannot use; the message is the reason (never a link: links may embed the API key)."""

    title: str = ""


def hash_from_magnet(uri: str) -> str | None:
    """The lower-case hex info hash in a magnet's `xt=urn:btih:`; None when `uri` is not a magnet.

    Raises SkippedItem when it is a magnet whose btih is neither 40 hex nor 32 base32 characters.
    """
    if not uri.strip().lower().startswith("magnet:"):
        return None
    match = _BTIH.search(uri)
    if match is None:
        raise SkippedItem("magnet without a btih")
    value = match.group(1)
    if _HEX_HASH.match(value):
        return value.lower()
    if _BASE32_HASH.match(value):
        try:
            return base64.b32decode(value.upper()).hex()
        except binascii.Error:
            pass
    raise SkippedItem("malformed btih in magnet")


@dataclass
class _Item:
    title: str = ""
    link: str | None = None
    enclosure_url: str | None = None
    size: str | None = None
    provider: str | None = None
    attrs: dict[str, list[str]] = field(default_factory=dict)

    def attr(self, name: str) -> str | None:
        values = self.attrs.get(name)
        return values[0] if values else None


def _read_item(element: Element) -> _Item:
    item = _Item()
    for child in element:
        name = _local(child.tag).lower()
        text = (child.text or "").strip()
        if name == "title":
            item.title = text
        elif name == "link":
            item.link = text or None
        elif name == "enclosure":
            item.enclosure_url = child.get("url")
        elif name == "size":
            item.size = text
        elif name in ("jackettindexer", "prowlarrindexer"):
            item.provider = text or child.get("id") or None
        elif name == "attr":
            attr_name, value = child.get("name"), child.get("value")
            if attr_name and value is not None:
                item.attrs.setdefault(attr_name.strip().lower(), []).append(value.strip())
    return item


def _info_hash(item: _Item) -> str:
    """§7 steps 1 and 2. Step 3 (fetching the link) is left out on purpose: see the module docstring."""
    declared = item.attr("infohash")
    if declared:
        if not _HEX_HASH.match(declared):
            raise SkippedItem("malformed infohash attribute")
        return declared.lower()
    for candidate in (item.attr("magneturl"), item.link, item.enclosure_url):
        if candidate and (found := hash_from_magnet(candidate)) is not None:
            return found
    raise SkippedItem("no infohash and no magnet (links are not fetched)")


def _in_range(item: _Item, wanted: tuple[int, int] | None) -> bool:
    """False only when the item's standard category ids (below 100000) all fall outside `wanted`."""
    if wanted is None:
        return True
    ids = [int(v) for v in item.attrs.get("category", []) if v.isdigit()]
    standard = [cat for cat in ids if cat < 100000]
    return not standard or any(wanted[0] <= cat <= wanted[1] for cat in standard)


def parse_item(element: Element, *, source: str, categories: tuple[int, int] | None = None) -> Stream:
    """One `<item>` → Stream; raises SkippedItem with the reason when it cannot be used."""
    item = _read_item(element)
    try:
        if not item.title:
            raise SkippedItem("no title")
        info_hash = _info_hash(item)
        if not _in_range(item, categories):
            raise SkippedItem("outside the asked categories")
    except SkippedItem as exc:
        exc.title = item.title
        raise
    size = _int(item.attr("size"))
    languages = tuple(
        part.strip() for value in item.attrs.get("language", []) for part in value.split(",") if part.strip()
    )
    return Stream(
        release_name=item.title,
        info_hash=info_hash,
        size_bytes=size if size is not None else _int(item.size),
        seeders=_int(item.attr("seeders")),
        provider=item.provider or item.attr("site") or None,
        languages=languages,
        source=source,
    )


def parse_feed(root: Element, *, source: str, categories: tuple[int, int] | None = None) -> Feed:
    """An `<rss>` result page → its usable Streams (first of each hash kept) and the skipped items by reason.

    `categories` (low, high) drops items whose standard category ids all lie outside it (a generic `t=search`
    answers music and books too). The RSS version is not checked: Prowlarr writes 1.0, the others 2.0.
    """
    if _local(root.tag) != "rss":
        raise MalformedFeed(f"expected <rss>, got <{_local(root.tag)}>")
    channel = next((child for child in root if _local(child.tag) == "channel"), None)
    if channel is None:
        raise MalformedFeed("<rss> without <channel>")
    feed = Feed()
    seen: set[str] = set()
    for element in channel:
        if _local(element.tag) != "item":
            continue
        feed.items += 1
        try:
            stream = parse_item(element, source=source, categories=categories)
        except SkippedItem as exc:
            feed.skips.append((exc.title, str(exc)))
            continue
        if stream.info_hash in seen:
            continue
        seen.add(stream.info_hash)
        feed.streams.append(stream)
    return feed


__all__ = [
    "Feed",
    "FeedError",
    "MalformedFeed",
    "Search",
    "SearchCaps",
    "SkippedItem",
    "TorznabCaps",
    "TorznabErrorCode",
    "find_error",
    "hash_from_magnet",
    "parse_caps",
    "parse_feed",
    "parse_item",
    "read_document",
]
