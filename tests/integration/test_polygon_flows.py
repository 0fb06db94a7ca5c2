"""The Polygon flows on a real temporary Prefect server, a local Polygon serving recorded
responses, and a real PostgreSQL: names, artifacts, final states, the shared request budget
(Prefect's global concurrency limit) and the API key's paths (environment, Secret block)."""

from __future__ import annotations

import json
from datetime import date

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import (
    ArtifactFilter,
    ArtifactFilterFlowRunId,
    LogFilter,
    LogFilterFlowRunId,
)

from flows.keys import SECRET_BLOCK
from flows.limits import ensure_rate_limit
from flows.outcomes import landed_result
from flows.polygon import (
    polygon_daily_ingestion,
    polygon_historical_backfill,
    polygon_reference_data,
)
from ingest.db import migrate, transaction
from ingest.polygon import http
from ingest.retry import RetryPolicy
from tests.support.polygon_server import (
    AAPL_RANGE_RECORDING,
    AggsFromAlphaVantage,
    PolygonServer,
    aggs_body,
    delisted_ticker,
    error_reply,
    grouped_day_body,
    json_reply,
    recorded,
    recorded_listing,
    tickers_body,
)

pytestmark = pytest.mark.integration

KEY = "pk-flow-test-9f8e7d6c5b4a"
FAST = RetryPolicy(
    max_retries=2, backoff_base=0.05, backoff_cap=0.2, connect_timeout=1.0, read_timeout=2.0
)
GROUPED = "/v2/aggs/grouped/locale/us/market/stocks/"
D1, D2 = date(2024, 1, 2), date(2024, 1, 3)


@pytest.fixture
def server():
    with PolygonServer(KEY) as s:
        yield s


@pytest.fixture
def env(prefect_api, warehouse_url, server, monkeypatch):
    monkeypatch.setenv("WAREHOUSE_URL", warehouse_url.render_as_string(hide_password=False))
    monkeypatch.setenv("POLYGON_API_KEY", KEY)
    monkeypatch.setenv("POLYGON_BASE_URL", server.url)
    monkeypatch.setenv("POLYGON_REQUESTS_PER_MINUTE", "6000")  # fast, unless a test says so
    monkeypatch.delenv("MDW_UNIVERSE", raising=False)
    monkeypatch.setattr(http, "DEFAULT_POLICY", FAST)
    return warehouse_url


def rows(url, sql, params=None):
    with transaction(url) as cur:
        cur.execute(sql, params)
        return cur.fetchall()


def artifacts_of(state) -> dict[str, object]:
    with get_client(sync_client=True) as client:
        found = client.read_artifacts(
            artifact_filter=ArtifactFilter(
                flow_run_id=ArtifactFilterFlowRunId(any_=[state.state_details.flow_run_id])
            )
        )
    return {
        a.key: (json.loads(a.data) if isinstance(a.data, str) and a.type == "table" else a.data)
        for a in found
    }


def logs_of(state) -> str:
    from prefect.logging.handlers import APILogHandler

    APILogHandler().flush()
    with get_client(sync_client=True) as client:
        logs = client.read_logs(
            LogFilter(flow_run_id=LogFilterFlowRunId(any_=[state.state_details.flow_run_id]))
        )
    return "\n".join(log.message for log in logs)


def test_the_budget_limit_is_created_then_updated_idempotently(prefect_api):
    with get_client(sync_client=True) as client:
        for rpm in (5, 5, 90):
            spec = ensure_rate_limit(rpm, name="polygon-api-idempotence")
            limit = client.read_global_concurrency_limit_by_name(spec.name)
            assert (limit.limit, limit.slot_decay_per_second, limit.active) == (
                1,
                pytest.approx(rpm / 60),
                True,
            )
        client.delete_global_concurrency_limit_by_name("polygon-api-idempotence")


def test_daily_flow_lands_days_oldest_first_then_is_up_to_date(env, server):
    for day in (D1, D2):
        server.route(GROUPED + day.isoformat(), json_reply(grouped_day_body(day)))
    state = polygon_daily_ingestion(days_back=2, end=D2, return_state=True)
    assert state.is_completed(), state.message
    assert [r.path[-10:] for r in server.seen(GROUPED)] == ["2024-01-02", "2024-01-03"]
    assert rows(
        env,
        "select window_start, status, flow_run_id from raw.load_runs where symbol = '*' order by 1",
    ) == [
        (D1, "success", str(state.state_details.flow_run_id)),
        (D2, "success", str(state.state_details.flow_run_id)),
    ]
    table = artifacts_of(state)["polygon-daily-ingestion"]
    assert [(r["window"], r["status"], r["inserted"]) for r in table] == [
        ("2024-01-02", "success", 4),
        ("2024-01-03", "success", 4),
    ]

    again = polygon_daily_ingestion(days_back=2, end=D2, return_state=True)
    assert again.is_completed()
    assert len(server.seen(GROUPED)) == 2  # nothing left to fetch
    assert artifacts_of(again)["polygon-daily-ingestion"] == [
        {"status": "up to date through 2024-01-03"}
    ]


def test_daily_flow_fails_naming_the_failed_days_and_lands_the_others(env, server):
    server.route(GROUPED + D1.isoformat(), error_reply(500, "internal error"))
    server.route(GROUPED + D2.isoformat(), json_reply(grouped_day_body(D2)))
    state = polygon_daily_ingestion(days_back=1, end=D1, symbols=["GIK"], return_state=True)
    assert state.is_failed()
    assert "HTTP 500" in state.message and KEY not in state.message
    table = artifacts_of(state)["polygon-daily-ingestion"]
    assert [(r["symbol"], r["status"]) for r in table] == [("*", "failed")]
    # the failed day is retried next time; it fails again: the run is Failed and names it,
    # while the other day lands (issue 8's failure model, flows.outcomes)
    partly = polygon_daily_ingestion(days_back=2, end=D2, return_state=True)
    assert partly.is_failed()
    assert partly.message.startswith(
        f"1 of 2 days did not land in full (1 failed): grouped-day * {D1.isoformat()} (failed: "
    )
    landed = {(o.window_start, o.status) for o in landed_result(partly)}
    assert landed == {(D1, "failed"), (D2, "success")}
    assert [r.path[-10:] for r in server.seen(GROUPED)] == [D1.isoformat()] * 6 + [D2.isoformat()]


def test_backfill_flow_shares_one_budget_across_concurrent_symbols(env, server, monkeypatch):
    rpm = 120  # one request every 0.5 s at most, whatever the concurrency
    monkeypatch.setenv("POLYGON_REQUESTS_PER_MINUTE", str(rpm))
    for symbol in ("AAPL", "MSFT", "IBM", "INTC"):
        server.route(f"/v2/aggs/ticker/{symbol}/range/*", AggsFromAlphaVantage(symbol))
    state = polygon_historical_backfill(
        symbols=["AAPL", "MSFT", "IBM", "INTC"],
        start=date(2020, 3, 2),
        end=date(2020, 3, 13),
        chunk_days=7,
        include_actions=False,
        return_state=True,
    )
    assert state.is_completed(), state.message
    outcomes = state.result()
    assert [o.status for o in outcomes] == ["success"] * 8
    requests = server.seen("/v2/aggs/")
    assert len(requests) == 8
    spacing = 60 / rpm
    for k in (1, 2, 3):  # never more than k requests in any window k slots long
        assert server.max_in_window(k * spacing - 0.05, "/v2/aggs/") <= k
    assert requests[-1].at - requests[0].at >= 7 * spacing - 0.05
    assert rows(env, "select count(*), count(distinct symbol) from raw.daily_bars") == [(40, 4)]
    assert artifacts_of(state)["polygon-backfill-progress"] == 100.0


def test_backfill_flow_keeps_going_past_an_unknown_symbol_and_resumes(env, server):
    server.route(
        "/v2/aggs/ticker/AAPL/range/1/day/2005-04-01/2005-04-04", recorded(AAPL_RANGE_RECORDING)
    )
    server.route("/v2/aggs/ticker/NOPE/range/*", json_reply(aggs_body("NOPE", [])))
    server.route(
        "/v3/reference/splits", recorded_listing("v3/reference/splits.json", "execution_date")
    )
    server.route(
        "/v3/reference/dividends",
        recorded_listing("v3/reference/dividends.json", "ex_dividend_date"),
    )
    args = dict(
        symbols=["AAPL", "NOPE"], start=date(2005, 4, 1), end=date(2005, 4, 4), chunk_days=30
    )
    state = polygon_historical_backfill(**args, return_state=True)
    assert state.is_failed() and state.message.startswith(
        "1 of 6 units did not land in full (1 failed): window NOPE 2005-04-01 (failed: "
    )
    table = artifacts_of(state)["polygon-historical-backfill"]
    assert (table[0]["symbol"], table[0]["status"]) == ("NOPE", "failed")
    assert {(r["unit"], r["symbol"], r["status"]) for r in table[1:]} == {
        ("window", "AAPL", "success"),
        ("splits", "AAPL", "success"),
        ("splits", "NOPE", "success"),
        ("dividends", "AAPL", "success"),
        ("dividends", "NOPE", "success"),
    }

    # the rerun skips what landed; all it attempts is NOPE, which fails again: Failed
    before = len(server.requests)
    again = polygon_historical_backfill(**args, return_state=True)
    assert again.is_failed() and "NOPE" in again.message
    retried = [r.path for r in server.requests[before:]]
    assert retried == ["/v2/aggs/ticker/NOPE/range/1/day/2005-04-01/2005-04-04"]
    assert rows(env, "select count(*) from raw.daily_bars") == [(2,)]


def test_reference_flow_marks_delistings_and_lands_actions(env, server):
    migrate(env)
    rows(
        env,
        "insert into raw.symbols (symbol, active, delisted_at, source) values"
        " ('A', true, null, 'test'), ('AAA', false, '2020-01-01', 'test'),"
        " ('OLD', true, null, 'test'), ('GONE', true, null, 'test') returning 1",
    )
    server.route(
        "/v3/reference/tickers",
        json_reply(tickers_body([delisted_ticker("OLD", "2023-01-05T00:00:00Z")])),
        query={"ticker": "OLD"},
    )
    server.route("/v3/reference/tickers", json_reply(tickers_body([])), query={"ticker": "GONE"})
    state = polygon_reference_data(include_actions=False, return_state=True)
    assert state.is_completed(), state.message
    assert rows(env, "select symbol, active, delisted_at from raw.symbols order by 1") == [
        ("A", True, None),
        ("AAA", True, None),
        ("GONE", False, date.today()),
        ("OLD", False, date(2023, 1, 5)),
    ]
    assert rows(env, "select count(*) from raw.polygon_tickers") == [(5,)]

    server.route(
        "/v3/reference/splits", recorded_listing("v3/reference/splits.json", "execution_date")
    )
    server.route(
        "/v3/reference/dividends",
        recorded_listing("v3/reference/dividends.json", "ex_dividend_date"),
    )
    state = polygon_reference_data(
        symbols=["GOOGL", "SHOP", "CSSEN"], include_tickers=False, return_state=True
    )
    assert state.is_completed(), state.message
    assert rows(
        env,
        "select symbol, action_type, count(*) from raw.corporate_actions"
        " group by 1, 2 order by 1, 2",
    ) == [("CSSEN", "dividend", 8), ("GOOGL", "split", 1), ("SHOP", "split", 2)]
    assert len(artifacts_of(state)["polygon-reference-data"]) == 6


def test_the_key_comes_from_a_secret_block_and_never_leaks(env, server, monkeypatch):
    from prefect.blocks.system import Secret

    monkeypatch.delenv("POLYGON_API_KEY")
    missing = polygon_reference_data(symbols=["SHOP"], include_tickers=False, return_state=True)
    assert missing.is_failed() and "polygon-api-key" in missing.message
    assert server.requests == []

    Secret(value=KEY).save(SECRET_BLOCK, overwrite=True)
    # Polygon's next_url may carry the key; the second page then fails for good
    server.route(
        "/v2/aggs/ticker/AAPL/range/*",
        AggsFromAlphaVantage("AAPL", page_size=3, api_key_in_next_url=KEY),
    )
    server.route(
        "/v2/aggs/ticker/AAPL/range/*",
        error_reply(503, "unavailable"),
        query={"cursor": "bGltaXQ9MiZzb3J0PWFzYw"},
    )
    state = polygon_historical_backfill(
        symbols=["AAPL"],
        start=date(2020, 3, 2),
        end=date(2020, 3, 13),
        include_actions=False,
        return_state=True,
    )
    assert state.is_failed()
    assert all(r.authorization == f"Bearer {KEY}" for r in server.requests)
    assert any("apiKey=" in r.raw_query for r in server.requests)
    errors = " ".join(e for (e,) in rows(env, "select error from raw.load_runs"))
    artifacts = json.dumps(artifacts_of(state))
    logs = logs_of(state)
    assert "apiKey=***" in errors and "apiKey=***" in logs
    for text in (errors, artifacts, logs, state.message):
        assert KEY not in text


def test_pipeline_daily_lands_from_polygon_then_builds_and_validates(env, server):
    """The `pipeline/daily` path: vendors instead of files, then dbt and GX on what landed."""
    from flows.pipeline import pipeline
    from ingest.polygon.calendar import last_closed_session, last_sessions

    days = last_sessions(last_closed_session(), 5)  # the daily flow's default window
    for day in days:
        server.route(GROUPED + day.isoformat(), json_reply(grouped_day_body(day)))
    state = pipeline(vendors=["polygon"], return_state=True)
    assert state.is_completed(), state.message
    counts = state.result()
    assert counts["raw.daily_bars"] == 4 * len(days)  # four recorded tickers a day
    assert counts["marts.fct_daily_indicators"] == counts["raw.daily_bars"]
    summary = artifacts_of(state)["pipeline-summary"]
    assert "| polygon | Completed |" in summary and "| raw_daily_bars | passed |" in summary


def test_pipeline_daily_fails_when_no_vendor_lands_anything(env, server):
    from flows.pipeline import AllVendorsFailed, pipeline

    server.route(GROUPED + "*", error_reply(500, "boom"))  # every grouped day fails
    state = pipeline(vendors=["polygon"], return_state=True)
    assert state.is_failed()
    with pytest.raises(AllVendorsFailed):
        state.result()
