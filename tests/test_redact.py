"""Redaction: registered secrets and debrid keys in Torrentio paths never survive."""

from __future__ import annotations

from seerbridge.redact import MASK, redact, register, torrentio_keys


def test_registered_secret_is_masked_everywhere() -> None:
    register("a-very-secret-token-42")
    text = "GET /user?auth_token=a-very-secret-token-42 failed; token a-very-secret-token-42"
    assert redact(text) == f"GET /user?auth_token={MASK} failed; token {MASK}"


def test_short_values_are_not_registered() -> None:
    register("ab")
    assert redact("ab cab") == "ab cab"


def test_torrentio_keys_masked_in_config_segments_and_resolve_urls() -> None:
    url = "https://t.example/sort=qualitysize|realdebrid=KEYABCDEFGHIJKLMNOP/stream/movie/tt1.json"
    assert "KEYABC" not in redact(url)
    assert redact(url).startswith("https://t.example/sort=qualitysize|realdebrid=***/stream")
    encoded = "https://t.example/sort=size%7Crealdebrid%3DKEYABCDEFGHIJKLMNOP/manifest.json"
    assert "KEYABC" not in redact(encoded)
    resolve = "https://t.example/resolve/realdebrid/KEYXYZXYZXYZXYZXYZ/abcdef/null/0/file.mkv"
    assert "KEYXYZ" not in redact(resolve)
    assert torrentio_keys(url) == ["KEYABCDEFGHIJKLMNOP"]
