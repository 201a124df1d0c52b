"""Renders settings as TOML: the effective config with secrets masked, and a commented example file."""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, SecretStr
from sqlalchemy.engine import make_url

from seerbridge.config import Settings
from seerbridge.redact import MASK, redact

SECTION_HELP = {
    "seerr": "Seerr (Jellyseerr/Overseerr): where requests come from.",
    "jellyfin": "Jellyfin: what is already in the library, and where new files get announced.",
    "torrentio": "Torrentio: where releases are found. The URL carries Torrentio's config segment.",
    "realdebrid": "Real-Debrid: where torrents are cached and downloaded.",
    "database": "Where seerbridge keeps its state.",
    "selection": "Which releases are acceptable and which is best: the rule chain and the quality profiles.",
    "acquire": "How candidates are probed and added on Real-Debrid.",
    "plan": "Working out what a request still needs (what has aired).",
    "search": "Torrentio searches.",
    "run": "The daemon: polling and concurrency.",
    "backoff": "Retrying what could not be found or downloaded.",
    "follow": "Following uncached downloads on Real-Debrid to the end.",
    "upgrade": "Replacing what was fulfilled below its profile's cutoff with a better cached copy, slowly.",
    "cleanup": "Finding torrents nothing needs any more (`seerbridge cleanup`); hand-added ones only on opt-in.",
    "server": "The HTTP server for Seerr webhooks and health checks.",
    "webhook": "Seerr webhook authentication.",
    "arr": "seerbridge as Seerr's Radarr and Sonarr: the API key entered in Seerr's server settings.",
    "torbox": "TorBox: a debrid service with a real cache check (not used by the pipeline yet).",
    "sources": "More sources of releases besides Torrentio (Torznab indexers, Zilean), merged by info hash.",
    "log": "Logging.",
}

EXAMPLE_SECRETS = {
    ("seerr", "api_key"): "your-seerr-api-key",
    ("jellyfin", "api_key"): "your-jellyfin-api-key",
    ("realdebrid", "api_key"): "your-real-debrid-api-token",
    ("torbox", "api_key"): "your-torbox-api-key",
    ("webhook", "secret"): "a-long-random-string-also-set-in-seerr",
    ("arr", "api_key"): "a-long-random-string-entered-in-seerr-as-radarr-and-sonarr-api-key",
}


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return json.dumps(str(value), ensure_ascii=False)


def _masked(section: str, name: str, value: SecretStr) -> str:
    raw = value.get_secret_value()
    if section == "database" and name == "url":
        return make_url(raw).render_as_string(hide_password=True)
    if section == "torrentio" and name == "url":
        return redact(raw)
    return MASK if raw else ""


def _ordered(model: type[BaseModel]) -> list[str]:
    """Field names with where-and-who (url, api_key) first, as a person reads a section."""
    names = list(model.model_fields)
    return sorted(names, key=lambda n: (n not in ("url", "api_key"), n != "url"))


def _field_key(model: type[BaseModel], name: str) -> str:
    info = model.model_fields[name]
    return info.alias or name


def _render_model(
    model: BaseModel,
    path: list[str],
    out: list[str],
    *,
    example: bool,
    array: bool = False,
) -> None:
    """Write one model as a TOML table (or array-of-tables entry), then its nested tables after it."""
    section = path[0]
    header = ".".join(path)
    out.append(f"[[{header}]]" if array else f"[{header}]")
    nested: list[tuple[str, Any]] = []
    cls = type(model)
    for name in _ordered(cls):
        field = cls.model_fields[name]
        key = _field_key(cls, name)
        value = getattr(model, name)
        if isinstance(value, BaseModel) or (
            isinstance(value, dict | list) and value and all(isinstance(v, BaseModel) for v in _values(value))
        ):
            nested.append((key, value))
            continue
        if example and field.description and len(path) == 1:
            env = f"SEERBRIDGE_{section.upper()}__{key.upper()}"
            out.append(f"# {field.description} ({env})")
        elif example and field.description:
            out.append(f"# {field.description}")
        if (section, name) in EXAMPLE_SECRETS and example:
            out.append(f"{key} = {_toml_value(EXAMPLE_SECRETS[(section, name)])}")
            continue
        if isinstance(value, SecretStr):
            value = value.get_secret_value() if example else _masked(section, name, value)
        if value is None:
            out.append(f"# {key} = (not set)")
            continue
        line = f"{key} = {_toml_value(value)}"
        out.append(f"# {line}" if example and len(path) == 1 else line)
    out.append("")
    for key, value in nested:
        if isinstance(value, BaseModel):
            _render_model(value, [*path, key], out, example=example)
        elif isinstance(value, dict):
            for sub, item in value.items():
                _render_model(item, [*path, key, sub], out, example=example)
        else:
            for item in value:
                _render_model(item, [*path, key], out, example=example, array=True)


def _values(value: dict[str, Any] | list[Any]) -> list[Any]:
    return list(value.values()) if isinstance(value, dict) else list(value)


def render_effective(settings: Settings) -> str:
    """The effective configuration as TOML; every secret masked."""
    out: list[str] = []
    for section in Settings.model_fields:
        value = getattr(settings, section)
        if isinstance(value, dict):  # named tables: [sources.prowlarr]
            for name, item in value.items():
                _render_model(item, [section, name], out, example=False)
            continue
        _render_model(value, [section], out, example=False)
    return "\n".join(out)


def render_example() -> str:
    """A commented example config file built from the settings model, so it never drifts from it.

    Top-level keys are shown commented out with their defaults; nested tables (profiles, profile rules) are
    written out in full, because TOML cannot show them commented and still be copied as one block.
    """
    defaults = Settings.model_construct()
    out = [
        "# seerbridge configuration (TOML). Pass it with --config PATH or SEERBRIDGE_CONFIG=PATH.",
        "# Any key can be overridden by an environment variable SEERBRIDGE_<SECTION>__<KEY>,",
        "# e.g. SEERBRIDGE_REALDEBRID__API_KEY. Lines starting with # show the default.",
        "",
    ]
    for section, info in Settings.model_fields.items():
        factory = info.default_factory
        model = factory() if factory is not None else getattr(defaults, section)  # type: ignore[call-arg]
        out.append(f"# {SECTION_HELP.get(section, section)}")
        if isinstance(model, dict):
            out += SOURCES_EXAMPLE
            continue
        _render_model(model, [section], out, example=True)
    return "\n".join(out)


SOURCES_EXAMPLE = [
    "# One table per source, by a name of your choice; every service key (timeout_s, rate_limit_per_min, breaker_…)",
    "# may be given too. For example:",
    "# [sources.prowlarr]",
    '# kind = "torznab"',
    '# url = "http://prowlarr:9696/1/api"',
    '# api_key = "your-prowlarr-api-key"',
    "# daily_budget = 1000",
    "# [sources.zilean]",
    '# kind = "zilean"',
    '# url = "http://zilean:8181"',
    "",
]
