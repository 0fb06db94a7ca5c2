"""The HTTP session yfinance uses for us: a throttle in front of every request, and a witness.

yfinance accepts a caller's curl_cffi (or requests) `Session` (`yf.Ticker(symbol, session=...)`,
`YfData(session=...)`) and sends every call through it: the cookie (fc.yahoo.com), the crumb
(`/v1/test/getcrumb`), the consent pages, the chart and quoteSummary APIs, and its own retries.
`YahooSession` is a curl_cffi `Session` (browser impersonation kept, as yfinance's default) that

1. calls its `limiter` before each request - in the flows a Prefect global-concurrency
   `rate_limit` - so every request yfinance makes, cookie/crumb calls and retries included,
   spends the requests-per-minute budget; and refuses every request at once when its run's
   `breaker` has seen Yahoo stop answering (a few consecutive requests without any answer:
   ingest.units), so an unreachable Yahoo stops the run in seconds;
2. keeps the last answer of a data API (`last_data`: status and Yahoo's own error text), because
   yfinance turns a 5xx, a 404 and an empty answer into look-alike exceptions and the client must
   tell them apart (retry, fail, or land nothing);
3. can send everything to another endpoint (`use_endpoint`): `https://<host>/<path>?<query>`
   becomes `<endpoint>/<host>/<path>?<query>`, where a `{host}` in the endpoint is replaced by
   the Yahoo host (`http://{host}.localhost:8080` keeps one cookie domain per Yahoo host, as
   yfinance expects when it stores and reuses Yahoo's cookie). This is the **test seam**: the
   tests point it at a local HTTP server (tests/support/yahoo_server.py) that replays recorded
   Yahoo responses, so yfinance's own request, cookie/crumb, retry and parsing code runs unchanged
   on real bodies. Nothing else changes: same session class, same yfinance calls, only the
   destination is swapped.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from curl_cffi import requests as curl_requests

from ingest.units import Breaker

_endpoint: str | None = None


def current_endpoint() -> str | None:
    """Where requests go instead of Yahoo (None: to Yahoo itself)."""
    return _endpoint


@contextmanager
def use_endpoint(endpoint: str | None) -> Iterator[None]:
    """Send every YahooSession created inside the block to `endpoint` (e.g. a local server)."""
    global _endpoint
    saved, _endpoint = _endpoint, (endpoint.rstrip("/") if endpoint else None)
    try:
        yield
    finally:
        _endpoint = saved


@dataclass(frozen=True)
class Observed:
    """The last answer of a Yahoo data API (chart, quoteSummary, quote)."""

    url: str
    status: int | None  # None: no answer (timeout, connection error)
    reason: str | None  # Yahoo's error description, or the start of a non-JSON error body
    error: str | None = None  # the exception when there was no answer


def yahoo_reason(body: bytes | str | None) -> str | None:
    """Yahoo's error description from an error body (`{"chart": {"error": {...}}}` and kin)."""
    if not body:
        return None
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    try:
        data = json.loads(text)
    except ValueError:
        return " ".join(text.split())[:200] or None
    if isinstance(data, dict):
        for value in data.values():
            error = value.get("error") if isinstance(value, dict) else None
            if isinstance(error, dict):
                return str(error.get("description") or error.get("code") or error)
    return None


def _is_data_api(url: str) -> bool:
    parts = urlsplit(url)
    return "/finance/" in parts.path and not parts.path.endswith("/getcrumb")


class YahooSession(curl_requests.Session):
    """curl_cffi session for yfinance with a limiter, an observer and an optional endpoint."""

    def __init__(
        self,
        *,
        limiter: Callable[[], None] | None = None,
        endpoint: str | None = None,
        breaker: Breaker | None = None,
        **kwargs: object,
    ) -> None:
        kwargs.setdefault("impersonate", "chrome")
        super().__init__(**kwargs)
        self.limiter = limiter
        self.breaker = breaker or Breaker("Yahoo")
        self.endpoint = endpoint if endpoint is not None else current_endpoint()
        self.requests_sent = 0
        self.last_data: Observed | None = None
        self.first_failure: Observed | None = None  # since forget(): the root cause, usually

    def route(self, url: str) -> str:
        """The URL actually requested: unchanged, or moved under the endpoint."""
        if not self.endpoint:
            return url
        parts = urlsplit(url)
        base = urlsplit(self.endpoint.replace("{host}", parts.hostname or ""))
        path = f"{base.path.rstrip('/')}/{parts.hostname}{parts.path}"
        return urlunsplit((base.scheme, base.netloc, path, parts.query, ""))

    def forget(self) -> None:
        """Clear the observations before a new fetch."""
        self.last_data = None
        self.first_failure = None

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        self.breaker.check()  # the run stopped: Yahoo does not answer
        if self.limiter is not None:
            self.limiter()
        self.requests_sent += 1
        data_api = _is_data_api(url)
        try:
            response = super().request(method, self.route(url), *args, **kwargs)
        except Exception as exc:
            problem = f"{type(exc).__name__}: {exc}"
            self.breaker.no_answer(urlsplit(url).hostname or "Yahoo", problem)
            if data_api:
                self._observe(Observed(url, None, None, problem))
            raise
        self.breaker.answered()
        if data_api:
            reason = yahoo_reason(response.content) if response.status_code >= 400 else None
            self._observe(Observed(url, response.status_code, reason))
        return response

    def _observe(self, observed: Observed) -> None:
        self.last_data = observed
        failed = observed.status is None or observed.status >= 400
        if failed and self.first_failure is None:
            self.first_failure = observed
