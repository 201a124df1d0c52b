"""Which quality profile applies to a request: the first `selection.profile_rules` entry whose conditions all hold."""

from __future__ import annotations

from datetime import date

from seerbridge.config import ProfileRule, ProfileSettings, SelectionSettings
from seerbridge.domain.media import Title


class NoProfile(ValueError):
    """No profile fits (no catch-all rule), or a profile named by hand does not exist."""


def rule_applies(rule: ProfileRule, title: Title, *, is4k: bool, today: date) -> bool:
    """All conditions of the rule hold. An age condition never holds for a title of unknown age."""
    if rule.is4k is not None and rule.is4k != is4k:
        return False
    if rule.kind is not None and rule.kind != title.kind.value:
        return False
    if rule.min_age_years is None and rule.max_age_years is None:
        return True
    age = title.age_years(today)  # shows: from the first air date
    if age is None:
        return False
    if rule.min_age_years is not None and age < rule.min_age_years:
        return False
    return not (rule.max_age_years is not None and age > rule.max_age_years)


def choose_profile(
    settings: SelectionSettings, title: Title, *, is4k: bool, today: date
) -> tuple[str, ProfileSettings]:
    """(name, profile) of the first matching rule; NoProfile when none matches."""
    for rule in settings.profile_rules:
        if rule_applies(rule, title, is4k=is4k, today=today):
            return rule.profile, settings.profiles[rule.profile]
    raise NoProfile(
        f"no selection.profile_rules entry matches {title.title!r} ({title.kind.value}, 4K={is4k}); "
        "add a last rule without conditions"
    )


def profile_by_name(settings: SelectionSettings, name: str) -> tuple[str, ProfileSettings]:
    """A profile chosen by hand (e.g. `explain --profile`); NoProfile lists the defined ones."""
    try:
        return name, settings.profiles[name]
    except KeyError:
        raise NoProfile(f"unknown profile {name!r}; defined: {', '.join(sorted(settings.profiles))}") from None


__all__ = ["NoProfile", "choose_profile", "profile_by_name", "rule_applies"]
