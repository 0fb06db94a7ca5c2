"""Land files, and vendors' rows, through the one skeleton (ingest.units).

A file is one unit: one transaction with its raw.load_runs rows (one per symbol), or, when it
cannot be landed, one `failed` row (symbol `*`) whose error names the file and, where known,
the line. Vendors stage what they received with `land_rows` inside their unit's transaction.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Iterable, Sequence
from pathlib import Path

import psycopg2
import psycopg2.extensions
from sqlalchemy.engine import URL

from ingest import merge
from ingest.files import FileFormatError, land_file
from ingest.outcomes import ALL_SYMBOLS, Counts, Outcome, Unit, quarantine_note
from ingest.units import ALONE, Run, describe, run_unit

log = logging.getLogger(__name__)

_COPY_LINE = re.compile(r"COPY _incoming, line (\d+)")


def file_unit(
    path: Path | str, source: str = "files", load_run_id: uuid.UUID | None = None
) -> Unit:
    return Unit(source, "file", ALL_SYMBOLS, str(path), load_run_id=load_run_id or uuid.uuid4())


def copy_error_line(exc: BaseException) -> int | None:
    """The line of the input a COPY error points at (PostgreSQL's CONTEXT), if any."""
    match = _COPY_LINE.search(str(getattr(exc, "pgerror", None) or exc))
    return int(match.group(1)) if match else None


def describe_file_failure(unit: Unit, exc: BaseException) -> str:
    """One line: the file, the line when known, what went wrong."""
    path = unit.source_uri or ""
    if isinstance(exc, FileFormatError):
        text = str(exc)
        return text if text.startswith(path) else f"{path}: {text}"
    if isinstance(exc, psycopg2.Error):
        line = copy_error_line(exc)
        where = f"{path}: line {line}" if line else path
        detail = (exc.pgerror or str(exc)).strip().splitlines()
        return f"{where}: {type(exc).__name__}: {detail[0] if detail else exc}"
    return f"{path}: {describe(unit, exc)}"


def ingest_file(
    url: URL,
    path: Path | str,
    *,
    source: str = "files",
    symbol: str | None = None,
    load_run_id: uuid.UUID | None = None,
    run: Run = ALONE,
) -> Outcome:
    """Land one file; a file that cannot be landed is recorded as a failed unit, not raised.
    `symbol`: the symbol of a file without a symbol column."""
    return run_unit(
        url,
        file_unit(path, source, load_run_id),
        None,
        lambda cur, unit, _: land_file(cur, unit, Path(path), symbol),
        run,
        describe_failure=describe_file_failure,
    )


def land_rows(
    cur: psycopg2.extensions.cursor,
    unit: Unit,
    rows: Iterable[Sequence[object]],
    rejects: Iterable[tuple[Sequence[object], str]] = (),
) -> Outcome:
    """Land bars a vendor sent (rows in CANONICAL order: symbol, date, open, high, low, close,
    volume; None = missing) with the same checks, quarantine and upsert as files; `rejects`
    are bars the vendor's own checks refused (quarantined with that reason). The outcome has
    the counts and a row per symbol."""
    merge.stage_rows(cur, rows, rejects)
    landed = merge.merge(cur, unit)
    merge.drop_staging(cur)
    return landed


def bars_note(counts: Counts, what: str = "bar") -> list[str]:
    """The note of a unit's quarantined bars (none when there are none)."""
    if not counts.rejected:
        return []
    return [quarantine_note(counts.rejected, "raw.rejected_bars").replace("row(s)", f"{what}(s)")]
