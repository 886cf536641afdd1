"""The API's error catalog as exceptions: every failure answer is
{"error": {"code", "message", "details", "requestId", "timestamp"}}; its code picks the class."""

from __future__ import annotations

from typing import Any, Optional


class MovieFlowError(Exception):
    """An error answer of the API, or no answer at all (SERVICE_UNAVAILABLE, status 0)."""

    code = "INTERNAL_ERROR"

    def __init__(
        self,
        message: str,
        *,
        code: Optional[str] = None,
        status: int = 0,
        request_id: Optional[str] = None,
        retry_after: Optional[float] = None,
        details: Any = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.status = status
        self.request_id = request_id
        self.retry_after = retry_after
        self.details = details

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


class InvalidRequestError(MovieFlowError):
    code = "INVALID_REQUEST"


class AuthenticationError(MovieFlowError):
    code = "UNAUTHORIZED"


class QuotaExceededError(MovieFlowError):
    code = "QUOTA_EXCEEDED"


class ForbiddenError(MovieFlowError):
    code = "FORBIDDEN"


class NotFoundError(MovieFlowError):
    code = "NOT_FOUND"


class ContentViolationError(MovieFlowError):
    code = "CONTENT_VIOLATION"


class IdempotencyKeyReusedError(MovieFlowError):
    code = "IDEMPOTENCY_KEY_REUSED"


class RateLimitError(MovieFlowError):
    """Too many requests: wait `retry_after` seconds."""

    code = "RATE_LIMIT_EXCEEDED"


class InternalError(MovieFlowError):
    code = "INTERNAL_ERROR"


class ServiceUnavailableError(MovieFlowError):
    code = "SERVICE_UNAVAILABLE"


class TaskFailedError(MovieFlowError):
    """A task that ended failed (or canceled) while it was awaited."""

    code = "TASK_FAILED"


ERRORS: dict[str, type[MovieFlowError]] = {
    cls.code: cls
    for cls in (
        InvalidRequestError, AuthenticationError, QuotaExceededError, ForbiddenError, NotFoundError,
        ContentViolationError, IdempotencyKeyReusedError, RateLimitError, InternalError,
        ServiceUnavailableError, TaskFailedError,
    )
}


def error_for(code: Optional[str], message: str, **fields: Any) -> MovieFlowError:
    """The exception of a catalog code (an unknown code is a MovieFlowError with it)."""
    cls = ERRORS.get(code or "", MovieFlowError)
    return cls(message, code=code or "INTERNAL_ERROR", **fields)
