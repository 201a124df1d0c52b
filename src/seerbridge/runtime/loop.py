"""The polling loop: a pass, then an interruptible wait; a signal stops it after the pass in progress."""

from __future__ import annotations

import asyncio
import contextlib
import signal

import structlog

from seerbridge.errors import ServiceError
from seerbridge.pipeline.process import Bridge

log = structlog.get_logger("seerbridge.loop")


async def run_forever(bridge: Bridge, stop: asyncio.Event, interval_s: float) -> None:
    """Pass after pass until `stop` is set; a failing pass (Seerr down, ...) is logged and retried next time."""
    while not stop.is_set():
        try:
            report = await bridge.run_pass()
            log.info("pass done", requests=len(report.results))
        except ServiceError as exc:
            log.warning("pass failed", error=str(exc))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval_s)


def install_stop_signals(stop: asyncio.Event) -> None:
    """SIGINT/SIGTERM end the loop after the current pass."""
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
