"""The work queue: request ids waiting to be worked, each at most once at a time.

Webhooks and the poller both submit; an id already waiting or being worked is not queued again, so fifty
duplicate notifications make one unit of work. Closing the queue (shutdown) refuses new work and lets the
workers drain out.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass


@dataclass
class QueueStats:
    submitted: int = 0
    coalesced: int = 0
    refused: int = 0
    done: int = 0


class WorkQueue:
    def __init__(self) -> None:
        self._queue: asyncio.Queue[int | None] = asyncio.Queue()
        self._waiting: set[int] = set()
        self._running: set[int] = set()
        self._closed = False
        self.stats = QueueStats()

    @property
    def closed(self) -> bool:
        return self._closed

    def submit(self, request_id: int, why: str = "") -> bool:
        """Queue a request; False when it is already waiting or running, or the queue is closed."""
        if self._closed:
            self.stats.refused += 1
            return False
        if request_id in self._waiting or request_id in self._running:
            self.stats.coalesced += 1
            return False
        self._waiting.add(request_id)
        self._queue.put_nowait(request_id)
        self.stats.submitted += 1
        return True

    async def take(self) -> int | None:
        """The next request id to work on, or None once the queue is closed (workers then stop)."""
        request_id = await self._queue.get()
        if request_id is None:
            self._queue.put_nowait(None)  # let every other worker see the end too
            return None
        self._waiting.discard(request_id)
        self._running.add(request_id)
        return request_id

    def finish(self, request_id: int) -> None:
        self._running.discard(request_id)
        self.stats.done += 1

    def close(self) -> None:
        """No new work; workers finish what they hold and stop. Queued but unstarted ids are dropped."""
        if self._closed:
            return
        self._closed = True
        while not self._queue.empty():
            item = self._queue.get_nowait()
            if item is not None:
                self._waiting.discard(item)
        self._queue.put_nowait(None)

    def busy(self) -> set[int]:
        return set(self._running)

    def waiting(self) -> int:
        return len(self._waiting)
