"""The Yahoo flows on a real Prefect API (test harness), real PostgreSQL and recorded answers.

Also shows the request budget holding: with YAHOO_REQUESTS_PER_MINUTE=120 the local server sees
its requests at least 0.5 s apart, and never more than the budget allows in any window.
"""

from __future__ import annotations

from datetime import date

import pytest
from prefect.client.orchestration import get_client

import ingest.yahoo
from flows.outcomes import landed_result
from flows.yahoo import yahoo_company_data, yahoo_market_data
from ingest.db import migrate, transaction
from ingest.ratelimit import YAHOO_LIMIT as YAHOO_LIMIT_NAME
from ingest.ratelimit import max_requests_in_window
from ingest.yahoo.session import use_endpoint
from tests.support.yahoo_server import YahooServer

pytestmark = pytest.mark.integration

FAST = "6000"  # requests per minute for the tests that are not about the budget


@pytest.fixture(scope="module")
def server():
    with YahooServer() as s:
        yield s


@pytest.fixture
def stack(prefect_api, server, warehouse_url, tmp_path, monkeypatch):
    """The flows' settings point at the test database, a temporary MDW_HOME and the server."""
    monkeypatch.setenv("WAREHOUSE_URL", warehouse_url.render_as_string(hide_password=False))
    monkeypatch.setenv("MDW_HOME", str(tmp_path / "mdw"))
    monkeypatch.setenv("YAHOO_REQUESTS_PER_MINUTE", FAST)
    monkeypatch.setenv("YAHOO_MAX_RETRIES", "1")
    monkeypatch.setenv("YAHOO_BATCH_SIZE", "2")
    monkeypatch.delenv("MDW_UNIVERSE", raising=False)
    monkeypatch.setattr(ingest.yahoo, "DEFAULT_BACKOFF_SECONDS", 0.01)
    server.clear()
    with use_endpoint(server.endpoint):
        yield server


def rows(url, sql):
    with transaction(url) as cur:
        cur.execute(sql)
        return cur.fetchall()


def artifact(key: str):
    with get_client(sync_client=True) as client:
        from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

        found = client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[key]))
        )
    return max(found, key=lambda a: a.created)


def test_market_flow_lands_what_it_can_and_reports_what_failed(stack, warehouse_url):
    state = yahoo_market_data(
        symbols=["aapl", "NOSUCHSYMBOL", "NVDA"],
        interval="1d",
        start=date(2020, 8, 31),
        end=date(2022, 1, 31),
        return_state=True,
    )
    assert state.is_failed() and state.message.startswith(
        "1 of 3 symbols did not land in full (1 failed): market NOSUCHSYMBOL "
    )
    outcomes = {o.symbol: o for o in landed_result(state)}
    assert {s: o.status for s, o in outcomes.items()} == {
        "AAPL": "success",
        "NOSUCHSYMBOL": "failed",
        "NVDA": "success",
    }
    runs = rows(
        warehouse_url,
        """select symbol, status, flow_run_id is not null,
                                  count(*) over (partition by load_run_id)
                                  from raw.load_runs order by symbol""",
    )
    assert runs == [
        ("AAPL", "success", True, 3),
        ("NOSUCHSYMBOL", "failed", True, 3),
        ("NVDA", "success", True, 3),
    ]
    assert rows(warehouse_url, "select count(*) from raw.daily_bars where source = 'yahoo'") == [
        (49 + 252,)
    ]
    table = artifact("yahoo-market-data")
    assert table.type == "table"
    assert "3 units: 1 failed, 2 success" in table.description
    assert "NOSUCHSYMBOL" in str(table.data) and "symbol may be delisted" in str(table.data)
    with get_client(sync_client=True) as client:
        limit = client.read_global_concurrency_limit_by_name(YAHOO_LIMIT_NAME)
    assert (limit.limit, limit.slot_decay_per_second) == (1, 100.0)


def test_a_run_where_everything_failed_ends_failed(stack, warehouse_url):
    state = yahoo_market_data(
        symbols=["NOPE1", "NOPE2"],
        interval="1d",
        start=date(2020, 8, 31),
        end=date(2020, 11, 7),
        return_state=True,
    )
    assert state.is_failed()
    assert "2 of 2 symbols did not land in full (2 failed): market NOPE1 " in state.message
    assert rows(warehouse_url, "select status, count(*) from raw.load_runs group by 1") == [
        ("failed", 2)
    ]
    assert "2 units: 2 failed" in artifact("yahoo-market-data").description


def test_company_flow_takes_the_universe_or_raw_symbols(stack, warehouse_url, monkeypatch):
    monkeypatch.setenv("MDW_UNIVERSE", "AAPL,QQQ,WSKT.JK")
    state = yahoo_company_data(max_symbols=2, return_state=True)
    assert state.is_completed()
    assert [(o.symbol, o.status) for o in state.result()] == [
        ("AAPL", "success"),
        ("QQQ", "success"),  # an ETF: Yahoo has no statements or officers, noted
    ]
    assert rows(
        warehouse_url, "select symbol, count(*) from raw.yahoo_company_data group by 1 order by 1"
    ) == [("AAPL", 5), ("QQQ", 2)]
    assert "AAPL" in str(artifact("yahoo-company-data").data)

    monkeypatch.delenv("MDW_UNIVERSE")
    migrate(warehouse_url)
    with transaction(warehouse_url) as cur:
        cur.execute("""insert into raw.symbols (symbol, active, source) values
                       ('WSKT.JK', true, 'test'), ('GONE', false, 'test')""")
    state = yahoo_company_data(return_state=True)
    assert [(o.symbol, o.status) for o in state.result()] == [("WSKT.JK", "success")]


def test_default_hourly_run_keeps_to_the_request_budget(stack, warehouse_url, monkeypatch):
    """interval 1h and days_back 7 (the defaults) at 120 requests per minute.

    The recordings hold no bars of the last 7 days, so the stand-in answers without bars: the
    run succeeds and lands nothing. What is checked is the pace at which requests reached it.
    """
    rpm = 120
    monkeypatch.setenv("YAHOO_REQUESTS_PER_MINUTE", str(rpm))
    state = yahoo_market_data(symbols=["AAPL", "MSFT", "NVDA"], return_state=True)
    assert state.is_completed()
    assert [(o.symbol, o.status, len(o.notes)) for o in state.result()] == [
        ("AAPL", "success", 2),
        ("MSFT", "success", 2),
        ("NVDA", "success", 2),
    ]
    assert sorted(r.params["interval"] for r in stack.seen("history")) == [
        "1d",
        "1d",
        "1d",
        "1h",
        "1h",
        "1h",
    ]

    seen = sorted(r.at for r in stack.seen())
    assert len(seen) >= 6
    spacing = 60 / rpm
    gaps = [b - a for a, b in zip(seen, seen[1:], strict=False)]
    assert min(gaps) >= spacing - 0.05, gaps  # one slot: never two requests within 0.5 s
    for window in (1.0, 2.0, 3.0):
        assert stack.max_in_window(window) <= max_requests_in_window(rpm, window)
    assert seen[-1] - seen[0] >= (len(seen) - 1) * spacing - 0.05
