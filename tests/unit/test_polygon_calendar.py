"""Trading days and fetch planning for Polygon (pure; the XNYS calendar of exchange_calendars)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from ingest.polygon.calendar import (
    chunk_windows,
    clip_windows,
    last_closed_session,
    last_sessions,
    missing_sessions,
    missing_windows,
    sessions,
    watermark,
)


def test_sessions_follow_the_xnys_calendar():
    # Christmas 2024 and New Year's Day 2025 are holidays; weekends are not sessions
    assert sessions(date(2024, 12, 23), date(2025, 1, 3)) == [
        date(2024, 12, 23),
        date(2024, 12, 24),
        date(2024, 12, 26),
        date(2024, 12, 27),
        date(2024, 12, 30),
        date(2024, 12, 31),
        date(2025, 1, 2),
        date(2025, 1, 3),
    ]
    assert date(2024, 3, 29) not in sessions(date(2024, 3, 25), date(2024, 4, 5))  # Good Friday
    # before the library's default 20-year window
    assert sessions(date(2005, 4, 1), date(2005, 4, 5)) == [
        date(2005, 4, 1),
        date(2005, 4, 4),
        date(2005, 4, 5),
    ]
    assert sessions(date(2025, 1, 5), date(2025, 1, 1)) == []


def test_last_closed_session_respects_closes_and_early_closes():
    # 2024-12-24 closes early at 13:00 New York = 18:00Z
    assert last_closed_session(datetime(2024, 12, 24, 17, 59, tzinfo=UTC)) == date(2024, 12, 23)
    assert last_closed_session(datetime(2024, 12, 24, 18, 0, tzinfo=UTC)) == date(2024, 12, 24)
    # a holiday and a weekend: the last session before them
    assert last_closed_session(datetime(2024, 12, 25, 23, 0, tzinfo=UTC)) == date(2024, 12, 24)
    assert last_closed_session(datetime(2025, 1, 5, 12, 0, tzinfo=UTC)) == date(2025, 1, 3)


def test_last_sessions_counts_trading_days():
    assert last_sessions(date(2025, 1, 3), 3) == [
        date(2024, 12, 31),
        date(2025, 1, 2),
        date(2025, 1, 3),
    ]
    assert len(last_sessions(date(2025, 1, 3), 300)) == 300
    assert last_sessions(date(2025, 1, 3), 0) == []


def test_missing_sessions_without_a_watermark_takes_days_back():
    days = sessions(date(2024, 12, 16), date(2025, 1, 3))
    assert missing_sessions(days, set(), 3) == days[-3:]
    assert missing_sessions(days, set(), 0) == []


def test_missing_sessions_fetches_after_the_watermark_and_fills_gaps_oldest_first():
    days = sessions(date(2024, 12, 16), date(2025, 1, 3))
    landed = {date(2024, 12, 16), date(2024, 12, 17), date(2024, 12, 19)}  # the 18th failed
    todo = missing_sessions(days, landed, 5)
    assert todo[0] == date(2024, 12, 18)
    assert todo == sorted(todo)
    assert todo[1:] == [d for d in days if d > date(2024, 12, 19)]
    assert watermark(days, landed) == date(2024, 12, 17)
    assert watermark(days, set()) is None
    assert missing_sessions(days, set(days), 5) == []
    assert watermark(days, set(days)) == date(2025, 1, 3)


def test_chunk_windows_cover_the_range_without_overlap():
    windows = chunk_windows(date(2020, 1, 1), date(2020, 12, 31), 100)
    assert windows[0] == (date(2020, 1, 1), date(2020, 4, 9))
    assert windows[-1][1] == date(2020, 12, 31)
    for (_, hi), (lo, _) in zip(windows, windows[1:], strict=False):
        assert (lo - hi).days == 1
    assert chunk_windows(date(2020, 1, 1), date(2020, 1, 1), 30) == [
        (date(2020, 1, 1), date(2020, 1, 1))
    ]
    with pytest.raises(ValueError):
        chunk_windows(date(2020, 1, 1), date(2020, 1, 2), 0)


def test_clip_windows_stops_at_a_delisting():
    windows = chunk_windows(date(2020, 1, 1), date(2020, 12, 31), 100)
    keep, skipped = clip_windows(windows, date(2020, 5, 15))
    assert keep == [(date(2020, 1, 1), date(2020, 4, 9)), (date(2020, 4, 10), date(2020, 5, 15))]
    assert skipped == windows[2:]
    assert clip_windows(windows, None) == (windows, [])


def test_missing_windows_cover_only_missing_sessions_without_needless_requests():
    days = sessions(date(2015, 1, 1), date(2017, 12, 31))
    windows = missing_windows(days, set(), 365)
    assert len(windows) == 3 and windows[-1][1] == date(2017, 12, 29)  # a Friday, not a Sunday
    assert all(lo in days and hi in days for lo, hi in windows)
    # a range grown at its end (the default end moves every day): one window, new days only
    first = sessions(date(2020, 7, 1), date(2020, 9, 29))
    grown = sessions(date(2020, 7, 1), date(2020, 10, 15))
    assert missing_windows(grown, set(first), 365) == [(date(2020, 9, 30), date(2020, 10, 15))]
    # a landed day in the middle splits the request around it; nothing landed: one window
    year = sessions(date(2024, 1, 1), date(2024, 12, 31))
    assert missing_windows(year, {date(2024, 6, 3)}, 365) == [
        (date(2024, 1, 2), date(2024, 5, 31)),
        (date(2024, 6, 4), date(2024, 12, 31)),
    ]
    assert missing_windows(year, set(year), 30) == []
    with pytest.raises(ValueError):
        missing_windows(year, set(), 0)
