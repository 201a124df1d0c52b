"""`seerbridge run`: the poller, the webhook server, the workers and the download follower in one process.

Phases: start (reconcile intents left by a crash, queue the requests a stop interrupted), run (the tasks below),
stop. The first SIGINT/SIGTERM closes the queue and the server (no new work) and tells the bridge to stop: each
request in hand ends after the step it is in (a probe, a search) and is due again at the next start; the poller
and the follower end after their current round. All of that is bounded by `run.grace_s`; the second signal, or
the end of the grace period, cancels what is left. Every step commits before its next side effect and every
Real-Debrid add is recorded as an intent first, so a cancel (or a kill) leaves the database consistent, and the
next start settles the intents and picks up where this one stopped.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import functools
import json
import os
import signal
import socket
import threading
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import structlog
import uvicorn

from seerbridge import clock
from seerbridge.arr.facade import ArrFacade
from seerbridge.config import Settings, unset_required
from seerbridge.domain.states import RequestState
from seerbridge.errors import SeerbridgeError, ServiceError
from seerbridge.library.play import PlayResolver, PlayTarget
from seerbridge.library.sync import library_on, play_secret, play_target, torrent_of_entry
from seerbridge.pipeline.process import Bridge
from seerbridge.pipeline.repair import Repairer, request_repair
from seerbridge.runtime.queue import WorkQueue
from seerbridge.store import repo
from seerbridge.store.db import DatabaseUnreachable, open_database
from seerbridge.web.app import create_app

log = structlog.get_logger("seerbridge.daemon")


# The exit code of a stop forced by a second signal (128 + SIGINT, as a shell reports Ctrl-C).
HARD_EXIT_CODE = 130
STARTED_KEY = "run.started"  # app state: the process whose start-up (reconcile, library sync) last completed
CLEANUP_KEY = "cleanup.last_at"  # app state: when the periodic cleanup last ran
PRUNE_KEY = "prune.last_at"  # app state: when the store was last pruned
PRUNE_EVERY = timedelta(days=1)  # what the prune deletes is days old: once a day keeps up


@dataclass
class StopSignal:
    """First signal: stop taking work. Second: stop now.

    `hard_exit_s` (the CLI sets it; tests do not): after the second signal, the process exits with code 130 that
    many seconds later even if something will not unwind (a thread stuck in a call). The store is safe with that,
    as with a kill: every write is a committed transaction.
    """

    graceful: asyncio.Event = field(default_factory=asyncio.Event)
    forced: asyncio.Event = field(default_factory=asyncio.Event)
    hard_exit_s: float | None = None
    since: float | None = None  # time.monotonic() of the first signal

    def trigger(self) -> None:
        if self.graceful.is_set():
            if self.forced.is_set():
                return
            log.warning("second stop signal: stopping now")
            self.forced.set()
            if self.hard_exit_s is not None:
                timer = threading.Timer(self.hard_exit_s, os._exit, (HARD_EXIT_CODE,))
                timer.daemon = True
                timer.start()
        else:
            log.info("stopping: finishing the work in hand (send the signal again to stop at once)")
            self.since = time.monotonic()
            self.graceful.set()

    def install(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self.trigger)


DATABASE_RETRY_S = (1.0, 2.0, 5.0, 10.0, 30.0, 60.0)  # waits between attempts to open the database; the last repeats


async def wait_for_database(url: str, stop: StopSignal, delays: tuple[float, ...] = DATABASE_RETRY_S) -> bool:
    """Open (and migrate) the database, trying again while it cannot be reached (PostgreSQL still starting, a folder
    not mounted yet), one log line per attempt. True once it is ready; False when a stop signal came first."""
    attempt = 0
    while True:
        try:
            engine, _ = await open_database(url)
        except DatabaseUnreachable as exc:
            delay = delays[min(attempt, len(delays) - 1)]
            attempt += 1
            log.warning("waiting for the database", error=str(exc), attempt=attempt, retry_in_s=delay)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.graceful.wait(), timeout=delay)
            if stop.graceful.is_set():
                return False
            continue
        await engine.dispose()
        if attempt:
            log.info("database ready", attempts=attempt + 1)
        return True


class ServerError(SeerbridgeError):
    """The webhook server cannot listen where it is told to (a port in use, an address not on this host)."""


def listen_socket(host: str, port: int) -> socket.socket:
    """A socket bound to host:port for the server, or ServerError with one line naming the setting to change."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
    except socket.gaierror as exc:
        raise ServerError(f"cannot listen on {host}: {exc.strerror} (set SEERBRIDGE_SERVER__HOST)") from None
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does: a restart need not wait
        sock.bind(address)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise ServerError(f"port {port} on {host} is in use (set SEERBRIDGE_SERVER__PORT)") from None
        reason = (exc.strerror or str(exc)).lower()
        raise ServerError(
            f"cannot listen on port {port} on {host}: {reason} (set SEERBRIDGE_SERVER__HOST or SEERBRIDGE_SERVER__PORT)"
        ) from None
    return sock


@dataclass
class Health:
    started_at: float = field(default_factory=time.monotonic)
    last_pass_at: datetime | None = None
    last_pass_error: str | None = None
    last_pass_failed: str | None = None  # the service the last poll failed on
    worked: int = 0

    def view(self, queue: WorkQueue, extra: Callable[[], dict[str, Any]] | None = None) -> dict[str, Any]:
        """The body of /healthz. `services` is each service's breaker, except that one the last poll failed on
        reads "failing: ..." even while its breaker has not opened yet; `ok` is every service up and the last
        poll through (`alive` alone decides the HTTP status: a liveness probe must not restart the daemon because
        Seerr is down)."""
        body: dict[str, Any] = {
            "alive": True,
            "ok": self.last_pass_error is None,
            "uptime_s": round(time.monotonic() - self.started_at, 1),
            "last_successful_pass": self.last_pass_at.isoformat() if self.last_pass_at else None,
            "last_pass_error": self.last_pass_error,
            "queued": queue.waiting(),
            "working": sorted(queue.busy()),
            "requests_worked": self.worked,
        }
        if extra is not None:
            body.update(extra())
        services = body.get("services")
        if isinstance(services, dict):
            failed = self.last_pass_failed
            if failed in services and services[failed] == "up":
                services[failed] = f"failing: {self.last_pass_error}"
            body["ok"] = body["ok"] and all(view == "up" or str(view).startswith("up;") for view in services.values())
        return body


class Daemon:
    def __init__(self, settings: Settings, bridge: Bridge) -> None:
        self.settings = settings
        self.bridge = bridge
        self.queue = WorkQueue()
        self._follow_soon = asyncio.Event()
        self.health = Health()
        self.server: uvicorn.Server | None = None
        self._socket: socket.socket | None = None
        self._repair_soon = asyncio.Event()
        self.play: PlayResolver | None = None  # strm entries' /play/ answers, made at start

    @functools.cached_property
    def arr(self) -> ArrFacade:
        """seerbridge as Seerr's Radarr and Sonarr: what Seerr adds is queued like an approval webhook."""
        return ArrFacade(self.bridge, self.queue.submit, clock.now())

    @functools.cached_property
    def repairer(self) -> Repairer:
        return Repairer(self.settings, self.bridge.services.realdebrid, self.bridge.sessions)

    def web_app(self) -> Any:
        return create_app(
            submit=self.queue.submit,
            health=lambda: self.health.view(self.queue, self.bridge.health_details),
            secret=self.settings.webhook.secret.get_secret_value(),
            play=self.play,
            arr=self.arr if self.settings.arr.api_key.get_secret_value() else None,
            arr_key=self.settings.arr.api_key.get_secret_value(),
        )

    async def _make_play(self) -> PlayResolver | None:
        """The resolver behind /play/ when seerbridge writes strm entries; a lost file asks for a repair round."""
        if not (library_on(self.settings) and self.settings.library.mode == "strm"):
            return None
        sessions = self.bridge.sessions

        async def lookup(entry_id: int) -> PlayTarget | None:
            return await play_target(sessions, entry_id)

        async def gone(entry_id: int, reason: str) -> None:
            torrent_id = await torrent_of_entry(sessions, entry_id)
            if torrent_id is not None:
                await request_repair(sessions, torrent_id, reason)
                self._repair_soon.set()

        return PlayResolver(self.bridge.services.realdebrid, lookup, gone, await play_secret(sessions))

    async def repair_once(self) -> list[int]:
        """A repair round when one is due (pipeline/repair.py); its requests are queued. Never raises a service
        error: the next round tries again."""
        if not self.settings.repair.enabled:
            return []
        now = self.bridge.now()
        try:
            if not await self.repairer.due(now):
                return []
            due = await self.repairer.round(now)
        except ServiceError as exc:
            log.warning("repair round failed", error=str(exc), hint=self._hint(exc))
            return []
        for request_id in due:
            self.queue.submit(request_id, "repair")
        return due

    async def _repairs(self, stop: StopSignal) -> None:
        """Repair rounds: looked for every minute (a round lists the account only when one is due), and at once
        when a play found a file gone."""
        while not stop.graceful.is_set():
            try:
                await self.repair_once()
            except Exception:  # a bug here must not end the daemon
                log.exception("repair round crashed")
            self._repair_soon.clear()
            woken = asyncio.ensure_future(self._repair_soon.wait())
            stopping = asyncio.ensure_future(stop.graceful.wait())
            wait = min(60.0, self.settings.repair.interval_minutes * 60)
            await asyncio.wait([woken, stopping], timeout=wait, return_when=asyncio.FIRST_COMPLETED)
            woken.cancel()
            stopping.cancel()

    async def run(self, stop: StopSignal, *, ready: Callable[[Daemon], Awaitable[None]] | None = None) -> None:
        """Start, run until the first stop signal, then stop (see the module docstring)."""
        if self.settings.server.enabled:  # a port in use stops the start before any work is done
            self._socket = listen_socket(self.settings.server.host, self.settings.server.port)
        self._warn_unconfigured()
        watch = asyncio.ensure_future(self._on_stop(stop))
        try:
            if await self._phase(self._start(), stop):
                await self._serve(stop, ready)
        finally:
            watch.cancel()
            if self._socket is not None:
                self._socket.close()
        log.info("stopped", worked=self.health.worked, forced=stop.forced.is_set())

    async def _on_stop(self, stop: StopSignal) -> None:
        await stop.graceful.wait()
        self.queue.close()  # no new work: webhooks and the poller are refused from now on
        self.bridge.stopping = True  # requests in hand end at their next step boundary

    async def _start(self) -> None:
        """Settle what a crash or kill left half done, bring the library up to date (entries a kill left unwritten or
        half written), then queue the requests a stop interrupted."""
        await self.bridge.reconcile()
        self.play = await self._make_play()
        await self.bridge.announce(full_sync=True)
        async with self.bridge.sessions() as session:
            records = await repo.list_requests(session)
        for record in records:
            if record.state in (RequestState.WORKING, RequestState.NEW):
                self.queue.submit(record.id, "resume")
        async with self.bridge.sessions.begin() as session:
            # Start-up is over (what a crash left is settled, the library written): who, and since when.
            await repo.set_state(session, STARTED_KEY, json.dumps({"pid": os.getpid(), "at": clock.wall().isoformat()}))

    async def _serve(self, stop: StopSignal, ready: Callable[[Daemon], Awaitable[None]] | None) -> None:
        tasks = [asyncio.create_task(self._worker(n), name=f"worker-{n}") for n in range(self.settings.run.concurrency)]
        tasks.append(asyncio.create_task(self._poller(stop), name="poller"))
        tasks.append(asyncio.create_task(self._follower(stop), name="follower"))
        tasks.append(asyncio.create_task(self._keeper(stop), name="keeper"))
        tasks.append(asyncio.create_task(self._repairs(stop), name="repairs"))
        try:
            if self.settings.server.enabled:
                await self._phase(self._start_server(), stop)
            if ready is not None and not stop.graceful.is_set():
                await ready(self)
            await stop.graceful.wait()
            await self._phase(self._stop_server(), stop)
            # Workers end after their current step; the poller and the follower after their current round.
            await self._phase(asyncio.gather(*tasks, return_exceptions=True), stop)
        finally:
            for task in tasks:
                task.cancel()
            # Cancelled tasks unwind at their next await; do not wait long for one that will not.
            await asyncio.wait(tasks, timeout=2.0)
            if self.server is not None and not self._server_task.done():
                self.server.force_exit = True
                self._server_task.cancel()

    def _grace_left(self, stop: StopSignal) -> float | None:
        """Seconds left of the grace period; None before the first signal."""
        if stop.since is None:
            return None
        return max(0.0, stop.since + self.settings.run.grace_s - time.monotonic())

    async def _phase(self, work: Coroutine[Any, Any, Any] | asyncio.Future[Any], stop: StopSignal) -> bool:
        """Run `work` until it ends, the grace period (once a stop began) runs out or the second signal comes, and
        cancel it in the last two cases. True when it ended by itself; its exception, if any, is raised."""
        task = asyncio.ensure_future(work)
        forced = asyncio.ensure_future(stop.forced.wait())
        graceful = asyncio.ensure_future(stop.graceful.wait())
        try:
            while not task.done() and not stop.forced.is_set():
                left = self._grace_left(stop)
                if left == 0.0:
                    log.warning("grace period over: stopping the work still in hand")
                    break
                waiting: set[asyncio.Future[Any]] = {task, forced}
                if left is None:
                    waiting.add(graceful)  # wake when a stop begins, to bound the wait by the grace period
                await asyncio.wait(waiting, timeout=left, return_when=asyncio.FIRST_COMPLETED)
        finally:
            forced.cancel()
            graceful.cancel()
        if task.done():
            if not task.cancelled() and (error := task.exception()) is not None:
                raise error
            return True
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await asyncio.wait_for(asyncio.shield(task), timeout=2.0)
        return False

    async def _worker(self, number: int) -> None:
        while True:
            request_id = await self.queue.take()
            if request_id is None:
                return
            try:
                result = await self.bridge.work_request(request_id)
                self.health.worked += 1
                if result is not None and result.state is RequestState.DOWNLOADING:
                    self._follow_soon.set()  # a new download: look at it soon, not after an idle round's wait
                done = await self.bridge.announce()  # what a cached arrival owes Jellyfin goes out now
                if done.awaiting:
                    self._follow_soon.set()  # the follower looks for it in Jellyfin, then tells Seerr
            except ServiceError as exc:
                log.warning("request could not be worked", request_id=request_id, error=str(exc))
            except Exception:  # a bug in one request must not kill the worker
                log.exception("request crashed", request_id=request_id)
            finally:
                self.queue.finish(request_id)

    def _hint(self, exc: ServiceError) -> str:
        """What to change when a service keeps failing: the setting left empty, else doctor's one-line diagnosis."""
        from seerbridge.commands.doctor import SERVICE_LABELS, explain

        missing = unset_required(self.settings, exc.service)
        if missing:
            return missing[0]
        return explain(exc, exc.service, self.settings) if exc.service in SERVICE_LABELS else ""

    def _warn_unconfigured(self) -> None:
        """One line per setting whose absence will make every poll or webhook fail, before the first of them."""
        for line in unset_required(self.settings):
            log.warning("not configured", problem=line)
        if self.settings.server.enabled and not self.settings.webhook.secret.get_secret_value():
            log.warning(
                "not configured",
                problem="no webhook secret: webhooks are refused until SEERBRIDGE_WEBHOOK__SECRET is set "
                "(polling still finds every request)",
            )

    async def poll_once(self) -> None:
        """One poll: settle unsettled intents, then queue every request that is due; the outcome goes to /healthz."""
        try:
            await self.bridge.reconcile()
            for request_id in await self.bridge.due_request_ids():
                self.queue.submit(request_id, "poll")
            self.health.last_pass_at = clock.now()
            self.health.last_pass_error = None
            self.health.last_pass_failed = None
        except ServiceError as exc:
            self.health.last_pass_error = str(exc)
            self.health.last_pass_failed = exc.service
            log.warning("poll failed", error=str(exc), hint=self._hint(exc))

    async def _poller(self, stop: StopSignal) -> None:
        """Every poll interval: queue every approved request whose retry time has come (the webhook safety net).

        Each round first settles intents an error left unsettled (a timed-out add, an undo Real-Debrid refused),
        so they never wait for a restart; a probe also settles those of its own hash before adding it.
        """
        while not stop.graceful.is_set():
            await self.poll_once()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.graceful.wait(), timeout=self.settings.run.poll_interval_s)

    async def _follower(self, stop: StopSignal) -> None:
        """Follow the downloads seerbridge started, at a cadence the tracker chooses."""
        while not stop.graceful.is_set():
            try:
                delay = await self.bridge.follow_downloads()
            except ServiceError as exc:
                log.warning("following downloads failed", error=str(exc), hint=self._hint(exc))
                delay = 60.0
            self._follow_soon.clear()
            woken = asyncio.ensure_future(self._follow_soon.wait())
            stopping = asyncio.ensure_future(stop.graceful.wait())
            await asyncio.wait([woken, stopping], timeout=delay, return_when=asyncio.FIRST_COMPLETED)
            woken.cancel()
            stopping.cancel()
            if self._follow_soon.is_set():
                # Give the new download the shortest round wait, so its first look is not immediate either.
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.graceful.wait(), timeout=self.settings.follow.min_interval_s)

    async def _keeper(self, stop: StopSignal) -> None:
        """Every `upgrade.interval_s`: an upgrade round (replaced torrents past their hold deleted, due torrents
        checked for a better copy), then the periodic cleanup when it is enabled and its interval has passed, then
        (once a day) the store's prune."""
        from seerbridge.pipeline.upgrade import Upgrader

        upgrader = Upgrader(self.bridge)
        while not stop.graceful.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.graceful.wait(), timeout=self.settings.upgrade.interval_s)
            if stop.graceful.is_set():
                return
            try:
                await upgrader.round()
                if self.settings.cleanup.periodic:
                    await self._periodic_cleanup()
            except Exception:  # a bug here must not end the daemon; the next round tries again
                log.exception("upgrade or cleanup round crashed")
            try:  # apart: a failing upgrade round must not let the store grow
                await self._prune_store()
            except Exception:
                log.exception("pruning the store crashed")

    async def _prune_store(self) -> None:
        """Once a day: old decisions (but the latest of each request and item) and expired search answers go."""
        now = self.bridge.now()
        async with self.bridge.sessions.begin() as session:
            last = await repo.get_state(session, PRUNE_KEY)
            if last is not None and now - datetime.fromisoformat(last) < PRUNE_EVERY:
                return
            pruned = await repo.prune(session, now=now, decisions_keep_days=self.settings.database.decisions_keep_days)
            await repo.set_state(session, PRUNE_KEY, now.isoformat())
        log.info("store pruned", decisions=pruned.decisions, search_answers=pruned.search_cache)

    async def _periodic_cleanup(self) -> None:
        from seerbridge.pipeline.cleanup import apply_cleanup, plan_cleanup

        now = self.bridge.now()
        async with self.bridge.sessions() as session:
            last = await repo.get_state(session, CLEANUP_KEY)
        if last is not None and now - datetime.fromisoformat(last) < timedelta(hours=self.settings.cleanup.interval_h):
            return
        try:
            # Alone: no request or upgrade check may reuse or add a torrent between the plan and its deletions.
            async with self.bridge.gate.cleanup():
                plan = await plan_cleanup(self.bridge)
                await apply_cleanup(self.bridge, plan)
        except ServiceError as exc:
            log.warning("periodic cleanup failed; it runs again at the next round", error=str(exc))
            return
        async with self.bridge.sessions.begin() as session:
            await repo.set_state(session, CLEANUP_KEY, now.isoformat())

    async def _start_server(self) -> None:
        cfg = self.settings.server
        config = uvicorn.Config(
            self.web_app(),
            host=cfg.host,
            port=cfg.port,
            log_config=None,
            access_log=False,
            timeout_graceful_shutdown=max(1, int(self.settings.run.grace_s)),
        )
        server = uvicorn.Server(config)
        server.capture_signals = contextlib.nullcontext  # type: ignore[method-assign,assignment]
        if self._socket is None:
            self._socket = listen_socket(cfg.host, cfg.port)
        self._server_task = asyncio.create_task(server.serve(sockets=[self._socket]), name="web")
        while not server.started:
            if self._server_task.done():
                raise RuntimeError(f"cannot listen on {cfg.host}:{cfg.port}")
            await asyncio.sleep(0.01)
        self.server = server
        log.info("listening", url=f"http://{cfg.host}:{self.port}")

    @property
    def port(self) -> int | None:
        if self.server is None or not self.server.servers:
            return None
        port: int = self.server.servers[0].sockets[0].getsockname()[1]
        return port

    async def _stop_server(self) -> None:
        if self.server is not None:
            self.server.should_exit = True
            with contextlib.suppress(Exception):
                await self._server_task
