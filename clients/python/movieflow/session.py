"""A user's session with the project: sign-in through Supabase Auth (email and password), the
access token refreshed before it expires (and once more on a 401), or a server's API key; and
JSON calls to the functions within one request budget per client, waiting out Retry-After on a
429. Standard library only (urllib); thread-safe, so the asyncio API can run calls in threads."""

from __future__ import annotations

import json
import os
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, Mapping, Optional

from .errors import AuthenticationError, MovieFlowError, ServiceUnavailableError, error_for

# Refresh this long before the access token expires.
REFRESH_MARGIN_SECONDS = 60
# The hosted API allows a user 60 requests a minute in bursts of 10; a client keeps below that,
# so that its parallel waits share the user's allowance instead of running into 429s.
REQUESTS_PER_MINUTE = 50
REQUEST_BURST = 8
# A 429 is waited out (Retry-After) and the request sent again, this many times.
RATE_LIMIT_RETRIES = 3


class Budget:
    """A token bucket shared by every request of a client: each takes a token, and one that
    finds none waits until one is due (requests queue in the order they asked)."""

    def __init__(self, per_minute: float, burst: int) -> None:
        self.rate = per_minute / 60.0
        self.burst = burst
        self.tokens = float(burst)
        self.at = time.monotonic()
        self._lock = threading.Lock()

    def take(self) -> None:
        with self._lock:
            now = time.monotonic()
            self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate) - 1
            self.at = now
            delay = -self.tokens / self.rate if self.tokens < 0 else 0.0
        if delay:
            time.sleep(delay)


class Session:
    def __init__(
        self,
        url: Optional[str] = None,
        anon_key: Optional[str] = None,
        *,
        email: Optional[str] = None,
        password: Optional[str] = None,
        access_token: Optional[str] = None,
        refresh_token: Optional[str] = None,
        api_key: Optional[str] = None,
        timeout: float = 60.0,
        requests_per_minute: Optional[float] = REQUESTS_PER_MINUTE,
        rate_limit_retries: int = RATE_LIMIT_RETRIES,
    ) -> None:
        self.url = (url or os.environ.get("MOVIEFLOW_URL") or os.environ.get("SUPABASE_URL") or "").rstrip("/")
        self.anon_key = anon_key or os.environ.get("MOVIEFLOW_ANON_KEY") or os.environ.get("SUPABASE_ANON_KEY") or ""
        if not self.url or not self.anon_key:
            raise AuthenticationError("Set the project URL and anon key (MOVIEFLOW_URL / SUPABASE_URL and SUPABASE_ANON_KEY)")
        self.timeout = timeout
        self.budget = Budget(requests_per_minute, REQUEST_BURST) if requests_per_minute else None
        self.rate_limit_retries = rate_limit_retries
        self._lock = threading.Lock()
        self.access_token = access_token
        self.refresh_token = refresh_token
        self.expires_at = time.time() + 3600 if access_token else 0.0
        self.user_id: Optional[str] = None
        email = email or os.environ.get("MOVIEFLOW_EMAIL")
        password = password or os.environ.get("MOVIEFLOW_PASSWORD")
        # A server's API key is sent as the bearer token, as it is: no sign-in, nothing to refresh.
        api_key = api_key or (None if access_token or email else os.environ.get("MOVIEFLOW_API_KEY"))
        if api_key:
            access_token, self.access_token, self.expires_at = api_key, api_key, float("inf")
        if not access_token:
            if not (email and password):
                raise AuthenticationError("Sign in: give email and password (or MOVIEFLOW_EMAIL / MOVIEFLOW_PASSWORD), or an access_token")
            self.sign_in(email, password)

    # -- Auth ----------------------------------------------------------------------------------

    def sign_in(self, email: str, password: str) -> None:
        self._keep(self._auth("token?grant_type=password", {"email": email, "password": password}))

    def sign_up(self, email: str, password: str) -> None:
        self._keep(self._auth("signup", {"email": email, "password": password}))

    def refresh(self) -> None:
        with self._lock:
            if not self.refresh_token:
                raise AuthenticationError("The session expired and has no refresh token: sign in again")
            self._keep(self._auth("token?grant_type=refresh_token", {"refresh_token": self.refresh_token}))

    def _keep(self, session: Mapping[str, Any]) -> None:
        if not session.get("access_token"):
            raise AuthenticationError("Auth answered without a session (is email confirmation on?)")
        self.access_token = session["access_token"]
        self.refresh_token = session.get("refresh_token")
        self.expires_at = float(session.get("expires_at") or time.time() + float(session.get("expires_in") or 3600))
        self.user_id = (session.get("user") or {}).get("id")

    def _auth(self, path: str, body: Mapping[str, Any]) -> dict:
        status, answer, headers = self._send("POST", f"{self.url}/auth/v1/{path}", body, {"apikey": self.anon_key})
        if status >= 400:
            message = answer.get("error_description") or answer.get("msg") or answer.get("message") or f"HTTP {status}"
            raise error_for("RATE_LIMIT_EXCEEDED" if status == 429 else "UNAUTHORIZED", message, status=status)
        return answer

    # -- the functions -------------------------------------------------------------------------

    def request(self, method: str, path: str, body: Any = None, query: Optional[Mapping[str, Any]] = None) -> Any:
        """Calls /functions/v1/<path>; an error answer raises the catalog's exception."""
        if self.refresh_token and time.time() > self.expires_at - REFRESH_MARGIN_SECONDS:
            self.refresh()
        url = f"{self.url}/functions/v1/{path}"
        params = {k: ",".join(v) if isinstance(v, (list, tuple)) else v for k, v in (query or {}).items() if v is not None}
        if params:
            url += "?" + urllib.parse.urlencode(params)
        refreshed, rate_limited = False, 0
        while True:
            if self.budget:
                self.budget.take()
            status, answer, headers = self._send(method, url, body, {"apikey": self.anon_key, "Authorization": f"Bearer {self.access_token}"})
            # A token revoked or expired early: refresh once and ask again.
            if status == 401 and not refreshed and self.refresh_token:
                self.refresh()
                refreshed = True
                continue
            # Refused for the rate (nothing was done): wait as long as the API says, then again.
            if status == 429 and rate_limited < self.rate_limit_retries:
                rate_limited += 1
                time.sleep(_retry_after(headers) or 1.0)
                continue
            break
        if status >= 400:
            raise _error(status, answer, headers)
        return answer

    def _send(self, method: str, url: str, body: Any, headers: Mapping[str, str]) -> tuple[int, Any, Mapping[str, str]]:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(url, data=data, method=method, headers={**headers, **({"content-type": "application/json"} if data else {})})
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as res:
                return res.status, _json(res.read()), dict(res.headers)
        except urllib.error.HTTPError as err:
            return err.code, _json(err.read()), dict(err.headers or {})
        except (urllib.error.URLError, TimeoutError, ConnectionError) as err:
            raise ServiceUnavailableError(f"No answer from {url}: {err}") from err


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw) if raw else {}
    except ValueError:
        return {"error": {"code": "INTERNAL_ERROR", "message": raw[:200].decode(errors="replace")}}


def _retry_after(headers: Mapping[str, str]) -> Optional[float]:
    """Retry-After in seconds (the API sends seconds)."""
    value = next((v for k, v in headers.items() if k.lower() == "retry-after"), None)
    try:
        return float(value) if value else None
    except ValueError:
        return None


def _error(status: int, answer: Any, headers: Mapping[str, str]) -> MovieFlowError:
    e = answer.get("error") if isinstance(answer, dict) else None
    e = e if isinstance(e, dict) else {}
    code = e.get("code") or ("INTERNAL_ERROR" if status >= 500 else "INVALID_REQUEST")
    return error_for(
        code,
        e.get("message") or f"HTTP {status}",
        status=status,
        request_id=e.get("requestId"),
        retry_after=_retry_after(headers),
        details=e.get("details"),
    )
