"""The account gate: work that may add or reuse torrents (requests, upgrade checks) runs side by side; a cleanup,
which deletes what it judged redundant a moment before, runs alone, so nothing it judged can change under it."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator


class AccountGate:
    """A readers-writer lock that prefers the writer: once a cleanup waits, new work waits behind it (cleanups are
    rare and short; without the preference a busy daemon would never let one in)."""

    def __init__(self) -> None:
        self._changed = asyncio.Condition()
        self._working = 0
        self._cleaning = False
        self._cleanups_waiting = 0

    @property
    def working(self) -> int:
        return self._working

    @contextlib.asynccontextmanager
    async def work(self) -> AsyncIterator[None]:
        async with self._changed:
            await self._changed.wait_for(lambda: not self._cleaning and not self._cleanups_waiting)
            self._working += 1
        try:
            yield
        finally:
            async with self._changed:
                self._working -= 1
                self._changed.notify_all()

    @contextlib.asynccontextmanager
    async def cleanup(self) -> AsyncIterator[None]:
        async with self._changed:
            self._cleanups_waiting += 1
            try:
                await self._changed.wait_for(lambda: not self._cleaning and not self._working)
            finally:
                self._cleanups_waiting -= 1
            self._cleaning = True
        try:
            yield
        finally:
            async with self._changed:
                self._cleaning = False
                self._changed.notify_all()


__all__ = ["AccountGate"]
