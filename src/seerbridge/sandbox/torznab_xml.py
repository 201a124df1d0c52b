"""The XML a Jackett-like Torznab indexer answers: caps, result feeds and `<error>` elements (torznab.md §2, §3, §5)."""

from __future__ import annotations

import hashlib
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime
from urllib.parse import quote

TORZNAB_NS = "http://torznab.com/schemas/2015/feed"
ATOM_NS = "http://www.w3.org/2005/Atom"
ET.register_namespace("torznab", TORZNAB_NS)
ET.register_namespace("atom", ATOM_NS)

CATEGORY_NAMES = {
    2000: "Movies",
    2040: "Movies/HD",
    2045: "Movies/UHD",
    5000: "TV",
    5040: "TV/HD",
    5045: "TV/UHD",
}


@dataclass(frozen=True)
class FeedItem:
    """One release as the indexer lists it; `listing` is the scenario's `ReleaseSpec.torznab`."""

    title: str
    info_hash: str
    listing: str  # "infohash" (hash and magnet attributes, a proxy link) or "magnet" (a magnet link only)
    size: int
    seeders: int | None
    leechers: int
    category: int  # the subcategory, e.g. 2040
    imdb_id: str | None
    published: datetime
    indexer: str
    trackers: tuple[str, ...]


def _document(root: ET.Element) -> bytes:
    body: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return body


def error_xml(code: int, description: str) -> bytes:
    return _document(ET.Element("error", code=str(code), description=description))


def caps_xml(
    *, search: str, tv_search: str, movie_search: str, limit_default: int, limit_max: int, title: str = "Jackett"
) -> bytes:
    """Caps with the given `supportedParams` (an empty string turns the function off)."""
    caps = ET.Element("caps")
    ET.SubElement(caps, "server", title=title)
    ET.SubElement(caps, "limits", default=str(limit_default), max=str(limit_max))
    searching = ET.SubElement(caps, "searching")
    for name, params in (("search", search), ("tv-search", tv_search), ("movie-search", movie_search)):
        ET.SubElement(searching, name, available="yes" if params else "no", supportedParams=params or "q")
    for name in ("music-search", "audio-search", "book-search"):
        ET.SubElement(searching, name, available="no", supportedParams="q")
    categories = ET.SubElement(caps, "categories")
    for parent in (2000, 5000):
        category = ET.SubElement(categories, "category", id=str(parent), name=CATEGORY_NAMES[parent])
        for sub in (parent + 40, parent + 45):
            ET.SubElement(category, "subcat", id=str(sub), name=CATEGORY_NAMES[sub])
    return _document(caps)


def magnet(info_hash: str, title: str, trackers: tuple[str, ...]) -> str:
    # Upper-case hex, as many sites write it: the client must lower-case it.
    parts = [f"xt=urn:btih:{info_hash.upper()}", f"dn={quote(title)}", *(f"tr={quote(t, safe='')}" for t in trackers)]
    return "magnet:?" + "&".join(parts)


def _proxy_link(host: str, item: FeedItem, api_key: str) -> str:
    """Jackett's download proxy for a .torrent: it embeds the API key (§6.2), as the real one does."""
    path = hashlib.sha1(f"{item.indexer}:{item.info_hash}".encode()).hexdigest()
    return f"{host}/dl/{quote(item.indexer)}/?jackett_apikey={api_key}&path={path}&file={quote(item.title)}"


def _attr(item: ET.Element, name: str, value: object) -> None:
    ET.SubElement(item, f"{{{TORZNAB_NS}}}attr", name=name, value=str(value))


def _item(parent: ET.Element, item: FeedItem, host: str, api_key: str) -> None:
    element = ET.SubElement(parent, "item")
    ET.SubElement(element, "title").text = item.title
    details = f"{host}/details/{quote(item.indexer)}/{item.info_hash}"
    ET.SubElement(element, "guid").text = details
    ET.SubElement(element, "jackettindexer", id=item.indexer.lower()).text = item.indexer
    ET.SubElement(element, "type").text = "public"
    ET.SubElement(element, "comments").text = details
    ET.SubElement(element, "pubDate").text = format_datetime(item.published)
    ET.SubElement(element, "size").text = str(item.size)  # Jackett: the element only, no `size` attribute
    parent_category = item.category // 1000 * 1000
    for category in (parent_category, item.category):
        ET.SubElement(element, "category").text = str(category)
    link_to = magnet(item.info_hash, item.title, item.trackers)
    if item.listing == "magnet":
        link, kind = link_to, "application/x-bittorrent;x-scheme-handler/magnet"
    else:
        link, kind = _proxy_link(host, item, api_key), "application/x-bittorrent"
    ET.SubElement(element, "link").text = link
    ET.SubElement(element, "enclosure", url=link, length=str(item.size), type=kind)
    for category in (parent_category, item.category):
        _attr(element, "category", category)
    if item.imdb_id:
        digits = item.imdb_id.removeprefix("tt")
        _attr(element, "imdb", digits.zfill(7))
        _attr(element, "imdbid", "tt" + digits.zfill(7))
    if item.seeders is not None:
        _attr(element, "seeders", item.seeders)
        _attr(element, "peers", item.seeders + item.leechers)
    if item.listing == "infohash":
        _attr(element, "infohash", item.info_hash)
        _attr(element, "magneturl", link_to.replace(item.info_hash.upper(), item.info_hash))
    _attr(element, "downloadvolumefactor", 0)
    _attr(element, "uploadvolumefactor", 1)


def feed_xml(items: list[FeedItem], *, host: str, api_key: str, title: str = "AggregateSearch") -> bytes:
    """An RSS 2.0 result page as Jackett writes it."""
    rss = ET.Element("rss", version="2.0")
    channel = ET.SubElement(rss, "channel")
    ET.SubElement(channel, f"{{{ATOM_NS}}}link", href=f"{host}/api", rel="self", type="application/rss+xml")
    ET.SubElement(channel, "title").text = title
    ET.SubElement(channel, "description").text = "Sandbox Torznab indexer"
    ET.SubElement(channel, "link").text = host
    ET.SubElement(channel, "language").text = "en-US"
    ET.SubElement(channel, "category").text = "search"
    for item in items:
        _item(channel, item, host, api_key)
    return _document(rss)


__all__ = ["CATEGORY_NAMES", "TORZNAB_NS", "FeedItem", "caps_xml", "error_xml", "feed_xml", "magnet"]
