"""The demo's library story for people: the tree seerbridge wrote, what Jellyfin and Seerr made of it, and a repair.

Plain lines (rich markup escaped where a name could hold brackets), short enough for an 80-column terminal in the
shipped scenarios: a long season is shown by its first and last entries and a count.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.markup import escape

SHOWN_WHOLE = 3  # a folder with at most this many files lists them all; a longer one its first, a count, its last


def tree_lines(paths: Sequence[str], *, indent: str = "  ") -> list[str]:
    """The library as a tree, from its files' paths relative to the root (`movies/X (2019) [tmdbid-1]/X (2019).strm`):
    one line per folder (ending in /) and per file, nested by two spaces; a folder holding more than SHOWN_WHOLE files
    shows its first and last file and how many lie between."""
    tree: dict[str, object] = {}
    for path in sorted(paths):
        node = tree
        *folders, name = path.split("/")
        for folder in folders:
            child = node.setdefault(folder + "/", {})
            assert isinstance(child, dict)
            node = child
        node[name] = None
    lines: list[str] = []
    _walk(tree, indent, lines)
    return lines


def _walk(node: dict[str, object], prefix: str, lines: list[str]) -> None:
    files = [name for name, child in node.items() if child is None]
    if len(files) > SHOWN_WHOLE:
        files = [files[0], f"… {len(files) - 2} more", files[-1]]
    lines.extend(prefix + escape(name) for name in files)
    for name, child in node.items():
        if isinstance(child, dict):
            lines.append(prefix + escape(name))
            _walk(child, prefix + "  ", lines)


@dataclass(frozen=True)
class MatchedTitle:
    """One title folder seerbridge wrote, as Jellyfin lists it and as Seerr shows it."""

    folder: str  # the title folder, relative to the library root (`movies/Haunt (2019) [tmdbid-572802]`)
    kind: str  # "movie" or "show"
    name: str | None  # Jellyfin's name for the item (None: Jellyfin does not list it)
    year: int | None
    tmdb_id: int | None  # the TMDB id Jellyfin matched
    jellyfin_folder: str | None  # where Jellyfin's item lies, relative to the library root
    episodes: int = 0  # for a show: the episode files Jellyfin lists in that folder
    seerr: str = "-"  # Seerr's status for it ("available", "season 2 available", ...)
    requests: tuple[tuple[int, str], ...] = ()  # the requests for the title and their states


def matched_lines(titles: Sequence[MatchedTitle]) -> list[str]:
    """Per title folder: the folder Jellyfin's item lies in, the item (kind, name, year, TMDB id, episode count), then
    Seerr's status and the requests' states."""
    lines: list[str] = []
    for t in titles:
        lines.append(f"  {escape(t.jellyfin_folder or t.folder)}")
        if t.name is None:
            lines.append("    Jellyfin: [yellow]not listed yet[/yellow]")
        else:
            year = f" ({t.year})" if t.year else ""
            count = f", {t.episodes} episode{'s' if t.episodes != 1 else ''}" if t.kind == "show" else ""
            where = "" if t.jellyfin_folder == t.folder else f" [yellow]in {escape(t.jellyfin_folder or '?')}[/yellow]"
            lines.append(f'    Jellyfin: {t.kind} "{escape(t.name)}"{year}, TMDB {t.tmdb_id}{count}{where}')
        lines.append(f"    Seerr: {_styled(t.seerr)}; {requests_phrase(t.requests)}")
    return lines


def requests_phrase(requests: Sequence[tuple[int, str]]) -> str:
    """ "request 102 available", "requests 101, 108 available", "request 103 fulfilled, request 104 available"."""
    requests = sorted(requests)
    if not requests:
        return "no request"
    states = {state for _, state in requests}
    if len(states) == 1:
        ids = ", ".join(str(n) for n, _ in requests)
        return f"request{'s' if len(requests) > 1 else ''} {ids} {_styled(states.pop())}"
    return ", ".join(f"request {n} {_styled(state)}" for n, state in requests)


def _styled(state: str) -> str:
    return f"[green]{state}[/green]" if state.endswith("available") else f"[yellow]{escape(state)}[/yellow]"


@dataclass(frozen=True)
class RepairView:
    """A torrent that vanished from Real-Debrid and its repair, as the demo shows it."""

    mode: str  # the library mode: "strm" or "symlink"
    entry: str  # the entry's path on disk, relative to the library root
    entry_after: str | None  # the same after the repair (None: the entry is gone)
    torrent_before: str  # the release the entry's file came from
    torrent_after: str | None  # ... after the repair (None: no other copy kept yet)
    written_before: str  # what the entry holds on disk: a .strm's address, a symlink's target
    written_after: str | None
    plays_before: str | None  # strm: the file a play of the address is sent to
    plays_after: str | None
    why: str  # the repair's reason, as recorded
    requests: tuple[int, ...]  # the requests the round sent back to work
    requests_after: tuple[tuple[int, str], ...] = ()  # their states once worked and announced
    seerr_after: str = "-"
    jellyfin_path_same: bool = False  # Jellyfin still lists the title at the entry's path


def repair_lines(view: RepairView) -> list[str]:
    """The repair told in order: the entry as it was (what it holds, its torrent, what a play gets), the round and
    what it did, the entry after, then Jellyfin, Seerr and the requests."""
    folder, _, name = view.entry.rpartition("/")
    lines = [
        "Then Real-Debrid drops a torrent on its own (as after a retroactive 451):",
        f"  {escape(folder)}/",
        f"    {escape(name)}",
        *_entry(view.mode, view.written_before, view.torrent_before, view.plays_before),
    ]
    ids = ", ".join(str(n) for n in sorted(view.requests)) or "none"
    lines.append(f"  a repair round: {escape(view.why)} → hash marked bad,")
    lines.append(
        f"  request{'s' if len(view.requests) != 1 else ''} {ids} worked again → ",
    )
    if view.entry_after is None or view.written_after is None:
        lines[-1] += f"[yellow]the entry is gone: {escape(view.entry)}[/yellow]"
        return lines
    if view.torrent_after is None:
        lines[-1] += "[yellow]no other copy kept yet[/yellow]; the entry waits at its path"
        lines.append(f"  {requests_phrase(view.requests_after)}")
        return lines
    if view.entry_after == view.entry:
        lines[-1] += "the next copy kept, [green]behind the same path[/green]:"
    else:
        lines[-1] += f"the next copy kept, [yellow]at another path: {escape(view.entry_after)}[/yellow]:"
    lines.append(f"    {escape(view.entry_after.rpartition('/')[2])}")
    same = view.mode == "strm" and view.written_after == view.written_before
    lines += _entry(view.mode, view.written_after, view.torrent_after, view.plays_after, same=same)
    jellyfin = "at the same path" if view.jellyfin_path_same else "[yellow]elsewhere[/yellow]"
    lines.append(f"  Jellyfin lists it {jellyfin}; Seerr: {_styled(view.seerr_after)};")
    lines.append(f"  {requests_phrase(view.requests_after)}")
    return lines


def _entry(mode: str, written: str, torrent: str | None, plays: str | None, *, same: bool = False) -> list[str]:
    """An entry's lines: what it holds (a .strm's address) or where it links (a symlink), its torrent, and for a
    .strm the file a play of its address is sent to."""
    lines = []
    if mode == "strm":
        lines.append("      holds   " + ("[green]the same address[/green]" if same else escape(written)))
    else:
        first, *rest = _path_lines(written)
        lines.append(f"      links   {escape(first)}")
        lines += [f"              {escape(part)}" for part in rest]
    lines.append(f"      torrent {escape(torrent or '?')}")
    if mode == "strm":
        lines.append(f"      plays   {escape(plays or '?')}")
    return lines


def _path_lines(path: str, width: int = 64) -> list[str]:
    """A long path in lines of about `width` characters, each but the last ending at a /."""
    lines: list[str] = []
    line = ""
    for part in path.split("/"):
        piece = part if not line else "/" + part
        if line and len(line) + len(piece) > width:
            lines.append(line + "/")
            line = part
        else:
            line += piece
    return [*lines, line]
