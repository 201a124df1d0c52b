"""Validate httpx requests and responses against third-party OpenAPI specs with openapi-core."""

from __future__ import annotations

import functools
from pathlib import Path

import httpx
from openapi_core import Config, OpenAPI
from openapi_core.datatypes import RequestParameters
from werkzeug.datastructures import Headers, ImmutableMultiDict

SPECS = Path(__file__).parent / "specs"


class HttpxOpenAPIRequest:
    """httpx.Request seen through openapi-core's request protocol.

    `base_url` replaces the request's scheme://host so that in-process URLs (http://seerr.sandbox) match the
    spec's server (e.g. http://localhost:5055/api/v1).
    """

    def __init__(self, request: httpx.Request, *, host_url: str) -> None:
        self.host_url = host_url
        self.path = request.url.path
        self.method = request.method.lower()
        self.parameters = RequestParameters(
            query=ImmutableMultiDict(list(request.url.params.multi_items())),
            header=Headers(dict(request.headers)),
            cookie=ImmutableMultiDict(),
            path={},
        )
        self.content_type = request.headers.get("content-type", "")
        self.body = request.content or None

    @property
    def full_url_pattern(self) -> str:
        return self.host_url + self.path


class HttpxOpenAPIResponse:
    def __init__(self, response: httpx.Response) -> None:
        self.status_code = response.status_code
        self.content_type = response.headers.get("content-type", "")
        self.headers = Headers(dict(response.headers))
        self.data = response.content


@functools.cache
def seerr_spec() -> OpenAPI:
    return OpenAPI.from_file_path(str(SPECS / "seerr-openapi.yml"))


@functools.cache
def jellyfin_spec() -> OpenAPI:
    # The spec itself is known valid; skipping its self-validation cuts loading from ~4 s to ~1.5 s.
    return OpenAPI.from_file_path(str(SPECS / "jellyfin-openapi.json"), config=Config(spec_validator_cls=None))


@functools.cache
def radarr_spec() -> OpenAPI:
    # Self-validation cannot be used: both Servarr specs fail it (openapi-spec-validator: "Path parameter 'path' for
    # 'get' operation in '/' was not resolved", the static-files route). Loading without it takes ~0.1 s.
    return OpenAPI.from_file_path(str(SPECS / "radarr-openapi.json"), config=Config(spec_validator_cls=None))


@functools.cache
def sonarr_spec() -> OpenAPI:
    # As radarr_spec: the spec fails self-validation on its `/` static-files route.
    return OpenAPI.from_file_path(str(SPECS / "sonarr-openapi.json"), config=Config(spec_validator_cls=None))


class ContractRecorder(httpx.AsyncBaseTransport):
    """An httpx transport wrapper that validates every request and response against a spec.

    Violations are collected (not raised inside the transport, where the client would turn them into retries)
    and asserted by the test through `assert_clean()`.
    """

    def __init__(self, inner: httpx.AsyncBaseTransport, spec: OpenAPI, *, host_url: str) -> None:
        self.inner = inner
        self.spec = spec
        self.host_url = host_url
        self.checked: list[str] = []
        self.violations: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        oreq = HttpxOpenAPIRequest(request, host_url=self.host_url)
        label = f"{request.method} {request.url.path}"
        try:
            self.spec.validate_request(oreq)
        except Exception as exc:  # openapi-core raises several unrelated exception types
            self.violations.append(f"request {label}: {_describe(exc)}")
        response = await self.inner.handle_async_request(request)
        await response.aread()
        try:
            self.spec.validate_response(oreq, HttpxOpenAPIResponse(response))
        except Exception as exc:
            self.violations.append(f"response {response.status_code} to {label}: {_describe(exc)}")
        self.checked.append(label)
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()

    def assert_clean(self) -> None:
        assert self.checked, "no call went through the contract recorder"
        assert not self.violations, "contract violations:\n" + "\n".join(self.violations)


def _describe(exc: Exception) -> str:
    parts = [f"{type(exc).__name__}: {exc}"]
    cause = exc.__cause__
    while cause is not None:
        parts.append(f"{type(cause).__name__}: {cause}")
        cause = cause.__cause__
    for sub in getattr(exc, "schema_errors", []) or []:
        parts.append(str(getattr(sub, "message", sub)))
    return " / ".join(parts)[:1500]
