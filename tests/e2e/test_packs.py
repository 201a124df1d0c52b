"""Packs that span seasons: one request wanting two seasons that one pack holds gets one torrent with the union of
the wanted files, selected once, and nothing is added twice across passes."""

from __future__ import annotations

from typing import Any

from seerbridge.domain.states import RequestState
from tests.e2e.conftest import Factory, result_of

GOT_REQUEST = 11  # Game of Thrones S1-S3; S1 and S2 E1-8 are in the library
SPAN = "Game.of.Thrones.S02-S03.1080p.BluRay.x264-EXAMPLE"


def _only_the_spanning_pack(data: dict[str, Any]) -> None:
    """Game of Thrones' only release is a cached S02-S03 pack (every other GoT release is gone)."""
    data["releases"] = [r for r in data["releases"] if r["imdb_id"] != "tt0944947"]
    data["releases"].append(
        {
            "imdb_id": "tt0944947",
            "name": SPAN,
            "seeders": 90,
            "size": "40 GB",
            "covers": {2: list(range(1, 11)), 3: list(range(1, 11))},
            "rd": "cached",
        }
    )
    data["requests"] = [r for r in data["requests"] if r["id"] == GOT_REQUEST]


async def test_a_pack_spanning_two_wanted_seasons_is_added_once_with_both_seasons_files(make_e2e: Factory) -> None:
    e2e = make_e2e("season-packs", edit=_only_the_spanning_pack)
    report = await e2e.run()
    assert result_of(report, GOT_REQUEST).state is RequestState.FULFILLED, result_of(report, GOT_REQUEST)
    span = e2e.hash(SPAN)
    assert e2e.rd.add_count(span) == 1 and len(e2e.rd.torrents_with_hash(span)) == 1
    files = sorted(e2e.files_of(span))
    wanted = [f"S02E{e:02d}" for e in (9, 10)] + [f"S03E{e:02d}" for e in range(1, 11)]
    assert [next(w for w in wanted if w in f) for f in files] == wanted  # exactly the wanted files, each once
    assert e2e.world.control("realdebrid").count("POST", r"selectFiles") == 1

    again = await e2e.run()
    assert result_of(again, GOT_REQUEST).state is RequestState.FULFILLED
    assert e2e.rd.add_count(span) == 1 and len(e2e.account()) == len(set(e2e.rd.hashes()))
