"""Land one symbol's Yahoo company data into raw.yahoo_company_data (one request per symbol).

One quoteSummary call brings every module the five datasets need (profile, key statistics,
financial statements annual and quarterly, institutional holders, officers); each dataset is
upserted as a JSONB snapshot keyed (symbol, dataset, as_of_date) and rewritten only when the
payload differs. A module that is not an object is quarantined in raw.rejected_records
(record_kind 'company:<dataset>'). Status: `failed` when the fetch failed or nothing landed,
`partial` when some datasets were missing or quarantined (an ETF has no officers or statements),
else `success`. Each symbol gets its raw.load_runs row (counts are datasets).
"""

from __future__ import annotations

import json
import logging
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import psycopg2
import psycopg2.extensions
from psycopg2.extras import Json, execute_values
from sqlalchemy.engine import URL

from ingest import load_runs
from ingest.db import transaction
from ingest.quarantine import quarantine_record
from ingest.yahoo import parse
from ingest.yahoo.client import FetchError, YahooClient

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


@dataclass(frozen=True)
class CompanyOutcome:
    symbol: str
    status: str
    as_of_date: date | None = None
    inserted: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    attempts: int = 0
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status != "failed"

    @property
    def landed(self) -> list[str]:
        return sorted(self.inserted + self.updated + self.unchanged)

    def as_row(self) -> dict[str, object]:
        return {
            "symbol": self.symbol,
            "status": self.status,
            "as_of_date": self.as_of_date.isoformat() if self.as_of_date else "",
            "landed": ", ".join(self.landed),
            "new_or_changed": ", ".join(sorted(self.inserted + self.updated)),
            "missing": ", ".join(self.missing),
            "quarantined": ", ".join(self.rejected),
            "attempts": self.attempts,
            "error": self.error or "",
        }


def company_status(landed: int, missing: int, rejected: int) -> str:
    if landed == 0:
        return "failed"
    return "partial" if missing or rejected else "success"


def land_symbol_company_data(
    url: URL,
    client: YahooClient,
    symbol: str,
    *,
    load_run_id: uuid.UUID,
    flow_run_id: str | None = None,
) -> CompanyOutcome:
    """Fetch and land one symbol's company datasets; failures end in the outcome and load run."""
    started = datetime.now(UTC)
    uri = f"yahoo:v10/finance/quoteSummary/{symbol}"
    try:
        answer = client.quote_summary(symbol)
    except FetchError as exc:
        outcome = CompanyOutcome(symbol, "failed", attempts=exc.attempts, error=str(exc))
        _record_safely(url, outcome, load_run_id, uri, started, flow_run_id)
        return outcome

    fetched_at = datetime.now(UTC)
    as_of = fetched_at.date()
    data = parse.company_datasets(answer.modules)
    inserted: list[str] = []
    updated: list[str] = []
    try:
        with transaction(url) as cur:
            for dataset, payload, reason in data.rejected:
                quarantine_record(
                    cur,
                    source=SOURCE,
                    record_kind=f"company:{dataset}",
                    symbol=symbol,
                    payload=payload,
                    reason=reason,
                    load_run_id=load_run_id,
                )
            if data.datasets:
                rows = [
                    (
                        symbol,
                        dataset,
                        as_of,
                        Json(_json_safe(payload)),
                        fetched_at,
                        str(load_run_id),
                    )
                    for dataset, payload in data.datasets.items()
                ]
                for dataset, is_new in execute_values(cur, UPSERT_SQL, rows, fetch=True):
                    (inserted if is_new else updated).append(dataset)
            unchanged = sorted(set(data.datasets) - set(inserted) - set(updated))
            status = company_status(len(data.datasets), len(data.missing), len(data.rejected))
            messages = []
            if data.missing:
                messages.append(f"Yahoo had no {', '.join(data.missing)}")
            if data.rejected:
                messages.append(
                    "quarantined in raw.rejected_records: "
                    + "; ".join(f"{d} ({r})" for d, _, r in data.rejected)
                )
            outcome = CompanyOutcome(
                symbol,
                status,
                as_of,
                sorted(inserted),
                sorted(updated),
                unchanged,
                data.missing,
                [d for d, _, _ in data.rejected],
                answer.attempts,
                "; ".join(messages) or None,
            )
            _record(cur, outcome, load_run_id, uri, started, flow_run_id)
    except psycopg2.Error as exc:
        outcome = CompanyOutcome(
            symbol,
            "failed",
            as_of,
            attempts=answer.attempts,
            error=f"database: {type(exc).__name__}: {str(exc).strip()}",
        )
        _record_safely(url, outcome, load_run_id, uri, started, flow_run_id)
    return outcome


def _json_safe(payload: dict) -> object:
    """Yahoo's JSON back through json (NaN/Infinity, which jsonb refuses, become null)."""
    text = json.dumps(payload, allow_nan=True)
    return json.loads(text, parse_constant=lambda _: None)


def _record(
    cur: psycopg2.extensions.cursor,
    outcome: CompanyOutcome,
    load_run_id: uuid.UUID,
    uri: str,
    started: datetime,
    flow_run_id: str | None,
) -> None:
    load_runs.write(
        cur,
        load_runs.LoadRun(
            load_run_id=load_run_id,
            source=SOURCE,
            symbol=outcome.symbol,
            status=outcome.status,
            started_at=started,
            window_start=outcome.as_of_date,
            window_end=outcome.as_of_date,
            received=len(outcome.landed) + len(outcome.rejected),
            inserted=len(outcome.inserted),
            updated=len(outcome.updated),
            unchanged=len(outcome.unchanged),
            rejected=len(outcome.rejected),
            error=outcome.error or None,
            source_uri=uri,
            flow_run_id=flow_run_id,
        ),
    )


def _record_safely(
    url: URL,
    outcome: CompanyOutcome,
    load_run_id: uuid.UUID,
    uri: str,
    started: datetime,
    flow_run_id: str | None,
) -> None:
    try:
        with transaction(url) as cur:
            _record(cur, outcome, load_run_id, uri, started, flow_run_id)
    except psycopg2.Error:  # the database is gone: the outcome (and the artifact) still say so
        log.exception("%s: could not record the failed load run", outcome.symbol)
