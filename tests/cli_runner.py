"""Running the `seerbridge` CLI in-process with exactly the given SEERBRIDGE_* environment (none leaks in)."""

from __future__ import annotations

import os

import pytest
from typer.testing import CliRunner

from seerbridge.cli import app

runner = CliRunner()


def invoke(
    args: list[str], env: dict[str, str], monkeypatch: pytest.MonkeyPatch, *, width: int | None = None
) -> tuple[int, str]:
    """(exit code, output) of `seerbridge ARGS` with `env` as its only SEERBRIDGE_* variables."""
    for key in list(os.environ):
        if key.startswith("SEERBRIDGE_"):
            monkeypatch.delenv(key)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    result = runner.invoke(app, args, terminal_width=width)
    return result.exit_code, result.output
