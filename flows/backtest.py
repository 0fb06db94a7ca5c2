"""`backtest`: build the strategy marts for the given strategies, dates and costs, and leave the
performance table as a markdown artifact (`mdw backtest` runs it through `backtest/manual`)."""

from __future__ import annotations

import shlex

from prefect import flow, task
from prefect.artifacts import create_markdown_artifact

from flows.build_slot import build_slot
from flows.tasks import dbt_invoke
from lib.backtest import (
    Performance,
    backtest_vars,
    dbt_args,
    performance_markdown,
    read_performance,
)
from settings import get_settings

ARTIFACT_KEY = "backtest-performance"


@task(name="read-performance")
def performance(strategies: list[str] | None) -> Performance:
    return read_performance(get_settings().warehouse, strategies)


@flow(name="backtest", log_prints=True)
def backtest(
    strategies: list[str] | None = None,
    start: str | None = None,
    end: str | None = None,
    cost_bps: float | None = None,
) -> list[dict]:
    """Build (and test) the strategy marts, then report their performance.

    Args:
        strategies: the declared strategies to build (default all); the benchmarks always are.
        start, end: the first and last session (YYYY-MM-DD; default all the bars).
        cost_bps: costs per side in basis points for these strategies (default: as declared).
    """
    vars_ = backtest_vars(strategies, start, end, cost_bps)
    with build_slot():  # the `dbt-build` concurrency slot (flows/build_slot.py)
        dbt_invoke(shlex.join(dbt_args(vars_)))
    result = performance(strategies)
    title = "Backtest" + (f" (costs {cost_bps:g} bps per side)" if cost_bps is not None else "")
    create_markdown_artifact(
        key=ARTIFACT_KEY,
        markdown=performance_markdown(result, title),
        description="Performance of the strategies built, and of the benchmarks",
    )
    return result.rows
