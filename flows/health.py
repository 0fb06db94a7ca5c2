"""`system-health` (every 15 minutes on the maintenance pool): is the stack fit to run unattended?

Checks the warehouse database (reachable, size), disk left under MDW_HOME, the newest landed
session per source, the last successful run of each scheduled deployment and the workers of
every pool. Leaves one markdown artifact; a crossed threshold fails the run, and the failure
is what raises the alert (the stack's Failed-run automation).
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from prefect import flow, task
from prefect.artifacts import create_markdown_artifact
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import (
    DeploymentFilter,
    DeploymentFilterId,
    FlowRunFilter,
    FlowRunFilterState,
    FlowRunFilterStateType,
)
from prefect.client.schemas.sorting import FlowRunSort

from ingest.db import transaction
from settings import Settings, get_settings

POOLS = ("data-ingestion", "analytics", "maintenance")
# Sources whose freshness is checked, and the deployment whose active schedule lands them.
FRESHNESS = {"polygon": "polygon-daily-ingestion/daily", "yahoo": "yahoo-market-data/hourly"}


class UnhealthyStack(RuntimeError):
    """At least one health threshold was crossed; the message lists them."""


@dataclass
class Health:
    problems: list[str] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)


@task
def database_facts(settings: Settings) -> tuple[int, dict[str, date]]:
    with transaction(settings.warehouse) as cur:
        cur.execute("select pg_database_size(current_database())")
        size = cur.fetchone()[0]
        cur.execute("select source, max(trade_date) from raw.daily_bars group by source")
        newest = dict(cur.fetchall())
    return size, newest


@task
def prefect_facts() -> tuple[list[tuple[str, bool, str]], dict[str, int]]:
    """(deployment, schedule active, last successful end) per scheduled deployment, and the
    workers online per pool."""
    rows = []
    with get_client(sync_client=True) as client:
        flows = {f.id: f.name for f in client.read_flows()}
        for dep in client.read_deployments():
            if not dep.schedules:
                continue
            active = any(s.active for s in dep.schedules) and not dep.paused
            runs = client.read_flow_runs(
                deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[dep.id])),
                flow_run_filter=FlowRunFilter(
                    state=FlowRunFilterState(type=FlowRunFilterStateType(any_=["COMPLETED"]))
                ),
                sort=FlowRunSort.END_TIME_DESC,
                limit=1,
            )
            last = runs[0].end_time.isoformat(timespec="minutes") if runs else "never"
            rows.append((f"{flows.get(dep.flow_id, '?')}/{dep.name}", active, last))
        online = {
            pool: sum(w.status == "ONLINE" for w in client.read_workers_for_work_pool(pool))
            for pool in POOLS
        }
    return sorted(rows), online


def assess(
    settings: Settings,
    db: tuple[int, dict[str, date]] | str,
    free_bytes: int,
    deployments: list[tuple[str, bool, str]],
    workers: dict[str, int],
    today: date,
) -> Health:
    """Pure: the facts against the thresholds."""
    h = Health()
    h.lines += ["# System health", "", "| check | value |", "|---|---|"]
    if isinstance(db, str):
        h.problems.append(f"warehouse database unreachable: {db}")
        h.lines.append(f"| warehouse database | **unreachable** ({db}) |")
        newest: dict[str, date] = {}
    else:
        size, newest = db
        h.lines.append(f"| warehouse database | reachable, {size / 1e6:.1f} MB |")
    free_gb = free_bytes / 1e9
    h.lines.append(f"| disk free under MDW_HOME | {free_gb:.1f} GB |")
    if free_gb < settings.health_min_free_gb:
        h.problems.append(
            f"disk under {settings.mdw_home}: {free_gb:.1f} GB free "
            f"(< MDW_HEALTH_MIN_FREE_GB={settings.health_min_free_gb})"
        )
    active = {name for name, on, _ in deployments if on}
    for source, newest_day in sorted(newest.items()):
        age = (today - newest_day).days
        h.lines.append(f"| newest session `{source}` | {newest_day} ({age} days) |")
        if FRESHNESS.get(source) in active and age > settings.health_max_source_age_days:
            h.problems.append(
                f"{source}: newest session {newest_day} is {age} days old "
                f"(> MDW_HEALTH_MAX_SOURCE_AGE_DAYS={settings.health_max_source_age_days})"
            )
    for pool, n in workers.items():
        h.lines.append(f"| workers online `{pool}` | {n} |")
        if n == 0:
            h.problems.append(f"no worker online for pool {pool}")
    h.lines += ["", "| scheduled deployment | schedule | last successful run |", "|---|---|---|"]
    h.lines += [
        f"| {name} | {'active' if on else 'inactive'} | {last} |" for name, on, last in deployments
    ]
    h.lines += ["", "Problems:" if h.problems else "No threshold crossed."]
    h.lines += [f"- {p}" for p in h.problems]
    return h


@flow(name="system-health", log_prints=True)
def system_health() -> list[str]:
    settings = get_settings()
    try:
        db: tuple[int, dict[str, date]] | str = database_facts(settings)
    except Exception as exc:  # noqa: BLE001 - an unreachable database is a finding, not a crash
        db = type(exc).__name__
    settings.mdw_home.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(settings.mdw_home).free
    deployments, workers = prefect_facts()
    health = assess(settings, db, free, deployments, workers, datetime.now(UTC).date())
    create_markdown_artifact(key="system-health", markdown="\n".join(health.lines))
    if health.problems:
        raise UnhealthyStack("; ".join(health.problems))
    return health.lines
