"""Selection core: parse release names, judge them with a configurable rule chain, rank them, map torrent files.

Pure functions over domain types and settings: no I/O. See `rules.py` for how to add a rule.
"""

from seerbridge.selection.chain import dedupe, evaluate, judge
from seerbridge.selection.files import FileSelection, TorrentFile, pack_share, select_files
from seerbridge.selection.parse import ParseFailure, candidate, parse_release
from seerbridge.selection.profiles import NoProfile, choose_profile, profile_by_name
from seerbridge.selection.rank import by_seeders, preference_key, score, split_packs
from seerbridge.selection.rules import (
    Coverage,
    MinSeeders,
    Rule,
    RuleContext,
    UnknownRule,
    build_chain,
    coverage,
    known_rules,
    register,
)

__all__ = [
    "Coverage",
    "FileSelection",
    "MinSeeders",
    "NoProfile",
    "ParseFailure",
    "Rule",
    "RuleContext",
    "TorrentFile",
    "UnknownRule",
    "build_chain",
    "by_seeders",
    "candidate",
    "choose_profile",
    "coverage",
    "dedupe",
    "evaluate",
    "judge",
    "known_rules",
    "pack_share",
    "parse_release",
    "preference_key",
    "profile_by_name",
    "register",
    "score",
    "select_files",
    "split_packs",
]
