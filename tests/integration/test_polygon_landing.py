"""Polygon landing against recorded responses on a local server and a real PostgreSQL.

polygon-api-client's RESTClient does the HTTP, pagination and parsing for real; the budget here
is a counting limiter (the Prefect rate limit itself is tested in test_polygon_flows.py).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from ingest.db import migrate, transaction
from ingest.polygon import daily, reference
from ingest.polygon.backfill import backfill_symbol, plan_backfill
from ingest.polygon.client import build_client
from ingest.polygon.runs import aggs_uri
from ingest.retry import RetryPolicy
from tests.support.polygon_server import (
    AAPL_RANGE_RECORDING,
    GROUPED_RECORDING,
    AggsFromAlphaVantage,
    PolygonServer,
    Reply,
    aggs_body,
    delisted_ticker,
    empty_grouped_body,
    error_reply,
    filtered_body,
    grouped_day_body,
    json_reply,
    openapi_splits,
    recorded,
    recorded_bytes,
    recorded_listing,
    tickers_body,
)

pytestmark = pytest.mark.integration

KEY = "pk-test-0123456789abcdef"
FAST = RetryPolicy(
    max_retries=3, backoff_base=0.05, backoff_cap=0.2, connect_timeout=1.0, read_timeout=0.5
)
GROUPED = "/v2/aggs/grouped/locale/us/market/stocks/"
D1, D2, D3 = date(2024, 1, 2), date(2024, 1, 3), date(2024, 1, 4)


class CountingLimiter:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self) -> None:
        self.calls += 1


@pytest.fixture
def server():
    with PolygonServer(KEY) as s:
        yield s


@pytest.fixture
def db(warehouse_url):
    migrate(warehouse_url)
    return warehouse_url


@pytest.fixture
def limiter():
    return CountingLimiter()


@pytest.fixture
def client(server, limiter):
    return build_client(KEY, server.url, limiter, FAST)


def rows(url, sql, params=None):
    with transaction(url) as cur:
        cur.execute(sql, params)
        return cur.fetchall()


def runs(url, symbol="*"):
    return rows(
        url,
        "select window_start, status, error from raw.load_runs"
        " where symbol = %s order by started_at, window_start",
        (symbol,),
    )


# --- daily grouped bars -------------------------------------------------------------------


def test_grouped_days_land_unadjusted_and_a_rerun_changes_nothing(db, client, server):
    for day in (D1, D2):
        server.route(GROUPED + day.isoformat(), json_reply(grouped_day_body(day)))
        summary = daily.land_grouped_day(db, client, day, None)
        assert (summary.symbol, summary.status, summary.received) == ("*", "success", 4)
    assert [r.query["adjusted"] for r in server.seen(GROUPED)] == ["false", "false"]
    assert rows(
        db,
        "select symbol, trade_date, open, close, volume from raw.daily_bars"
        " where source = 'polygon' and trade_date = %s order by symbol",
        (D1,),
    ) == [
        ("GIK", D1, Decimal("9.99"), Decimal("10.02"), 895345),
        ("KIMPL", D1, Decimal("26.07"), Decimal("25.9102"), 4369),
        ("TANH", D1, Decimal("24.5"), Decimal("23.4"), Decimal("25933.6")),
        ("VSAT", D1, Decimal("34.9"), Decimal("34.24"), 312583),
    ]
    assert runs(db) == [(D1, "success", None), (D2, "success", None)]
    assert rows(db, "select count(*) from raw.load_runs where symbol <> '*'") == [(8,)]
    snapshot = rows(db, "select * from raw.daily_bars order by symbol, trade_date")

    again = daily.land_grouped_day(db, client, D1, None)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 4)
    assert rows(db, "select * from raw.daily_bars order by symbol, trade_date") == snapshot


def test_the_daily_plan_fills_gaps_after_the_watermark_oldest_first(db, client, server):
    assert daily.plan_days(db, days_back=3, end=date(2024, 1, 8)).days == [
        date(2024, 1, 4),
        date(2024, 1, 5),
        date(2024, 1, 8),
    ]
    server.route(GROUPED + D1.isoformat(), json_reply(grouped_day_body(D1)))
    server.route(GROUPED + D2.isoformat(), error_reply(500, "internal error"))
    server.route(GROUPED + D3.isoformat(), json_reply(grouped_day_body(D3)))
    statuses = [daily.land_grouped_day(db, client, d, None).status for d in (D1, D2, D3)]
    assert statuses == ["success", "failed", "success"]
    plan = daily.plan_days(db, days_back=3, end=date(2024, 1, 8))
    assert plan.watermark == D1
    assert plan.days == [D2, date(2024, 1, 5), date(2024, 1, 8)]


def test_a_recorded_bar_stamped_for_another_day_is_quarantined_not_landed(db, client, server):
    # verbatim recording: filed as 2005-04-04 (recorded with adjusted=true), its only bar is
    # stamped 2020-10-14
    server.route(GROUPED + "2005-04-04", recorded(GROUPED_RECORDING))
    for _ in range(2):
        summary = daily.land_grouped_day(db, client, date(2005, 4, 4), None)
        assert (summary.status, summary.received, summary.rejected) == ("failed", 1, 1)
    assert rows(db, "select count(*) from raw.daily_bars") == [(0,)]
    ((symbol, reason),) = rows(db, "select symbol, reason from raw.rejected_bars")
    assert symbol == "GIK" and "2020-10-14" in reason and "2005-04-04" in reason
    assert [r[1] for r in runs(db)] == ["failed", "failed"]
    assert daily.plan_days(db, days_back=1, end=date(2005, 4, 4)).days == [date(2005, 4, 4)]


def test_an_empty_day_fails_and_lands_on_the_next_run(db, client, server):
    server.route(
        GROUPED + D1.isoformat(), json_reply(empty_grouped_body()), json_reply(grouped_day_body(D1))
    )
    first = daily.land_grouped_day(db, client, D1, None)
    assert first.status == "failed" and "no bars for trading day 2024-01-02" in first.error
    assert daily.plan_days(db, days_back=1, end=D1).days == [D1]
    second = daily.land_grouped_day(db, client, D1, None)
    assert second.status == "success"
    assert daily.plan_days(db, days_back=1, end=D1).days == []


def test_a_day_answered_empty_three_times_becomes_a_known_gap(db, client, server):
    server.route(GROUPED + D1.isoformat(), *[json_reply(empty_grouped_body())] * 3)
    errors = [daily.land_grouped_day(db, client, D1, None).error for _ in range(3)]
    assert "answer 1 of at most 3" in errors[0] and "known gap after 3" in errors[2]
    plan = daily.plan_days(db, days_back=1, end=D1)
    assert (plan.days, plan.known_gaps) == ([], [D1])
    assert len(server.seen(GROUPED)) == 3  # not requested a fourth time


def test_the_daily_run_is_capped_to_max_days(db, client, server):
    server.route(GROUPED + D1.isoformat(), json_reply(grouped_day_body(D1)))
    daily.land_grouped_day(db, client, D1, None)
    # one old landed day: 40 sessions are missing after it, the run takes the latest 30
    end = date(2024, 2, 29)
    plan = daily.plan_days(db, days_back=1, end=end, max_days=30)
    assert len(plan.days) == 30 and plan.days[-1] == end and plan.deferred == 10
    assert plan.days == sorted(plan.days)


def test_the_universe_is_kept_and_absent_symbols_are_recorded(db, client, server):
    server.route(GROUPED + D1.isoformat(), json_reply(grouped_day_body(D1)))
    summary = daily.land_grouped_day(db, client, D1, ["GIK", "vsat", "ZZZZ"])
    absent = summary.rows[-1]
    assert (summary.status, summary.received) == ("partial", 2)
    assert "ZZZZ" in summary.error
    assert (absent.symbol, absent.status) == ("ZZZZ", "failed")
    assert rows(db, "select symbol from raw.daily_bars order by 1") == [("GIK",), ("VSAT",)]
    assert rows(db, "select symbol, status from raw.load_runs order by 1") == [
        ("*", "partial"),
        ("GIK", "success"),
        ("VSAT", "success"),
        ("ZZZZ", "failed"),
    ]


def test_429_waits_for_retry_after_then_lands(db, client, server, limiter):
    server.route(
        GROUPED + D1.isoformat(),
        error_reply(429, "You've exceeded the maximum requests per minute", {"Retry-After": "1"}),
        json_reply(grouped_day_body(D1)),
    )
    summary = daily.land_grouped_day(db, client, D1, None)
    assert summary.status == "success"
    first, second = server.seen(GROUPED)
    assert second.at - first.at >= 1.0
    assert limiter.calls == 2  # the retry went through the budget too


def test_500s_exhaust_the_retries_then_a_rerun_lands_without_duplicates(
    db, client, server, limiter
):
    server.route(
        GROUPED + D1.isoformat(),
        *[error_reply(500, "internal error")] * 4,
        json_reply(grouped_day_body(D1)),
    )
    first = daily.land_grouped_day(db, client, D1, None)
    assert first.status == "failed"
    assert "HTTP 500" in first.error and "after 4 attempt(s)" in first.error
    assert limiter.calls == 4
    second = daily.land_grouped_day(db, client, D1, None)
    assert second.status == "success"
    assert rows(
        db, "select count(*), count(distinct (symbol, trade_date)) from raw.daily_bars"
    ) == [(4, 4)]


def test_a_timeout_is_retried_and_persistent_timeouts_fail(db, client, server):
    body = json_reply(grouped_day_body(D1)).body
    server.route(GROUPED + D1.isoformat(), Reply(200, body, delay=1.0), Reply(200, body))
    assert daily.land_grouped_day(db, client, D1, None).status == "success"
    server.route(GROUPED + D2.isoformat(), Reply(200, body, delay=1.0))
    stuck = daily.land_grouped_day(db, client, D2, None)
    assert stuck.status == "failed"
    assert "no answer from Polygon" in stuck.error and "ReadTimeoutError" in stuck.error


def test_malformed_json_fails_loudly_and_lands_nothing(db, client, server):
    truncated = recorded_bytes(GROUPED_RECORDING)[:120]
    server.route(GROUPED + D1.isoformat(), Reply(200, truncated), json_reply(grouped_day_body(D1)))
    first = daily.land_grouped_day(db, client, D1, None)
    assert first.status == "failed" and "not JSON" in first.error
    assert rows(db, "select count(*) from raw.daily_bars") == [(0,)]
    assert daily.land_grouped_day(db, client, D1, None).status == "success"


# --- historical backfill ------------------------------------------------------------------


def test_backfill_of_the_recorded_range_lands_est_and_edt_days(db, client, server):
    server.route(
        "/v2/aggs/ticker/AAPL/range/1/day/2005-04-01/2005-04-04", recorded(AAPL_RANGE_RECORDING)
    )
    (plan,) = plan_backfill(db, ["AAPL"], date(2005, 4, 1), date(2005, 4, 4), chunk_days=30)
    (outcome,) = backfill_symbol(db, client, plan)
    assert (outcome.status, outcome.received, outcome.inserted) == ("success", 2, 2)
    (request,) = server.seen("/v2/aggs/")
    assert request.query["adjusted"] == "false"
    assert rows(db, "select trade_date, close from raw.daily_bars order by 1") == [
        (date(2005, 4, 1), Decimal("1.4604")),
        (date(2005, 4, 4), Decimal("1.4675")),
    ]
    (again,) = plan_backfill(db, ["AAPL"], date(2005, 4, 1), date(2005, 4, 4), chunk_days=30)
    assert again.windows == [] and [s.error for s in again.skipped] == ["already landed"]


def test_backfill_resumes_only_the_windows_that_did_not_land(db, client, server):
    server.route("/v2/aggs/ticker/AAPL/range/*", AggsFromAlphaVantage("AAPL"))
    server.route(
        "/v2/aggs/ticker/AAPL/range/1/day/2020-08-03/2020-09-02",
        *[error_reply(502, "bad gateway")] * 4,
        AggsFromAlphaVantage("AAPL"),
    )
    start, end = date(2020, 7, 1), date(2020, 9, 29)
    (plan,) = plan_backfill(db, ["AAPL"], start, end, chunk_days=31)
    assert len(plan.windows) == 3
    first = backfill_symbol(db, client, plan)
    assert [o.status for o in first] == ["success", "failed", "success"]

    before = len(server.seen("/v2/aggs/"))
    (plan,) = plan_backfill(db, ["AAPL"], start, end, chunk_days=31)
    assert plan.windows == [(date(2020, 8, 3), date(2020, 9, 2))]
    assert [o.status for o in backfill_symbol(db, client, plan)] == ["success"]
    assert len(server.seen("/v2/aggs/")) == before + 1
    ((n, distinct, lo, hi),) = rows(
        db,
        "select count(*), count(distinct trade_date),"
        " min(trade_date), max(trade_date) from raw.daily_bars",
    )
    assert (n, distinct, lo, hi) == (63, 63, date(2020, 7, 1), date(2020, 9, 29))


def test_a_split_inside_the_window_stays_unadjusted_and_lands_as_an_action(db, client, server):
    server.route("/v2/aggs/ticker/AAPL/range/*", AggsFromAlphaVantage("AAPL"))
    server.route("/v3/reference/splits", openapi_splits())
    server.route(
        "/v3/reference/dividends",
        recorded_listing("v3/reference/dividends.json", "ex_dividend_date"),
    )
    start, end = date(2020, 8, 24), date(2020, 9, 4)
    for _ in range(2):
        (plan,) = plan_backfill(db, ["AAPL"], start, end, chunk_days=7)
        backfill_symbol(db, client, plan)
        splits = reference.land_corporate_actions(
            db, client, "splits", "AAPL", since=start, until=end
        )
        dividends = reference.land_corporate_actions(
            db, client, "dividends", "AAPL", since=start, until=end
        )
    assert (splits.status, splits.received, splits.unchanged) == ("success", 1, 1)
    assert (dividends.status, dividends.received) == ("success", 0)
    # raw prices as traded: ~500 before the 4-for-1 split, ~130 from its ex-date
    assert rows(
        db,
        "select trade_date, close from raw.daily_bars"
        " where trade_date in ('2020-08-28', '2020-08-31') order by 1",
    ) == [(date(2020, 8, 28), Decimal("499.23")), (date(2020, 8, 31), Decimal("129.04"))]
    assert rows(db, "select count(*) from raw.daily_bars") == [(10,)]
    assert rows(
        db,
        "select symbol, action_type, ex_date, split_from, split_to, source"
        " from raw.corporate_actions",
    ) == [("AAPL", "split", date(2020, 8, 31), 1, 4, "polygon")]
    assert all(r.query.get("adjusted") == "false" for r in server.seen("/v2/aggs/"))


def test_an_unknown_symbol_fails_alone(db, client, server):
    server.route(
        "/v2/aggs/ticker/AAPL/range/1/day/2005-04-01/2005-04-04", recorded(AAPL_RANGE_RECORDING)
    )
    server.route("/v2/aggs/ticker/NOPE/range/*", json_reply(aggs_body("NOPE", [])))
    plans = plan_backfill(db, ["AAPL", "NOPE"], date(2005, 4, 1), date(2005, 4, 4), 30)
    aapl, nope = (backfill_symbol(db, client, p) for p in plans)
    assert [o.status for o in aapl] == ["success"]
    assert [o.status for o in nope] == ["failed"]
    assert "unknown ticker" in nope[0].error
    assert rows(db, "select symbol, status from raw.load_runs order by 1") == [
        ("AAPL", "success"),
        ("NOPE", "failed"),
    ]
    # the failed window is retried by the next run, the landed one is not
    plans = plan_backfill(db, ["AAPL", "NOPE"], date(2005, 4, 1), date(2005, 4, 4), 30)
    assert [len(p.windows) for p in plans] == [0, 1]


def test_a_delisted_symbol_is_not_requested_after_its_delisting(db, client, server):
    # AAPL's real bars served under a made-up delisted ticker
    server.route("/v2/aggs/ticker/OLDCO/range/*", AggsFromAlphaVantage("AAPL"))
    rows(
        db,
        "insert into raw.symbols (symbol, active, delisted_at, source)"
        " values ('OLDCO', false, '2020-08-26', 'test') returning symbol",
    )
    (plan,) = plan_backfill(db, ["OLDCO"], date(2020, 8, 17), date(2020, 9, 4), 7)
    assert plan.windows == [  # sessions only: no window ends on a weekend
        (date(2020, 8, 17), date(2020, 8, 21)),
        (date(2020, 8, 24), date(2020, 8, 26)),
    ]
    assert [s.window_start for s in plan.skipped] == [date(2020, 8, 27)]
    assert "delisting" in plan.skipped[0].error
    outcomes = backfill_symbol(db, client, plan)
    assert [o.status for o in outcomes] == ["success", "success"]
    assert rows(db, "select max(trade_date) from raw.daily_bars") == [(date(2020, 8, 26),)]
    assert len(server.seen("/v2/aggs/")) == 2


def test_pages_count_against_the_budget_and_the_key_never_leaks(db, client, server, limiter):
    # Polygon's next_url may carry the key as apiKey=...: pages 2+ of this window do
    server.route(
        "/v2/aggs/ticker/AAPL/range/*",
        AggsFromAlphaVantage("AAPL", page_size=4, api_key_in_next_url=KEY),
    )
    (plan,) = plan_backfill(db, ["AAPL"], date(2020, 8, 3), date(2020, 8, 21), 30)
    (outcome,) = backfill_symbol(db, client, plan)
    assert (outcome.status, outcome.received) == ("success", 15)
    assert len(server.seen("/v2/aggs/")) == 4 == limiter.calls
    assert any("apiKey" in r.raw_query for r in server.seen("/v2/aggs/"))

    # page 2 of the next window keeps failing: the error names the URL, without the key
    server.route(
        "/v2/aggs/ticker/AAPL/range/*",
        error_reply(503, "unavailable"),
        query={"cursor": "bGltaXQ9MiZzb3J0PWFzYw"},
    )
    (plan,) = plan_backfill(db, ["AAPL"], date(2020, 8, 24), date(2020, 9, 11), 30)
    (outcome,) = backfill_symbol(db, client, plan)
    assert outcome.status == "failed"
    assert "apiKey=***" in outcome.error
    errors = " ".join(e for (e,) in rows(db, "select coalesce(error, '') from raw.load_runs"))
    assert KEY not in errors and "apiKey=***" in errors


# --- reference data -----------------------------------------------------------------------


def test_the_recorded_ticker_listing_pages_into_polygon_tickers(db, client, server):
    outcome, tickers = reference.land_ticker_listing(db, client)
    assert [t.ticker for t in tickers] == ["A", "AA", "AAA", "AAAU"]
    assert (outcome.status, outcome.inserted) == ("success", 4)
    assert [r.query.get("cursor", "")[:8] for r in server.seen("/v3/reference/tickers")] == [
        "",
        "YWN0aXZl",
    ]
    again, _ = reference.land_ticker_listing(db, client)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 4)
    assert rows(
        db,
        "select ticker, primary_exchange, record->>'cik' from raw.polygon_tickers"
        " where ticker = 'A'",
    ) == [("A", "XNYS", "0001090872")]


def test_delisted_and_vanished_symbols_are_marked_not_failed(db, client, server):
    server.route(
        "/v3/reference/tickers",
        json_reply(
            tickers_body(
                [
                    delisted_ticker("OLD", "2011-03-01T00:00:00Z"),
                    delisted_ticker("OLD", "2023-01-05T00:00:00Z"),
                ]
            )
        ),
        query={"ticker": "OLD"},
    )
    server.route("/v3/reference/tickers", json_reply(tickers_body([])), query={"ticker": "GONE"})
    rows(
        db,
        "insert into raw.symbols (symbol, active, source) values"
        " ('OLD', true, 'test'), ('GONE', true, 'test') returning 1",
    )
    today = date(2026, 1, 15)
    old, old_status = reference.look_up_delisted(db, client, "OLD", today=today)
    gone, gone_status = reference.look_up_delisted(db, client, "GONE", today=today)
    assert (old.status, old_status.delisted_at) == ("success", date(2023, 1, 5))
    assert (gone.status, gone_status.delisted_at) == ("success", today)
    changed = reference.sync_symbols(db, [old_status, gone_status])
    assert {c.symbol for c in changed} == {"OLD", "GONE"}
    assert rows(db, "select symbol, active, delisted_at, source from raw.symbols order by 1") == [
        ("GONE", False, today, "test"),
        ("OLD", False, date(2023, 1, 5), "test"),
    ]
    assert rows(db, "select count(*) from raw.polygon_tickers where not active") == [(2,)]
    assert reference.sync_symbols(db, [old_status, gone_status]) == []  # idempotent


def test_recorded_market_wide_splits_and_dividends_land_idempotently(db, client, server):
    for _ in range(2):
        splits = reference.land_corporate_actions(db, client, "splits", None)
        dividends = reference.land_corporate_actions(db, client, "dividends", None)
    assert (splits.status, splits.received, splits.unchanged) == ("success", 10, 10)
    assert (dividends.status, dividends.received, dividends.unchanged) == ("success", 10, 10)
    assert rows(
        db, "select split_from, split_to from raw.corporate_actions where symbol = 'BRW'"
    ) == [(2, 1)]
    assert rows(db, "select count(*) from raw.corporate_actions where source = 'polygon'") == [
        (20,)
    ]
    assert rows(
        db,
        "select details->>'pay_date' from raw.corporate_actions"
        " where symbol = 'AIRTP' and ex_date = '2023-11-13'",
    ) == [("2023-11-15",)]


def test_per_symbol_actions_and_a_failing_symbol(db, client, server):
    shop_splits = filtered_body("v3/reference/splits.json", "SHOP")
    server.route("/v3/reference/splits", json_reply(shop_splits), query={"ticker": "SHOP"})
    server.route("/v3/reference/splits", error_reply(500, "internal"), query={"ticker": "BAD"})
    shop = reference.land_corporate_actions(db, client, "splits", "SHOP")
    bad = reference.land_corporate_actions(db, client, "splits", "BAD")
    assert (shop.status, shop.inserted) == ("success", 2)
    assert bad.status == "failed" and "HTTP 500" in bad.error
    assert rows(db, "select symbol, status from raw.load_runs order by 1") == [
        ("BAD", "failed"),
        ("SHOP", "success"),
    ]
    assert aggs_uri("SHOP", date(2022, 1, 1), date(2022, 1, 2)).startswith("polygon:")
