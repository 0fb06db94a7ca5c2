"""`ingest-files`: land CSV/Parquet files of daily bars into raw.daily_bars.

Each file is one unit (ingest.units): read in bounded memory, landed in its own transaction and
recorded in raw.load_runs whatever happens; a file that cannot be landed never stops the others.
The run ends Failed, naming the files, when any did not land in full (flows.outcomes).
"""

from __future__ import annotations

from prefect import flow
from prefect.states import State

from flows.outcomes import finish
from flows.tasks import land_file, migrate_raw_schema
from ingest.outcomes import Outcome


@flow(name="ingest-files", log_prints=True)
def ingest_files(
    paths: list[str], source: str = "files", symbol: str | None = None
) -> list[Outcome] | State:
    """Land files of daily bars.

    Args:
        paths: CSV (optionally .gz) or Parquet files.
        source: the value written to raw.daily_bars.source (and raw.corporate_actions.source).
        symbol: the symbol of files without a symbol column (files of one symbol).
    """
    migrate_raw_schema()
    outcomes = [land_file(path, source, symbol) for path in paths]
    return finish("ingest-files-summary", "files", outcomes)
