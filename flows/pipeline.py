"""`pipeline`: land, transform, validate - in that order - and leave one summary artifact."""

from __future__ import annotations

from dataclasses import dataclass, field

from prefect import flow
from prefect.artifacts import create_markdown_artifact
from prefect.states import Failed, State

from flows.dbt_build import dbt_build
from flows.ingest_files import ingest_files
from flows.outcomes import failed_markdown, failure_of, landed_anything, landed_result
from flows.report import (
    dbt_markdown,
    landing_markdown,
    vendor_markdown,
    warehouse_markdown,
)
from flows.sessions import refresh_trading_sessions
from flows.tasks import count_warehouse_rows, write_report_site
from flows.validate import ValidationOutcome, validate_warehouse
from settings import get_settings

SUMMARY_KEY = "pipeline-summary"


class AllVendorsFailed(RuntimeError):
    """No vendor flow of the run landed anything (each recorded its failures)."""


@dataclass(frozen=True)
class Landing:
    """What the landing step shows in the summary, and the lines naming what failed."""

    markdown: str
    failures: list[str] = field(default_factory=list)


def _land_from_vendors(vendors: list[str], symbols: list[str] | None) -> Landing:
    """Run each vendor's flow; one vendor failing does not stop the others."""
    from flows.polygon import polygon_daily_ingestion
    from flows.yahoo import yahoo_market_data

    flows = {"polygon": polygon_daily_ingestion, "yahoo": yahoo_market_data}
    states = {name: flows[name](symbols=symbols, return_state=True) for name in vendors}
    if not any(landed_anything(state) for state in states.values()):
        raise AllVendorsFailed("; ".join(f"{n}: {s.message}" for n, s in states.items()))
    failures = [line for name, state in states.items() for line in failure_of(name, state)]
    return Landing(vendor_markdown({name: state.name for name, state in states.items()}), failures)


def _land_files(paths: list[str]) -> Landing:
    """Land the files; some failing still builds (landed_result re-raises when none landed)."""
    state = ingest_files(paths, return_state=True)
    return Landing(landing_markdown(landed_result(state)), failure_of("ingest-files", state))


def _validation_markdown(state: State) -> str:
    """The validation section: findings and checkpoints, or (failed) the message naming them."""
    outcome = state.result(raise_on_failure=False)
    if isinstance(outcome, ValidationOutcome):
        return outcome.markdown
    from expectations.context import data_docs_index  # imports GX: only when validation failed

    docs = data_docs_index()
    return (
        f"## Validation (Great Expectations)\n\n**{state.name}**: {state.message}\n\n"
        f"Data docs: [{docs}](file://{docs}) (open offline in a browser)"
    )


@flow(name="pipeline", log_prints=True)
def pipeline(
    paths: list[str] | None = None,
    vendors: list[str] | None = None,
    symbols: list[str] | None = None,
) -> dict[str, int] | State:
    """Land, build the dbt project, validate it.

    A run where some units failed (files, symbols, windows) or validation found errors still
    builds and validates what landed, then ends Failed; its message names what failed.

    Args:
        paths: files to land (default, when no vendors are given: the bundled sample).
        vendors: land from these instead: `polygon` (grouped daily bars) and/or `yahoo`
            (hourly + daily bars), each for every trading day not landed yet.
        symbols: the vendors' symbols (default: MDW_UNIVERSE, else active raw.symbols).
    """
    if vendors:
        landing = _land_from_vendors(vendors, symbols)
    else:
        landing = _land_files(paths or [str(get_settings().sample_path)])
    refresh_trading_sessions()
    built = dbt_build()
    validated = validate_warehouse(return_state=True)
    counts = count_warehouse_rows()
    report_url = write_report_site(symbols)
    problems = landing.failures + failure_of("validate-warehouse", validated)
    create_markdown_artifact(
        key=SUMMARY_KEY,
        markdown="\n\n".join(
            [
                "# Pipeline run",
                landing.markdown,
                dbt_markdown(built),
                _validation_markdown(validated),
                warehouse_markdown(counts),
                f"## Report site\n\n[{report_url}]({report_url}) (charts per symbol, offline)",
                *failed_markdown(problems),
            ]
        ),
        description="Rows landed, models built, validation result and table sizes",
    )
    if problems:
        return Failed(message="pipeline finished with failures: " + " | ".join(problems))
    return counts
