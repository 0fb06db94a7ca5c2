"""`pipeline`: land, transform, validate - in that order - and leave one summary artifact."""

from __future__ import annotations

from prefect import flow
from prefect.artifacts import create_markdown_artifact

from flows.dbt_build import dbt_build
from flows.ingest_files import ingest_files
from flows.report import dbt_markdown, landing_markdown, validation_markdown, warehouse_markdown
from flows.tasks import count_warehouse_rows
from flows.validate import validate_warehouse
from mdw.settings import get_settings

SUMMARY_KEY = "pipeline-summary"


@flow(name="pipeline", log_prints=True)
def pipeline(paths: list[str] | None = None) -> dict[str, int]:
    """Land `paths` (default: the bundled sample), build the dbt project, validate it."""
    landed = ingest_files(paths or [str(get_settings().sample_path)])
    built = dbt_build()
    validated = validate_warehouse()
    counts = count_warehouse_rows()
    create_markdown_artifact(
        key=SUMMARY_KEY,
        markdown="\n\n".join([
            "# Pipeline run",
            landing_markdown(landed),
            dbt_markdown(built.command, built.models, built.tests, built.other, built.docs_index),
            validation_markdown(validated.checks, validated.data_docs),
            warehouse_markdown(counts),
        ]),
        description="Rows landed, models built, validation result and table sizes",
    )
    return counts
