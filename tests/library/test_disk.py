"""LibraryDisk: entries written once and swapped atomically, leftovers of a crash swept, the user's files never
touched, nothing outside the root."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from seerbridge.library.disk import TMP_PREFIX, LibraryDisk

MOVIE = "movies/Haunt (2019) [tmdbid-572802]/Haunt (2019).mkv"
EPISODE = "shows/Breaking Bad (2008) [tmdbid-1396]/Season 01/Breaking Bad S01E01.strm"
URL = "http://seerbridge:8787/play/12.abc"


def temps(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.name.startswith(TMP_PREFIX)]


def test_a_symlink_is_written_once(tmp_path: Path) -> None:
    disk = LibraryDisk(tmp_path)
    assert disk.write_symlink(MOVIE, "/mnt/rd/__all__/Haunt/Haunt.mkv") is True
    assert os.readlink(tmp_path / MOVIE) == "/mnt/rd/__all__/Haunt/Haunt.mkv"
    inode = (tmp_path / MOVIE).lstat().st_ino
    assert disk.write_symlink(MOVIE, "/mnt/rd/__all__/Haunt/Haunt.mkv") is False
    assert (tmp_path / MOVIE).lstat().st_ino == inode  # untouched, not rewritten
    assert disk.current(MOVIE) == "/mnt/rd/__all__/Haunt/Haunt.mkv"
    assert temps(tmp_path) == []


def test_a_strm_is_written_once_and_fsynced_whole(tmp_path: Path) -> None:
    disk = LibraryDisk(tmp_path)
    assert disk.write_strm(EPISODE, URL) is True
    assert (tmp_path / EPISODE).read_text() == URL
    assert disk.write_strm(EPISODE, URL) is False
    assert disk.current(EPISODE) == URL
    assert temps(tmp_path) == []


def test_an_upgrade_swaps_the_target_in_place(tmp_path: Path) -> None:
    disk = LibraryDisk(tmp_path)
    disk.write_symlink(MOVIE, "/mnt/rd/__all__/Haunt.1080p/Haunt.mkv")
    assert disk.write_symlink(MOVIE, "/mnt/rd/__all__/Haunt.2160p/Haunt.mkv") is True
    assert disk.current(MOVIE) == "/mnt/rd/__all__/Haunt.2160p/Haunt.mkv"
    assert sorted(p.name for p in (tmp_path / MOVIE).parent.iterdir()) == ["Haunt (2019).mkv"]

    disk.write_strm(EPISODE, URL)
    assert disk.write_strm(EPISODE, URL + "x") is True
    assert (tmp_path / EPISODE).read_text() == URL + "x"
    assert temps(tmp_path) == []


def test_a_symlink_may_replace_a_strm_and_back(tmp_path: Path) -> None:
    disk = LibraryDisk(tmp_path)
    disk.write_strm(EPISODE, URL)
    assert disk.write_symlink(EPISODE, "/mnt/rd/x.mkv") is True
    assert (tmp_path / EPISODE).is_symlink()
    assert disk.write_strm(EPISODE, URL) is True
    assert not (tmp_path / EPISODE).is_symlink() and disk.current(EPISODE) == URL


def test_a_crash_before_the_rename_leaves_the_entry_intact_and_the_temp_swept(tmp_path: Path) -> None:
    disk = LibraryDisk(tmp_path)
    disk.write_symlink(MOVIE, "/mnt/rd/old.mkv")
    disk.write_strm(EPISODE, URL)
    # What a crash between writing the temporary entry and renaming it leaves behind.
    movie_dir = (tmp_path / MOVIE).parent
    os.symlink("/mnt/rd/new.mkv", movie_dir / f"{TMP_PREFIX}0123456789abcdef")
    (tmp_path / EPISODE).parent.joinpath(f"{TMP_PREFIX}fedcba9876543210").write_text(URL[:5])
    # A crash on a first write leaves a folder holding only the temporary entry.
    lonely = tmp_path / "movies" / "Lonely (2020) [tmdbid-5]"
    lonely.mkdir()
    (lonely / f"{TMP_PREFIX}00").write_text("")

    assert disk.managed() == {MOVIE: "/mnt/rd/old.mkv", EPISODE: URL}  # temporaries are never entries
    assert disk.sweep_temp() == 3
    assert temps(tmp_path) == []
    assert disk.current(MOVIE) == "/mnt/rd/old.mkv"
    assert disk.current(EPISODE) == URL
    assert not lonely.exists()
    assert disk.sweep_temp() == 0


def test_managed_reports_symlinks_and_strm_files_only(tmp_path: Path) -> None:
    disk = LibraryDisk(tmp_path)
    disk.write_symlink(MOVIE, "/mnt/rd/Haunt.mkv")
    disk.write_strm(EPISODE, URL)
    disk.write_symlink("shows-4k/Show (2020) [tmdbid-9]/Season 00/Show S00E01.mkv", "/mnt/rd/s.mkv")
    # The user's own things, and things outside the four sections.
    (tmp_path / "movies" / "Mine (2001)").mkdir()
    (tmp_path / "movies" / "Mine (2001)" / "Mine (2001).mkv").write_bytes(b"\x1a\x45\xdf\xa3")
    (tmp_path / MOVIE).parent.joinpath("movie.nfo").write_text("<movie/>")
    (tmp_path / "elsewhere").mkdir()
    os.symlink("/mnt/rd/x.mkv", tmp_path / "elsewhere" / "x.mkv")
    (tmp_path / "elsewhere" / "x.strm").write_text(URL)
    assert disk.managed() == {
        MOVIE: "/mnt/rd/Haunt.mkv",
        EPISODE: URL,
        "shows-4k/Show (2020) [tmdbid-9]/Season 00/Show S00E01.mkv": "/mnt/rd/s.mkv",
    }


def test_managed_of_an_empty_or_missing_root(tmp_path: Path) -> None:
    assert LibraryDisk(tmp_path / "nowhere").managed() == {}
    assert LibraryDisk(tmp_path).managed() == {}


def test_the_users_files_are_never_replaced_or_removed(tmp_path: Path) -> None:
    disk = LibraryDisk(tmp_path)
    mine = tmp_path / MOVIE
    mine.parent.mkdir(parents=True)
    mine.write_bytes(b"real video")
    with pytest.raises(FileExistsError):
        disk.write_symlink(MOVIE, "/mnt/rd/Haunt.mkv")
    assert disk.current(MOVIE) is None
    assert disk.remove(MOVIE) is False
    assert mine.read_bytes() == b"real video"
    folder = tmp_path / "movies" / "A Folder.strm"
    folder.mkdir()
    with pytest.raises(FileExistsError):
        disk.write_strm("movies/A Folder.strm", URL)


def test_remove_prunes_empty_folders_up_to_the_section(tmp_path: Path) -> None:
    disk = LibraryDisk(tmp_path)
    e1 = "shows/Breaking Bad (2008) [tmdbid-1396]/Season 01/Breaking Bad S01E01.strm"
    e2 = "shows/Breaking Bad (2008) [tmdbid-1396]/Season 01/Breaking Bad S01E02.strm"
    disk.write_strm(e1, URL)
    disk.write_strm(e2, URL)
    assert disk.remove(e1) is True
    assert (tmp_path / e2).exists()  # its folder still holds an entry
    assert disk.remove(e2) is True
    assert not (tmp_path / "shows" / "Breaking Bad (2008) [tmdbid-1396]").exists()
    assert (tmp_path / "shows").is_dir()  # the section stays
    assert disk.remove(e2) is False
    assert disk.current(e2) is None


def test_remove_keeps_a_folder_holding_the_users_files(tmp_path: Path) -> None:
    disk = LibraryDisk(tmp_path)
    disk.write_symlink(MOVIE, "/mnt/rd/Haunt.mkv")
    (tmp_path / MOVIE).parent.joinpath("poster.jpg").write_bytes(b"jpg")
    assert disk.remove(MOVIE) is True
    assert (tmp_path / MOVIE).parent.joinpath("poster.jpg").exists()


def test_a_dangling_symlink_is_still_an_entry(tmp_path: Path) -> None:
    disk = LibraryDisk(tmp_path)
    disk.write_symlink(MOVIE, "/does/not/exist.mkv")
    assert disk.current(MOVIE) == "/does/not/exist.mkv"
    assert disk.managed() == {MOVIE: "/does/not/exist.mkv"}
    assert disk.remove(MOVIE) is True


@pytest.mark.parametrize(
    "rel",
    [
        "/etc/passwd",
        "../outside.strm",
        "movies/../../outside.strm",
        "movies/a/../../../outside.strm",
        "movies/./x.strm",
        "movies//x.strm",
        "movies",
        "movies/",
        "",
        "elsewhere/x.strm",
        "movies\\..\\x.strm",
        "movies/x\x00.strm",
        f"movies/{TMP_PREFIX}x.strm",
    ],
)
def test_paths_outside_the_sections_are_refused(tmp_path: Path, rel: str) -> None:
    disk = LibraryDisk(tmp_path / "lib")
    for call in (
        lambda: disk.write_strm(rel, URL),
        lambda: disk.write_symlink(rel, "/x"),
        lambda: disk.current(rel),
        lambda: disk.remove(rel),
    ):
        with pytest.raises(ValueError):
            call()
    assert list(tmp_path.rglob("*")) == []


def test_bad_strm_names_and_addresses_are_refused(tmp_path: Path) -> None:
    disk = LibraryDisk(tmp_path)
    with pytest.raises(ValueError):
        disk.write_strm("movies/Haunt (2019) [tmdbid-1]/Haunt (2019).mkv", URL)
    for url in ["", " http://x", "http://x\nhttp://y"]:
        with pytest.raises(ValueError):
            disk.write_strm(EPISODE, url)
    with pytest.raises(ValueError):
        disk.write_symlink(MOVIE, "")


def test_check_writable(tmp_path: Path) -> None:
    assert LibraryDisk(tmp_path).check_writable() is None
    assert LibraryDisk(tmp_path).check_writable(symlinks=True) is None
    assert LibraryDisk(tmp_path / "new" / "lib").check_writable() is None  # created
    assert (tmp_path / "new" / "lib").is_dir()
    assert temps(tmp_path) == []
    a_file = tmp_path / "file"
    a_file.write_text("x")
    problem = LibraryDisk(a_file).check_writable()
    assert problem is not None and "not a folder" in problem
    problem = LibraryDisk(a_file / "below").check_writable()
    assert problem is not None and "cannot be created" in problem


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes anywhere")
def test_check_writable_names_a_read_only_root(tmp_path: Path) -> None:
    tmp_path.chmod(0o500)
    try:
        problem = LibraryDisk(tmp_path).check_writable()
    finally:
        tmp_path.chmod(0o700)
    assert problem is not None and "not writable" in problem


def test_check_writable_names_a_refused_write(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The same as above, where the tests run as root: the filesystem refuses the probe."""
    real_open = os.open

    def refusing(path: str | os.PathLike[str], flags: int, mode: int = 0o777) -> int:
        if Path(path).name.startswith(TMP_PREFIX):
            raise PermissionError(13, "Permission denied")
        return real_open(path, flags, mode)

    monkeypatch.setattr(os, "open", refusing)
    assert LibraryDisk(tmp_path).check_writable() == f"library.root {tmp_path} is not writable: Permission denied"


def test_check_writable_names_a_filesystem_without_symlinks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def refusing(*args: object, **kwargs: object) -> None:
        raise OSError(1, "Operation not permitted")

    monkeypatch.setattr(os, "symlink", refusing)
    assert LibraryDisk(tmp_path).check_writable() is None
    problem = LibraryDisk(tmp_path).check_writable(symlinks=True)
    assert problem is not None and "symlinks" in problem and "strm" in problem
    assert temps(tmp_path) == []
