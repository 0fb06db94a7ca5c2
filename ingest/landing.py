"""Land files end to end: one transaction per file, its load-run rows written with it.

Every attempt leaves its raw.load_runs row: the per-symbol rows of a file that landed, or one
`failed` row (symbol `*`) whose error names the file and, where known, the line. A failure to
reach the database at all is retried briefly (tenacity) before the row is given up on.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import psycopg2
from sqlalchemy.engine import URL
from tenacity import retry, retry_if_exception_type, stop_after_delay, wait_exponential

from ingest.db import transaction
from ingest.files import FileFormatError, FileResult, copy_error_line, land_file, land_rows
from ingest.load_runs import record_failure, record_file

RECORD_RETRY_SECONDS = 30  # how long a failure's record waits for the database to come back


@dataclass(frozen=True)
class FileOutcome:
    path: str
    result: FileResult | None
    error: str | None

    @property
    def ok(self) -> bool:
        return self.error is None


def describe_failure(path: Path, exc: BaseException) -> str:
    """One line: the file, the line when known, what went wrong."""
    if isinstance(exc, FileFormatError):
        text = str(exc)
        return text if text.startswith(str(path)) else f"{path}: {text}"
    line = copy_error_line(exc)
    where = f"{path}: line {line}" if line else str(path)
    detail = (getattr(exc, "pgerror", None) or str(exc)).strip().splitlines()
    return f"{where}: {type(exc).__name__}: {detail[0] if detail else exc}"


@retry(
    retry=retry_if_exception_type(psycopg2.OperationalError),
    stop=stop_after_delay(RECORD_RETRY_SECONDS),
    wait=wait_exponential(multiplier=0.2, max=3),
    reraise=True,
)
def _record_failure(url: URL, **fields: object) -> None:
    with transaction(url) as cur:
        record_failure(cur, **fields)


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
    path = Path(path)
    try:
        with transaction(url) as cur:
            result = land_file(cur, path, source=source, load_run_id=run_id)
            record_file(cur, result, source=source, started_at=started, flow_run_id=flow_run_id)
        return FileOutcome(str(path), result, None)
    except (FileFormatError, psycopg2.Error, OSError, ValueError) as exc:
        message = describe_failure(path, exc)
        _record_failure(
            url,
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
