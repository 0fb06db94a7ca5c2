"""Land one symbol's Yahoo company data into raw.yahoo_company_data (one request per symbol).

One quoteSummary call brings every module the five datasets need (profile, key statistics,
financial statements annual and quarterly, institutional holders, officers); each dataset is
upserted as a JSONB snapshot keyed (symbol, dataset, as_of_date) and rewritten only when the
payload differs. A module that is not an object is quarantined in raw.rejected_records
(record_kind 'company:<dataset>'). Each symbol is one unit (ingest.units) whose counts are
datasets: `failed` when the fetch failed or every dataset was quarantined, else `success`; a
dataset Yahoo does not have for the symbol (an ETF has no officers or statements) is noted,
not a failure - nothing to land is not an error.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime

from psycopg2.extensions import cursor as Cursor
from psycopg2.extras import Json, execute_values
from sqlalchemy.engine import URL

from ingest.outcomes import Counts, Outcome, Unit
from ingest.quarantine import quarantine_record
from ingest.units import ALONE, Run, run_units
from ingest.yahoo import parse
from ingest.yahoo.client import QuoteSummary, YahooClient

SOURCE = "yahoo"
log = logging.getLogger(__name__)

UPSERT_SQL = """
insert into raw.yahoo_company_data as c (
    symbol, dataset, as_of_date, payload, fetched_at, load_run_id
) values %s
on conflict (symbol, dataset, as_of_date) do update
    set payload = excluded.payload, fetched_at = excluded.fetched_at,
        loaded_at = now(), load_run_id = excluded.load_run_id
    where c.payload is distinct from excluded.payload
returning c.dataset, (c.xmax = 0) as inserted
"""


def company_unit(symbol: str, load_run_id: uuid.UUID) -> Unit:
    return Unit(
        SOURCE,
        "company",
        symbol,
        f"yahoo:v10/finance/quoteSummary/{symbol}",
        load_run_id=load_run_id,
    )


def land_answer(cur: Cursor, unit: Unit, answer: QuoteSummary) -> Outcome:
    """Quarantine the datasets that are not objects, upsert the others (in the unit's
    transaction)."""
    fetched_at = datetime.now(UTC)
    as_of = fetched_at.date()
    data = parse.company_datasets(answer.modules)
    for dataset, payload, reason in data.rejected:
        quarantine_record(
            cur,
            source=SOURCE,
            record_kind=f"company:{dataset}",
            symbol=unit.symbol,
            payload=payload,
            reason=reason,
            load_run_id=unit.load_run_id,
        )
    rows = [
        (unit.symbol, dataset, as_of, Json(_json_safe(payload)), fetched_at, str(unit.load_run_id))
        for dataset, payload in data.datasets.items()
    ]
    flags = dict(execute_values(cur, UPSERT_SQL, rows, fetch=True)) if rows else {}
    parts = {
        dataset: Counts(1, int(flags.get(dataset) is True), int(flags.get(dataset) is False))
        if dataset in flags
        else Counts(1, 0, 0, 1)
        for dataset in data.datasets
    }
    parts |= {dataset: Counts(1, 0, 0, 0, 1) for dataset, _, _ in data.rejected}
    counts = Counts.total(parts.values())
    notes = []
    if data.missing:
        notes.append(f"Yahoo had no {', '.join(data.missing)}")
    if data.rejected:
        notes.append(
            "quarantined in raw.rejected_records: "
            + "; ".join(f"{d} ({r})" for d, _, r in data.rejected)
        )
    return replace(unit, window_start=as_of, window_end=as_of).outcome(
        counts=counts,
        notes=tuple(notes),
        parts=tuple(sorted(parts.items())),
        attempts=answer.attempts,
    )


def land_company_data(
    url: URL,
    client: YahooClient,
    symbols: Sequence[str],
    run: Run = ALONE,
    *,
    load_run_id: uuid.UUID,
) -> list[Outcome]:
    """Fetch and land each symbol's company datasets, one unit each (ingest.units)."""
    return run_units(
        url,
        [company_unit(s, load_run_id) for s in symbols],
        lambda unit: client.quote_summary(unit.symbol),
        land_answer,
        run,
    )


def _json_safe(payload: dict) -> object:
    """Yahoo's JSON back through json (NaN/Infinity, which jsonb refuses, become null)."""
    text = json.dumps(payload, allow_nan=True)
    return json.loads(text, parse_constant=lambda _: None)
