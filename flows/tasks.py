"""Prefect tasks: each wraps one step of `ingest`, dbt or `expectations` and returns plain data."""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from pathlib import Path

from prefect import get_run_logger, task
from prefect.artifacts import (
    create_progress_artifact,
    create_table_artifact,
    update_progress_artifact,
)
from prefect.runtime import flow_run

from flows.build_runner import DbtOutcome, NodeLedger, NodeResult, progress_reporter, run_dbt
from flows.report import NODES_ARTIFACT
from ingest.db import migrate
from ingest.landing import ingest_file
from ingest.outcomes import Outcome
from ingest.units import Run
from lib.environment import apply_client_environment
from lib.report_site import write_site
from settings import get_settings


@task(name="migrate-raw-schema")
def migrate_raw_schema() -> list[str]:
    applied = migrate(get_settings().warehouse)
    get_run_logger().info("raw schema migrations applied: %s", applied or "none pending")
    return applied


@task(name="land-file", task_run_name="land {path}")
def land_file(path: str, source: str, symbol: str | None = None) -> Outcome:
    """One file, one unit (ingest.landing): recorded and logged in one line whatever happens."""
    return ingest_file(
        get_settings().warehouse,
        Path(path),
        source=source,
        symbol=symbol,
        run=Run(flow_run_id=str(flow_run.id) if flow_run.id else None, logger=get_run_logger()),
    )


@dataclass(frozen=True)
class DbtSummary:
    command: str
    models: int
    tests: int
    other: int
    failures: list[str] = field(default_factory=list)
    docs_index: str | None = None
    seconds: float = 0.0
    # the slowest nodes: (resource type, name, seconds)
    slowest: list[tuple[str, str, float]] = field(default_factory=list)


class DbtFailed(RuntimeError):
    """A dbt node failed (or dbt itself did); the message names every failed node."""


PROGRESS_ARTIFACT = "dbt-progress"


def _nodes_table(outcome: DbtOutcome) -> list[dict]:
    return [
        {
            "node": n.name,
            "type": n.resource_type,
            "status": n.status,
            "seconds": n.seconds,
            "message": n.message[:200] if n.failed else "",
        }
        for n in outcome.nodes
    ]


def _summary(outcome: DbtOutcome) -> DbtSummary:
    tests = outcome.count("test") + outcome.count("unit_test")
    models = outcome.count("model")
    slowest = sorted(outcome.nodes, key=lambda n: -n.seconds)[:5]
    return DbtSummary(
        outcome.command,
        models=models,
        tests=tests,
        other=len(outcome.nodes) - models - tests,
        docs_index=outcome.docs_index,
        seconds=round(outcome.seconds, 2),
        slowest=[(n.resource_type, n.name, n.seconds) for n in slowest],
    )


@task(name="dbt", task_run_name="dbt {command}")
def dbt_invoke(command: str, docs: bool = False) -> DbtSummary:
    """dbt in this process (flows/build_runner.py), then (`docs`) its static docs site.

    What the UI shows: a log line per node as it finishes (failures at ERROR with dbt's
    message), the `dbt-progress` artifact (share of nodes done), and the `dbt-nodes` table
    (every node, its status and seconds). A failed node fails the task; its message (the
    run's state message) names every failed node.
    """
    settings = get_settings()
    apply_client_environment(settings)
    logger = get_run_logger()

    def on_node(node: NodeResult, index: int, total: int) -> None:
        line = f"{index}/{total} {node.status.upper()} {node.resource_type} {node.name}"
        line += f" ({node.seconds:.2f} s)"
        if node.failed:
            logger.error("%s: %s", line, node.message)
        else:
            logger.info(line)

    progress = create_progress_artifact(
        0.0, key=PROGRESS_ARTIFACT, description=f"dbt {command}: starting"
    )

    def report(done: int, total: int, failed: int) -> None:
        update_progress_artifact(
            progress,
            100.0 * done / total if total else 0.0,
            description=f"dbt {command}: {done} of {total} nodes done"
            + (f", {failed} failed" if failed else ""),
        )

    ledger = NodeLedger()
    with progress_reporter(ledger, report):
        outcome = run_dbt(
            shlex.split(command),
            settings.dbt_project_dir,
            settings.profiles_dir,
            on_node,
            ledger,
            docs=docs,
        )
    create_table_artifact(
        key=NODES_ARTIFACT,
        table=_nodes_table(outcome),
        description=f"dbt {command}: every node, its status and seconds "
        f"({len(outcome.nodes)} nodes in {outcome.seconds:.1f} s)",
    )
    if ledger.callback_errors:
        logger.warning(
            "%d node line(s) could not be logged (first: %s); the node table is complete",
            ledger.callback_errors,
            ledger.first_callback_error,
        )
    if not outcome.success:
        raise DbtFailed(outcome.failure_message())
    logger.info(
        "dbt %s: %d nodes in %.1f s%s",
        command,
        len(outcome.nodes),
        outcome.seconds,
        f"; docs in {outcome.docs_seconds:.1f} s: {outcome.docs_index}" if docs else "",
    )
    return _summary(outcome)


@dataclass(frozen=True)
class ValidationSummary:
    checks: list[dict]
    data_docs: str

    @property
    def success(self) -> bool:
        """Every gating checkpoint passed (non-gating ones, e.g. warnings, are only shown)."""
        return all(c["success"] for c in self.checks if c.get("gate", True))


@task(name="run-gx-checkpoints")
def run_gx_checkpoints(run_name: str | None = None) -> ValidationSummary:
    from expectations.context import data_docs_index, run_checkpoints

    settings = get_settings()
    results = run_checkpoints(
        settings.warehouse.render_as_string(hide_password=False), run_name=run_name
    )
    logger = get_run_logger()
    for r in results:  # a non-gating checkpoint's failures are warnings (issue 16, defect 8)
        (logger.info if r.success else logger.error if r.gate else logger.warning)(
            "%s: %s (%d expectations, %d failed)%s",
            r.name,
            "passed" if r.success else "FAILED" if r.gate else "warnings (not gating)",
            r.evaluated,
            len(r.failed),
            "".join(f"\n  - {f}" for f in r.failed),
        )
    return ValidationSummary(
        checks=[
            {
                "name": r.name,
                "success": r.success,
                "evaluated": r.evaluated,
                "failed": r.failed,
                "gate": r.gate,
                "run_name": r.run_name,
            }
            for r in results
        ],
        data_docs=str(data_docs_index()),
    )


COUNTED_TABLES = (
    "raw.daily_bars",
    "raw.intraday_bars",
    "raw.corporate_actions",
    "raw.rejected_bars",
    "marts.fct_daily_bars",
    "marts.fct_daily_indicators",
    "marts.fct_signals",
    "marts.dim_symbols",
)


@task(name="count-warehouse-rows")
def count_warehouse_rows() -> dict[str, int]:
    from ingest.db import transaction

    counts: dict[str, int] = {}
    with transaction(get_settings().warehouse) as cur:
        for table in COUNTED_TABLES:
            cur.execute(f"select count(*) from {table}")  # noqa: S608 - fixed table names
            counts[table] = cur.fetchone()[0]
    return counts


@task(name="write-report-site")
def write_report_site(symbols: list[str] | None = None, output: str | None = None) -> str:
    """The report site for the pipeline's summary; returns the index page's file:// URL."""
    settings = get_settings()
    site = write_site(settings.warehouse, Path(output) if output else settings.reports_dir, symbols)
    get_run_logger().info("report site: %d symbol pages, %s", site.pages, site.url)
    return site.url
