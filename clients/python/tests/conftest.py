"""The local stack for the Python client's tests: its env (.stack/env, written by
`npm run stack -- start`), new users with credits, and the simulators' knobs."""

from __future__ import annotations

import http.client
import json
import pathlib
import re
import subprocess
import sys
import urllib.parse
import urllib.request
import uuid

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "clients" / "python"))

from movieflow import Session  # noqa: E402

ENV = dict(line.split("=", 1) for line in (ROOT / ".stack" / "env").read_text().strip().splitlines())


def sql(statement: str) -> str:
    return subprocess.run(["psql", ENV["DB_URL"], "-qtAc", statement], check=True, capture_output=True, text=True).stdout.strip()


def post(url: str, body: dict | None = None) -> None:
    data = None if body is None else json.dumps(body).encode()
    with urllib.request.urlopen(urllib.request.Request(url, data=data, method="POST"), timeout=30) as res:
        res.read()


def sim_knobs(knobs: dict) -> None:
    """Back to the simulators' defaults (fast, generous limits), then `knobs` on top."""
    post(f"{ENV['NOVITA_SIM_URL']}/_sim/reset")
    post(f"{ENV['NOVITA_SIM_URL']}/_sim/knobs", {"latency_ms": {"gemini": 0, "seedream": 0, "merge_face": 0, "kling": 300, "kie": 300,
                                                                "jimeng": 600, "tts": 100, "gemini_image": 100},
                                                 "limits_scale": 1000, **knobs})


@pytest.fixture(autouse=True, scope="session")
def hosted_settings_afterwards():
    """Puts the hosted numbers back after the run (as vitest's teardown does)."""
    yield
    sql("update engine.settings set api_requests_per_minute = 60, api_burst = 10, welcome_credits = 500")


@pytest.fixture(autouse=True)
def fast_simulators():
    sim_knobs({})
    # The suite's users make more requests than the hosted 60 a minute (the rate-limit test sets its own).
    sql("update engine.settings set api_requests_per_minute = 1000000, api_burst = 1000000, welcome_credits = 0")
    yield


def confirm_by_mail(email: str) -> None:
    """Follows the confirmation link Auth mailed to `email` (the stack's Mailpit API)."""
    query = urllib.parse.quote(f'to:"{email}"')
    with urllib.request.urlopen(f"{ENV['MAILPIT_URL']}/api/v1/search?query={query}&limit=1", timeout=30) as res:
        message_id = json.loads(res.read())["messages"][0]["ID"]
    with urllib.request.urlopen(f"{ENV['MAILPIT_URL']}/api/v1/message/{message_id}", timeout=30) as res:
        link = re.search(r"https?://\S+/auth/v1/verify\?\S+", json.loads(res.read())["Text"]).group(0)
    url = urllib.parse.urlsplit(link)
    conn = http.client.HTTPConnection(url.netloc, timeout=30)
    conn.request("GET", f"{url.path}?{url.query}")  # confirms; the redirect to the site is not followed
    assert "access_token=" in (conn.getresponse().getheader("location") or "")
    conn.close()


@pytest.fixture
def new_session():
    """Signs up a user with `credits` MC and signs in as they would: email and password."""

    def make(credits: int = 10_000) -> Session:
        email, password = f"py-{uuid.uuid4()}@test.local", "correct-horse-battery"
        post_json = json.dumps({"email": email, "password": password}).encode()
        req = urllib.request.Request(f"{ENV['API_URL']}/auth/v1/signup", data=post_json, method="POST",
                                     headers={"apikey": ENV["ANON_KEY"], "content-type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as res:
            user_id = json.loads(res.read())["id"]  # confirmations on: the user, no session
        confirm_by_mail(email)
        if credits:
            sql(f"select public.grant_credits('{user_id}', {credits})")
        return Session(ENV["API_URL"], ENV["ANON_KEY"], email=email, password=password)

    return make
