"""Daily end-of-day bars: one grouped-daily request per trading day for the whole US market."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime

import psycopg2
from polygon import RESTClient
from sqlalchemy.engine import URL

from ingest.db import transaction
from ingest.landing import ingest_rows
from ingest.polygon import SOURCE
from ingest.polygon.bars import select_grouped
from ingest.polygon.calendar import last_closed_session, missing_sessions, sessions, watermark
from ingest.polygon.calendar import last_sessions as last_n_sessions
from ingest.polygon.http import PolygonError
from ingest.polygon.runs import (
    ALL_SYMBOLS,
    UnitOutcome,
    failed,
    grouped_uri,
    landed_grouped_days,
    outcome_from_result,
    quarantine_rows,
    record,
    with_error,
)

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


def _empty_answers(url: URL, day: date) -> int:
    with transaction(url) as cur:
        cur.execute(
            "select count(*) from raw.load_runs where source = %s and symbol = %s"
            " and status = 'failed' and window_start = %s and error like %s",
            (SOURCE, ALL_SYMBOLS, day, f"%{EMPTY_ANSWER}%"),
        )
        return cur.fetchone()[0]


def land_grouped_day(
    url: URL,
    client: RESTClient,
    day: date,
    universe: list[str] | None,
    *,
    max_symbols: int | None = None,
    flow_run_id: str | None = None,
    logger: logging.Logger | logging.LoggerAdapter = log,
) -> list[UnitOutcome]:
    """Fetch one day for the whole market, keep the universe (None: all), land it unadjusted.

    Returns the day's summary outcome (symbol `*`) first, then one failed outcome per universe
    symbol absent from Polygon's answer. Each is a raw.load_runs row (the landed symbols' rows
    are written by ingest_rows). Vendor and data failures are recorded, not raised.
    """
    started = datetime.now(UTC)
    run_id = uuid.uuid4()
    uri = grouped_uri(day)
    window = (day, day)
    try:
        aggs = client.get_grouped_daily_aggs(day.isoformat(), adjusted=False)
        selection = select_grouped(day, aggs, universe, max_symbols)
        if selection.market_rows == 0:
            tries = _empty_answers(url, day) + 1
            note = (
                f"; {KNOWN_GAP} after {tries} empty answers: not requested again"
                if tries >= MAX_EMPTY_ANSWERS
                else f" (not published yet? answer {tries} of at most {MAX_EMPTY_ANSWERS})"
            )
            raise PolygonError(f"{EMPTY_ANSWER} {day.isoformat()}{note}")
        summary = UnitOutcome(KIND, ALL_SYMBOLS, day, day, "success", uri, run_id)
        if selection.rows:
            result = ingest_rows(
                url,
                selection.rows,
                source=SOURCE,
                source_uri=uri,
                load_run_id=run_id,
                flow_run_id=flow_run_id,
            )
            summary = outcome_from_result(KIND, result, window=window, symbol=ALL_SYMBOLS)
    except (PolygonError, psycopg2.Error) as exc:
        outcome = failed(KIND, ALL_SYMBOLS, window, uri, f"{type(exc).__name__}: {exc}", run_id)
        with transaction(url) as cur:
            record(cur, outcome, started_at=started, flow_run_id=flow_run_id)
        logger.error("%s: %s", day, outcome.error)
        return [outcome]

    outcomes = []
    with transaction(url) as cur:
        if selection.off_day:
            quarantine_rows(cur, selection.off_day, load_run_id=run_id, source_uri=uri)
            summary = _with_quarantined(summary, len(selection.off_day), len(selection.rows))
        for symbol in selection.missing:
            outcomes.append(
                failed(
                    KIND,
                    symbol,
                    window,
                    uri,
                    f"{symbol} is not in Polygon's grouped daily bars for {day.isoformat()} "
                    "(unknown, delisted or not traded that day)",
                    run_id,
                )
            )
        if selection.missing:
            summary = with_error(
                summary,
                f"{len(selection.missing)} universe symbol(s) absent: "
                + ", ".join(selection.missing[:20]),
            )
            if summary.status == "success":
                summary = _status(summary, "partial")
        if selection.not_in_universe:
            logger.info(
                "%s: %d of %d market rows outside the universe, not landed",
                day,
                selection.not_in_universe,
                selection.market_rows,
            )
        outcomes.insert(0, summary)
        for outcome in outcomes:
            record(cur, outcome, started_at=started, flow_run_id=flow_run_id)
    logger.info(
        "%s: %s, %d bars received for the universe, %d inserted, %d updated, "
        "%d quarantined, %d symbol(s) absent",
        day,
        summary.status,
        summary.received,
        summary.inserted,
        summary.updated,
        summary.rejected,
        len(selection.missing),
    )
    return outcomes


def _status(outcome: UnitOutcome, status: str) -> UnitOutcome:
    return replace(outcome, status=status)


def _with_quarantined(summary: UnitOutcome, off_day: int, kept: int) -> UnitOutcome:
    note = f"{off_day} bar(s) stamped for another day quarantined in raw.rejected_bars"
    status = (
        "failed" if kept == 0 else ("partial" if summary.status == "success" else summary.status)
    )
    return replace(
        with_error(summary, note),
        status=status,
        received=summary.received + off_day,
        rejected=summary.rejected + off_day,
    )
