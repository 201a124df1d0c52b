"""`seerbridge doctor` checks the library it writes: the root, the mount or the /play/ address, Jellyfin's libraries.

Against the emulators on loopback: the Jellyfin emulator of a sandbox with a library root has the four disk libraries
(Movies → <root>/movies, Shows → <root>/shows, Movies 4K, Shows 4K), so a library at that root is all ok, and one
anywhere else names what to add. The assertions are the Library rows exactly as a user reads them.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from seerbridge import cli
from seerbridge.commands import doctor as doctor_module
from seerbridge.commands.demo import in_process, sandbox_settings
from seerbridge.commands.doctor import DoctorRow, run_doctor
from seerbridge.sandbox.scenario import load_scenario
from seerbridge.sandbox.serve import running_in_thread
from seerbridge.sandbox.world import Sandbox, ServiceName
from tests.cli_runner import invoke

World = tuple[Sandbox, dict[ServiceName, str]]
PAGE = "in Jellyfin (Dashboard → Libraries)"
ALL_HELD = "Jellyfin's libraries hold movies/ (Movies), shows/ (Shows), movies-4k/ (Movies 4K), shows-4k/ (Shows 4K)"


@pytest.fixture(scope="module")
def loopback(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    world = Sandbox(load_scenario("starter"), library_root=tmp_path_factory.mktemp("library"))
    with running_in_thread(world) as hosts:
        yield world, hosts


def _doctor(
    loopback: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **extra: str
) -> tuple[int, list[tuple[str, ...]], str]:
    """(exit code, the Library rows as (label, result, version, details), the whole output) of `seerbridge doctor`."""
    world, hosts = loopback
    env = world.env(hosts)
    env["SEERBRIDGE_DATABASE__URL"] = f"sqlite+aiosqlite:///{tmp_path}/doctor.db"
    # Wide, so each row is one table line; the CLI keeps the width in _State, put back after the test.
    monkeypatch.setattr(cli._State, "terminal_width", cli._State.terminal_width)
    code, out = invoke(["doctor"], env | extra, monkeypatch, width=400)
    assert "Traceback" not in out
    rows = [
        tuple(cell.strip() for cell in line.strip().strip("│").split("│"))
        for line in out.splitlines()
        if line.startswith("│ Library ")
    ]
    return code, rows, out


def _root(loopback: World) -> Path:
    root = loopback[0].library_root
    assert root is not None
    return root


def test_all_ok_in_strm_mode_with_the_emulators_libraries(
    loopback: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _root(loopback)
    code, rows, out = _doctor(loopback, tmp_path, monkeypatch, SEERBRIDGE_LIBRARY__ROOT=str(root))
    assert code == 0, out
    assert "FAIL" not in out and "warn" not in out
    assert rows == [
        ("Library", "ok", "strm", f"root: {root}, play: http://127.0.0.1:8787/play/…"),
        ("Library", "ok", "", ALL_HELD),
    ]


def test_jellyfin_sees_the_library_at_its_own_path(
    loopback: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """library.jellyfin_root is where Jellyfin's folders are looked for; the root itself is checked on this host."""
    mine = tmp_path / "seen-here"
    env = {"SEERBRIDGE_LIBRARY__ROOT": str(mine), "SEERBRIDGE_LIBRARY__JELLYFIN_ROOT": str(_root(loopback))}
    code, rows, out = _doctor(loopback, tmp_path, monkeypatch, **env)
    assert code == 0, out
    assert rows == [
        ("Library", "ok", "strm", f"root: {mine}, play: http://127.0.0.1:8787/play/…"),
        ("Library", "ok", "", ALL_HELD),
    ]


def test_a_root_that_cannot_be_written(loopback: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Under a regular file: no folder can be made there, even by root (chmod tricks would pass as root).
    (tmp_path / "a-file").write_text("not a folder")
    root = tmp_path / "a-file" / "library"
    env = {"SEERBRIDGE_LIBRARY__ROOT": str(root), "SEERBRIDGE_LIBRARY__JELLYFIN_ROOT": str(_root(loopback))}
    code, rows, out = _doctor(loopback, tmp_path, monkeypatch, **env)
    assert code == 1, out
    assert rows == [
        ("Library", "FAIL", "strm", f"library.root {root} cannot be created: Not a directory"),
        ("Library", "ok", "", ALL_HELD),
    ]


def test_a_root_that_takes_no_entries(loopback: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Whatever LibraryDisk.check_writable finds (here: symlinks refused) is the row's line, in symlink mode."""
    from seerbridge.library.disk import LibraryDisk

    asked: list[bool] = []

    def refuses(self: LibraryDisk, *, symlinks: bool = False) -> str | None:
        asked.append(symlinks)
        return f"library.root {self.root} does not take symlinks (Operation not permitted): use library.mode strm"

    monkeypatch.setattr(LibraryDisk, "check_writable", refuses)
    mount = tmp_path / "zurg"
    (mount / "__all__").mkdir(parents=True)
    root = tmp_path / "library"
    env = {
        "SEERBRIDGE_LIBRARY__ROOT": str(root),
        "SEERBRIDGE_LIBRARY__JELLYFIN_ROOT": str(_root(loopback)),
        "SEERBRIDGE_LIBRARY__MODE": "symlink",
        "SEERBRIDGE_LIBRARY__MOUNT_PATH": str(mount),
    }
    code, rows, out = _doctor(loopback, tmp_path, monkeypatch, **env)
    assert code == 1, out
    assert asked == [True]
    assert rows[0] == (
        "Library",
        "FAIL",
        "symlink",
        f"library.root {root} does not take symlinks (Operation not permitted): use library.mode strm",
    )


def test_symlink_mode_with_a_mount(loopback: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    mount = tmp_path / "zurg"
    root = tmp_path / "library"
    base = {
        "SEERBRIDGE_LIBRARY__ROOT": str(root),
        "SEERBRIDGE_LIBRARY__JELLYFIN_ROOT": str(_root(loopback)),
        "SEERBRIDGE_LIBRARY__MODE": "symlink",
    }
    code, rows, out = _doctor(loopback, tmp_path, monkeypatch, **base, SEERBRIDGE_LIBRARY__MOUNT_PATH=str(mount))
    assert code == 1, out
    assert rows == [
        ("Library", "FAIL", "symlink", f"library.mount_path {mount} does not exist: is rclone running?"),
        ("Library", "ok", "", ALL_HELD),
    ]

    code, rows, out = _doctor(loopback, tmp_path, monkeypatch, **base)
    assert code == 1, out
    assert rows[0] == (
        "Library",
        "FAIL",
        "symlink",
        "library.mount_path is not set: set SEERBRIDGE_LIBRARY__MOUNT_PATH to the folder where the Real-Debrid mount "
        "(zurg + rclone) shows __all__, or use library.mode strm",
    )

    (mount / "__all__").mkdir(parents=True)
    code, rows, out = _doctor(loopback, tmp_path, monkeypatch, **base, SEERBRIDGE_LIBRARY__MOUNT_PATH=str(mount))
    assert code == 0, out
    assert rows == [("Library", "ok", "symlink", f"root: {root}, mount: {mount}"), ("Library", "ok", "", ALL_HELD)]


def test_a_hung_mount_does_not_hang_doctor(loopback: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import seerbridge.library.mount as mount_module

    released = threading.Event()

    def hangs(mount: Path) -> str | None:
        released.wait(60)  # a stale FUSE mount blocks a stat until... the test ends (60 s: only a hang guard)
        return None

    monkeypatch.setattr(mount_module, "check_mount", hangs)
    monkeypatch.setattr(doctor_module, "DISK_TIMEOUT_S", 0.2)
    mount = tmp_path / "zurg"
    env = {
        "SEERBRIDGE_LIBRARY__ROOT": str(tmp_path / "library"),
        "SEERBRIDGE_LIBRARY__JELLYFIN_ROOT": str(_root(loopback)),
        "SEERBRIDGE_LIBRARY__MODE": "symlink",
        "SEERBRIDGE_LIBRARY__MOUNT_PATH": str(mount),
    }
    try:
        # Doctor answers while the check is still blocked: it did not wait for the hung mount.
        code, rows, out = _doctor(loopback, tmp_path, monkeypatch, **env)
        assert not released.is_set()
    finally:
        released.set()
    assert code == 1, out
    assert rows[0] == (
        "Library",
        "FAIL",
        "symlink",
        f"library.mount_path {mount} did not answer within 0.2s: is the filesystem under it hung?",
    )


@pytest.mark.parametrize(
    ("public_url", "line"),
    [
        (
            "seerbridge.lan:8787",
            "server.public_url 'seerbridge.lan:8787' is not an http(s) URL with a host: set "
            "SEERBRIDGE_SERVER__PUBLIC_URL to the address Jellyfin reaches seerbridge at, e.g. http://seerbridge:8787",
        ),
        (
            "http://",
            "server.public_url 'http://' is not an http(s) URL with a host: set "
            "SEERBRIDGE_SERVER__PUBLIC_URL to the address Jellyfin reaches seerbridge at, e.g. http://seerbridge:8787",
        ),
    ],
)
def test_strm_with_a_public_url_that_is_not_a_url(
    public_url: str,
    line: str,
    loopback: World,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    root = _root(loopback)
    env = {"SEERBRIDGE_LIBRARY__ROOT": str(root), "SEERBRIDGE_SERVER__PUBLIC_URL": public_url}
    code, rows, out = _doctor(loopback, tmp_path, monkeypatch, **env)
    assert code == 1, out
    assert rows == [("Library", "FAIL", "strm", line), ("Library", "ok", "", ALL_HELD)]


def test_strm_with_no_address_jellyfin_can_use(
    loopback: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = {"SEERBRIDGE_LIBRARY__ROOT": str(_root(loopback)), "SEERBRIDGE_SERVER__HOST": "0.0.0.0"}
    code, rows, out = _doctor(loopback, tmp_path, monkeypatch, **env)
    assert code == 1, out
    assert rows[0] == (
        "Library",
        "FAIL",
        "strm",
        "strm entries need the address Jellyfin reaches seerbridge at, and server.host 0.0.0.0 is not a loopback "
        "address: set SEERBRIDGE_SERVER__PUBLIC_URL (e.g. http://seerbridge:8787)",
    )

    env |= {"SEERBRIDGE_SERVER__PUBLIC_URL": "https://seerbridge.lan/bridge/", "SEERBRIDGE_SERVER__ENABLED": "false"}
    code, rows, out = _doctor(loopback, tmp_path, monkeypatch, **env)
    assert code == 1, out
    assert rows[0] == (
        "Library",
        "FAIL",
        "strm",
        "server.enabled is false, so nothing answers the strm entries' /play/ addresses: "
        "set SEERBRIDGE_SERVER__ENABLED=true",
    )


def test_a_jellyfin_without_the_folders_names_what_to_add(
    loopback: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "elsewhere"  # a library root the Jellyfin emulator has no library over
    code, rows, out = _doctor(loopback, tmp_path, monkeypatch, SEERBRIDGE_LIBRARY__ROOT=str(root))
    assert code == 1, out
    assert rows == [
        ("Library", "ok", "strm", f"root: {root}, play: http://127.0.0.1:8787/play/…"),
        ("Library", "FAIL", "", f"add a Movies library with the folder {root}/movies {PAGE}"),
        ("Library", "FAIL", "", f"add a Shows library with the folder {root}/shows {PAGE}"),
        (
            "Library",
            "ok",
            "",
            f"for 4K requests (optional): add a Movies library with the folder {root}/movies-4k {PAGE}",
        ),
        (
            "Library",
            "ok",
            "",
            f"for 4K requests (optional): add a Shows library with the folder {root}/shows-4k {PAGE}",
        ),
    ]


def test_library_off_is_an_informative_ok(loopback: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    code, rows, out = _doctor(loopback, tmp_path, monkeypatch)
    assert code == 0, out
    assert rows == [
        (
            "Library",
            "ok",
            "off",
            "no library is written (library.root is unset): files reach Jellyfin only through your own mount; "
            "set SEERBRIDGE_LIBRARY__ROOT to have seerbridge write one",
        )
    ]

    root = tmp_path / "library"
    env = {"SEERBRIDGE_LIBRARY__ROOT": str(root), "SEERBRIDGE_LIBRARY__MODE": "none"}
    code, rows, out = _doctor(loopback, tmp_path, monkeypatch, **env)
    assert code == 0, out
    assert rows == [
        (
            "Library",
            "ok",
            "none",
            "no library is written (library.mode is none): files reach Jellyfin only through your own mount; "
            f"set SEERBRIDGE_LIBRARY__MODE to strm or symlink to have seerbridge write one under {root}",
        )
    ]
    assert not root.exists()


def test_an_unreachable_jellyfin_leaves_the_libraries_unchecked(
    loopback: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    root = _root(loopback)
    env = {
        "SEERBRIDGE_LIBRARY__ROOT": str(root),
        "SEERBRIDGE_JELLYFIN__URL": f"http://127.0.0.1:{port}",
        "SEERBRIDGE_JELLYFIN__RETRIES": "1",
    }
    code, rows, out = _doctor(loopback, tmp_path, monkeypatch, **env)
    assert code == 1, out
    assert rows == [
        ("Library", "ok", "strm", f"root: {root}, play: http://127.0.0.1:8787/play/…"),
        ("Library", "warn", "", "could not check Jellyfin's libraries: the Jellyfin check failed (see its row)"),
    ]


async def test_a_loopback_play_address_and_a_jellyfin_elsewhere_is_a_warning(tmp_path: Path) -> None:
    """Jellyfin at another address than loopback may be another host (or a container) that cannot reach 127.0.0.1."""
    world = Sandbox(load_scenario("starter"), library_root=tmp_path / "library")
    settings = sandbox_settings(world, f"sqlite+aiosqlite:///{tmp_path}/doctor.db")  # Jellyfin at jellyfin.sandbox
    settings.library.root = str(tmp_path / "library")
    rows = [row for row in await run_doctor(settings, in_process(world)) if row.service == "library"]
    assert rows[1] == DoctorRow(
        "library",
        True,
        summary="strm entries will hold http://127.0.0.1:8787/play/…, a loopback address, but Jellyfin is at "
        "jellyfin.sandbox: unless Jellyfin runs on this host (and not in a container) it cannot reach that; "
        "set SEERBRIDGE_SERVER__PUBLIC_URL to an address Jellyfin reaches seerbridge at",
        warning=True,
    )
    settings.server.public_url = "http://seerbridge.lan:8787"
    rows = [row for row in await run_doctor(settings, in_process(world)) if row.service == "library"]
    assert [row.warning for row in rows] == [False, False]
    assert all(row.ok for row in rows)


async def test_a_folder_in_a_library_of_the_wrong_kind(tmp_path: Path) -> None:
    world = Sandbox(load_scenario("starter"))
    root = tmp_path / "library"
    (root / "movies").mkdir(parents=True)
    world.jellyfin_state.add_disk_library("Everything", "tvshows", root)  # shows/ fine, movies/ scanned as shows
    settings = sandbox_settings(world, f"sqlite+aiosqlite:///{tmp_path}/doctor.db")
    settings.library.root = str(root)
    settings.server.public_url = "http://seerbridge.lan:8787"
    rows = [row for row in await run_doctor(settings, in_process(world)) if row.service == "library"]
    assert [(row.ok, row.summary) for row in rows[1:]] == [
        (
            False,
            f"the folder {root}/movies is in Jellyfin's library 'Everything', whose content type is tvshows: "
            f"put it in a Movies library instead {PAGE}",
        ),
        (True, "Jellyfin's libraries hold shows/ (Everything), shows-4k/ (Everything)"),
        (
            True,
            f"for 4K requests (optional): the folder {root}/movies-4k is in Jellyfin's library 'Everything', whose "
            f"content type is tvshows: put it in a Movies library instead {PAGE}",
        ),
    ]
