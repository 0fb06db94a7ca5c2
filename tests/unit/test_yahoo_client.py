"""The Yahoo client on recorded answers (local server, no database): yfinance's parsing runs."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pandas as pd
import pytest
from yfinance.exceptions import YFPricesMissingError, YFRateLimitError, YFTzMissingError

from ingest.retry import RetryPolicy
from ingest.yahoo.client import (
    ERROR,
    MALFORMED,
    NOT_FOUND,
    RATE_LIMITED,
    TRANSIENT,
    FetchError,
    YahooClient,
    classify,
)
from ingest.yahoo.parse import corporate_actions, daily_rows, intraday_bars
from ingest.yahoo.session import Observed, YahooSession, use_endpoint
from tests.support.yahoo_server import YahooServer


@pytest.fixture(scope="module")
def server():
    with YahooServer() as s:
        yield s


@pytest.fixture
def client(server, tmp_path_factory):
    server.clear()
    waits: list[float] = []
    with use_endpoint(server.endpoint):
        c = YahooClient(
            YahooSession(),
            retry=RetryPolicy(max_retries=3, backoff_base=0.5),
            timeout=1.0,
            sleep=waits.append,
            cache_dir=tmp_path_factory.getbasetemp() / "yfinance",
        )
        c.waits = waits
        yield c


def test_split_and_dividend_window_parses_to_rows_and_events(client):
    history = client.history("AAPL", interval="1d", start=date(2020, 8, 31), end=date(2020, 11, 7))
    assert (history.exchange_timezone, history.currency, history.attempts) == (
        "America/New_York",
        "USD",
        1,
    )
    rows = daily_rows("AAPL", history.frame)
    assert len(rows) == 49
    assert rows[0] == (
        "AAPL",
        "2020-08-31",
        "127.58000183105469",
        "131",
        "126",
        "129.0399932861328",
        "225702700",
    )
    actions = corporate_actions(
        "AAPL",
        history.frame,
        currency=history.currency,
        exchange_timezone=history.exchange_timezone,
        interval="1d",
    )
    assert [
        (a.action_type, a.ex_date, a.split_to, a.split_from, a.cash_amount, a.currency)
        for a in actions
    ] == [
        ("split", date(2020, 8, 31), 4, 1, None, None),
        ("dividend", date(2020, 11, 6), None, None, "0.205", "USD"),
    ]
    assert actions[0].details["split_ratio"] == "4:1"


def test_hourly_bars_are_utc_instants_of_the_regular_session(client):
    history = client.history(
        "AAPL", interval="1h", start=date(2025, 11, 10), end=date(2025, 11, 11)
    )
    bars = intraday_bars("AAPL", history.frame, history.exchange_timezone)
    assert [b.bar_start.strftime("%H:%M") for b in bars] == [
        "14:30",
        "15:30",
        "16:30",
        "17:30",
        "18:30",
        "19:30",
        "20:30",
    ]
    assert all(
        b.bar_start.tzinfo == UTC and b.exchange_timezone == "America/New_York" for b in bars
    )


def test_every_request_goes_through_the_limiter(server, tmp_path_factory):
    server.clear()
    calls: list[float] = []
    with use_endpoint(server.endpoint):
        client = YahooClient(
            YahooSession(limiter=lambda: calls.append(1)),
            cache_dir=tmp_path_factory.getbasetemp() / "yfinance",
        )
        client.history("MSFT", interval="1d", start=date(2021, 2, 1), end=date(2022, 1, 31))
    assert len(calls) == len(server.requests) == client.session.requests_sent > 0


def test_rate_limit_retries_wait_longer_each_time(client, server):
    server.add_fault(kind="history", symbol="MSFT", status=429)
    with pytest.raises(FetchError) as caught:
        client.history("MSFT", interval="1d", start=date(2021, 2, 1), end=date(2022, 1, 31))
    assert caught.value.kind == RATE_LIMITED and caught.value.attempts == 4
    assert len(client.waits) == 3
    assert all(0.8 * b <= w <= 1.2 * b for w, b in zip(client.waits, (0.5, 1.0, 2.0), strict=True))
    assert client.waits[0] < client.waits[1] < client.waits[2]


def test_empty_answer_is_an_empty_history(client):
    history = client.history("AAPL", interval="1m", start=date(2025, 2, 1), end=date(2025, 2, 2))
    assert history.empty and history.attempts == 1


def test_unknown_symbol_is_not_found(client):
    with pytest.raises(FetchError) as caught:
        client.history("ZZZZNOTREAL", interval="1d", start=date(2020, 1, 1), end=date(2020, 2, 1))
    assert caught.value.kind == NOT_FOUND and caught.value.attempts == 1
    assert client.waits == []


def test_quote_summary_not_found_is_yahoos_404(client):
    with pytest.raises(FetchError) as caught:
        client.quote_summary("ZZZZNOTREAL")
    assert caught.value.kind == NOT_FOUND
    assert "No fundamentals data found" in str(caught.value)


def observed(status: int | None, error: str | None = None) -> Observed:
    return Observed("https://query2.finance.yahoo.com/v8/finance/chart/X", status, None, error)


@pytest.mark.parametrize(
    "exc, seen, kind",
    [
        (YFRateLimitError(), observed(429), RATE_LIMITED),
        (ValueError("x"), observed(429), RATE_LIMITED),
        (ValueError("Expecting value"), observed(500), TRANSIENT),
        (TimeoutError(), observed(None, "Timeout: 28"), TRANSIENT),
        (YFTzMissingError("X"), observed(404), NOT_FOUND),
        (YFPricesMissingError("X", "", yahoo_reason="No data found"), observed(404), NOT_FOUND),
        (__import__("json").JSONDecodeError("bad", "{", 0), observed(200), MALFORMED),
        (KeyError("meta"), observed(200), ERROR),
    ],
)
def test_classify(exc, seen, kind):
    assert classify(exc, seen) == kind


def test_frames_with_event_only_rows_are_not_bars():
    index = pd.DatetimeIndex([datetime(2020, 11, 5), datetime(2020, 11, 6)]).tz_localize(
        "America/New_York"
    )
    frame = pd.DataFrame(
        {
            "Open": [1.0, float("nan")],
            "High": [1.0, float("nan")],
            "Low": [1.0, float("nan")],
            "Close": [1.0, float("nan")],
            "Volume": [10, 0],
            "Dividends": [0.0, 0.205],
            "Stock Splits": [0.0, 0.0],
        },
        index=index,
    )
    assert [r[1] for r in daily_rows("X", frame)] == ["2020-11-05"]
    assert [
        a.ex_date
        for a in corporate_actions(
            "X", frame, currency="USD", exchange_timezone="America/New_York", interval="1d"
        )
    ] == [date(2020, 11, 6)]
