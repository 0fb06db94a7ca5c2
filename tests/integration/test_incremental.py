"""Incremental dbt runs equal a full refresh: history landed in uneven chunks, a restated bar,
a new split. Compared bit for bit (the engine is built to be exact, not merely close). The
incremental runs split the engine's statement over two parallel workers (symbol buckets,
macros/symbol_buckets.sql), the full refreshes run it as one statement: the same rows either
way."""

from __future__ import annotations

import csv
import uuid
from pathlib import Path

import pandas as pd
import pytest

from ingest.actions import CorporateAction, land_actions
from ingest.db import migrate, transaction
from ingest.landing import ingest_file
from tests.conftest import SAMPLE
from tests.integration.conftest import (
    copy_database,
    create_database,
    dbt,
    dbt_target,
    drop_database,
    query,
)

# The engine and its marts; what reads seeds or snapshots (the data-quality marts, the symbol
# dimension), which `dbt run` alone does not build, is not what these tests compare.
RUN = ("run", "--exclude", "resource_type:seed+", "resource_type:snapshot+")
# the engine's statement in two buckets of symbols, run by parallel workers (the sample's 20
# symbols are below the default threshold of a split)
SPLIT = ("--vars", "{indicator_build_workers: 2, indicator_split_min_symbols: 2}")

pytestmark = pytest.mark.integration

CHUNK_ENDS = ["2013-06-30", "2014-11-15", "2016-12-31", "2018-02-02", "2018-02-05", "2018-02-07"]
TABLES = {
    "intermediate.int_daily_indicators_computed": "symbol, trade_date",
    "marts.fct_daily_bars": "symbol, trade_date",
    "marts.fct_signals": "symbol, trade_date, signal",
}


def write_chunk(rows: list[list[str]], path: Path) -> Path:
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["symbol", "date", "open", "high", "low", "close", "volume"])
        w.writerows(rows)
    return path


def changed_rows(a: pd.DataFrame, b: pd.DataFrame) -> pd.DataFrame:
    """Rows of b that differ from a (NaN equals NaN here)."""
    differs = ~((a == b) | (a.isna() & b.isna()))
    return b[differs.any(axis=1)]


def snapshot(url) -> dict[str, pd.DataFrame]:
    return {
        t: query(url, f"select * from {t} order by {key}").drop(
            columns=["source_loaded_at", "loaded_at"], errors="ignore"
        )
        for t, key in TABLES.items()
    }


def assert_same(a: dict[str, pd.DataFrame], b: dict[str, pd.DataFrame]) -> None:
    for table in TABLES:
        left, right = a[table], b[table]
        assert left.shape == right.shape, table
        pd.testing.assert_frame_equal(left, right, check_exact=True, obj=table)


@pytest.fixture(scope="module")
def chunked_template(pg_server, tmp_path_factory):
    """The sample landed in uneven chunks, each followed by an incremental run: built once."""
    tmp_path = tmp_path_factory.mktemp("chunks")
    url = create_database(pg_server)
    migrate(url)
    with SAMPLE.open() as fh:
        rows = list(csv.reader(fh))[1:]
    start = "0000-00-00"
    for i, end in enumerate(CHUNK_ENDS):
        chunk = [r for r in rows if start < r[1] <= end]
        ingest_file(url, write_chunk(chunk, tmp_path / f"chunk{i}.csv"))
        result = dbt(url, *RUN, *SPLIT)
        assert result.success, result.exception
        start = end
    yield url
    drop_database(pg_server, url)


@pytest.fixture
def chunked_warehouse(pg_server, chunked_template):
    """A private copy of the chunked build (by template), which the test changes."""
    url = copy_database(pg_server, chunked_template, "chunked")
    yield url
    drop_database(pg_server, url)


def test_uneven_chunks_restatements_and_splits_equal_a_full_refresh(chunked_warehouse, tmp_path):
    url = chunked_warehouse
    incremental = snapshot(url)
    assert len(incremental["intermediate.int_daily_indicators_computed"]) == 22202

    # 1. after history arrived in uneven chunks
    assert dbt(url, *RUN, "--full-refresh").success
    assert_same(incremental, snapshot(url))

    # 2. a vendor restates an old bar: only that symbol's rows from that day on change
    with transaction(url) as cur:
        cur.execute(
            "update raw.daily_bars set close = close * 1.01, high = high * 1.01,"
            " loaded_at = now() where symbol = 'MSFT' and trade_date = '2015-03-02'"
        )
    before = snapshot(url)
    assert dbt(url, *RUN, *SPLIT).success
    restated = snapshot(url)
    ind = "intermediate.int_daily_indicators_computed"
    changed = changed_rows(before[ind], restated[ind])
    assert set(changed["symbol"]) == {"MSFT"}
    assert str(changed["trade_date"].min()) == "2015-03-02"
    assert dbt(url, *RUN, "--full-refresh").success
    assert_same(restated, snapshot(url))

    # 3. a split lands: the symbol's history is restated, and only that symbol's
    with transaction(url) as cur:
        land_actions(
            cur,
            [CorporateAction("KO", "split", "2016-01-04", split_from=1, split_to=2)],
            source="files",
            load_run_id=uuid.uuid4(),
        )
    assert dbt(url, *RUN, *SPLIT).success
    after_split = snapshot(url)
    assert set(changed_rows(restated[ind], after_split[ind])["symbol"]) == {"KO"}
    bars = after_split["marts.fct_daily_bars"]
    ko = bars[bars["symbol"] == "KO"].set_index("trade_date")
    assert ko.loc[pd.Timestamp("2015-12-31").date(), "split_factor"] == 2
    assert ko.loc[pd.Timestamp("2016-01-04").date(), "split_factor"] == 1
    assert dbt(url, *RUN, "--full-refresh").success
    assert_same(after_split, snapshot(url))


def test_a_daily_increment_reads_a_bounded_look_back(chunked_warehouse):
    """Only changed symbols are recomputed, from the changed day, with carried state."""
    url = chunked_warehouse
    with transaction(url) as cur:
        cur.execute(
            "update raw.daily_bars set volume = volume + 1, loaded_at = now()"
            " where symbol = 'AAPL' and trade_date = '2018-02-07'"
        )
    sql = (
        "select symbol, trade_date, obv from intermediate.int_daily_indicators_computed"
        " where symbol = 'AAPL' order by trade_date"
    )
    before = query(url, sql)
    assert dbt(url, *RUN, "--select", "int_daily_indicators_computed").success
    after = query(url, sql)
    diff = after["obv"] - before["obv"]
    assert (diff.iloc[:-1] == 0).all() and diff.iloc[-1] in (1.0, -1.0)


def test_a_full_build_split_over_cores_equals_one_statement(warehouse_copy):
    """The full build with the symbols in buckets run by parallel workers stores the same table,
    to the bit, as the one-statement build of the shared warehouse (the sample is below the
    default threshold of a split)."""
    url = warehouse_copy
    table = "intermediate.int_daily_indicators_computed"
    one_statement = query(url, f"select * from {table} order by symbol, trade_date")
    result = dbt(url, "run", "--full-refresh", "--select", "int_daily_indicators_computed", *SPLIT)
    assert result.success, result.exception
    split = query(url, f"select * from {table} order by symbol, trade_date")
    pd.testing.assert_frame_equal(one_statement, split, check_exact=True)
    # the split ran: its bucket function existed during the build and was dropped after it
    compiled = (dbt_target(url, *SPLIT) / "compiled").rglob("int_daily_indicators_computed.sql")
    assert any("__bucket(array[" in path.read_text() for path in compiled)
    # by its exact name: in LIKE, '_' matches any character, so '%__bucket' also counts
    # pg_catalog's three width_bucket functions
    bucket = "int_daily_indicators_computed__bucket"
    left = query(url, f"select count(*) as n from pg_proc where proname = '{bucket}'")
    assert left["n"][0] == 0
