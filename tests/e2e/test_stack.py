"""End to end: the real `mdw` stack (embedded PostgreSQL, Prefect server, one process worker per
work pool) and real deployment runs started with the `prefect` CLI, as a user would. Alerts go
to a real local HTTP receiver and a real local SMTP server started here.

One stack for the whole module (start-up is the expensive part; tests/e2e/conftest.py), run as a
new user's shell has it; tests run in file order and the last ones restart it.
"""

from __future__ import annotations

import json
import os
import signal
import time

import pytest

from expectations.context import data_docs_index
from ingest.db import transaction
from mdw import postgres, services, supervisor
from settings import PROJECT_ROOT
from tests.e2e.conftest import SMTP_PASSWORD, TERMINAL

pytestmark = pytest.mark.e2e


def parts(text: str) -> list[list[str]]:  # name, state, pid of the process lines
    return [line.split()[:3] for line in text.splitlines() if line.split()[1:2] in (["up"],)]


def test_up_starts_pools_workers_and_every_deployment(stack):
    status = stack.run("mdw", "status")
    assert status.returncode == 0, status.stdout + status.stderr
    for part in ("postgres", "prefect-server", *services.WORKERS):
        assert any(line.startswith(part) and " up " in line for line in status.stdout.splitlines())
    for pool, limit in services.POOLS.items():
        assert f"pool {pool}" in status.stdout and f"concurrency {limit}" in status.stdout
    pools = stack.prefect("work-pool", "ls")
    assert all(pool in pools.stdout for pool in services.POOLS), pools.stdout
    names = services.deployment_names(stack.settings)
    for name in (
        "pipeline/sample",
        "pipeline/daily",
        "dbt-build/manual",
        "validate-warehouse/manual",
        "ingest-files/manual",
        "polygon-daily-ingestion/daily",
        "yahoo-market-data/hourly",
        "system-health/every-15-minutes",
        "daily-report/daily",
        "maintenance/nightly",
        "maintenance/weekly-backup",
    ):
        assert name in names
    daily = stack.deployment("pipeline/daily")
    assert daily["work_pool_name"] == "analytics"
    assert daily["schedules"][0]["schedule"]["timezone"] == "America/New_York"
    assert stack.deployment("maintenance/nightly")["work_pool_name"] == "maintenance"
    again = stack.run("mdw", "up")  # idempotent: nothing restarted (same PIDs)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "kept" in again.stdout  # deployments not re-registered
    assert parts(stack.run("mdw", "status").stdout) == parts(status.stdout)


def test_pipeline_sample_deployment_run_completes(stack):
    run = stack.prefect("deployment", "run", "pipeline/sample", "--watch", "--watch-timeout", "600")
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
    children = stack.api(
        "/flow_runs/filter", {"flow_runs": {"parent_flow_run_id": {"any_": [flow_run["id"]]}}}
    )
    tasks = stack.api(
        "/task_runs/filter",
        {"limit": 200, "flow_runs": {"id": {"any_": [r["id"] for r in children]}}},
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
    report = stack.settings.reports_dir / "index.html"
    assert f"Report site    {report.as_uri()}" in demo.stdout and report.exists()
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


def test_a_failing_run_fails_names_the_node_and_alerts_within_a_minute(stack):
    with transaction(stack.settings.warehouse) as cur:  # bypass landing checks on purpose
        cur.execute("""insert into raw.daily_bars
            (source, symbol, trade_date, open, high, low, close, volume, load_run_id)
            values ('files', 'BAD', '2020-01-02', 10, 9, 11, 10, 1, gen_random_uuid())""")
    try:
        dbt_run = stack.prefect(
            "deployment", "run", "dbt-build/manual", "--watch", "--watch-timeout", "600"
        )
        assert dbt_run.returncode != 0
        failed = stack.latest_run("dbt-build/manual")
        assert failed["state"]["type"] == "FAILED"
        assert "expression_is_true_stg_raw__daily_bars" in failed["state"]["message"]
        failed_at = time.monotonic()

        post = stack.webhook.wait_for(lambda p: failed["id"] in json.dumps(p), timeout=60)
        assert post is not None, f"no webhook POST within 60 s: {stack.webhook.posts}"
        text = post["json"]["text"]
        assert "dbt-build/manual" in text and "flow: dbt-build" in text
        assert f"{stack.settings.prefect_api_url.removesuffix('/api')}/runs/flow-run/" in text
        assert "expression_is_true_stg_raw__daily_bars" in text
        assert "Failed" in post["json"]["subject"]
        mail = stack.smtp.wait_for(
            lambda m: failed["id"] in m.get_payload(),
            timeout=max(5, 60 - (time.monotonic() - failed_at)),
        )
        assert mail is not None, "no alert e-mail"
        assert mail["To"] == "desk@example.com" and "dbt-build/manual" in mail["Subject"]
        everything = json.dumps([p["json"] for p in stack.webhook.posts]) + "".join(
            m.as_string() for m in stack.smtp.messages
        )
        assert "s3cret-token" not in everything and SMTP_PASSWORD not in everything
        assert len([p for p in stack.webhook.posts if failed["id"] in json.dumps(p)]) == 1

        gx_run = stack.prefect(
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
        rebuild = stack.prefect(
            "deployment",
            "run",
            "dbt-build/manual",
            "--param",
            # with its ancestors (their views are kept: their definitions did not change)
            "select=+fct_data_quality_issues",
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


def test_two_dbt_builds_never_overlap(stack):
    """Regression (issue 8): two builds at once collided on the same relations."""
    small = {"select": "stg_raw__daily_bars"}  # the slot matters, not the size of the build
    first = stack.start_run("dbt-build/manual", **small)
    second = stack.start_run("dbt-build/manual", **small)
    runs = [stack.wait_run(r["id"], TERMINAL, timeout=900) for r in (first, second)]
    assert [r["state_type"] for r in runs] == ["COMPLETED", "COMPLETED"]
    a, b = sorted(runs, key=lambda r: r["start_time"])
    assert a["end_time"] <= b["start_time"], "the second build started before the first ended"


def test_maintenance_deployments_complete(stack):
    for name in ("maintenance/nightly", "maintenance/weekly-backup"):
        run = stack.prefect("deployment", "run", name, "--watch", "--watch-timeout", "600")
        assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
        assert stack.latest_run(name)["state"]["type"] == "COMPLETED"
    backups = sorted(p.name for p in stack.settings.backup_dir.glob("*.dump"))
    assert any(b.startswith("warehouse-") for b in backups)
    assert any(b.startswith("prefect-") for b in backups)


def test_backup_then_restore_round_trips_through_the_cli(stack, tmp_path):
    backup = stack.run("mdw", "backup", "--output", str(tmp_path))
    assert backup.returncode == 0, backup.stdout + backup.stderr
    archive = next(tmp_path.glob("warehouse-*.dump"))
    before = stack.count("raw.daily_bars"), stack.count("marts.fct_daily_indicators")
    with transaction(stack.settings.warehouse) as cur:
        cur.execute("delete from raw.daily_bars where symbol = 'AAPL'")
    refused = stack.run("mdw", "restore", str(archive))
    assert refused.returncode != 0 and "--yes" in refused.stderr
    stack.wait_idle()
    restored = stack.run("mdw", "restore", str(archive), "--yes")
    assert restored.returncode == 0, restored.stdout + restored.stderr
    assert (stack.count("raw.daily_bars"), stack.count("marts.fct_daily_indicators")) == before


def test_a_killed_worker_leaves_no_run_running_after_up(stack):
    """Regression (issue 8): a killed worker left its run Running for as long as anyone waited."""
    run = stack.start_run("pipeline/sample")
    stack.wait_run(run["id"], {"RUNNING"}, timeout=300)
    refused = stack.run("mdw", "restore", str(stack.settings.backup_dir / "x.dump"), "--yes")
    assert refused.returncode != 0 and "active" in refused.stderr
    worker = services.read_pid(stack.settings, services.worker_name("analytics"))
    os.killpg(worker, signal.SIGKILL)
    for pid, run_id in services.flow_processes(stack.settings).items():
        if run_id == run["id"]:
            os.kill(pid, signal.SIGKILL)
    up = stack.run("mdw", "up", timeout=300)
    assert up.returncode == 0, up.stdout + up.stderr
    assert stack.read_run(run["id"])["state_type"] == "CRASHED"
    status = stack.run("mdw", "status")
    assert status.returncode == 0, status.stdout
    assert "crashed run" in status.stdout and run["name"] in status.stdout


def test_status_reports_the_server_unhealthy_when_its_database_is_down(stack):
    """Regression (issue 8): status said healthy while the Prefect database was down."""
    supervisor.stop(stack.settings)  # it would restart PostgreSQL at once; `mdw up` restarts it
    postgres.stop(stack.settings)
    status = stack.run("mdw", "status")
    assert status.returncode == 1
    server_line = next(line for line in status.stdout.splitlines() if line.startswith("prefect"))
    assert " down " in server_line and "database" in server_line
    up = stack.run("mdw", "up", timeout=300)
    assert up.returncode == 0, up.stdout + up.stderr
    assert stack.run("mdw", "status").returncode == 0


def test_an_enabled_schedule_and_the_data_survive_down_and_up(stack):
    """Regression (issue 8): every down/up paused the schedule again."""
    enable = stack.run("mdw", "schedule", "enable", "pipeline/daily")
    assert enable.returncode == 0, enable.stdout + enable.stderr
    assert "active" in enable.stdout and "inactive" not in enable.stdout
    names = services.deployment_names(stack.settings)
    before = stack.count("raw.daily_bars")
    down = stack.run("mdw", "down", timeout=180)
    assert down.returncode == 0, down.stdout + down.stderr
    status = stack.run("mdw", "status")
    assert status.returncode == 1 and status.stdout.count(" down ") == 3 + len(services.WORKERS)
    assert services.flow_processes(stack.settings) == {}
    up = stack.run("mdw", "up", timeout=300)
    assert up.returncode == 0, up.stdout + up.stderr
    assert stack.count("raw.daily_bars") == before
    assert services.deployment_names(stack.settings) == names
    daily = stack.deployment("pipeline/daily")
    assert not daily["paused"] and all(s["active"] for s in daily["schedules"])
