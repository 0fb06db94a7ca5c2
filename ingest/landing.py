"""Land files end to end: one transaction per file, its load-run rows written with it."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import psycopg2
from sqlalchemy.engine import URL

from ingest.db import transaction
from ingest.files import FileFormatError, FileResult, land_file, land_rows
from ingest.load_runs import record_failure, record_file


@dataclass(frozen=True)
class FileOutcome:
    path: str
    result: FileResult | None
    error: str | None

    @property
    def ok(self) -> bool:
        return self.error is None


def ingest_file(
    url: URL,
    path: Path,
    *,
    source: str = "files",
    load_run_id: uuid.UUID | None = None,
    flow_run_id: str | None = None,
) -> FileOutcome:
    """Land one file; a file that cannot be landed is recorded as a failed load run, not raised."""
    run_id = load_run_id or uuid.uuid4()
    started = datetime.now(UTC)
    try:
        with transaction(url) as cur:
            result = land_file(cur, path, source=source, load_run_id=run_id)
            record_file(cur, result, source=source, started_at=started, flow_run_id=flow_run_id)
        return FileOutcome(str(path), result, None)
    except (FileFormatError, psycopg2.DataError, OSError) as exc:
        message = f"{type(exc).__name__}: {exc}"
        with transaction(url) as cur:
            record_failure(
                cur,
                load_run_id=run_id,
                source=source,
                source_uri=str(path),
                error=message,
                started_at=started,
                flow_run_id=flow_run_id,
            )
        return FileOutcome(str(path), None, message)


def ingest_rows(
    url: URL,
    rows: Iterable[Sequence[object]],
    *,
    source: str,
    source_uri: str,
    load_run_id: uuid.UUID,
    flow_run_id: str | None = None,
) -> FileResult:
    """Land vendor rows (canonical order) in one transaction with their load-run rows."""
    started = datetime.now(UTC)
    with transaction(url) as cur:
        result = land_rows(cur, rows, source=source, source_uri=source_uri, load_run_id=load_run_id)
        record_file(cur, result, source=source, started_at=started, flow_run_id=flow_run_id)
    return result
