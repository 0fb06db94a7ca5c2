"""The intraday checks (pure): the same reasons as for daily bars."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from ingest.intraday import IntradayBar, check_bar, classify

START = datetime(2024, 1, 2, 14, 30, tzinfo=UTC)
GOOD = IntradayBar("aapl", START, 187.8, 188.44, 186.01, 186.19, 21173291, "America/New_York")


def reasons(**changes) -> tuple[str, ...]:
    return check_bar(GOOD._replace(**changes)).problems


def test_a_good_bar_is_typed_in_utc():
    bar = check_bar(GOOD)
    assert bar.problems == ()
    assert bar.symbol == "AAPL"
    assert bar.bar_start == START
    assert bar.values == (
        Decimal("187.8"),
        Decimal("188.44"),
        Decimal("186.01"),
        Decimal("186.19"),
        Decimal(21173291),
    )
    new_york = timezone(timedelta(hours=-5))
    assert check_bar(GOOD._replace(bar_start=START.astimezone(new_york))).bar_start == START
    assert check_bar(GOOD._replace(bar_start="2024-01-02T09:30:00-05:00")).bar_start == START


@pytest.mark.parametrize(
    "changes, expected",
    [
        ({"symbol": " "}, ("missing symbol",)),
        ({"bar_start": None}, ("missing bar_start",)),
        ({"bar_start": "yesterday"}, ("unparseable bar_start",)),
        ({"bar_start": datetime(2024, 1, 2, 14, 30)}, ("bar_start without time zone",)),
        ({"bar_start": "2024-01-02 14:30:00"}, ("bar_start without time zone",)),
        ({"open": None}, ("missing open",)),
        ({"open": float("nan")}, ("unparseable open",)),
        ({"high": float("inf")}, ("unparseable high",)),
        ({"close": "abc"}, ("unparseable close",)),
        ({"low": "NaN"}, ("unparseable low",)),
        ({"open": -1}, ("non-positive open",)),
        ({"low": 0}, ("non-positive low",)),
        ({"volume": -5}, ("negative volume",)),
        ({"volume": None}, ("missing volume",)),
        ({"high": 185.0}, ("high < low", "open outside [low, high]", "close outside [low, high]")),
        ({"open": 190.0}, ("open outside [low, high]",)),
        ({"close": 180.0}, ("close outside [low, high]",)),
        ({"high": 1e308}, ("high out of range (>= 1e9)",)),
        (
            {"symbol": "X" * 21},
            ("invalid symbol (expected 1-20 of A-Z 0-9 . - ^ = / _, no spaces)",),
        ),
        (
            {"bar_start": datetime(9999, 1, 4, 14, 30, tzinfo=UTC)},
            ("date after today (America/New_York)",),
        ),
        ({"bar_start": datetime(1969, 1, 2, 14, 30, tzinfo=UTC)}, ("date before 1970-01-01",)),
        ({"exchange_timezone": "Mars/Olympus"}, ("unknown exchange_timezone 'Mars/Olympus'",)),
        (
            {"symbol": None, "open": None, "volume": -1},
            ("missing symbol", "missing open", "negative volume"),
        ),
    ],
)
def test_every_reason_is_named(changes, expected):
    assert reasons(**changes) == expected


def test_volume_zero_and_no_time_zone_are_fine():
    assert reasons(volume=0, exchange_timezone=None) == ()


def test_repeats_land_once_and_conflicts_not_at_all():
    later = GOOD._replace(bar_start=START + timedelta(hours=1))
    changed = later._replace(close=187.0)
    good, rejected = classify([GOOD, GOOD, later, changed, GOOD._replace(open=None)])
    assert [b.bar_start for b in good] == [START]
    assert [reason for _, reason in rejected] == [
        "missing open",
        "repeated row within the batch (first copy landed)",
        "conflicting duplicate of symbol and bar_start within the batch",
        "conflicting duplicate of symbol and bar_start within the batch",
    ]
    assert rejected[0][0] == tuple(GOOD._replace(open=None))  # kept as received
