"""Pure parts of the Yahoo source: numbers, splits, datasets, symbols, windows, statuses."""

from __future__ import annotations

import json
from datetime import date

import pytest

from ingest.checks import normalize_symbols as normalize
from ingest.ratelimit import decay_per_second, max_requests_in_window
from ingest.retry import RetryPolicy
from ingest.universe import batches, resolve_universe
from ingest.yahoo.client import (
    MalformedAnswer,
    NoResult,
    quote_summary_modules,
)
from ingest.yahoo.market import Window, market_window, source_uri
from ingest.yahoo.parse import DATASETS, company_datasets, number_text, split_fraction
from ingest.yahoo.session import YahooSession, yahoo_reason
from tests.support.yahoo_server import RECORDINGS, recording


def test_numbers_keep_yahoos_digits():
    assert number_text(129.0399932861328) == "129.0399932861328"
    assert number_text(0.205) == "0.205"
    assert number_text(131.0) == "131"
    assert number_text(float("nan")) is None
    assert number_text(None) is None
    import numpy as np

    assert number_text(np.int64(53197431)) == "53197431"


@pytest.mark.parametrize(
    "ratio, expected",
    [
        (4.0, (4, 1)),
        (1.5, (3, 2)),
        (0.1, (1, 10)),
        (20.0, (20, 1)),
        (7.00000700001, (7, 1)),
        (1 / 3, (1, 3)),
    ],
)
def test_split_ratio_back_to_yahoos_fraction(ratio, expected):
    assert split_fraction(ratio) == expected


def all_modules(symbol: str) -> dict:
    body = recording(f"quoteSummary/quoteSummary-all-{symbol}.json")["response"]["bodyJson"]
    return quote_summary_modules(body)


def test_recorded_aapl_modules_make_all_five_datasets():
    modules = all_modules("AAPL")
    data = company_datasets(modules)
    assert sorted(data.datasets) == sorted(DATASETS) and data.missing == [] and not data.rejected
    officers = data.datasets["company_officers"]["companyOfficers"]
    assert officers == modules["assetProfile"]["companyOfficers"] and len(officers) > 5
    assert "companyOfficers" not in data.datasets["company_profile"]["assetProfile"]
    assert data.datasets["company_profile"]["quoteType"]["longName"] == "Apple Inc."
    assert set(data.datasets["financial_statements"]) == {
        "incomeStatementHistory",
        "incomeStatementHistoryQuarterly",
        "balanceSheetHistory",
        "balanceSheetHistoryQuarterly",
        "cashflowStatementHistory",
        "cashflowStatementHistoryQuarterly",
    }
    assert data.datasets["institutional_holders"]["institutionOwnership"]["ownershipList"]


def test_an_etf_has_no_statements_holders_or_officers():
    data = company_datasets(all_modules("QQQ"))
    assert sorted(data.datasets) == ["company_profile", "key_statistics"]
    assert data.missing == ["financial_statements", "institutional_holders", "company_officers"]


def test_a_module_that_is_not_an_object_is_rejected_with_its_reason():
    data = company_datasets({"quoteType": {"symbol": "X"}, "defaultKeyStatistics": "oops"})
    assert list(data.datasets) == ["company_profile"]
    assert data.rejected == [
        (
            "key_statistics",
            {"defaultKeyStatistics": "oops"},
            "module defaultKeyStatistics is a str, not an object",
        )
    ]


def test_quote_summary_answers():
    not_found = recording("quoteSummary/quoteSummary-assetProfile-ADH.json")["response"]
    with pytest.raises(NoResult, match="No fundamentals data found"):
        quote_summary_modules(not_found["bodyJson"])
    with pytest.raises(MalformedAnswer):
        quote_summary_modules({"chart": {}})
    with pytest.raises(MalformedAnswer):
        quote_summary_modules({"quoteSummary": {"result": ["x"]}})


def test_yahoo_reason_from_recorded_error_bodies():
    body = (RECORDINGS / "quoteSummary/quoteSummary-summaryProfile-^VXAPL.json").read_text()
    text = json.dumps(json.loads(body)["response"]["bodyJson"])
    assert yahoo_reason(text) == (
        "No fundamentals data found for any of the summaryTypes=summaryProfile"
    )
    assert yahoo_reason(b"Edge: Too Many Requests\r\n") == "Edge: Too Many Requests"
    assert yahoo_reason(b"") is None


def test_the_session_routes_to_an_endpoint_only_when_asked():
    plain = YahooSession()
    url = "https://query2.finance.yahoo.com/v8/finance/chart/AAPL?interval=1d"
    assert plain.route(url) == url
    local = YahooSession(endpoint="http://127.0.0.1:9/")
    assert local.route(url) == (
        "http://127.0.0.1:9/query2.finance.yahoo.com/v8/finance/chart/AAPL?interval=1d"
    )
    assert local.route("https://fc.yahoo.com") == "http://127.0.0.1:9/fc.yahoo.com"
    per_host = YahooSession(endpoint="http://{host}.localhost:9")
    assert per_host.route("https://fc.yahoo.com/") == (
        "http://fc.yahoo.com.localhost:9/fc.yahoo.com/"
    )


def test_symbols_come_from_the_call_then_the_universe_then_raw_symbols():
    def pick(explicit, configured, registered, max_symbols):
        chosen = resolve_universe(
            explicit=explicit, configured=configured, registered=registered, max_symbols=max_symbols
        )
        return chosen.symbols or []  # Yahoo has no whole-market request: nothing to fetch

    assert normalize([" aapl", "MSFT", "aapl", ""]) == ["AAPL", "MSFT"]
    assert pick(["tsla"], ["AAPL"], ["X"], None) == ["TSLA"]
    assert pick(None, ["AAPL", "MSFT"], ["X"], 1) == ["AAPL"]
    assert pick([], [], ["X", "Y"], None) == ["X", "Y"]
    assert pick(None, [], [], 5) == []
    with pytest.raises(ValueError):
        pick(["A"], [], [], -1)
    assert list(batches(list("ABCDE"), 2)) == [["A", "B"], ["C", "D"], ["E"]]


def test_windows():
    today = date(2026, 3, 10)
    assert market_window(7, None, None, today) == Window(date(2026, 3, 3), None)
    assert market_window(7, date(2020, 8, 31), date(2020, 11, 7), today) == Window(
        date(2020, 8, 31), date(2020, 11, 7)
    )
    with pytest.raises(ValueError):
        market_window(7, date(2020, 8, 31), date(2020, 8, 31), today)
    with pytest.raises(ValueError):
        market_window(0, None, None, today)
    assert source_uri("AAPL", "1h", Window(date(2020, 1, 1), None), True) == (
        "yahoo:v8/finance/chart/AAPL?interval=1d,1h&window=2020-01-01..now"
    )


def test_backoff_doubles_with_jitter_and_a_cap():
    policy = RetryPolicy(max_retries=4, backoff_base=2.0, backoff_cap=10.0, jitter=0.2)
    assert [policy.delay(n, rng=lambda: 0.5) for n in (0, 1, 2, 3)] == [2.0, 4.0, 8.0, 10.0]
    assert 1.6 <= policy.delay(0) <= 2.4


def test_the_budget():
    assert decay_per_second(60) == 1.0
    assert max_requests_in_window(120, 1.0) == 3.0  # one slot, refilled twice a second
    with pytest.raises(ValueError):
        decay_per_second(0)
