"""Trading days (XNYS, from exchange_calendars) and the planning of what to fetch (pure)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache

import pandas as pd

# Polygon publishes a session's grouped bars some time after the close; a day asked for too
# early comes back empty (recorded as failed and fetched again by the next run).
PUBLISH_DELAY = timedelta(hours=1)


@lru_cache(maxsize=8)
def _xnys(first_year: int):
    import exchange_calendars as xcals

    return xcals.get_calendar("XNYS", start=f"{first_year}-01-01")


def calendar_for(start: date):
    """The XNYS calendar covering `start` (the library's default starts 20 years back)."""
    return _xnys(min(start.year, 2006))


def sessions(start: date, end: date) -> list[date]:
    """XNYS sessions from `start` to `end`, both included."""
    if end < start:
        return []
    cal = calendar_for(start)
    first = max(pd.Timestamp(start), cal.first_session)
    last = min(pd.Timestamp(end), cal.last_session)
    if last < first:
        return []
    return [ts.date() for ts in cal.sessions_in_range(first, last)]


def last_closed_session(now: datetime | None = None) -> date:
    """The latest XNYS session whose close is at or before `now` (early closes included).
    Default `now`: the current time minus PUBLISH_DELAY."""
    now = now or datetime.now(UTC) - PUBLISH_DELAY
    when = pd.Timestamp(now).tz_convert("UTC") if now.tzinfo else pd.Timestamp(now, tz="UTC")
    cal = calendar_for(when.date() - timedelta(days=30))
    recent = cal.closes[(cal.closes.index >= pd.Timestamp(when.date() - timedelta(days=30)))]
    closed = recent[recent <= when]
    return closed.index[-1].date()


def last_sessions(end: date, count: int) -> list[date]:
    """The last `count` sessions up to `end`, oldest first."""
    if count <= 0:
        return []
    span = timedelta(days=count * 7 // 5 + 14)
    found = sessions(end - span, end)
    while len(found) < count and (end - span).year > 1900:
        span *= 2
        found = sessions(end - span, end)
    return found[-count:]


def missing_sessions(
    all_sessions: Sequence[date], landed: Collection[date], days_back: int
) -> list[date]:
    """The trading days a daily run fetches, oldest first.

    `all_sessions` are the sessions from (at most) the first landed day to the run's last day.
    With nothing landed yet: the last `days_back` sessions. Otherwise every session from the
    first landed day on that is not landed: the days after the watermark, and any gap left by a
    day that failed (it is retried until it lands).
    """
    if not landed:
        return list(all_sessions[-days_back:]) if days_back > 0 else []
    first = min(landed)
    return [d for d in all_sessions if d >= first and d not in landed]


def watermark(all_sessions: Sequence[date], landed: Collection[date]) -> date | None:
    """The last day up to which every session since the first landed one is landed."""
    if not landed:
        return None
    first = min(landed)
    mark = None
    for d in all_sessions:
        if d < first:
            continue
        if d not in landed:
            break
        mark = d
    return mark


def chunk_windows(start: date, end: date, chunk_days: int) -> list[tuple[date, date]]:
    """[start, end] cut into consecutive windows of `chunk_days` calendar days, oldest first."""
    if chunk_days <= 0:
        raise ValueError("chunk_days must be positive")
    windows = []
    lo = start
    while lo <= end:
        hi = min(end, lo + timedelta(days=chunk_days - 1))
        windows.append((lo, hi))
        lo = hi + timedelta(days=1)
    return windows


def clip_windows(
    windows: Sequence[tuple[date, date]], last_day: date | None
) -> tuple[list[tuple[date, date]], list[tuple[date, date]]]:
    """(windows to fetch, windows skipped): nothing after `last_day` (a delisting) is fetched."""
    if last_day is None:
        return list(windows), []
    keep, skipped = [], []
    for lo, hi in windows:
        if lo > last_day:
            skipped.append((lo, hi))
        else:
            keep.append((lo, min(hi, last_day)))
    return keep, skipped


def missing_windows(
    wanted: Sequence[date], covered: Collection[date], chunk_days: int
) -> list[tuple[date, date]]:
    """Request windows for the sessions in `wanted` (sorted) not in `covered`, oldest first.

    Each run of consecutive missing sessions is cut into windows of at most `chunk_days`
    calendar days, each starting and ending on a missing session: no window asks for a day
    that is landed, none for days without a session (a weekend-only request), and a range that
    grew at its end costs one window for the new days only.
    """
    if chunk_days <= 0:
        raise ValueError("chunk_days must be positive")
    windows: list[tuple[date, date]] = []
    lo = hi = None
    for day in wanted:
        if day in covered:
            if lo is not None:
                windows.append((lo, hi))
            lo = hi = None
            continue
        if lo is not None and day > lo + timedelta(days=chunk_days - 1):
            windows.append((lo, hi))
            lo = None
        if lo is None:
            lo = day
        hi = day
    if lo is not None:
        windows.append((lo, hi))
    return windows
