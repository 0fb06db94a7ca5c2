"""`mdw ingest ...` as a user meets it (issue 16, defect 3; issue 20): every expected failure is
one line - what, why, what to do - and exit code 1, never Prefect's "Encountered exception"
and a traceback.

The commands run in this process (`mdw.cli.main`) against a real Prefect server (the test
harness, found through MDW_PREFECT_PORT as the stack's is), a real PostgreSQL and, for Yahoo, the
stand-in or a closed port. What the terminal gets is read at the file descriptors (capfd): the
command's own lines and anything Prefect or a library would print.
"""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest

import ingest.yahoo
from ingest.db import migrate, transaction
from ingest.yahoo.session import use_endpoint
from mdw.cli import main

pytestmark = pytest.mark.integration

HEADER = "symbol,date,open,high,low,close,volume\n"


@pytest.fixture
def cli(prefect_api, warehouse_url, tmp_path, monkeypatch):
    """MDW_* pointing at the harness's Prefect server and the test database; the variables
    `mdw` sets for the stack while it runs are put back afterwards."""
    from prefect.settings import PREFECT_API_URL

    saved = dict(os.environ)
    monkeypatch.setenv("MDW_PREFECT_PORT", str(urlsplit(PREFECT_API_URL.value()).port))
    monkeypatch.setenv("MDW_HOME", str(tmp_path / "mdw"))
    monkeypatch.setenv("WAREHOUSE_URL", warehouse_url.render_as_string(hide_password=False))
    monkeypatch.delenv("MDW_UNIVERSE", raising=False)
    migrate(warehouse_url)
    yield warehouse_url
    os.environ.clear()
    os.environ.update(saved)


def run(capfd, *argv: str) -> tuple[int, list[str]]:
    capfd.readouterr()
    code = main(list(argv))
    captured = capfd.readouterr()
    lines = [line for line in (captured.out + captured.err).splitlines() if line.strip()]
    assert not any("Traceback" in line or "Encountered exception" in line for line in lines), lines
    return code, lines


def rows(url, sql):
    with transaction(url) as cur:
        cur.execute(sql)
        return cur.fetchall()


def test_a_file_with_a_wrong_header_is_one_line_and_exit_1(cli, capfd, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("symbol,date,open,high,low,close\nAAPL,2020-01-03,10,11,9,10\n")
    code, lines = run(capfd, "ingest", "files", str(bad))
    assert code == 1
    assert len(lines) == 1, lines
    assert str(bad) in lines[0] and "line 1: missing column(s) volume" in lines[0]
    assert "fix the file" in lines[0]
    assert rows(cli, "select symbol, status from raw.load_runs") == [("*", "failed")]


def test_quarantined_rows_are_named_with_a_ready_query(cli, capfd, tmp_path):
    path = tmp_path / "bars.csv"
    path.write_text(HEADER + "ZZZ,2024-01-02,10,11,9,10.5,1000\nZZZ,2024-01-03,10.5,12,10,0,900\n")
    code, lines = run(capfd, "ingest", "files", str(path))
    assert code == 0 and len(lines) == 1, lines
    ((run_id,),) = rows(cli, "select load_run_id::text from raw.load_runs")
    query = f"select * from raw.rejected_bars where last_seen_run_id = '{run_id}'"
    assert "2 received = 1 inserted + 0 updated + 0 unchanged + 1 quarantined" in lines[0]
    assert query in lines[0]
    assert rows(cli, query.replace("*", "reason")) == [("non-positive close",)]


def test_a_directory_is_named_as_a_directory_and_nothing_runs(cli, capfd, tmp_path):
    folder = tmp_path / "bars"
    folder.mkdir()
    code, lines = run(capfd, "ingest", "files", str(folder))
    assert code == 1 and len(lines) == 1, lines
    assert f"{folder} is a directory, not a file" in lines[0]
    assert rows(cli, "select count(*) from raw.load_runs") == [(0,)]


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed again when the block ends: nothing listens there


def test_yahoo_offline_is_one_line_exit_1_and_stops_early(cli, capfd, monkeypatch):
    """Every Yahoo host refuses connections: the run stops after a few requests and records
    the rest as not attempted, in seconds rather than retrying every symbol in full."""
    monkeypatch.setenv("YAHOO_REQUESTS_PER_MINUTE", "6000")
    monkeypatch.setattr(ingest.yahoo, "DEFAULT_BACKOFF_SECONDS", 0.05)
    symbols = [f"S{i:03d}" for i in range(200)]
    started = time.monotonic()
    with use_endpoint(f"http://{{host}}.localhost:{closed_port()}"):
        code, lines = run(capfd, "ingest", "yahoo", "--symbols", ",".join(symbols))
    elapsed = time.monotonic() - started
    assert code == 1 and len(lines) == 1, lines
    assert lines[0].startswith("mdw: yahoo-market-data Failed: stopped early: Yahoo unreachable")
    assert "200 of 200 symbols did not land in full" in lines[0]
    assert "check the vendor" in lines[0]
    assert elapsed < 60, elapsed
    assert rows(
        cli,
        "select status, count(*), count(*) filter (where error like 'not attempted: %')"
        " from raw.load_runs group by 1",
    ) == [("failed", 200, 199)]


def test_a_partial_yahoo_landing_ends_failed_and_exits_1(cli, capfd, monkeypatch):
    """Issue 16 defect 5: the 1h window answered 422 (older than 730 days) while the daily
    bars land - the symbol is partial, the run Failed, the command exits 1 in one line."""
    from tests.support.yahoo_server import YahooServer

    monkeypatch.setenv("YAHOO_REQUESTS_PER_MINUTE", "6000")
    with YahooServer() as server, use_endpoint(server.endpoint):
        code, lines = run(
            capfd,
            "ingest",
            "yahoo",
            "--symbols",
            "AAPL",
            "--start",
            "2020-08-31",
            "--end",
            "2020-11-07",
        )
    assert code == 1 and len(lines) == 1, lines
    assert "1 of 1 symbols did not land in full (1 partial)" in lines[0]
    assert "The requested range must be within the last 730 days" in lines[0]
    assert rows(cli, "select status, rows_inserted from raw.load_runs") == [("partial", 51)]


def test_single_symbol_files_land_with_their_symbol(cli, capfd, tmp_path):
    shared = Path(__file__).resolve().parents[3] / "shared" / "data" / "prices"
    nvda = shared / "single_symbol" / "NVDA_yfinance_daily_2020_2024.csv"
    code, lines = run(capfd, "ingest", "files", "--symbol", "nvda", str(nvda))
    assert code == 0 and len(lines) == 1, lines
    assert "1190 received = 1190 inserted" in lines[0]
    code, lines = run(capfd, "ingest", "files", str(nvda))
    assert code == 1 and len(lines) == 1, lines
    assert "no symbol column" in lines[0] and "--symbol SYM" in lines[0]
