"""Runs left without a live process: found, ended and marked Crashed (which alerts).

`mdw up` and the supervisor (every few seconds) judge each active run by the process that runs
it (`mdw down` stops the runs in flight and leaves them to the next `mdw up`, whose triggers
will listen):
- A deployment run of one of the stack's pools runs in one process, started by the pool's
  worker (mdw.flow_process, then prefect.engine, with PREFECT__FLOW_RUN_ID in its environment).
  It is alive while that process is. Its sub-flows run in the same process: a sub-flow (no
  deployment of its own, a parent task run) is alive while its root run is.
- A flow process whose worker is gone is ended first: nobody can cancel it any more (Prefect
  3.8 cancels a running flow through the worker that started it), and its run is then Crashed.
- Runs of no deployment (flows `mdw` runs in its own process) are left to the heartbeat
  automation (mdw.alerts); runs of other pools are not this stack's to judge.

The worker reports the death of its own flow process at once; a run is judged dead only after
its process has been missing for GRACE_SECONDS (PENDING_GRACE_SECONDS while its worker starts
it), and its state is re-read before it is changed (the server also refuses Crashed for a run
already final), so the same death is never reported twice.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path

import psutil

from mdw import services
from mdw.prefect_api import api
from settings import Settings

GRACE_SECONDS = 10.0
PENDING_GRACE_SECONDS = 120.0
TERMINAL = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}


def _live_workers(settings: Settings) -> dict[str, int]:
    """{pool: PID} of the workers that run."""
    return {
        pool: pid
        for pool in services.POOLS
        if (pid := services.read_pid(settings, services.worker_name(pool)))
    }


def end_orphan_processes(settings: Settings, timeout: float = 15.0) -> dict[int, str]:
    """Kill (SIGKILL) the flow processes whose worker is gone; {pid: flow run id} of those.
    Not SIGTERM: Prefect turns it into an exception inside the running task (dbt reported it
    as "Failed to invoke dbt command"), the run would end Failed for the wrong reason."""
    workers = set(_live_workers(settings).values())
    orphans = {}
    for pid, run_id in services.flow_processes(settings).items():
        try:
            if psutil.Process(pid).ppid() not in workers:
                orphans[pid] = run_id
        except psutil.Error:
            continue
    services.terminate(orphans, timeout, gentle=False)
    return orphans


def _stopped_file(settings: Settings) -> Path:
    return settings.run_dir / "stopped-by-down.json"


def note_stopped(settings: Settings, run_ids: Iterable[str]) -> None:
    """`mdw down` ended these runs' processes: the next `mdw up` says so when it marks them."""
    at = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    stopped = stopped_by_down(settings) | {
        run_id: f"Crashed: its process was stopped by `mdw down` at {at}" for run_id in run_ids
    }
    _stopped_file(settings).write_text(json.dumps(stopped, indent=1))


def stopped_by_down(settings: Settings) -> dict[str, str]:
    try:
        return json.loads(_stopped_file(settings).read_text())
    except (OSError, ValueError):
        return {}


def forget_stopped(settings: Settings) -> None:
    _stopped_file(settings).unlink(missing_ok=True)


def _age(run: dict) -> float:
    stamp = (run.get("state") or {}).get("timestamp")
    if not stamp:
        return float("inf")
    return (datetime.now(UTC) - datetime.fromisoformat(stamp)).total_seconds()


class Judge:
    """Which active runs have no live process (their own, or their root's for a sub-flow).

    `live`: ids of the runs whose process runs; `pools_with_worker`: pools whose worker runs;
    `read`: GET of an API path (runs and task runs are read only to find a sub-flow's root).
    """

    def __init__(
        self, live: set[str], pools_with_worker: set[str], read: Callable[[str], dict]
    ) -> None:
        self.live, self.pools_with_worker, self.read = live, pools_with_worker, read
        self.runs: dict[str, dict] = {}

    def run(self, run_id: str) -> dict:
        if run_id not in self.runs:
            self.runs[run_id] = self.read(f"/flow_runs/{run_id}")
        return self.runs[run_id]

    def root(self, run: dict) -> dict | None:
        """The run whose process runs `run`: itself for a deployment run, the root of its
        parent for an in-process sub-flow; None for a run of no deployment and no parent."""
        while run.get("deployment_id") is None:
            parent_task = run.get("parent_task_run_id")
            if parent_task is None:
                return None
            run = self.run(self.read(f"/task_runs/{parent_task}")["flow_run_id"])
        return run

    def dead(self, run: dict) -> bool:
        root = self.root(run)
        if root is None or root.get("work_pool_name") not in services.POOLS:
            return False  # not run by this stack's workers: the heartbeat automation's
        if root["id"] in self.live:
            return False
        if root["state_type"] in TERMINAL:
            return True  # a sub-flow still Running under a finished root
        if root["state_type"] == "PENDING":
            return (
                root["work_pool_name"] not in self.pools_with_worker
                or _age(root) > PENDING_GRACE_SECONDS
            )
        return _age(root) > GRACE_SECONDS


def crash_runs_without_process(
    settings: Settings, why: str, reasons: dict[str, str] | None = None
) -> list[dict]:
    """Mark Crashed every active run without a live process (Cancelled if it was being
    cancelled). Returns the runs whose state changed. `reasons`: a message per run id, instead
    of `why`."""
    if not services.active_runs(settings):
        return []  # (most of the time: no process scan needed)
    before = set(services.flow_processes(settings).values())
    active = services.active_runs(settings)
    # a run that went Running after the first scan has its process in the second
    live = before | set(services.flow_processes(settings).values())
    judge = Judge(live, set(_live_workers(settings)), lambda path: api(settings, "GET", path))
    judge.runs.update({r["id"]: r for r in active})
    ended = []
    for run in active:
        if not judge.dead(run):
            continue
        state_type = api(settings, "GET", f"/flow_runs/{run['id']}")["state_type"]
        if state_type in TERMINAL:
            continue  # ended meanwhile (its worker reported it): not twice
        # a run someone was cancelling ends Cancelled (no alert), any other Crashed (alerts)
        state = ("CANCELLED", "Cancelled") if state_type == "CANCELLING" else ("CRASHED", "Crashed")
        answer = api(
            settings,
            "POST",
            f"/flow_runs/{run['id']}/set_state",
            {
                "state": {
                    "type": state[0],
                    "name": state[1],
                    "message": (reasons or {}).get(run["id"], why),
                },
                "force": False,
            },
        )
        if answer["status"] == "ACCEPT":
            ended.append(run)
    return ended
