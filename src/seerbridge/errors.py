"""The error hierarchy: who is at fault, and whether trying again can help."""

from __future__ import annotations


class SeerbridgeError(Exception):
    """Base of every error seerbridge raises on purpose."""

    retryable: bool = False


class ServiceError(SeerbridgeError):
    """A remote service answered, or failed to answer, in a way we cannot use.

    `service` is the service's short name ("realdebrid", "seerr", ...), `endpoint` our name for the call,
    `status` the HTTP status when there was one, and `error`/`error_code` the service's own error key and code
    (Real-Debrid's `{"error": ..., "error_code": ...}`, Seerr's `message`, Jellyfin's ProblemDetails title).
    """

    def __init__(
        self,
        service: str,
        endpoint: str,
        message: str,
        *,
        status: int | None = None,
        error: str | None = None,
        error_code: int | None = None,
    ) -> None:
        self.service = service
        self.endpoint = endpoint
        self.status = status
        self.error = error
        self.error_code = error_code
        self.message = message
        super().__init__(str(self))

    def __str__(self) -> str:
        parts = [f"{self.service} {self.endpoint}"]
        if self.status is not None:
            parts.append(f"HTTP {self.status}")
        if self.error:
            parts.append(self.error if self.error_code is None else f"{self.error} ({self.error_code})")
        if self.message and self.message != self.error:
            parts.append(self.message)
        return ": ".join(parts)


class ServiceUnreachable(ServiceError):
    """The connection could not be made (DNS, refused, reset): the service is down or the URL is wrong."""

    retryable = True


class ServiceTimeout(ServiceError):
    """The service did not answer within the configured timeout."""

    retryable = True


class ServiceUnavailable(ServiceError):
    """The service answered 5xx: its fault, usually passing."""

    retryable = True


class RateLimited(ServiceError):
    """The service answered 429; `retry_after` is its hint in seconds, when it gave one."""

    retryable = True

    def __init__(self, *args: object, retry_after: float | None = None, **kwargs: object) -> None:
        self.retry_after = retry_after
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]


class AuthenticationError(ServiceError):
    """The service refused our credentials (401, or Seerr's 403): a configuration problem."""


class PermissionDenied(ServiceError):
    """The credentials are valid but not allowed to do this (403, account locked, not premium)."""


class NotFound(ServiceError):
    """The thing asked for does not exist (404)."""


class RequestRejected(ServiceError):
    """The service refused this particular request (other 4xx, e.g. Real-Debrid's 451 infringing_file)."""


class BadResponse(ServiceError):
    """The service answered 2xx with something we cannot read (not JSON, wrong shape)."""
