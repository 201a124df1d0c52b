"""How good an accepted candidate is under a profile: one integer score, plus helpers to order and split verdicts.

The score is a mixed-radix number, so a higher part always beats any lower parts:

    resolution ladder position  ×10_000_000   (best rung = len(ladder), unlisted = 0)
    quality/source order        ×   100_000   (best = len(qualities), unlisted = 0; capped at 99)
    HDR (only if prefer_hdr)    ×    10_000   (DV 3, HDR10+ 2, other HDR 1, SDR 0)
    codec order                 ×       100   (best = len(codecs), unlisted = 0; capped at 99)
    size sanity                 ×         1   (0–99: 99 at the band's geometric middle, 0 at its limits; 50 unknown)

Seeders are not in the score; `preference_key` uses them as the last tie-break (then the hash, for a stable order).
Packs versus singles is acquisition's decision; `split_packs` hands it the two lists in preference order.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

from seerbridge.domain.decision import Verdict
from seerbridge.domain.release import Candidate
from seerbridge.selection.rules import GB, RuleContext, size_band

_HDR_LEVEL = {"DV": 3, "HDR10+": 2}


def _rung(value: str | None, ladder: Sequence[str]) -> int:
    """len(ladder) for the best entry down to 1 for the last; 0 when absent (case-insensitive)."""
    if value is None:
        return 0
    lowered = [v.lower() for v in ladder]
    try:
        return min(99, len(ladder) - lowered.index(value.lower()))
    except ValueError:
        return 0


def size_position(size: int | None, ctx: RuleContext) -> float | None:
    """Where a size lies in the allowed band on a log scale: 0 at the geometric middle, 1 at (or past) a limit."""
    if size is None or size <= 0:
        return None
    low, high = size_band(ctx)
    low = max(low, 0.01 * GB)
    high = max(high, low)
    middle = math.sqrt(low * high)
    half_width = math.log(high / middle)
    if half_width <= 0:
        return 0.0
    return min(1.0, abs(math.log(size / middle)) / half_width)


def score(candidate: Candidate, ctx: RuleContext) -> int:
    """The candidate's score under `ctx.profile` (see the module docstring); 0 when the name did not parse."""
    parsed = candidate.parsed
    if parsed is None:
        return 0
    profile = ctx.profile
    resolution = _rung(parsed.resolution, profile.resolutions)
    quality = _rung(parsed.quality, profile.qualities)
    hdr = max((_HDR_LEVEL.get(h, 1) for h in parsed.hdr), default=0) if profile.prefer_hdr else 0
    codec = _rung(parsed.codec, profile.codecs)
    position = size_position(candidate.size_bytes, ctx)
    size = 50 if position is None else round(99 * (1 - position))
    return resolution * 10_000_000 + quality * 100_000 + hdr * 10_000 + codec * 100 + size


def preference_key(verdict: Verdict) -> tuple[int, int, str]:
    """Sort key, ascending = preferred first: score desc, seeders desc, then hash."""
    return (-(verdict.score or 0), -(verdict.candidate.seeders or 0), verdict.candidate.info_hash)


def split_packs(verdicts: Iterable[Verdict]) -> tuple[list[Verdict], list[Verdict]]:
    """Accepted verdicts split into (packs, singles), each keeping the given order."""
    packs: list[Verdict] = []
    singles: list[Verdict] = []
    for verdict in verdicts:
        if verdict.accepted:
            (packs if verdict.is_pack else singles).append(verdict)
    return packs, singles


def by_seeders(verdicts: Iterable[Verdict]) -> list[Verdict]:
    """Accepted verdicts, most seeders first (for uncached downloads), score then hash breaking ties."""
    accepted = [v for v in verdicts if v.accepted]
    return sorted(accepted, key=lambda v: (-(v.candidate.seeders or 0), -(v.score or 0), v.candidate.info_hash))


__all__ = ["by_seeders", "preference_key", "score", "size_position", "split_packs"]
