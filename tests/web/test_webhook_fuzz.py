"""Fuzzing `POST /webhook/seerr`: arbitrary JSON, mutated real bodies, raw bytes, odd headers, and bodies drawn from
the app's own OpenAPI schema. Whatever arrives, the app answers one of its documented statuses (never a 500, never an
exception), and `submit` is called exactly when it answers 202, with the id the body carries.

Hypothesis tests are synchronous, so the in-process client (httpx.ASGITransport, which re-raises any exception the app
lets escape and so fails the example) runs on an event loop in an anyio portal thread.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from anyio.from_thread import BlockingPortal, start_blocking_portal
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator  # type: ignore[import-untyped]

from seerbridge.sandbox.scenario import load_scenario
from seerbridge.sandbox.seerr_webhook import NOTIFICATION_TYPES, render_webhook
from seerbridge.sandbox.world import Sandbox
from seerbridge.web.webhook import WORK_TYPES
from tests.web.helpers import SECRET, Hook

FUZZ = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)
KNOWN_KEYS = ["notification_type", "request", "request_id", "media", "extra", "event", "subject", "name", "value"]
TYPES = [*sorted(NOTIFICATION_TYPES), "", "media_approved", "MEDIA_APPROVED "]


class Fuzzer:
    """One app, one client and one event loop thread for the whole module; `calls` is cleared before each example."""

    def __init__(self, portal: BlockingPortal) -> None:
        self.hook = Hook()
        self.portal = portal

    def post(self, content: bytes, authorization: bytes | None = SECRET.encode()) -> tuple[int, dict[str, Any]]:
        self.hook.calls.clear()
        headers: dict[str, Any] = {"content-type": "application/json"}
        if authorization is not None:
            headers["authorization"] = authorization
        response = self.portal.call(lambda: self.hook.client.post("/webhook/seerr", content=content, headers=headers))
        self.hook.check(response)  # a documented status, and the documented answer shape
        answer: dict[str, Any] = response.json()
        if response.status_code == 202:
            assert self.hook.calls == [(answer["request_id"], f"webhook {answer_type(content)}")]
        else:
            assert self.hook.calls == [], (response.status_code, answer)
        return response.status_code, answer

    def post_json(self, body: Any) -> tuple[int, dict[str, Any]]:
        return self.post(json.dumps(body).encode())


def answer_type(content: bytes) -> str:
    """The notification type of a body the app accepted (which must therefore be a JSON object naming one)."""
    body = json.loads(content)
    kind: str = body["notification_type"]
    assert kind in WORK_TYPES
    return kind


@pytest.fixture(scope="module")
def fuzzer() -> Iterator[Fuzzer]:
    with start_blocking_portal() as portal:
        fuzzer = Fuzzer(portal)
        yield fuzzer
        portal.call(fuzzer.hook.aclose)


@pytest.fixture(scope="module")
def valid_bodies() -> list[dict[str, Any]]:
    """Real renderings: a movie and a show approval, an auto-approval, a pending one and the test notification."""
    world = Sandbox(load_scenario("starter"))
    requests = world.seerr_state.requests
    return [
        render_webhook("MEDIA_APPROVED", requests[1]),
        render_webhook("MEDIA_AUTO_APPROVED", requests[3]),
        render_webhook("MEDIA_PENDING", requests[4]),
        render_webhook("TEST_NOTIFICATION", None),
    ]


# ------------------------------------------------------------------------------------------------ strategies

id_like = st.one_of(
    st.from_regex(r"\s?-?[0-9]{1,12}(\.0)?\s?", fullmatch=True),
    st.text(alphabet=st.characters(categories=["Nd", "No", "Zs"]), min_size=1, max_size=12),  # "٤", "²", "\u2003"
    st.integers(4000, 6000).map(lambda n: "9" * n),  # past int()'s 4,300-digit limit
)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=30),
    st.sampled_from(TYPES),
    id_like,
)
keys = st.one_of(st.sampled_from(KNOWN_KEYS), st.text(max_size=12))
json_values = st.recursive(
    scalars,
    lambda children: st.one_of(st.lists(children, max_size=4), st.dictionaries(keys, children, max_size=5)),
    max_leaves=25,
)
long_strings = st.tuples(
    st.sampled_from(["9", "x", "é", "💾", "\u0000", "\ud800", "{{request_id}}"]), st.integers(1, 70_000)
).map(lambda pair: pair[0] * pair[1])
odd_text = st.text(alphabet=st.characters(codec=None, exclude_categories=()), max_size=40)
replacements = st.one_of(json_values, long_strings, odd_text)


def paths(node: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every key/index path inside a JSON value (the empty path is the whole body)."""
    yield prefix
    if isinstance(node, dict):
        for key, value in node.items():
            yield from paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from paths(value, (*prefix, index))


def mutate(body: Any, path: tuple[Any, ...], op: str, value: Any) -> Any:
    """`body` with the thing at `path` replaced, deleted, or given an extra key/element."""
    if not path:
        return value if op == "replace" else body
    parent = body
    for step in path[:-1]:
        parent = parent[step]
    last = path[-1]
    if op == "delete":
        del parent[last]
    elif op == "replace":
        parent[last] = value
    elif isinstance(parent, dict):
        parent[f"{last}_extra"] = value
    else:
        parent.insert(last, value)
    return body


# ------------------------------------------------------------------------------------------------ properties


@FUZZ
@given(body=json_values)
def test_arbitrary_json_gets_a_documented_answer(fuzzer: Fuzzer, body: Any) -> None:
    status, answer = fuzzer.post_json(body)
    assert status in {200, 202, 422}, answer
    if status == 200:
        assert isinstance(body, dict) and body.get("notification_type") not in WORK_TYPES


@FUZZ
@given(
    body=st.dictionaries(keys, json_values, max_size=6), kind=st.sampled_from(TYPES), rid=st.one_of(id_like, scalars)
)
def test_arbitrary_objects_shaped_like_webhooks(fuzzer: Fuzzer, body: dict[str, Any], kind: str, rid: Any) -> None:
    body |= {"notification_type": kind, "request": {"request_id": rid}}
    status, answer = fuzzer.post_json(body)
    if status == 202:
        assert kind in WORK_TYPES and answer["request_id"] == int(str(rid).strip())
    elif status == 200:
        assert kind not in WORK_TYPES
    else:
        assert status == 422, answer


@FUZZ
@given(data=st.data(), mutations=st.integers(1, 4))
def test_mutated_real_bodies_get_a_documented_answer(
    fuzzer: Fuzzer, valid_bodies: list[dict[str, Any]], data: st.DataObject, mutations: int
) -> None:
    body: Any = json.loads(json.dumps(data.draw(st.sampled_from(valid_bodies))))
    for _ in range(mutations):
        path = data.draw(st.sampled_from(list(paths(body))))
        op = data.draw(st.sampled_from(["replace", "delete", "add"]))
        body = mutate(body, path, op, data.draw(replacements))
    content = json.dumps(body).encode()
    status, answer = fuzzer.post(content)
    if len(content) > 1 << 20:
        assert status == 413
    else:
        assert status in {200, 202, 422}, answer


pathological = st.one_of(
    st.integers(1, 200_000).map(lambda n: b"[" * n + b"]" * n),  # deeper than the parser recurses
    st.integers(1, 6000).map(lambda n: b'{"notification_type": ' + b"7" * n + b"}"),
    st.sampled_from([b"NaN", b"-Infinity", b'{"request": {"request_id": Infinity}}', b"\xef\xbb\xbf{}", b"\x00"]),
    st.text().map(lambda t: t.encode("utf-8", "surrogatepass")),  # includes lone surrogates, invalid UTF-8
)


@FUZZ
@given(content=st.one_of(st.binary(max_size=3000), pathological))
def test_raw_bytes_get_a_documented_answer(fuzzer: Fuzzer, content: bytes) -> None:
    status, _ = fuzzer.post(content)
    assert status in {200, 202, 400, 422}


@FUZZ
@given(data=st.data())
def test_byte_level_damage_to_a_real_body(
    fuzzer: Fuzzer, valid_bodies: list[dict[str, Any]], data: st.DataObject
) -> None:
    content = bytearray(json.dumps(data.draw(st.sampled_from(valid_bodies)), ensure_ascii=False).encode())
    for _ in range(data.draw(st.integers(1, 5))):
        at = data.draw(st.integers(0, len(content) - 1))
        action = data.draw(st.sampled_from(["flip", "drop", "insert"]))
        if action == "flip":
            content[at] ^= data.draw(st.integers(1, 255))
        elif action == "drop":
            del content[at]
        else:
            content[at:at] = data.draw(st.binary(min_size=1, max_size=8))
    status, _ = fuzzer.post(bytes(content))
    assert status in {200, 202, 400, 422}


@FUZZ
@given(authorization=st.one_of(st.none(), st.binary(max_size=60)))
def test_any_other_authorization_is_401(
    fuzzer: Fuzzer, valid_bodies: list[dict[str, Any]], authorization: bytes | None
) -> None:
    assume(authorization != SECRET.encode())
    assume(authorization is None or not set(authorization) & {0, 10, 13})  # not sendable as one header value
    status, _ = fuzzer.post(json.dumps(valid_bodies[0]).encode(), authorization=authorization)
    assert status == 401


# ------------------------------------------------------------------------------------------------ own OpenAPI


def from_schema(schema: dict[str, Any], components: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Values valid against the JSON Schema subset pydantic writes for our models ($ref, anyOf, objects, strings...)."""
    if "$ref" in schema:
        return st.deferred(lambda: from_schema(components[schema["$ref"].rsplit("/", 1)[-1]], components))
    if "anyOf" in schema:
        return st.one_of([from_schema(option, components) for option in schema["anyOf"]])
    kind = schema.get("type")
    if kind == "null":
        return st.none()
    if kind == "boolean":
        return st.booleans()
    if kind == "integer":
        return st.integers()
    if kind == "string":
        return st.text(min_size=schema.get("minLength", 0), max_size=min(schema.get("maxLength", 80), 80))
    if kind == "array":
        return st.lists(from_schema(schema.get("items", {}), components), max_size=3)
    if kind == "object":
        properties: dict[str, Any] = schema.get("properties", {})
        required = set(schema.get("required", ()))
        return st.fixed_dictionaries(
            {k: from_schema(v, components) for k, v in properties.items() if k in required},
            optional={k: from_schema(v, components) for k, v in properties.items() if k not in required},
        )
    raise AssertionError(f"schema construct the generator does not know: {schema}")


def _webhook_schema() -> tuple[dict[str, Any], dict[str, Any]]:
    document = Hook().app.openapi()
    operation = document["paths"]["/webhook/seerr"]["post"]
    body_schema = operation["requestBody"]["content"]["application/json"]["schema"]
    return body_schema, document["components"]["schemas"]


BODY_SCHEMA, COMPONENTS = _webhook_schema()
VALIDATOR = Draft202012Validator({**BODY_SCHEMA, "components": {"schemas": COMPONENTS}})


@FUZZ
@given(
    body=from_schema(BODY_SCHEMA, COMPONENTS),
    kind=st.one_of(st.none(), st.sampled_from(sorted(NOTIFICATION_TYPES))),
    rid=st.one_of(st.none(), st.integers(1, 2**31 - 1).map(str)),
)
def test_bodies_valid_by_our_own_openapi_are_never_refused_for_shape(
    fuzzer: Fuzzer, body: dict[str, Any], kind: str | None, rid: str | None
) -> None:
    if kind is not None:
        body["notification_type"] = kind
    if rid is not None:
        body["request"] = (body.get("request") or {}) | {"request_id": rid}
    assert VALIDATOR.is_valid(body)  # the generator keeps to the published schema
    status, answer = fuzzer.post_json(body)
    if body["notification_type"] in WORK_TYPES:
        request_id = (body.get("request") or {}).get("request_id", "")
        stripped = request_id.strip()
        if re.fullmatch("[0-9]{1,10}", stripped) and 0 < int(stripped) < 2**31:
            assert (status, answer["request_id"]) == (202, int(stripped))
        else:  # the one thing the schema does not say: the id must be a number
            assert status == 422 and "request.request_id" in answer["detail"], answer
    else:
        assert status == 200, answer
