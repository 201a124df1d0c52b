"""Attribution of calls to the work in progress through contextvars: every call made inside `attribute_calls` is also
counted in that block's ledger (the ledger itself is a plain domain type, domain/calls.py)."""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator

from seerbridge.domain.calls import CallLedger

__all__ = ["CallLedger", "active_ledgers", "attribute_calls", "attribute_only", "note_event"]


_active: contextvars.ContextVar[tuple[CallLedger, ...]] = contextvars.ContextVar("seerbridge_ledgers", default=())


@contextlib.contextmanager
def attribute_calls(ledger: CallLedger) -> Iterator[CallLedger]:
    """Within this block (and tasks started from it) every call is also counted in `ledger`."""
    token = _active.set((*_active.get(), ledger))
    try:
        yield ledger
    finally:
        _active.reset(token)


@contextlib.contextmanager
def attribute_only(ledger: CallLedger) -> Iterator[CallLedger]:
    """Within this block calls count in `ledger` alone: shared work (listing an account) that serves many requests."""
    token = _active.set((ledger,))
    try:
        yield ledger
    finally:
        _active.reset(token)


def active_ledgers() -> tuple[CallLedger, ...]:
    return _active.get()


def note_event(name: str, n: int = 1) -> None:
    """Count an event on every active ledger, as calls are (a no-op outside any `attribute_*` block)."""
    for ledger in active_ledgers():
        ledger.note(name, n)
