"""The one helper for the stack's Prefect REST API (urllib: `mdw status` and the supervisor
should not pay for importing prefect).

Every request carries the stack's API credentials (HTTP Basic with the auth string in
`$MDW_HOME/prefect-auth`, the header Prefect's own client sends) and, for a change (POST, PUT,
PATCH, DELETE), a CSRF token fetched once per process from `/csrf-token`, as Prefect's client
does when the server's CSRF protection is on.
"""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.parse
import urllib.request
import uuid
from typing import Any

from lib.environment import read_prefect_auth
from settings import Settings

CHANGES = {"POST", "PUT", "PATCH", "DELETE"}
_CLIENT_ID = str(uuid.uuid4())
_csrf_tokens: dict[str, str | None] = {}  # API URL -> token (None: the server has no CSRF)


class ApiUnavailable(RuntimeError):
    """The API did not answer, or answered 5xx (down, starting, or lost its database)."""


class ApiError(RuntimeError):
    """The API refused the request (a 4xx status)."""

    def __init__(self, status: int, method: str, path: str, detail: str) -> None:
        super().__init__(f"Prefect API {method} {path}: HTTP {status} {detail[:300]}")
        self.status = status


def _send(
    settings: Settings, method: str, path: str, body: object, timeout: float, anonymous: bool
) -> Any:
    headers = {"Content-Type": "application/json"}
    auth = None if anonymous else read_prefect_auth(settings)
    if auth:
        headers["Authorization"] = "Basic " + base64.b64encode(auth.encode()).decode()
    if method in CHANGES and not anonymous:
        token = _csrf_token(settings, timeout)
        if token:
            headers |= {"Prefect-Csrf-Token": token, "Prefect-Csrf-Client": _CLIENT_ID}
    req = urllib.request.Request(
        f"{settings.prefect_api_url}{path}",
        data=None if body is None else json.dumps(body).encode(),
        headers=headers,
        method=method,
    )
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310 - loopback only
            raw = resp.read()
    except urllib.error.HTTPError as exc:
        detail = exc.read().decode(errors="replace")
        if exc.code >= 500:  # e.g. 503 while the server has lost its database
            raise ApiUnavailable(f"Prefect API {method} {path}: HTTP {exc.code}") from None
        raise ApiError(exc.code, method, path, detail) from None
    except (urllib.error.URLError, OSError) as exc:  # refused, reset, timed out
        raise ApiUnavailable(f"Prefect API {settings.prefect_api_url}: {exc}") from None
    try:
        return json.loads(raw) if raw else None
    except ValueError as exc:  # a half-started server answering HTML or nothing useful
        raise ApiUnavailable(f"Prefect API {method} {path}: not JSON ({exc})") from None


def _csrf_token(settings: Settings, timeout: float) -> str | None:
    url = settings.prefect_api_url
    if url not in _csrf_tokens:
        query = urllib.parse.urlencode({"client": _CLIENT_ID})
        try:
            answer = _send(settings, "GET", f"/csrf-token?{query}", None, timeout, False)
            _csrf_tokens[url] = answer["token"]
        except ApiError as exc:
            if exc.status != 422:  # 422: "CSRF protection is disabled" on this server
                raise
            _csrf_tokens[url] = None
    return _csrf_tokens[url]


def api(
    settings: Settings,
    method: str,
    path: str,
    body: object = None,
    *,
    timeout: float = 10.0,
    missing_ok: bool = False,
    anonymous: bool = False,
) -> Any:
    """`method path` on the stack's Prefect API; the decoded JSON answer.

    Raises ApiUnavailable when the server does not answer, ApiError for an error status (None
    instead for a 404 with `missing_ok`). A rejected CSRF token (expired, or the server was
    restarted) is fetched again once. `anonymous`: without credentials or CSRF token (probes).
    """
    try:
        return _send(settings, method, path, body, timeout, anonymous)
    except ApiError as exc:
        if exc.status == 404 and missing_ok:
            return None
        if exc.status != 403 or method not in CHANGES or anonymous:
            raise
    _csrf_tokens.pop(settings.prefect_api_url, None)
    return _send(settings, method, path, body, timeout, anonymous)


def api_or(default: Any, settings: Settings, method: str, path: str, body: object = None) -> Any:
    """`api(...)`, or `default` while the server does not answer (status displays)."""
    try:
        return api(settings, method, path, body, timeout=5.0)
    except ApiUnavailable:
        return default
