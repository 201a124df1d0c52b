"""Request validation as Seerr's express-openapi-validator does it, by hand for the parameters the emulator serves.

A request that breaks the spec is refused with 400 and `{"message": "request/query/filter must be …", "errors":
[{"path": "/query/filter", "message": "must be …", "errorCode": "enum.openapi.validation"}]}` before any route code
or authentication runs. Query strings are coerced (`take=5` is a number); JSON bodies are not (`"is4k": "true"` fails).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Problem:
    path: str
    message: str
    code: str


class ValidationFailure(Exception):
    """One or more spec violations; rendered as express-openapi-validator's 400 body."""

    status = 400

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(f"{p.path}: {p.message}" for p in problems))
        self.problems = problems

    def body(self) -> dict[str, Any]:
        message = ", ".join(f"request{p.path} {p.message}" for p in self.problems)
        errors = [{"path": p.path, "message": p.message, "errorCode": p.code} for p in self.problems]
        return {"message": message, "errors": errors}


class Checker:
    """Collects problems for one request; `done()` raises them all at once."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def _fail(self, where: str, name: str, message: str, code: str) -> None:
        path = f"/{where}/{name}" if name else f"/{where}"
        self.problems.append(Problem(path, message, f"{code}.openapi.validation"))

    def number(self, where: str, name: str, raw: str | None) -> float | None:
        """A query or path value declared `type: number`; None when absent."""
        if raw is None:
            return None
        if raw == "" and where == "query":
            self.problems.append(
                Problem(f"/{where}/{name}", f"Empty value found for query parameter '{name}'", "allowEmptyValue")
            )
            return None
        try:
            value = float(raw)
        except ValueError:
            value = math.nan
        if not math.isfinite(value):
            self._fail(where, name, "must be number", "type")
            return None
        return value

    def enum(self, where: str, name: str, raw: str | None, allowed: Sequence[str]) -> str | None:
        if raw is None:
            return None
        if raw not in allowed:
            self._fail(where, name, "must be equal to one of the allowed values: " + ", ".join(allowed), "enum")
            return None
        return raw

    def done(self) -> None:
        if self.problems:
            raise ValidationFailure(list(self.problems))


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def check_request_body(body: Any) -> dict[str, Any]:
    """The `POST /request` body schema; returns the body when it conforms."""
    check = Checker()
    if not isinstance(body, dict):
        check._fail("body", "", "must be object", "type")
        check.done()
    assert isinstance(body, dict)
    for name in ("mediaType", "mediaId"):
        if name not in body:
            check._fail("body", name, f"must have required property '{name}'", "required")
    if "mediaType" in body and body["mediaType"] not in ("movie", "tv"):
        check._fail("body", "mediaType", "must be equal to one of the allowed values: movie, tv", "enum")
    for name in ("mediaId", "tvdbId", "serverId", "profileId", "languageProfileId"):
        if name in body and not _is_number(body[name]):
            check._fail("body", name, "must be number", "type")
    if "userId" in body and body["userId"] is not None and not _is_number(body["userId"]):
        check._fail("body", "userId", "must be number", "type")
    if "is4k" in body and not isinstance(body["is4k"], bool):
        check._fail("body", "is4k", "must be boolean", "type")
    if "rootFolder" in body and not isinstance(body["rootFolder"], str):
        check._fail("body", "rootFolder", "must be string", "type")
    if "seasons" in body:
        seasons = body["seasons"]
        as_list = isinstance(seasons, list) and all(_is_number(s) and s >= 0 for s in seasons)
        if not (as_list or seasons == "all"):
            check._fail("body", "seasons", "must match exactly one schema in oneOf", "oneOf")
    check.done()
    return body


def check_media_status_body(body: Any) -> Mapping[str, Any]:
    """The `POST /media/{id}/{status}` body: optional object with a boolean `is4k` (extra keys allowed)."""
    if body is None:
        return {}
    check = Checker()
    if not isinstance(body, dict):
        check._fail("body", "", "must be object", "type")
    elif "is4k" in body and not isinstance(body["is4k"], bool):
        check._fail("body", "is4k", "must be boolean", "type")
    check.done()
    assert isinstance(body, dict)
    return body
