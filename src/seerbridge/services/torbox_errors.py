"""TorBox's error codes and the typed error each answer becomes (shared/api/torbox.md §8.2)."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Any

import httpx

from seerbridge.errors import (
    AuthenticationError,
    NotFound,
    PermissionDenied,
    RateLimited,
    RequestRejected,
    ServiceError,
    ServiceUnavailable,
)
from seerbridge.redact import redact
from seerbridge.services.http import AccountLimit, RemoteError

SERVICE = "torbox"


class TorBoxErrorCode(StrEnum):
    """The `error` field's values (the doc's table, as StremThru copies it), plus one seen only in a client."""

    DATABASE_ERROR = "DATABASE_ERROR"
    UNKNOWN_ERROR = "UNKNOWN_ERROR"
    NO_AUTH = "NO_AUTH"
    BAD_TOKEN = "BAD_TOKEN"
    AUTH_ERROR = "AUTH_ERROR"
    INVALID_OPTION = "INVALID_OPTION"
    REDIRECT_ERROR = "REDIRECT_ERROR"
    OAUTH_VERIFICATION_ERROR = "OAUTH_VERIFICATION_ERROR"
    ENDPOINT_NOT_FOUND = "ENDPOINT_NOT_FOUND"
    ITEM_NOT_FOUND = "ITEM_NOT_FOUND"
    PLAN_RESTRICTED_FEATURE = "PLAN_RESTRICTED_FEATURE"
    DUPLICATE_ITEM = "DUPLICATE_ITEM"
    BOZO_RSS_FEED = "BOZO_RSS_FEED"
    SELLIX_ERROR = "SELLIX_ERROR"
    TOO_MUCH_DATA = "TOO_MUCH_DATA"
    DOWNLOAD_TOO_LARGE = "DOWNLOAD_TOO_LARGE"
    MISSING_REQUIRED_OPTION = "MISSING_REQUIRED_OPTION"
    TOO_MANY_OPTIONS = "TOO_MANY_OPTIONS"
    BOZO_TORRENT = "BOZO_TORRENT"
    NO_SERVERS_AVAILABLE_ERROR = "NO_SERVERS_AVAILABLE_ERROR"
    MONTHLY_LIMIT = "MONTHLY_LIMIT"
    COOLDOWN_LIMIT = "COOLDOWN_LIMIT"
    ACTIVE_LIMIT = "ACTIVE_LIMIT"
    DOWNLOAD_SERVER_ERROR = "DOWNLOAD_SERVER_ERROR"
    BOZO_NZB = "BOZO_NZB"
    SEARCH_ERROR = "SEARCH_ERROR"
    INVALID_DEVICE = "INVALID_DEVICE"
    DIFF_ISSUE = "DIFF_ISSUE"
    LINK_OFFLINE = "LINK_OFFLINE"
    VENDOR_DISABLED = "VENDOR_DISABLED"
    # (unverified) one client expects it for `add_only_if_cached=true` on an uncached hash; not in TorBox's table.
    DOWNLOAD_NOT_CACHED = "DOWNLOAD_NOT_CACHED"

    @classmethod
    def of(cls, value: str | None) -> TorBoxErrorCode | None:
        try:
            return cls(value) if value else None
        except ValueError:
            return None


AUTH_CODES = frozenset(
    {
        TorBoxErrorCode.NO_AUTH,
        TorBoxErrorCode.BAD_TOKEN,
        TorBoxErrorCode.AUTH_ERROR,
        TorBoxErrorCode.OAUTH_VERIFICATION_ERROR,
    }
)
# Torrentio's "limits exceeded" group; StremThru gives ACTIVE and MONTHLY its "limit" class and COOLDOWN 429.
LIMIT_CODES = frozenset({TorBoxErrorCode.ACTIVE_LIMIT, TorBoxErrorCode.MONTHLY_LIMIT, TorBoxErrorCode.COOLDOWN_LIMIT})


class LimitExceeded(RateLimited):
    """An account limit (ACTIVE_LIMIT, MONTHLY_LIMIT, COOLDOWN_LIMIT, or DIFF_ISSUE "maximum queued"): waiting
    helps (a slot frees, the cooldown or month ends), retrying the call now does not, so it is not retried.
    `active_limit`/`active_now` come with ACTIVE_LIMIT when TorBox sends them."""

    retryable = False

    def __init__(
        self, *args: Any, limit: str, active_limit: int | None = None, active_now: int | None = None, **kwargs: Any
    ) -> None:
        self.limit = limit
        self.active_limit = active_limit
        self.active_now = active_now
        super().__init__(*args, **kwargs)


class DuplicateItem(RequestRejected):
    """TorBox already holds (or queues) this torrent; `existing_id` is its id when the answer names one."""

    def __init__(self, *args: Any, existing_id: int | None = None, **kwargs: Any) -> None:
        self.existing_id = existing_id
        super().__init__(*args, **kwargs)


class NotCached(RequestRejected):
    """An add with `add_only_if_cached=true` refused because TorBox does not hold the hash: nothing was added."""


def _is_html(response: httpx.Response) -> bool:
    return "html" in response.headers.get("content-type", "").lower()


def read_body(response: httpx.Response) -> tuple[dict[str, Any] | None, str]:
    """The envelope as a dict when the body is a JSON object, else None and a short text (an HTML page becomes a
    note, not its markup: a gateway's page says nothing a user can act on)."""
    try:
        body = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        body = None
    if isinstance(body, dict):
        return body, str(body.get("detail") or "")[:200]
    if _is_html(response):
        return None, "an HTML page instead of TorBox's JSON"
    return None, response.text.strip()[:200]


def read_torbox_error(response: httpx.Response) -> RemoteError:
    """`ServiceHttp`'s reader, for the answers it maps itself (429, 5xx, 408)."""
    body, text = read_body(response)
    code = body.get("error") if body is not None else None
    return RemoteError(error=str(code) if code else None, message=text)


def torbox_account_limit(status: int, remote: RemoteError) -> AccountLimit | None:
    """A limit code on a 429 or 5xx is an account limit, not a passing overload: no retry, no outage."""
    code = TorBoxErrorCode.of(remote.error)
    return AccountLimit(f"TorBox {code.value}") if code in LIMIT_CODES and code is not None else None


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def torbox_error(
    endpoint: str,
    *,
    status: int | None,
    code: str | None,
    detail: str,
    data: Any = None,
    retry_after: float | None = None,
) -> ServiceError:
    """The typed error for a refusal: by TorBox's code first, then (no code, or one we do not know) by HTTP status.

    Codes ending in ERROR are TorBox's fault (the doc's rule) except the auth ones; the rest are the caller's.
    `data` is read for ACTIVE_LIMIT's numbers and a duplicate's id; `detail` is TorBox's message, redacted.
    """
    message = redact(detail)
    fields: dict[str, Any] = {"status": status, "error": redact(code) if code else None}
    known = TorBoxErrorCode.of(code)
    info = data if isinstance(data, dict) else {}
    lowered = detail.lower()
    if known is None and "active_limit" in info:
        known = TorBoxErrorCode.ACTIVE_LIMIT  # the doc's example: success false, error null, these numbers in data
    if known is TorBoxErrorCode.DIFF_ISSUE and "maximum queued" in lowered:
        known = TorBoxErrorCode.ACTIVE_LIMIT
    if known in LIMIT_CODES and known is not None:
        return LimitExceeded(
            SERVICE,
            endpoint,
            message or f"TorBox {known.value}",
            limit=code or known.value,
            active_limit=_int(info.get("active_limit")),
            active_now=_int(info.get("current_active_downloads")),
            retry_after=retry_after,
            **fields,
        )
    if known is TorBoxErrorCode.DUPLICATE_ITEM or (known is TorBoxErrorCode.DIFF_ISSUE and "already queued" in lowered):
        # Where TorBox names the existing item is undocumented (unverified): `torrent_id` or `id` in data.
        existing = _int(info.get("torrent_id"))
        existing = existing if existing is not None else _int(info.get("id"))
        return DuplicateItem(SERVICE, endpoint, message or "already in the account", existing_id=existing, **fields)
    if known is TorBoxErrorCode.DOWNLOAD_NOT_CACHED:
        return NotCached(SERVICE, endpoint, message or "not cached", **fields)
    if known in AUTH_CODES:
        return AuthenticationError(SERVICE, endpoint, message or "the API key was refused", **fields)
    if known is TorBoxErrorCode.PLAN_RESTRICTED_FEATURE:
        return PermissionDenied(SERVICE, endpoint, message, **fields)
    if known in {TorBoxErrorCode.ITEM_NOT_FOUND, TorBoxErrorCode.ENDPOINT_NOT_FOUND}:
        return NotFound(SERVICE, endpoint, message, **fields)
    if known is not None and known.value.endswith("ERROR"):
        return ServiceUnavailable(SERVICE, endpoint, message, **fields)
    if known is not None:
        return RequestRejected(SERVICE, endpoint, message, **fields)
    if status in {401, 403}:  # the doc: 403 is TorBox's authentication error
        return AuthenticationError(SERVICE, endpoint, message or "the API key was refused", **fields)
    if status == 402:
        return PermissionDenied(SERVICE, endpoint, message, **fields)
    if status == 404:
        return NotFound(SERVICE, endpoint, message, **fields)
    if status is not None and status >= 500:
        return ServiceUnavailable(SERVICE, endpoint, message, **fields)
    return RequestRejected(SERVICE, endpoint, message or "refused without a reason", **fields)


def is_limit_exceeded(exc: BaseException) -> bool:
    return isinstance(exc, LimitExceeded)


def is_not_cached(exc: BaseException) -> bool:
    return isinstance(exc, NotCached)


__all__ = [
    "AUTH_CODES",
    "LIMIT_CODES",
    "SERVICE",
    "DuplicateItem",
    "LimitExceeded",
    "NotCached",
    "TorBoxErrorCode",
    "is_limit_exceeded",
    "is_not_cached",
    "read_body",
    "read_torbox_error",
    "torbox_account_limit",
    "torbox_error",
]
