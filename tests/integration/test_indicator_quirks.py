"""TA-Lib's edge cases, on series built to reach them: flat stretches (no range, no move, no
volume), where every division by zero and every "undefined" branch of TA-Lib's code is taken.
Every registry column agrees with TA-Lib on them, full refresh and incremental alike.

- A halted stock: 60 moving bars, then 520 flat ones. Its Wilder sums (gains, losses, TR, +DM,
  -DM) decay geometrically to ~1e-14 but never to 0; TA-Lib 0.8 tests for exact zero, so RSI, the
  DIs and ADX keep their ratios. Bollinger bands collapse onto the mean.
- A series that starts flat: TR, +DM, -DM, gains, losses and ranges are all 0 in the seeds.
- A range without moves (high and low fixed, the close inside): +DM = -DM = 0 with TR > 0.
"""

from __future__ import annotations

import csv
import uuid
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bench.indicators import INDICATORS, talib_indicators
from ingest.db import migrate
from ingest.landing import ingest_file
from tests.integration.conftest import create_database, dbt, drop_database, query
from tests.integration.test_indicators import assert_matches_talib

pytestmark = pytest.mark.integration

RUN = ("run", "--exclude", "resource_type:seed+", "resource_type:snapshot+")
MOVING, FLAT = 60, 520
# the last bars arrive in a second file: the incremental run continues a frozen ADX
LATE_BARS = 10


def weekdays(start: date, n: int) -> list[date]:
    days, day = [], start
    while len(days) < n:
        if day.weekday() < 5:
            days.append(day)
        day += timedelta(days=1)
    return days


def moving_bars(rng: np.random.Generator, n: int, close: float) -> list[tuple[float, ...]]:
    bars = []
    for _ in range(n):
        close = max(close * float(np.exp(rng.normal(0, 0.02))), 1.0)
        high = close * (1 + float(rng.uniform(0, 0.02)))
        low = close * (1 - float(rng.uniform(0, 0.02)))
        bars.append((close, high, low, close, float(rng.integers(1_000, 100_000))))
    return bars


def series() -> dict[str, list[tuple[float, ...]]]:
    """symbol -> bars (open, high, low, close, volume), oldest first."""
    rng = np.random.default_rng(7)
    halted = moving_bars(rng, MOVING, 50.0)
    last = halted[-1][3]
    halted += [(last, last, last, last, 0.0)] * FLAT
    starts_flat = [(20.0, 20.0, 20.0, 20.0, 500.0)] * 40 + moving_bars(rng, 200, 20.0)
    pinned = moving_bars(rng, MOVING, 30.0)
    closes = [29.5, 30.5, 30.0, 29.8]
    pinned += [(30.0, 31.0, 29.0, closes[i % 4], 1_000.0) for i in range(FLAT)]
    return {"QHALT": halted, "QFLAT": starts_flat, "QPIN": pinned}


def arrays(bars: list[tuple[float, ...]]) -> tuple[np.ndarray, ...]:
    """open, high, low, close, volume of a series, as float arrays."""
    return tuple(np.array(x, dtype=float) for x in zip(*bars, strict=True))


def write_csv(path: Path, rows: list[tuple[str, date, tuple[float, ...]]]) -> Path:
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["symbol", "date", "open", "high", "low", "close", "volume"])
        for symbol, day, (o, h, low, c, v) in rows:
            w.writerow([symbol, day.isoformat(), repr(o), repr(h), repr(low), repr(c), int(v)])
    return path


@pytest.fixture(scope="module")
def quirky_warehouse(pg_server, tmp_path_factory):
    """The series landed in two files, the engine run after each (the second incrementally)."""
    folder = tmp_path_factory.mktemp("quirks")
    early, late = [], []
    for symbol, bars in series().items():
        days = weekdays(date(2010, 1, 4), len(bars))
        rows = [(symbol, d, b) for d, b in zip(days, bars, strict=True)]
        early += rows[:-LATE_BARS]
        late += rows[-LATE_BARS:]
    url = create_database(pg_server)
    migrate(url)
    for i, rows in enumerate((early, late)):
        outcome = ingest_file(
            url, write_csv(folder / f"part{i}.csv", rows), load_run_id=uuid.uuid4()
        )
        assert outcome.ok, outcome.error
        result = dbt(url, *RUN)
        assert result.success, result.exception
    yield url
    drop_database(pg_server, url)


def engine_rows(url) -> pd.DataFrame:
    return query(
        url,
        "select * from intermediate.int_daily_indicators_computed order by symbol, trade_date",
    ).drop(columns=["source_loaded_at"])


def test_every_column_agrees_with_talib_on_flat_stretches(quirky_warehouse):
    got = query(
        quirky_warehouse, "select * from marts.fct_daily_indicators order by symbol, trade_date"
    )
    failures = []
    for symbol, bars in series().items():
        _, h, low, c, v = arrays(bars)
        expected = talib_indicators(h, low, c, v)
        mine = got[got["symbol"] == symbol]
        assert len(mine) == len(bars)
        for column in INDICATORS:
            try:
                assert_matches_talib(
                    symbol,
                    column,
                    mine[column].to_numpy(dtype=float),
                    expected[column],
                    c,
                    expected.get("ad"),
                )
            except AssertionError as exc:
                failures.append(str(exc).splitlines()[0])
    assert not failures, "\n".join(failures)


def test_tiny_smoothed_sums_still_divide_as_talib_does(quirky_warehouse):
    """TA-Lib (0.8) tests for exact zero: after 520 flat bars the Wilder sums of a halted stock
    are ~1e-14 and still give RSI, +DI, -DI and ADX their frozen ratios. A fixed 1e-14 band (older
    TA-Lib, and this engine before) would have turned them into 0."""
    _, h, low, c, v = arrays(series()["QHALT"])
    expected = talib_indicators(h, low, c, v)
    got = query(
        quirky_warehouse,
        "select * from marts.fct_daily_indicators where symbol = 'QHALT' order by trade_date",
    )
    last = got.iloc[-1]
    assert 0 < last["atr_14"] < 1e-13 and 0 < expected["atr_14"][-1] < 1e-13
    for column in ("rsi_14", "plus_di_14", "minus_di_14", "adx_14"):
        assert last[column] > 1, column
        assert abs(last[column] - expected[column][-1]) <= 1e-9 * abs(expected[column][-1])
    # the Bollinger bands of a flat window collapse onto the mean, as TA-Lib's do
    assert last["bb_upper"] == last["bb_middle"] == last["bb_lower"]
    assert abs(last["bb_middle"] - c[-1]) <= 1e-12 * c[-1]


def test_the_incremental_run_equals_a_full_refresh_on_them(quirky_warehouse):
    incremental = engine_rows(quirky_warehouse)
    assert dbt(quirky_warehouse, *RUN, "--full-refresh").success
    pd.testing.assert_frame_equal(incremental, engine_rows(quirky_warehouse), check_exact=True)
