"""Run the rule chain over candidates: every rule on every candidate, so `explain` can show all reasons at once.

`evaluate` dedupes by info hash, fills each verdict's season, covered episodes, pack flag and (accepted only)
score, and returns accepted verdicts in preference order (score desc, seeders desc, hash) followed by the rejected
ones in their input order. It never raises for a candidate: a rule that fails rejects with the failure as reason.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace

from seerbridge.domain.decision import Rejection, Verdict
from seerbridge.domain.release import Candidate
from seerbridge.selection.rank import preference_key, score
from seerbridge.selection.rules import Rule, RuleContext, build_chain, coverage


def _detail(candidate: Candidate) -> tuple[int, int]:
    """How well described a candidate is: parsed first, then the number of known stream facts."""
    known = sum(
        value is not None
        for value in (
            candidate.seeders,
            candidate.size_bytes,
            candidate.provider,
            candidate.file_idx,
            candidate.filename,
        )
    )
    return (candidate.parsed is not None, known)


def dedupe(candidates: Iterable[Candidate]) -> list[Candidate]:
    """One candidate per info hash (case-insensitive), the best described; first-seen order; [RD+] hints merged."""
    best: dict[str, Candidate] = {}
    for candidate in candidates:
        key = candidate.info_hash.lower()
        current = best.get(key)
        if current is None:
            best[key] = candidate
            continue
        keep = candidate if _detail(candidate) > _detail(current) else current
        hint = current.cached_hint or candidate.cached_hint
        best[key] = keep if keep.cached_hint == hint else replace(keep, cached_hint=hint)
    return list(best.values())


def _run(rule: Rule, candidate: Candidate, ctx: RuleContext) -> str | None:
    try:
        return rule.check(candidate, ctx)
    except Exception as exc:  # one odd candidate must not stop the others
        return f"rule failed on this candidate ({type(exc).__name__}: {exc})"


def judge(candidate: Candidate, ctx: RuleContext, chain: Sequence[Rule]) -> Verdict:
    """One candidate through every rule of the chain."""
    rejections = []
    for rule in chain:
        reason = _run(rule, candidate, ctx)
        if reason is not None:
            rejections.append(Rejection(rule=rule.name, reason=reason))
    season: int | None = None
    episodes: frozenset[int] = frozenset()
    is_pack = False
    if candidate.parsed is not None:
        try:
            cov = coverage(candidate.parsed, ctx.wanted)
            season, episodes, is_pack = cov.season, cov.episodes, cov.is_pack
        except Exception:  # coverage is descriptive here; the coverage rule reports failures
            pass
    value = None
    if not rejections:
        try:
            value = score(candidate, ctx)
        except Exception as exc:
            rejections.append(Rejection(rule="rank", reason=f"could not be scored ({type(exc).__name__})"))
    return Verdict(
        candidate=candidate,
        rejections=tuple(rejections),
        score=value,
        season=season,
        episodes=episodes,
        is_pack=is_pack,
    )


def evaluate(candidates: Iterable[Candidate], ctx: RuleContext, chain: Sequence[Rule] | None = None) -> list[Verdict]:
    """Verdicts for the deduped candidates: accepted in preference order, then rejected in input order.

    `chain` defaults to `build_chain(ctx.settings.rules)`.
    """
    rules = build_chain(ctx.settings.rules) if chain is None else chain
    verdicts = [judge(candidate, ctx, rules) for candidate in dedupe(candidates)]
    accepted = sorted((v for v in verdicts if v.accepted), key=preference_key)
    rejected = [v for v in verdicts if not v.accepted]
    return accepted + rejected


__all__ = ["dedupe", "evaluate", "judge"]
