"""`seerbridge bad-hashes`: the marks a person sees (hash, reason, source, marked, expires) and clears."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from seerbridge.store import repo
from seerbridge.store.db import open_database
from tests.cli_runner import invoke

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
REFUSED = "208e215d8938cf090b94bc915d480d1d2d5944e7"
STALLED = "645d48498e38c70ea694fa6a51a1a8320c07cf47"
DEAD = "b" * 40


def _env(path: Path) -> dict[str, str]:
    return {"SEERBRIDGE_DATABASE__URL": f"sqlite+aiosqlite:///{path}", "SEERBRIDGE_CLOCK": NOW.isoformat()}


def _marked(path: Path) -> dict[str, str]:
    """A store with a refusal (for good), a stall (expires in 2 days) and a dead download (expired yesterday)."""

    async def prepare() -> None:
        engine, sessions = await open_database(_env(path)["SEERBRIDGE_DATABASE__URL"])
        try:
            async with sessions.begin() as s:
                await repo.mark_bad(
                    s, REFUSED, reason="Real-Debrid refused it (451 infringing_file)", source="realdebrid:451",
                    now=NOW - timedelta(days=30),
                )  # fmt: skip
                await repo.mark_bad(
                    s, STALLED, reason="download stalled at 40 % (downloading) for over 60 min: Dune",
                    source="stalled", now=NOW - timedelta(days=1), ttl=timedelta(days=3),
                )  # fmt: skip
                await repo.mark_bad(
                    s, DEAD, reason="download dead on Real-Debrid: Arrival", source="realdebrid:dead",
                    now=NOW - timedelta(days=8), ttl=timedelta(days=7),
                )  # fmt: skip
        finally:
            await engine.dispose()

    asyncio.run(prepare())
    return _env(path)


async def _marks(path: Path) -> set[str]:
    engine, sessions = await open_database(_env(path)["SEERBRIDGE_DATABASE__URL"], migrate=False)
    try:
        async with sessions() as s:
            return {m.info_hash for m in await repo.bad_marks(s)}
    finally:
        await engine.dispose()


def _block(out: str, info_hash: str) -> list[str]:
    """The lines about one mark: the hash and source, then what follows up to the next hash."""
    lines = out.splitlines()
    (start,) = [n for n, line in enumerate(lines) if line.startswith(info_hash)]
    return [lines[start], *[line for line in lines[start + 1 : start + 3] if line.startswith("  ")]]


def test_the_list_shows_each_mark_with_its_reason_source_and_expiry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = _marked(tmp_path / "s.db")
    monkeypatch.setenv("COLUMNS", "80")
    code, out = invoke(["bad-hashes"], env, monkeypatch)
    assert code == 0, out
    assert max(len(line) for line in out.splitlines()) <= 80, out
    assert _block(out, REFUSED) == [
        f"{REFUSED}  realdebrid:451",
        "  marked 2026-10-25 12:00 UTC, expires never",
        "  Real-Debrid refused it (451 infringing_file)",
    ]
    assert _block(out, STALLED) == [
        f"{STALLED}  stalled",
        "  marked 2026-11-23 12:00 UTC, expires 2026-11-26 12:00 UTC",
        "  download stalled at 40 % (downloading) for over 60 min: Dune",
    ]
    assert _block(out, DEAD)[:2] == [
        f"{DEAD}  realdebrid:dead",
        "  marked 2026-11-16 12:00 UTC, expired 2026-11-23 12:00 UTC",
    ]
    assert out.splitlines()[-1] == "3 marks (1 expired: no longer skipped)"


def test_clear_forgets_one_mark_and_clear_all_every_mark(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "s.db"
    env = _marked(path)
    code, out = invoke(["bad-hashes", "--clear", STALLED.upper()], env, monkeypatch)
    assert (code, out.strip()) == (0, f"{STALLED}: mark cleared; it may be tried again")
    assert asyncio.run(_marks(path)) == {REFUSED, DEAD}

    code, out = invoke(["bad-hashes", "--clear", STALLED], env, monkeypatch)
    assert (code, out.strip()) == (1, f"seerbridge: {STALLED} is not marked bad")

    code, out = invoke(["bad-hashes", "--clear", "not-a-hash"], env, monkeypatch)
    assert code == 2 and "not a 40-hex info hash" in out and "Traceback" not in out

    code, out = invoke(["bad-hashes", "--clear-all"], env, monkeypatch)
    assert (code, out.strip()) == (0, "2 marks cleared")
    assert asyncio.run(_marks(path)) == set()

    code, out = invoke(["bad-hashes"], env, monkeypatch)
    assert (code, out.strip()) == (0, "No hash is marked bad.")


def test_clear_and_clear_all_together_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env = _marked(tmp_path / "s.db")
    code, out = invoke(["bad-hashes", "--clear", STALLED, "--clear-all"], env, monkeypatch)
    assert code == 2 and "not both" in out
    assert asyncio.run(_marks(tmp_path / "s.db")) == {REFUSED, STALLED, DEAD}


def test_on_a_new_database_nothing_is_marked_and_nothing_is_created(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "data" / "seerbridge.db"
    code, out = invoke(["bad-hashes"], _env(path), monkeypatch)
    assert code == 0 and "is new" in out, out
    code, out = invoke(["bad-hashes", "--clear", STALLED], _env(path), monkeypatch)
    assert code == 1 and "is not marked bad" in out, out
    assert not path.parent.exists()
