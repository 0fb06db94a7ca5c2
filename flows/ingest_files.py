"""`ingest-files`: land canonical CSV/Parquet files into raw.daily_bars.

Each file is one unit: a file that cannot be landed is recorded (raw.load_runs) and named in
the run's Failed state; the others land (the rule of flows.outcomes).
"""

from __future__ import annotations

import uuid

from prefect import flow
from prefect.artifacts import create_markdown_artifact

from flows.outcomes import finish
from flows.report import landing_markdown
from flows.tasks import land_file, migrate_raw_schema
from ingest.landing import FileOutcome


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
    failed = [(o.path, o.error or "") for o in outcomes if not o.ok]
    return finish("files", outcomes, failed, len(outcomes))
