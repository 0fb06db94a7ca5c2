"""`mdw validate`: run the validation flow through the Prefect server and print its findings."""

from __future__ import annotations

from typing import Annotated

import typer

from mdw.client import require_stack
from mdw.console import err, out
from settings import get_settings

DEPLOYMENT = "validate-warehouse/manual"
ARTIFACT_KEY = "validation-summary"


def cmd_validate(
    timeout: Annotated[
        float, typer.Option(min=1, help="seconds to wait for the validation run")
    ] = 900.0,
) -> None:
    """Run validate-warehouse (GX checkpoints + data-quality findings) through the Prefect
    server; print the findings summary. Exit 1 when the run fails (unacknowledged errors)."""
    settings = get_settings()
    require_stack(settings)
    from prefect.deployments import run_deployment

    from mdw.demo import summary_markdown

    flow_run = run_deployment(DEPLOYMENT, timeout=timeout, poll_interval=2, as_subflow=False)
    state = flow_run.state
    markdown = summary_markdown(flow_run, key=ARTIFACT_KEY)
    if markdown:
        out.print(markdown, markup=False)
    ok = state is not None and state.is_completed()
    status = state.name if state else "unknown"
    line = f"{DEPLOYMENT}: {status} (flow run {flow_run.name})"
    if ok:
        out.print(line, markup=False)
        return
    err.print(line, markup=False)
    if state is not None and state.message:
        err.print(state.message, markup=False)
    raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("validate")(cmd_validate)
