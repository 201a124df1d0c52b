"""The command line as a person uses it: config, doctor against emulators on loopback, sandbox, demo."""

from __future__ import annotations

import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from seerbridge.sandbox.scenario import load_scenario
from seerbridge.sandbox.serve import running_in_thread
from seerbridge.sandbox.world import Sandbox
from tests.cli_runner import invoke

runner = CliRunner()


@pytest.fixture(scope="module")
def loopback() -> Iterator[tuple[Sandbox, dict[str, str]]]:
    world = Sandbox(load_scenario("starter"))
    with running_in_thread(world) as hosts:
        yield world, dict(hosts)


def _env(world: Sandbox, hosts: dict[str, str], tmp_path: Path, **extra: str) -> dict[str, str]:
    env = world.env(hosts)  # type: ignore[arg-type]
    env["SEERBRIDGE_DATABASE__URL"] = f"sqlite+aiosqlite:///{tmp_path}/cli.db"
    return env | extra


def _invoke(args: list[str], env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> tuple[int, str]:
    return invoke(args, env, monkeypatch)


def test_doctor_passes_against_the_emulators(
    loopback: tuple[Sandbox, dict[str, str]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    world, hosts = loopback
    code, out = _invoke(["doctor"], _env(world, hosts, tmp_path), monkeypatch)
    assert code == 0, out
    for label in ("Database", "Seerr", "Jellyfin", "Torrentio", "Real-Debrid"):
        assert label in out
    assert "FAIL" not in out
    assert "3.1.0" in out  # Seerr version
    assert "10.11.11" in out  # Jellyfin version


def test_doctor_names_a_wrong_real_debrid_key(
    loopback: tuple[Sandbox, dict[str, str]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    world, hosts = loopback
    wrong = "WRONGTOKEN0123456789WRONGTOKEN"
    env = _env(world, hosts, tmp_path, SEERBRIDGE_REALDEBRID__API_KEY=wrong)
    code, out = _invoke(["doctor"], env, monkeypatch)
    assert code == 1
    rd_lines = [line for line in out.splitlines() if "Real-Debrid" in line]
    assert rd_lines and "FAIL" in rd_lines[0]
    assert "SEERBRIDGE_REALDEBRID__API_KEY" in out.replace("\n", "").replace("│", "").replace(" ", "")
    assert wrong not in out
    assert "Traceback" not in out
    others = [line for line in out.splitlines() if line.strip().startswith(("│ Seerr", "│ Jellyfin", "│ Torrentio"))]
    assert others and all("ok" in line for line in others)


def test_doctor_explains_an_unreachable_service_in_one_line(
    loopback: tuple[Sandbox, dict[str, str]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    world, hosts = loopback
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = _env(world, hosts, tmp_path, SEERBRIDGE_SEERR__URL=f"http://127.0.0.1:{port}", SEERBRIDGE_SEERR__RETRIES="1")
    code, out = _invoke(["doctor"], env, monkeypatch)
    assert code == 1
    flat = " ".join(out.replace("│", " ").split())
    assert "cannot connect to" in flat
    assert "SEERBRIDGE_SEERR__URL" in flat.replace(" ", "")
    assert "Traceback" not in out


def test_bad_config_is_one_clear_line(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    code, out = _invoke(["config", "show"], {"SEERBRIDGE_SEERR__TIMEOUT_S": "-3"}, monkeypatch)
    assert code == 2
    assert out.strip().count("\n") == 0
    assert "seerr.timeout_s (SEERBRIDGE_SEERR__TIMEOUT_S)" in out


def test_an_unusable_config_file_is_one_clear_line(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    binary = tmp_path / "binary.toml"
    binary.write_bytes(b"\xff\xfe[\x00s\x00")
    for path, words in ((tmp_path, "is a folder, not a file"), (binary, "is not UTF-8 text")):
        code, out = _invoke(["--config", str(path), "config", "show"], {}, monkeypatch)
        assert code == 2, out
        assert out.strip().count("\n") == 0, out
        assert "Traceback" not in out
        assert out.startswith(f"seerbridge: config file {path} {words}"), out


def test_help_shows_flags_as_flags(monkeypatch: pytest.MonkeyPatch) -> None:
    """Options that take no value are listed without a type, as if they took a <bool>; the others keep theirs."""
    for args in (["--help"], ["run", "--help"], ["status", "--help"], ["explain", "--help"], ["cleanup", "--help"]):
        code, out = _invoke(args, {"COLUMNS": "120"}, monkeypatch)
        assert code == 0, out
        assert "<bool>" not in out, (args, out)
    _, out = _invoke(["run", "--help"], {"COLUMNS": "120"}, monkeypatch)
    assert "--once" in out
    _, out = _invoke(["--help"], {"COLUMNS": "120"}, monkeypatch)
    assert "<path>" in out  # --config still says what it takes


def test_version_option(monkeypatch: pytest.MonkeyPatch) -> None:
    from seerbridge import __version__

    # --version answers even when the configuration is broken: it reads none.
    code, out = _invoke(["--version"], {"SEERBRIDGE_SEERR__TIMEOUT_S": "-3"}, monkeypatch)
    assert code == 0, out
    assert out.strip() == f"seerbridge {__version__}"


def test_config_show_names_the_file_it_loaded(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    code, out = _invoke(["config", "show"], {}, monkeypatch)
    assert code == 0, out
    assert out.splitlines()[0] == "# no config file: defaults and SEERBRIDGE_* environment variables"
    cfg = tmp_path / "seerbridge.toml"
    cfg.write_text('[seerr]\nurl = "http://seerr.lan:5055"\n')
    code, out = _invoke(["--config", str(cfg), "config", "show"], {}, monkeypatch)
    assert code == 0, out
    assert out.splitlines()[0] == f"# loaded from {cfg} (SEERBRIDGE_* environment variables override it)"
    code, out = _invoke(["config", "show"], {"SEERBRIDGE_CONFIG": str(cfg)}, monkeypatch)
    assert out.splitlines()[0].startswith(f"# loaded from {cfg} ")
    assert 'url = "http://seerr.lan:5055"' in out


def test_config_show_masks_and_example_prints(monkeypatch: pytest.MonkeyPatch) -> None:
    code, out = _invoke(["config", "show"], {"SEERBRIDGE_REALDEBRID__API_KEY": "rd-token-abcdef-123"}, monkeypatch)
    assert code == 0
    assert "rd-token-abcdef-123" not in out
    assert 'api_key = "***"' in out
    code, out = _invoke(["config", "example"], {}, monkeypatch)
    assert code == 0
    assert "[realdebrid]" in out


def test_sandbox_prints_exports_at_once_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SEERBRIDGE_")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "seerbridge", "sandbox", "--scenario", "starter"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=lambda: [lines.put(line.strip()) for line in proc.stdout], daemon=True).start()  # type: ignore[union-attr]
        # Four services, a Torznab indexer and Zilean as sources (kind, URL, key), the clock, the database.
        printed = [lines.get(timeout=30) for _ in range(12)]
        assert all(line.startswith("export SEERBRIDGE_") for line in printed), printed
        urls = [line.split("=", 1)[1].strip("'") for line in printed if "__URL=" in line and "DATABASE" not in line]
        assert len(urls) == 6 and all(u.startswith("http://127.0.0.1:") for u in urls), urls
        # The printed env really points at running emulators: doctor passes with it.
        doctor_env = dict(env)
        for line in printed:
            key, value = line.removeprefix("export ").split("=", 1)
            doctor_env[key] = value.strip("'")
        doctor_env["SEERBRIDGE_DATABASE__URL"] = f"sqlite+aiosqlite:///{tmp_path}/s.db"
        doctor = subprocess.run(
            [sys.executable, "-m", "seerbridge", "doctor"], env=doctor_env, capture_output=True, text=True, timeout=60
        )
        assert doctor.returncode == 0, doctor.stdout + doctor.stderr
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=15) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_sandbox_hands_out_its_own_database_and_an_env_file(tmp_path: Path) -> None:
    """The printed environment points seerbridge at a database of the sandbox's own (never the user's), also as a
    file to `source` from another terminal while the sandbox keeps running; both go when it stops."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SEERBRIDGE_")}
    env_file = tmp_path / "sandbox.env"
    proc = subprocess.Popen(
        [sys.executable, "-m", "seerbridge", "sandbox", "--scenario", "starter", "--env-file", str(env_file)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        notes: queue.Queue[str] = queue.Queue()
        threading.Thread(target=lambda: [notes.put(line) for line in proc.stderr], daemon=True).start()  # type: ignore[union-attr]
        said = []
        while not (said and "Ctrl-C stops them" in said[-1]):
            said.append(notes.get(timeout=30))
        exported = env_file.read_text().splitlines()
        assert exported and all(line.startswith("export SEERBRIDGE_") for line in exported), exported
        values = dict(line.removeprefix("export ").split("=", 1) for line in exported)
        database = values["SEERBRIDGE_DATABASE__URL"].strip("'")
        assert database.startswith("sqlite+aiosqlite:///") and database.endswith("/sandbox.db"), database
        db_file = Path(database.removeprefix("sqlite+aiosqlite:///"))
        assert "seerbridge-sandbox" in str(db_file)
        assert any(str(db_file) in line for line in said), said  # the user is told where it is
        assert any(str(env_file) in line for line in said), said
        child_env = env | {key: value.strip("'") for key, value in values.items()}
        upgrade = subprocess.run(
            [sys.executable, "-m", "seerbridge", "db", "upgrade"], env=child_env, capture_output=True, text=True
        )
        assert upgrade.returncode == 0, upgrade.stdout + upgrade.stderr
        assert db_file.exists()
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=15)
        assert proc.returncode == 0
        assert out.splitlines() == exported  # stdout carries the same lines (`seerbridge sandbox > sandbox.env`)
        assert not db_file.parent.exists()  # the emulators' world is gone, and so is its database
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_demo_ends_with_the_summary(monkeypatch: pytest.MonkeyPatch) -> None:
    code, out = _invoke(["demo"], {"COLUMNS": "80"}, monkeypatch)
    assert code == 0, out
    too_wide = [line for line in out.splitlines() if len(line) > 80]
    assert not too_wide, "\n".join(too_wide)  # an 80-column terminal shows every box whole
    # `seerbridge doctor` against the emulators comes first, every row ok.
    doctor = out.split("what each request came to")[0]
    for service in ("Database", "Seerr", "Jellyfin", "Torrentio", "Real-Debrid"):
        assert re.search(rf"│ {service} +│ ok +│", doctor), doctor
    assert "FAIL" not in doctor
    assert "what each request came to" in out
    for request_id in range(101, 109):
        assert f"│ {request_id} " in out
    assert "torrents added twice: none" in out
    assert "Traceback" not in out
    # Two weeks later: exactly one upgrade (Breaking Bad S02E13, 720p HDTV → 1080p BluRay), then a cleanup plan
    # that would delete the replaced copy once its hold is over.
    flat = " ".join(out.split())
    assert flat.count("upgraded (standard profile):") == 1
    assert "Breaking.Bad.S02E13.720p.HDTV.x264-EXAMPLE → Breaking.Bad.S02E13.1080p.BluRay.x264-REPACK-EXAMPLE" in flat
    assert "would plan (nothing is deleted without --apply)" in flat
    assert "1 torrent, 700 MB would be freed" in flat
    # The library seerbridge wrote (strm mode, the default), as a tree: a season shows its first and last entries.
    library = out.split("The library seerbridge wrote (strm mode)")[1].split("Jellyfin, told of")[0]
    tree = [line.rstrip() for line in library.splitlines()[1:]]
    assert tree[:4] == [
        "  movies/",
        "    Haunt (2019) [tmdbid-572802]/",
        "      Haunt (2019).strm",
        "    Night of the Living Dead (1968) [tmdbid-10331]/",
    ], library
    for line in (
        "    Severance (2022) [tmdbid-95396]/",
        "      Season 02/",
        "        Severance S02E01.strm",
        "        … 8 more",
        "        Severance S02E10.strm",
        "        Breaking Bad S02E13.strm",
    ):
        assert line in tree, library
    assert re.search(r"Each \.strm holds http://127\.0\.0\.1:\d+/play/<token>", library), library
    # Jellyfin lists each title folder by its TMDB id, Seerr turned available, and so did the requests.
    jellyfin = out.split("Jellyfin, told of 5 folders")[1].split("webhook:")[0]
    assert "  movies/Haunt (2019) [tmdbid-572802]\n" in jellyfin, jellyfin
    assert 'Jellyfin: movie "Haunt" (2019), TMDB 572802' in jellyfin, jellyfin
    assert "Seerr: available; request 102 available" in jellyfin, jellyfin
    assert "Seerr: available; requests 101, 108 available" in jellyfin, jellyfin
    assert 'Jellyfin: show "Severance" (2022), TMDB 95396, 10 episodes' in jellyfin, jellyfin
    assert "Seerr: season 2 available; request 103 available" in jellyfin, jellyfin
    assert "requests available" in out.split("followed:")[1]  # the live part's two films, once Jellyfin lists them
    # Then Night of the Living Dead's torrent vanishes: repaired with the 720p copy behind the same path, whose
    # .strm address stays and now plays the new file.
    repair = " ".join(out.split("Then Real-Debrid drops a torrent on its own")[1].split())
    assert "movies/Night of the Living Dead (1968) [tmdbid-10331]/ Night of the Living Dead (1968).strm" in repair
    assert "torrent Night.of.the.Living.Dead.1968.1080p.BluRay.x264-EXAMPLE" in repair, repair
    assert "a repair round: gone from Real-Debrid → hash marked bad, requests 101, 108 worked again" in repair
    assert "the next copy kept, behind the same path: Night of the Living Dead (1968).strm" in repair, repair
    assert "holds the same address torrent Night.of.the.Living.Dead.1968.720p.BluRay.x264-EXAMPLE" in repair
    assert "plays Night.of.the.Living.Dead.1968.720p.BluRay.x264-EXAMPLE.mkv" in repair, repair
    assert "Jellyfin lists it at the same path; Seerr: available; requests 101, 108 available" in repair, repair


def test_without_the_sandbox_extra_demo_and_sandbox_say_how_to_get_it() -> None:
    """A production install leaves `seerbridge[sandbox]` out; the two commands that need it say so in one line."""
    blocker = (
        "import sys\n"
        "sys.modules['yaml'] = None  # as if pyyaml were not installed: importing it fails\n"
        "from seerbridge.cli import main\n"
        "sys.argv = ['seerbridge', sys.argv[1]]\n"
        "main()\n"
    )
    for command in ("demo", "sandbox"):
        out = subprocess.run(
            [sys.executable, "-c", blocker, command], capture_output=True, text=True, env={"PATH": "", "HOME": "/tmp"}
        )
        assert out.returncode == 1, (command, out.stderr)
        assert out.stderr.strip() == (
            "seerbridge: the sandbox and the demo are an optional extra: pip install 'seerbridge[sandbox]'"
        )
