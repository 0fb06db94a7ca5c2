"""`dbt-build`: build and test every dbt model (one Prefect task per node), then the docs."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace

from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact
from prefect.concurrency.sync import concurrency

from flows.report import dbt_markdown
from flows.tasks import DbtSummary, dbt_docs_generate, dbt_invoke

# A global concurrency limit of one slot (created by `mdw up`): two builds at once collide on
# the same relations, so a second build - scheduled, manual or in-process - waits its turn.
DBT_BUILD_LIMIT = "dbt-build"


@contextmanager
def one_build_at_a_time() -> Iterator[None]:
    logger = get_run_logger()
    started = time.monotonic()
    logger.info("taking the %r concurrency slot (one dbt build at a time)", DBT_BUILD_LIMIT)
    with concurrency(DBT_BUILD_LIMIT, occupy=1, strict=False):
        waited = time.monotonic() - started
        if waited > 2:
            logger.warning("waited %.0f s for another dbt build to finish", waited)
        yield


@flow(name="dbt-build", log_prints=True)
def dbt_build(select: str | None = None, full_refresh: bool = False) -> DbtSummary:
    args = ["build"]
    if select:
        args += ["--select", select]
    if full_refresh:
        args.append("--full-refresh")
    with one_build_at_a_time():
        summary = replace(dbt_invoke(args), docs_index=dbt_docs_generate())
    create_markdown_artifact(
        key="dbt-build-summary",
        markdown=dbt_markdown(
            summary.command, summary.models, summary.tests, summary.other, summary.docs_index
        ),
    )
    return summary
