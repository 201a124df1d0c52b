"""find_in_mount / check_mount on zurg-like layouts built in a temporary folder."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from seerbridge.library import mount as mount_module
from seerbridge.library.mount import check_mount, find_in_mount

NAME = "Breaking.Bad.S01.1080p.BluRay.x264-EX"
FILE = f"/{NAME}/Breaking.Bad.S01E01.mkv"


def put(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"video")
    return path


def test_under_all_with_the_full_path(tmp_path: Path) -> None:
    where = put(tmp_path / "__all__" / NAME / NAME / "Breaking.Bad.S01E01.mkv")
    put(tmp_path / "shows" / NAME / NAME / "Breaking.Bad.S01E01.mkv")
    assert find_in_mount(tmp_path, NAME, FILE) == where


def test_zurg_flattens_a_torrent_by_default(tmp_path: Path) -> None:
    where = put(tmp_path / "__all__" / NAME / "Breaking.Bad.S01E01.mkv")
    assert find_in_mount(tmp_path, NAME, FILE) == where


def test_the_mount_is_all_itself(tmp_path: Path) -> None:
    where = put(tmp_path / NAME / "Breaking.Bad.S01E01.mkv")
    assert find_in_mount(tmp_path, NAME, FILE) == where


def test_only_in_a_per_kind_folder(tmp_path: Path) -> None:
    (tmp_path / "__all__").mkdir()
    (tmp_path / "movies").mkdir()
    where = put(tmp_path / "anime" / NAME / "Breaking.Bad.S01E01.mkv")
    assert find_in_mount(tmp_path, NAME, FILE) == where


def test_a_single_file_torrent(tmp_path: Path) -> None:
    name = "Haunt.2019.1080p.BluRay.x264.mkv"
    # zurg's default folder name drops a trailing .mkv / .mp4.
    where = put(tmp_path / "__all__" / "Haunt.2019.1080p.BluRay.x264" / name)
    assert find_in_mount(tmp_path, name, f"/{name}") == where
    kept = put(tmp_path / "movies" / "Other.2020.avi" / "Other.2020.avi")
    assert find_in_mount(tmp_path, "Other.2020.avi", "/Other.2020.avi") == kept


def test_the_original_name_is_tried_first(tmp_path: Path) -> None:
    # RD's `filename` becomes the one selected file's name; zurg keys the folder on `original_filename`.
    where = put(tmp_path / "__all__" / "MCU Collection 2008-2023" / "Spider-Man.2021.mkv")
    got = find_in_mount(
        tmp_path,
        "Spider-Man.2021.mkv",
        "/MCU/Phase 4/Spider-Man.2021.mkv",
        original_name="MCU Collection 2008-2023",
    )
    assert got == where


def test_a_folder_is_not_the_file(tmp_path: Path) -> None:
    (tmp_path / "__all__" / NAME / NAME / "Breaking.Bad.S01E01.mkv").mkdir(parents=True)
    assert find_in_mount(tmp_path, NAME, FILE) is None


def test_not_there(tmp_path: Path) -> None:
    put(tmp_path / "__all__" / "Another" / "Breaking.Bad.S01E01.mkv")
    assert find_in_mount(tmp_path, NAME, FILE) is None
    assert find_in_mount(tmp_path / "missing", NAME, FILE) is None
    a_file = put(tmp_path / "a-file")
    assert find_in_mount(a_file, NAME, FILE) is None


@pytest.mark.parametrize(
    ("name", "path"),
    [("..", "/x.mkv"), ("a/b", "/x.mkv"), ("", "/x.mkv"), (NAME, "/../x.mkv"), (NAME, ""), (NAME, "/")],
)
def test_odd_names_never_climb_out(tmp_path: Path, name: str, path: str) -> None:
    put(tmp_path / "x.mkv")
    put(tmp_path / "mount" / "__all__" / "x.mkv")
    assert find_in_mount(tmp_path / "mount", name, path) is None


def test_a_big_top_level_without_all_is_not_searched(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The mount is __all__ itself: every top-level folder is a torrent, far too many to look inside.
    for i in range(40):
        (tmp_path / f"Torrent.{i:02d}").mkdir()
    put(tmp_path / "Torrent.07" / NAME / "Breaking.Bad.S01E01.mkv")  # a torrent inside a torrent: not a kind folder
    looked: list[Path] = []
    real = mount_module._is_dir

    def counting(path: Path) -> bool:
        looked.append(path)
        return real(path)

    monkeypatch.setattr(mount_module, "_is_dir", counting)
    assert find_in_mount(tmp_path, NAME, FILE) is None
    assert len(looked) <= 4


def test_few_filesystem_calls_on_a_zurg_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for kind in ("movies", "shows", "anime", "__unplayable__"):
        (tmp_path / kind).mkdir()
    where = put(tmp_path / "shows" / NAME / "Breaking.Bad.S01E01.mkv")
    put(tmp_path / "__all__" / "Other" / "x.mkv")
    stats: list[Path] = []
    real_dir, real_file = mount_module._is_dir, mount_module._is_file

    def is_dir(path: Path) -> bool:
        stats.append(path)
        return real_dir(path)

    def is_file(path: Path) -> bool:
        stats.append(path)
        return real_file(path)

    monkeypatch.setattr(mount_module, "_is_dir", is_dir)
    monkeypatch.setattr(mount_module, "_is_file", is_file)
    assert find_in_mount(tmp_path, NAME, FILE) == where
    # Each candidate torrent folder is asked about once, and only existing ones are looked inside.
    assert len(stats) == len(set(stats)) <= 8


def test_check_mount(tmp_path: Path) -> None:
    missing = check_mount(tmp_path / "rd")
    assert missing is not None and "does not exist" in missing and "rclone" in missing
    (tmp_path / "rd").mkdir()
    empty = check_mount(tmp_path / "rd")
    assert empty is not None and "empty" in empty
    (tmp_path / "rd" / "__all__").mkdir()
    assert check_mount(tmp_path / "rd") is None
    a_file = put(tmp_path / "file")
    not_folder = check_mount(a_file)
    assert not_folder is not None and "not a folder" in not_folder


@pytest.mark.skipif(os.geteuid() == 0, reason="root lists anything")
def test_check_mount_names_an_unreadable_mount(tmp_path: Path) -> None:
    (tmp_path / "rd").mkdir(mode=0o300)
    try:
        problem = check_mount(tmp_path / "rd")
    finally:
        (tmp_path / "rd").chmod(0o700)
    assert problem is not None and "cannot be listed" in problem


def test_check_mount_names_a_refused_listing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The same as above where the tests run as root, and what a stale FUSE mount answers."""

    def refusing(path: object) -> None:
        raise OSError(107, "Transport endpoint is not connected")

    with monkeypatch.context() as patch:
        patch.setattr(os, "scandir", refusing)
        problem = check_mount(tmp_path)
        found = find_in_mount(tmp_path, NAME, FILE)
    assert problem == (
        f"library.mount_path {tmp_path} cannot be listed (Transport endpoint is not connected): is rclone running?"
    )
    assert found is None
