"""The library's entries on disk: symlinks and `.strm` files under the four section folders, written crash-safe.

Every write goes to a `.seerbridge-tmp-*` entry in the same directory and is renamed over the final name, so a
reader (Jellyfin scanning) never sees a half-written file, nor a missing entry while an upgrade swaps it. Only what
seerbridge could have written is ever replaced, reported or removed: symlinks, and regular files ending in `.strm`.
Anything else under the root (a user's own video, a `.nfo`, artwork) is left alone.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from pathlib import Path

from seerbridge.library.naming import SECTIONS

TMP_PREFIX = ".seerbridge-tmp-"
STRM_SUFFIX = ".strm"
# A .strm holds one address; anything bigger is not ours, and reading it whole would be a waste.
_STRM_MAX_BYTES = 64 * 1024
_SECTIONS = frozenset(SECTIONS.values())


def _fsync_dir(path: Path) -> None:
    """Make a rename in `path` durable; best effort (some filesystems refuse fsync on a directory)."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _is_strm_name(name: str) -> bool:
    return name.endswith(STRM_SUFFIX) and not name.startswith(TMP_PREFIX)


def _read_strm(path: Path) -> str:
    with open(path, "rb") as handle:
        data = handle.read(_STRM_MAX_BYTES)
    return data.decode("utf-8", errors="replace").strip()


class LibraryDisk:
    """The entries under `root` (the library.root setting); paths given to it are relative, POSIX, `section/...`."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    # -- paths ---------------------------------------------------------------------------------------------------

    def _path(self, rel: str) -> Path:
        """The absolute path of `rel`; ValueError for anything that could land outside a section folder."""
        if not rel or "\x00" in rel or "\\" in rel or rel.startswith("/"):
            raise ValueError(f"not a relative library path: {rel!r}")
        parts = rel.split("/")
        # Checked on the raw parts, before any normalisation could hide a `..` or turn `a/./b` into `a/b`.
        if any(part in ("", ".", "..") for part in parts):
            raise ValueError(f"library path with an empty, `.` or `..` part: {rel!r}")
        if len(parts) < 2 or parts[0] not in _SECTIONS:
            raise ValueError(f"library path outside the sections ({', '.join(sorted(_SECTIONS))}): {rel!r}")
        if any(part.startswith(TMP_PREFIX) for part in parts):
            raise ValueError(f"library path in seerbridge's temporary namespace: {rel!r}")
        return self.root.joinpath(*parts)

    def _temp(self, directory: Path) -> Path:
        # Random, so two writers (or a leftover of a crash) never meet; short, so a long final name cannot push
        # the temporary one past the filesystem's name limit.
        return directory / f"{TMP_PREFIX}{secrets.token_hex(8)}"

    @staticmethod
    def _mode(path: Path) -> int | None:
        try:
            return path.lstat().st_mode
        except FileNotFoundError:
            return None

    def _ours_or_absent(self, path: Path, rel: str) -> int | None:
        """The entry's mode when it is one seerbridge may replace, None when absent; FileExistsError otherwise."""
        mode = self._mode(path)
        if mode is None or stat.S_ISLNK(mode) or (stat.S_ISREG(mode) and _is_strm_name(path.name)):
            return mode
        raise FileExistsError(f"{rel} exists and is not an entry seerbridge writes; left alone")

    # -- writing -------------------------------------------------------------------------------------------------

    def write_symlink(self, rel: str, target: str) -> bool:
        """Point `rel` at `target`; False when it already does. Replaces an old entry atomically."""
        if not target or "\x00" in target:
            raise ValueError("a symlink target is a non-empty path")
        path = self._path(rel)
        mode = self._ours_or_absent(path, rel)
        if mode is not None and stat.S_ISLNK(mode) and os.readlink(path) == target:
            return False
        path.parent.mkdir(parents=True, exist_ok=True)
        temp = self._temp(path.parent)
        os.symlink(target, temp)
        self._swap(temp, path)
        return True

    def write_strm(self, rel: str, url: str) -> bool:
        """Make `rel` (a `.strm` name) hold exactly `url`; False when it already does. Replaces atomically."""
        if not rel.endswith(STRM_SUFFIX):
            raise ValueError(f"a strm entry's name ends in {STRM_SUFFIX}: {rel!r}")
        if not url or url != url.strip() or any(ch in url for ch in "\r\n\x00"):
            raise ValueError("a strm address is one non-empty line without surrounding spaces")
        path = self._path(rel)
        mode = self._ours_or_absent(path, rel)
        if mode is not None and stat.S_ISREG(mode) and _read_strm(path) == url:
            return False
        path.parent.mkdir(parents=True, exist_ok=True)
        temp = self._temp(path.parent)
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o644)
        try:
            with os.fdopen(fd, "wb") as handle:
                # The address alone, no newline: the most literal reading any player can make of it.
                handle.write(url.encode())
                handle.flush()
                # On disk before the rename, or a crash could leave the final name holding an empty file.
                os.fsync(handle.fileno())
        except BaseException:
            with contextlib.suppress(OSError):
                temp.unlink()
            raise
        self._swap(temp, path)
        return True

    def _swap(self, temp: Path, path: Path) -> None:
        try:
            os.replace(temp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                temp.unlink()
            raise
        _fsync_dir(path.parent)

    # -- reading -------------------------------------------------------------------------------------------------

    def current(self, rel: str) -> str | None:
        """The symlink's target or the strm file's address; None when absent (or not an entry seerbridge writes)."""
        path = self._path(rel)
        mode = self._mode(path)
        if mode is None:
            return None
        if stat.S_ISLNK(mode):
            return os.readlink(path)
        if stat.S_ISREG(mode) and _is_strm_name(path.name):
            return _read_strm(path)
        return None

    def managed(self) -> dict[str, str]:
        """Every symlink and `.strm` file under the four sections (relative path → target or address)."""
        found: dict[str, str] = {}
        for name in sorted(_SECTIONS):
            self._collect(self.root / name, name, found)
        return found

    def _collect(self, directory: Path, rel: str, found: dict[str, str]) -> None:
        try:
            with os.scandir(directory) as listing:
                entries = sorted(listing, key=lambda e: e.name)
        except (FileNotFoundError, NotADirectoryError):
            return
        for entry in entries:
            if entry.name.startswith(TMP_PREFIX):
                continue
            child = f"{rel}/{entry.name}"
            try:
                if entry.is_symlink():
                    found[child] = os.readlink(entry.path)
                elif entry.is_dir(follow_symlinks=False):
                    self._collect(Path(entry.path), child, found)
                elif entry.is_file(follow_symlinks=False) and _is_strm_name(entry.name):
                    found[child] = _read_strm(Path(entry.path))
            except FileNotFoundError:  # removed while we looked: it is not there any more
                continue

    # -- removing ------------------------------------------------------------------------------------------------

    def remove(self, rel: str) -> bool:
        """Remove the entry (a symlink or `.strm` file only) and the folders it leaves empty, below its section.

        False when there was nothing of seerbridge's to remove."""
        path = self._path(rel)
        mode = self._mode(path)
        if mode is None or not (stat.S_ISLNK(mode) or (stat.S_ISREG(mode) and _is_strm_name(path.name))):
            return False
        try:
            path.unlink()
        except FileNotFoundError:
            return False
        _fsync_dir(path.parent)
        self._prune(path.parent)
        return True

    def _prune(self, directory: Path) -> None:
        """Remove `directory` and its parents while empty, stopping below the section folder."""
        stop = {self.root / name for name in _SECTIONS} | {self.root}
        while directory not in stop and self.root in directory.parents:
            try:
                directory.rmdir()
            except OSError:  # not empty (or not ours to remove): the pruning ends here
                return
            directory = directory.parent

    def sweep_temp(self) -> int:
        """Remove the `.seerbridge-tmp-*` entries a crash between write and rename left; how many were removed."""
        removed = 0
        for name in sorted(_SECTIONS):
            for dirpath, dirnames, filenames in os.walk(self.root / name):
                # os.walk lists a symlink to a directory among dirnames: look there too, and never descend into one.
                temps = [d for d in dirnames if d.startswith(TMP_PREFIX)]
                dirnames[:] = [d for d in dirnames if not d.startswith(TMP_PREFIX)]
                for entry in [*temps, *filenames]:
                    if not entry.startswith(TMP_PREFIX):
                        continue
                    path = Path(dirpath) / entry
                    if path.is_dir() and not path.is_symlink():
                        continue
                    try:
                        path.unlink()
                    except FileNotFoundError:
                        continue
                    removed += 1
                    self._prune(Path(dirpath))
        return removed

    # -- health --------------------------------------------------------------------------------------------------

    def check_writable(self, *, symlinks: bool = False) -> str | None:
        """None when the root exists (or could be made) and takes new entries (symlinks too, when asked); else
        one line saying what is wrong."""
        root = self.root
        try:
            root.mkdir(parents=True, exist_ok=True)
        except FileExistsError:
            return f"library.root {root} exists but is not a folder"
        except OSError as exc:
            return f"library.root {root} cannot be created: {exc.strerror or exc}"
        if not root.is_dir():
            return f"library.root {root} exists but is not a folder"
        probe = self._temp(root)
        try:
            fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            os.close(fd)
            probe.unlink()
        except OSError as exc:
            return f"library.root {root} is not writable: {exc.strerror or exc}"
        if symlinks:
            try:
                os.symlink("seerbridge-check", probe)
                probe.unlink()
            except OSError as exc:
                return f"library.root {root} does not take symlinks ({exc.strerror or exc}): use library.mode strm"
        return None


__all__ = ["STRM_SUFFIX", "TMP_PREFIX", "LibraryDisk"]
