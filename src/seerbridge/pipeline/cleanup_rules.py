"""Cleanup's decisions, pure: given the account listing, the store's rows and what Seerr said, which torrents go and
why, and which a rule found but stay (with the reason); the plan's and outcome's shapes and their JSON. The rules and
the safety they keep are described in pipeline/cleanup.py, which reads the facts and applies the plan."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from seerbridge.config import CleanupRule, Settings
from seerbridge.domain.states import KEPT_STATES, TorrentState
from seerbridge.pipeline.removal import Doomed
from seerbridge.services.realdebrid import Torrent, TorrentStatus
from seerbridge.store.repo import TorrentRecord

_ENDED = (TorrentState.DELETED, TorrentState.FAILED)  # rows that no longer point at anything we hold
_IN_FLIGHT = (TorrentState.ADDING, TorrentState.ADDED)  # a probe (or a lost add reconcile will settle) is running


class Spared(StrEnum):
    """Why a torrent a rule found stays in the account."""

    HAND_ADDED = "added by hand"
    WAITING = "waiting"
    STILL_NEEDED = "still needed"


@dataclass(frozen=True)
class LeftAlone:
    """A torrent a rule found but that is not deleted, and why."""

    rule: CleanupRule
    rd_id: str
    info_hash: str
    name: str
    size_bytes: int | None
    reason: str  # what the rule found
    spared: Spared
    detail: str  # why it stays: the setting that would opt in, what it waits for, what still needs it
    until: datetime | None = None  # WAITING: when it becomes deletable (if that is known)


@dataclass(frozen=True)
class CleanupPlan:
    """What a cleanup would delete, what it leaves alone and why, and what it could not judge."""

    at: datetime
    rules: tuple[CleanupRule, ...]
    listed: int  # torrents in the account
    doomed: tuple[Doomed, ...]
    left_alone: tuple[LeftAlone, ...]
    notes: tuple[str, ...]

    @property
    def count(self) -> int:
        return len(self.doomed)

    @property
    def size_bytes(self) -> int:
        return sum(d.size_bytes or 0 for d in self.doomed)

    def as_json(self) -> dict[str, Any]:
        return {
            "at": self.at.isoformat(),
            "rules": list(self.rules),
            "listed": self.listed,
            "count": self.count,
            "bytes": self.size_bytes,
            "doomed": [_doomed_json(d) for d in self.doomed],
            "left_alone": [
                {
                    "rule": x.rule,
                    "rd_id": x.rd_id,
                    "info_hash": x.info_hash,
                    "name": x.name,
                    "size_bytes": x.size_bytes,
                    "reason": x.reason,
                    "spared": x.spared.name.lower(),
                    "detail": x.detail,
                    "until": x.until.isoformat() if x.until else None,
                }
                for x in self.left_alone
            ],
            "notes": list(self.notes),
        }


@dataclass(frozen=True)
class CleanupOutcome:
    """What `apply_cleanup` did: deleted (held and removed), already gone (recorded too), failed (still there)."""

    deleted: tuple[Doomed, ...]
    already_gone: tuple[Doomed, ...]
    failed: tuple[tuple[Doomed, str], ...]

    @property
    def ok(self) -> bool:
        return not self.failed

    @property
    def bytes_freed(self) -> int:
        return sum(d.size_bytes or 0 for d in self.deleted)

    def as_json(self) -> dict[str, Any]:
        return {
            "deleted": [_doomed_json(d) for d in self.deleted],
            "already_gone": [_doomed_json(d) for d in self.already_gone],
            "failed": [{**_doomed_json(d), "error": error} for d, error in self.failed],
            "bytes_freed": self.bytes_freed,
        }


def _doomed_json(d: Doomed) -> dict[str, Any]:
    return {
        "rule": d.rule,
        "rd_id": d.rd_id,
        "info_hash": d.info_hash,
        "name": d.name,
        "size_bytes": d.size_bytes,
        "reason": d.reason,
        "ours": d.ours,
        "torrent_id": d.torrent_id,
        "request_id": d.request_id,
    }


# --- deciding (pure) -----------------------------------------------------------------------------------------------


def decide(
    *,
    account: Sequence[Torrent],
    rows: Sequence[TorrentRecord],
    settings: Settings,
    now: datetime,
    item_requests: Mapping[str, frozenset[int]],
    gone_requests: frozenset[int] | None,
    notes: Sequence[str] = (),
    removed_items: Mapping[str, datetime] | None = None,
) -> CleanupPlan:
    """The plan from plain facts: the account listing (newest first), every store row, the requests each item serves
    and which of them Seerr no longer has (None: unknown, so `deleted_media` finds nothing), and the items Seerr
    deleted with their files through seerbridge's Radarr/Sonarr, with when (`removed_in_seerr`: only torrents added
    before that)."""
    planner = _Planner(
        account, rows, settings, now, item_requests, gone_requests, notes=list(notes), removed_items=removed_items or {}
    )
    rules = {
        "duplicates": planner.duplicates,
        "superseded": planner.superseded,
        "covered_episodes": planner.covered_episodes,
        "deleted_media": planner.deleted_media,
        "removed_in_seerr": planner.removed_in_seerr,
    }
    for rule in settings.cleanup.rules:
        rules[rule]()
    return planner.plan()


def episode_label(season: int | None, episodes: Iterable[int]) -> str:
    """`S02E11-E13`, `S02E01, E03`: runs of consecutive episodes joined; empty for a movie."""
    if season is None:
        return ""
    eps = sorted(set(episodes))
    runs: list[tuple[int, int]] = []
    for e in eps:
        if runs and e == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], e)
        else:
            runs.append((e, e))
    parts = [f"E{a:02d}" + (f"-E{b:02d}" if b != a else "") for a, b in runs]
    return f"S{season:02d}" + ", ".join(parts) if parts else f"S{season:02d}"


@dataclass
class _Planner:
    account: Sequence[Torrent]
    rows: Sequence[TorrentRecord]
    settings: Settings
    now: datetime
    item_requests: Mapping[str, frozenset[int]]
    gone_requests: frozenset[int] | None
    doomed: list[Doomed] = field(default_factory=list)
    left: list[LeftAlone] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    claimed: set[str] = field(default_factory=set)  # rd ids some rule has found
    removed_items: Mapping[str, datetime] = field(default_factory=dict)  # Seerr deleted them (and their files), when

    def __post_init__(self) -> None:
        self.torrents = {t.id: t for t in self.account}
        self.rows_on: dict[str, list[TorrentRecord]] = defaultdict(list)
        for row in self.rows:
            if row.rd_id is not None:
                self.rows_on[row.rd_id].append(row)
        self.by_id = {row.id: row for row in self.rows}
        busy_hashes = {row.info_hash for row in self.rows if row.state in _IN_FLIGHT}
        self.busy = {t.id for t in self.account if t.hash in busy_hashes}
        if self.busy:
            self.notes.append(f"{len(self.busy)} torrent(s) not judged: a probe of their hash is in progress")

    # ----- facts -----

    def live(self, rd_id: str) -> list[TorrentRecord]:
        return [r for r in self.rows_on.get(rd_id, []) if r.state not in _ENDED]

    def ours(self, rd_id: str) -> bool:
        return any(not r.adopted for r in self.rows_on.get(rd_id, []))

    def open(self) -> list[Torrent]:
        """Account torrents no rule has found yet and that may be judged, newest first."""
        return [t for t in self.account if t.id not in self.claimed and t.id not in self.busy]

    def doomed_ids(self) -> set[str]:
        return {d.rd_id for d in self.doomed}

    def downloaded(self, rd_id: str | None) -> bool:
        torrent = self.torrents.get(rd_id) if rd_id is not None else None
        return torrent is not None and torrent.status is TorrentStatus.DOWNLOADED

    # ----- outcomes -----

    def found(self, rule: CleanupRule, torrent: Torrent, reason: str, rows: Sequence[TorrentRecord] = ()) -> None:
        """A rule found a redundant torrent: doomed if ours (or opted in for this rule), else left alone."""
        self.claimed.add(torrent.id)
        ours = self.ours(torrent.id)
        if not ours and rule not in self.settings.cleanup.include_hand_added:
            opt_in = f'cleanup.include_hand_added = ["{rule}"] would include it'
            self.spare(rule, torrent, reason, Spared.HAND_ADDED, opt_in)
            return
        row = _main_row(rows or self.rows_on.get(torrent.id, []))
        self.doomed.append(
            Doomed(
                rd_id=torrent.id,
                info_hash=torrent.hash,
                name=torrent.filename,
                size_bytes=torrent.bytes,
                rule=rule,
                reason=reason,
                ours=ours,
                torrent_id=row.id if row else None,
                request_id=row.request_id if row else None,
            )
        )

    def spare(
        self,
        rule: CleanupRule,
        torrent: Torrent,
        reason: str,
        spared: Spared,
        detail: str,
        until: datetime | None = None,
    ) -> None:
        self.claimed.add(torrent.id)
        self.left.append(
            LeftAlone(rule, torrent.id, torrent.hash, torrent.filename, torrent.bytes, reason, spared, detail, until)
        )

    def plan(self) -> CleanupPlan:
        rules = tuple(self.settings.cleanup.rules)
        order: dict[str, int] = {rule: n for n, rule in enumerate(rules)}
        return CleanupPlan(
            at=self.now,
            rules=rules,
            listed=len(self.account),
            doomed=tuple(sorted(self.doomed, key=lambda d: (order[d.rule], d.name, d.rd_id))),
            left_alone=tuple(sorted(self.left, key=lambda x: (order[x.rule], x.name, x.rd_id))),
            notes=tuple(self.notes),
        )

    # ----- rules (method names are the rule names) -----

    def duplicates(self) -> None:
        copies: dict[str, list[Torrent]] = defaultdict(list)
        for torrent in self.account:
            if torrent.id not in self.busy:
                copies[torrent.hash].append(torrent)
        doomed = self.doomed_ids()
        for group in copies.values():
            candidates = [t for t in group if t.id not in doomed]
            if len(group) < 2 or not candidates:
                continue
            keeper = min(candidates, key=self._keep_order)
            kept_items = {r.item_key for r in self.live(keeper.id) if r.state in KEPT_STATES}
            why = self._keep_why(keeper)
            for torrent in sorted(group, key=lambda t: (t.added, t.id)):
                if torrent.id == keeper.id or torrent.id in self.claimed:
                    continue
                reason = f"another copy of this hash stays: {keeper.id} ({why})"
                orphaned = sorted({r.item_key for r in self.live(torrent.id) if r.state in KEPT_STATES} - kept_items)
                if orphaned:
                    detail = f"it holds {', '.join(orphaned)}, which the copy that stays does not"
                    self.spare("duplicates", torrent, reason, Spared.STILL_NEEDED, detail)
                else:
                    self.found("duplicates", torrent, reason)

    def _keep_order(self, torrent: Torrent) -> tuple[bool, bool, datetime, str]:
        used = any(r.state in KEPT_STATES for r in self.live(torrent.id))
        return (not used, torrent.status is not TorrentStatus.DOWNLOADED, torrent.added, torrent.id)

    def _keep_why(self, torrent: Torrent) -> str:
        if any(r.state in KEPT_STATES for r in self.live(torrent.id)):
            return "the copy seerbridge uses"
        if torrent.status is TorrentStatus.DOWNLOADED:
            return "downloaded, the oldest such copy"
        return "the oldest copy"

    def superseded(self) -> None:
        hold = timedelta(minutes=self.settings.upgrade.keep_replaced_minutes)
        for torrent in self.open():
            live = self.live(torrent.id)
            replaced = [r for r in live if r.superseded_by is not None]
            if not replaced:
                continue
            first = replaced[0]
            replacement = self.by_id.get(first.superseded_by) if first.superseded_by is not None else None
            reason = f"replaced by {replacement.name}" if replacement else f"replaced (row {first.superseded_by})"
            needed = sorted({r.item_key for r in live if r.superseded_by is None})
            if needed:
                self.spare("superseded", torrent, reason, Spared.STILL_NEEDED, f"it still serves {', '.join(needed)}")
                continue
            waiting = [r for r in replaced if not self._replacement_ready(r)]
            if waiting:
                detail = "its replacement is not downloaded on Real-Debrid yet"
                self.spare("superseded", torrent, reason, Spared.WAITING, detail)
                continue
            if any(r.superseded_at is None for r in replaced):
                self.spare("superseded", torrent, reason, Spared.WAITING, "replaced at an unknown time")
                continue
            until = max(r.superseded_at for r in replaced if r.superseded_at is not None) + hold
            if self.now < until:
                detail = f"kept {self.settings.upgrade.keep_replaced_minutes:g} minutes after the upgrade"
                self.spare("superseded", torrent, reason, Spared.WAITING, detail, until)
                continue
            self.found("superseded", torrent, reason, replaced)

    def _replacement_ready(self, row: TorrentRecord) -> bool:
        new = self.by_id.get(row.superseded_by) if row.superseded_by is not None else None
        return new is not None and new.state is TorrentState.DOWNLOADED and self.downloaded(new.rd_id)

    def covered_episodes(self) -> None:
        for torrent in self.open():
            live = self.live(torrent.id)
            if not live or any(
                r.state is not TorrentState.DOWNLOADED or r.season is None or not r.episodes for r in live
            ):
                continue
            doomed = self.doomed_ids()
            reasons: list[str] = []
            for row in live:
                cover = self._cover(row, doomed)
                if cover is None:
                    break
                reasons.append(
                    f"{episode_label(row.season, row.episodes)} covered by {cover.name} "
                    f"({episode_label(cover.season, cover.episodes)})"
                )
            else:
                self.found("covered_episodes", torrent, "; ".join(dict.fromkeys(reasons)), live)

    def _cover(self, row: TorrentRecord, doomed: set[str]) -> TorrentRecord | None:
        """The biggest kept, downloaded, not replaced torrent of the same item holding a strict superset of episodes."""
        mine = set(row.episodes)
        covers = [
            c
            for c in self.rows
            if c.item_key == row.item_key
            and c.state is TorrentState.DOWNLOADED
            and c.superseded_by is None
            and c.rd_id is not None
            and c.rd_id != row.rd_id
            and c.rd_id not in doomed
            and self.downloaded(c.rd_id)
            and mine < set(c.episodes)
        ]
        return max(covers, key=lambda c: (len(c.episodes), -c.id), default=None)

    def deleted_media(self) -> None:
        gone = self.gone_requests
        if gone is None:
            return
        for torrent in self.open():
            live = self.live(torrent.id)
            kept = [r for r in live if r.state in KEPT_STATES]
            if not kept or len(kept) != len(live):
                continue
            asked: set[int] = set()
            for row in kept:
                ids = set(self.item_requests.get(row.item_key, frozenset()))
                if row.request_id is not None:
                    ids.add(row.request_id)
                if not ids or not ids <= gone:
                    break
                asked |= ids
            else:
                listed = ", ".join(str(i) for i in sorted(asked))
                noun = "request" if len(asked) == 1 else "requests"
                self.found("deleted_media", torrent, f"{noun} {listed} no longer in Seerr", kept)

    def removed_in_seerr(self) -> None:
        for torrent in self.open():
            live = self.live(torrent.id)
            kept = [r for r in live if r.state in KEPT_STATES]
            # A torrent added after the deletion serves a later request for the same media: not what Seerr removed.
            if kept and len(kept) == len(live) and all(self._removed_before(r) for r in kept):
                labels = sorted({_item_label(r) for r in kept})
                self.found("removed_in_seerr", torrent, f"{', '.join(labels)} removed in Seerr with its files", kept)

    def _removed_before(self, row: TorrentRecord) -> bool:
        removed = self.removed_items.get(row.item_key)
        return removed is not None and row.added_at <= removed


def _item_label(row: TorrentRecord) -> str:
    what = row.item_key.split(":")
    return f"TMDB {what[1]}" + (f" {episode_label(row.season, row.episodes)}" if row.season is not None else "")


def _main_row(rows: Sequence[TorrentRecord]) -> TorrentRecord | None:
    """The row a removal is recorded against: a live one of ours, else any live one, else any."""
    live = [r for r in rows if r.state not in _ENDED]
    for pool in ([r for r in live if not r.adopted], live, list(rows)):
        if pool:
            return pool[0]
    return None
