"""Finding where a Real-Debrid torrent's file shows up in the user's mount (zurg served over WebDAV, mounted by rclone).

zurg lists every torrent under `__all__/<torrent name>/` and again under each folder of its `directories:` setting
(`movies/`, `shows/`, `anime/`, … any name); some setups mount `__all__` itself. By default zurg flattens a torrent
into its folder (files by base name) and names the folder after RD's `original_filename` with a trailing `.mp4`,
then `.mkv`, cut off; with `expose_full_path` or other settings the file keeps its path, and the folder RD's
`filename`. Every spelling is tried, cheapest first. On a real mount each listing is a network call, so no walk:
one stat per candidate folder, the files only inside folders that exist, and the top level listed once at most.
"""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath

ALL = "__all__"
# zurg's own folder names: the per-kind ones and `__all__` come from the config; `int__*` is hidden from listings.
_INTERNAL_PREFIX = "int__"
_ZURG_TRIMS = (".mp4", ".mkv")  # trimmed in this order, case-sensitive, as zurg does
# Without `__all__` the mount may be `__all__` itself, whose top level is every torrent: looking inside each would be
# thousands of network calls. A top level this small is a set of per-kind folders instead.
_MAX_KIND_FOLDERS = 16


def _component(name: str) -> bool:
    """A name usable as one path component (anything else cannot be a zurg folder, and must not climb out)."""
    return bool(name) and name not in (".", "..") and "/" not in name and "\x00" not in name


def _folder_names(torrent_name: str, original_name: str | None) -> list[str]:
    names: list[str] = []
    for name in (original_name, torrent_name):
        if not name:
            continue
        trimmed = name
        for suffix in _ZURG_TRIMS:
            trimmed = trimmed.removesuffix(suffix)
        for candidate in (name, trimmed):
            if _component(candidate) and candidate not in names:
                names.append(candidate)
    return names


def _file_paths(file_path: str) -> list[PurePosixPath]:
    parts = [p for p in file_path.replace("\\", "/").split("/") if p]
    if not parts or not all(_component(p) for p in parts):
        return []
    full = PurePosixPath(*parts)
    return [full] if len(parts) == 1 else [full, PurePosixPath(parts[-1])]


def _is_dir(path: Path) -> bool:
    try:
        return path.is_dir()
    except OSError:  # a stale FUSE mount answers ENOTCONN, which pathlib lets through
        return False


def _is_file(path: Path) -> bool:
    try:
        return path.is_file()
    except OSError:
        return False


def _top_folders(mount: Path) -> list[Path]:
    """The mount's top-level folders other than `__all__` (one listing), sorted for a stable order; none when the
    mount has no `__all__` and too many folders to be per-kind ones."""
    try:
        with os.scandir(mount) as listing:
            names = sorted(
                e.name
                for e in listing
                if e.name != ALL and not e.name.startswith(_INTERNAL_PREFIX) and e.is_dir(follow_symlinks=True)
            )
    except OSError:
        return []
    if len(names) > _MAX_KIND_FOLDERS and not _is_dir(mount / ALL):
        return []
    return [mount / name for name in names]


def find_in_mount(mount: Path, torrent_name: str, file_path: str, *, original_name: str | None = None) -> Path | None:
    """Where the torrent's file (`file_path` as RD lists it, `/`-rooted) appears under `mount`, or None.

    Tried in order, for the file's full path and then its base name: `__all__/<name>/…`, `<name>/…` (the mount is
    `__all__`), `<folder>/<name>/…` for every other top-level folder. `<name>` is each of `original_name` (RD's
    `original_filename`, zurg's default) and `torrent_name`, as given and without a trailing `.mp4`/`.mkv`.
    Other top-level folders are looked into only when `__all__` is there too or there are few of them.
    Never raises for a missing, stale or unreadable mount.
    """
    names = _folder_names(torrent_name, original_name)
    paths = _file_paths(file_path)
    if not names or not paths:
        return None
    folders: dict[Path, bool] = {}  # each torrent folder's existence, asked once

    def exists(folder: Path) -> bool:
        if folder not in folders:
            folders[folder] = _is_dir(folder)
        return folders[folder]

    def search(containers: list[Path], rel: PurePosixPath) -> Path | None:
        for container in containers:
            for name in names:
                folder = container / name
                if exists(folder) and _is_file(folder / rel):
                    return folder / rel
        return None

    first = [mount / ALL, mount]
    others: list[Path] | None = None
    for rel in paths:
        found = search(first, rel)
        if found is not None:
            return found
        if others is None:  # listed only when the usual places fail, and then only once
            others = _top_folders(mount)
        found = search(others, rel)
        if found is not None:
            return found
    return None


def check_mount(mount: Path) -> str | None:
    """None when the mount exists and lists something; else one line saying what is wrong."""
    try:
        if not mount.exists():
            return f"library.mount_path {mount} does not exist: is rclone running?"
        if not mount.is_dir():
            return f"library.mount_path {mount} is not a folder"
        with os.scandir(mount) as listing:
            empty = next(iter(listing), None) is None
    except OSError as exc:
        return f"library.mount_path {mount} cannot be listed ({exc.strerror or exc}): is rclone running?"
    if empty:
        # An rclone mount that is down leaves its mount point behind as an empty folder.
        return f"library.mount_path {mount} is empty: is rclone mounted there?"
    return None


__all__ = ["ALL", "check_mount", "find_in_mount"]
