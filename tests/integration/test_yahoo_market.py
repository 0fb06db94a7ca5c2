"""Yahoo market data end to end: yfinance on recorded Yahoo answers -> real PostgreSQL.

The answers come from tests/support/yahoo_server.py (recorded responses replayed by a local HTTP
server); yfinance's request, retry and parsing code runs unchanged (see ingest/yahoo/session.py).
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from ingest.db import migrate, transaction
from ingest.retry import RetryPolicy
from ingest.yahoo.client import YahooClient
from ingest.yahoo.market import Window, land_market_data
from ingest.yahoo.session import YahooSession, use_endpoint
from tests.support.yahoo_server import RECORDINGS, YahooServer

pytestmark = pytest.mark.integration

AAPL_SPLIT_WINDOW = Window(date(2020, 8, 31), date(2020, 11, 7))
MSFT_WINDOW = Window(date(2021, 2, 1), date(2022, 1, 31))
AAPL_HOURS = Window(date(2025, 11, 10), date(2025, 11, 15))


@pytest.fixture(scope="module")
def server():
    with YahooServer() as s:
        yield s


@pytest.fixture
def yahoo(server, tmp_path_factory):
    server.clear()
    with use_endpoint(server.endpoint):
        yield server


@pytest.fixture
def db(warehouse_url):
    migrate(warehouse_url)
    return warehouse_url


def make_client(tmp_path_factory, max_retries: int = 2, timeout: float = 1.0) -> YahooClient:
    return YahooClient(
        YahooSession(),
        retry=RetryPolicy(max_retries=max_retries, backoff_base=0.01),
        timeout=timeout,
        cache_dir=tmp_path_factory.getbasetemp() / "yfinance",
    )


def rows(url, sql, *args):
    with transaction(url) as cur:
        cur.execute(sql, args)
        return cur.fetchall()


def land(url, client, symbol, window, interval="1d", include_daily=True):
    (outcome,) = land_market_data(
        url,
        client,
        [symbol],
        interval=interval,
        window=window,
        include_daily=include_daily,
        load_run_id=uuid.uuid4(),
    )
    return outcome


SNAPSHOT = {
    "daily": "select * from raw.daily_bars order by symbol, trade_date",
    "intraday": "select * from raw.intraday_bars order by symbol, bar_start",
    "actions": "select * from raw.corporate_actions order by symbol, action_type, ex_date",
    "rejected_bars": "select * from raw.rejected_bars order by rejected_id",
    "rejected_records": "select * from raw.rejected_records order by rejected_id",
}


def snapshot(url):
    return {name: rows(url, sql) for name, sql in SNAPSHOT.items()}


def load_runs(url, symbol):
    return rows(
        url,
        """select status, rows_received, rows_inserted, rows_updated, rows_unchanged,
                               rows_rejected, error from raw.load_runs
                        where symbol = %s order by started_at""",
        symbol,
    )


def test_aapl_split_window_lands_unadjusted_bars_and_events_and_rerun_changes_nothing(
    yahoo, db, tmp_path_factory
):
    client = make_client(tmp_path_factory)
    first = land(db, client, "AAPL", AAPL_SPLIT_WINDOW)
    assert first.status == "success", first
    assert (
        first.part("daily_bars").received,
        first.part("daily_bars").inserted,
        first.part("daily_bars").rejected,
    ) == (49, 49, 0)
    assert (first.part("corporate_actions").received, first.part("corporate_actions").inserted) == (
        2,
        2,
    )

    # the bars are the recorded numbers, exactly (no dividend adjustment applied)
    recorded = json.loads(
        (RECORDINGS / "chart/chart-AAPL-2020-08-31-to-2020-11-07.json").read_text()
    )["response"]["bodyJson"]["chart"]["result"][0]
    quote = recorded["indicators"]["quote"][0]
    landed = rows(
        db,
        """select trade_date, open, high, low, close, volume from raw.daily_bars
                         where source = 'yahoo' and symbol = 'AAPL' order by trade_date""",
    )
    assert len(landed) == len(recorded["timestamp"]) == 49
    for i, (day, o, h, low, c, v) in enumerate(landed):
        assert day == datetime.fromtimestamp(recorded["timestamp"][i], UTC).date()
        assert (o, h, low, c) == tuple(
            Decimal(repr(quote[k][i])) for k in ("open", "high", "low", "close")
        )
        assert v == quote["volume"][i]
    assert landed[-1][4] != Decimal(repr(recorded["indicators"]["adjclose"][0]["adjclose"][-1]))

    assert rows(
        db,
        """select action_type, ex_date, split_from, split_to, cash_amount, currency
                       from raw.corporate_actions where source = 'yahoo' order by ex_date""",
    ) == [
        ("split", date(2020, 8, 31), Decimal(1), Decimal(4), None, None),
        ("dividend", date(2020, 11, 6), None, None, Decimal("0.205"), "USD"),
    ]
    assert load_runs(db, "AAPL") == [("success", 51, 51, 0, 0, 0, None)]

    before = snapshot(db)
    again = land(db, client, "AAPL", AAPL_SPLIT_WINDOW)
    assert again.status == "success"
    assert (
        again.part("daily_bars").inserted,
        again.part("daily_bars").updated,
        again.part("daily_bars").unchanged,
    ) == (0, 0, 49)
    assert (
        again.part("corporate_actions").inserted,
        again.part("corporate_actions").updated,
        again.part("corporate_actions").unchanged,
    ) == (0, 0, 2)
    assert snapshot(db) == before  # loaded_at and load_run_id untouched


def test_hourly_bars_land_in_utc_with_the_exchange_time_zone(yahoo, db, tmp_path_factory):
    client = make_client(tmp_path_factory)
    outcome = land(db, client, "AAPL", AAPL_HOURS, interval="1h")
    assert outcome.status == "success", outcome
    assert (
        outcome.part("intraday_bars").received == outcome.part("intraday_bars").inserted == 35
    )  # 5 days x 7 bars
    assert outcome.part("daily_bars").received == 0  # no daily recording of Nov 2025
    assert any("1d: Yahoo returned no bars" in n for n in outcome.notes)
    days = rows(
        db,
        """select (bar_start at time zone exchange_timezone)::date, count(*),
                              min(bar_start), max(bar_start), min(exchange_timezone)
                       from raw.intraday_bars where source = 'yahoo' and bar_interval = '1h'
                       group by 1 order by 1""",
    )
    assert [d[1] for d in days] == [7] * 5
    first_day = days[0]
    assert first_day[0] == date(2025, 11, 10)
    # 09:30 and 15:30 New York time (EST) are 14:30 and 20:30 UTC
    assert first_day[2] == datetime(2025, 11, 10, 14, 30, tzinfo=UTC)
    assert first_day[3] == datetime(2025, 11, 10, 20, 30, tzinfo=UTC)
    assert first_day[4] == "America/New_York"
    before = snapshot(db)
    again = land(db, client, "AAPL", AAPL_HOURS, interval="1h")
    assert (
        again.part("intraday_bars").inserted,
        again.part("intraday_bars").updated,
        again.part("intraday_bars").unchanged,
    ) == (0, 0, 35)
    assert snapshot(db) == before


def test_a_long_history_lands_whole(yahoo, db, tmp_path_factory):
    client = make_client(tmp_path_factory)
    outcome = land(db, client, "TSLA", Window(date(2010, 6, 29), date(2023, 8, 12)))
    assert outcome.status == "success"
    assert (outcome.part("daily_bars").received, outcome.part("daily_bars").inserted) == (
        3303,
        3303,
    )
    assert rows(
        db,
        """select min(trade_date), max(trade_date), count(*) from raw.daily_bars
                       where symbol = 'TSLA'""",
    ) == [(date(2010, 6, 29), date(2023, 8, 11), 3303)]


def test_nvda_split_and_msft_dividends(yahoo, db, tmp_path_factory):
    client = make_client(tmp_path_factory)
    assert land(db, client, "NVDA", MSFT_WINDOW).status == "success"
    assert land(db, client, "MSFT", MSFT_WINDOW).status == "success"
    assert rows(
        db,
        """select symbol, action_type, ex_date, split_to / split_from, cash_amount
                       from raw.corporate_actions order by symbol, ex_date""",
    ) == [
        ("MSFT", "dividend", date(2021, 2, 17), None, Decimal("0.56")),
        ("MSFT", "dividend", date(2021, 5, 19), None, Decimal("0.56")),
        ("MSFT", "dividend", date(2021, 8, 18), None, Decimal("0.56")),
        ("MSFT", "dividend", date(2021, 11, 17), None, Decimal("0.62")),
        ("NVDA", "split", date(2021, 7, 20), Decimal(4), None),
    ]


def test_rate_limited_twice_then_answered_is_retried(yahoo, db, tmp_path_factory):
    client = make_client(tmp_path_factory)
    yahoo.add_fault(kind="history", symbol="AAPL", status=429, times=2)
    outcome = land(db, client, "AAPL", AAPL_SPLIT_WINDOW)
    # yfinance retries a 429 once itself (other cookie strategy); the second 429 raises
    # YFRateLimitError, which the client retries after a backoff
    assert yahoo.statuses("history", "AAPL") == [429, 429, 200]
    assert outcome.status == "success" and outcome.attempts == 2
    assert load_runs(db, "AAPL")[0][:3] == ("success", 51, 51)


def test_persistent_rate_limit_fails_that_symbol_only(yahoo, db, tmp_path_factory):
    client = make_client(tmp_path_factory, max_retries=2)
    yahoo.add_fault(kind="history", symbol="MSFT", status=429)
    msft = land(db, client, "MSFT", MSFT_WINDOW)
    nvda = land(db, client, "NVDA", MSFT_WINDOW)
    assert msft.status == "failed" and msft.attempts == 3
    assert yahoo.statuses("history", "MSFT") == [429] * 6  # 3 attempts, 2 requests each
    assert nvda.status == "success"
    [(status, received, *_, error)] = load_runs(db, "MSFT")
    assert (status, received) == ("failed", 0)
    assert "rate_limited after 3 attempts" in error and "Too Many Requests" in error
    assert rows(db, "select count(*) from raw.daily_bars where symbol = 'MSFT'") == [(0,)]


@pytest.mark.parametrize(
    "fault",
    [
        {"status": 500, "times": 2},  # yfinance re-asks once; both 500 -> one retry of ours
        {"status": 503, "times": 2},
        {"delay": 2.0, "times": 1},  # longer than the client's 1 s timeout
    ],
)
def test_server_errors_and_timeouts_are_retried(yahoo, db, tmp_path_factory, fault):
    client = make_client(tmp_path_factory)
    yahoo.add_fault(kind="history", symbol="AAPL", **fault)
    outcome = land(db, client, "AAPL", AAPL_SPLIT_WINDOW)
    assert outcome.status == "success", outcome
    assert outcome.attempts == 2
    assert outcome.part("daily_bars").inserted == 49
    assert load_runs(db, "AAPL")[0][0] == "success"
    before = snapshot(db)
    again = land(db, client, "AAPL", AAPL_SPLIT_WINDOW)  # the fault is spent: a clean rerun
    unchanged = (again.part("daily_bars").unchanged, again.part("corporate_actions").unchanged)
    assert (again.attempts, *unchanged) == (1, 49, 2)
    assert snapshot(db) == before


def test_malformed_json_fails_the_symbol_without_landing_anything(yahoo, db, tmp_path_factory):
    client = make_client(tmp_path_factory)
    yahoo.add_fault(kind="history", symbol="AAPL", malformed=True)
    for _ in range(2):
        outcome = land(db, client, "AAPL", AAPL_SPLIT_WINDOW)
        assert outcome.status == "failed" and outcome.attempts == 1  # not retried
    runs = load_runs(db, "AAPL")
    assert [r[0] for r in runs] == ["failed", "failed"]
    assert "malformed" in runs[0][-1] and "JSONDecodeError" in runs[0][-1]
    assert snapshot(db)["daily"] == [] and snapshot(db)["actions"] == []


def test_unknown_symbol_fails_with_yahoos_reason(yahoo, db, tmp_path_factory):
    client = make_client(tmp_path_factory)
    for _ in range(2):
        outcome = land(db, client, "NOSUCHSYMBOL", AAPL_SPLIT_WINDOW)
        assert outcome.status == "failed"
        assert outcome.attempts == 1  # a 404 is not retried
    runs = load_runs(db, "NOSUCHSYMBOL")
    assert [(r[0], r[1]) for r in runs] == [("failed", 0), ("failed", 0)]  # one row per run
    assert runs[0][-1].startswith("1d: not_found")
    assert (
        "Yahoo answered HTTP 404 to /v8/finance/chart/NOSUCHSYMBOL: No data found, symbol "
        "may be delisted" in runs[0][-1]
    )
    assert all(v == [] for v in snapshot(db).values())


def test_an_empty_answer_is_a_success_with_nothing_landed(yahoo, db, tmp_path_factory):
    # the recorded 1m answer for a weekend: meta, no bars
    client = make_client(tmp_path_factory)
    outcome = land(
        db,
        client,
        "AAPL",
        Window(date(2025, 2, 1), date(2025, 2, 2)),
        interval="1m",
        include_daily=False,
    )
    assert outcome.status == "success"
    assert outcome.part("intraday_bars").received == 0 and outcome.notes == (
        "1m: Yahoo returned no bars for 2025-02-01..2025-02-02",
    )
    assert load_runs(db, "AAPL") == [
        ("success", 0, 0, 0, 0, 0, "1m: Yahoo returned no bars for 2025-02-01..2025-02-02")
    ]


def test_one_part_failing_makes_the_symbol_partial(yahoo, db, tmp_path_factory):
    client = make_client(tmp_path_factory)
    yahoo.add_fault(kind="history", symbol="AAPL", params={"interval": "1d"}, status=404)
    outcome = land(db, client, "AAPL", AAPL_HOURS, interval="1h")
    assert outcome.status == "partial"
    assert outcome.part("intraday_bars").inserted == 35
    [(status, received, inserted, *_, error)] = load_runs(db, "AAPL")
    assert (status, received, inserted) == ("partial", 35, 35)
    assert error.startswith("1d: not_found")


def test_bars_yahoo_sends_without_values_are_quarantined_not_dropped(yahoo, db, tmp_path_factory):
    client = make_client(tmp_path_factory)
    yahoo.add_fault(kind="history", symbol="AAPL", params={"interval": "1d"}, null_bars=(1, 2))
    for _ in range(2):
        outcome = land(db, client, "AAPL", AAPL_SPLIT_WINDOW)
        assert outcome.status == "success"  # the bad bars are kept, counted and named
        daily = outcome.part("daily_bars")
        assert (daily.received, daily.rejected) == (49, 2)
    landed = rows(db, "select count(*) from raw.daily_bars where symbol = 'AAPL'")[0][0]
    quarantined = rows(
        db, "select trade_date, open, reason from raw.rejected_bars order by trade_date"
    )
    assert landed + len(quarantined) == 49  # nothing dropped, no duplicates after the rerun
    assert quarantined == [
        ("2020-09-01", None, "missing open; missing high; missing low; missing close"),
        ("2020-09-02", None, "missing open; missing high; missing low; missing close"),
    ]
    runs = load_runs(db, "AAPL")
    assert [r[0] for r in runs] == ["success", "success"]
    assert "2 daily bar(s) quarantined in raw.rejected_bars" in runs[0][-1]
