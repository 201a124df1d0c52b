"""Check calls to seerbridge's Radarr/Sonarr v3 facade against Radarr's and Sonarr's own OpenAPI specs.

Two ways in, both synchronous at heart (openapi-core does no I/O):

- `check(request, response) -> list[str]`: validate one request/response pair; the list is empty when it is clean.
- `ServarrContract(inner)`: an `httpx.AsyncBaseTransport` wrapper (like `ContractRecorder`) that runs `check` on every
  exchange, collects `checked`, `skipped` and `violations`, and offers `assert_clean()`. It never raises inside the
  transport, so the client under test sees the real answer.

What is adapted before openapi-core sees a pair (all of it is what Seerr or the real servers really do, see
/work/shared/api/servarr-for-seerr.md §1, §3.3):

- The base URL (`/radarr`, `/radarr-4k` → Radarr spec; `/sonarr`, `/sonarr-4k` → Sonarr spec; any letter case) is
  stripped; the rest is matched against the spec's paths case-insensitively (ASP.NET routing is; Seerr calls
  `/api/v3/qualityProfile`, the spec has `/api/v3/qualityprofile`) and rewritten to the spec's spelling. A literal
  segment beats a `{param}` one (`/movie/lookup` is not `/movie/{id}`).
- `PUT /api/v3/movie` and `PUT /api/v3/series` without an id in the path (the real routes are `{id:int?}` and read
  the id from the body) are validated as `PUT .../{id}` with the body's `id`; a body without an integer `id` is a
  violation.
- A 201 answer to POST and a 202 answer to PUT (what the real servers send) is validated as the documented 200 when
  the operation documents no such status.
- `apikey` is a query parameter in every call. The specs declare it as a security scheme (`apikey` query or
  `X-Api-Key` header, either satisfies), and openapi-core ignores query parameters an operation does not declare
  (e.g. Seerr's `includeEpisode` on Radarr's `/queue`, `addImportExclusion` on Sonarr's DELETE), so it never causes a
  violation. A 2xx answer to a call carrying neither is reported ("Security not found"): the facade served an
  unauthenticated call.
- Request bodies: Seerr sends fields the request schemas (`additionalProperties: false`) do not list, and the real
  servers accept them: `profileId` (an integer, next to `qualityProfileId`) in Radarr's POST/PUT `/movie`, and the
  command arguments `movieIds` (list of integers) / `seriesId` (integer) in POST `/command`. Those keys, with those
  types, are removed before validation. Seerr also PUTs the whole lookup object back, and POSTs `languageProfileId`,
  which carry `readOnly` properties; openapi-core reports "Tried to write read-only property" for them, and the
  checker drops exactly those errors (the servers ignore such fields on input).

Non-2xx answers, decided deliberately:
- openapi-core reports a status the operation does not list as `ResponseNotFound: Unknown response http status: 401`;
  the specs document only 200 everywhere, so every 400/401/404/409 would be such a violation. A 4xx is the server
  refusing the call, and the test that provokes it (wrong API key, unknown id, duplicate add) asserts it itself; so a
  4xx exchange is **not validated at all** (neither the request, which is often wrong on purpose, nor the
  undocumented error body) and is listed in `ServarrContract.skipped`, and `check` returns [].
- Any other non-2xx (3xx, 5xx) is a violation: Seerr treats it as failure and no test expects one.

On top of the specs, which mark no property `required` anywhere, the checker asserts the keys Seerr reads in the
answers it relies on (`SEERR_READS`, from §3.3: e.g. `records[].sizeleft` in `/queue`, a truthy `id` in the answer to
POST `/movie`). Pass `seerr_reads=False` to check the spec alone. Not checked by openapi-core against these specs:
missing keys (nothing is required), `format: date-span` values (`timeleft`; unknown formats pass), bodies of
operations that document no content (DELETE `/movie/{id}`, PUT `/episode/monitor`), and response headers.

Violations are strings `"<request|response NNN> <METHOD> <path as sent>: <problem>"`, where a schema problem names the
field as a JSON path into the body, e.g. `$[0].hasFile: 'no' is not of type 'boolean'`.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Literal

import httpx
from openapi_core import OpenAPI
from openapi_core.validation.request.exceptions import RequestBodyValidationError
from openapi_core.validation.response.exceptions import DataValidationError

from tests.contract.openapi import SPECS, HttpxOpenAPIRequest, HttpxOpenAPIResponse, radarr_spec, sonarr_spec

App = Literal["radarr", "sonarr"]

BASES: dict[str, App] = {"/radarr": "radarr", "/radarr-4k": "radarr", "/sonarr": "sonarr", "/sonarr-4k": "sonarr"}
# The specs' server is `{protocol}://{hostpath}` with these defaults; the checked path is appended to it.
HOST_URLS: dict[App, str] = {"radarr": "http://localhost:7878", "sonarr": "http://localhost:8989"}
# Real servers answer these methods with these statuses where the specs document 200.
_REAL_SUCCESS = {"POST": 201, "PUT": 202}
_ID_FROM_BODY = {"/api/v3/movie", "/api/v3/series"}

# Keys Seerr reads from 2xx answers (servarr-for-seerr.md §3.3, §4, §6). `a.b` descends into objects, `x[]` means
# every element of the list `x` (a bare `[]` is the top-level list), a trailing `!` means the value must be truthy.
_COMMON_READS: dict[tuple[str, str], tuple[str, ...]] = {
    ("GET", "/api/v3/qualityprofile"): ("[].id", "[].name"),
    ("GET", "/api/v3/rootfolder"): ("[].id", "[].path"),
    ("GET", "/api/v3/tag"): ("[].id", "[].label"),
    ("POST", "/api/v3/tag"): ("id!", "label"),
    ("PUT", "/api/v3/tag/{id}"): ("id", "label"),
}
SEERR_READS: dict[App, dict[tuple[str, str], tuple[str, ...]]] = {
    "radarr": {
        **_COMMON_READS,
        ("GET", "/api/v3/queue"): ("records[].movieId", "records[].size", "records[].sizeleft", "records[].status"),
        ("POST", "/api/v3/movie"): ("id!", "titleSlug"),
        ("PUT", "/api/v3/movie/{id}"): ("id!", "monitored"),
        ("GET", "/api/v3/movie"): ("[].id", "[].tmdbId", "[].monitored", "[].hasFile"),
        ("GET", "/api/v3/movie/{id}"): ("id", "hasFile"),
    },
    "sonarr": {
        **_COMMON_READS,
        ("GET", "/api/v3/system/status"): ("version",),
        ("GET", "/api/v3/queue"): ("records[].seriesId", "records[].size", "records[].sizeleft", "records[].status"),
        ("GET", "/api/v3/series/lookup"): ("[].seasons[].seasonNumber",),
        ("POST", "/api/v3/series"): ("id!", "titleSlug"),
        ("PUT", "/api/v3/series/{id}"): ("id!",),
        ("GET", "/api/v3/episode"): ("[].id", "[].seasonNumber", "[].monitored"),
        ("GET", "/api/v3/series"): (
            "[].id",
            "[].tvdbId",
            "[].seasons[].seasonNumber",
            "[].seasons[].statistics.episodeFileCount",
            "[].seasons[].statistics.totalEpisodeCount",
        ),
        ("GET", "/api/v3/series/{id}"): ("id", "statistics.episodeFileCount", "seasons[].statistics.episodeFileCount"),
    },
}


def spec_for(app: App) -> OpenAPI:
    return radarr_spec() if app == "radarr" else sonarr_spec()


@dataclass(frozen=True)
class _Template:
    template: str  # as spelled in the spec, e.g. /api/v3/qualityprofile or /api/v3/movie/{id}
    pattern: re.Pattern[str]
    literals: list[str]  # the template split around its `{param}` parts
    params: int
    methods: frozenset[str]

    def spell(self, match: re.Match[str]) -> str:
        """The matched path spelled as in the spec: its literal parts from the template, its parameters as sent."""
        out = [self.literals[0]]
        for value, literal in zip(match.groups(), self.literals[1:], strict=True):
            out += [value, literal]
        return "".join(out)


@functools.cache
def _raw(app: App) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((SPECS / f"{app}-openapi.json").read_text())
    return data


@functools.cache
def _templates(app: App) -> list[_Template]:
    out = []
    for template, item in _raw(app)["paths"].items():
        literals = re.split(r"\{[^}/]+\}", template)
        pattern = re.compile("([^/]+)".join(re.escape(part) for part in literals), re.IGNORECASE)
        methods = frozenset(m.upper() for m in item if m in {"get", "put", "post", "delete", "patch", "head"})
        out.append(_Template(template, pattern, literals, len(literals) - 1, methods))
    # Fewer parameters first: `/api/v3/movie/lookup` wins over `/api/v3/movie/{id}`.
    return sorted(out, key=lambda t: t.params)


def _split_base(path: str) -> tuple[App, str] | None:
    first, _, rest = path.lstrip("/").partition("/")
    app = BASES.get("/" + first.lower())
    return (app, "/" + rest) if app is not None else None


def _match(app: App, path: str) -> tuple[_Template, str] | None:
    for template in _templates(app):
        match = template.pattern.fullmatch(path)
        if match is not None:
            return template, template.spell(match)
    return None


def _documented_statuses(app: App, template: str, method: str) -> set[str]:
    operation = _raw(app)["paths"][template].get(method.lower(), {})
    return set(operation.get("responses", {}))


def _int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _tolerated_body(app: App, method: str, template: str, body: object) -> object:
    """The request body without the extra keys Seerr sends and the servers accept (see the module docstring)."""
    if not isinstance(body, dict):
        return body
    drop: set[str] = set()
    if app == "radarr" and template in ("/api/v3/movie", "/api/v3/movie/{id}") and _int(body.get("profileId")):
        drop.add("profileId")
    if method == "POST" and template == "/api/v3/command":
        ids = body.get("movieIds")
        if app == "radarr" and isinstance(ids, list) and all(_int(i) for i in ids):
            drop.add("movieIds")
        if app == "sonarr" and _int(body.get("seriesId")):
            drop.add("seriesId")
    return {k: v for k, v in body.items() if k not in drop}


def _describe(exc: BaseException, *, ignore_read_only: bool = False) -> str | None:
    """One line for an openapi-core error, schema errors as `<json path>: <message>`; None if nothing remains."""
    chain: list[BaseException] = []
    cause: BaseException | None = exc
    while cause is not None:
        chain.append(cause)
        cause = cause.__cause__
    schema_errors = [err for link in chain for err in (getattr(link, "schema_errors", None) or [])]
    if schema_errors:
        kept = [e for e in schema_errors if not (ignore_read_only and getattr(e, "validator", None) == "readOnly")]
        if not kept:
            return None
        head = "body" if isinstance(exc, RequestBodyValidationError | DataValidationError) else str(exc)
        return f"{head}: " + "; ".join(f"{getattr(e, 'json_path', '$')}: {getattr(e, 'message', e)}" for e in kept)
    return " / ".join(f"{type(link).__name__}: {link}" for link in chain)[:1500]


def _missing(node: object, tokens: list[str], where: str) -> Iterator[str]:
    if not tokens:
        return
    token = tokens[0]
    truthy = token.endswith("!")
    token = token.rstrip("!")
    each = token.endswith("[]")
    key = token.removesuffix("[]")
    if key:
        where = f"{where}.{key}"
        if not isinstance(node, dict) or key not in node:
            yield f"{where}: missing, and Seerr reads it"
            return
        node = node[key]
        if truthy and not node:
            yield f"{where}: {node!r}, but Seerr needs a truthy value"
            return
    if each:
        if not isinstance(node, list):
            yield f"{where}: {node!r} is not a list, and Seerr iterates it"
            return
        for i, item in enumerate(node):
            yield from _missing(item, tokens[1:], f"{where}[{i}]")
        return
    yield from _missing(node, tokens[1:], where)


def seerr_read_problems(app: App, method: str, template: str, body: object) -> list[str]:
    """Keys Seerr reads that are missing from a 2xx answer (`SEERR_READS`)."""
    out: list[str] = []
    for path in SEERR_READS[app].get((method, template), ()):
        out += _missing(body, path.split("."), "$")
    return list(dict.fromkeys(out))  # `records` missing is reported once, not once per key read inside it


def check(request: httpx.Request, response: httpx.Response, *, seerr_reads: bool = True) -> list[str]:
    """Violations of the Radarr/Sonarr spec by one exchange with the facade; [] when clean or a skipped 4xx.

    `response` must have been read (`await response.aread()` for a streamed answer).
    """
    label = f"{request.method} {request.url.path}"
    status = response.status_code
    if 400 <= status < 500:
        return []
    if not 200 <= status < 300:
        return [f"response {status} {label}: status {status}; only 2xx is checked, and 4xx skipped"]
    split = _split_base(request.url.path)
    if split is None:
        return [f"request {label}: not under a facade base URL ({', '.join(BASES)})"]
    app, rest = split
    matched = _match(app, rest)
    if matched is None:
        return [f"request {label}: no {app} spec path matches {rest}"]
    template, path = matched

    oreq = HttpxOpenAPIRequest(request, host_url=HOST_URLS[app])
    body = _json(request.content)
    problems: list[str] = []
    if request.method == "PUT" and template.template in _ID_FROM_BODY and "PUT" not in template.methods:
        body_id = body.get("id") if isinstance(body, dict) else None
        if not _int(body_id):
            return [f"request {label}: PUT without an id in the path needs an integer body `id`, got {body_id!r}"]
        rewritten = _match(app, f"{path}/{body_id}")
        assert rewritten is not None
        template, path = rewritten
    oreq.path = path
    if body is not None:
        oreq.body = json.dumps(_tolerated_body(app, request.method, template.template, body)).encode()

    spec = spec_for(app)
    problems += _messages(f"request {label}", spec.iter_request_errors(oreq), ignore_read_only=True)

    oresp = HttpxOpenAPIResponse(response)
    documented = _documented_statuses(app, template.template, request.method)
    if status == _REAL_SUCCESS.get(request.method) and str(status) not in documented and "200" in documented:
        oresp.status_code = 200
    problems += _messages(f"response {status} {label}", spec.iter_response_errors(oreq, oresp))

    if seerr_reads and response.content:
        answer = _json(response.content)
        for problem in seerr_read_problems(app, request.method, template.template, answer):
            problems.append(f"response {status} {label}: {problem}")
    return problems


def _json(content: bytes) -> object:
    if not content:
        return None
    try:
        return json.loads(content)
    except ValueError:
        return None


def _messages(prefix: str, errors: Iterable[Exception], *, ignore_read_only: bool = False) -> list[str]:
    out = []
    for exc in errors:
        text = _describe(exc, ignore_read_only=ignore_read_only)
        if text is not None:
            out.append(f"{prefix}: {text}")
    return out


class ServarrContract(httpx.AsyncBaseTransport):
    """Wraps the transport that reaches seerbridge's app; checks every exchange with `check` (see the module doc)."""

    def __init__(self, inner: httpx.AsyncBaseTransport, *, seerr_reads: bool = True) -> None:
        self.inner = inner
        self.seerr_reads = seerr_reads
        self.checked: list[str] = []
        self.skipped: list[str] = []  # 4xx exchanges, not validated
        self.violations: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        await response.aread()
        label = f"{request.method} {request.url.path} -> {response.status_code}"
        (self.skipped if 400 <= response.status_code < 500 else self.checked).append(label)
        self.violations += check(request, response, seerr_reads=self.seerr_reads)
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()

    def assert_clean(self) -> None:
        assert self.checked, "no 2xx exchange went through the Servarr contract checker"
        assert not self.violations, "Radarr/Sonarr contract violations:\n" + "\n".join(self.violations)
