"""`maintenance`: nightly housekeeping and the weekly backup (deployments maintenance/nightly and
maintenance/weekly-backup). Never deletes market data: retention covers only operational rows
(load runs and quarantine), archived to the `archive` schema in the same transaction that
removes them.
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal

import psycopg2
from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from psycopg2 import sql
from sqlalchemy.engine import URL

from ingest.db import connect, transaction
from settings import Settings, get_settings

# Operational tables under retention and the timestamp that ages them. Market data
# (raw.daily_bars, raw.intraday_bars, raw.corporate_actions, ...) is never listed here.
RETAINED: dict[str, str] = {
    "raw.load_runs": "started_at",
    "raw.rejected_bars": "rejected_at",
    "raw.rejected_records": "rejected_at",
}
TERMINAL = ["COMPLETED", "FAILED", "CRASHED", "CANCELLED"]


@dataclass(frozen=True)
class Retained:
    table: str
    archived: int


def _columns(cur, qualified: str) -> list[str]:
    schema, table = qualified.split(".")
    cur.execute(
        "select column_name from information_schema.columns"
        " where table_schema = %s and table_name = %s order by ordinal_position",
        (schema, table),
    )
    return [r[0] for r in cur.fetchall()]


def apply_retention(url: URL, older_than: timedelta, now: datetime | None = None) -> list[Retained]:
    """Move rows older than the limit to archive.<table>, then delete them, one transaction
    per table (an error leaves that table as it was)."""
    cutoff = (now or datetime.now(UTC)) - older_than
    done = []
    for qualified, column in RETAINED.items():
        with transaction(url) as cur:
            raw_cols = _columns(cur, qualified)
            if not raw_cols:
                continue  # table not migrated here
            archive = "archive." + qualified.split(".")[1]
            cols = [c for c in _columns(cur, archive) if c in raw_cols]
            col_list = sql.SQL(", ").join(map(sql.Identifier, cols))
            source = sql.Identifier(*qualified.split("."))
            cur.execute(
                sql.SQL(
                    "with moved as (delete from {src} where {ts} < %s returning *)"
                    " insert into {dst} ({cols}) select {cols} from moved"
                ).format(
                    src=source,
                    ts=sql.Identifier(column),
                    dst=sql.Identifier(*archive.split(".")),
                    cols=col_list,
                ),
                (cutoff,),
            )
            done.append(Retained(qualified, cur.rowcount))
    return done


def vacuum_changed(url: URL) -> list[str]:
    """VACUUM (ANALYZE) every table with modifications since its last analyze or dead rows."""
    conn = connect(url)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(
                "select schemaname, relname from pg_stat_user_tables"
                " where n_mod_since_analyze > 0 or n_dead_tup > 0 order by 1, 2"
            )
            tables = cur.fetchall()
            for schema, name in tables:
                try:
                    cur.execute(sql.SQL("vacuum (analyze) {}").format(sql.Identifier(schema, name)))
                except psycopg2.errors.UndefinedTable:
                    continue  # dropped by a concurrent dbt build
    finally:
        conn.close()
    return [f"{s}.{n}" for s, n in tables]


def rotate_logs(log_dir: Path, max_bytes: int, keep: int) -> list[str]:
    """Copy-and-truncate each `*.log` over the limit (the stack's processes keep their file
    open in append mode), keeping `keep` generations `.1` (newest) .. `.N`."""
    rotated = []
    for log in sorted(log_dir.glob("*.log")):
        if log.stat().st_size <= max_bytes:
            continue
        for n in range(keep, 0, -1):
            older = log.with_name(f"{log.name}.{n}")
            if n == keep:
                older.unlink(missing_ok=True)
            elif older.exists():
                older.rename(log.with_name(f"{log.name}.{n + 1}"))
        shutil.copyfile(log, log.with_name(f"{log.name}.1"))
        with open(log, "r+b") as fh:
            fh.truncate(0)
        rotated.append(log.name)
    return rotated


def trim_prefect_history(older_than: timedelta) -> int:
    """Delete finished flow runs (their task runs, logs and artifacts go with them) older than
    the limit, through Prefect's API."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        FlowRunFilter,
        FlowRunFilterEndTime,
        FlowRunFilterState,
        FlowRunFilterStateType,
    )

    cutoff = datetime.now(UTC) - older_than
    deleted = 0
    with get_client(sync_client=True) as client:
        while True:
            runs = client.read_flow_runs(
                flow_run_filter=FlowRunFilter(
                    end_time=FlowRunFilterEndTime(before_=cutoff),
                    state=FlowRunFilterState(type=FlowRunFilterStateType(any_=TERMINAL)),
                ),
                limit=200,
            )
            if not runs:
                return deleted
            for run in runs:
                client.delete_flow_run(run.id)
                deleted += 1


@task
def retention_task(settings: Settings) -> list[Retained]:
    return apply_retention(settings.warehouse, timedelta(days=settings.retention_days))


@task
def vacuum_task(settings: Settings) -> list[str]:
    return vacuum_changed(settings.warehouse)


@task
def prefect_history_task(settings: Settings) -> int:
    return trim_prefect_history(timedelta(days=settings.prefect_history_days))


@task
def rotate_logs_task(settings: Settings) -> list[str]:
    return rotate_logs(settings.log_dir, settings.log_rotate_bytes, settings.log_keep)


@task
def backup_task(settings: Settings):
    from lib.backup import backup_stack

    return backup_stack(settings)


def _nightly(settings: Settings) -> list[str]:
    timings: dict[str, float] = {}

    def timed(name, fn):
        started = time.monotonic()
        value = fn(settings)
        timings[name] = time.monotonic() - started
        return value

    retained = timed("retention", retention_task)
    vacuumed = timed("vacuum", vacuum_task)
    trimmed = timed("prefect history", prefect_history_task)
    rotated = timed("log rotation", rotate_logs_task)
    lines = [
        "# Nightly maintenance",
        "",
        f"Retention: operational rows older than {settings.retention_days} days moved to "
        "the `archive` schema (market data is never touched).",
        "",
        "| table | rows archived and removed |",
        "|---|---:|",
        *[f"| `{r.table}` | {r.archived} |" for r in retained],
        "",
        f"- VACUUM (ANALYZE): {len(vacuumed)} changed tables",
        f"- Prefect history: {trimmed} finished flow runs older than "
        f"{settings.prefect_history_days} days deleted",
        f"- Logs rotated: {', '.join(rotated) or 'none over the limit'}",
        "",
        "| step | seconds |",
        "|---|---:|",
        *[f"| {k} | {v:.1f} |" for k, v in timings.items()],
    ]
    return lines


def _weekly_backup(settings: Settings) -> list[str]:
    archives = backup_task(settings)
    return [
        "# Weekly backup",
        "",
        "| database | archive | size (bytes) | table-data entries |",
        "|---|---|---:|---:|",
        *[f"| {a.database} | `{a.path}` | {a.bytes} | {a.entries} |" for a in archives],
        "",
        f"Verified with `pg_restore --list`; the last {settings.backup_keep} of each are kept "
        f"in `{archives[0].path.parent}`. Restore: `mdw restore PATH --yes`.",
    ]


@flow(name="maintenance", log_prints=True)
def maintenance(job: Literal["nightly", "weekly-backup"] = "nightly") -> str:
    """Nightly housekeeping or the weekly backup; one markdown artifact either way."""
    settings = get_settings()
    started = time.monotonic()
    lines = _nightly(settings) if job == "nightly" else _weekly_backup(settings)
    lines += ["", f"Total: {time.monotonic() - started:.1f} s"]
    markdown = "\n".join(lines)
    create_markdown_artifact(key=f"maintenance-{job}", markdown=markdown)
    get_run_logger().info("maintenance %s done in %.1f s", job, time.monotonic() - started)
    return markdown
