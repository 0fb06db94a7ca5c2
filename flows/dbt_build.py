"""`dbt-build`: build and test every dbt model (one Prefect task per node), then the docs."""

from __future__ import annotations

from dataclasses import replace

from prefect import flow
from prefect.artifacts import create_markdown_artifact

from flows.report import dbt_markdown
from flows.tasks import DbtSummary, dbt_docs_generate, dbt_invoke


@flow(name="dbt-build", log_prints=True)
def dbt_build(select: str | None = None, full_refresh: bool = False) -> DbtSummary:
    args = ["build"]
    if select:
        args += ["--select", select]
    if full_refresh:
        args.append("--full-refresh")
    summary = replace(dbt_invoke(args), docs_index=dbt_docs_generate())
    create_markdown_artifact(
        key="dbt-build-summary",
        markdown=dbt_markdown(
            summary.command, summary.models, summary.tests, summary.other, summary.docs_index
        ),
    )
    return summary
