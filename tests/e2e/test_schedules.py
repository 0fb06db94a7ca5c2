"""Schedules, proven (issue 16): the scheduler service creates runs that a worker completes,
and the dead-man's switch alerts (to the real HTTP receiver) when a schedule's runs do not
complete - and not when they do. A tiny flow (tests/e2e/tiny_flow.py) on a schedule of three
runs 10 s apart keeps it short; the default schedules are checked as `mdw up` left them."""

from __future__ import annotations

import json
import re
import time
from datetime import UTC, datetime, timedelta

import pytest

from mdw import schedules
from settings import PROJECT_ROOT
from tests.e2e.conftest import wait_until

pytestmark = pytest.mark.e2e

FLOW = "e2e-tick"
IDLE_POOL = "e2e-no-worker"  # a pool nobody polls: its runs are created and never run


def deploy(stack, name: str, pool: str, schedule: dict) -> dict:
    flow = stack.api("/flows/", {"name": FLOW})
    return stack.api(
        "/deployments/",
        {
            "name": name,
            "flow_id": flow["id"],
            "entrypoint": "tests/e2e/tiny_flow.py:tick",
            "pull_steps": [
                {
                    "prefect.deployments.steps.set_working_directory": {
                        "directory": str(PROJECT_ROOT)
                    }
                }
            ],
            "work_pool_name": pool,
            "paused": False,
            "schedules": [{"schedule": {**schedule, "timezone": "UTC"}, "active": True}],
        },
    )


def runs_of(stack, deployment_id: str, states: list[str]) -> list[dict]:
    return stack.api(
        "/flow_runs/filter",
        {
            "deployments": {"id": {"any_": [deployment_id]}},
            "flow_runs": {"state": {"type": {"any_": states}}},
        },
    )


def test_up_watches_every_active_default_schedule(stack):
    watched = {
        a["name"].removeprefix(schedules.DEADMAN_PREFIX): a
        for a in stack.api("/automations/filter", {"limit": 200})
        if a["name"].startswith(schedules.DEADMAN_PREFIX)
    }
    assert set(watched) >= {
        "system-health/every-15-minutes",
        "maintenance/nightly",
        "maintenance/weekly-backup",
        "daily-report/daily",
    }
    health = watched["system-health/every-15-minutes"]["trigger"]
    assert health["posture"] == "Proactive" and health["within"] == 900 + 1200  # 15 + 20 min
    status = stack.run("mdw", "status")
    line = next(x for x in status.stdout.splitlines() if "system-health/every-15-minutes  " in x)
    assert "every 15 min (UTC)" in line and re.search(r"next \d{4}-\d\d-\d\d ", line), line


def test_the_scheduler_runs_a_schedule_and_the_dead_mans_switch_watches_it(stack):
    """Runs created by the scheduler service (created_by SCHEDULE) and completed by the
    maintenance worker; a dead-man alert for a schedule whose runs never run, none for a
    deployment whose runs complete."""
    stack.api("/work_pools/", {"name": IDLE_POOL, "type": "process"})
    healthy, idle = f"{FLOW}/scheduled", f"{FLOW}/unattended"
    # Three runs 10 s apart, then no more: the test ends when they have ended, so no run the
    # worker has already fetched is deleted under it (a 404 and a traceback in its log).
    start = datetime.now(UTC) + timedelta(seconds=5)
    rrule = f"DTSTART:{start:%Y%m%dT%H%M%SZ}\nRRULE:FREQ=SECONDLY;INTERVAL=10;COUNT=3"
    deps = [
        deploy(stack, "scheduled", "maintenance", {"rrule": rrule}),
        deploy(stack, "unattended", IDLE_POOL, {"interval": 5}),
    ]
    try:
        grace = timedelta(seconds=10)  # a 15 s window: 5 s period + 10 s
        assert schedules.sync_deadman(stack.settings, grace, only=[idle]) == [idle]
        run = wait_until(
            lambda: (runs_of(stack, deps[0]["id"], ["COMPLETED"]) or [None])[0],
            300,
            f"a scheduled run of {healthy} to complete",
        )
        assert run["auto_scheduled"] and run["created_by"]["type"] == "SCHEDULE"
        assert run["work_pool_name"] == "maintenance"

        status = stack.run("mdw", "status")
        assert status.returncode == 0, status.stdout + status.stderr
        line = next(x for x in status.stdout.splitlines() if f"{healthy}  " in x)
        assert "rrule 'DTSTART" in line and "last completed never" not in line, line
        assert "scheduler: ok" in status.stdout, status.stdout

        alert = stack.webhook.wait_for(lambda p: idle in json.dumps(p), timeout=120)
        assert alert is not None, f"no dead-man alert for {idle}: {stack.webhook.posts}"
        assert "no completed run in 15 s" in alert["json"]["subject"]
        assert "mdw status" in alert["json"]["text"]
        assert stack.smtp.wait_for(lambda m: idle in m["Subject"], timeout=60) is not None

        # Completions keep it quiet: watched with a 45 s window, two runs complete in it.
        # (Runs of the API, whose state events reach the triggers at once; the scheduler's
        # first runs of a new schedule reach them 15 min late - see schedules.GRACE_MIN.)
        wait_until(
            lambda: not runs_of(stack, deps[0]["id"], ["SCHEDULED", "PENDING", "RUNNING"]),
            300,
            f"the scheduled runs of {healthy} to end",
        )
        watched_at = time.monotonic()
        assert schedules.sync_deadman(stack.settings, timedelta(seconds=35), only=[healthy]) == [
            healthy
        ]
        done_before = len(runs_of(stack, deps[0]["id"], ["COMPLETED"]))
        for _ in range(2):
            stack.api(f"/deployments/{deps[0]['id']}/create_flow_run", {})
        wait_until(
            lambda: len(runs_of(stack, deps[0]["id"], ["COMPLETED"])) >= done_before + 1,
            120,
            f"a run of {healthy} to complete while watched",
        )
        left = 45 + 15 - (time.monotonic() - watched_at)  # the window, and its evaluation
        assert stack.webhook.wait_for(lambda p: healthy in json.dumps(p), max(left, 1)) is None
    finally:
        # the idle pool's runs are never fetched by a worker: deleting them races with nothing
        wait_until(
            lambda: not runs_of(stack, deps[0]["id"], ["SCHEDULED", "PENDING", "RUNNING"]),
            300,
            f"the runs of {healthy} to end",
        )
        for dep in deps:
            stack.api(f"/deployments/{dep['id']}", method="DELETE")
        assert schedules.sync_deadman(stack.settings, only=[healthy, idle]) == []
        stack.api(f"/work_pools/{IDLE_POOL}", method="DELETE")
