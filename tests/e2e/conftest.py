"""The e2e stack: the real `mdw` CLI (embedded PostgreSQL, Prefect server, one process worker
per work pool) run as a new user's shell has it, and real receivers for its alerts.

Field rule: `mdw` runs with only PATH, HOME, LANG and the stack's MDW_* (plus the alert settings
the README documents): no PREFECT_*, PG*, DBT_* or WAREHOUSE_URL. The `prefect` CLI runs as the
README tells users to run it, in a shell where `source .venv/bin/activate` added the exports of
`mdw env` (`Stack.prefect`).
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ingest.db import transaction
from mdw import prefect_api, services
from settings import PROJECT_ROOT, Settings
from tests.conftest import free_port
from tests.e2e.receivers import SmtpReceiver, WebhookReceiver

BIN = Path(sys.executable).parent


def user_shell() -> dict[str, str]:
    """What a new user's shell has: PATH (without an activated venv), HOME, LANG."""
    path = os.pathsep.join(
        p
        for p in os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin").split(os.pathsep)
        if Path(p).resolve() != BIN.resolve()
    )
    return {"PATH": path, "HOME": os.environ.get("HOME", "/root"), "LANG": "C.UTF-8"}


def exports(text: str) -> dict[str, str]:
    """`export NAME=value` lines (as `mdw env` prints them) -> {NAME: value}."""
    found = {}
    for line in text.splitlines():
        if line.startswith("export ") and "=" in line:
            name, _, value = line.removeprefix("export ").partition("=")
            words = shlex.split(value)
            if name != "PATH" and words:
                found[name] = words[0]
    return found


SMTP_PASSWORD = "smtp-s3cret"
TERMINAL = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}


class Stack:
    def __init__(self, home: Path, webhook: WebhookReceiver, smtp: SmtpReceiver) -> None:
        self.env = user_shell()
        self.env.update(
            MDW_HOME=str(home),
            MDW_PG_PORT=str(free_port()),
            MDW_PREFECT_PORT=str(free_port()),
            MDW_ALERT_WEBHOOK_URL=webhook.url,
            MDW_ALERT_EMAIL_TO="desk@example.com",
            MDW_ALERT_SMTP_HOST="127.0.0.1",
            MDW_ALERT_SMTP_PORT=str(smtp.port),
            MDW_ALERT_SMTP_PASSWORD=SMTP_PASSWORD,
        )
        self.settings = Settings(
            MDW_HOME=home,
            MDW_PG_PORT=int(self.env["MDW_PG_PORT"]),
            MDW_PREFECT_PORT=int(self.env["MDW_PREFECT_PORT"]),
        )
        self.webhook, self.smtp = webhook, smtp
        self.activated: dict[str, str] | None = None

    def run(self, *argv: str, timeout: float = 600) -> subprocess.CompletedProcess:
        """A command of the venv (`mdw ...`) in the user's shell: no stack variables."""
        return self._run(self.env, argv, timeout)

    def prefect(self, *argv: str, timeout: float = 600) -> subprocess.CompletedProcess:
        """`prefect ...` as the README has users run it: after `source .venv/bin/activate`,
        i.e. with the exports of `mdw env` (read from the command itself)."""
        if self.activated is None:
            # evaluated by a shell, as activate does: the API's credentials are read from
            # their file by the export line itself
            printed = subprocess.run(
                ["bash", "-c", f'eval "$({BIN / "mdw"} env)" && env -0'],
                env=self.env,
                capture_output=True,
                text=True,
                timeout=60,
            )
            assert printed.returncode == 0, printed.stdout + printed.stderr
            self.activated = dict(v.split("=", 1) for v in printed.stdout.split("\0") if "=" in v)
            # rich tables of the prefect CLI truncate names when not at a terminal
            self.activated["COLUMNS"] = "250"
        return self._run(self.activated, ("prefect", *argv), timeout)

    def _run(self, env: dict[str, str], argv, timeout: float) -> subprocess.CompletedProcess:
        exe = str(BIN / argv[0])
        return subprocess.run(
            [exe, *argv[1:]],
            env=env,
            cwd=PROJECT_ROOT,
            text=True,
            capture_output=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )

    def api(self, path: str, body: dict | None = None):
        return prefect_api.api(self.settings, "POST", path, body or {})

    def deployment(self, name: str) -> dict:
        flow, dep = name.split("/")
        return prefect_api.api(self.settings, "GET", f"/deployments/name/{flow}/{dep}")

    def start_run(self, deployment: str, **parameters: object) -> dict:
        return self.api(
            f"/deployments/{self.deployment(deployment)['id']}/create_flow_run",
            {"parameters": parameters},
        )

    def read_run(self, run_id: str) -> dict:
        return prefect_api.api(self.settings, "GET", f"/flow_runs/{run_id}")

    def wait_run(self, run_id: str, states: set[str], timeout: float = 600) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            run = self.read_run(run_id)
            if run["state_type"] in states:
                return run
            time.sleep(1)
        raise AssertionError(f"run {run_id} still {run['state_type']} after {timeout} s")

    def wait_idle(self, timeout: float = 300) -> None:
        """Until no run is active (a scheduled system-health run may be under way)."""
        deadline = time.monotonic() + timeout
        while services.active_runs(self.settings) and time.monotonic() < deadline:
            time.sleep(1)

    def latest_run(self, deployment: str) -> dict:
        runs = self.api(
            "/flow_runs/filter",
            {
                "deployments": {"id": {"any_": [self.deployment(deployment)["id"]]}},
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
    webhook, smtp = WebhookReceiver(), SmtpReceiver()
    s = Stack(home, webhook, smtp)
    up = s.run("mdw", "up", timeout=600)
    assert up.returncode == 0, up.stdout + up.stderr
    yield s
    s.run("mdw", "down", timeout=180)
    webhook.close()
    smtp.close()
    shutil.rmtree(home, ignore_errors=True)
