"""The stack's runner: serves every deployment from this process (`python -m flows.serve`).

`mdw up` starts it in the background; it polls the Prefect server and runs each flow run in a
subprocess. Schedules of vendor deployments start paused: they need API keys; resume them in
the UI or with `prefect deployment resume NAME` once the key is set.
"""

from __future__ import annotations

from prefect import serve
from prefect.schedules import Cron

from flows.dbt_build import dbt_build
from flows.ingest_files import ingest_files
from flows.pipeline import pipeline
from flows.polygon import (
    polygon_daily_ingestion,
    polygon_historical_backfill,
    polygon_reference_data,
)
from flows.validate import validate_warehouse
from flows.yahoo import yahoo_company_data, yahoo_market_data


def deployments() -> list:
    return [
        pipeline.to_deployment(
            name="sample",
            description="Land the bundled 20-symbol sample, build the dbt project, validate it.",
            tags=["sample"],
        ),
        pipeline.to_deployment(
            name="daily",
            description="Weekdays after the close: Polygon and Yahoo, then dbt and validation.",
            parameters={"vendors": ["polygon", "yahoo"]},
            schedules=[Cron("30 18 * * 1-5", timezone="America/New_York")],
            paused=True,
        ),
        ingest_files.to_deployment(name="manual", description="Land the given files."),
        dbt_build.to_deployment(name="manual", description="dbt build (and docs)."),
        validate_warehouse.to_deployment(name="manual", description="Run the GX checkpoints."),
        polygon_daily_ingestion.to_deployment(
            name="daily",
            description="Polygon grouped-daily bars for every missing session (needs a key).",
            schedules=[Cron("0 18 * * 1-5", timezone="America/New_York")],
            paused=True,
        ),
        polygon_historical_backfill.to_deployment(
            name="manual", description="Polygon per-symbol backfill (chunked, resumable)."
        ),
        polygon_reference_data.to_deployment(
            name="weekly",
            description="Polygon tickers, splits and dividends.",
            schedules=[Cron("0 6 * * 6", timezone="America/New_York")],
            paused=True,
        ),
        yahoo_market_data.to_deployment(
            name="hourly",
            description="Yahoo 1h and daily bars for the universe (last 7 days).",
            schedules=[Cron("5 * * * 1-5", timezone="America/New_York")],
            paused=True,
        ),
        yahoo_company_data.to_deployment(
            name="daily",
            description="Yahoo company data snapshots for the universe.",
            schedules=[Cron("30 6 * * *", timezone="America/New_York")],
            paused=True,
        ),
    ]


def main() -> None:
    serve(*deployments(), limit=4)


if __name__ == "__main__":
    main()
