"""How long a bad-hash mark lasts, by its cause: a Real-Debrid 451 refusal for good, a passing failure for days."""

from __future__ import annotations

from datetime import timedelta

from seerbridge.config import AcquireSettings

REFUSED = "realdebrid:451"  # Real-Debrid refuses the content itself (infringing_file): it will not change
STALLED = "stalled"  # the follower saw no progress for `follow.stall_minutes`: the swarm may come back
VIRUS = "repair:virus"  # Real-Debrid flagged a kept torrent as infected: never again


def mark_ttl(source: str, settings: AcquireSettings) -> timedelta | None:
    """How long a mark from `source` lasts (None: for good)."""
    if source in (REFUSED, VIRUS):
        return None
    if source == STALLED:
        return timedelta(days=settings.stalled_hash_days)
    return timedelta(days=settings.bad_hash_days)
