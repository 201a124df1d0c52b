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
    "log": "Logging.",
}

EXAMPLE_SECRETS = {
    ("seerr", "api_key"): "your-seerr-api-key",
    ("jellyfin", "api_key"): "your-jellyfin-api-key",
    ("realdebrid", "api_key"): "your-real-debrid-api-token",
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


def render_effective(settings: Settings) -> str:
    """The effective configuration as TOML; every secret masked."""
    lines: list[str] = []
    for section in Settings.model_fields:
        model: BaseModel = getattr(settings, section)
        lines.append(f"[{section}]")
        for name in _ordered(type(model)):
            value = getattr(model, name)
            if isinstance(value, SecretStr):
                value = _masked(section, name, value)
            lines.append(f"{_field_key(type(model), name)} = {_toml_value(value)}")
        lines.append("")
    return "\n".join(lines)


def render_example() -> str:
    """A commented example config file built from the settings model, so it never drifts from it."""
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
        out.append(f"[{section}]")
        for name in _ordered(type(model)):
            field = type(model).model_fields[name]
            key = _field_key(type(model), name)
            env = f"SEERBRIDGE_{section.upper()}__{key.upper()}"
            if field.description:
                out.append(f"# {field.description} ({env})")
            value = getattr(model, name)
            if (section, name) in EXAMPLE_SECRETS:
                out.append(f"{key} = {_toml_value(EXAMPLE_SECRETS[(section, name)])}")
                continue
            if isinstance(value, SecretStr):
                value = value.get_secret_value()
            out.append(f"# {key} = {_toml_value(value)}")
        out.append("")
    return "\n".join(out)
