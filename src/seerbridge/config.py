"""The settings model: a TOML file overridden by SEERBRIDGE_<SECTION>__<KEY> env vars; nothing else."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Annotated, Any, ClassVar

import platformdirs
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

CONFIG_ENV = "SEERBRIDGE_CONFIG"


def _clean_url(value: str) -> str:
    value = value.strip()
    if not value.startswith(("http://", "https://")):
        raise ValueError("must start with http:// or https://")
    return value.rstrip("/")


BaseUrl = Annotated[str, AfterValidator(_clean_url)]


class Section(BaseModel):
    """A config section; unknown keys are errors, so a typo never silently falls back to a default."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class ServiceSettings(Section):
    """What every remote service has: how long we wait for it and how often we may call it."""

    timeout_s: float = Field(15.0, gt=0, description="Seconds before one HTTP call to this service gives up.")
    retries: int = Field(4, ge=1, le=20, description="Attempts per call for transient failures (5xx, 429, timeouts).")
    retry_timeout_s: float = Field(60.0, gt=0, description="Upper bound on the time spent retrying one call.")
    rate_limit_per_min: float = Field(
        0, ge=0, description="Most calls per minute, spread evenly (no burst); 0 means no limit."
    )


class SeerrSettings(ServiceSettings):
    url: BaseUrl = Field("http://localhost:5055", description="Seerr base URL, without /api/v1.")
    api_key: SecretStr = Field(SecretStr(""), description="Seerr API key (Settings → General).")


class JellyfinSettings(ServiceSettings):
    url: BaseUrl = Field("http://localhost:8096", description="Jellyfin base URL, including any base path.")
    api_key: SecretStr = Field(SecretStr(""), description="Jellyfin API key (Dashboard → API Keys).")


class TorrentioSettings(ServiceSettings):
    url: SecretStr = Field(
        SecretStr("https://torrentio.strem.fun/sort=qualitysize|qualityfilter=480p,scr,cam"),
        description="Torrentio base URL including the config path segment; may carry a debrid key, so it is a secret.",
    )
    rate_limit_per_min: float = Field(6.0, ge=0, description="Most Torrentio calls per minute (no burst).")
    daily_budget: int = Field(
        2000, ge=0, description="Most Torrentio stream calls per day (the public instance allows 5000 per IP)."
    )

    @field_validator("url", mode="before")
    @classmethod
    def _check_secret_url(cls, v: Any) -> Any:
        raw = v.get_secret_value() if isinstance(v, SecretStr) else str(v)
        return SecretStr(_clean_url(raw))


class RealDebridSettings(ServiceSettings):
    url: BaseUrl = Field("https://api.real-debrid.com/rest/1.0", description="Real-Debrid REST base URL.")
    api_key: SecretStr = Field(SecretStr(""), description="Real-Debrid private API token (real-debrid.com/apitoken).")
    rate_limit_per_min: float = Field(
        250.0, gt=0, le=250, description="Most calls per minute (Real-Debrid allows 250)."
    )


def default_database_url() -> str:
    data_dir = Path(platformdirs.user_data_dir("seerbridge"))
    return f"sqlite+aiosqlite:///{data_dir / 'seerbridge.db'}"


class DatabaseSettings(Section):
    url: SecretStr = Field(
        default_factory=lambda: SecretStr(default_database_url()),
        description="SQLAlchemy async URL: sqlite+aiosqlite:///PATH or postgresql+asyncpg://USER:PASS@HOST/DB.",
    )

    @field_validator("url", mode="before")
    @classmethod
    def _check_driver(cls, v: Any) -> Any:
        raw = v.get_secret_value() if isinstance(v, SecretStr) else str(v)
        if not raw.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("must start with sqlite+aiosqlite:// or postgresql+asyncpg://")
        return SecretStr(raw)


class LogSettings(Section):
    level: str = Field("info", pattern="^(debug|info|warning|error)$", description="Least severe level logged.")
    json_output: bool = Field(False, alias="json", description="Write JSON lines instead of console text.")


class Settings(BaseSettings):
    """The whole effective configuration."""

    seerr: SeerrSettings = Field(default_factory=SeerrSettings)
    jellyfin: JellyfinSettings = Field(default_factory=JellyfinSettings)
    torrentio: TorrentioSettings = Field(default_factory=TorrentioSettings)
    realdebrid: RealDebridSettings = Field(default_factory=RealDebridSettings)
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    log: LogSettings = Field(default_factory=LogSettings)

    model_config = SettingsConfigDict(
        env_prefix="SEERBRIDGE_", env_nested_delimiter="__", extra="forbid", nested_model_default_partial_update=True
    )
    _toml_path: ClassVar[Path | None] = None

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if cls._toml_path is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=cls._toml_path))
        return tuple(sources)


class ConfigError(Exception):
    """The configuration cannot be used; the message is one line naming the field."""


def load_settings(path: Path | None = None, overrides: dict[str, Any] | None = None) -> Settings:
    """Build settings from an optional TOML file and the environment; raise ConfigError with one clear line.

    `overrides` (section → values) win over both, e.g. to point a demo at the emulators.
    """
    if path is None and os.environ.get(CONFIG_ENV):
        path = Path(os.environ[CONFIG_ENV])
    if path is not None:
        if not path.is_file():
            raise ConfigError(f"config file {path} does not exist")
        try:
            with path.open("rb") as fh:
                tomllib.load(fh)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"config file {path} is not valid TOML: {exc}") from None
    Settings._toml_path = path
    try:
        return Settings(**(overrides or {}))
    except ValidationError as exc:
        raise ConfigError(describe_validation_error(exc)) from None
    finally:
        Settings._toml_path = None


def describe_validation_error(exc: ValidationError) -> str:
    """One line per problem: the dotted field, its env var, and what is wrong (never the value)."""
    lines = []
    for err in exc.errors():
        loc = [str(part) for part in err["loc"]]
        dotted = ".".join(loc)
        env_name = "SEERBRIDGE_" + "__".join(part.upper() for part in loc)
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "is not a known setting"
        lines.append(f"invalid setting {dotted} ({env_name}): {msg}")
    return "; ".join(lines)


def secret_values(settings: Settings) -> list[str]:
    """Every secret the settings hold, for the redaction registry (API keys, URL-borne keys, DB password)."""
    from sqlalchemy.engine import make_url

    values = [
        settings.seerr.api_key.get_secret_value(),
        settings.jellyfin.api_key.get_secret_value(),
        settings.realdebrid.api_key.get_secret_value(),
    ]
    db_password = make_url(settings.database.url.get_secret_value()).password
    if db_password:
        values.append(str(db_password))
    return [v for v in values if v]
