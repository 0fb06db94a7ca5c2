"""`mdw backtest [STRATEGY...]`: build the strategy marts through the Prefect server
(`backtest/manual`) and print the performance table."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer

from mdw.client import require_stack
from mdw.console import err, interactive, out
from mdw.errors import UserError
from mdw.options import date_option
from settings import get_settings

DEPLOYMENT = "backtest/manual"


def cmd_backtest(
    strategies: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="STRATEGY...",
            help="declared strategies to build (default: all); benchmarks always are",
            show_default=False,
        ),
    ] = None,
    start: Annotated[date | None, date_option("first session (default: the first bar)")] = None,
    end: Annotated[date | None, date_option("last session (default: the last bar)")] = None,
    cost_bps: Annotated[
        float | None,
        typer.Option(min=0, help="costs per side in basis points (default: as declared)"),
    ] = None,
    timeout: Annotated[float, typer.Option(min=1, help="seconds to wait for the run")] = 3600.0,
) -> None:
    """Backtest the declared strategies (dbt_project.yml): build their marts for these dates and
    costs and print the performance table; the run leaves the same table as an artifact."""
    from lib.backtest import declared_strategies

    settings = get_settings()
    declared = declared_strategies(settings.dbt_project_dir)
    unknown = [s for s in strategies or [] if s not in declared]
    if unknown:
        raise UserError(
            f"unknown strategy {', '.join(unknown)}",
            f"declared: {', '.join(declared)}",
            "declare it in dbt_project.yml (vars: strategies)",
        )
    if start and end and start > end:
        raise UserError(f"--start {start} is after --end {end}", fix="swap them")
    require_stack(settings)
    from prefect.deployments import run_deployment

    from mdw.demo import summary_markdown

    parameters = {
        "strategies": list(strategies) if strategies else None,
        "start": start.isoformat() if start else None,
        "end": end.isoformat() if end else None,
        "cost_bps": cost_bps,
    }
    flow_run = run_deployment(
        DEPLOYMENT, parameters=parameters, timeout=timeout, poll_interval=2, as_subflow=False
    )
    state = flow_run.state
    line = f"{DEPLOYMENT}: {state.name if state else 'unknown'} (flow run {flow_run.name})"
    if state is None or not state.is_completed():
        err.print(line, markup=False)
        if state is not None and state.message:
            err.print(state.message, markup=False)
        raise typer.Exit(1)
    if interactive():
        from lib.backtest import read_performance

        out.print(performance_table(read_performance(settings.warehouse, strategies)))
    else:
        out.print(summary_markdown(flow_run, key="backtest-performance") or "", markup=False)
    out.print(line, markup=False)


def performance_table(performance):
    """A rich table of the performance rows (benchmarks last, dimmed)."""
    from rich.table import Table

    from lib.backtest import COLUMNS, cell

    table = Table(title=f"Backtest, sessions {performance.span}", title_justify="left")
    for _, header, fmt in COLUMNS:
        table.add_column(header, justify="left" if fmt == "s" else "right")
    for row in performance.rows:
        table.add_row(
            *(cell(row[c], f) for c, _, f in COLUMNS), style="dim" if row["is_benchmark"] else None
        )
    return table


def register(app: typer.Typer) -> None:
    app.command("backtest")(cmd_backtest)
