"""The `seerbridge` command line; heavy modules are imported inside each command to keep start-up quick."""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, TypeVar

import typer

T = TypeVar("T")

if TYPE_CHECKING:
    from rich.console import Console

    from seerbridge.commands.doctor import DoctorRow
    from seerbridge.config import Settings

app = typer.Typer(
    no_args_is_help=True, add_completion=False, help=__doc__ and "seerbridge: Seerr → Real-Debrid → Jellyfin."
)
config_app = typer.Typer(no_args_is_help=True, help="Show the effective configuration or an example file.")
db_app = typer.Typer(no_args_is_help=True, help="Inspect or migrate the database.")
app.add_typer(config_app, name="config")
app.add_typer(db_app, name="db")


def _flags_take_no_value() -> None:
    """typer 0.29's help lists a flag (`run --once`, even `--help`) with a `<bool>` type, as if it took a value:
    show none for flags, like click and earlier typer versions."""
    from typer.core import TyperOption

    shown = getattr(TyperOption, "display_type_rich", None)
    if shown is None or getattr(shown, "flags_take_no_value", False):
        return

    def display_type_rich(self: TyperOption, ctx: Any) -> str | None:
        return None if self.is_flag else shown(self, ctx)

    display_type_rich.flags_take_no_value = True  # type: ignore[attr-defined]
    TyperOption.display_type_rich = display_type_rich  # type: ignore[method-assign]


_flags_take_no_value()

ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", "-c", help="TOML config file (default: $SEERBRIDGE_CONFIG).", show_default=False),
]


class _State:
    config_path: Path | None = None
    terminal_width: int | None = None  # set only when the caller fixes it (tests, a program embedding the CLI)


def _print_version(value: bool) -> None:
    if value:
        from seerbridge import __version__

        typer.echo(f"seerbridge {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    ctx: typer.Context,
    config: ConfigOption = None,
    version: Annotated[
        bool,
        typer.Option("--version", help="Print the version and exit.", is_eager=True, callback=_print_version),
    ] = False,
) -> None:
    """seerbridge turns approved Seerr requests into files on Real-Debrid and tells Jellyfin and Seerr."""
    from seerbridge import clock

    _State.config_path = config
    _State.terminal_width = ctx.terminal_width
    try:
        clock.install_from_environment()  # SEERBRIDGE_CLOCK: a sandboxed run reads the scenario's time
    except ValueError as exc:
        _fail(str(exc))


def _console() -> Console:
    """Where tables go: as wide as the terminal (see `report.console`)."""
    from seerbridge.render.report import console

    return console(_State.terminal_width)


def _need_sandbox() -> None:
    """The emulators' own dependencies come with the `sandbox` extra, which a production install may leave out."""
    try:
        import yaml  # noqa: F401
    except ImportError:
        _fail("the sandbox and the demo are an optional extra: pip install 'seerbridge[sandbox]'", 1)


def _fail(message: str, code: int = 2) -> NoReturn:
    typer.echo(f"seerbridge: {message}", err=True)
    raise typer.Exit(code)


def _run(main: Coroutine[Any, Any, T]) -> T:
    """Run a command's async body; an error seerbridge raised on purpose is one line and exit 1, not a traceback."""
    from seerbridge.errors import SeerbridgeError

    try:
        return asyncio.run(main)
    except SeerbridgeError as exc:
        _fail(str(exc), 1)


async def _without_migrating(settings: Settings, *, new_ok: bool = False) -> Settings:
    """`settings` for a command that opens the store through `open_bridge` but must not migrate it (only `run` and
    `db upgrade` do): the schema is checked first, so opening it changes nothing. A new (empty) database is an error
    unless `new_ok`: then the command works on a throwaway in-memory store, as it would on a fresh one."""
    from pydantic import SecretStr

    from seerbridge.config import DatabaseSettings
    from seerbridge.store.db import DatabaseNew, check_database

    try:
        await check_database(settings.database.url.get_secret_value())
    except DatabaseNew:
        if not new_ok:
            raise
        memory = DatabaseSettings(url=SecretStr("sqlite+aiosqlite:///:memory:"))
        return settings.model_copy(update={"database": memory})
    return settings


def _settings() -> Settings:
    from seerbridge.config import ConfigError, load_settings, secret_values
    from seerbridge.logs import setup_logging
    from seerbridge.redact import register, torrentio_keys

    try:
        settings = load_settings(_State.config_path)
    except ConfigError as exc:
        _fail(str(exc))
    register(*secret_values(settings), *torrentio_keys(settings.torrentio.url.get_secret_value()))
    setup_logging(settings.log.level, json_output=settings.log.json_output)
    return settings


@config_app.command("show")
def config_show() -> None:
    """Print the effective configuration (file + environment) with secrets masked, and which file it came from."""
    from seerbridge.config import config_file
    from seerbridge.render.config_render import render_effective

    settings = _settings()
    path = config_file(_State.config_path)
    if path is None:
        typer.echo("# no config file: defaults and SEERBRIDGE_* environment variables")
    else:
        typer.echo(f"# loaded from {path} (SEERBRIDGE_* environment variables override it)")
    typer.echo(render_effective(settings))


@config_app.command("example")
def config_example() -> None:
    """Print a commented example configuration file."""
    from seerbridge.render.config_render import render_example

    typer.echo(render_example())


def print_doctor(rows: list[DoctorRow]) -> None:
    from rich.table import Table

    from seerbridge.commands.doctor import SERVICE_LABELS

    table = Table(title="seerbridge doctor", title_justify="left")
    table.add_column("service")
    table.add_column("result")
    table.add_column("version")
    table.add_column("details", overflow="fold")
    for row in rows:
        facts = ", ".join(f"{k}: {v}" for k, v in row.details.items())
        detail = row.summary if not facts else (facts if row.summary == "ok" else f"{row.summary}; {facts}")
        table.add_row(
            SERVICE_LABELS.get(row.service, row.service),
            ("[yellow]warn[/yellow]" if row.warning else "[green]ok[/green]") if row.ok else "[red]FAIL[/red]",
            row.version,
            detail,
        )
    _console().print(table)  # as wide as the terminal: the details column wraps


@app.command()
def doctor() -> None:
    """Check every configured service (reachable, credentials, version, Real-Debrid premium and slots) and the
    library seerbridge writes (the root, the mount or the /play/ address, Jellyfin's libraries)."""
    from seerbridge.commands.doctor import run_doctor

    rows = asyncio.run(run_doctor(_settings()))
    print_doctor(rows)
    raise typer.Exit(0 if all(r.ok for r in rows) else 1)


@app.command()
def sandbox(
    scenario: Annotated[str, typer.Option(help="A shipped scenario name or a YAML/JSON file.")] = "starter",
    speed: Annotated[float, typer.Option(help="How much faster than real time the emulators' clock runs.")] = 1.0,
    env_file: Annotated[
        Path | None,
        typer.Option("--env-file", help="Also write the export lines to this file, to `source` in another terminal."),
    ] = None,
) -> None:
    """Run emulators of every service (and a Torznab indexer and Zilean as sources) on loopback until interrupted;
    prints the env that points at them.

    The env includes a database of the sandbox's own (a SQLite file in a temporary folder, removed when the sandbox
    stops), so nothing run against the emulators lands in your real database.
    """
    import shutil
    import tempfile

    _need_sandbox()
    from seerbridge.sandbox.scenario import ScenarioError, load_scenario
    from seerbridge.sandbox.serve import LoopbackServers
    from seerbridge.sandbox.world import Sandbox

    try:
        world = load_scenario(scenario)
    except ScenarioError as exc:
        _fail(str(exc))
    if not world.sources:  # the exported settings name every emulator, so doctor against them checks them all
        world = world.model_copy(update={"sources": ["torznab", "zilean"]})
    sb = Sandbox(world)
    if speed != 1.0:
        sb.clock.set_speed(speed)

    async def main(folder: Path) -> None:
        servers = LoopbackServers(sb)
        hosts = await servers.start()
        database = folder / "sandbox.db"
        env = sb.env(hosts) | {"SEERBRIDGE_DATABASE__URL": f"sqlite+aiosqlite:///{database}"}
        lines = [f"export {key}='{value}'" for key, value in env.items()]
        if env_file is not None:
            partial = env_file.with_name(env_file.name + ".partial")
            try:
                partial.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
                partial.replace(env_file)  # whoever waits for the file never reads half of it
            except OSError as exc:
                await servers.stop()
                _fail(f"cannot write {env_file}: {(exc.strerror or str(exc)).lower()}", 1)
        for line in lines:
            typer.echo(line)
        sys.stdout.flush()
        typer.echo(f"# scenario {world.name!r}: {world.description}", err=True)
        typer.echo(f"# seerbridge's database for this sandbox: {database} (removed when the sandbox stops)", err=True)
        if env_file is not None:
            typer.echo(f"# in another terminal: source {env_file}", err=True)
        typer.echo("# emulators running; Ctrl-C stops them", err=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
        await servers.stop()

    if env_file is not None and env_file.is_dir():
        _fail(f"--env-file {env_file} is a folder, not a file")
    folder = Path(tempfile.mkdtemp(prefix="seerbridge-sandbox-"))
    try:
        asyncio.run(main(folder))
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@app.command()
def demo(
    scenario: Annotated[str, typer.Option(help="A shipped scenario name or a YAML/JSON file.")] = "demo",
    library_mode: Annotated[
        str,
        typer.Option(
            "--library-mode",
            help="How the library the demo writes reaches the files: strm (.strm files holding a /play/ address) "
            "or symlink (links into a folder standing in for a zurg mount).",
        ),
    ] = "strm",
) -> None:
    """The main job on the embedded default: emulators on loopback, the bridge run over every request, a summary;
    the library it writes as Jellyfin and Seerr take it up, and a vanished torrent repaired behind the same path."""
    _need_sandbox()
    from seerbridge.commands.demo import run_demo
    from seerbridge.logs import setup_logging
    from seerbridge.render.report import demo_table, pass_line
    from seerbridge.sandbox.scenario import ScenarioError, load_scenario

    settings = _settings()  # validates the user's config; the demo itself talks only to the emulators
    if settings.log.level == "info":
        setup_logging("warning", json_output=settings.log.json_output)  # the summary table tells the story
    if library_mode not in ("strm", "symlink"):
        _fail(f"--library-mode is strm or symlink, not {library_mode!r}")
    try:
        world = load_scenario(scenario)
    except ScenarioError as exc:
        _fail(str(exc))
    out = _console()
    out.print(f"Scenario {world.name!r}: {world.description}", markup=False, highlight=False)
    result = asyncio.run(run_demo(world, library_mode="symlink" if library_mode == "symlink" else "strm"))
    print_doctor(result.doctor)
    out.print(demo_table(result))
    for number, report in enumerate(result.passes, 1):
        out.print(pass_line(number, report))
    for line in [*result.library, *result.live, *result.quality, *result.repair]:
        out.print(line)
    dupes = ", ".join(result.duplicate_hashes) or "none"
    out.print(f"torrents added twice: {dupes}")
    healthy = all(row.ok for row in result.doctor)
    raise typer.Exit(0 if healthy and not result.duplicate_hashes else 1)


@app.command()
def run(
    once: Annotated[bool, typer.Option("--once", help="One pass over all pending requests, then exit.")] = False,
) -> None:
    """Work Seerr's approved requests until stopped: webhooks, polling, download following (or one pass)."""
    from seerbridge.render.report import result_line
    from seerbridge.runtime.bridge import open_bridge
    from seerbridge.runtime.daemon import Daemon, StopSignal, wait_for_database
    from seerbridge.runtime.lease import account_lease

    settings = _settings()

    async def main() -> int:
        if not once:
            stop = StopSignal(hard_exit_s=3.0)  # a second signal exits within 3 s, whatever hangs
            stop.install()
            # The daemon may start before its database (a container beside PostgreSQL): it waits, then migrates.
            if not await wait_for_database(settings.database.url.get_secret_value(), stop):
                return 0
        async with open_bridge(settings) as bridge:
            if once:
                async with account_lease(bridge.sessions, "run --once"):
                    report = await bridge.run_pass()
                for r in report.results:
                    _console().print(result_line(r))
                return 0 if report.all_known() else 1
            async with account_lease(bridge.sessions, "run", wait=stop.graceful, on_lost=stop.trigger):
                await Daemon(settings, bridge).run(stop)
            return 130 if stop.forced.is_set() else 0

    try:
        code = asyncio.run(main())
    except Exception as exc:  # a dead Seerr on --once should read as one line, not a traceback
        from seerbridge.errors import SeerbridgeError

        if not isinstance(exc, SeerbridgeError):
            raise
        _fail(str(exc), 1)
    raise typer.Exit(code)


@app.command()
def retry(request_id: Annotated[int, typer.Argument(help="The Seerr request id.")]) -> None:
    """Forget a request's backoff so the next poll (or webhook) works it at once."""
    from seerbridge.store import repo
    from seerbridge.store.db import DatabaseNew, open_database

    settings = _settings()

    async def main() -> bool:
        try:
            engine, sessions = await open_database(settings.database.url.get_secret_value(), migrate=False)
        except DatabaseNew as exc:
            _fail(f"seerbridge knows no request {request_id}: {exc}", 1)
        try:
            async with sessions.begin() as session:
                if await repo.get_request(session, request_id) is None:
                    return False
                await repo.schedule_request(session, request_id, next_attempt_at=None, backoff_step=0)
                return True
        finally:
            await engine.dispose()

    if not _run(main()):
        _fail(f"seerbridge knows no request {request_id}", 1)
    typer.echo(f"request {request_id} will be worked on the next poll")


@app.command()
def upgrade(
    everything: Annotated[
        bool, typer.Option("--all", help="Check every torrent below its cutoff now, whatever its schedule.")
    ] = False,
) -> None:
    """One upgrade round: replaced torrents past their hold deleted, due torrents checked for a better copy."""
    from seerbridge.render.report import plural, upgrade_table
    from seerbridge.runtime.bridge import open_bridge
    from seerbridge.runtime.lease import account_lease

    settings = _settings()

    async def main() -> Any:
        from seerbridge.pipeline.upgrade import Upgrader

        async with open_bridge(await _without_migrating(settings)) as bridge, account_lease(bridge.sessions, "upgrade"):
            return await Upgrader(bridge).round(everything=everything)

    report = _run(main())
    if not report.checks and not report.removed:
        typer.echo("Nothing was due: every torrent is at its cutoff or waits for its next check (--all checks now).")
    else:
        _console().print(upgrade_table(report))
    if report.left_for_later:
        left = plural(report.left_for_later, "due check")
        typer.echo(f"{left} left for later rounds (the round's share or budget was spent)")
    if any(check.outcome == "error" for check in report.checks):
        raise typer.Exit(1)


@app.command()
def status(
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object instead of tables.")] = False,
) -> None:
    """List the requests seerbridge knows, with their state and last decision."""
    import json

    from seerbridge.render.report import (
        isoformat,
        lease_line,
        repair_lines,
        services_lines,
        status_json,
        status_table,
    )
    from seerbridge.store import lease, repo
    from seerbridge.store.db import DatabaseNew, open_database
    from seerbridge.store.lease import Holder

    settings = _settings()

    async def main() -> tuple[list[repo.RequestRecord], str | None, Holder | None, list[repo.RepairRecord]]:
        try:
            engine, sessions = await open_database(settings.database.url.get_secret_value(), migrate=False)
        except DatabaseNew as exc:
            if not as_json:
                typer.echo(f"{str(exc)[:1].upper()}{str(exc)[1:]}.")
                raise typer.Exit(0) from None
            return [], None, None, []
        try:
            async with sessions() as session:
                records, services = await repo.list_requests(session), await repo.get_state(session, "services")
                repairs = await repo.repairs(session)
            return records, services, await lease.current(sessions), repairs
        finally:
            await engine.dispose()

    records, services, holder, repairs = _run(main())
    if as_json:
        ordered = sorted(records, key=lambda r: r.id)
        typer.echo(json.dumps(status_json(ordered, services, holder, repairs), default=isoformat))
        return
    typer.echo(lease_line(holder))
    for line in services_lines(services):
        typer.echo(line)
    if not records:
        typer.echo("No requests yet: run `seerbridge run --once` (or the daemon) first.")
        return
    _console().print(status_table(sorted(records, key=lambda r: r.id)))
    if repairs:
        typer.echo("Repairs (torrents that vanished from Real-Debrid or broke, acquired again):")
        for line in repair_lines(repairs, {r.id: r.title for r in records}):
            typer.echo(f"  {line}")


@app.command()
def explain(
    request: Annotated[int | None, typer.Option("--request", help="Seerr request id (live; probes nothing).")] = None,
    streams: Annotated[
        Path | None, typer.Option("--streams", help="A saved Torrentio response (offline; calls nothing).")
    ] = None,
    kind: Annotated[str, typer.Option(help="movie or show (offline form).")] = "movie",
    title: Annotated[str | None, typer.Option(help="The title asked for (offline form).")] = None,
    original_title: Annotated[str | None, typer.Option("--original-title", help="Its original title.")] = None,
    year: Annotated[int | None, typer.Option(help="Release year (movie) or first-air year (show).")] = None,
    season: Annotated[int | None, typer.Option(help="Wanted season (shows).")] = None,
    episodes: Annotated[str | None, typer.Option(help="Wanted episodes, e.g. 1-8 or 1,3,5 (shows).")] = None,
    profile: Annotated[str | None, typer.Option(help="Quality profile name (default: chosen by the rules).")] = None,
    is4k: Annotated[bool, typer.Option("--4k", help="Judge as a 4K request.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object instead of a table.")] = False,
) -> None:
    """Show why seerbridge would pick what it picks, without adding anything anywhere."""
    import json

    from seerbridge import clock
    from seerbridge.commands.explain import explain_streams, parse_episode_range, render_table, to_json

    settings = _settings()
    if (request is None) == (streams is None):
        _fail("give either --request ID or --streams FILE")
    if streams is not None:
        if kind not in ("movie", "show"):
            _fail("--kind must be movie or show")
        if not title:
            _fail("--title is required with --streams")
        try:
            payload = json.loads(streams.read_text(encoding="utf-8"))
            wanted_episodes = parse_episode_range(episodes) if episodes else []
            explanation = explain_streams(
                payload,
                kind=kind,  # type: ignore[arg-type]
                title=title,
                original_title=original_title,
                year=year,
                season=season,
                episodes=wanted_episodes,
                profile=profile,
                settings=settings.selection,
                today=clock.today(),
                is4k=is4k,
            )
        except (OSError, ValueError) as exc:
            _fail(f"cannot explain {streams}: {exc}")
        if as_json:
            typer.echo(json.dumps(to_json(explanation), ensure_ascii=False))
        else:
            _console().print(render_table(explanation))
        return
    assert request is not None
    _explain_live(settings, request, as_json)


def _explain_live(settings: Settings, request_id: int, as_json: bool) -> None:
    import json

    from seerbridge.commands.explain import render_decision, render_table
    from seerbridge.pipeline.explain_live import LiveExplanation, explain_request
    from seerbridge.runtime.bridge import open_bridge

    async def main() -> LiveExplanation:
        async with open_bridge(await _without_migrating(settings, new_ok=True)) as bridge:
            return await explain_request(bridge, request_id)

    live = _run(main())
    if as_json:
        typer.echo(json.dumps(live.as_json(), ensure_ascii=False))
        return
    out = _console()
    out.print(f"request {live.request_id}: {live.title.title}")
    for note in live.notes:
        out.print(f"  {note}")
    if not live.items:
        out.print("  nothing to search for right now")
    for wanted, explanation in live.items:
        out.print(f"\n{wanted.describe()}")
        out.print(render_table(explanation))
    for decision in live.decided:
        out.print(f"\n{decision.item_key}: decided {decision.at:%Y-%m-%d %H:%M} UTC: {decision.summary}")
        if decision.payload:
            out.print(render_decision(decision.payload))


@app.command()
def cleanup(
    apply: Annotated[bool, typer.Option("--apply", help="Delete what the plan lists (default: only show it).")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object instead of tables.")] = False,
) -> None:
    """Find redundant torrents in the Real-Debrid account (duplicates, upgraded, covered by a pack, deleted media)."""
    import json

    from seerbridge.pipeline.cleanup import CleanupOutcome, CleanupPlan, apply_cleanup, plan_cleanup
    from seerbridge.render.cleanup_report import render_outcome, render_plan
    from seerbridge.runtime.bridge import open_bridge
    from seerbridge.runtime.lease import account_lease

    settings = _settings()

    async def main() -> tuple[CleanupPlan, CleanupOutcome | None]:
        async with open_bridge(await _without_migrating(settings, new_ok=not apply)) as bridge:
            if not apply:
                return await plan_cleanup(bridge), None
            async with account_lease(bridge.sessions, "cleanup --apply"):
                plan = await plan_cleanup(bridge)
                return plan, await apply_cleanup(bridge, plan)

    plan, outcome = _run(main())
    if as_json:
        typer.echo(json.dumps({"plan": plan.as_json(), "applied": outcome.as_json() if outcome else None}))
    else:
        out = _console()
        for part in render_plan(plan) if outcome is None else render_outcome(plan, outcome):
            out.print(part)
    raise typer.Exit(0 if outcome is None or outcome.ok else 1)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply pending migrations (`seerbridge run` also does this when it starts; no other command does)."""
    from seerbridge.store.db import upgrade_database

    settings = _settings()
    before, after = _run(upgrade_database(settings.database.url.get_secret_value()))
    if before == after:
        typer.echo(f"database schema at {after}: nothing to do")
    else:
        typer.echo(f"database schema upgraded from {before or 'nothing'} to {after}")


@app.command()
def stats(
    request: Annotated[int | None, typer.Option("--request", help="Only this Seerr request id.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object instead of a table.")] = False,
) -> None:
    """What seerbridge spent and gained: calls, probes, cache hit rates, upgrades, removals, space reclaimed."""
    import json

    from seerbridge.commands.stats import Figures, Stats, UnknownRequest, gather_stats
    from seerbridge.render.stats_report import stats_notes, stats_table
    from seerbridge.store.db import DatabaseNew, open_database

    settings = _settings()

    async def main() -> Stats:
        try:
            engine, sessions = await open_database(settings.database.url.get_secret_value(), migrate=False)
        except DatabaseNew as exc:
            if request is not None:
                raise UnknownRequest(request) from exc
            if as_json:
                return Stats(requests=[], unattributed=Figures(), daily_calls=None)
            typer.echo(f"{str(exc)[:1].upper()}{str(exc)[1:]}.")
            raise typer.Exit(0) from None
        try:
            return await gather_stats(sessions, request)
        finally:
            await engine.dispose()

    try:
        figures = _run(main())
    except UnknownRequest as exc:
        _fail(str(exc), 1)
    if as_json:
        typer.echo(json.dumps(figures.as_json(), ensure_ascii=False))
        return
    if not figures.requests:
        typer.echo("No requests yet: run `seerbridge run --once` (or the daemon) first.")
        return
    out = _console()
    out.print(stats_table(figures))
    for line in stats_notes(figures):
        out.print(line)


@app.command("bad-hashes")
def bad_hashes(
    clear: Annotated[
        str | None, typer.Option("--clear", metavar="HASH", help="Forget this hash's mark: it may be tried again.")
    ] = None,
    clear_all: Annotated[
        bool, typer.Option("--clear-all", help="Forget every mark, Real-Debrid's refusals (451) included.")
    ] = False,
) -> None:
    """List the hashes seerbridge skips (why, since when, until when), or forget marks."""
    from datetime import datetime

    from seerbridge import clock
    from seerbridge.render.report import console
    from seerbridge.store import repo
    from seerbridge.store.db import DatabaseNew, open_database

    if clear is not None and clear_all:
        _fail("use --clear HASH or --clear-all, not both")
    settings = _settings()

    async def main() -> list[repo.BadMarkRecord] | int | bool:
        try:
            engine, sessions = await open_database(settings.database.url.get_secret_value(), migrate=False)
        except DatabaseNew as exc:
            if clear is not None:
                return False
            if not clear_all:
                typer.echo(f"{str(exc)[:1].upper()}{str(exc)[1:]}.")
                raise typer.Exit(0) from None
            return 0
        try:
            async with sessions.begin() as session:
                if clear is not None:
                    return await repo.clear_bad_mark(session, clear)
                if clear_all:
                    return await repo.clear_bad_marks(session)
                return await repo.bad_marks(session)
        finally:
            await engine.dispose()

    try:
        done = _run(main())
    except ValueError as exc:  # --clear with something that is no info hash
        _fail(str(exc))
    if clear is not None:
        if not done:
            _fail(f"{clear.strip().lower()} is not marked bad", 1)
        typer.echo(f"{clear.strip().lower()}: mark cleared; it may be tried again")
        return
    if not isinstance(done, list):
        typer.echo(f"{done} mark{'' if done == 1 else 's'} cleared")
        return
    if not done:
        typer.echo("No hash is marked bad.")
        return
    now = clock.now()

    def when(moment: datetime) -> str:
        return moment.strftime("%Y-%m-%d %H:%M UTC")

    # One block per mark (hash and source; times; reason), not a table: the whole hash, which --clear takes, and
    # the reason fit an 80-column terminal.
    out = console()
    expired = 0
    for mark in done:
        if mark.expires_at is None:
            expires = "expires never"
        elif mark.expires_at <= now:
            expires, expired = f"expired {when(mark.expires_at)}", expired + 1
        else:
            expires = f"expires {when(mark.expires_at)}"
        out.print(f"{mark.info_hash}  {mark.source}", highlight=False)
        out.print(f"  marked {when(mark.marked_at)}, {expires}", highlight=False)
        out.print(f"  {mark.reason}", highlight=False, markup=False)
    out.print(
        f"{len(done)} mark{'' if len(done) == 1 else 's'} ({expired} expired: no longer skipped)", highlight=False
    )


@app.command()
def version() -> None:
    """Print the seerbridge version."""
    from seerbridge import __version__

    typer.echo(__version__)


def main() -> None:
    app()
