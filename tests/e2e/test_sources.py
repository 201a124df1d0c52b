"""More sources than Torrentio, end to end: a request fulfilled from a Torznab indexer alone and from Zilean alone,
answers merged by info hash with every source named in the decision log, a magnet-only listing read for its hash,
and one source down not stopping the others."""

from __future__ import annotations

from typing import Any

from rich.console import Console

from seerbridge.commands.explain import render_decision
from seerbridge.commands.stats import gather_stats
from seerbridge.domain.states import RequestState
from seerbridge.sandbox.middleware import FaultPlan
from tests.e2e.conftest import E2E, Factory, decisions, request_record, result_of
from tests.e2e.test_acquisition import HAUNT_2019

HAUNT = 102
NOTLD = 101
NOTLD_1080 = "Night.of.the.Living.Dead.1968.1080p.BluRay.x264-EXAMPLE"
ZILEAN_ONLY = "Haunt.2019.1080p.BluRay.DD5.1.x264-ZILEANONLY"


def with_sources(*names: str) -> Any:
    def edit(data: dict[str, Any]) -> None:
        data["sources"] = list(names)

    return edit


def searched(e2e: E2E, service: str) -> int:
    return e2e.world.control(service).count("GET")  # type: ignore[arg-type]


async def test_a_request_is_fulfilled_from_a_torznab_indexer_alone(make_e2e: Factory) -> None:
    e2e = make_e2e(edit=with_sources("torznab"), torrentio={"enabled": False})
    report = await e2e.run(only={HAUNT})
    assert result_of(report, HAUNT).state is RequestState.FULFILLED
    assert e2e.hash(HAUNT_2019) in e2e.account()
    assert searched(e2e, "torrentio") == 0 and searched(e2e, "torznab") >= 1
    chosen = [d for d in (await decisions(e2e, HAUNT))[-1].payload if d["accepted"]]
    assert chosen[0]["sources"] == ["torznab"]
    # `seerbridge stats` counts the source's calls on the request (Torrentio's stay at nothing).
    async with e2e.bridge() as bridge:
        stats = await gather_stats(bridge.sessions)
    (haunt,) = [r.figures for r in stats.requests if r.request_id == HAUNT]
    assert haunt.torrentio_calls == 0 and haunt.source_calls == searched(e2e, "torznab")  # caps and the search


async def test_a_request_is_fulfilled_from_zilean_alone(make_e2e: Factory) -> None:
    e2e = make_e2e(edit=with_sources("zilean"), torrentio={"enabled": False})
    report = await e2e.run(only={HAUNT})
    assert result_of(report, HAUNT).state is RequestState.FULFILLED
    assert e2e.hash(HAUNT_2019) in e2e.account()
    assert searched(e2e, "torrentio") == 0 and searched(e2e, "zilean") >= 1


def _zilean_only_release(data: dict[str, Any]) -> None:
    data["sources"] = ["torznab", "zilean"]
    data["releases"].append(
        {
            "imdb_id": "tt6644200",
            "name": ZILEAN_ONLY,
            "seeders": None,
            "size": "5 GB",
            "rd": "cached",
            "torrentio": False,
            "torznab": "none",
            "zilean": True,
        }
    )


async def test_answers_are_merged_by_hash_and_every_source_is_named(make_e2e: Factory) -> None:
    e2e = make_e2e(edit=_zilean_only_release)
    await e2e.run(only={NOTLD, HAUNT})
    notld = {d["name"]: d for d in (await decisions(e2e, NOTLD))[-1].payload}
    assert notld[NOTLD_1080]["sources"] == ["torrentio", "torznab", "zilean"]
    haunt = {d["name"]: d for d in (await decisions(e2e, HAUNT))[-1].payload}
    assert haunt[ZILEAN_ONLY]["sources"] == ["zilean"]  # found nowhere else, judged all the same
    names = [d["name"] for d in (await decisions(e2e, HAUNT))[-1].payload]
    assert len(names) == len(set(names))  # one verdict per release, however many sources listed it
    # `seerbridge explain` shows who found each release.
    console = Console(width=250, record=True)
    console.print(render_decision((await decisions(e2e, HAUNT))[-1].payload))
    text = console.export_text()
    shown = [line for line in text.splitlines() if "ZILEANONLY" in line]
    assert "found by" in text and len(shown) == 1 and "zilean" in shown[0]


def _magnet_only(data: dict[str, Any]) -> None:
    data["sources"] = ["torznab"]
    for release in data["releases"]:
        release["torznab"] = "magnet"


async def test_a_magnet_only_listing_gives_its_hash(make_e2e: Factory) -> None:
    e2e = make_e2e(edit=_magnet_only, torrentio={"enabled": False})
    report = await e2e.run(only={HAUNT})
    assert result_of(report, HAUNT).state is RequestState.FULFILLED
    assert e2e.hash(HAUNT_2019) in e2e.account()


async def test_a_source_that_is_down_does_not_stop_the_others(make_e2e: Factory) -> None:
    e2e = make_e2e(edit=with_sources("torznab", "zilean"), search={"cache_ttl_s": 0})
    e2e.world.control("torznab").set_plan(FaultPlan(error_rate=1.0))
    report = await e2e.run(only={HAUNT})
    assert result_of(report, HAUNT).state is RequestState.FULFILLED
    assert e2e.hash(HAUNT_2019) in e2e.account()
    # And with Torrentio down too, Zilean alone still answers.
    e2e.world.control("torznab").clear()
    e2e.world.control("torrentio").set_plan(FaultPlan(error_rate=1.0))
    e2e.world.control("torznab").set_plan(FaultPlan(error_rate=1.0))
    report = await e2e.run(only={NOTLD})
    assert result_of(report, NOTLD).state is RequestState.FULFILLED
    assert e2e.hash(NOTLD_1080) in e2e.account()


async def test_every_source_down_fails_the_request_with_the_reason(make_e2e: Factory) -> None:
    e2e = make_e2e(edit=with_sources("zilean"))
    e2e.world.control("torrentio").set_plan(FaultPlan(error_rate=1.0))
    e2e.world.control("zilean").set_plan(FaultPlan(error_rate=1.0))
    report = await e2e.run(only={HAUNT})
    assert result_of(report, HAUNT).state is RequestState.FAILED
    assert (await request_record(e2e, HAUNT)).last_error
    assert e2e.hash(HAUNT_2019) not in e2e.account()
