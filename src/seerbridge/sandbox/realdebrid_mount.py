"""A real directory standing in for a zurg mount of the emulated Real-Debrid account.

zurg (with rclone) shows each torrent whose status is `downloaded` as a folder named after the torrent, holding the
torrent's selected files, under `__all__/` and again under a per-kind folder (`movies/` or `shows/`). Here:

    <root>/__all__/<torrent name>/<file path in the torrent, without its leading slash>
    <root>/movies|shows/<torrent name>/<same path>

That is the layout with zurg's full paths kept; `zurg_default_names = True` gives zurg's defaults instead: files
flattened to their base names, and the folder named after the torrent with a trailing `.mp4`, then `.mkv`, cut off.
Each file is a small real file (a line naming the torrent and file), not the torrent's size: what matters to a
library is that the path exists, and to Jellyfin which file a symlink points at. The kind is the scenario media's
(by the release's hash); a torrent the scenario does not know goes to `shows/` when a selected file names an episode
(`SxxEyy`), else `movies/`, as zurg's default `has_episodes` filter sorts them. A torrent that is no longer
downloaded (deleted, vanished, dead, error) leaves the mount, and empty folders go with it.

`sync()` brings the directory to the account as it is at the virtual clock's now. It remembers what it wrote and
touches the disk only for differences, so calling it often is cheap; files changed behind its back are not repaired.
"""

from __future__ import annotations

import re
import threading
from pathlib import Path
from typing import Literal

from seerbridge.sandbox.realdebrid_state import RealDebridState
from seerbridge.sandbox.realdebrid_torrent import EmulatedTorrent

ALL = "__all__"
Kind = Literal["movies", "shows"]
_EPISODE = re.compile(r"S\d{1,2}E\d{1,3}", re.IGNORECASE)


class MountDir:
    """The mount's directory for one Real-Debrid account (`RealDebridState`)."""

    def __init__(self, state: RealDebridState, root: Path) -> None:
        self.state = state
        self.root = Path(root)
        self.zurg_default_names = False  # knob: zurg's default names (see the module docstring); takes effect at sync
        self._shown: dict[str, bytes] = {}  # path relative to root → content written
        # Served emulators answer on their own thread while a test calls helpers: one sync at a time.
        self._lock = threading.Lock()
        for top in (ALL, "movies", "shows"):
            (self.root / top).mkdir(parents=True, exist_ok=True)

    def kind_of(self, torrent: EmulatedTorrent) -> Kind:
        release = self.state.scenario.release_by_hash(torrent.hash)
        media = self.state.scenario.media_by_imdb(release.imdb_id) if release else None
        if media is not None:
            return "movies" if media.type == "movie" else "shows"
        chosen = [torrent.files[i - 1].path for i in torrent.selected]
        return "shows" if any(_EPISODE.search(path) for path in chosen) else "movies"

    def path_of(self, torrent: EmulatedTorrent, file_id: int, *, top: str = ALL) -> Path:
        """Where file `file_id` (1-based, as in `/torrents/info`) of the torrent shows up on the mount."""
        return self.root / self._relative(top, torrent, file_id)

    def sync(self) -> None:
        with self._lock:
            self._sync()

    def _sync(self) -> None:
        wanted: dict[str, bytes] = {}
        for torrent in self.state.listing():
            if self.state.snapshot(torrent).status != "downloaded":
                continue
            kind = self.kind_of(torrent)
            for file_id in torrent.selected:
                content = f"sandbox file {file_id} of torrent {torrent.id} ({torrent.hash})\n".encode()
                for top in (ALL, kind):
                    wanted.setdefault(self._relative(top, torrent, file_id), content)
        for relative in sorted(set(self._shown) - set(wanted)):
            self._remove(relative)
        for relative, content in wanted.items():
            if relative not in self._shown:
                target = self.root / relative
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(content)
        self._shown = wanted

    def _relative(self, top: str, torrent: EmulatedTorrent, file_id: int) -> str:
        folder = torrent.name.replace("/", "_")  # a torrent's name is one path component on the mount
        inside = torrent.files[file_id - 1].path.lstrip("/")
        if self.zurg_default_names:
            for suffix in (".mp4", ".mkv"):  # zurg trims these, in this order, case-sensitive
                folder = folder.removesuffix(suffix)
            inside = inside.rsplit("/", 1)[-1]
        return f"{top}/{folder}/{inside}"

    def _remove(self, relative: str) -> None:
        path = self.root / relative
        path.unlink(missing_ok=True)
        top = self.root / relative.split("/", 1)[0]
        parent = path.parent
        while parent != top and parent != self.root:
            try:
                parent.rmdir()  # only when empty: another torrent of the same name may still show files here
            except OSError:
                break
            parent = parent.parent

    @property
    def shown(self) -> list[str]:
        """Paths on the mount, relative to its root, sorted."""
        return sorted(self._shown)
