"""Prefect tasks: each wraps one step of `ingest`, dbt or `expectations` and returns plain data."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from prefect import get_run_logger, task
from prefect.runtime import flow_run

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


@task(name="dbt-invoke", task_run_name="dbt {args}")
def dbt_invoke(args: list[str]) -> DbtSummary:
    """Run dbt through prefect-dbt's runner: one Prefect task per dbt node, failures raise."""
    from prefect_dbt import PrefectDbtRunner, PrefectDbtSettings

    settings = get_settings()
    apply_client_environment(settings)
    runner = PrefectDbtRunner(
        settings=PrefectDbtSettings(
            project_dir=settings.dbt_project_dir, profiles_dir=settings.profiles_dir
        ),
        raise_on_failure=True,
    )
    result = runner.invoke(args)
    counts = {"model": 0, "test": 0, "other": 0}
    for node_result in getattr(result.result, "results", []) or []:
        kind = str(node_result.node.resource_type)
        counts[kind if kind in counts else "other"] += 1
    return DbtSummary(" ".join(args), counts["model"], counts["test"], counts["other"])


@task(name="dbt-docs-generate")
def dbt_docs_generate() -> str:
    """Build the dbt docs site; returns target/static_index.html's file:// URL.

    `--static` inlines the manifest and catalog: that page opens from file:// (index.html
    cannot load manifest.json there). `dbt docs serve` serves index.html over HTTP.
    """
    from dbt.cli.main import dbtRunner

    settings = get_settings()
    apply_client_environment(settings)
    res = dbtRunner().invoke(
        [
            "docs",
            "generate",
            "--static",
            "--quiet",
            "--project-dir",
            str(settings.dbt_project_dir),
            "--profiles-dir",
            str(settings.profiles_dir),
        ]
    )
    if not res.success:
        raise RuntimeError(f"dbt docs generate failed: {res.exception}")
    return (settings.dbt_project_dir / "target" / "static_index.html").as_uri()


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
    for r in results:
        (logger.info if r.success else logger.error)(
            "%s: %s (%d expectations, %d failed)%s",
            r.name,
            "passed" if r.success else "FAILED",
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
