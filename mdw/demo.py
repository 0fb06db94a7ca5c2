"""`mdw demo`: run pipeline/sample through the Prefect server and tell the user what happened."""

from __future__ import annotations

from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import (
    ArtifactFilter,
    ArtifactFilterFlowRunId,
    ArtifactFilterKey,
)
from prefect.client.schemas.objects import FlowRun
from prefect.deployments import run_deployment

from expectations.context import data_docs_index
from flows.pipeline import SUMMARY_KEY
from mdw.progress import wait_for_flow_run
from settings import Settings

DEPLOYMENT = "pipeline/sample"


def run_pipeline_sample(timeout: float) -> FlowRun:
    print(f"\nrunning deployment {DEPLOYMENT} through the Prefect server ...", flush=True)
    started = run_deployment(DEPLOYMENT, timeout=0, as_subflow=False)  # returns at once
    return wait_for_flow_run(started.id, timeout)  # with a live status line at a terminal


def summary_markdown(flow_run: FlowRun, key: str = SUMMARY_KEY) -> str | None:
    with get_client(sync_client=True) as client:
        artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(
                key=ArtifactFilterKey(any_=[key]),
                flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run.id]),
            )
        )
    return str(artifacts[0].data) if artifacts else None


def print_summary(settings: Settings, flow_run: FlowRun, seconds: float) -> int:
    state = flow_run.state
    ok = state is not None and state.is_completed()
    print(
        f"\n{DEPLOYMENT}: {state.name if state else 'unknown'} in {seconds:.0f} s "
        f"(flow run {flow_run.name}, {settings.prefect_api_url.removesuffix('/api')}"
        f"/runs/flow-run/{flow_run.id})\n"
    )
    if state is not None and not state.is_final():
        print(
            f"still {state.name.lower()} after {seconds:.0f} s (mdw demo --timeout): it goes on in "
            "the background; follow it in the Prefect UI"
        )
    markdown = summary_markdown(flow_run) if ok else None
    if markdown:
        print(markdown)
    elif state is not None and state.message:
        print(state.message)
    print(
        "\nWhere things are"
        f"\n  GX data docs   file://{data_docs_index()}"
        f"\n  Report site    {(settings.reports_dir / 'index.html').as_uri()}"
        f"\n  dbt docs       {(settings.dbt_project_dir / 'target' / 'static_index.html').as_uri()}"
        "  (or: cd dbt_project && dbt docs serve)"
        f"\n  Prefect UI     {settings.prefect_api_url.removesuffix('/api')}"
        '\n  psql           source .venv/bin/activate && psql "$WAREHOUSE_URL"'
        f"   ({settings.warehouse_libpq_url}, password via PGPASSFILE)"
        "\n  then e.g.      select * from marts.fct_daily_indicators"
        " where symbol = 'AAPL' order by trade_date desc limit 5;"
    )
    return 0 if ok else 1
