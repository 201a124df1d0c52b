"""A webhook app wired to a recording `submit`, reached in-process, every answer checked against its own OpenAPI."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from openapi_core import OpenAPI

from seerbridge.web.app import create_app
from tests.contract.openapi import HttpxOpenAPIRequest, HttpxOpenAPIResponse

SECRET = "s3cret-Shared-Value"
ANSWERS = {200, 202, 400, 401, 413, 422}


@functools.cache
def own_spec() -> OpenAPI:
    """The app's own OpenAPI document (the same for every app), loaded once."""
    return OpenAPI.from_dict(create_app(submit=lambda _i, _w: True, health=dict, secret="x").openapi())


@dataclass
class Hook:
    """The app, the calls its `submit` saw, and a client that checks each answer against app.openapi()."""

    secret: str = SECRET
    accept: Callable[[int, str], bool] = lambda _id, _why: True
    health_body: dict[str, Any] = field(default_factory=lambda: {"alive": True, "last_successful_pass": None})
    calls: list[tuple[int, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.app = create_app(submit=self._submit, health=lambda: self.health_body, secret=self.secret)
        self.spec = own_spec()
        # raise_app_exceptions (the default) turns any unhandled error inside the app into a test failure.
        self.client = httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app), base_url="http://seerbridge.test")

    def _submit(self, request_id: int, why: str) -> bool:
        self.calls.append((request_id, why))
        return self.accept(request_id, why)

    async def post(
        self, body: Any = None, *, content: bytes | None = None, authorization: str | None = SECRET
    ) -> httpx.Response:
        headers = {"content-type": "application/json"}
        if authorization is not None:
            headers["authorization"] = authorization
        response = await self.client.post("/webhook/seerr", json=body, content=content, headers=headers)
        self.check(response)
        return response

    def check(self, response: httpx.Response) -> None:
        """The status is one we document and the body has the documented shape."""
        assert response.status_code in ANSWERS, (response.status_code, response.text)
        self.spec.validate_response(
            HttpxOpenAPIRequest(response.request, host_url="http://seerbridge.test"), HttpxOpenAPIResponse(response)
        )

    async def aclose(self) -> None:
        await self.client.aclose()
