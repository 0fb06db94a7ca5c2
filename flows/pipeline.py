"""`pipeline`: land, transform, validate - in that order - and leave one summary artifact."""

from __future__ import annotations

from prefect import flow
from prefect.artifacts import create_markdown_artifact

from flows.dbt_build import dbt_build
from flows.ingest_files import ingest_files
from flows.report import (
    dbt_markdown,
    landing_markdown,
    vendor_markdown,
    warehouse_markdown,
)
from flows.sessions import refresh_trading_sessions
from flows.tasks import count_warehouse_rows
from flows.validate import validate_warehouse
from settings import get_settings

SUMMARY_KEY = "pipeline-summary"


class AllVendorsFailed(RuntimeError):
    """No vendor flow of the run landed anything (each recorded its failures)."""


def _land_from_vendors(vendors: list[str], symbols: list[str] | None) -> str:
    """Run each vendor's flow; one vendor failing does not stop the others."""
    from flows.polygon import polygon_daily_ingestion
    from flows.yahoo import yahoo_market_data

    flows = {"polygon": polygon_daily_ingestion, "yahoo": yahoo_market_data}
    states = {name: flows[name](symbols=symbols, return_state=True) for name in vendors}
    if not any(state.is_completed() for state in states.values()):
        raise AllVendorsFailed("; ".join(f"{n}: {s.message}" for n, s in states.items()))
    return vendor_markdown({name: state.name for name, state in states.items()})


@flow(name="pipeline", log_prints=True)
def pipeline(
    paths: list[str] | None = None,
    vendors: list[str] | None = None,
    symbols: list[str] | None = None,
) -> dict[str, int]:
    """Land, build the dbt project, validate it.

    Args:
        paths: files to land (default, when no vendors are given: the bundled sample).
        vendors: land from these instead: `polygon` (grouped daily bars) and/or `yahoo`
            (hourly + daily bars), each for every trading day not landed yet.
        symbols: the vendors' symbols (default: MDW_UNIVERSE, else active raw.symbols).
    """
    if vendors:
        landing = _land_from_vendors(vendors, symbols)
    else:
        landing = landing_markdown(ingest_files(paths or [str(get_settings().sample_path)]))
    refresh_trading_sessions()
    built = dbt_build()
    validated = validate_warehouse()
    counts = count_warehouse_rows()
    create_markdown_artifact(
        key=SUMMARY_KEY,
        markdown="\n\n".join(
            [
                "# Pipeline run",
                landing,
                dbt_markdown(
                    built.command, built.models, built.tests, built.other, built.docs_index
                ),
                validated.markdown,
                warehouse_markdown(counts),
            ]
        ),
        description="Rows landed, models built, validation result and table sizes",
    )
    return counts
