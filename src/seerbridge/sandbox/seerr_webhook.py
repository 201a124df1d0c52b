"""Renders Seerr's webhook body the way its webhook agent does (server/lib/notifications/agents/webhook.ts, v3.1.0).

The rules, all reproduced here because seerbridge has to parse exactly what comes out:
- The template is walked key by key. The keys `{{media}}`, `{{request}}`, `{{issue}}` and `{{comment}}` are renamed
  without braces; their value is `null` when the notification has no such object. `{{extra}}` becomes `extra`, holding
  the notification's extra list (`[{"name": "Requested Seasons", "value": "1, 2"}]` for a show), or `[]`.
- Every string value gets each `{{variable}}` replaced in KeyMap order, with JavaScript's `String.replace(string, …)`:
  only the first occurrence, and `$&`, `$$`, `` $` `` and `$'` in the inserted value are replacement patterns.
  Values are inserted raw, so every rendered value is a string (`"603"`, `""` when absent).
- Objects and arrays (including `extra`) are walked recursively; numbers and booleans in the template stay as they are.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
from collections.abc import Callable
from typing import Any

from seerbridge.sandbox.seerr_models import MediaStatus, MediaStatuses, RequestRow

DEFAULT_TEMPLATE: dict[str, Any] = json.loads(
    """{
  "notification_type": "{{notification_type}}",
  "event": "{{event}}",
  "subject": "{{subject}}",
  "message": "{{message}}",
  "image": "{{image}}",
  "{{media}}": {
    "media_type": "{{media_type}}",
    "tmdbId": "{{media_tmdbid}}",
    "tvdbId": "{{media_tvdbid}}",
    "status": "{{media_status}}",
    "status4k": "{{media_status4k}}"
  },
  "{{request}}": {
    "request_id": "{{request_id}}",
    "requestedBy_email": "{{requestedBy_email}}",
    "requestedBy_username": "{{requestedBy_username}}",
    "requestedBy_avatar": "{{requestedBy_avatar}}",
    "requestedBy_settings_discordId": "{{requestedBy_settings_discordId}}",
    "requestedBy_settings_telegramChatId": "{{requestedBy_settings_telegramChatId}}"
  },
  "{{issue}}": {
    "issue_id": "{{issue_id}}",
    "issue_type": "{{issue_type}}",
    "issue_status": "{{issue_status}}",
    "reportedBy_email": "{{reportedBy_email}}",
    "reportedBy_username": "{{reportedBy_username}}",
    "reportedBy_avatar": "{{reportedBy_avatar}}",
    "reportedBy_settings_discordId": "{{reportedBy_settings_discordId}}",
    "reportedBy_settings_telegramChatId": "{{reportedBy_settings_telegramChatId}}"
  },
  "{{comment}}": {
    "comment_message": "{{comment_message}}",
    "commentedBy_email": "{{commentedBy_email}}",
    "commentedBy_username": "{{commentedBy_username}}",
    "commentedBy_avatar": "{{commentedBy_avatar}}",
    "commentedBy_settings_discordId": "{{commentedBy_settings_discordId}}",
    "commentedBy_settings_telegramChatId": "{{commentedBy_settings_telegramChatId}}"
  },
  "{{extra}}": []
}"""
)

# The `Notification` enum (server/lib/notifications/index.ts): name → bit.
NOTIFICATION_TYPES: dict[str, int] = {
    "MEDIA_PENDING": 2,
    "MEDIA_APPROVED": 4,
    "MEDIA_AVAILABLE": 8,
    "MEDIA_FAILED": 16,
    "TEST_NOTIFICATION": 32,
    "MEDIA_DECLINED": 64,
    "MEDIA_AUTO_APPROVED": 128,
    "ISSUE_CREATED": 256,
    "ISSUE_COMMENT": 512,
    "ISSUE_RESOLVED": 1024,
    "ISSUE_REOPENED": 2048,
    "MEDIA_AUTO_REQUESTED": 4096,
}
# Request notifications that name the requester as `notifyUser` (notifyAdmin is false for them).
_USER_NOTIFIED = frozenset({"MEDIA_APPROVED", "MEDIA_DECLINED", "MEDIA_AVAILABLE", "MEDIA_AUTO_REQUESTED"})
_EVENTS = {
    "MEDIA_PENDING": "New {p}{kind} Request",
    "MEDIA_APPROVED": "{p}{kind} Request Approved",
    "MEDIA_AUTO_APPROVED": "{p}{kind} Request Automatically Approved",
    "MEDIA_AVAILABLE": "{p}{kind} Request Now Available",
    "MEDIA_DECLINED": "{p}{kind} Request Declined",
    "MEDIA_FAILED": "{p}{kind} Request Failed",
    "MEDIA_AUTO_REQUESTED": "{p}{kind} Request Automatically Submitted",
}
_SPECIAL_KEYS = {"{{media}}": "media", "{{request}}": "request", "{{issue}}": "issue", "{{comment}}": "comment"}
TMDB_IMAGE = "https://image.tmdb.org/t/p/w600_and_h900_bestv2"

Payload = dict[str, Any]
KeyMapValue = str | Callable[[Payload, str], str]


def _status_name(field: str) -> Callable[[Payload, str], str]:
    def read(payload: Payload, _type: str) -> str:
        media = payload.get("media")
        return MediaStatus(media[field]).name if media else ""

    return read


# webhook.ts KeyMap, in its order: variable → lodash path in the payload, or a function of (payload, type).
KEY_MAP: dict[str, KeyMapValue] = {
    "notification_type": lambda _payload, type_: type_,
    "event": "event",
    "subject": "subject",
    "message": "message",
    "image": "image",
    "notifyuser_username": "notifyUser.displayName",
    "notifyuser_email": "notifyUser.email",
    "notifyuser_avatar": "notifyUser.avatar",
    "notifyuser_settings_discordId": "notifyUser.settings.discordId",
    "notifyuser_settings_telegramChatId": "notifyUser.settings.telegramChatId",
    "media_tmdbid": "media.tmdbId",
    "media_tvdbid": "media.tvdbId",
    "media_type": "media.mediaType",
    "media_status": _status_name("status"),
    "media_status4k": _status_name("status4k"),
    "request_id": "request.id",
    "requestedBy_username": "request.requestedBy.displayName",
    "requestedBy_email": "request.requestedBy.email",
    "requestedBy_avatar": "request.requestedBy.avatar",
    "requestedBy_settings_discordId": "request.requestedBy.settings.discordId",
    "requestedBy_settings_telegramChatId": "request.requestedBy.settings.telegramChatId",
    "issue_id": "issue.id",
    "issue_type": lambda _payload, _type: "",
    "issue_status": lambda _payload, _type: "",
    "reportedBy_username": "issue.createdBy.displayName",
    "reportedBy_email": "issue.createdBy.email",
    "reportedBy_avatar": "issue.createdBy.avatar",
    "reportedBy_settings_discordId": "issue.createdBy.settings.discordId",
    "reportedBy_settings_telegramChatId": "issue.createdBy.settings.telegramChatId",
    "comment_message": "comment.message",
    "commentedBy_username": "comment.user.displayName",
    "commentedBy_email": "comment.user.email",
    "commentedBy_avatar": "comment.user.avatar",
    "commentedBy_settings_discordId": "comment.user.settings.discordId",
    "commentedBy_settings_telegramChatId": "comment.user.settings.telegramChatId",
}


def truncate(text: str, length: int = 500, omission: str = "…") -> str:
    """lodash `truncate(text, {length, separator: /\\s/, omission})`: cut at the last whitespace that fits."""
    if len(text) <= length:
        return text
    end = length - len(omission)
    if end < 1:
        return omission
    cut = text[:end]
    spaces = [m.start() for m in re.finditer(r"\s", cut)]
    if spaces:
        cut = cut[: spaces[-1]]
    return cut + omission


def poster_path(tmdb_id: int) -> str:
    """A stable stand-in for TMDB's poster path of a title."""
    return "/" + hashlib.sha1(f"poster:{tmdb_id}".encode()).hexdigest()[:27] + ".jpg"


def _js_string(value: Any) -> str:
    if value is None:
        return ""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dict):
        return "[object Object]"
    if isinstance(value, list):
        return ",".join(_js_string(v) for v in value)
    return str(value)


def _lodash_get(payload: Payload, path: str) -> Any:
    current: Any = payload
    for part in path.split("."):
        if not isinstance(current, dict) or part not in current:
            return None
        current = current[part]
    return current


def js_replace_first(text: str, pattern: str, replacement: str) -> str:
    """JavaScript `text.replace(pattern, replacement)` for a string pattern (first match, `$` patterns honoured)."""
    index = text.find(pattern)
    if index < 0:
        return text
    out: list[str] = []
    i = 0
    while i < len(replacement):
        char = replacement[i]
        nxt = replacement[i + 1] if i + 1 < len(replacement) else ""
        if char == "$" and nxt == "$":
            out.append("$")
        elif char == "$" and nxt == "&":
            out.append(pattern)
        elif char == "$" and nxt == "`":
            out.append(text[:index])
        elif char == "$" and nxt == "'":
            out.append(text[index + len(pattern) :])
        else:
            out.append(char)
            i += 1
            continue
        i += 2
    return text[:index] + "".join(out) + text[index + len(pattern) :]


def _substitute(value: str, payload: Payload, notification_type: str) -> str:
    for variable, source in KEY_MAP.items():
        if isinstance(source, str):
            got = _lodash_get(payload, source)
            replacement = _js_string(got)
        else:
            replacement = source(payload, notification_type)
        value = js_replace_first(value, "{{" + variable + "}}", replacement)
    return value


def _walk(node: Any, payload: Payload, notification_type: str) -> Any:
    if isinstance(node, list):
        return [_walk_value(item, payload, notification_type) for item in node]
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "{{extra}}":
            key, value = "extra", copy.deepcopy(payload.get("extra") or [])
        elif key in _SPECIAL_KEYS:
            key = _SPECIAL_KEYS[key]
            value = value if payload.get(key) else None
        out[key] = _walk_value(value, payload, notification_type)
    return out


def _walk_value(value: Any, payload: Payload, notification_type: str) -> Any:
    if isinstance(value, str):
        return _substitute(value, payload, notification_type)
    if isinstance(value, dict | list):
        return _walk(value, payload, notification_type)
    return value


def notification_payload(
    notification_type: str, request: RequestRow | None, *, media_status: MediaStatuses | None = None
) -> Payload:
    """The `NotificationPayload` Seerr builds for a request notification (or a test notification when None).

    `media_status` is the (status, status4k) of the Media row as the notifying code read it, when that was before
    the change that caused the notification (Seerr reads the row separately, often before the subscriber saves).
    """
    if request is None:
        return {
            "subject": "Test Notification",
            "message": "Check check, 1, 2, 3. Are we coming in clear?",
            "media": None,
            "request": None,
        }
    media, spec = request.media, request.media.spec
    kind = "Movie" if spec.type == "movie" else "Series"
    template = _EVENTS.get(notification_type)
    year = spec.effective_year
    user = request.requested_by
    requested_by = {"displayName": user.name, "email": user.email, "avatar": user.avatar, "id": user.id}
    status, status4k = media_status if media_status is not None else (media.status, media.status4k)
    payload: Payload = {
        "event": template.format(p="4K " if request.is4k else "", kind=kind) if template else None,
        "subject": spec.title + (f" ({year})" if year else ""),
        "message": truncate(spec.overview),
        "image": TMDB_IMAGE + poster_path(spec.tmdb_id),
        "media": {
            "tmdbId": media.tmdb_id,
            "tvdbId": spec.tvdb_id if spec.type == "tv" else None,
            "mediaType": spec.type,
            "status": int(status),
            "status4k": int(status4k),
        },
        "request": {"id": request.id, "requestedBy": requested_by},
        "notifyUser": requested_by if notification_type in _USER_NOTIFIED else None,
    }
    if spec.type == "tv":
        numbers = ", ".join(str(n) for n in request.season_numbers)
        payload["extra"] = [{"name": "Requested Seasons", "value": numbers}]
    return payload


def render_webhook(
    notification_type: str,
    request: RequestRow | None,
    *,
    template: dict[str, Any] | None = None,
    media_status: MediaStatuses | None = None,
) -> dict[str, Any]:
    """The JSON body Seerr's webhook agent posts for this notification, from the default template (or `template`);
    `media_status` as in `notification_payload`."""
    if notification_type not in NOTIFICATION_TYPES:
        raise ValueError(f"unknown notification type {notification_type!r}")
    payload = notification_payload(notification_type, request, media_status=media_status)
    result: dict[str, Any] = _walk(template if template is not None else DEFAULT_TEMPLATE, payload, notification_type)
    return result
