"""Intraday bars into raw.intraday_bars, against a real PostgreSQL."""

from __future__ import annotations

import csv
import math
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from ingest.db import migrate, transaction
from ingest.intraday import IntradayBar, land_intraday_rows
from tests.conftest import SHARED_DATA

pytestmark = pytest.mark.integration

EA_15M = SHARED_DATA / "prices" / "yfinance_testdata" / "EA-15m-no-bad-divs.csv"


def ea_bars() -> list[IntradayBar]:
    """Real 15-minute bars as yfinance wrote them (local times with offsets, volume 0 bars)."""
    with EA_15M.open() as fh:
        return [
            IntradayBar(
                "EA",
                r["Datetime"],
                r["Open"],
                r["High"],
                r["Low"],
                r["Close"],
                r["Volume"],
                "America/New_York",
            )
            for r in csv.DictReader(fh)
        ]


def rows(url, sql):
    with transaction(url) as cur:
        cur.execute(sql)
        return cur.fetchall()


def land(url, bars, interval="15m", source="test"):
    """What a landing did: its counts, and a row per symbol."""
    with transaction(url) as cur:
        return land_intraday_rows(
            cur, bars, source=source, bar_interval=interval, load_run_id=uuid.uuid4()
        )


SNAPSHOT = "select * from raw.intraday_bars order by source, symbol, bar_interval, bar_start"


def test_real_bars_land_once_and_a_rerun_touches_nothing(warehouse_url):
    migrate(warehouse_url)
    bars = ea_bars()
    first = land(warehouse_url, bars)
    assert (first.received, first.inserted, first.updated, first.rejected) == (319, 319, 0, 0)
    [ea] = first.rows
    assert (ea.window_start.isoformat(), ea.window_end.isoformat()) == ("2026-05-26", "2026-06-03")
    assert rows(
        warehouse_url,
        "select min(bar_start), count(*) filter (where volume = 0) from raw.intraday_bars",
    ) == [(datetime(2026, 5, 26, 8, 0, tzinfo=UTC), 143)]
    before = rows(warehouse_url, SNAPSHOT)
    again = land(warehouse_url, bars)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 319)
    assert rows(warehouse_url, SNAPSHOT) == before

    restated = [bars[5]._replace(volume=str(int(bars[5].volume) + 100))]
    third = land(warehouse_url, restated)
    assert (third.inserted, third.updated) == (0, 1)
    changed = [a for a, b in zip(rows(warehouse_url, SNAPSHOT), before, strict=True) if a != b]
    assert len(changed) == 1


def test_bad_bars_are_quarantined_with_reasons_and_not_twice(warehouse_url):
    migrate(warehouse_url)
    start = datetime(2024, 1, 2, 14, 30, tzinfo=UTC)
    good = IntradayBar("AAPL", start, 187.8, 188.44, 186.01, 186.19, 21173291, "America/New_York")
    later = [good._replace(bar_start=start + timedelta(hours=h)) for h in range(1, 8)]
    bad = [
        later[0]._replace(open=math.nan),
        later[1]._replace(high=180.0),
        later[2]._replace(volume=-1),
        later[3]._replace(bar_start="2024-01-02 18:30"),
        later[4]._replace(low=None),
        later[5]._replace(close=0),
    ]
    batch = [good, good, *bad, later[6]]
    for _ in range(2):
        [aapl] = land(warehouse_url, batch, interval="1h", source="yahoo").rows
        assert (aapl.counts.received, aapl.counts.rejected) == (9, 7)
    landed = rows(warehouse_url, "select count(*) from raw.intraday_bars")[0][0]
    quarantined = rows(
        warehouse_url,
        """
        select payload ->> 'bar_start', payload ->> 'open', reason from raw.rejected_records
        where record_kind = 'intraday_bar' order by payload ->> 'bar_start', reason""",
    )
    assert landed == 2 and landed + len(quarantined) == len(batch)  # nothing dropped
    assert sorted(q[2] for q in quarantined) == sorted(
        [
            "repeated row within the batch (first copy landed)",
            "bar_start without time zone",
            "unparseable open",
            "high < low; open outside [low, high]; close outside [low, high]",
            "negative volume",
            "missing low",
            "non-positive close",
        ]
    )
    assert [q[1] for q in quarantined if q[2] == "unparseable open"] == ["nan"]  # kept visible
    assert rows(
        warehouse_url,
        "select distinct source, symbol, load_run_id = last_seen_run_id from raw.rejected_records",
    ) == [("yahoo", "AAPL", False)]
