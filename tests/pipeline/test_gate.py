"""The account gate: work side by side, a cleanup alone, and a waiting cleanup goes before new work."""

from __future__ import annotations

import asyncio

from seerbridge.pipeline.gate import AccountGate


async def test_work_runs_side_by_side_and_a_cleanup_waits_for_it_then_goes_before_new_work() -> None:
    gate = AccountGate()
    order: list[str] = []
    first_in, release_first = asyncio.Event(), asyncio.Event()

    async def work(name: str, hold: asyncio.Event | None = None, entered: asyncio.Event | None = None) -> None:
        async with gate.work():
            order.append(f"{name} in")
            if entered is not None:
                entered.set()
            if hold is not None:
                await hold.wait()
            order.append(f"{name} out")

    async def cleanup() -> None:
        async with gate.cleanup():
            order.append("cleanup in")
            assert gate.working == 0
            await asyncio.sleep(0)
            order.append("cleanup out")

    a = asyncio.create_task(work("a", release_first, first_in))
    b = asyncio.create_task(work("b"))
    await first_in.wait()
    await asyncio.sleep(0)
    assert "b out" in order and "a out" not in order  # b came and went while a held the gate: side by side
    c = asyncio.create_task(cleanup())
    await asyncio.sleep(0.01)
    late = asyncio.create_task(work("late"))  # arrives while the cleanup waits: goes after it
    await asyncio.sleep(0.01)
    assert "cleanup in" not in order and "late in" not in order  # `a` still holds the gate
    release_first.set()
    await asyncio.gather(a, b, c, late)
    assert order.index("a out") < order.index("cleanup in") < order.index("cleanup out") < order.index("late in")
