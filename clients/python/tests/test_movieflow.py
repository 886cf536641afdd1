"""The Python client against the local stack: the seed's examples, the catalog's errors as
exceptions, cancel and retry, and the other pipelines."""

from __future__ import annotations

import asyncio
import json
import time
import urllib.request

import pytest
from conftest import ROOT, sim_knobs, sql

from movieflow import (
    ContentViolationError, InvalidRequestError, MovieFlow, MovieFlowClient, Progress, RateLimitError, Task, Template,
)

SCENES = [
    {"id": "s1", "prompt": "a paper boat on a rainy street", "duration": 5, "audio": {"text": "A small boat sets sail.", "voice": "narrator"}},
    {"id": "s2", "prompt": "the boat reaches a sunny pond", "duration": 5},
]


def seconds_of(url: str) -> float:
    """The MP4's duration, as ffprobe reads it."""
    import subprocess
    import tempfile

    with urllib.request.urlopen(url, timeout=60) as res, tempfile.NamedTemporaryFile(suffix=".mp4") as f:
        f.write(res.read())
        f.flush()
        out = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "json", f.name],
                             check=True, capture_output=True, text=True).stdout
    return float(json.loads(out)["format"]["duration"])


def test_the_seeds_async_example_polls_until_completed(new_session):
    client = MovieFlowClient(session=new_session())

    async def generate():
        task = await client.generate_video(project_name="my-video", scenes=SCENES, config={"platform": "douyin"})
        seen = []
        while task.status != "completed":
            assert task.status in ("queued", "processing", "merging"), task.state
            await asyncio.sleep(0.5)
            await task.refresh()
            seen.append(task.progress)
        return task.result, seen

    video_url, seen = asyncio.run(generate())
    assert video_url.startswith("http")
    assert seconds_of(video_url) == pytest.approx(10, abs=0.1)
    assert seen == sorted(seen)


def test_a_movie_from_a_spec_reports_progress_per_scene_and_metrics(new_session):
    mf = MovieFlow(session=new_session())
    reports: list[Progress] = []
    video = mf.generate({"projectName": "boat", "scenes": SCENES}, on_progress=reports.append)
    assert video.status == "completed" and video.url and video.duration == 10
    assert reports[-1].overall == 100 and set(reports[-1].segments) == {"s1", "s2"}
    assert f"{reports[-1]}%" == "100%"
    metrics = mf.get_metrics()
    assert metrics.total_time > 0 and metrics.api_calls >= 2 and metrics.credits["charged"] > 0


def test_the_seeds_blocking_flow_specify_plan_generate(new_session):
    mf = MovieFlow(session=new_session())
    project = mf.create_project(name="product-demo", description="a smart assistant that plans your day")
    spec = mf.video_specify(project=project, duration=10, platform="douyin")
    assert spec["projectName"] == "product-demo" and sum(s["duration"] for s in spec["scenes"]) == 10
    cheap, best = mf.video_plan(spec, optimize="cost"), mf.video_plan(spec, optimize="quality")
    assert cheap["totals"]["credits"] < best["totals"]["credits"]
    video = mf.video_generate(cheap)
    assert video.status == "completed" and seconds_of(video.url) == pytest.approx(10, abs=0.1)


def test_a_movie_from_a_template_with_variables(new_session):
    mf = MovieFlow(session=new_session())
    template = mf.load_template("product-intro")
    assert isinstance(template, Template) and "features" in template.variables
    video = mf.generate_from_template(template=template, variables={"product_name": "智能助手", "features": ["AI对话"]})
    assert video.status == "completed"
    with pytest.raises(InvalidRequestError) as missing:
        mf.generate_from_template("product-intro", variables={"features": ["AI对话"]})
    assert "product_name" in missing.value.message and missing.value.request_id


def test_a_batch_of_two(new_session):
    mf = MovieFlow(session=new_session())
    videos = mf.batch_generate(specs=[{"projectName": "a", "scenes": SCENES[:1]}, {"projectName": "b", "scenes": SCENES[1:]}], parallel=True)
    assert [v.status for v in videos] == ["completed", "completed"]
    assert len({v.task_id for v in videos}) == 2
    with mf.batch_context() as batch:
        batch.add({"projectName": "c", "scenes": SCENES[1:]})
        assert [v.status for v in batch.execute()] == ["completed"]


def test_a_content_violation_raises_content_violation_error(new_session):
    mf = MovieFlow(session=new_session())
    with pytest.raises(ContentViolationError) as caught:
        mf.generate({"projectName": "nope", "scenes": [{"id": "s1", "prompt": "a forbidden scene", "duration": 5}]})
    assert caught.value.code == "CONTENT_VIOLATION"


def test_a_rate_limit_raises_rate_limit_error_with_retry_after(new_session):
    session = new_session()
    # Without the client's own budget and its waits on 429, the API's refusal is the exception.
    session.budget, session.rate_limit_retries = None, 0
    sql("update engine.settings set api_requests_per_minute = 60, api_burst = 3")
    try:
        with pytest.raises(RateLimitError) as caught:
            for _ in range(20):
                session.request("GET", "credits")
    finally:
        sql("update engine.settings set api_requests_per_minute = 1000000, api_burst = 1000000")
    assert caught.value.status == 429 and caught.value.retry_after and caught.value.retry_after >= 1


def test_cancel_and_retry_of_a_segment(new_session):
    mf = MovieFlow(session=new_session())
    sim_knobs({"latency_ms": {"jimeng": 60_000}})
    slow = mf.api.generate_video(spec={"projectName": "slow", "scenes": SCENES[1:]})
    slow.cancel()
    assert slow.status == "canceled" and slow.state["credits"]["reserved"] == 0
    sim_knobs({})
    task = mf.api.generate_video(spec={"projectName": "again", "scenes": SCENES})
    task.wait()
    made = lambda scene: sum(1 for line in task.logs if line["message"] == f"Scene {scene} completed")  # noqa: E731
    assert (made("s1"), made("s2")) == (1, 1)
    task.retry(segment_ids=["s2"], reason="quality_check_failed")
    assert task.status in ("queued", "processing")
    task.wait()
    # Only the rejected scene was made again; the movie merged again.
    assert (made("s1"), made("s2")) == (1, 2)
    assert seconds_of(task.result) == pytest.approx(10, abs=0.1)


def test_from_speckit_reads_the_requirements(new_session):
    mf = MovieFlow(session=new_session())
    spec = mf.from_speckit(ROOT / "examples" / "spec-kit" / "001-video" / "spec.md")
    assert len(spec["scenes"]) == 6 and sum(s["duration"] for s in spec["scenes"]) == 60 and spec["config"]["resolution"] == "1080x1920"


def test_cinematic_and_model_direct_through_the_same_client(new_session):
    mf = MovieFlow(session=new_session())
    sim_knobs({"latency_ms": {"kling": 3000}})
    steps = []
    cinematic = mf.create_video("a lighthouse keeper befriends a whale", on_progress=lambda p: steps.append(p.phase))
    assert cinematic.status == "completed" and cinematic.result and "video" in steps
    kie = mf.create_model_video("a fox spirit dancing under lanterns", "sora-2")
    assert kie.status == "completed" and kie.video_url


def test_enable_cache_reuses_an_identical_spec(new_session):
    mf = MovieFlow(session=new_session())
    mf.enable_cache(ttl=3600)
    spec = {"projectName": "cached", "scenes": SCENES[1:]}
    first = mf.generate(spec)
    assert mf.generate(spec).task_id == first.task_id
    assert isinstance(mf.api.get_task(first.task_id), Task)


def test_a_429_is_waited_out_as_retry_after_says(new_session):
    session = new_session()
    session.budget = None  # the API's limit alone, so that it refuses
    sql("update engine.settings set api_requests_per_minute = 60, api_burst = 3")
    try:
        started = time.monotonic()
        answers = [session.request("GET", "credits") for _ in range(6)]
        elapsed = time.monotonic() - started
    finally:
        sql("update engine.settings set api_requests_per_minute = 1000000, api_burst = 1000000")
    # 3 at once, then one a second as Retry-After says: nothing raised.
    assert [a["balance"] for a in answers] == [10_000] * 6
    assert elapsed >= 2.0


def test_an_api_key_is_the_bearer_of_every_call():
    import http.server
    import threading

    from movieflow import Session

    seen = []

    class Recorder(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            seen.append(self.headers.get("Authorization"))
            body = json.dumps({"balance": 1, "reserved": 0, "ledger": [], "next_cursor": None}).encode()
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        session = Session(f"http://127.0.0.1:{server.server_port}", "anon", api_key="rf_live_example")
        assert session.request("GET", "credits")["balance"] == 1
        session.request("GET", "credits")
    finally:
        server.shutdown()
    assert seen == ["Bearer rf_live_example", "Bearer rf_live_example"]
