"""Settings: file + env layering, clear one-line errors, masked output, a valid example file."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

import pytest

from seerbridge.config import ConfigError, load_settings, secret_values
from seerbridge.render.config_render import render_effective, render_example


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for key in list(os.environ):
        if key.startswith("SEERBRIDGE_"):
            monkeypatch.delenv(key)


def test_env_overrides_file_and_keeps_file_siblings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text('[seerr]\nurl = "http://files:5055/"\napi_key = "from-file-key"\ntimeout_s = 7\n')
    monkeypatch.setenv("SEERBRIDGE_SEERR__API_KEY", "from-env-key")
    settings = load_settings(cfg)
    assert settings.seerr.url == "http://files:5055"
    assert settings.seerr.timeout_s == 7
    assert settings.seerr.api_key.get_secret_value() == "from-env-key"


def test_config_path_from_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text('[realdebrid]\napi_key = "tok-from-file"\n')
    monkeypatch.setenv("SEERBRIDGE_CONFIG", str(cfg))
    assert load_settings().realdebrid.api_key.get_secret_value() == "tok-from-file"


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"SEERBRIDGE_SEERR__URL": "seerr.local"}, "seerr.url (SEERBRIDGE_SEERR__URL): must start with http"),
        ({"SEERBRIDGE_REALDEBRID__RATE_LIMIT_PER_MIN": "900"}, "realdebrid.rate_limit_per_min"),
        ({"SEERBRIDGE_JELLYFIN__TIMEOUT_S": "soon"}, "jellyfin.timeout_s (SEERBRIDGE_JELLYFIN__TIMEOUT_S)"),
        ({"SEERBRIDGE_DATABASE__URL": "mysql://x"}, "database.url (SEERBRIDGE_DATABASE__URL): must start with"),
        ({"SEERBRIDGE_SEERR__URL": "http://"}, "seerr.url (SEERBRIDGE_SEERR__URL): must name a host"),
        (
            {"SEERBRIDGE_JELLYFIN__URL": "https:///jellyfin"},
            "jellyfin.url (SEERBRIDGE_JELLYFIN__URL): must name a host",
        ),
        (
            {"SEERBRIDGE_REALDEBRID__URL": "http://:8080"},
            "realdebrid.url (SEERBRIDGE_REALDEBRID__URL): must name a host",
        ),
        ({"SEERBRIDGE_TORRENTIO__URL": "https://"}, "torrentio.url (SEERBRIDGE_TORRENTIO__URL): must name a host"),
        ({"SEERBRIDGE_SEERR__URL": "http://seerr:99999"}, "seerr.url (SEERBRIDGE_SEERR__URL): has an invalid port"),
        ({"SEERBRIDGE_ARR__API_KEY": "abc"}, "arr.api_key (SEERBRIDGE_ARR__API_KEY): must be at least 16 characters"),
    ],
)
def test_bad_values_give_one_line_naming_the_field(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], expected: str
) -> None:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(ConfigError) as err:
        load_settings()
    message = str(err.value)
    assert expected in message
    assert "\n" not in message


def test_unknown_key_in_file_is_named(tmp_path: Path) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text("[seerr]\napikey = 'typo'\n")
    with pytest.raises(ConfigError, match=r"seerr\.apikey .*is not a known setting"):
        load_settings(cfg)


def test_missing_and_broken_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(tmp_path / "nope.toml")
    broken = tmp_path / "b.toml"
    broken.write_text("[seerr\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(broken)


def test_a_folder_is_not_a_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"is a folder, not a file"):
        load_settings(tmp_path)


def test_a_config_file_that_is_not_utf8_is_one_clear_line(tmp_path: Path) -> None:
    latin = tmp_path / "latin1.toml"
    latin.write_bytes('[seerr]\napi_key = "clé"\n'.encode("latin-1"))
    with pytest.raises(ConfigError, match=r"latin1\.toml is not UTF-8 text") as err:
        load_settings(latin)
    assert "\n" not in str(err.value)


def test_an_unreadable_config_file_says_permission_denied(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = tmp_path / "secret.toml"
    cfg.write_text("[seerr]\n")
    real_read = Path.read_bytes

    def refuse(self: Path) -> bytes:  # chmod 000 does not stop root, who runs these tests in containers
        if self == cfg:
            raise PermissionError(13, "Permission denied", str(self))
        return real_read(self)

    monkeypatch.setattr(Path, "read_bytes", refuse)
    with pytest.raises(ConfigError, match=r"secret\.toml cannot be read: permission denied$"):
        load_settings(cfg)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_a_config_file_without_read_permission(tmp_path: Path) -> None:
    cfg = tmp_path / "locked.toml"
    cfg.write_text("[seerr]\n")
    cfg.chmod(0)
    with pytest.raises(ConfigError, match=r"cannot be read: permission denied"):
        load_settings(cfg)


def test_effective_config_masks_every_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    secrets = {
        "SEERBRIDGE_SEERR__API_KEY": "seerr-secret-123456",
        "SEERBRIDGE_JELLYFIN__API_KEY": "jelly-secret-123456",
        "SEERBRIDGE_REALDEBRID__API_KEY": "rd-secret-token-123456",
        "SEERBRIDGE_TORRENTIO__URL": "https://torrentio.example/sort=qualitysize|realdebrid=RDKEYINURL0123456789",
        "SEERBRIDGE_DATABASE__URL": "postgresql+asyncpg://bridge:db-pass-987654@127.0.0.1/bridge",
    }
    for key, value in secrets.items():
        monkeypatch.setenv(key, value)
    settings = load_settings()
    shown = render_effective(settings)
    for needle in ("seerr-secret-123456", "jelly-secret-123456", "rd-secret-token-123456", "RDKEYINURL", "db-pass"):
        assert needle not in shown
    assert "realdebrid=***" in shown
    assert "torrentio.example/sort=qualitysize" in shown
    assert tomllib.loads(shown)["seerr"]["api_key"] == "***"
    assert "db-pass-987654" in secret_values(settings)


def test_example_file_is_valid_and_loads(tmp_path: Path) -> None:
    text = render_example()
    cfg = tmp_path / "example.toml"
    cfg.write_text(text)
    settings = load_settings(cfg)
    assert settings.realdebrid.api_key.get_secret_value() == "your-real-debrid-api-token"
    # Every setting is documented with its env var.
    assert "SEERBRIDGE_TORRENTIO__DAILY_BUDGET" in text
    assert "SEERBRIDGE_DATABASE__URL" in text


def test_default_database_is_sqlite_in_user_data_dir() -> None:
    url = load_settings().database.url.get_secret_value()
    assert url.startswith("sqlite+aiosqlite:///")
    assert url.endswith("seerbridge/seerbridge.db")


def test_a_profile_in_the_file_changes_only_what_it_names(tmp_path: Path) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text(
        "[selection.profiles.4k]\nepisode_size_gb = [1.0, 20.0]\n\n"
        '[selection.profiles.anime]\nresolutions = ["1080p"]\n'
    )
    profiles = load_settings(cfg).selection.profiles
    assert set(profiles) == {"standard", "4k", "classic", "anime"}
    assert profiles["4k"].episode_size_gb == (1.0, 20.0)
    assert profiles["4k"].resolutions == ["2160p", "1080p"]  # kept from the shipped 4k profile
    assert profiles["anime"].resolutions == ["1080p"]


def test_profile_rules_must_name_defined_profiles(tmp_path: Path) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text('[[selection.profile_rules]]\nprofile = "nope"\n')
    with pytest.raises(ConfigError, match="names profile 'nope', which is not defined"):
        load_settings(cfg)
