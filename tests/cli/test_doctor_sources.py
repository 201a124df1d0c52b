"""`seerbridge doctor` has a row per configured source: ok against the emulators, the setting to fix when the key
is refused, and Torrentio shown off when only the sources search."""

from __future__ import annotations

from typing import Any

from pydantic import SecretStr

from seerbridge.commands.demo import in_process
from seerbridge.commands.doctor import run_doctor
from tests.e2e.conftest import Factory


def both(data: dict[str, Any]) -> None:
    data["sources"] = ["torznab", "zilean"]


async def test_a_row_per_source(make_e2e: Factory) -> None:
    e2e = make_e2e(edit=both)
    rows = {row.service: row for row in await run_doctor(e2e.settings, in_process(e2e.world))}
    assert rows["source torznab"].ok and rows["source torznab"].summary == "ok"
    assert rows["source zilean"].ok and rows["source zilean"].summary == "ok"
    assert rows["torrentio"].ok


async def test_a_refused_key_names_its_setting_and_torrentio_can_be_off(make_e2e: Factory) -> None:
    e2e = make_e2e(edit=both, torrentio={"enabled": False})
    e2e.settings.sources["torznab"].api_key = SecretStr("wrong-key-for-the-indexer")
    rows = {row.service: row for row in await run_doctor(e2e.settings, in_process(e2e.world))}
    torznab = rows["source torznab"]
    assert not torznab.ok and "SEERBRIDGE_SOURCES__TORZNAB__API_KEY" in torznab.summary
    assert "wrong-key-for-the-indexer" not in torznab.summary
    assert rows["torrentio"].version == "off" and rows["torrentio"].ok
