"""The pipeline's dbt step (flows/dbt_build.py, flows/build_runner.py, flows/build_slot.py) on a
real Prefect server and a copy of the built sample warehouse:

- a flow-run process whose output pipe is closed mid-build (what a killed worker does to it)
  finishes the build and exits (issue 20, defect 1: prefect-dbt's runner waited forever on its
  callback queue);
- a failed dbt test is named in the run's state message and in the node table artifact;
- a build slot whose holder is killed with SIGKILL is free within seconds (defect 2: 194 s).
"""

from __future__ import annotations

import os
import re
import select
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator

import pytest
from prefect import flow
from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate
from prefect.client.schemas.filters import (
    ArtifactFilter,
    ArtifactFilterFlowRunId,
    FlowRunFilter,
    FlowRunFilterName,
)
from prefect.settings import PREFECT_API_URL
from sqlalchemy.engine import URL

from flows.build_slot import DBT_BUILD_LIMIT, build_slot, read_holder, why_dead
from flows.dbt_build import dbt_build
from flows.report import NODES_ARTIFACT
from ingest.db import transaction
from settings import PROJECT_ROOT

pytestmark = pytest.mark.integration

# a cheap build of several nodes: one staging view and its dozen tests
STAGING = "stg_raw__daily_bars"
# the variables a worker gives a flow-run process (lib.environment.stack_environment)
LEAKY = ("PGHOST", "PGPORT", "PGUSER", "PGDATABASE", "PGPASSWORD", "PGPASSFILE", "DBT_PROFILES_DIR")


def flow_process_env(url: URL) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in LEAKY}
    env.update(
        PREFECT_API_URL=str(PREFECT_API_URL.value()),
        WAREHOUSE_URL=url.render_as_string(hide_password=False),
        DBT_SEND_ANONYMOUS_USAGE_STATS="false",
        PYTHONUNBUFFERED="1",
    )
    return env


def read_until(proc: subprocess.Popen, pattern: str, timeout: float) -> str:
    """Read the process's output until `pattern` matches; fail loudly after `timeout` s."""
    fd = proc.stdout.fileno()
    seen = b""
    deadline = time.monotonic() + timeout
    while not re.search(pattern.encode(), seen):
        left = deadline - time.monotonic()
        if left <= 0 or proc.poll() is not None and not select.select([fd], [], [], 0)[0]:
            raise AssertionError(f"no {pattern!r} within {timeout} s: {seen[-3000:].decode()}")
        if select.select([fd], [], [], left)[0]:
            chunk = os.read(fd, 65536)
            if not chunk and proc.poll() is not None:
                continue
            seen += chunk
    return seen.decode(errors="replace")


def run_by_name(name: str):
    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs(
            flow_run_filter=FlowRunFilter(name=FlowRunFilterName(any_=[name]))
        )
    assert len(runs) == 1, f"{len(runs)} flow runs named {name}"
    return runs[0]


def nodes_table(flow_run_id) -> list[dict]:
    """The node table artifact of a dbt-build run (created by its `dbt` task)."""
    with get_client(sync_client=True) as client:
        found = client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id]))
        )
    tables = [a.data for a in found if a.key == NODES_ARTIFACT]
    assert tables, f"no {NODES_ARTIFACT} artifact on flow run {flow_run_id}"
    import json

    data = tables[0]
    return json.loads(data) if isinstance(data, str) else data


@pytest.fixture
def flow_env(prefect_api, warehouse_copy: URL, monkeypatch) -> URL:
    """In-process flows point at the warehouse copy; the variables the dbt task sets
    (lib.environment.apply_client_environment) are restored afterwards."""
    monkeypatch.setenv("WAREHOUSE_URL", warehouse_copy.render_as_string(hide_password=False))
    for key in (*LEAKY, "WAREHOUSE_URL", "DBT_PROJECT_DIR", "DBT_SEND_ANONYMOUS_USAGE_STATS"):
        monkeypatch.setenv(key, os.environ.get(key, ""))
    return warehouse_copy


@pytest.fixture
def build_limit(prefect_api) -> Iterator[None]:
    """The one-slot `dbt-build` limit, as `mdw up` creates it; deleted afterwards, so that no
    other test of the session can find it taken."""
    with get_client(sync_client=True) as client:
        client.create_global_concurrency_limit(
            GlobalConcurrencyLimitCreate(name=DBT_BUILD_LIMIT, limit=1)
        )
    try:
        yield
    finally:
        with get_client(sync_client=True) as client:
            client.delete_global_concurrency_limit_by_name(DBT_BUILD_LIMIT)


def test_a_closed_output_pipe_does_not_hang_the_dbt_step(prefect_api, warehouse_copy):
    """The mechanism of defect 1: a flow-run process whose stdout/stderr reader dies mid-build
    (a killed worker) must still finish its build and exit."""
    name = f"pipe-closed-{uuid.uuid4().hex[:8]}"
    script = (
        "from flows.dbt_build import dbt_build\n"
        f"dbt_build.with_options(flow_run_name={name!r})(select={STAGING!r})\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", script],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=flow_process_env(warehouse_copy),
        cwd=PROJECT_ROOT,
    )
    try:
        read_until(proc, r" 1/\d+ ", timeout=300)  # the first node line: dbt is building
        proc.stdout.close()  # the reader is gone, as when the worker is killed
        proc.wait(timeout=300)  # hung before: Queue.join() on a dead callback thread
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)
    run = run_by_name(name)
    assert run.state is not None and run.state.is_completed(), run.state
    table = nodes_table(run.id)
    assert len(table) > 10 and all(r["status"] in ("success", "pass") for r in table), table


def test_a_failed_test_is_named_in_the_state_and_the_node_table(flow_env):
    with transaction(flow_env) as cur:
        cur.execute(
            "update raw.daily_bars set low = high + 1"
            " where ctid = (select ctid from raw.daily_bars order by symbol, trade_date limit 1)"
        )
    state = dbt_build(select="stg_raw__daily_bars", return_state=True)

    assert state.is_failed()
    failed_test = "expression_is_true_stg_raw__daily_bars_low_least_open_close_and_greatest"
    assert "dbt build --select stg_raw__daily_bars failed: 1 of" in state.message
    assert f"test {failed_test}" in state.message and "fail" in state.message
    table = nodes_table(state.state_details.flow_run_id)
    by_status = {r["status"] for r in table}
    assert {"success", "pass", "fail"} <= by_status, table
    failed = [r for r in table if r["status"] == "fail"]
    assert len(failed) == 1 and failed[0]["node"].startswith(failed_test)
    assert all(isinstance(r["seconds"], float) for r in table)


HOLDER = """
import sys
from prefect import flow
from flows.build_slot import build_slot

@flow(name="dbt-slot-holder")
def hold():
    with build_slot():
        print("HOLDING", flush=True)
        sys.stdin.read()  # until killed

hold()
"""


@flow(name="dbt-slot-taker")
def take_slot() -> float:
    with build_slot():
        return time.monotonic()


def test_a_killed_holder_frees_the_build_slot_within_seconds(prefect_api, build_limit):
    env = {k: v for k, v in os.environ.items() if k not in LEAKY}
    env.update(PREFECT_API_URL=str(PREFECT_API_URL.value()), PYTHONUNBUFFERED="1")
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=env,
        cwd=PROJECT_ROOT,
    )
    try:
        read_until(holder, "HOLDING", timeout=120)
        with get_client(sync_client=True) as client:
            limit = client.read_global_concurrency_limit_by_name(DBT_BUILD_LIMIT)
            recorded = read_holder()
            assert limit.active_slots == 1
            assert recorded is not None and recorded.pid == holder.pid
            assert why_dead(client, recorded) is None  # alive: its slot is not taken from it
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=30)
        killed = time.monotonic()
        acquired = take_slot()
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait(timeout=30)
    assert acquired - killed < 15, f"the slot was free {acquired - killed:.1f} s after the kill"
    with get_client(sync_client=True) as client:
        assert client.read_global_concurrency_limit_by_name(DBT_BUILD_LIMIT).active_slots == 0
    assert read_holder() is None


def test_builds_take_the_slot_one_at_a_time(prefect_api, build_limit):
    """The slot still excludes: held by a live build, it is not taken; released, it is free."""
    with get_client(sync_client=True) as client:

        @flow(name="dbt-slot-nested")
        def nested() -> tuple[int, str | None]:
            with build_slot():
                limit = client.read_global_concurrency_limit_by_name(DBT_BUILD_LIMIT)
                holder = read_holder()
                return limit.active_slots, why_dead(client, holder) if holder else "no record"

        active, dead = nested()
        assert (active, dead) == (1, None)
        assert client.read_global_concurrency_limit_by_name(DBT_BUILD_LIMIT).active_slots == 0
