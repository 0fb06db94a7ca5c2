"""Yahoo company data end to end: recorded quoteSummary answers -> raw JSONB -> dbt staging."""

from __future__ import annotations

import json
import uuid
from datetime import date

import pytest

from ingest.db import migrate, transaction
from ingest.retry import RetryPolicy
from ingest.yahoo.client import YahooClient
from ingest.yahoo.company import land_company_data
from ingest.yahoo.market import Window, land_market_data
from ingest.yahoo.parse import DATASETS
from ingest.yahoo.session import YahooSession, use_endpoint
from tests.integration.conftest import dbt
from tests.support.yahoo_server import RECORDINGS, YahooServer

pytestmark = pytest.mark.integration

AAPL_ALL = json.loads((RECORDINGS / "quoteSummary/quoteSummary-all-AAPL.json").read_text())[
    "response"
]["bodyJson"]["quoteSummary"]["result"][0]


@pytest.fixture(scope="module")
def server():
    with YahooServer() as s:
        yield s


@pytest.fixture
def yahoo(server):
    server.clear()
    with use_endpoint(server.endpoint):
        yield server


@pytest.fixture
def db(warehouse_url):
    migrate(warehouse_url)
    return warehouse_url


@pytest.fixture
def client(tmp_path_factory) -> YahooClient:
    return YahooClient(
        YahooSession(),
        retry=RetryPolicy(max_retries=2, backoff_base=0.01),
        timeout=1.0,
        cache_dir=tmp_path_factory.getbasetemp() / "yfinance",
    )


def rows(url, sql, *args):
    with transaction(url) as cur:
        cur.execute(sql, args)
        return cur.fetchall()


def land(url, client, symbol):
    (outcome,) = land_company_data(url, client, [symbol], load_run_id=uuid.uuid4())
    return outcome


def datasets(outcome, what: str) -> list[str]:
    """The datasets of an outcome that were new (`inserted`), changed, unchanged, landed."""
    if what == "landed":
        return sorted(name for name, c in outcome.parts if c.landed)
    return sorted(name for name, c in outcome.parts if getattr(c, what))


COMPANY = "select * from raw.yahoo_company_data order by symbol, dataset, as_of_date"


def test_all_five_datasets_land_once_and_a_same_day_rerun_changes_nothing(yahoo, db, client):
    first = land(db, client, "AAPL")
    assert first.status == "success", first
    assert datasets(first, "inserted") == sorted(DATASETS) and first.notes == ()
    assert yahoo.statuses("quoteSummary", "AAPL") == [200]  # one request for all datasets
    stored = dict(rows(db, "select dataset, payload from raw.yahoo_company_data"))
    assert stored["key_statistics"]["defaultKeyStatistics"] == AAPL_ALL["defaultKeyStatistics"]
    assert (
        stored["company_officers"]["companyOfficers"] == AAPL_ALL["assetProfile"]["companyOfficers"]
    )
    assert "companyOfficers" not in stored["company_profile"]["assetProfile"]
    assert (
        stored["financial_statements"]["balanceSheetHistoryQuarterly"]
        == AAPL_ALL["balanceSheetHistoryQuarterly"]
    )
    assert rows(db, "select status, rows_received, rows_inserted from raw.load_runs") == [
        ("success", 5, 5)
    ]

    before = rows(db, COMPANY)
    again = land(db, client, "AAPL")
    assert again.status == "success"
    assert datasets(again, "unchanged") == sorted(DATASETS)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 5)
    assert rows(db, COMPANY) == before  # fetched_at, loaded_at, load_run_id untouched

    # a payload that differs (as Yahoo's would the same day) rewrites that dataset only
    with transaction(db) as cur:
        cur.execute("""update raw.yahoo_company_data set payload = payload || '{"x": 1}'
                       where dataset = 'key_statistics'""")
    third = land(db, client, "AAPL")
    assert datasets(third, "updated") == ["key_statistics"] and third.unchanged == 4
    assert rows(db, "select count(*) from raw.yahoo_company_data") == [(5,)]


def test_datasets_yahoo_does_not_have_are_noted_not_failures(yahoo, db, client):
    qqq = land(db, client, "QQQ")
    assert qqq.status == "success"  # nothing to land is not an error
    assert datasets(qqq, "landed") == ["company_profile", "key_statistics"]  # an ETF
    assert qqq.notes == (
        "Yahoo had no financial_statements, institutional_holders, company_officers",
    )
    wskt = land(db, client, "WSKT.JK")  # recorded: only quoteType has data
    assert (wskt.status, datasets(wskt, "landed")) == ("success", ["company_profile"])
    runs = dict(rows(db, "select symbol, error from raw.load_runs where status = 'success'"))
    assert runs["WSKT.JK"].startswith("Yahoo had no key_statistics, financial_statements")


def test_unknown_symbol_fails_and_is_not_retried(yahoo, db, client):
    outcome = land(db, client, "NOSUCHSYMBOL")
    assert outcome.status == "failed" and outcome.attempts == 1
    [(status, error)] = rows(db, "select status, error from raw.load_runs")
    assert status == "failed" and "not_found" in error
    assert "No fundamentals data found" in error
    assert rows(db, "select count(*) from raw.yahoo_company_data") == [(0,)]


@pytest.mark.parametrize(
    "fault, kind",
    [
        ({"status": 429}, "rate_limited after 3 attempts"),
        ({"malformed": True}, "malformed"),
    ],
)
def test_failures_are_recorded_and_other_symbols_land(yahoo, db, client, fault, kind):
    yahoo.add_fault(kind="quoteSummary", symbol="QQQ", **fault)
    assert land(db, client, "QQQ").status == "failed"
    assert land(db, client, "AAPL").status == "success"
    statuses = dict(rows(db, "select symbol, status from raw.load_runs"))
    assert statuses == {"QQQ": "failed", "AAPL": "success"}
    assert kind in rows(db, "select error from raw.load_runs where symbol = 'QQQ'")[0][0]


def test_rate_limited_then_answered(yahoo, db, client):
    yahoo.add_fault(kind="quoteSummary", symbol="AAPL", status=429, times=2)
    outcome = land(db, client, "AAPL")
    assert outcome.status == "success" and outcome.attempts == 2
    assert yahoo.statuses("quoteSummary", "AAPL") == [429, 429, 200]


def test_dbt_staging_models_build_and_pass_their_tests(yahoo, db, client, tmp_path_factory):
    for symbol in ("AAPL", "QQQ", "WSKT.JK"):
        land(db, client, symbol)
    land_market_data(
        db,
        client,
        ["AAPL"],
        interval="1h",
        window=Window(date(2020, 8, 31), date(2020, 11, 7)),
        load_run_id=uuid.uuid4(),
    )
    land_market_data(
        db,
        client,
        ["AAPL"],
        interval="1h",
        window=Window(date(2025, 11, 10), date(2025, 11, 15)),
        include_daily=False,
        load_run_id=uuid.uuid4(),
    )
    result = dbt(db, "build", "--select", "path:models/staging", "source:raw", "source:yahoo")
    assert result.success, result.exception or [
        (r.node.name, r.message) for r in result.result if r.status not in ("success", "pass")
    ]

    def one(sql):
        return rows(db, sql)

    assert one(
        "select count(*), min(trade_date), max(trade_date) from staging.stg_raw__daily_bars"
        " where data_source = 'yahoo'"
    ) == [(49, date(2020, 8, 31), date(2020, 11, 6))]
    assert one(
        "select count(*), count(distinct trade_date) from staging.stg_raw__intraday_bars"
        " where data_source = 'yahoo' and bar_interval = '1h'"
    ) == [(35, 5)]
    assert one(
        "select action_type, ex_date, split_ratio, cash_amount from "
        "staging.stg_raw__corporate_actions where data_source = 'yahoo' order by ex_date"
    ) == [("split", date(2020, 8, 31), 4.0, None), ("dividend", date(2020, 11, 6), None, 0.205)]
    assert one(
        "select symbol, long_name, sector, full_time_employees, first_trade_date "
        "from staging.stg_yahoo__company_profiles where symbol = 'AAPL'"
    ) == [("AAPL", "Apple Inc.", "Technology", 150000, date(1980, 12, 12))]
    assert one(
        "select market_cap, shares_outstanding, last_split_factor, last_split_date "
        "from staging.stg_yahoo__key_statistics where symbol = 'AAPL'"
    ) == [(3688676720640.0, 15022100480, "4:1", date(2020, 8, 31))]
    officers = AAPL_ALL["assetProfile"]["companyOfficers"]
    assert one(
        "select count(*), min(officer_name) filter (where officer_rank = 1), "
        "max(total_pay) filter (where officer_rank = 1) "
        "from staging.stg_yahoo__company_officers where symbol = 'AAPL'"
    ) == [(len(officers), officers[0]["name"], float(officers[0]["totalPay"]["raw"]))]
    holders = AAPL_ALL["institutionOwnership"]["ownershipList"]
    assert one(
        "select count(*), min(holder_name) filter (where holder_rank = 1), "
        "sum(shares) filter (where holder_rank = 1) "
        "from staging.stg_yahoo__institutional_holders"
    ) == [(len(holders), holders[0]["organization"], holders[0]["position"]["raw"])]
    statements = one("""select statement, period_type, count(distinct period_end_date),
                               max(value) filter (where line_item = 'totalRevenue'
                                                  and period_end_date = '2024-09-30')
                        from staging.stg_yahoo__financial_statements
                        group by 1, 2 order by 1, 2""")
    assert statements == [
        ("cash_flow", "annual", 4, None),
        ("cash_flow", "quarterly", 4, None),
        ("income", "annual", 4, 391035000000.0),
        ("income", "quarterly", 4, 94930000000.0),
    ]  # Yahoo's balance sheets carry period ends only: no line items, no rows
