"""A profile's cutoff: the quality that is good enough, above which nothing is ever searched again; and the
"never a downgrade" test an upgrade must pass on top of a higher score."""

from __future__ import annotations

from collections.abc import Sequence

from seerbridge.config import RESOLUTIONS, ProfileSettings
from seerbridge.domain.release import ParsedRelease


def _index(value: str | None, ladder: Sequence[str]) -> int | None:
    """Position in a best-first ladder (case-insensitive); None when absent."""
    if value is None:
        return None
    lowered = [v.lower() for v in ladder]
    try:
        return lowered.index(value.lower())
    except ValueError:
        return None


def resolution_rank(resolution: str) -> int:
    """Higher is sharper, over every resolution seerbridge knows (not just a profile's ladder); unknown is 0."""
    position = _index(resolution, RESOLUTIONS)
    return 0 if position is None else len(RESOLUTIONS) - 1 - position


def meets_cutoff(parsed: ParsedRelease | None, profile: ProfileSettings) -> bool:
    """Is this copy good enough for the profile? A sharper resolution than the cutoff always is; the cutoff's own
    resolution is when its source is at least `cutoff_quality` on the profile's source ladder."""
    if parsed is None:
        return False
    cutoff = profile.cutoff_resolution or profile.resolutions[0]
    have, need = resolution_rank(parsed.resolution), resolution_rank(cutoff)
    if have != need:
        return have > need
    if profile.cutoff_quality is None:
        return True
    quality = _index(parsed.quality, profile.qualities)
    wanted = _index(profile.cutoff_quality, profile.qualities)
    return quality is not None and wanted is not None and quality <= wanted


def is_better(new: ParsedRelease | None, old: ParsedRelease | None, profile: ProfileSettings) -> bool:
    """Worth replacing `old` with: sharper, or as sharp from a better source on the profile's ladder. Codec, HDR
    and size never justify a replacement on their own (that would churn torrents for nothing one can see)."""
    if new is None:
        return False
    if old is None:
        return True
    new_res, old_res = resolution_rank(new.resolution), resolution_rank(old.resolution)
    if new_res != old_res:
        return new_res > old_res
    ladder = len(profile.qualities)
    new_q, old_q = _index(new.quality, profile.qualities), _index(old.quality, profile.qualities)
    return (ladder if new_q is None else new_q) < (ladder if old_q is None else old_q)


def is_downgrade(new: ParsedRelease | None, old: ParsedRelease | None) -> bool:
    """A replacement may never be less sharp than what it replaces, whatever a profile's score says."""
    if new is None:
        return True
    if old is None:
        return False
    return resolution_rank(new.resolution) < resolution_rank(old.resolution)


__all__ = ["is_better", "is_downgrade", "meets_cutoff", "resolution_rank"]
