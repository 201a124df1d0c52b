"""Cleanup: find torrents in the Real-Debrid account that nothing needs any more, plan their removal, apply the plan.

`plan_cleanup` reads (one paged account listing, the store, and for `deleted_media` one Seerr call per request) and
hands the facts to `decide`, which is pure. `apply_cleanup` deletes what the plan lists, one torrent at a time.

Rules, only those in `cleanup.rules` and in that order; a torrent is judged once, by the first rule that finds it:
- duplicates: the same hash more than once in the account. One copy stays: the one a kept store row points to, else
  a `downloaded` one, else the oldest.
- superseded: a row an upgrade replaced, once `upgrade.keep_replaced_minutes` have passed and its replacement is
  `downloaded`; before that it is listed as waiting.
- covered_episodes: a season torrent whose episodes are a strict subset of another kept, `downloaded` torrent of the
  same work item (the pack).
- deleted_media: a kept torrent whose item's requests are all gone from Seerr (404). Any other Seerr failure skips
  the rule with a note: an outage must never read as "deleted".
- removed_in_seerr: a kept torrent whose items all belong to titles Seerr deleted, asking for their files to go
  (`DELETE /movie/{id}?deleteFiles=true` on seerbridge's Radarr/Sonarr), and not added again since.

Safety, whatever the rules say:
- Ownership: a torrent is seerbridge's when a store row with its Real-Debrid id has `adopted=False`. Anything else
  (adopted rows, torrents the store does not know) was added by hand and is only deleted for the rules listed in
  `cleanup.include_hand_added`; otherwise it is listed as left alone, with the setting that would opt in.
- A torrent is judged by every store row that points at it: a row-based rule finds it only when all its live rows
  qualify (a pack adopted for a second season still serves that season), and a duplicate copy stays when it holds
  an item the surviving copy does not.
- Torrents of a hash with a probe in flight (a row ADDING or ADDED) are not judged at all.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

import structlog

from seerbridge.arr.facts import item_keys
from seerbridge.config import CleanupRule
from seerbridge.domain.states import KEPT_STATES
from seerbridge.domain.transitions import TorrentEvent
from seerbridge.errors import NotFound, ServiceError
from seerbridge.library.sync import sync_library
from seerbridge.pipeline.cleanup_rules import (
    _ENDED,
    CleanupOutcome,
    CleanupPlan,
    LeftAlone,
    Spared,
    decide,
    episode_label,
)
from seerbridge.pipeline.process import Bridge
from seerbridge.pipeline.removal import Doomed, remove
from seerbridge.services.realdebrid import MAX_PAGE_SIZE
from seerbridge.store import arr_repo, repo

log = structlog.get_logger("seerbridge.cleanup")


# --- reading -------------------------------------------------------------------------------------------------------


async def plan_cleanup(bridge: Bridge, *, rules: Sequence[CleanupRule] | None = None) -> CleanupPlan:
    """List the account once, read the store, ask Seerr about the requests kept torrents serve; then `decide`.

    `rules` replaces `cleanup.rules` (upgrades use the `superseded` rule alone to delete what they replaced).
    Raises the ServiceError of a failed account listing (nothing can be judged without it).
    """
    settings = bridge.settings
    if rules is not None:
        settings = settings.model_copy(update={"cleanup": settings.cleanup.model_copy(update={"rules": list(rules)})})
    account = await bridge.services.realdebrid.torrents(page_size=MAX_PAGE_SIZE)
    async with bridge.sessions() as session:
        rows = await repo.all_torrents(session)
        listed = {t.id for t in account}
        kept_keys = sorted({r.item_key for r in rows if r.state in KEPT_STATES and r.rd_id in listed})
        item_requests = {key: frozenset(await repo.requests_of_item(session, key)) for key in kept_keys}
    gone: frozenset[int] | None = frozenset()
    notes: list[str] = []
    if "deleted_media" in settings.cleanup.rules:
        asked = sorted(
            {i for ids in item_requests.values() for i in ids}
            | {r.request_id for r in rows if r.request_id is not None and r.state in KEPT_STATES and r.rd_id in listed}
        )
        gone, note = await _gone_requests(bridge, asked)
        if note:
            notes.append(note)
    removed = await removed_items(bridge) if "removed_in_seerr" in settings.cleanup.rules else {}
    plan = decide(
        account=account,
        rows=rows,
        settings=settings,
        now=bridge.now(),
        item_requests=item_requests,
        gone_requests=gone,
        notes=notes,
        removed_items=removed,
    )
    log.info("cleanup planned", torrents=plan.count, bytes=plan.size_bytes, left_alone=len(plan.left_alone))
    return plan


async def removed_items(bridge: Bridge) -> dict[str, datetime]:
    """Items of titles Seerr deleted with their files through seerbridge's Radarr/Sonarr, with when (the latest
    deletion), unless Seerr added the same media to that server again since."""
    async with bridge.sessions() as session:
        deleted = await arr_repo.deleted_with_files(session)
        live = await arr_repo.live_titles(session)
    held = {key for title in live for key in item_keys(title)}
    removed: dict[str, datetime] = {}
    for title in deleted:
        assert title.deleted_at is not None
        for key in item_keys(title):
            if key not in held:
                removed[key] = max(removed.get(key, title.deleted_at), title.deleted_at)
    return removed


async def _gone_requests(bridge: Bridge, request_ids: Iterable[int]) -> tuple[frozenset[int] | None, str | None]:
    """The ids Seerr answers 404 for; None (and a note) when Seerr fails any other way."""
    ids = list(request_ids)
    gone: set[int] = set()
    try:
        if ids:
            # Proves the URL first: behind a wrong one every request would answer 404 and read as deleted.
            await bridge.services.seerr.status()
        for request_id in ids:
            try:
                await bridge.services.seerr.request(request_id)
            except NotFound:
                gone.add(request_id)
    except ServiceError as exc:
        log.warning("cleanup cannot ask Seerr; deleted_media skipped", error=str(exc))
        return None, f"deleted_media skipped: Seerr could not be asked ({exc}); nothing is deleted for that rule"
    return frozenset(gone), None


# --- applying ------------------------------------------------------------------------------------------------------


async def apply_cleanup(bridge: Bridge, plan: CleanupPlan) -> CleanupOutcome:
    """Delete every planned torrent; a ServiceError on one is recorded in the outcome and the rest go on.

    Other live store rows pointing at a deleted torrent (e.g. an adopted row for a second season) are marked
    DELETED too, so nothing believes it still holds files there.
    """
    async with bridge.sessions() as session:
        rows = await repo.all_torrents(session)
    deleted: list[Doomed] = []
    gone: list[Doomed] = []
    failed: list[tuple[Doomed, str]] = []
    # The library first: no entry may point at a torrent once it is deleted (entries move to another copy, or go;
    # a deletion that then fails only leaves the entries to be written again by the next sync).
    doomed_rows = frozenset(d.torrent_id for d in plan.doomed if d.torrent_id is not None)
    if doomed_rows:
        # The folders that lose entries are owed to Jellyfin by the sync itself (it drops what went at its next look).
        await sync_library(
            bridge.settings, bridge.sessions, bridge.services.realdebrid, now=bridge.now(), excluding=doomed_rows
        )
    for doomed in plan.doomed:
        try:
            held = await remove(bridge.services.realdebrid, bridge.sessions, doomed, now=bridge.now())
        except ServiceError as exc:
            log.warning("cleanup could not delete a torrent", rd_id=doomed.rd_id, name=doomed.name, error=str(exc))
            failed.append((doomed, str(exc)))
            continue
        others = [r.id for r in rows if r.rd_id == doomed.rd_id and r.state not in _ENDED and r.id != doomed.torrent_id]
        if others:
            async with bridge.sessions.begin() as session:
                for row_id in others:
                    await repo.set_torrent_state(session, row_id, TorrentEvent.DELETED, now=bridge.now())
        (deleted if held else gone).append(doomed)
    outcome = CleanupOutcome(tuple(deleted), tuple(gone), tuple(failed))
    log.info(
        "cleanup applied",
        deleted=len(outcome.deleted),
        already_gone=len(outcome.already_gone),
        failed=len(outcome.failed),
        bytes_freed=outcome.bytes_freed,
    )
    return outcome


__all__ = [
    "CleanupOutcome",
    "CleanupPlan",
    "LeftAlone",
    "Spared",
    "apply_cleanup",
    "decide",
    "episode_label",
    "plan_cleanup",
]
