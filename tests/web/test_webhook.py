"""`POST /webhook/seerr` and `GET /healthz` with bodies Seerr really renders: what starts work, what is refused."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from seerbridge.runtime.queue import WorkQueue
from seerbridge.sandbox.seerr_webhook import render_webhook
from seerbridge.sandbox.world import Sandbox
from seerbridge.web.app import MAX_BODY_BYTES
from tests.web.helpers import SECRET, Hook


@pytest.fixture
async def hook() -> AsyncIterator[Hook]:
    hook = Hook()
    yield hook
    await hook.aclose()


def approved_body(world: Sandbox) -> dict[str, Any]:
    """What Seerr posts when an admin approves pending request 4 (a show) in the starter scenario."""
    world.seerr_state.approve(4)
    note = world.seerr_state.notifications[-1]
    assert (note.type, note.request_id) == ("MEDIA_APPROVED", 4)
    return note.payload


# ----------------------------------------------------------------------------------------- work starts


async def test_manual_approval_queues_that_request(hook: Hook, world: Sandbox) -> None:
    body = approved_body(world)
    assert body["request"]["request_id"] == "4" and body["extra"] == [{"name": "Requested Seasons", "value": "1"}]

    response = await hook.post(body)

    assert response.status_code == 202
    assert response.json() == {"status": "accepted", "detail": "queued", "request_id": 4, "queued": True}
    assert hook.calls == [(4, "webhook MEDIA_APPROVED")]


async def test_auto_approval_queues_the_new_request(hook: Hook, world: Sandbox) -> None:
    row = world.seerr_state.add_request(126308, seasons=[2], approved=True)  # an admin's: inserted APPROVED
    note = world.seerr_state.notifications[-1]
    assert (note.type, note.request_id) == ("MEDIA_AUTO_APPROVED", row.id)
    assert note.payload["request"]["request_id"] == str(row.id)
    assert note.payload["extra"] == [{"name": "Requested Seasons", "value": "2"}]

    response = await hook.post(note.payload)

    assert response.status_code == 202
    assert response.json()["request_id"] == row.id
    assert hook.calls == [(row.id, "webhook MEDIA_AUTO_APPROVED")]


# MEDIA_FAILED: approved, then Seerr's push to its Radarr/Sonarr failed; seerbridge works it all the same.
@pytest.mark.parametrize("kind", ["MEDIA_APPROVED", "MEDIA_AUTO_APPROVED", "MEDIA_FAILED"])
async def test_rendered_approval_of_a_movie(hook: Hook, world: Sandbox, kind: str) -> None:
    body = render_webhook(kind, world.seerr_state.requests[2])
    assert body["extra"] == [] and body["issue"] is None and body["media"]["tmdbId"] == "438631"

    response = await hook.post(body)

    assert response.status_code == 202
    assert hook.calls == [(2, f"webhook {kind}")]


async def test_an_already_queued_request_is_acknowledged_not_requeued(world: Sandbox) -> None:
    hook = Hook(accept=lambda _id, _why: False)  # submit says: already waiting or running
    try:
        response = await hook.post(approved_body(world))
    finally:
        await hook.aclose()
    assert response.status_code == 202
    assert response.json() == {"status": "accepted", "detail": "already queued", "request_id": 4, "queued": False}


async def test_surrounding_spaces_in_the_id_are_tolerated(hook: Hook, world: Sandbox) -> None:
    body = approved_body(world)
    body["request"]["request_id"] = " 4 "
    assert (await hook.post(body)).status_code == 202
    assert hook.calls == [(4, "webhook MEDIA_APPROVED")]


# ----------------------------------------------------------------------------------------- no work


async def test_test_notification_answers_200(hook: Hook) -> None:
    body = render_webhook("TEST_NOTIFICATION", None)
    assert body["notification_type"] == "TEST_NOTIFICATION"
    assert body["media"] is None and body["request"] is None and body["issue"] is None and body["comment"] is None

    response = await hook.post(body)

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "detail": "test notification received"}
    assert hook.calls == []


@pytest.mark.parametrize(
    "kind",
    ["MEDIA_PENDING", "MEDIA_AVAILABLE", "MEDIA_DECLINED", "MEDIA_AUTO_REQUESTED", "ISSUE_CREATED"],
)
async def test_other_types_are_acknowledged_and_ignored(hook: Hook, world: Sandbox, kind: str) -> None:
    request = None if kind.startswith("ISSUE") else world.seerr_state.requests[1]
    body = render_webhook(kind, request)
    if request is not None:
        assert body["request"]["request_id"] == "1"  # a valid request id, and still no work

    response = await hook.post(body)

    assert response.status_code == 200
    assert response.json() == {"status": "ignored", "detail": f"{kind} needs no work"}
    assert hook.calls == []


async def test_a_type_seerr_adds_later_is_ignored(hook: Hook, world: Sandbox) -> None:
    body = approved_body(world) | {"notification_type": "MEDIA_SOMETHING_NEW"}
    response = await hook.post(body)
    assert (response.status_code, response.json()["status"]) == (200, "ignored")
    assert hook.calls == []


async def test_emulator_notifications_that_need_no_work(hook: Hook, world: Sandbox) -> None:
    """A user's request (MEDIA_PENDING) then its decline (MEDIA_DECLINED), as Seerr would post them."""
    row = world.seerr_state.add_request(10331, is4k=True, requested_by="carol")
    world.seerr_state.decline(row.id)
    kinds = [n.type for n in world.seerr_state.notifications if n.request_id == row.id]
    assert kinds == ["MEDIA_PENDING", "MEDIA_DECLINED"]
    for note in world.seerr_state.notifications:
        assert (await hook.post(note.payload)).status_code == 200
    assert hook.calls == []


# ----------------------------------------------------------------------------------------- the secret


@pytest.mark.parametrize(
    "authorization",
    [None, "", "wrong", SECRET.lower(), f"Bearer {SECRET}", f"{SECRET} ", SECRET[:-1], SECRET + "x"],
    ids=["missing", "empty", "wrong", "case", "bearer", "trailing-space", "prefix", "longer"],
)
async def test_wrong_or_missing_secret_is_401_and_does_nothing(
    hook: Hook, world: Sandbox, authorization: str | None
) -> None:
    response = await hook.post(approved_body(world), authorization=authorization)
    assert response.status_code == 401
    assert response.json() == {"status": "unauthorized", "detail": "wrong or missing Authorization header"}
    assert hook.calls == []


async def test_the_secret_is_checked_before_the_body(hook: Hook) -> None:
    """An unauthenticated caller learns nothing about the body: garbage gets 401, not 400."""
    response = await hook.post(content=b"\xff not json", authorization="nope")
    assert response.status_code == 401


@pytest.mark.parametrize("authorization", [None, "", "anything", SECRET])
async def test_without_a_configured_secret_everything_is_refused(world: Sandbox, authorization: str | None) -> None:
    hook = Hook(secret="")
    try:
        response = await hook.post(approved_body(world), authorization=authorization)
    finally:
        await hook.aclose()
    assert response.status_code == 401
    assert hook.calls == []


# ----------------------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("content", "why"),
    [
        (b"", "Expecting value"),
        (b"not json", "Expecting value"),
        (b'{"notification_type": "MEDIA_APPROVED"', "Expecting"),
        (b"\xff\xfe\x00{", "not JSON"),
        (b'{"notification_type": NaN}', "NaN is not JSON"),
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
        (b'{"request": {"request_id": ' + b"9" * 5000 + b"}}", "digits"),
    ],
    ids=["empty", "text", "truncated", "bad-utf8", "nan", "deep", "huge-int"],
)
async def test_non_json_is_400(hook: Hook, content: bytes, why: str) -> None:
    response = await hook.post(content=content)
    assert response.status_code == 400
    answer = response.json()
    assert answer["status"] == "bad_request" and answer["detail"].startswith("the body is not JSON")
    assert why in answer["detail"]
    assert hook.calls == []


def _valid(world: Sandbox) -> dict[str, Any]:
    return approved_body(world)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda b: b["request"].update(request_id="abc"), "request.request_id must be a positive number"),
        (lambda b: b["request"].update(request_id=""), "request.request_id must be a positive number"),
        (lambda b: b["request"].update(request_id="0"), "request.request_id must be a positive number"),
        (lambda b: b["request"].update(request_id="-4"), "request.request_id must be a positive number"),
        (lambda b: b["request"].update(request_id="4.0"), "request.request_id must be a positive number"),
        (lambda b: b["request"].update(request_id="\u0664"), "request.request_id must be a positive number"),
        (lambda b: b["request"].update(request_id="9" * 5000), "request.request_id must be a positive number"),
        (lambda b: b["request"].update(request_id=str(2**31)), "request.request_id must be a positive number"),
        (lambda b: b["request"].update(request_id=4), "request.request_id: Input should be a valid string"),
        (lambda b: b.update(request=None), "request.request_id must be a positive number"),
        (lambda b: b.update(request="4"), "request: Input should be a valid dictionary"),
        (lambda b: b.pop("notification_type"), "notification_type: Field required"),
        (lambda b: b.update(notification_type=""), "notification_type: String should have at least 1 character"),
        (lambda b: b.update(notification_type=4), "notification_type: Input should be a valid string"),
        (lambda b: b.update(notification_type="X" * 100_000), "notification_type: String should have at most 64"),
        (lambda b: b.update(extra={"name": "Requested Seasons"}), "extra: Input should be a valid list"),
        (lambda b: b.update(media=["tv"]), "media: Input should be a valid dictionary"),
    ],
    ids=[
        "id-abc",
        "id-empty",
        "id-zero",
        "id-negative",
        "id-float",
        "id-arabic-digit",
        "id-huge",
        "id-over-int32",
        "id-number",
        "request-null",
        "request-string",
        "type-missing",
        "type-empty",
        "type-number",
        "type-huge",
        "extra-object",
        "media-array",
    ],
)
async def test_wrong_shapes_are_422_with_a_clear_message(hook: Hook, world: Sandbox, change: Any, message: str) -> None:
    body = _valid(world)
    change(body)
    response = await hook.post(body)
    assert response.status_code == 422, response.text
    answer = response.json()
    assert answer["status"] == "invalid"
    assert message in answer["detail"], answer["detail"]
    assert len(answer["detail"]) < 200  # the message names the field, it does not echo huge input
    assert hook.calls == []


@pytest.mark.parametrize("body", [[], [{"notification_type": "MEDIA_APPROVED"}], "MEDIA_APPROVED", 4, None, True])
async def test_json_that_is_not_an_object_is_422(hook: Hook, body: Any) -> None:
    response = await hook.post(content=json.dumps(body).encode())
    assert response.status_code == 422
    assert response.json()["detail"].startswith("body: Input should be a valid dictionary")
    assert hook.calls == []


async def test_a_body_over_the_cap_is_413_and_does_nothing(hook: Hook, world: Sandbox) -> None:
    body = _valid(world) | {"message": "x" * MAX_BODY_BYTES}
    response = await hook.post(body)
    assert response.status_code == 413
    assert hook.calls == []


async def test_a_huge_ignored_field_is_fine(hook: Hook, world: Sandbox) -> None:
    """Fields seerbridge does not read may be anything (a custom template): the approval still counts."""
    body = _valid(world) | {"message": "x" * 100_000, "custom": {"deep": [[{"a": None}]]}, "image": 7}
    response = await hook.post(body)
    assert response.status_code == 202
    assert hook.calls == [(4, "webhook MEDIA_APPROVED")]


# ----------------------------------------------------------------------------------------- duplicates


async def test_fifty_duplicate_approvals_make_one_unit_of_work(world: Sandbox) -> None:
    queue = WorkQueue()
    hook = Hook(accept=queue.submit)
    body = approved_body(world)
    try:
        answers = await asyncio.gather(*(hook.post(body) for _ in range(50)))
        assert [a.status_code for a in answers] == [202] * 50
        assert sum(a.json()["queued"] for a in answers) == 1
        assert queue.waiting() == 1
        assert (queue.stats.submitted, queue.stats.coalesced) == (1, 49)

        # A worker takes it; while it runs, Seerr re-notifies (every save of an approved request does): still one.
        assert await asyncio.wait_for(queue.take(), 1) == 4
        assert queue.busy() == {4} and queue.waiting() == 0
        answers = await asyncio.gather(*(hook.post(body) for _ in range(50)))
        assert not any(a.json()["queued"] for a in answers)
        assert queue.waiting() == 0 and queue.stats.coalesced == 99

        # Once it is finished, a new approval is new work again.
        queue.finish(4)
        assert (await hook.post(body)).json()["queued"] is True
        assert queue.waiting() == 1 and queue.stats.submitted == 2
    finally:
        await hook.aclose()
    assert len(hook.calls) == 101


async def test_duplicates_of_different_requests_queue_each_once(world: Sandbox) -> None:
    queue = WorkQueue()
    hook = Hook(accept=queue.submit)
    bodies = [render_webhook("MEDIA_APPROVED", world.seerr_state.requests[n]) for n in (1, 2, 3)]
    try:
        await asyncio.gather(*(hook.post(body) for body in bodies * 10))
    finally:
        await hook.aclose()
    taken = [await asyncio.wait_for(queue.take(), 1) for _ in range(3)]
    assert sorted(t or 0 for t in taken) == [1, 2, 3]
    assert queue.waiting() == 0 and queue.stats.coalesced == 27


# ----------------------------------------------------------------------------------------- health


async def test_healthz_answers_with_the_health_dict(hook: Hook) -> None:
    hook.health_body = {"alive": True, "last_successful_pass": "2026-11-24T10:00:00+00:00", "queued": 2}
    response = await hook.client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == hook.health_body


async def test_healthz_needs_no_secret_and_is_503_when_not_alive(hook: Hook) -> None:
    hook.health_body = {"alive": False, "down": ["realdebrid"]}
    response = await hook.client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"alive": False, "down": ["realdebrid"]}


async def test_the_openapi_document_describes_the_webhook(hook: Hook) -> None:
    document = hook.app.openapi()
    operation = document["paths"]["/webhook/seerr"]["post"]
    assert set(operation["responses"]) == {"200", "202", "400", "401", "413", "422"}
    assert operation["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/SeerrWebhook"
    }
    schema = document["components"]["schemas"]["SeerrWebhook"]
    assert schema["required"] == ["notification_type"]
    assert document["components"]["securitySchemes"]["seerrSecret"]["name"] == "Authorization"
