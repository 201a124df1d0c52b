"""The demo in symlink mode: its library links into a folder standing in for a zurg mount, and a repaired torrent's
entry keeps its path while its link moves to the new copy (the default, strm, is run by test_cli's demo test)."""

from __future__ import annotations

from rich.text import Text

from seerbridge.commands.demo import run_demo
from seerbridge.sandbox.scenario import load_scenario

OLD = "Night.of.the.Living.Dead.1968.1080p.BluRay.x264-EXAMPLE"
NEW = "Night.of.the.Living.Dead.1968.720p.BluRay.x264-EXAMPLE"


def _plain(lines: list[str]) -> list[str]:
    """The lines as printed (rich markup and escapes taken out)."""
    return [Text.from_markup(line).plain for line in lines]


async def test_the_demo_in_symlink_mode_repairs_behind_the_same_link() -> None:
    result = await run_demo(load_scenario("demo"), live=False, library_mode="symlink")
    library = _plain(result.library)
    assert library[0] == "The library seerbridge wrote (symlink mode) in a temporary library.root:"
    assert "    Haunt (2019) [tmdbid-572802]/" in library
    assert "      Haunt (2019).mkv" in library
    assert "        Severance S02E01.mkv" in library
    assert not any(".strm" in line for line in library)
    assert "    Seerr: available; requests 101, 108 available" in library
    repair = " ".join(" ".join(_plain(result.repair)).split())
    before, _, after = repair.partition("behind the same path")
    assert after, repair
    assert f"links <mount>/__all__/ {OLD}" in before, repair
    assert f"torrent {OLD}" in before, repair
    assert f"links <mount>/__all__/ {NEW}" in after, repair
    assert f"torrent {NEW}" in after, repair
    assert "Jellyfin lists it at the same path" in after, repair
    assert "requests 101, 108 available" in after, repair
    assert not result.duplicate_hashes
