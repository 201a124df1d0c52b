"""The `seerbridge` command line; heavy modules are imported inside each command to keep start-up quick."""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

if TYPE_CHECKING:
    from seerbridge.config import Settings
    from seerbridge.doctor import DoctorRow

app = typer.Typer(
    no_args_is_help=True, add_completion=False, help=__doc__ and "seerbridge: Seerr → Real-Debrid → Jellyfin."
)
config_app = typer.Typer(no_args_is_help=True, help="Show the effective configuration or an example file.")
db_app = typer.Typer(no_args_is_help=True, help="Inspect or migrate the database.")
app.add_typer(config_app, name="config")
app.add_typer(db_app, name="db")

ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", "-c", help="TOML config file (default: $SEERBRIDGE_CONFIG).", show_default=False),
]


class _State:
    config_path: Path | None = None


@app.callback()
def _main(config: ConfigOption = None) -> None:
    """seerbridge turns approved Seerr requests into files on Real-Debrid and tells Jellyfin and Seerr."""
    _State.config_path = config


def _fail(message: str, code: int = 2) -> NoReturn:
    typer.echo(f"seerbridge: {message}", err=True)
    raise typer.Exit(code)


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
    """Print the effective configuration (file + environment) with secrets masked."""
    from seerbridge.config_render import render_effective

    typer.echo(render_effective(_settings()))


@config_app.command("example")
def config_example() -> None:
    """Print a commented example configuration file."""
    from seerbridge.config_render import render_example

    typer.echo(render_example())


def print_doctor(rows: list[DoctorRow]) -> None:
    from rich.console import Console
    from rich.table import Table

    from seerbridge.doctor import SERVICE_LABELS

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
            "[green]ok[/green]" if row.ok else "[red]FAIL[/red]",
            row.version,
            detail,
        )
    Console(width=max(100, Console().width)).print(table)


@app.command()
def doctor() -> None:
    """Check every configured service (reachable, credentials, version, Real-Debrid premium and slots)."""
    from seerbridge.doctor import run_doctor

    rows = asyncio.run(run_doctor(_settings()))
    print_doctor(rows)
    raise typer.Exit(0 if all(r.ok for r in rows) else 1)


@app.command()
def sandbox(
    scenario: Annotated[str, typer.Option(help="A shipped scenario name or a YAML/JSON file.")] = "starter",
    speed: Annotated[float, typer.Option(help="How much faster than real time the emulators' clock runs.")] = 1.0,
) -> None:
    """Run emulators of all four services on loopback until interrupted; prints the env that points at them."""
    from seerbridge.sandbox.scenario import ScenarioError, load_scenario
    from seerbridge.sandbox.serve import LoopbackServers
    from seerbridge.sandbox.world import Sandbox

    try:
        world = load_scenario(scenario)
    except ScenarioError as exc:
        _fail(str(exc))
    sb = Sandbox(world)
    if speed != 1.0:
        sb.clock.set_speed(speed)

    async def main() -> None:
        servers = LoopbackServers(sb)
        hosts = await servers.start()
        for key, value in sb.env(hosts).items():
            typer.echo(f"export {key}='{value}'")
        typer.echo(f"# scenario {world.name!r}: {world.description}", err=True)
        typer.echo("# emulators running; Ctrl-C stops them", err=True)
        sys.stdout.flush()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
        await servers.stop()

    asyncio.run(main())


@app.command()
def demo(
    scenario: Annotated[str, typer.Option(help="A shipped scenario name or a YAML/JSON file.")] = "starter",
) -> None:
    """Start the emulators on loopback with a shipped scenario and run `doctor` against them."""
    import tempfile

    from seerbridge.config import ConfigError, load_settings
    from seerbridge.doctor import run_doctor
    from seerbridge.sandbox.scenario import ScenarioError, load_scenario
    from seerbridge.sandbox.serve import LoopbackServers
    from seerbridge.sandbox.world import Sandbox

    try:
        world = Sandbox(load_scenario(scenario))
    except ScenarioError as exc:
        _fail(str(exc))

    async def main() -> list[DoctorRow]:
        servers = LoopbackServers(world)
        hosts = await servers.start()
        try:
            with tempfile.TemporaryDirectory(prefix="seerbridge-demo-") as tmp:
                overrides: dict[str, Any] = world.overrides(hosts)
                overrides["database"] = {"url": f"sqlite+aiosqlite:///{tmp}/demo.db"}
                typer.echo(f"Emulators for scenario {world.scenario.name!r} are listening on loopback:")
                for name, host in hosts.items():
                    typer.echo(f"  {name:<11} {host}")
                settings = load_settings(None, overrides)
                return await run_doctor(settings)
        finally:
            await servers.stop()

    _settings()  # validates the user's own config and sets up logging, but the demo uses its own
    try:
        rows = asyncio.run(main())
    except ConfigError as exc:
        _fail(str(exc))
    print_doctor(rows)
    raise typer.Exit(0 if all(r.ok for r in rows) else 1)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply pending migrations (seerbridge also does this at start-up)."""
    from seerbridge.store.db import open_database
    from seerbridge.store.migrate import current_revision

    settings = _settings()

    async def main() -> str | None:
        engine, _ = await open_database(settings.database.url.get_secret_value())
        try:
            return await current_revision(engine)
        finally:
            await engine.dispose()

    typer.echo(f"database schema at {asyncio.run(main())}")


@app.command()
def version() -> None:
    """Print the seerbridge version."""
    from seerbridge import __version__

    typer.echo(__version__)


def main() -> None:
    app()
