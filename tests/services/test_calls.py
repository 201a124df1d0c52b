"""Named events on call ledgers: counted on every active ledger, as calls are, and nowhere outside a block."""

from __future__ import annotations

from seerbridge.services.calls import CallLedger, attribute_calls, attribute_only, note_event


def test_an_event_counts_on_every_active_ledger_and_only_there() -> None:
    outer, inner, alone = CallLedger(), CallLedger(), CallLedger()
    note_event("search_cache_hit")  # no block: nobody to count it
    with attribute_calls(outer):
        note_event("search_cache_miss")
        with attribute_calls(inner):
            note_event("search_cache_hit", 2)
            with attribute_only(alone):
                note_event("search_cache_hit")
    assert outer.events == {"search_cache_miss": 1, "search_cache_hit": 2}
    assert inner.events == {"search_cache_hit": 2}
    assert alone.events == {"search_cache_hit": 1}
    assert outer.total() == 0  # events are not calls


def test_note_adds_to_the_named_count() -> None:
    ledger = CallLedger()
    ledger.note("x")
    ledger.note("x", 3)
    ledger.record("torrentio", "stream/movie")
    assert ledger.events == {"x": 4}
    assert ledger.as_dict() == {"torrentio": {"stream/movie": 1}}
