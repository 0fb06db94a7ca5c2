"""`ingest-files`: land canonical CSV/Parquet files into raw.daily_bars."""

from __future__ import annotations

import uuid

from prefect import flow
from prefect.artifacts import create_markdown_artifact

from flows.report import landing_markdown
from flows.tasks import land_file, migrate_raw_schema
from ingest.landing import FileOutcome


class AllFilesFailed(RuntimeError):
    """Every file of the run failed to land (each is recorded in raw.load_runs)."""


@flow(name="ingest-files", log_prints=True)
def ingest_files(paths: list[str], source: str = "files") -> list[FileOutcome]:
    migrate_raw_schema()
    load_run_id = uuid.uuid4()
    outcomes = [land_file(path, source, load_run_id) for path in paths]
    create_markdown_artifact(
        key="ingest-files-summary",
        markdown=landing_markdown(outcomes),
        description="What this run landed and quarantined",
    )
    if outcomes and not any(o.ok for o in outcomes):
        raise AllFilesFailed("; ".join(f"{o.path}: {o.error}" for o in outcomes))
    return outcomes
