"""Fetching from Yahoo through yfinance: retries with backoff, and errors sorted by kind.

Everything goes through yfinance's own code on a `YahooSession` (see session.py): price history
through `Ticker.history` (its chart request, timezone lookup, cookie/crumb handling and parsing),
company data through `YfData.get_raw_json` on the quoteSummary API - the call yfinance's own
scrapers use - so the payload lands as Yahoo sent it.

yfinance has no public call that returns quoteSummary modules as Yahoo sent them (`Ticker.info`
merges five modules into one flat dict, `Ticker.get_*` reshape them into frames), so the client
uses `yfinance.data.YfData` - yfinance's request layer, which handles Yahoo's cookie and crumb,
documented nowhere and not in yfinance's `__all__` - and clears its `cache_get` cache. Both are
relied on at yfinance 1.7.0, the version pyproject.toml pins; the URL is Yahoo's own
(`QUOTE_SUMMARY_URL`), not a yfinance constant.

yfinance is set to raise instead of logging (`config.debug.hide_exceptions = False`), and its
in-process response cache is cleared before each attempt (it would replay a cached 5xx to a
retry). Each failure is sorted by `classify`:

- `rate_limited` (YFRateLimitError, HTTP 429) and `transient` (HTTP 5xx, timeouts, connection
  errors): retried up to `max_retries` times by ingest.retry (the one retry mechanism of both
  vendors: backoff_base * 2**n seconds, capped, with jitter) - on top of the request budget the
  session's limiter enforces;
- `unreachable` (the host name does not resolve: DNS; fails fast), `not_found` (HTTP 404,
  Yahoo's "symbol may be delisted", no timezone), `malformed` (a body that is not the JSON it
  should be) and `error` (anything else): not retried.

A chart answer with no bars (a window without trading) is not an error: `History.empty`.
"""

from __future__ import annotations

import json
import logging
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit

import pandas as pd

from ingest import retry
from ingest.retry import Retry, RetryPolicy
from ingest.units import Unreachable
from ingest.yahoo.parse import DATASET_MODULES
from ingest.yahoo.session import Observed, YahooSession

log = logging.getLogger(__name__)

RATE_LIMITED = "rate_limited"
TRANSIENT = "transient"
NOT_FOUND = "not_found"
MALFORMED = "malformed"
ERROR = "error"
UNREACHABLE = "unreachable"
RETRYABLE = frozenset({RATE_LIMITED, TRANSIENT})

# quoteSummary modules behind the company datasets (ingest.yahoo.parse.DATASET_MODULES), once
# each, in one request
COMPANY_MODULES = tuple(dict.fromkeys(m for ms in DATASET_MODULES.values() for m in ms))

T = TypeVar("T")


class FetchError(Exception):
    """A fetch that did not succeed, after the retries its kind allows."""

    def __init__(self, kind: str, message: str, attempts: int) -> None:
        super().__init__(message)
        self.kind = kind
        self.attempts = attempts

    def __str__(self) -> str:
        tries = f" after {self.attempts} attempts" if self.attempts > 1 else ""
        return f"{self.kind}{tries}: {self.args[0]}"


QUOTE_SUMMARY_URL = "https://query2.finance.yahoo.com/v10/finance/quoteSummary"
DEFAULT_POLICY = RetryPolicy(max_retries=4, backoff_base=2.0, backoff_cap=60.0, jitter=0.2)
UNRESOLVABLE = ("could not resolve host", "name or service not known", "nodename nor servname")


@dataclass(frozen=True)
class History:
    """A price history as yfinance parsed it (unadjusted, actions included)."""

    symbol: str
    interval: str
    frame: pd.DataFrame
    exchange_timezone: str | None
    currency: str | None
    attempts: int

    @property
    def empty(self) -> bool:
        return self.frame.empty


@dataclass(frozen=True)
class QuoteSummary:
    symbol: str
    modules: dict[str, object]
    attempts: int


def _is_network_error(exc: BaseException) -> bool:
    from curl_cffi.requests import exceptions as curl_exc

    if isinstance(exc, curl_exc.HTTPError):
        return False
    if isinstance(
        exc, TimeoutError | ConnectionError | curl_exc.Timeout | curl_exc.ConnectionError
    ):
        return True
    return type(exc).__name__ in {
        "Timeout",
        "ConnectTimeout",
        "ReadTimeout",
        "ConnectionError",
        "ChunkedEncodingError",
        "RemoteDisconnected",
    }


def classify(exc: BaseException, observed: Observed | None) -> str:
    """The kind of a failed fetch, from the exception and the last answer the session saw."""
    from yfinance.exceptions import YFRateLimitError, YFTickerMissingError

    if isinstance(exc, Unreachable):
        return UNREACHABLE  # the run's breaker: Yahoo stopped answering
    status = observed.status if observed else None
    failure = " ".join(str(e) for e in (exc, observed.error if observed else None) if e).lower()
    if any(marker in failure for marker in UNRESOLVABLE):
        return UNREACHABLE  # DNS: the host does not resolve; a retry will not change that
    if isinstance(exc, YFRateLimitError) or status == 429:
        return RATE_LIMITED
    if status is not None and status >= 500:
        return TRANSIENT
    if observed is not None and status is None and observed.error:
        return TRANSIENT
    if _is_network_error(exc):
        return TRANSIENT
    if status == 404 or isinstance(exc, YFTickerMissingError | NoResult):
        return NOT_FOUND
    if isinstance(exc, json.JSONDecodeError | UnicodeDecodeError | MalformedAnswer):
        return MALFORMED
    return ERROR


def describe(exc: BaseException, observed: Observed | None) -> str:
    """The exception, and Yahoo's first error answer of the attempt (the usual root cause)."""
    text = f"{type(exc).__name__}: {exc}".strip()
    if observed is not None and observed.status and observed.status >= 400:
        path = urlsplit(observed.url).path
        answer = f"Yahoo answered HTTP {observed.status} to {path}"
        if observed.reason and observed.reason not in text:
            answer += f": {observed.reason}"
        text = f"{text} ({answer})"
    return " ".join(text.split())[:1000]


_cache_dir_set: str | None = None


def configure_yfinance(cache_dir: Path | None = None) -> None:
    """Raise instead of log, no yfinance-level retries (ours decide); caches under cache_dir.

    yfinance keeps a timezone-per-symbol and a cookie cache on disk (default: the user cache
    folder); the flows put it under $MDW_HOME/yfinance. The location is set once per process.
    """
    global _cache_dir_set
    import yfinance as yf

    yf.config.debug.hide_exceptions = False
    yf.config.network.retries = 0
    if cache_dir is not None and _cache_dir_set is None:
        Path(cache_dir).mkdir(parents=True, exist_ok=True)
        yf.set_tz_cache_location(str(cache_dir))
        _cache_dir_set = str(cache_dir)


class YahooClient:
    """Yahoo through yfinance on one session, with retries per the policy."""

    def __init__(
        self,
        session: YahooSession,
        *,
        retry: RetryPolicy | None = None,
        timeout: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
        cache_dir: Path | None = None,
    ) -> None:
        configure_yfinance(cache_dir)
        self.session = session
        self.retry = retry or DEFAULT_POLICY
        self.timeout = timeout
        self._sleep = sleep

    def _attempts(self, what: str, call: Callable[[], T]) -> tuple[T, int]:
        from yfinance.data import YfData

        def attempt(number: int) -> tuple[T, int]:
            YfData.cache_get.cache_clear()
            self.session.forget()
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")  # pandas deprecations inside yfinance
                    return call(), number
            except Exception as exc:  # noqa: BLE001 - every failure is sorted, none escapes raw
                kind = classify(exc, self.session.last_data)
                cause = self.session.first_failure or self.session.last_data
                failure = FetchError(kind, describe(exc, cause), number)
                if kind in RETRYABLE:
                    raise Retry(describe(exc, cause), kind=kind, error=failure) from exc
                raise failure from exc

        def on_retry(failure: Retry, number: int, wait: float) -> None:
            log.warning(
                "%s: %s (%s); retry %d/%d in %.1fs",
                what,
                failure.details["kind"],
                failure.problem,
                number,
                self.retry.max_retries,
                wait,
            )

        try:
            return retry.run(self.retry, attempt, on_retry=on_retry, sleep=self._sleep)
        except Retry as spent:
            error = spent.details["error"]
            seen = self.session.last_data
            if spent.details["kind"] == TRANSIENT and (seen is None or seen.status is None):
                host = urlsplit(seen.url).hostname if seen is not None else None
                self.session.breaker.gave_up(host or "Yahoo", str(error.args[0]))
            raise error from error.__cause__

    def history(
        self,
        symbol: str,
        *,
        interval: str,
        start: date | None,
        end: date | None = None,
        prepost: bool = False,
    ) -> History:
        """Bars for [start, end) (end None: up to now), unadjusted, with splits and dividends.

        `keepna=True`: a bar Yahoo sent with null prices comes back as NaN (and is quarantined
        by the landing checks) instead of being dropped by yfinance.
        """
        import yfinance as yf
        from yfinance.exceptions import YFPricesMissingError

        def fetch() -> History:
            ticker = yf.Ticker(symbol, session=self.session)
            try:
                frame = ticker.history(
                    start=start,
                    end=end,
                    interval=interval,
                    prepost=prepost,
                    actions=True,
                    auto_adjust=False,
                    back_adjust=False,
                    repair=False,
                    keepna=True,
                    rounding=False,
                    timeout=self.timeout,
                )
            except YFPricesMissingError as exc:
                observed = self.session.last_data
                if exc.yahoo_reason is None and observed is not None and observed.status == 200:
                    return History(symbol, interval, pd.DataFrame(), None, None, 0)
                raise
            meta = ticker.get_history_metadata()
            timezone = meta.get("exchangeTimezoneName") or (
                str(frame.index.tz) if getattr(frame.index, "tz", None) is not None else None
            )
            return History(symbol, interval, frame, timezone, meta.get("currency"), 0)

        history, attempts = self._attempts(f"{symbol} {interval}", fetch)
        return History(
            history.symbol,
            history.interval,
            history.frame,
            history.exchange_timezone,
            history.currency,
            attempts,
        )

    def quote_summary(self, symbol: str, modules: Sequence[str] = COMPANY_MODULES) -> QuoteSummary:
        """The quoteSummary modules Yahoo has for the symbol, as Yahoo sent them."""
        from yfinance.config import YfConfig
        from yfinance.data import YfData  # not public: see the module docstring

        url = f"{QUOTE_SUMMARY_URL}/{symbol}"
        params = {
            "modules": ",".join(modules),
            "corsDomain": "finance.yahoo.com",
            "formatted": "false",
            "symbol": symbol,
            "lang": YfConfig.locale.lang or "en-US",
            "region": YfConfig.locale.region or "US",
        }

        def fetch() -> dict[str, object]:
            body = YfData(session=self.session).get_raw_json(
                url, params=params, timeout=self.timeout
            )
            return quote_summary_modules(body)

        found, attempts = self._attempts(f"{symbol} quoteSummary", fetch)
        return QuoteSummary(symbol, found, attempts)


class NoResult(Exception):
    """Yahoo answered without error status, but with no result for the symbol."""


class MalformedAnswer(ValueError):
    """The body is JSON, but not of the shape Yahoo's API documents."""


def quote_summary_modules(body: object) -> dict[str, object]:
    """The module -> payload mapping of a quoteSummary answer (pure)."""
    if not isinstance(body, Mapping) or not isinstance(body.get("quoteSummary"), Mapping):
        raise MalformedAnswer("no quoteSummary object in the answer")
    summary = body["quoteSummary"]
    result = summary.get("result")
    if not result:
        error = summary.get("error")
        raise NoResult(f"no quoteSummary result: {error or 'empty'}")
    if not isinstance(result, list) or not isinstance(result[0], Mapping):
        raise MalformedAnswer("quoteSummary.result is not a list of objects")
    return dict(result[0])
