"""Fixtures shared with the end-to-end tests: `make_e2e` builds an emulated world and settings pointing at it."""

from tests.e2e.conftest import make_e2e

__all__ = ["make_e2e"]
