"""Daily end-of-day bars: one grouped-daily request per trading day for the whole US market."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from datetime import date

from polygon import RESTClient
from psycopg2.extensions import cursor as Cursor
from sqlalchemy.engine import URL

from ingest.db import transaction
from ingest.landing import land_rows
from ingest.outcomes import ALL_SYMBOLS, Outcome, Unit
from ingest.polygon import SOURCE, runs
from ingest.polygon.bars import GroupedSelection, select_grouped
from ingest.polygon.calendar import last_closed_session, missing_sessions, sessions, watermark
from ingest.polygon.calendar import last_sessions as last_n_sessions
from ingest.polygon.http import PolygonError
from ingest.polygon.runs import grouped_uri, landed_grouped_days
from ingest.units import ALONE, Run, run_unit

log = logging.getLogger(__name__)

KIND = "grouped-day"


MAX_DAYS = 30  # sessions one daily run requests at most (older gaps wait for later runs)
MAX_EMPTY_ANSWERS = 3  # a session answered with no bars this often is a known gap
EMPTY_ANSWER = "Polygon returned no bars for trading day"
KNOWN_GAP = "known gap"


@dataclass(frozen=True)
class DailyPlan:
    days: list[date]  # to fetch, oldest first
    end: date
    watermark: date | None
    deferred: int = 0  # missing sessions left for later runs by the max_days cap
    known_gaps: list[date] = field(default_factory=list)  # empty too often: not requested


def plan_days(
    url: URL, *, days_back: int, end: date | None = None, max_days: int = MAX_DAYS
) -> DailyPlan:
    """The trading days to fetch: every XNYS session after the first landed grouped day that
    has not landed (per raw.load_runs), up to `end` (default: the last closed session); with
    nothing landed yet, the last `days_back` sessions. At most `max_days` of them (the most
    recent; the rest are `deferred` to later runs), and never a known gap."""
    if max_days <= 0:
        raise ValueError("max_days must be positive")
    end = end or last_closed_session()
    gaps = {d for d in known_gaps(url, MAX_EMPTY_ANSWERS) if d <= end}
    landed = {d for d in landed_grouped_days(url) if d <= end}
    done = landed | gaps
    all_sessions = sessions(min(done), end) if landed else last_n_sessions(end, days_back)
    missing = missing_sessions(all_sessions, done if landed else set(), days_back)
    missing = [d for d in missing if d not in gaps]
    return DailyPlan(
        missing[-max_days:],
        end,
        watermark(all_sessions, done) if landed else None,
        deferred=max(0, len(missing) - max_days),
        known_gaps=sorted(gaps),
    )


def known_gaps(url: URL, answers: int) -> set[date]:
    """Sessions Polygon answered `answers` times or more with no bars at all."""
    with transaction(url) as cur:
        cur.execute(
            "select window_start from raw.load_runs"
            " where source = %s and symbol = %s and status = 'failed'"
            " and source_uri like 'polygon:/v2/aggs/grouped/%%' and error like %s"
            " group by window_start having count(*) >= %s",
            (SOURCE, ALL_SYMBOLS, f"%{EMPTY_ANSWER}%", answers),
        )
        return {row[0] for row in cur.fetchall()}


def _empty_answers(cur: Cursor, day: date) -> int:
    cur.execute(
        "select count(*) from raw.load_runs where source = %s and symbol = %s"
        " and status = 'failed' and window_start = %s and error like %s",
        (SOURCE, ALL_SYMBOLS, day, f"%{EMPTY_ANSWER}%"),
    )
    return cur.fetchone()[0]


def day_unit(day: date) -> Unit:
    return runs.unit(KIND, None, grouped_uri(day), (day, day))


def land_grouped_day(
    url: URL,
    client: RESTClient,
    day: date,
    universe: list[str] | None,
    *,
    max_symbols: int | None = None,
    run: Run = ALONE,
) -> Outcome:
    """Fetch one day for the whole market, keep the universe (None: all), land it unadjusted.

    The outcome is the day's `*` row of raw.load_runs, with a row per landed symbol and a failed
    row per universe symbol absent from Polygon's answer. Bars stamped for another day are
    quarantined. Vendor and data failures are recorded, not raised.
    """

    def fetch(_unit: Unit) -> GroupedSelection:
        aggs = client.get_grouped_daily_aggs(day.isoformat(), adjusted=False)
        return select_grouped(day, aggs, universe, max_symbols)

    def land(cur: Cursor, unit: Unit, selection: GroupedSelection) -> Outcome:
        if selection.market_rows == 0:
            tries = _empty_answers(cur, day) + 1
            note = (
                f"; {KNOWN_GAP} after {tries} empty answers: not requested again"
                if tries >= MAX_EMPTY_ANSWERS
                else f" (not published yet? answer {tries} of at most {MAX_EMPTY_ANSWERS})"
            )
            raise PolygonError(f"{EMPTY_ANSWER} {day.isoformat()}{note}")
        if selection.not_in_universe:
            run.logger.info(
                "%s: %d of %d market rows outside the universe, not landed",
                day,
                selection.not_in_universe,
                selection.market_rows,
            )
        landed = land_rows(cur, unit, selection.rows, selection.off_day)
        absent = tuple(
            replace(unit, symbol=symbol).failed(
                f"{symbol} is not in Polygon's grouped daily bars for {day.isoformat()} "
                "(unknown, delisted or not traded that day)"
            )
            for symbol in selection.missing
        )
        failures = (
            (f"{len(absent)} universe symbol(s) absent: " + ", ".join(selection.missing[:20]),)
            if absent
            else ()
        )
        notes = (
            (
                f"{len(selection.off_day)} bar(s) stamped for another day quarantined in "
                "raw.rejected_bars",
            )
            if selection.off_day
            else ()
        )
        return replace(landed, rows=landed.rows + absent, failures=failures, notes=notes)

    return run_unit(url, day_unit(day), fetch, land, run)
