"""What the API's runs look like to Python: a movie task (MovieFlow's GET task/{id}) and a
cinematic or model-direct generation (GET generations/{id}), each refreshed by polling with
backoff until it ends."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from .errors import MovieFlowError, TaskFailedError, error_for
from .session import Session

ENDED = ("completed", "failed", "canceled")


@dataclass
class Progress:
    """One report to on_progress; formats as its overall percent (f"{progress}%")."""

    task_id: str
    status: str
    overall: int
    phase: Optional[str] = None
    segments: dict[str, int] = field(default_factory=dict)

    def __format__(self, spec: str) -> str:
        return format(self.overall, spec)

    def __str__(self) -> str:
        return str(self.overall)


@dataclass
class Metrics:
    """A task's figures (GET task/{id} metrics), with the seed's names."""

    total_time: float
    queued_time: float
    phases: dict[str, float]
    api_calls: int
    polls: int
    retries: int
    cache_hits: int
    credits: dict[str, int]

    @classmethod
    def of(cls, m: dict[str, Any]) -> "Metrics":
        return cls(m.get("totalSeconds", 0.0), m.get("queuedSeconds", 0.0), m.get("phases", {}), m.get("providerCalls", 0),
                   m.get("polls", 0), m.get("retries", 0), m.get("cacheHits", 0), m.get("credits", {}))


OnProgress = Callable[[Progress], Any]


def failure(state: dict, what: str) -> MovieFlowError:
    """The exception of a run that ended without a video: its own error code's class."""
    e = state.get("error") or {}
    if state.get("status") == "canceled":
        return TaskFailedError(f"the {what} was canceled", details=state)
    return error_for(e.get("code") or "TASK_FAILED", e.get("message") or f"the {what} failed", details=state)


class _Run:
    """What a movie task and a generation share: polling until the run ends."""

    _what = "run"
    state: dict

    def refresh(self) -> dict:
        raise NotImplementedError

    def progress_report(self) -> Progress:
        raise NotImplementedError

    def wait(self, on_progress: Optional[OnProgress] = None, timeout: Optional[float] = None,
             interval: float = 1.0, max_interval: float = 10.0):
        """Refreshes until the run ends, every `interval` seconds while it moves and backing off
        (x1.5, up to `max_interval`) while it does not; `on_progress` hears every change. Raises
        the failure's exception unless it completed."""
        deadline = None if timeout is None else time.monotonic() + timeout
        last: Optional[tuple] = None
        wait = interval
        while True:
            self.refresh()
            p = self.progress_report()
            key = (p.status, p.overall, p.phase, tuple(sorted(p.segments.items())))
            if key != last:
                last, wait = key, interval
                if on_progress:
                    on_progress(p)
            else:
                wait = min(wait * 1.5, max_interval)
            if p.status in ENDED:
                break
            if deadline is not None and time.monotonic() + wait > deadline:
                raise TaskFailedError(f"still {p.status} after {timeout} s", code="SERVICE_UNAVAILABLE")
            time.sleep(wait)
        if self.state.get("status") != "completed":
            raise failure(self.state, self._what)
        return self


class Task(_Run):
    """A movie task. `status`, `progress`, `segments`, `result` (the video URL once completed)."""

    _what = "movie"

    def __init__(self, session: Session, task_id: str, state: Optional[dict] = None) -> None:
        self._session = session
        self.task_id = task_id
        self.state: dict = state or {"taskId": task_id, "status": "queued", "progress": 0, "segments": []}

    status = property(lambda self: self.state.get("status"))
    progress = property(lambda self: self.state.get("progress", 0))
    current_phase = property(lambda self: self.state.get("currentPhase"))
    segments = property(lambda self: self.state.get("segments", []))
    video_url = property(lambda self: self.state.get("videoUrl"))
    poster_url = property(lambda self: self.state.get("posterUrl"))
    duration = property(lambda self: self.state.get("duration"))
    error = property(lambda self: self.state.get("error"))
    logs = property(lambda self: self.state.get("logs", []))

    @property
    def result(self) -> Optional[str]:
        """The movie's URL once completed (the seed's task.result)."""
        return self.video_url if self.status == "completed" else None

    @property
    def metrics(self) -> Optional[Metrics]:
        m = self.state.get("metrics")
        return Metrics.of(m) if m else None

    def refresh(self) -> dict:
        self.state = self._session.request("GET", f"task/{self.task_id}")
        return self.state

    def progress_report(self) -> Progress:
        segments = {s["id"]: s.get("progress", 0) for s in self.segments}
        return Progress(self.task_id, self.status, self.progress, self.current_phase, segments)

    def cancel(self) -> "Task":
        self.state = self._session.request("DELETE", f"task/{self.task_id}")
        return self

    def retry(self, segment_ids: Optional[list[str]] = None, reason: Optional[str] = None) -> "Task":
        body: dict[str, Any] = {"segmentIds": segment_ids or []}
        if reason:
            body["reason"] = reason
        self.state = self._session.request("POST", f"task/{self.task_id}/retry", body)
        return self

    def __repr__(self) -> str:
        return f"Task({self.task_id!r}, status={self.status!r}, progress={self.progress})"


class Generation(_Run):
    """A cinematic or model-direct generation: `status`, `progress`, `step`, `video_url`."""

    _what = "generation"

    def __init__(self, session: Session, generation_id: str, state: Optional[dict] = None) -> None:
        self._session = session
        self.id = generation_id
        self.state: dict = state or {"id": generation_id, "status": "queued", "progress": 0}

    status = property(lambda self: self.state.get("status"))
    progress = property(lambda self: self.state.get("progress", 0))
    step = property(lambda self: self.state.get("step"))
    video_url = property(lambda self: self.state.get("video_url"))
    error = property(lambda self: self.state.get("error"))
    credits = property(lambda self: self.state.get("credits"))

    @property
    def result(self) -> Optional[str]:
        return self.video_url if self.status == "completed" else None

    def refresh(self) -> dict:
        self.state = self._session.request("GET", f"generations/{self.id}")["generation"]
        return self.state

    def progress_report(self) -> Progress:
        return Progress(self.id, self.status, self.progress, self.step)

    def cancel(self) -> "Generation":
        self.state = self._session.request("POST", f"generations/{self.id}/cancel")["generation"]
        return self

    def retry(self) -> "Generation":
        self.state = self._session.request("POST", f"generations/{self.id}/retry")["generation"]
        return self

    def __repr__(self) -> str:
        return f"Generation({self.id!r}, status={self.status!r}, progress={self.progress})"
