"""Progress for long work, shown only to a person at a terminal (quiet in logs, CI and pipes).

- `watch_copy`: while files land, another connection polls `pg_stat_progress_copy` for the
  landing's COPY (application_name `mdw-ingest`): bytes, rows and rates as a progress bar.
- `wait_for_flow_run`: while a deployment runs on the stack, one status line with its state,
  the step running and the counts of task runs done / running / failed.
- `flow_logs_to_api`: while a flow runs in this process, its log lines (and the warnings of the
  libraries it calls) go to the Prefect API only - the UI shows them - so the terminal gets the
  command's own lines: one per file, one for a vendor run.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from uuid import UUID

from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
    TransferSpeedColumn,
)
from sqlalchemy.engine import URL

from mdw.console import err

POLL_SECONDS = 0.5

COPY_PROGRESS_SQL = """
select coalesce(sum(p.bytes_processed), 0), coalesce(sum(p.tuples_processed), 0), count(*)
from pg_stat_progress_copy as p
inner join pg_stat_activity as a on a.pid = p.pid
where p.datname = current_database() and a.application_name = 'mdw-ingest'
"""


@contextmanager
def flow_logs_to_api(debug: bool = False) -> Iterator[None]:
    """Silence the terminal's log handlers (Prefect's console handler on the root logger)
    while the block runs, unless `debug`; the API log handler of the flow and task run loggers
    is left as it is."""
    if debug:
        yield
        return
    handlers = [h for h in logging.getLogger().handlers if isinstance(h, logging.StreamHandler)]
    levels = [h.level for h in handlers]
    for handler in handlers:
        handler.setLevel(logging.CRITICAL + 1)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        for handler, level in zip(handlers, levels, strict=True):
            handler.setLevel(level)


def interactive() -> bool:
    return err.is_terminal and not err.is_dumb_terminal


@contextmanager
def watch_copy(url: URL, sizes: list[int], label: str) -> Iterator[None]:
    """Show the landing's COPY progress while the block runs (nothing when not a terminal).

    `sizes`: the files' sizes in bytes, in the order they land (one COPY each).
    """
    if not interactive():
        yield
        return
    stop = threading.Event()
    thread = threading.Thread(
        target=_poll_copy, args=(url, sizes, label, stop), daemon=True, name="copy-progress"
    )
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=5)


def _poll_copy(url: URL, sizes: list[int], label: str, stop: threading.Event) -> None:
    from ingest.db import connect

    try:
        conn = connect(url)
    except Exception:  # progress is a nicety: never let it break the landing
        return
    conn.autocommit = True
    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(bar_width=24),
        DownloadColumn(),
        TransferSpeedColumn(),
        TextColumn("{task.fields[rows]:,} rows copied ({task.fields[rate]:,.0f}/s)"),
        TimeElapsedColumn(),
    )
    finished = 0  # files whose COPY ended
    rows_before = 0  # rows copied from those files
    seen = (0, 0)  # the running COPY's last (bytes, rows)
    rate = 0.0
    copy_started = time.monotonic()
    try:
        with Progress(*columns, console=err, transient=True) as bar, conn.cursor() as cur:
            task = bar.add_task(f"copying {label}", total=max(sum(sizes), 1), rows=0, rate=0)
            while not stop.wait(POLL_SECONDS):
                cur.execute(COPY_PROGRESS_SQL)
                bytes_now, rows_now, copies = (int(v) for v in cur.fetchone())
                if copies:
                    if seen == (0, 0):
                        copy_started = time.monotonic()
                    seen = (bytes_now, rows_now)
                    rate = rows_now / max(time.monotonic() - copy_started, 1e-6)
                    phase = f"copying {label}"
                elif seen != (0, 0):  # that COPY ended: its file is being merged
                    finished, rows_before, seen = finished + 1, rows_before + seen[1], (0, 0)
                    phase = "merging into raw.daily_bars"
                else:
                    phase = "merging into raw.daily_bars" if finished else f"landing {label}"
                done = sum(sizes[:finished]) + min(seen[0], sizes[min(finished, len(sizes) - 1)])
                bar.update(
                    task, completed=done, description=phase, rows=rows_before + seen[1], rate=rate
                )
    except Exception:
        return
    finally:
        conn.close()


def wait_for_flow_run(flow_run_id: UUID, timeout: float, poll: float = 2.0):
    """Wait for a flow run to finish; a live status line meanwhile. Returns the final run."""
    from prefect.client.orchestration import get_client

    deadline = time.monotonic() + timeout
    with get_client(sync_client=True) as client:
        status = err.status("waiting for the run to start ...") if interactive() else None
        if status is not None:
            status.start()
        try:
            while True:
                run = client.read_flow_run(flow_run_id)
                if run.state is not None and run.state.is_final():
                    return run
                if time.monotonic() > deadline:
                    return run
                if status is not None:
                    with contextlib.suppress(Exception):  # a status line never fails the wait
                        status.update(_run_line(client, run))
                time.sleep(poll)
        finally:
            if status is not None:
                status.stop()


def _run_line(client, run) -> str:
    from prefect.client.schemas.filters import (
        FlowRunFilter,
        FlowRunFilterParentFlowRunId,
        TaskRunFilter,
        TaskRunFilterFlowRunId,
    )

    ids = [run.id]
    children = client.read_flow_runs(
        flow_run_filter=FlowRunFilter(parent_flow_run_id=FlowRunFilterParentFlowRunId(any_=ids))
    )
    ids += [c.id for c in children]
    task_filter = TaskRunFilter(flow_run_id=TaskRunFilterFlowRunId(any_=ids))
    tasks: list = []
    for page in range(25):  # the API serves at most 200 per request
        batch = client.read_task_runs(task_run_filter=task_filter, limit=200, offset=200 * page)
        tasks += batch
        if len(batch) < 200:
            break
    counts: dict[str, int] = {}
    for t in tasks:
        kind = t.state.type.value.lower() if t.state else "pending"
        counts[kind] = counts.get(kind, 0) + 1
    running = [t.name for t in tasks if t.state and t.state.is_running()]
    step = running[-1] if running else "-"
    elapsed = run.estimated_run_time.total_seconds() if run.estimated_run_time else 0
    return (
        f"{run.state.name if run.state else 'Pending'} · now: {step} · "
        f"tasks {counts.get('completed', 0)} done, {counts.get('running', 0)} running, "
        f"{counts.get('failed', 0)} failed · {elapsed:.0f} s"
    )
