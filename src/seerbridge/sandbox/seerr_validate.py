"""Request validation as Seerr 3.1.0's express-openapi-validator does it, by hand for the routes the emulator serves.

Seerr pins express-openapi-validator 4.13.8, which runs **ajv 6** (`allErrors`, `nullable`), so messages read
"should be …" and paths are dotted. Before any route code or authentication runs:

1. The query string is checked name by name, in order: a name the operation does not declare is refused with
   `Unknown query parameter 'x'`, an empty value with `Empty value found for query parameter 'x'`. The first offender
   ends the check: 400 `{"message": "<text>", "errors": [{"path": ".query.x", "message": "<text>"}]}`.
2. Query and path values are validated with type coercion (`take=5` is a number), the JSON body without it
   (`"is4k": "true"` fails). Every problem is collected: 400 with `message` = the problems as
   `request<dataPath> <message>` joined by ", ", and `errors` = `[{path, message, errorCode: "<keyword>.openapi
   .validation"}]`. For example `request.query.filter should be equal to one of the allowed values: all, approved, …`.
   A nullable number reads `should be number,null`; a missing required property is reported at the object
   (`request.body should have required property 'mediaId'`) with the error's path naming it (`.body.mediaId`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

Schema = Mapping[str, Any]

# The parts of Seerr's spec (seerr-api.yml) the emulated routes validate against.
NULLABLE_NUMBER: Schema = {"type": "number", "nullable": True}
REQUEST_BODY: Schema = {
    "type": "object",
    "required": ["mediaType", "mediaId"],
    "properties": {
        "mediaType": {"type": "string", "enum": ["movie", "tv"]},
        "mediaId": {"type": "number"},
        "tvdbId": {"type": "number"},
        "seasons": {
            "oneOf": [
                {"type": "array", "items": {"type": "number", "minimum": 0}},
                {"type": "string", "enum": ["all"]},
            ]
        },
        "is4k": {"type": "boolean"},
        "serverId": {"type": "number"},
        "profileId": {"type": "number"},
        "rootFolder": {"type": "string"},
        "languageProfileId": {"type": "number"},
        "userId": {"type": "number", "nullable": True},
    },
}
MEDIA_STATUS_BODY: Schema = {"type": "object", "properties": {"is4k": {"type": "boolean"}}}


@dataclass(frozen=True)
class Problem:
    data_path: str  # ajv's dataPath, e.g. ".query.filter"
    message: str
    code: str | None = None  # errorCode; None for the query-string check, which sends none
    path: str | None = None  # errors[].path when it is not the dataPath (a missing required property)


class ValidationFailure(Exception):
    """One or more spec violations, rendered as express-openapi-validator's 400 body."""

    status = 400

    def __init__(self, problems: list[Problem], *, message: str | None = None) -> None:
        self.problems = problems
        self.message = message or ", ".join(f"request{p.data_path} {p.message}" for p in problems)
        super().__init__(self.message)

    def body(self) -> dict[str, Any]:
        errors = []
        for p in self.problems:
            error: dict[str, Any] = {"path": p.path or p.data_path, "message": p.message}
            if p.code is not None:
                error["errorCode"] = f"{p.code}.openapi.validation"
            errors.append(error)
        return {"message": self.message, "errors": errors}


def check_query(items: Iterable[tuple[str, str]], known: Iterable[str]) -> None:
    """Step 1: refuse the first undeclared name or empty value in the query string (in the order first seen)."""
    declared = set(known)
    seen: dict[str, list[str]] = {}
    for name, value in items:
        seen.setdefault(name, []).append(value)
    for name, values in seen.items():
        if name not in declared:
            text = f"Unknown query parameter '{name}'"
        elif values == [""]:  # a repeated name is an array in Express, never ''
            text = f"Empty value found for query parameter '{name}'"
        else:
            continue
        raise ValidationFailure([Problem(f".query.{name}", text)], message=text)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _type_ok(value: Any, kind: str) -> bool:
    if kind == "number":
        return _is_number(value)
    if kind == "integer":
        return _is_number(value) and float(value).is_integer()
    if kind == "string":
        return isinstance(value, str)
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "object":
        return isinstance(value, dict)
    if kind == "array":
        return isinstance(value, list)
    return kind == "null" and value is None


def _coerce(value: Any, kinds: Sequence[str]) -> tuple[bool, Any]:
    """ajv 6 `coerceTypes: true` for a string from the query or the path: (coerced, value)."""
    if not isinstance(value, str):
        return False, value
    for kind in kinds:
        if kind in ("number", "integer"):
            try:
                number = float(value)
            except ValueError:
                continue
            if math.isfinite(number) and (kind == "number" or number.is_integer()):  # ajv: `data == +data`
                return True, int(number) if number.is_integer() else number
        elif kind == "boolean" and value in ("true", "false"):
            return True, value == "true"
        elif kind == "null" and value == "":
            return True, None
    return False, value


class Checker:
    """Validates values against schemas for one request, collecting every problem; `done()` raises them together."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def value(self, data_path: str, value: Any, schema: Schema, *, coerce: bool = False) -> Any:
        """Check `value` (present) against `schema`; returns it, coerced when `coerce` (query and path values)."""
        problems = self._check(data_path, value, schema, coerce)
        self.problems.extend(problems)
        return None if problems else self._coerced

    def _check(self, data_path: str, value: Any, schema: Schema, coerce: bool) -> list[Problem]:
        self._coerced = value
        problems: list[Problem] = []
        if "type" in schema:
            kinds = [schema["type"], *(["null"] if schema.get("nullable") else [])]
            if not any(_type_ok(value, k) for k in kinds):
                coerced, value = _coerce(value, kinds) if coerce else (False, value)
                if not coerced:
                    problems.append(Problem(data_path, "should be " + ",".join(kinds), "type"))
        if "minimum" in schema and _is_number(value) and value < schema["minimum"]:
            problems.append(Problem(data_path, f"should be >= {schema['minimum']}", "minimum"))
        if "items" in schema and isinstance(value, list):
            for index, item in enumerate(value):
                problems.extend(self._check(f"{data_path}[{index}]", item, schema["items"], coerce))
        if "properties" in schema and isinstance(value, dict):
            required = set(schema.get("required", ()))
            for name, sub in schema["properties"].items():
                if name in value:
                    problems.extend(self._check(f"{data_path}.{name}", value[name], sub, coerce))
                elif name in required:
                    message = f"should have required property '{name}'"
                    problems.append(Problem(data_path, message, "required", path=f"{data_path}.{name}"))
        if "enum" in schema and value not in schema["enum"]:
            allowed = ", ".join(str(v) for v in schema["enum"])
            problems.append(Problem(data_path, f"should be equal to one of the allowed values: {allowed}", "enum"))
        if "oneOf" in schema:
            branches = [self._check(data_path, value, sub, coerce) for sub in schema["oneOf"]]
            if sum(1 for b in branches if not b) != 1:
                problems.extend(p for b in branches for p in b)
                problems.append(Problem(data_path, "should match exactly one schema in oneOf", "oneOf"))
        self._coerced = value
        return problems

    def number(self, where: str, name: str, raw: str | None, *, nullable: bool = False) -> float | None:
        """A query or path value declared `type: number`; None when absent or wrong."""
        if raw is None:
            return None
        result = self.value(f".{where}.{name}", raw, NULLABLE_NUMBER if nullable else {"type": "number"}, coerce=True)
        return float(result) if result is not None else None

    def enum(self, where: str, name: str, raw: str | None, allowed: Sequence[str]) -> str | None:
        if raw is None:
            return None
        result = self.value(f".{where}.{name}", raw, {"type": "string", "enum": list(allowed)}, coerce=True)
        return str(result) if result is not None else None

    def done(self) -> None:
        if self.problems:
            raise ValidationFailure(list(self.problems))


def check_request_body(body: Any, check: Checker | None = None) -> dict[str, Any]:
    """The `POST /request` body (Express hands an absent body over as `{}`); returns it when it conforms. Pass the
    `check` holding the path's problems: the validator reports them together."""
    check = check or Checker()
    check.value(".body", {} if body is None else body, REQUEST_BODY)
    check.done()
    assert isinstance(body, dict | None)
    return body or {}


def check_media_status_body(body: Any, check: Checker | None = None) -> Mapping[str, Any]:
    """The `POST /media/{id}/{status}` body: an optional object with a boolean `is4k` (extra keys allowed)."""
    check = check or Checker()
    check.value(".body", {} if body is None else body, MEDIA_STATUS_BODY)
    check.done()
    assert isinstance(body, dict | None)
    return body or {}
