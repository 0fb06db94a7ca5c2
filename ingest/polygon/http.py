"""Every HTTP request to Polygon: through the request budget, retried, with typed, scrubbed errors.

polygon-api-client sends each request (pagination's `next_url` pages included) through one
urllib3 `PoolManager.request`. `BudgetedPool` stands in for that pool: before *every* attempt it
waits on the limiter (so retries and pages count against the budget), it disables urllib3's own
retries (they would bypass the budget) and passes the timeouts the client forgets to pass, and it
retries 429 and 5xx with backoff that honours `Retry-After`. Non-200 answers become
`PolygonHTTPError`; bodies that are not JSON become `MalformedResponse` (the client would
otherwise log and return an empty list). No message ever contains the API key.
"""

from __future__ import annotations

import json
import logging
import socket
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from email.utils import parsedate_to_datetime
from urllib.parse import urlencode, urlsplit

import urllib3

from ingest import retry
from ingest.ratelimit import Limiter
from ingest.redact import scrub
from ingest.retry import Retry, RetryPolicy
from ingest.units import Breaker, Unreachable

log = logging.getLogger(__name__)


class PolygonError(Exception):
    """Polygon could not give us a usable answer. Deliberately not a ValueError: the client
    swallows ValueErrors while decoding."""


class PolygonHTTPError(PolygonError):
    def __init__(self, message: str, status: int):
        super().__init__(message)
        self.status = status


class PolygonUnavailable(PolygonError, Unreachable):
    """No HTTP answer at all (timeouts, refused or dropped connections) after the retries."""


class MalformedResponse(PolygonError):
    """A 200 answer whose body is not JSON."""


DEFAULT_POLICY = RetryPolicy()


def retryable(status: int) -> bool:
    return status == 429 or 500 <= status <= 599


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait per a `Retry-After` header (delta-seconds or an HTTP date); None if absent
    or unreadable."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def retry_delay(policy: RetryPolicy, attempt: int, retry_after: float | None) -> float:
    return policy.delay(attempt, retry_after)


def _unresolvable(exc: BaseException) -> bool:
    """The host name does not resolve (DNS): retrying will not help, so fail fast."""
    seen: object = exc
    for _ in range(10):  # the chain of causes (urllib3 wraps its errors in `reason`)
        if isinstance(seen, urllib3.exceptions.NameResolutionError | socket.gaierror):
            return True
        if not isinstance(seen, BaseException):
            return False
        seen = getattr(seen, "reason", None) or seen.__cause__ or seen.__context__
    return False


def display_url(url: str, fields: Mapping[str, object] | None = None) -> str:
    """Path and query of a request (the host is the configured base)."""
    parts = urlsplit(url)
    query = "&".join(q for q in (parts.query, urlencode(fields or {})) if q)
    return parts.path + (f"?{query}" if query else "")


class StrictJSON:
    """The `custom_json` given to RESTClient: numbers as Decimal (exactly as sent), and a body
    that is not JSON raises instead of becoming an empty result."""

    @staticmethod
    def loads(text: str | bytes) -> object:
        try:
            return json.loads(text, parse_float=Decimal)
        except ValueError as exc:
            detail = exc.msg if isinstance(exc, json.JSONDecodeError) else type(exc).__name__
            raise MalformedResponse(f"Polygon sent a body that is not JSON ({detail})") from None


class BudgetedPool:
    """Replaces `RESTClient.client` (a urllib3 PoolManager): budget, timeouts, retries, errors."""

    def __init__(
        self,
        pool: urllib3.PoolManager,
        limiter: Limiter,
        policy: RetryPolicy = DEFAULT_POLICY,
        *,
        secrets: Iterable[str | None] = (),
        sleep: Callable[[float], None] = time.sleep,
        logger: logging.Logger | logging.LoggerAdapter = log,
        breaker: Breaker | None = None,
    ):
        self._pool = pool
        self._breaker = breaker or Breaker("Polygon")
        self._limiter = limiter
        self._policy = policy
        self._secrets = tuple(s for s in secrets if s)
        self._sleep = sleep
        self._log = logger
        self._timeout = urllib3.Timeout(connect=policy.connect_timeout, read=policy.read_timeout)
        self.attempts = 0  # HTTP requests sent through this pool (for reporting)

    def _scrub(self, text: str) -> str:
        return scrub(text, self._secrets)

    def request(
        self,
        method: str,
        url: str,
        fields: Mapping[str, object] | None = None,
        headers: Mapping[str, str] | None = None,
        **_ignored: object,
    ) -> urllib3.BaseHTTPResponse:
        target = self._scrub(display_url(url, fields))

        def attempt(number: int) -> urllib3.BaseHTTPResponse:
            self._breaker.check()  # the run stopped: Polygon does not answer
            self._limiter()
            self.attempts += 1
            try:
                resp = self._pool.request(
                    method,
                    url,
                    fields=fields,
                    headers=headers,
                    timeout=self._timeout,
                    retries=False,
                )
            except urllib3.exceptions.HTTPError as exc:
                problem = self._scrub(f"{type(exc).__name__}: {exc}")
                self._breaker.no_answer(urlsplit(url).hostname or "Polygon", problem)
                if _unresolvable(exc):
                    raise PolygonUnavailable(
                        f"cannot resolve Polygon's host for GET {target}: {problem}"
                    ) from None
                self._breaker.check()
                raise Retry(problem, attempts=number) from None
            self._breaker.answered()
            if resp.status == 200:
                return resp
            body = resp.data.decode("utf-8", "replace").strip()
            problem = f"HTTP {resp.status}: {body[:300]}"
            if not retryable(resp.status):
                raise PolygonHTTPError(
                    self._scrub(
                        f"Polygon answered GET {target} with {problem} (after {number} attempt(s))"
                    ),
                    resp.status,
                )
            raise Retry(
                problem,
                retry_after=retry_after_seconds(resp.headers.get("Retry-After")),
                status=resp.status,
                attempts=number,
            )

        def on_retry(failure: Retry, number: int, wait: float) -> None:
            self._log.warning(
                "%s",
                self._scrub(
                    f"GET {target}: {failure.problem[:200]}; "
                    f"retry {number}/{self._policy.max_retries} in {wait:.1f}s"
                ),
            )

        try:
            return retry.run(self._policy, attempt, on_retry=on_retry, sleep=self._sleep)
        except Retry as spent:
            tries = spent.details["attempts"]
            if "status" in spent.details:
                raise PolygonHTTPError(
                    self._scrub(
                        f"Polygon answered GET {target} with {spent.problem} "
                        f"(after {tries} attempt(s))"
                    ),
                    int(spent.details["status"]),
                ) from None
            self._breaker.gave_up(urlsplit(url).hostname or "Polygon", spent.problem)
            raise PolygonUnavailable(
                self._scrub(
                    f"no answer from Polygon for GET {target} after {tries} attempt(s): "
                    f"{spent.problem}"
                )
            ) from None
