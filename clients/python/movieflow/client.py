"""The clients the MovieFlow document shows: `MovieFlowClient` (asyncio: generate_video, then
task.refresh() until completed, task.result) and `MovieFlow` (blocking: video_specify ->
video_plan -> video_generate, batch_generate, templates, from_speckit, get_metrics), both on
the project's HTTP API with a user's session; cinematic and model-direct videos too."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import time
from dataclasses import dataclass, field
from typing import Any, Iterator, Optional, Union

from .errors import InvalidRequestError
from .session import Session
from .tasks import Generation, Metrics, OnProgress, Task

Spec = dict[str, Any]


@dataclass
class Project:
    """A named piece of work: its name becomes the specs' projectName, its description what
    video_specify drafts from. Kept by the client (the API has no project object)."""

    name: str
    description: str = ""


@dataclass
class Template:
    slug: str
    name: str
    description: str
    variables: dict[str, Any]
    spec: Spec
    built_in: bool


@dataclass
class Video:
    """A finished movie task: `url` is the MP4 (a signed URL, valid an hour)."""

    task_id: str
    status: str
    url: Optional[str]
    poster_url: Optional[str]
    duration: Optional[float]
    error: Optional[dict]
    metrics: Optional[Metrics]

    @classmethod
    def of(cls, task: Task) -> "Video":
        return cls(task.task_id, task.status, task.video_url, task.poster_url, task.duration, task.error, task.metrics)


def spec_of(spec: Any) -> Spec:
    """A spec from a dict, a video_plan answer, a Template, or a path to a JSON spec file."""
    if isinstance(spec, Template):
        return {"template": spec.slug}
    if isinstance(spec, dict):
        # A video_plan answer carries the (optimised) spec beside its per-scene plan and totals.
        return spec["spec"] if "spec" in spec and "totals" in spec else spec
    if isinstance(spec, (str, os.PathLike)):
        try:
            with open(spec, encoding="utf-8") as f:
                return json.load(f)
        except (OSError, ValueError) as err:
            raise InvalidRequestError(f"{spec}: not a readable JSON spec ({err})") from err
    raise InvalidRequestError(f"a spec is a dict, a plan, a Template or a JSON file path, not {type(spec).__name__}")


class Api:
    """The HTTP API, one call per method (blocking)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    # -- movies ----------------------------------------------------------------------------------

    def generate_video(self, project_name: Optional[str] = None, scenes: Optional[list[dict]] = None,
                       config: Optional[dict] = None, effects: Optional[dict] = None, *, spec: Any = None,
                       template: Optional[str] = None, variables: Optional[dict] = None) -> Task:
        body = dict(spec_of(spec)) if spec is not None else {}
        for key, value in (("projectName", project_name), ("scenes", scenes), ("config", config), ("effects", effects),
                           ("template", template), ("variables", variables)):
            if value is not None:
                body[key] = value
        created = self.session.request("POST", "video/generate", body)
        return Task(self.session, created["taskId"], {**created, "segments": created.get("segments", [])})

    def get_task(self, task_id: str) -> Task:
        task = Task(self.session, task_id)
        task.refresh()
        return task

    def batch(self, specs: list[Any], parallel: bool = True) -> tuple[str, list[Task]]:
        created = self.session.request("POST", "video/batch", {"specs": [spec_of(s) for s in specs], "parallel": parallel})
        return created["batchId"], [Task(self.session, t["taskId"], t) for t in created["tasks"]]

    def quote(self, spec: Any) -> dict:
        return self.session.request("POST", "video/quote", spec_of(spec))

    def specify(self, description: str, duration: int = 60, platform: str = "douyin", style: str = "realistic",
                scenes: Optional[int] = None) -> Spec:
        body = {"description": description, "duration": duration, "platform": platform, "style": style}
        if scenes:
            body["scenes"] = scenes
        return self.session.request("POST", "video/specify", body)["spec"]

    def plan(self, spec: Any, optimize: Optional[str] = None, quality: Optional[str] = None) -> dict:
        body: dict[str, Any] = {"spec": spec_of(spec)}
        if optimize:
            body["optimize"] = optimize
        if quality:
            body["quality"] = quality
        return self.session.request("POST", "video/plan", body)

    def from_speckit(self, markdown: str, file: str = "spec.md") -> dict:
        return self.session.request("POST", "video/from-spec", {"markdown": markdown, "file": file})

    def template(self, slug: str) -> Template:
        t = self.session.request("GET", f"video/templates/{slug}")
        return Template(t["slug"], t["name"], t.get("description", ""), t.get("variables", {}), t.get("spec", {}), t.get("builtIn", False))

    # -- cinematic and model-direct ------------------------------------------------------------------

    def create_cinematic(self, idea: str, duration: int = 5, aspect_ratio: str = "9:16", selfie_path: Optional[str] = None,
                         visibility: str = "private") -> Generation:
        body: dict[str, Any] = {"idea": idea, "duration": duration, "aspect_ratio": aspect_ratio, "visibility": visibility}
        if selfie_path:
            body["selfie_path"] = selfie_path
        g = self.session.request("POST", "generations", body)["generation"]
        return Generation(self.session, g["id"], g)

    def create_model_video(self, prompt: str, model_id: str, **options: Any) -> Generation:
        created = self.session.request("POST", "anime-video/create-task", {"prompt": prompt, "model_id": model_id, **options})["data"]
        return Generation(self.session, created["generation_uuid"])

    def generation(self, generation_id: str) -> Generation:
        g = Generation(self.session, generation_id)
        g.refresh()
        return g

    def credits(self) -> dict:
        return self.session.request("GET", "credits")


# -- asyncio ------------------------------------------------------------------------------------------


class AsyncTask:
    """A movie task for asyncio: the same fields as Task; refresh, wait, cancel and retry are awaited."""

    def __init__(self, task: Task) -> None:
        self._task = task

    def __getattr__(self, name: str) -> Any:
        return getattr(self._task, name)

    async def refresh(self) -> dict:
        return await asyncio.to_thread(self._task.refresh)

    async def wait(self, on_progress: Optional[OnProgress] = None, timeout: Optional[float] = None) -> "AsyncTask":
        await asyncio.to_thread(self._task.wait, on_progress, timeout)
        return self

    async def cancel(self) -> "AsyncTask":
        await asyncio.to_thread(self._task.cancel)
        return self

    async def retry(self, segment_ids: Optional[list[str]] = None, reason: Optional[str] = None) -> "AsyncTask":
        await asyncio.to_thread(self._task.retry, segment_ids, reason)
        return self

    def __repr__(self) -> str:
        return repr(self._task).replace("Task(", "AsyncTask(", 1)


class MovieFlowClient:
    """The seed's asyncio client:

        client = MovieFlowClient(url=..., anon_key=..., email=..., password=...)
        task = await client.generate_video(project_name="my-video", scenes=scenes, config={"platform": "douyin"})
        while task.status != "completed":
            await asyncio.sleep(5)
            await task.refresh()
        return task.result
    """

    def __init__(self, url: Optional[str] = None, anon_key: Optional[str] = None, *, email: Optional[str] = None,
                 password: Optional[str] = None, access_token: Optional[str] = None, api_key: Optional[str] = None,
                 session: Optional[Session] = None) -> None:
        self.api = Api(session or Session(url, anon_key, email=email, password=password, access_token=access_token, api_key=api_key))

    async def generate_video(self, project_name: Optional[str] = None, scenes: Optional[list[dict]] = None,
                             config: Optional[dict] = None, effects: Optional[dict] = None, **kwargs: Any) -> AsyncTask:
        return AsyncTask(await asyncio.to_thread(self.api.generate_video, project_name, scenes, config, effects, **kwargs))

    async def get_task(self, task_id: str) -> AsyncTask:
        return AsyncTask(await asyncio.to_thread(self.api.get_task, task_id))

    async def create_cinematic(self, idea: str, **options: Any) -> Generation:
        return await asyncio.to_thread(self.api.create_cinematic, idea, **options)

    async def create_model_video(self, prompt: str, model_id: str, **options: Any) -> Generation:
        return await asyncio.to_thread(self.api.create_model_video, prompt, model_id, **options)


# -- the high-level API ---------------------------------------------------------------------------------


class MovieFlow:
    """The seed's `MovieFlow`: blocking calls that return finished videos.

        mf = MovieFlow(url=..., anon_key=..., email=..., password=...)
        project = mf.create_project(name="product-demo", description="产品功能演示视频")
        spec = mf.video_specify(project=project, duration=60, platform="douyin")
        plan = mf.video_plan(spec)
        video = mf.video_generate(plan)          # video.url
    """

    def __init__(self, url: Optional[str] = None, anon_key: Optional[str] = None, *, email: Optional[str] = None,
                 password: Optional[str] = None, access_token: Optional[str] = None, api_key: Optional[str] = None,
                 session: Optional[Session] = None) -> None:
        self.api = Api(session or Session(url, anon_key, email=email, password=password, access_token=access_token, api_key=api_key))
        self._last: Optional[Task] = None
        self._cache_ttl: Optional[float] = None
        self._cache: dict[str, tuple[float, Video]] = {}

    def create_project(self, name: str, description: str = "") -> Project:
        return Project(name, description)

    def video_specify(self, project: Optional[Project] = None, description: Optional[str] = None, duration: int = 60,
                      platform: str = "douyin", style: str = "realistic", scenes: Optional[int] = None) -> Spec:
        """A spec drafted by Gemini from the project's (or the given) description."""
        text = description or (project.description or project.name if project else None)
        if not text:
            raise InvalidRequestError("video_specify needs a project or a description")
        spec = self.api.specify(text, duration, platform, style, scenes)
        if project:
            spec["projectName"] = project.name
        return spec

    def video_plan(self, spec: Any, optimize: Optional[str] = None, quality: Optional[str] = None) -> dict:
        """Per scene the model, price and time, and the totals; `optimize` is speed, quality or cost."""
        return self.api.plan(spec, optimize, quality)

    def video_generate(self, plan: Any, on_progress: Optional[OnProgress] = None, timeout: Optional[float] = None) -> Video:
        """Runs a plan (or a spec) and waits for the movie."""
        return self.generate(plan, on_progress=on_progress, timeout=timeout)

    def generate(self, spec: Any, on_progress: Optional[OnProgress] = None, timeout: Optional[float] = None) -> Video:
        """Makes the movie and waits: the Video, or the failure's exception
        (ContentViolationError, TaskFailedError, ...)."""
        body = spec_of(spec)
        key = json.dumps(body, sort_keys=True, ensure_ascii=False)
        if self._cache_ttl is not None:
            kept = self._cache.get(key)
            if kept and time.monotonic() - kept[0] < self._cache_ttl:
                return kept[1]
        task = self.api.generate_video(spec=body)
        self._last = task
        video = Video.of(task.wait(on_progress, timeout))
        if self._cache_ttl is not None:
            self._cache[key] = (time.monotonic(), video)
        return video

    async def generate_async(self, spec: Any, on_progress: Optional[OnProgress] = None, timeout: Optional[float] = None) -> Video:
        return await asyncio.to_thread(self.generate, spec, on_progress, timeout)

    def batch_generate(self, specs: list[Any], parallel: bool = True, on_progress: Optional[OnProgress] = None,
                       timeout: Optional[float] = None) -> list[Video]:
        """Several movies at once (all reserved together, or none): one Video per spec, in
        order, each completed or failed (see its status and error)."""
        _, tasks = self.api.batch(specs, parallel)
        videos = []
        for task in tasks:
            self._last = task
            with contextlib.suppress(Exception):
                task.wait(on_progress, timeout)
            videos.append(Video.of(task))
        return videos

    @contextlib.contextmanager
    def batch_context(self, parallel: bool = True) -> Iterator["Batch"]:
        yield Batch(self, parallel)

    def load_template(self, slug: str) -> Template:
        return self.api.template(slug)

    def generate_from_template(self, template: Union[Template, str], variables: Optional[dict] = None,
                               on_progress: Optional[OnProgress] = None, **overrides: Any) -> Video:
        slug = template.slug if isinstance(template, Template) else template
        return self.generate({"template": slug, "variables": variables or {}, **overrides}, on_progress=on_progress)

    def from_speckit(self, spec: Any) -> Spec:
        """A Spec-Kit spec (its markdown, a path to spec.md, or an object with .markdown) as a MovieFlow spec."""
        markdown, file = getattr(spec, "markdown", None), "spec.md"
        if markdown is None and isinstance(spec, (str, os.PathLike)) and os.path.isfile(spec):
            file = os.path.basename(spec)
            with open(spec, encoding="utf-8") as f:
                markdown = f.read()
        answer = self.api.from_speckit(markdown if markdown is not None else str(spec), file)
        return answer["spec"]

    def get_metrics(self, task_id: Optional[str] = None) -> Metrics:
        """The figures of a task (the last one generated by default)."""
        task = self.api.get_task(task_id) if task_id else self._last
        if task is None:
            raise InvalidRequestError("no task yet: generate one first, or give its task_id")
        task.refresh()
        return task.metrics  # type: ignore[return-value]

    def enable_cache(self, ttl: float = 3600) -> None:
        """Reuses the Video of an identical spec generated by this client within `ttl` seconds.
        (The server caches too, always: scene images 15 min, fixed-seed segments 7 days.)"""
        self._cache_ttl = ttl

    # Cinematic and model-direct videos through the same client.
    def create_video(self, idea: str, on_progress: Optional[OnProgress] = None, **options: Any) -> Generation:
        return self.api.create_cinematic(idea, **options).wait(on_progress)

    def create_model_video(self, prompt: str, model_id: str, on_progress: Optional[OnProgress] = None, **options: Any) -> Generation:
        return self.api.create_model_video(prompt, model_id, **options).wait(on_progress)


@dataclass
class Batch:
    """mf.batch_context(): collect specs with add(), run them with execute()."""

    flow: MovieFlow
    parallel: bool = True
    specs: list[Any] = field(default_factory=list)

    def add(self, spec: Any) -> None:
        self.specs.append(spec)

    def execute(self) -> list[Video]:
        return self.flow.batch_generate(self.specs, self.parallel)
