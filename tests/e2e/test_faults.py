"""Faults and strangers (issue 20), on the shared e2e stack: real SIGKILLs of each part while a
dbt build runs, `mdw down` with runs in flight, a part that keeps dying, and the API's lock.

Each kill lands in the middle of a short build - `dbt-build/manual` of `fct_daily_bars` with a
full refresh, killed while dbt runs its SQL (PostgreSQL rolls the half-built table back) -
and the test reads the run's state, the alert receiver and the rows, and checks that the
supervisor brought the killed part back without a command. It prints the time from the kill to
Crashed, to the alert and to a completed rerun (`pytest -s`: lines starting `fault timings`;
also appended to $TMPDIR/mdw-fault-timings.jsonl).
The rerun is a plain (incremental) build of the same model: its rows must equal the clean
build's. Every test leaves the stack healthy (`mdw status` exit 0) for the next one.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import stat
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest

from ingest.db import connect, transaction
from lib.environment import prefect_auth_file, read_prefect_auth
from mdw import postgres, services, supervisor
from mdw.prefect_api import ApiUnavailable, api
from settings import pgpass_password
from tests.e2e.conftest import SMTP_PASSWORD, TERMINAL

pytestmark = pytest.mark.e2e

DEPLOYMENT = "dbt-build/manual"
MODEL = "fct_daily_bars"
CRASHED_WITHIN = 120.0  # the bound: a killed run ends Crashed within 2 minutes


def wait_until(predicate, timeout: float, what: str, interval: float = 0.5):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


@pytest.fixture(scope="module")
def built(stack) -> dict[str, int]:
    """The sample warehouse built once (the pipeline), and the row counts of a clean build."""
    with transaction(stack.settings.warehouse) as cur:
        cur.execute("select to_regclass(%s) is not null", (f"marts.{MODEL}",))
        exists = cur.fetchone()[0]
    if not exists or not stack.count(f"marts.{MODEL}"):
        run = stack.start_run("pipeline/sample")
        done = stack.wait_run(run["id"], TERMINAL, timeout=1200)
        assert done["state_type"] == "COMPLETED", done["state"]
    return clean_counts(stack)


def clean_counts(stack) -> dict[str, int]:
    return {t: stack.count(t) for t in ("raw.daily_bars", f"marts.{MODEL}")}


def healthy(stack) -> None:
    """The stack is whole again: `mdw status` exits 0 (every part up, the supervisor too)."""
    wait_until(lambda: stack.run("mdw", "status").returncode == 0, 240, "`mdw status` exit 0")


def start_mid_dbt(stack) -> dict:
    """A full-refresh build of MODEL, returned while dbt runs MODEL's SQL in the warehouse (read
    from pg_stat_activity: whatever runs dbt, its statements are the proof)."""
    run = stack.start_run(DEPLOYMENT, select=MODEL, full_refresh=True)
    conn = connect(stack.settings.warehouse)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:

            def building() -> bool:
                cur.execute(
                    "select count(*) from pg_stat_activity where state = 'active'"
                    " and datname = current_database() and pid <> pg_backend_pid()"
                    " and query ilike %s",
                    (f"%{MODEL}%",),
                )
                if cur.fetchone()[0]:
                    return True
                state = stack.read_run(run["id"])["state_type"]
                assert state not in TERMINAL, f"the build ended before the kill: {state}"
                return False

            wait_until(building, 300, f"dbt to run {MODEL}'s SQL", interval=0.1)
    finally:
        conn.close()
    return run


def ended(stack, run_id: str, timeout: float) -> dict:
    """The run once it is final; the API may be away meanwhile (its server or database killed)."""

    def final() -> dict | None:
        try:
            run = stack.read_run(run_id)
        except ApiUnavailable:
            return None
        return run if run["state_type"] in TERMINAL else None

    return wait_until(final, timeout, f"run {run_id} to end")


def alerts_for(stack, run_id: str) -> list[dict]:
    return [p for p in stack.webhook.posts if run_id in json.dumps(p["json"])]


def seconds_since(t0: float, iso: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(iso).timestamp() - t0


def crashed_and_alerted(stack, run: dict, killed_at: float) -> dict[str, float]:
    """The run ends Crashed within CRASHED_WITHIN, its alert comes: seconds from the kill."""
    done = ended(stack, run["id"], CRASHED_WITHIN)
    assert done["state_type"] == "CRASHED", done["state"]
    to_crashed = seconds_since(killed_at, done["state"]["timestamp"])
    assert to_crashed < CRASHED_WITHIN
    wait_until(lambda: alerts_for(stack, run["id"]), 120, f"the alert of run {run['name']}")
    return {"to_crashed": round(to_crashed, 1), "to_alert": round(time.time() - killed_at, 1)}


def rerun_completes(stack, clean: dict[str, int], killed_at: float) -> float:
    """A plain build of MODEL completes (the dbt-build slot was freed), its rows equal the clean
    build's and the slot is free after it; seconds from the kill."""
    run = stack.start_run(DEPLOYMENT, select=MODEL)
    done = stack.wait_run(run["id"], TERMINAL, timeout=600)
    assert done["state_type"] == "COMPLETED", done["state"]
    assert clean_counts(stack) == clean
    slot = api(stack.settings, "GET", "/v2/concurrency_limits/dbt-build")
    assert slot["active_slots"] == 0, slot
    return round(seconds_since(killed_at, done["state"]["timestamp"]), 1)


def restarted(stack, part: str, old_pid: int | None, killed_at: float) -> None:
    """The supervisor restarted `part` after the kill (recorded), without any command."""
    records = wait_until(
        lambda: [
            r
            for r in supervisor.recent_restarts(stack.settings)
            if r["part"] == part and seconds_since(killed_at, r["at"]) >= 0 and "pid" in r
        ],
        180,
        f"the supervisor's restart of {part}",
    )
    assert records[-1]["pid"] != old_pid


TIMINGS = Path(tempfile.gettempdir()) / "mdw-fault-timings.jsonl"


def noisy(stack, reason: str):
    """What the logs say while a part is killed on purpose is not held against the server: the
    shared stack's `Stack.noisy` window, where the conftest has it (issue 16's quiet-log check)."""
    return stack.noisy(reason) if hasattr(stack, "noisy") else contextlib.nullcontext()


def report(name: str, timings: dict[str, float]) -> None:
    """Printed (`pytest -s`) and appended to TIMINGS: the figures issue 20's closing note needs."""
    line = json.dumps({"fault": name, "at": time.strftime("%Y-%m-%d %H:%M:%S"), **timings})
    print(f"\nfault timings {line}")
    with open(TIMINGS, "a") as fh:
        fh.write(line + "\n")


def test_the_api_refuses_strangers_and_no_secret_is_shown(stack):
    base = stack.settings.prefect_api_url

    def status_of(method: str, path: str, headers: dict | None = None) -> int:
        req = urllib.request.Request(
            f"{base}{path}",
            data=b"{}" if method == "POST" else None,
            headers={"Content-Type": "application/json", **(headers or {})},
            method=method,
        )
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                return resp.status
        except urllib.error.HTTPError as exc:
            return exc.code

    assert status_of("GET", "/admin/version") == 401
    assert status_of("GET", f"/flow_runs/{uuid.uuid4()}") == 401
    assert status_of("GET", "/admin/version", {"Authorization": "Basic bWR3Omd1ZXNz"}) == 401
    # a change needs a CSRF token first, which only an authenticated client can get
    assert status_of("POST", "/flow_runs/filter") == 403
    assert status_of("GET", f"/csrf-token?client={uuid.uuid4()}") == 401
    # CORS: only the UI's own origin
    ui = base.removesuffix("/api")
    for origin, allowed in ((ui, True), ("http://evil.example", False)):
        preflight = urllib.request.Request(
            f"{base}/flow_runs/filter",
            method="OPTIONS",
            headers={"Origin": origin, "Access-Control-Request-Method": "POST"},
        )
        try:
            with urllib.request.urlopen(preflight, timeout=10) as resp:
                header = resp.headers.get("access-control-allow-origin")
        except urllib.error.HTTPError as exc:
            header = exc.headers.get("access-control-allow-origin")
        assert (header == origin) is allowed, (origin, header)

    # the CLI and the workers still work: the prefect CLI as `mdw env` sets it up
    pools = stack.prefect("work-pool", "ls")
    assert pools.returncode == 0 and "analytics" in pools.stdout, pools.stdout + pools.stderr

    auth = read_prefect_auth(stack.settings)
    assert auth and len(auth) > 40
    assert stat.S_IMODE(prefect_auth_file(stack.settings).stat().st_mode) == 0o600
    printed = stack.run("mdw", "env")
    assert printed.returncode == 0
    assert f"$(cat {prefect_auth_file(stack.settings)}" in printed.stdout
    secrets = {
        "api credentials": auth,
        "postgres password": pgpass_password(stack.settings.pgpass_file, "postgres"),
        "smtp password": SMTP_PASSWORD,
        "webhook token": "s3cret-token",
    }
    blocks = api(stack.settings, "POST", "/block_documents/filter?include_secrets=true", {})
    ours = [b for b in blocks if b["name"].startswith("mdw-alert-")]
    assert {b["name"] for b in ours} == {"mdw-alert-webhook", "mdw-alert-email"}
    artifacts = api(stack.settings, "POST", "/artifacts/filter", {"limit": 200})
    variables = api(stack.settings, "POST", "/variables/filter", {})
    for where, text in (
        ("mdw env", printed.stdout + printed.stderr),
        ("block documents (include_secrets)", json.dumps(ours)),
        ("artifacts", json.dumps(artifacts)),
        ("variables", json.dumps(variables)),
    ):
        for name, secret in secrets.items():
            assert secret and secret not in text, f"the {name} appears in {where}"


@contextlib.contextmanager
def swap_held_back(stack):
    """A reader's open transaction on marts.MODEL: a full refresh builds the new table, then
    waits to swap it in, so the run is still running whenever the test acts (the sample's
    build of one model takes about a second, less than a killed worker takes to notice)."""
    conn = connect(stack.settings.warehouse)
    try:
        with conn.cursor() as cur:
            cur.execute(f"select 1 from marts.{MODEL} limit 1")
        yield
    finally:
        conn.rollback()
        conn.close()


def test_a_killed_worker_crashes_its_run_alerts_once_and_comes_back(stack, built):
    """Regression (defect 1): the run hung Running forever, its heartbeat still beating."""
    name = services.worker_name("analytics")
    worker = services.read_pid(stack.settings, name)
    with swap_held_back(stack), noisy(stack, "the analytics worker is killed"):
        run = start_mid_dbt(stack)
        killed_at = time.time()
        os.kill(worker, signal.SIGKILL)
        timings = crashed_and_alerted(stack, run, killed_at)
        assert "worker died" in stack.read_run(run["id"])["state"]["message"]
        restarted(stack, name, worker, killed_at)
        healthy(stack)
    timings["to_rerun_completed"] = rerun_completes(stack, built, killed_at)
    assert len(alerts_for(stack, run["id"])) == 1
    assert run["id"] not in services.flow_processes(stack.settings).values()
    report("worker", timings)


def test_a_killed_flow_process_crashes_its_run_and_alerts_once(stack, built):
    run = start_mid_dbt(stack)
    (pid,) = [p for p, r in services.flow_processes(stack.settings).items() if r == run["id"]]
    with noisy(stack, "a flow-run process is killed"):
        killed_at = time.time()
        os.kill(pid, signal.SIGKILL)
        timings = crashed_and_alerted(stack, run, killed_at)
    timings["to_rerun_completed"] = rerun_completes(stack, built, killed_at)
    assert len(alerts_for(stack, run["id"])) == 1
    healthy(stack)
    report("flow process", timings)


def test_a_killed_postmaster_ends_the_run_alerts_once_and_comes_back(stack, built):
    """Defect 3: the data-ingestion worker exited and nothing restarted anything."""
    run = start_mid_dbt(stack)
    postmaster = postgres.status(stack.settings).pid
    with noisy(stack, "PostgreSQL's postmaster is killed"):
        killed_at = time.time()
        os.kill(postmaster, signal.SIGKILL)
        # the build loses its connection: the run ends Failed (dbt's error) or Crashed
        done = ended(stack, run["id"], CRASHED_WITHIN)
        assert done["state_type"] in {"FAILED", "CRASHED"}, done["state"]
        state = done["state_type"].lower()
        timings = {f"to_{state}": round(seconds_since(killed_at, done["state"]["timestamp"]), 1)}
        restarted(stack, "postgres", postmaster, killed_at)
        timings["to_postgres_back"] = round(time.time() - killed_at, 1)
        wait_until(lambda: alerts_for(stack, run["id"]), 120, f"the alert of run {run['name']}")
        timings["to_alert"] = round(time.time() - killed_at, 1)
        healthy(stack)
    timings["to_rerun_completed"] = rerun_completes(stack, built, killed_at)
    assert len(alerts_for(stack, run["id"])) == 1
    report("postmaster", timings)


def test_a_killed_prefect_server_comes_back_and_no_run_is_left_running(stack, built):
    run = start_mid_dbt(stack)
    server = services.read_pid(stack.settings, services.SERVER)
    with noisy(stack, "the Prefect server is killed"):
        killed_at = time.time()
        os.kill(server, signal.SIGKILL)
        restarted(stack, services.SERVER, server, killed_at)
        timings = {"to_server_back": round(time.time() - killed_at, 1)}
        # the run's client retries while the server is away: the run may well complete
        done = ended(stack, run["id"], CRASHED_WITHIN + 120)
        healthy(stack)
    timings[f"to_{done['state_type'].lower()}"] = round(
        seconds_since(killed_at, done["state"]["timestamp"]), 1
    )
    if done["state_type"] == "COMPLETED":
        assert clean_counts(stack) == built
        assert alerts_for(stack, run["id"]) == []
    else:
        assert done["state_type"] in {"CRASHED", "FAILED"}, done["state"]
        wait_until(lambda: alerts_for(stack, run["id"]), 120, "the alert")
        timings["to_alert"] = round(time.time() - killed_at, 1)
        timings["to_rerun_completed"] = rerun_completes(stack, built, killed_at)
        assert len(alerts_for(stack, run["id"])) == 1
    report("prefect server", timings)


def test_down_with_runs_in_flight_then_up_crashes_and_alerts_every_orphan(stack, built):
    """Defect 4: `mdw up` re-created the automations and marked the orphans at once: no alert.
    A pipeline stopped while its dbt sub-flow runs: the parent and the sub-flows still under way
    end Crashed, the parent (a deployment run) alerts once, a sub-flow does not on its own."""
    run = stack.start_run("pipeline/sample")

    def children() -> list[dict]:
        return stack.api(
            "/flow_runs/filter", {"flow_runs": {"parent_flow_run_id": {"any_": [run["id"]]}}}
        )

    def building() -> bool:  # landed (a sub-flow done), now building (the next one running)
        states = [c["state_type"] for c in children()]
        return "COMPLETED" in states and "RUNNING" in states

    wait_until(building, 600, "the pipeline's dbt sub-flow to run")
    with noisy(stack, "`mdw down` with runs in flight"):
        down = stack.run("mdw", "down", timeout=300)
        stopped_at = time.time()
        assert down.returncode == 0, down.stdout + down.stderr
        assert re.search(r"flow processes .* [1-9]\d* stopped", down.stdout), down.stdout
        up = stack.run("mdw", "up", timeout=600)
        assert up.returncode == 0, up.stdout + up.stderr
    assert "orphaned runs" in up.stdout and run["name"] in up.stdout
    parent = stack.read_run(run["id"])
    assert parent["state_type"] == "CRASHED", parent["state"]
    assert "stopped by `mdw down`" in parent["state"]["message"]
    subflows = children()
    crashed = [c for c in subflows if c["state_type"] == "CRASHED"]
    assert crashed and all(c in crashed or c["state_type"] == "COMPLETED" for c in subflows)
    wait_until(lambda: alerts_for(stack, run["id"]), 120, "the alert of the stopped pipeline")
    timings = {"down_to_alert": round(time.time() - stopped_at, 1)}
    assert len(alerts_for(stack, run["id"])) == 1
    assert all(not alerts_for(stack, c["id"]) for c in subflows)
    healthy(stack)
    report("mdw down / up", timings)


def test_a_part_that_keeps_dying_is_restarted_with_back_off_and_alerts(stack):
    name = services.worker_name("maintenance")
    with noisy(stack, f"{name} is killed {supervisor.KEEPS_DYING} times"):
        for _ in range(supervisor.KEEPS_DYING):
            pid = wait_until(lambda: services.read_pid(stack.settings, name), 120, f"{name} up")
            killed_at = time.time()
            os.kill(pid, signal.SIGKILL)
            restarted(stack, name, pid, killed_at)
        healthy(stack)
    post = stack.webhook.wait_for(lambda p: f"{name} keeps dying" in p["json"]["subject"], 60)
    assert post is not None, "no alert for a part that keeps dying"
    assert "see `mdw status`" in post["json"]["text"]
    status = stack.run("mdw", "status")
    (line,) = [x for x in status.stdout.splitlines() if x.startswith("restarts (24 h)")]
    count = int(line.split(f"{name} ", 1)[1].split()[0])
    assert count >= supervisor.KEEPS_DYING, line
