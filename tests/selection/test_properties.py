"""Property tests: the parser wrapper, the chain and the file mapper never crash and keep their promises."""

from __future__ import annotations

import contextlib
import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from seerbridge.domain.media import Wanted
from seerbridge.domain.release import Candidate
from seerbridge.selection.chain import evaluate
from seerbridge.selection.files import is_video, select_files
from seerbridge.selection.parse import ParseFailure, candidate, parse_release
from tests.selection.builders import ctx, movie, show

FRAGMENTS = [
    "Dune", "Haunt", "Breaking", "Bad", "Shogun", "Night", "of", "the", "Living", "Dead", "2021", "2019", "1980",
    "2008", "S01", "S02", "S01E02", "E03", "1x04", "Season 2", "Complete", "S01-S05", "1080p", "720p", "2160p",
    "480p", "BluRay", "REMUX", "WEB-DL", "WEBRip", "HDCAM", "TS", "HDTV", "x264", "x265", "HEVC", "DV", "HDR",
    "ITA", "ENG", "RUS", "MULTi", "[YTS.MX]", "(2008)", "-EXAMPLE", "Part", "Two", "sample", "[", "]", "(", ")",
    "…", "🇬🇧", "\n", "💾",
]  # fmt: skip

names = st.one_of(
    st.text(max_size=400),
    st.lists(st.sampled_from(FRAGMENTS), max_size=14).map(".".join),
    st.lists(st.sampled_from(FRAGMENTS), max_size=14).map(" ".join),
    st.builds(lambda n, c: c * n + "x", st.integers(0, 3000), st.sampled_from(["[", "(", "[a]", "-", "."])),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=names)
def test_parse_release_never_raises_anything_else_and_is_fast(name: str) -> None:
    start = time.perf_counter()
    try:
        parsed = parse_release(name, max_chars=300)
    except ParseFailure as exc:
        assert str(exc)
    else:
        assert parsed.title
        assert parsed.resolution in ("2160p", "1440p", "1080p", "720p", "576p", "480p", "360p", "unknown")
        assert all(isinstance(s, int) for s in parsed.seasons + parsed.episodes)
    assert time.perf_counter() - start < 1.5


def test_long_bracket_runs_stay_fast_under_the_cap() -> None:
    start = time.perf_counter()
    for n in (1000, 5000, 20000):
        with contextlib.suppress(ParseFailure):
            parse_release("[" * n + "x", max_chars=300)
    assert time.perf_counter() - start < 2.0


hashes = st.text(alphabet="0123456789abcdefABCDEF", min_size=40, max_size=40)
candidates = st.builds(
    lambda info_hash, name, seeders, size, hint, langs: candidate(
        info_hash=info_hash,
        name=name,
        max_chars=300,
        seeders=seeders,
        size_bytes=size,
        cached_hint=hint,
        languages=langs,
    ),
    info_hash=st.one_of(hashes, st.sampled_from(["a" * 40, "A" * 40])),
    name=names,
    seeders=st.one_of(st.none(), st.integers(0, 10_000)),
    size=st.one_of(st.none(), st.integers(0, 200 * 1024**3)),
    hint=st.booleans(),
    langs=st.lists(st.sampled_from(["🇬🇧", "🇷🇺", "it", "Dubbed", ""]), max_size=3),
)
wanteds = st.one_of(
    st.sampled_from([movie("Dune", 2021), movie("Night of the Living Dead", 1968), movie("Us", None)]),
    st.builds(
        lambda season, eps: show("Breaking Bad", 2008, season, eps),
        st.integers(0, 6),
        st.frozensets(st.integers(1, 20), max_size=8),
    ),
    st.builds(lambda w: Wanted(title=w.title, is4k=True), st.just(movie("Dune", 2021))),
)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cands=st.lists(candidates, max_size=6), wanted=wanteds, profile=st.sampled_from(["standard", "4k", "classic"]))
def test_evaluate_never_raises_and_verdicts_are_consistent(
    cands: list[Candidate], wanted: Wanted, profile: str
) -> None:
    verdicts = evaluate(cands, ctx(wanted, profile=profile, bad=["a" * 40]))
    assert len(verdicts) == len({c.info_hash for c in cands})
    seen_rejected = False
    for v in verdicts:
        if v.accepted:
            assert not seen_rejected, "accepted verdicts come first"
            assert v.reasons == [] and isinstance(v.score, int)
        else:
            seen_rejected = True
            assert len(v.reasons) >= 1 and v.score is None
            assert all(r.reason for r in v.rejections)
        if v.candidate.info_hash == "a" * 40:
            assert "bad_hash" in v.reasons


FOLDERS = ["", "Show.S01.1080p/", "Sample/", "Season 2/", "Extras/", "Show/Season 1/", "Samples/", "Featurettes/"]
LEAVES = [
    "Show.S01E01", "Show.S01E02.1080p", "show.1x03", "Show.S02E01E02", "Episode 04", "sample", "show.s01e01-sample",
    "The.Sample.Man.2020", "Movie.2020.CD1", "Movie.2020.CD2", "Trailer", "readme", "Show - 2x05-2x06", "",
]  # fmt: skip
EXTS = ["mkv", "mp4", "avi", "nfo", "txt", "srt", "ts", "m2ts", "jpg", ""]

paths = st.builds(
    lambda lead, folder, leaf, ext: lead + folder + leaf + ("." + ext if ext else ""),
    st.sampled_from(["/", ""]),
    st.sampled_from(FOLDERS),
    st.sampled_from(LEAVES),
    st.sampled_from(EXTS),
)


def _clearly_sample(path: str) -> bool:
    parts = path.strip("/").split("/")
    if any(p.lower() in ("sample", "samples") for p in parts[:-1]):
        return True
    stem = parts[-1].rsplit(".", 1)[0].lower()
    return stem == "sample" or stem.endswith(("-sample", ".sample"))


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    files=st.lists(st.tuples(paths, st.integers(0, 5 * 1024**3)), max_size=12),
    wanted=wanteds,
    release=st.sampled_from([None, "Show.S01.1080p", "Show.S02", "Movie"]),
)
def test_select_files_returns_only_given_ids_and_never_a_sample(
    files: list[tuple[str, int]], wanted: Wanted, release: str | None
) -> None:
    numbered = [(i, path, size) for i, (path, size) in enumerate(files, start=1)]
    got = select_files(numbered, wanted, release_name=release)
    by_id = {i: path for i, path, _ in numbered}
    assert set(got.file_ids) <= set(by_id)
    assert list(got.file_ids) == sorted(set(got.file_ids))
    for file_id in got.file_ids:
        assert is_video(by_id[file_id])
        assert not _clearly_sample(by_id[file_id])
    if not got.file_ids:
        assert got.reason
    if wanted.episodes:
        assert got.covered <= wanted.episodes
