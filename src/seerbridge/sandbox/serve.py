"""Runs the four emulators on loopback, each with uvicorn on a free port, in this process."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterator

import uvicorn

from seerbridge.sandbox.world import SERVICES, Sandbox, ServiceName

LOOPBACK = "127.0.0.1"


class LoopbackServers:
    """uvicorn servers for a sandbox's apps; `hosts` maps each service to `http://127.0.0.1:PORT` once started."""

    def __init__(self, sandbox: Sandbox, host: str = LOOPBACK) -> None:
        if not host.startswith("127.") and host not in {"localhost", "::1"}:
            raise ValueError("the sandbox only listens on loopback")
        self.sandbox = sandbox
        self.host = host
        self.servers: dict[ServiceName, uvicorn.Server] = {
            name: uvicorn.Server(
                uvicorn.Config(sandbox.apps[name], host=host, port=0, log_config=None, access_log=False, lifespan="off")
            )
            for name in SERVICES
        }
        self.hosts: dict[ServiceName, str] = {}
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> dict[ServiceName, str]:
        for name, server in self.servers.items():
            # We own signals; uvicorn's handler would re-raise SIGTERM and skip our cleanup.
            server.capture_signals = contextlib.nullcontext  # type: ignore[method-assign,assignment]
            task = asyncio.create_task(server.serve(), name=f"sandbox-{name}")
            self._tasks.append(task)
            while not server.started:
                if task.done():
                    raise RuntimeError(f"the {name} emulator could not start")
                await asyncio.sleep(0.01)
            port = server.servers[0].sockets[0].getsockname()[1]
            self.hosts[name] = f"http://{self.host}:{port}"
        return self.hosts

    async def stop(self, *, patience_s: float = 2.0) -> None:
        """Stop serving; calls still held open (a fault holding an answer back) are cut after `patience_s`."""
        for server in self.servers.values():
            server.should_exit = True
        _, pending = await asyncio.wait(self._tasks, timeout=patience_s) if self._tasks else (set(), set())
        if pending:
            for server in self.servers.values():
                server.force_exit = True
            await asyncio.gather(*self._tasks, return_exceptions=True)


@contextlib.contextmanager
def running_in_thread(sandbox: Sandbox) -> Iterator[dict[ServiceName, str]]:
    """Serve the sandbox on loopback from a background thread (for tests and synchronous callers)."""
    ready = threading.Event()
    hosts: dict[ServiceName, str] = {}
    errors: list[BaseException] = []
    loop = asyncio.new_event_loop()
    stop_event: list[asyncio.Event] = []

    async def main() -> None:
        servers = LoopbackServers(sandbox)
        stop = asyncio.Event()
        stop_event.append(stop)
        try:
            hosts.update(await servers.start())
        except BaseException as exc:
            errors.append(exc)
            ready.set()
            raise
        ready.set()
        await stop.wait()
        await servers.stop()

    thread = threading.Thread(target=loop.run_until_complete, args=(main(),), daemon=True)
    thread.start()
    ready.wait(30)
    if errors:
        raise errors[0]
    try:
        yield hosts
    finally:
        if stop_event:
            loop.call_soon_threadsafe(stop_event[0].set)
        thread.join(10)
        loop.close()
