"""The body Seerr's webhook agent sends with its default template: every value a string, ids included."""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field

_REQUEST_ID = re.compile(r"[0-9]{1,10}")  # ASCII digits only: int() would also take "١٢" or choke on 5,000 digits


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="ignore")


class WebhookMedia(_Lenient):
    media_type: str = ""
    tmdbId: str = ""
    tvdbId: str = ""
    status: str = ""
    status4k: str = ""


class WebhookRequest(_Lenient):
    request_id: str = ""
    requestedBy_username: str = ""


class WebhookExtra(_Lenient):
    name: str = ""
    value: str = ""


class SeerrWebhook(_Lenient):
    """Only `notification_type` is required; objects are null when the notification has none (e.g. TEST)."""

    notification_type: str = Field(min_length=1, max_length=64)
    event: str = ""
    subject: str = ""
    media: WebhookMedia | None = None
    request: WebhookRequest | None = None
    extra: list[WebhookExtra] = Field(default_factory=list)

    def request_id(self) -> int | None:
        """The Seerr request id, or None when absent or not a positive number below 2**31."""
        raw = (self.request.request_id if self.request else "").strip()
        if not _REQUEST_ID.fullmatch(raw):
            return None
        number = int(raw)
        return number if 0 < number < 2**31 else None


# MEDIA_FAILED: Seerr approved it, then its push to a Radarr/Sonarr failed; seerbridge works it all the same.
WORK_TYPES = frozenset({"MEDIA_APPROVED", "MEDIA_AUTO_APPROVED", "MEDIA_FAILED"})
