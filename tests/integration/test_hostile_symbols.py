"""Hostile symbol strings through the flows: they are data (bound parameters), never SQL.

(The CLI refuses them before any flow runs: tests/unit/test_cli.py.)
"""

from __future__ import annotations

import csv
from datetime import date

import pytest
from prefect.testing.utilities import prefect_test_harness

import ingest.yahoo
from flows.ingest_files import ingest_files
from flows.yahoo import yahoo_market_data
from ingest.db import migrate, transaction
from ingest.yahoo.session import use_endpoint
from tests.support.yahoo_server import YahooServer

pytestmark = pytest.mark.integration

HOSTILE = [
    "AAPL'; drop table raw.daily_bars; --",
    'X" or 1=1; --',
    "Q'); delete from raw.load_runs; --",
    "$$; drop schema raw cascade; $$",
    "<script>alert(1)</script>",
]


@pytest.fixture(scope="module")
def prefect_api():
    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture
def stack(prefect_api, warehouse_url, tmp_path, monkeypatch):
    monkeypatch.setenv("WAREHOUSE_URL", warehouse_url.render_as_string(hide_password=False))
    monkeypatch.setenv("MDW_HOME", str(tmp_path / "mdw"))
    monkeypatch.delenv("MDW_UNIVERSE", raising=False)
    migrate(warehouse_url)
    return warehouse_url


def rows(url, sql, params=None):
    with transaction(url) as cur:
        cur.execute(sql, params)
        return cur.fetchall()


def test_hostile_symbols_in_a_file_are_landed_or_quarantined_verbatim(stack, tmp_path):
    path = tmp_path / "hostile.csv"
    with path.open("w", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["symbol", "date", "open", "high", "low", "close", "volume"])
        out.writerow(["SAFE", "2024-01-02", 10, 11, 9, 10.5, 100])
        for symbol in HOSTILE:
            out.writerow([symbol, "2024-01-02", 10, 11, 9, 10.5, 100])
    outcomes = ingest_files([str(path)])
    assert outcomes[0].ok and outcomes[0].received == len(HOSTILE) + 1
    landed = {r[0] for r in rows(stack, "select symbol from raw.daily_bars")}
    quarantined = {r[0] for r in rows(stack, "select symbol from raw.rejected_bars")}
    assert "SAFE" in landed
    # every hostile string is stored as the text it was (landed or quarantined), nothing ran
    assert {s.strip().upper() for s in HOSTILE} <= {s.upper() for s in landed | quarantined}
    assert rows(stack, "select count(*) from raw.load_runs")[0][0] >= 1


def test_hostile_symbols_given_to_a_vendor_flow_are_recorded_as_failures(stack, monkeypatch):
    monkeypatch.setenv("YAHOO_REQUESTS_PER_MINUTE", "6000")
    monkeypatch.setenv("YAHOO_MAX_RETRIES", "0")
    monkeypatch.setattr(ingest.yahoo, "DEFAULT_BACKOFF_SECONDS", 0.01)
    with YahooServer() as server, use_endpoint(server.endpoint):
        state = yahoo_market_data(
            symbols=HOSTILE,
            interval="1d",
            start=date(2020, 8, 31),
            end=date(2020, 11, 7),
            return_state=True,
        )
    assert state.is_failed()  # nothing landed: no such tickers
    asked = [s.upper() for s in HOSTILE]  # the flow upper-cases tickers
    recorded = rows(
        stack, "select symbol, status from raw.load_runs where symbol = any(%s)", (asked,)
    )
    assert {s for s, _ in recorded} == set(asked)
    assert {status for _, status in recorded} == {"failed"}
    for table in ("raw.daily_bars", "raw.load_runs", "raw.symbols"):
        assert rows(stack, f"select to_regclass('{table}') is not null")[0][0]
