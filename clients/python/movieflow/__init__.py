"""movieflow: the reelforge API from Python (MovieFlow movies, cinematic and model-direct videos)."""

from .client import Api, AsyncTask, Batch, MovieFlow, MovieFlowClient, Project, Template, Video
from .errors import (
    AuthenticationError, ContentViolationError, ForbiddenError, IdempotencyKeyReusedError, InternalError,
    InvalidRequestError, MovieFlowError, NotFoundError, QuotaExceededError, RateLimitError, ServiceUnavailableError,
    TaskFailedError,
)
from .session import Session
from .tasks import Generation, Metrics, Progress, Task

__all__ = [
    "Api", "AsyncTask", "Batch", "MovieFlow", "MovieFlowClient", "Project", "Template", "Video", "Session", "Generation",
    "Metrics", "Progress", "Task", "MovieFlowError", "AuthenticationError", "ContentViolationError", "ForbiddenError",
    "IdempotencyKeyReusedError", "InternalError", "InvalidRequestError", "NotFoundError", "QuotaExceededError",
    "RateLimitError", "ServiceUnavailableError", "TaskFailedError",
]
