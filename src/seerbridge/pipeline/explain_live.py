"""`seerbridge explain --request ID`: what the bridge would pick for a request now, probing nothing."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from typing import Any

from seerbridge.commands.explain import Explanation, explain_candidates, to_json
from seerbridge.domain.media import Title, Wanted
from seerbridge.pipeline.plan import JellyfinIndex, describe_title, plan_request
from seerbridge.pipeline.process import Bridge, owned_episodes
from seerbridge.services.calls import CallLedger
from seerbridge.store import repo


@dataclass(frozen=True)
class LiveExplanation:
    request_id: int
    title: Title
    notes: list[str]
    items: list[tuple[Wanted, Explanation]]
    # What was decided before, for items that need no search now (already served): the latest decision of each,
    # with every candidate it weighed, the rules that rejected them, the probe outcomes and the winner.
    decided: list[repo.DecisionRecord] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "request": self.request_id,
            "title": self.title.title,
            "notes": self.notes,
            "items": [{"item": w.key, "wanted": w.describe(), **to_json(e)} for w, e in self.items],
            "decided": [
                {"item": d.item_key, "at": d.at.isoformat(), "summary": d.summary, "candidates": d.payload}
                for d in self.decided
            ],
        }


async def explain_request(bridge: Bridge, request_id: int) -> LiveExplanation:
    """Ask Seerr, Jellyfin and Torrentio (one query per wanted item, as a pass would start); touch no Real-Debrid."""
    services = bridge.services
    request = await services.seerr.request(request_id)
    title = await describe_title(request, services.seerr)
    today = bridge.today()
    plan = await plan_request(
        request,
        title,
        seerr=services.seerr,
        library=JellyfinIndex(services.jellyfin, CallLedger()),
        owned=partial(owned_episodes, bridge.sessions),
        today=today,
        aired_after_days=bridge.settings.plan.aired_after_days,
        by_title=bridge.searcher.by_title,
    )
    async with bridge.sessions() as session:
        bad = await repo.bad_hashes(session)
    items: list[tuple[Wanted, Explanation]] = []
    for wanted in plan.wanted:
        if wanted.season is None:
            found = await bridge.searcher.movie(title)
        else:
            found = await bridge.searcher.episode(title, wanted.season, min(wanted.episodes))
        explanation = explain_candidates(found, wanted, settings=bridge.settings.selection, today=today, bad_hashes=bad)
        items.append((wanted, explanation))
    searched = {wanted.key for wanted in plan.wanted}
    decided = []
    async with bridge.sessions() as session:
        for key in plan.keys:
            if key in searched:
                continue
            # The decision that chose a release (the follower's later notes carry no candidates).
            history = [d for d in await repo.decisions_of_request(session, request_id) if d.item_key == key]
            weighed = [d for d in history if d.payload]
            if weighed or history:
                decided.append((weighed or history)[-1])
    return LiveExplanation(request_id, title, plan.notes, items, decided)
