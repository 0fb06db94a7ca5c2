"""End to end: the real `mdw` stack (embedded PostgreSQL, Prefect server, one process worker per
work pool) and real deployment runs started with the `prefect` CLI, as a user would. Alerts go
to a real local HTTP receiver and a real local SMTP server started here.

The session's one stack (tests/e2e/conftest.py), run as a new user's shell has it. No test
depends on another's order: a test that needs the sample warehouse asks for `demo` (built
once), one that changes data puts it back, one that stops or kills a part brings the stack up
again before it ends (inside `stack.noisy`, so what it breaks on purpose is not held against
the server's logs).
"""

from __future__ import annotations

import json
import os
import signal
import time

import pytest

from ingest.db import transaction
from mdw import postgres, services, supervisor
from mdw.errors import STACK_DOWN
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


def test_a_failing_run_fails_names_the_node_and_alerts_within_a_minute(stack, demo):
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


def test_mdw_validate_exits_1_naming_an_unacknowledged_error_and_0_otherwise(stack, demo):
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


def test_backup_restore_undo_through_the_cli(stack, demo, tmp_path):
    """A restore checks its archive (issue 16, defect 7: the Prefect archive replaced the
    warehouse), keeps the database it replaced, and an undo puts that one back."""
    backup = stack.run("mdw", "backup", "--output", str(tmp_path))
    assert backup.returncode == 0, backup.stdout + backup.stderr
    archive = next(tmp_path.glob("warehouse-*.dump"))
    full = stack.count("raw.daily_bars"), stack.count("marts.fct_daily_indicators")
    stack.wait_idle()
    wrong = stack.run("mdw", "restore", str(next(tmp_path.glob("prefect-*.dump"))), "--yes")
    assert wrong.returncode == 1 and "not a warehouse archive" in wrong.stderr, wrong.stderr
    assert (stack.count("raw.daily_bars"), stack.count("marts.fct_daily_indicators")) == full
    with transaction(stack.settings.warehouse) as cur:
        cur.execute("delete from raw.daily_bars where symbol = 'AAPL'")
    refused = stack.run("mdw", "restore", str(archive))
    assert refused.returncode != 0 and "--yes" in refused.stderr
    stack.wait_idle()
    restored = stack.run("mdw", "restore", str(archive), "--yes")
    assert restored.returncode == 0, restored.stdout + restored.stderr
    assert (stack.count("raw.daily_bars"), stack.count("marts.fct_daily_indicators")) == full
    assert "kept as warehouse_replaced_" in restored.stdout
    # the wrong restore is undone: the replaced database (without AAPL) comes back ...
    undo = stack.run("mdw", "restore", "--undo", "--yes")
    assert undo.returncode == 0, undo.stdout + undo.stderr
    assert stack.count("raw.daily_bars") < full[0]
    # ... and undone again (an undo keeps what it replaced too)
    assert stack.run("mdw", "restore", "--undo", "--yes").returncode == 0
    assert (stack.count("raw.daily_bars"), stack.count("marts.fct_daily_indicators")) == full
    # the next verified backup drops the kept databases
    again = stack.run("mdw", "backup", "--output", str(tmp_path))
    assert again.returncode == 0 and "dropped (replaced by earlier restores)" in again.stdout
    assert stack.run("mdw", "restore", "--drop-replaced").stdout.strip() == "nothing to drop"


def test_a_killed_worker_leaves_no_run_running_after_up(stack):
    """Regression (issue 8): a killed worker left its run Running for as long as anyone waited."""
    run = stack.start_run("pipeline/sample")
    stack.wait_run(run["id"], {"RUNNING"}, timeout=300)
    refused = stack.run("mdw", "restore", str(stack.settings.backup_dir / "x.dump"), "--yes")
    assert refused.returncode != 0 and "active" in refused.stderr
    with stack.noisy("the analytics worker and its flow process are killed on purpose"):
        worker = services.read_pid(stack.settings, services.worker_name("analytics"))
        os.killpg(worker, signal.SIGKILL)
        for pid, run_id in services.flow_processes(stack.settings).items():
            if run_id == run["id"]:
                os.kill(pid, signal.SIGKILL)
        up = stack.run("mdw", "up", timeout=300)
        assert up.returncode == 0, up.stdout + up.stderr
        # `mdw up` or the supervisor (whichever judges the run first; the supervisor waits while
        # `mdw up` works) ends it Crashed, within the two minutes
        done = stack.wait_run(run["id"], TERMINAL, timeout=120)
    assert done["state_type"] == "CRASHED", done["state"]
    status = stack.run("mdw", "status")
    assert status.returncode == 0, status.stdout
    assert "crashed run" in status.stdout and run["name"] in status.stdout


def test_status_reports_the_server_unhealthy_when_its_database_is_down(stack):
    """Regression (issue 8): status said healthy while the Prefect database was down."""
    supervisor.stop(stack.settings)  # it would restart PostgreSQL at once; `mdw up` restarts it
    with stack.noisy("PostgreSQL is stopped under the running server on purpose"):
        postgres.stop(stack.settings)
        status = stack.run("mdw", "status")
        assert status.returncode == 1  # a part is down; the API answers (not STACK_DOWN)
        server_line = next(x for x in status.stdout.splitlines() if x.startswith("prefect"))
        assert " down " in server_line and "database" in server_line
        up = stack.run("mdw", "up", timeout=300)
        assert up.returncode == 0, up.stdout + up.stderr
    assert stack.run("mdw", "status").returncode == 0


def test_an_enabled_schedule_and_the_data_survive_down_and_up(stack):
    """Regression (issue 8): every down/up paused the schedule again."""
    enable = stack.run("mdw", "schedule", "enable", "pipeline/daily")
    assert enable.returncode == 0, enable.stdout + enable.stderr
    assert "active" in enable.stdout and "inactive" not in enable.stdout
    assert "dead-man's switch: alerts when no run of pipeline/daily completes" in enable.stdout
    try:
        names = services.deployment_names(stack.settings)
        before = stack.count("raw.daily_bars")
        with stack.noisy("the whole stack is stopped and started again"):
            down = stack.run("mdw", "down", timeout=180)
            assert down.returncode == 0, down.stdout + down.stderr
            status = stack.run("mdw", "status")
            assert status.returncode == STACK_DOWN
            assert status.stdout.count(" down ") == 3 + len(services.WORKERS)
            assert services.flow_processes(stack.settings) == {}
            up = stack.run("mdw", "up", timeout=300)
            assert up.returncode == 0, up.stdout + up.stderr
        assert stack.count("raw.daily_bars") == before
        assert services.deployment_names(stack.settings) == names
        daily = stack.deployment("pipeline/daily")
        assert not daily["paused"] and all(s["active"] for s in daily["schedules"])
    finally:
        disable = stack.run("mdw", "schedule", "disable", "pipeline/daily")
        assert disable.returncode == 0, disable.stdout + disable.stderr
