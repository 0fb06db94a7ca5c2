"""The trading-calendar refresh task (raw.trading_sessions), run by the pipeline before dbt."""

from __future__ import annotations

from prefect import get_run_logger, task
from prefect.runtime import flow_run

from ingest.sessions import calendar_start, land_sessions
from settings import get_settings


@task(name="refresh-trading-sessions", retries=2, retry_delay_seconds=5)
def refresh_trading_sessions() -> str:
    """Land the XNYS calendar over every landed symbol's range (idempotent)."""
    settings = get_settings()
    start = calendar_start(settings.warehouse, settings.sessions_start)
    r = land_sessions(
        settings.warehouse, start=start, flow_run_id=str(flow_run.id) if flow_run.id else None
    )
    message = (
        f"{r.exchange} sessions {r.first_session} .. {r.last_session}: {r.received} received, "
        f"{r.inserted} inserted, {r.updated} updated, {r.deleted} deleted"
    )
    get_run_logger().info(message)
    return message
