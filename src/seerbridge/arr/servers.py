"""The four Radarr/Sonarr servers seerbridge poses as, and the fixed facts each reports about itself."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from seerbridge.config import Settings
from seerbridge.library.naming import section
from seerbridge.library.sync import jellyfin_path, library_on

App = Literal["radarr", "sonarr"]

RADARR_VERSION = "6.0.3.10276"
SONARR_VERSION = "4.0.19.2979"
"""Versions reported by `/system/status`. Sonarr's major must be 4 or more: Seerr then skips `/languageprofile`."""
UNSET_ROOT = "/seerbridge"
"""The root folders' parent when no library is written (library.root unset): Seerr needs a root folder to save."""


@dataclass(frozen=True)
class Server:
    app: App
    is4k: bool
    base: str  # the base URL entered in Seerr, e.g. "/radarr-4k"

    @property
    def kind(self) -> Literal["movie", "show"]:
        return "movie" if self.app == "radarr" else "show"

    @property
    def label(self) -> str:
        return ("Radarr" if self.app == "radarr" else "Sonarr") + (" 4K" if self.is4k else "")

    @property
    def version(self) -> str:
        return RADARR_VERSION if self.app == "radarr" else SONARR_VERSION


SERVERS = (
    Server("radarr", False, "/radarr"),
    Server("radarr", True, "/radarr-4k"),
    Server("sonarr", False, "/sonarr"),
    Server("sonarr", True, "/sonarr-4k"),
)


def server_at(base: str) -> Server | None:
    """The server whose base URL this is (case-insensitively, as Radarr routes)."""
    wanted = base.lower().rstrip("/")
    return next((s for s in SERVERS if s.base == wanted), None)


def root_folder(settings: Settings, server: Server) -> str:
    """Where the server's titles go: the library section Jellyfin sees (`/media/seerbridge/movies-4k`)."""
    rel = section(server.kind, server.is4k)
    if library_on(settings):
        return jellyfin_path(settings, rel)
    return f"{UNSET_ROOT}/{rel}"


def free_space(settings: Settings) -> int | None:
    """Free bytes where the library is written (the entries are tiny; this is what Radarr shows), None if unknown."""
    root = settings.library.root
    if not root or not Path(root).is_dir():
        return None
    try:
        return shutil.disk_usage(root).free
    except OSError:
        return None
