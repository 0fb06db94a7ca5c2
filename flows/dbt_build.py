"""`dbt-build`: build and test every dbt model, then the docs - one build at a time."""

from __future__ import annotations

from prefect import flow
from prefect.artifacts import create_markdown_artifact

from flows.build_slot import DBT_BUILD_LIMIT, build_slot
from flows.report import dbt_markdown
from flows.tasks import DbtSummary, dbt_invoke

__all__ = ["DBT_BUILD_LIMIT", "dbt_build"]  # mdw up creates the limit


@flow(name="dbt-build", log_prints=True)
def dbt_build(select: str | None = None, full_refresh: bool = False) -> DbtSummary:
    command = "build"
    if select:
        command += f" --select {select}"
    if full_refresh:
        command += " --full-refresh"
    with build_slot():  # the `dbt-build` concurrency slot (flows/build_slot.py)
        summary = dbt_invoke(command, docs=True)
    create_markdown_artifact(key="dbt-build-summary", markdown=dbt_markdown(summary))
    return summary
