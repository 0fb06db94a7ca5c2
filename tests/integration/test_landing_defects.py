"""Regression tests for the dirty-file defects of issue 10 (each numbered as in the issue).

Every case lands a small real file into a real PostgreSQL and checks: what landed, what was
quarantined (with its line), that the attempt wrote its raw.load_runs row, and that a failure
message names the file and the line.
"""

from __future__ import annotations

import os
import threading
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest

from ingest.db import migrate, transaction
from ingest.landing import ingest_file

pytestmark = pytest.mark.integration

HEADER = "symbol,date,open,high,low,close,volume\n"
GOOD = "AAPL,2020-01-02,10,11,9,10.5,100\n"


def rows(url, sql, *params):
    with transaction(url) as cur:
        cur.execute(sql, params)
        return cur.fetchall()


def write(path: Path, body: str | bytes) -> Path:
    data = body if isinstance(body, bytes) else body.encode()
    path.write_bytes(data)
    return path


def counts(url) -> tuple[int, int]:
    landed = rows(url, "select count(*) from raw.daily_bars")[0][0]
    quarantined = rows(url, "select count(*) from raw.rejected_bars")[0][0]
    return landed, quarantined


@pytest.fixture
def url(warehouse_url):
    migrate(warehouse_url)
    return warehouse_url


def test_1_repeats_and_identical_rejects_are_all_quarantined_once_with_a_count(url, tmp_path):
    body = HEADER + GOOD * 3 + ",,,,,,\n" * 2 + "AAPL,2020-01-03,-1,11,9,10,5\n" * 2
    path = write(tmp_path / "repeats.csv", body)
    outcome = ingest_file(url, path)
    assert outcome.ok, outcome.error
    assert counts(url) == (1, 3)
    assert (outcome.received, outcome.inserted, outcome.rejected) == (7, 1, 6)
    # one quarantine row per distinct bad line, with how often it occurred
    assert rows(url, "select source_line, occurrences from raw.rejected_bars order by 1") == [
        (3, 2),  # the repeats of GOOD (lines 3 and 4)
        (5, 2),  # ,,,,,,
        (7, 2),  # the negative price
    ]
    # a rerun adds nothing: the quarantine is idempotent, repeats included
    again = ingest_file(url, path)
    assert again.ok and counts(url) == (1, 3)
    assert again.unchanged == 1


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("AAPL,2020-01-03,1e308,1e308,1e308,1e308,1", "open out of range"),
        ("AAPL,2020-01-03,10,11,9,10,1e30", "volume out of range"),
    ],
)
def test_2_values_the_marts_cannot_compute_with_are_quarantined(url, tmp_path, line, reason):
    outcome = ingest_file(url, write(tmp_path / "big.csv", HEADER + GOOD + line + "\n"))
    assert outcome.ok
    assert counts(url) == (1, 1)
    assert reason in rows(url, "select reason from raw.rejected_bars")[0][0]


@pytest.mark.parametrize(
    ("day", "reason"),
    [
        ("yesterday", "unparseable date"),
        ("epoch", "unparseable date"),
        ("infinity", "unparseable date"),
        ("06/01/2020", "unparseable date"),
        ("13/01/2020", "unparseable date"),
        ("0001-01-01 BC", "unparseable date"),
        ("9999-12-31", "date after today"),
        ("1969-12-31", "date before 1970-01-01"),
    ],
)
def test_3_dates_are_iso_and_in_range(url, tmp_path, day, reason):
    body = HEADER + GOOD + f"AAPL,{day},10,11,9,10,5\n"
    outcome = ingest_file(url, write(tmp_path / "dates.csv", body))
    assert outcome.ok, outcome.error
    assert counts(url) == (1, 1)
    ((got_day, got_reason),) = rows(url, "select trade_date, reason from raw.rejected_bars")
    assert got_day == day and reason in got_reason


def test_4_non_utf8_byte_quarantines_its_line_and_names_it(url, tmp_path):
    body = HEADER.encode() + GOOD.encode() + b"AAPL,2020-01-03,10,11,9,10,5\xff\n"
    outcome = ingest_file(url, write(tmp_path / "latin1.csv", body))
    assert outcome.ok, outcome.error
    assert counts(url) == (1, 1)
    ((line, volume, reason),) = rows(
        url, "select source_line, volume, reason from raw.rejected_bars"
    )
    assert line == 3 and volume == "5\\xff" and "not valid UTF-8" in reason
    ((error,),) = rows(url, "select error from raw.load_runs")
    assert "latin1.csv line 3" in error


def test_4_non_utf8_header_is_a_failed_load_run_naming_file_and_line(url, tmp_path):
    path = write(tmp_path / "h.csv", b"symbol,d\xe9te,open,high,low,close,volume\n" + GOOD.encode())
    outcome = ingest_file(url, path)
    assert not outcome.ok and f"{path}: line 1:" in outcome.error
    assert rows(url, "select symbol, status from raw.load_runs") == [("*", "failed")]


def test_4_over_long_and_control_character_symbols_are_quarantined(url, tmp_path):
    body = (
        HEADER
        + GOOD
        + "X" * 6000
        + ",2020-01-03,10,11,9,10,5\n"
        + "AA\tPL,2020-01-03,10,11,9,10,5\n"
    )
    outcome = ingest_file(url, write(tmp_path / "long.csv", body))
    assert outcome.ok, outcome.error
    assert counts(url) == (1, 2)
    assert {r for (r,) in rows(url, "select reason from raw.rejected_bars")} == {
        "invalid symbol (expected 1-20 of A-Z 0-9 . - ^ = / _, no spaces)"
    }
    assert rows(url, "select symbol, status from raw.load_runs order by 1") == [
        ("(unparseable symbol)", "failed"),
        ("AAPL", "success"),
    ]


def test_4_header_only_and_empty_files_are_failed_load_runs(url, tmp_path):
    header_only = ingest_file(url, write(tmp_path / "header.csv", HEADER))
    empty = ingest_file(url, write(tmp_path / "empty.csv", ""))
    assert "header.csv: line 2: no data rows" in header_only.error
    assert "empty.csv: empty file (line 1" in empty.error
    assert rows(url, "select source_uri, status from raw.load_runs order by 1") == [
        (str(tmp_path / "empty.csv"), "failed"),
        (str(tmp_path / "header.csv"), "failed"),
    ]


def test_5_one_bad_line_is_quarantined_and_the_rest_lands(url, tmp_path):
    body = (
        HEADER
        + GOOD
        + "AAPL,2020-01-03,10,11,9,10,5,extra\n"  # ragged: too many fields
        + "AAPL,2020-01-06,10,11\n"  # ragged: too few
        + "AAPL,2020-01-07,10,11,9,10,5\r\n"  # a stray CRLF in an LF file
        + "AAPL,2020-01-08,10,11,9,10,5\n"
        + "\n\n\n"  # trailing blank lines are not rows
    )
    outcome = ingest_file(url, write(tmp_path / "ragged.csv", body))
    assert outcome.ok, outcome.error
    assert counts(url) == (3, 2)
    got = rows(url, "select source_line, reason from raw.rejected_bars order by 1")
    assert got == [
        (3, "malformed line: line has 8 fields, expected 7"),
        (4, "malformed line: line has 4 fields, expected 7"),
    ]
    assert rows(url, "select volume from raw.rejected_bars where source_line = 3") == [("5,extra",)]


def test_6_parquet_timestamps_are_dated_by_the_new_york_trading_day(url, tmp_path):
    frame = pd.DataFrame(
        {
            "symbol": ["AAPL", "AAPL"],
            # 21:00 UTC on Jan 2 is 16:00 in New York; 02:00 UTC on Jan 4 is still Jan 3 there
            "timestamp": pd.to_datetime(["2020-01-02 21:00", "2020-01-04 02:00"], utc=True),
            "open": [10.0, 10.0],
            "high": [11.0, 11.0],
            "low": [9.0, 9.0],
            "close": [10.0, 10.0],
            "volume": [5, 6],
        }
    )
    path = tmp_path / "utc.parquet"
    frame.to_parquet(path)
    assert ingest_file(url, path).ok
    assert rows(url, "select trade_date::text from raw.daily_bars order by 1") == [
        ("2020-01-02",),
        ("2020-01-03",),
    ]


def test_7_directory_and_fifo_are_named_and_stop(url, tmp_path):
    folder = tmp_path / "bars.csv"
    folder.mkdir()
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    result: dict = {}
    worker = threading.Thread(target=lambda: result.update(o=ingest_file(url, fifo)))
    worker.start()
    worker.join(timeout=20)
    assert not worker.is_alive(), "landing a FIFO hung"
    assert "is a FIFO (named pipe)" in result["o"].error
    assert "is a directory" in ingest_file(url, folder).error
    assert [s for (s,) in rows(url, "select status from raw.load_runs")] == ["failed", "failed"]


def test_rows_landed_before_today_boundary_are_accepted(url, tmp_path):
    """The upper date bound is today in New York: today's bar lands."""
    today = datetime.now(UTC).astimezone(__import__("zoneinfo").ZoneInfo("America/New_York"))
    body = HEADER + f"AAPL,{today.date().isoformat()},10,11,9,10,5\n"
    assert ingest_file(url, write(tmp_path / "today.csv", body)).ok
    assert counts(url) == (1, 0)
