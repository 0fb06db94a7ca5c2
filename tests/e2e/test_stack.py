"""End to end: the real `mdw` stack (embedded PostgreSQL, Prefect server, runner) and real
deployment runs started with the `prefect` CLI, as a user would."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from expectations.context import data_docs_index
from ingest.db import transaction
from settings import PROJECT_ROOT, Settings
from tests.conftest import free_port

pytestmark = pytest.mark.e2e

BIN = Path(sys.executable).parent
# variables of an activated stack that must not leak into the test's own stack
LEAKY = (
    "WAREHOUSE_URL",
    "MDW_PREFECT_DATABASE_URL",
    "PREFECT_API_URL",
    "PREFECT_HOME",
    "PGHOST",
    "PGPORT",
    "PGUSER",
    "PGDATABASE",
    "PGPASSWORD",
)


class Stack:
    def __init__(self, home: Path) -> None:
        self.env = {k: v for k, v in os.environ.items() if k not in LEAKY}
        self.env.update(
            MDW_HOME=str(home), MDW_PG_PORT=str(free_port()), MDW_PREFECT_PORT=str(free_port())
        )
        self.settings = Settings(
            MDW_HOME=home,
            MDW_PG_PORT=int(self.env["MDW_PG_PORT"]),
            MDW_PREFECT_PORT=int(self.env["MDW_PREFECT_PORT"]),
        )
        self.env["PREFECT_API_URL"] = self.settings.prefect_api_url
        self.env["PREFECT_HOME"] = str(self.settings.prefect_home)

    def run(self, *argv: str, timeout: float = 600) -> subprocess.CompletedProcess:
        exe = str(BIN / argv[0])
        return subprocess.run(
            [exe, *argv[1:]],
            env=self.env,
            cwd=PROJECT_ROOT,
            text=True,
            capture_output=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )

    def api(self, path: str, body: dict | None = None):
        req = urllib.request.Request(
            f"{self.settings.prefect_api_url}{path}",
            data=json.dumps(body or {}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=10) as resp:
            return json.loads(resp.read())

    def latest_run(self, deployment: str) -> dict:
        flow, name = deployment.split("/")
        with urllib.request.urlopen(
            f"{self.settings.prefect_api_url}/deployments/name/{flow}/{name}"
        ) as resp:
            dep = json.loads(resp.read())
        runs = self.api(
            "/flow_runs/filter",
            {
                "deployments": {"id": {"any_": [dep["id"]]}},
                "sort": "EXPECTED_START_TIME_DESC",
                "limit": 1,
            },
        )
        return runs[0]

    def count(self, table: str) -> int:
        with transaction(self.settings.warehouse) as cur:
            cur.execute(f"select count(*) from {table}")  # noqa: S608
            return cur.fetchone()[0]


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    # not under pytest's temp folder, which another pytest session may make 0700 (see pg_server)
    home = Path(tempfile.mkdtemp(prefix="mdw-e2e-"))
    s = Stack(home)
    up = s.run("mdw", "up", timeout=300)
    assert up.returncode == 0, up.stdout + up.stderr
    yield s
    s.run("mdw", "down", timeout=120)
    shutil.rmtree(home, ignore_errors=True)


def test_up_reports_every_part_healthy(stack):
    status = stack.run("mdw", "status")
    assert status.returncode == 0, status.stdout + status.stderr
    for part in ("postgres", "prefect-server", "runner"):
        assert f"{part}" in status.stdout
    assert "pipeline/sample" in status.stdout
    again = stack.run("mdw", "up")  # idempotent: nothing restarted (same PIDs)
    assert again.returncode == 0

    def parts(text: str) -> list[list[str]]:  # name, state, pid (details may grow)
        return [line.split()[:3] for line in text.splitlines() if line.strip()]

    assert parts(stack.run("mdw", "status").stdout) == parts(status.stdout)


def test_pipeline_sample_deployment_run_completes(stack):
    run = stack.run(
        "prefect", "deployment", "run", "pipeline/sample", "--watch", "--watch-timeout", "600"
    )
    assert run.returncode == 0, run.stdout + run.stderr
    flow_run = stack.latest_run("pipeline/sample")
    assert flow_run["state"]["type"] == "COMPLETED"
    assert stack.count("marts.fct_daily_indicators") == 22202
    assert stack.count("marts.fct_daily_bars") == 22202
    assert stack.count("raw.rejected_bars") == 11
    assert data_docs_index().exists()
    assert (PROJECT_ROOT / "dbt_project" / "target" / "index.html").exists()
    artifacts = stack.api(
        "/artifacts/filter",
        {
            "artifacts": {
                "key": {"any_": ["pipeline-summary"]},
                "flow_run_id": {"any_": [flow_run["id"]]},
            }
        },
    )
    assert len(artifacts) == 1
    summary = artifacts[0]["data"]
    assert "| raw_daily_bars | passed |" in summary and "22213" in summary
    # the dbt flow ran one Prefect task per dbt node
    tasks = stack.api(
        "/task_runs/filter",
        {
            "limit": 200,
            "flow_runs": {
                "id": {
                    "any_": [
                        r["id"]
                        for r in stack.api(
                            "/flow_runs/filter",
                            {"flow_runs": {"parent_flow_run_id": {"any_": [flow_run["id"]]}}},
                        )
                    ]
                }
            },
        },
    )
    names = {t["name"] for t in tasks}
    assert any("fct_daily_indicators" in n for n in names), sorted(names)[:20]


def test_demo_twice_changes_no_row_counts(stack):
    tables = ("raw.daily_bars", "raw.rejected_bars", "marts.fct_daily_indicators")
    before = {t: stack.count(t) for t in tables}
    demo = stack.run("mdw", "demo")
    assert demo.returncode == 0, demo.stdout[-3000:] + demo.stderr[-3000:]
    assert "pipeline/sample: Completed" in demo.stdout
    assert "| raw_daily_bars | passed |" in demo.stdout
    assert "psql" in demo.stdout and "data_docs" in demo.stdout
    assert {t: stack.count(t) for t in tables} == before


def test_ingest_files_command_lands_into_the_running_stack(stack, tmp_path):
    path = tmp_path / "extra.csv"
    path.write_text(
        "Symbol,Date,Open,High,Low,Close,Volume\n"
        "ZZZ,2024-01-02,10,11,9,10.5,1000\nZZZ,2024-01-03,10.5,12,10,0,900\n"
    )
    res = stack.run("mdw", "ingest", "files", str(path))
    assert res.returncode == 0, res.stdout + res.stderr
    assert "2 received = 1 inserted + 0 updated + 0 unchanged + 1 quarantined" in res.stdout
    with transaction(stack.settings.warehouse) as cur:
        cur.execute("select reason from raw.rejected_bars where symbol = 'ZZZ'")
        assert cur.fetchall() == [("non-positive close",)]
        cur.execute("select flow_run_id is not null from raw.load_runs where symbol = 'ZZZ'")
        assert cur.fetchall() == [(True,)]


def test_a_failing_dbt_test_fails_the_flow_and_names_the_node(stack):
    with transaction(stack.settings.warehouse) as cur:  # bypass landing checks on purpose
        cur.execute("""insert into raw.daily_bars
            (source, symbol, trade_date, open, high, low, close, volume, load_run_id)
            values ('files', 'BAD', '2020-01-02', 10, 9, 11, 10, 1, gen_random_uuid())""")
    try:
        dbt_run = stack.run(
            "prefect", "deployment", "run", "dbt-build/manual", "--watch", "--watch-timeout", "600"
        )
        assert dbt_run.returncode != 0
        failed = stack.latest_run("dbt-build/manual")
        assert failed["state"]["type"] == "FAILED"
        assert "expression_is_true_stg_files__daily_bars" in failed["state"]["message"]

        gx_run = stack.run(
            "prefect",
            "deployment",
            "run",
            "validate-warehouse/manual",
            "--watch",
            "--watch-timeout",
            "600",
        )
        assert gx_run.returncode != 0
        failed = stack.latest_run("validate-warehouse/manual")
        assert failed["state"]["type"] == "FAILED"
        assert "expect_column_pair_values_a_to_be_greater_than_b" in failed["state"]["message"]
    finally:
        with transaction(stack.settings.warehouse) as cur:
            cur.execute("delete from raw.daily_bars where symbol = 'BAD'")


def test_mdw_validate_exits_1_naming_an_unacknowledged_error_and_0_otherwise(stack):
    passing = stack.run("mdw", "validate")
    assert passing.returncode == 0, passing.stdout[-3000:] + passing.stderr[-3000:]
    assert "validate-warehouse/manual: Completed" in passing.stdout
    assert "| missing_sessions | error |" in passing.stdout  # the sample's, acknowledged
    with transaction(stack.settings.warehouse) as cur:  # a bad print: KO x1.6 for one day
        cur.execute(
            "update raw.daily_bars set open = open * 1.6, high = high * 1.6, low = low * 1.6,"
            " close = close * 1.6 where symbol = 'KO' and trade_date = '2016-03-01'"
        )
    try:
        rebuild = stack.run(
            "prefect",
            "deployment",
            "run",
            "dbt-build/manual",
            "--param",
            "select=fct_data_quality_issues",
            "--watch",
            "--watch-timeout",
            "600",
        )
        assert rebuild.returncode == 0, rebuild.stdout[-2000:] + rebuild.stderr[-2000:]
        failing = stack.run("mdw", "validate")
        assert failing.returncode == 1, failing.stdout[-3000:] + failing.stderr[-3000:]
        assert "price_jump KO 2016-03-01: bad print" in failing.stdout + failing.stderr
        assert "unacknowledged error finding(s) (price_jump 1)" in failing.stderr
    finally:
        with transaction(stack.settings.warehouse) as cur:
            cur.execute(
                "update raw.daily_bars set open = open / 1.6, high = high / 1.6,"
                " low = low / 1.6, close = close / 1.6"
                " where symbol = 'KO' and trade_date = '2016-03-01'"
            )


def test_down_stops_everything_and_loses_no_data(stack):
    before = stack.count("raw.daily_bars")
    down = stack.run("mdw", "down", timeout=120)
    assert down.returncode == 0, down.stdout + down.stderr
    status = stack.run("mdw", "status")
    assert status.returncode == 1 and status.stdout.count("down") == 3
    up = stack.run("mdw", "up", timeout=300)
    assert up.returncode == 0, up.stdout + up.stderr
    assert stack.count("raw.daily_bars") == before
