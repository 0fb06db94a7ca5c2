"""The e2e stack: the real `mdw` CLI (embedded PostgreSQL, Prefect server, one process worker
per work pool) run as a new user's shell has it, and real receivers for its alerts.

Field rule: `mdw` runs with only PATH, HOME, LANG and the stack's MDW_* (plus the alert settings
the README documents): no PREFECT_*, PG*, DBT_* or WAREHOUSE_URL. The `prefect` CLI runs as the
README tells users to run it, in a shell where `source .venv/bin/activate` added the exports of
`mdw env` (`Stack.prefect`). No command may start Prefect's temporary server (`Stack.run`).

ONE stack for the whole session (start-up is the expensive part): every e2e module shares it.
A test that stops or kills a part brings the stack back up before it ends, and wraps what it
breaks on purpose in `stack.noisy(reason)`. The built sample warehouse is the `demo` fixture:
`make demo` itself, run once, by whichever test needs the data first.

A green suite means a quiet server: when the session ends, `quiet_logs` reads
prefect-server.log and every worker log; a Traceback or an ERROR from Prefect's own services
(not from a flow or task run's own log) outside a `noisy` window fails the suite, unless
ALLOWED lists it with its reason.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from ingest.db import transaction
from mdw import prefect_api, services
from settings import PROJECT_ROOT, Settings
from tests.conftest import free_port
from tests.e2e.receivers import SmtpReceiver, WebhookReceiver

BIN = Path(sys.executable).parent
VENV = Path(sys.prefix)
TEMPORARY_SERVER = "temporary server"  # Prefect: "Starting temporary server on http://..."


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


def wait_until(predicate, timeout: float, what: str, interval: float = 1.0):
    """Poll until `predicate()` is truthy and return it; fail loudly naming `what` when the
    bound expires."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


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
        self.settings = Settings(  # what `mdw` reads from that environment
            **{k: v for k, v in self.env.items() if k.startswith("MDW_")}
        )
        self.webhook, self.smtp = webhook, smtp
        self.activated: dict[str, str] | None = None
        self.noise: list[Noise] = []

    def run(self, *argv: str, timeout: float = 600) -> subprocess.CompletedProcess:
        """A command of the venv (`mdw ...`) in the user's shell: no stack variables."""
        return self._run(self.env, (str(BIN / argv[0]), *argv[1:]), timeout)

    def prefect(self, *argv: str, timeout: float = 600) -> subprocess.CompletedProcess:
        """`prefect ...` as the README has users run it: after `source .venv/bin/activate`,
        i.e. with the exports of `mdw env` (read from the command itself)."""
        return self._run(self.activated_env(), (str(BIN / "prefect"), *argv), timeout)

    def activated_env(self) -> dict[str, str]:
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
        return self.activated

    def shell(self, script: str, env: dict[str, str], timeout: float):
        """A bash script from the project's root (the README's commands, `make demo`)."""
        return self._run(env, ("bash", "-eo", "pipefail", "-c", script), timeout)

    def _run(self, env: dict[str, str], argv, timeout: float) -> subprocess.CompletedProcess:
        done = subprocess.run(
            list(argv),
            env=env,
            cwd=PROJECT_ROOT,
            text=True,
            capture_output=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )
        # Issue 16: a Prefect client without the stack's API URL starts a server of its own.
        said = done.stdout + done.stderr
        assert TEMPORARY_SERVER not in said.lower(), f"{argv}: a temporary server:\n{said}"
        return done

    @contextmanager
    def noisy(self, reason: str) -> Iterator[None]:
        """What the logs say while a test breaks a part on purpose is not held against the
        server (the offsets of every log before and after)."""
        logs = server_logs(self.settings)
        before = {p: p.stat().st_size for p in logs}
        try:
            yield
        finally:
            for p in server_logs(self.settings):
                self.noise.append(Noise(p, before.get(p, 0), p.stat().st_size, reason))

    def api(self, path: str, body: dict | None = None, method: str = "POST"):
        return prefect_api.api(
            self.settings, method, path, None if method == "DELETE" else body or {}
        )

    def get(self, path: str):
        return prefect_api.api(self.settings, "GET", path)

    def deployment(self, name: str) -> dict:
        flow, dep = name.split("/")
        return self.get(f"/deployments/name/{flow}/{dep}")

    def start_run(self, deployment: str, **parameters: object) -> dict:
        return self.api(
            f"/deployments/{self.deployment(deployment)['id']}/create_flow_run",
            {"parameters": parameters},
        )

    def read_run(self, run_id: str) -> dict:
        return self.get(f"/flow_runs/{run_id}")

    def wait_run(self, run_id: str, states: set[str], timeout: float = 600) -> dict:
        return wait_until(
            lambda: (run := self.read_run(run_id))["state_type"] in states and run,
            timeout,
            f"run {run_id} to reach {sorted(states)}",
        )

    def wait_idle(self, timeout: float = 300) -> None:
        """Until no run is active (a scheduled system-health run may be under way)."""
        wait_until(lambda: not services.active_runs(self.settings), timeout, "no active flow run")

    def latest_run(self, deployment: str) -> dict:
        """The newest run that is not a future one (the scheduler keeps some ahead)."""
        runs = self.api(
            "/flow_runs/filter",
            {
                "deployments": {"id": {"any_": [self.deployment(deployment)["id"]]}},
                "flow_runs": {"state": {"type": {"not_any_": ["SCHEDULED"]}}},
                "sort": "EXPECTED_START_TIME_DESC",
                "limit": 1,
            },
        )
        assert runs, f"no run of {deployment} has started"
        return runs[0]

    def count(self, table: str) -> int:
        with transaction(self.settings.warehouse) as cur:
            cur.execute(f"select count(*) from {table}")  # noqa: S608
            return cur.fetchone()[0]


# --- a quiet server -------------------------------------------------------------------------


@dataclass(frozen=True)
class Noise:
    log: Path
    start: int
    end: int
    reason: str


# Lines Prefect's own services may log in a healthy stack, each with the reason it is harmless.
ALLOWED: list[tuple[re.Pattern, str]] = [
    (
        re.compile(
            r"Service 'EventsWorker' failed to process item Event\(.*prefect\.flow-run\.heartbeat"
        ),
        "a flow-run process emits its last heartbeat while its events client shuts down at "
        "the end of the run (PrefectHQ/prefect#15102, #19598); the run's final state is "
        "already recorded and the heartbeat automation ignores finished runs",
    ),
    (
        re.compile(
            r"FlowRunCancellingObserver - Consumer task exited with exception"
            r"(?s:.*)(EOFError|ConnectionClosed|InvalidStatus|ConnectionRefusedError)"
        ),
        "a worker shutting down re-raises, in FlowRunCancellingObserver.__aexit__, the failure "
        "of its cancellation websocket from when the server or its database was away (a kill "
        "test); the worker had switched to polling then, and stops cleanly now",
    ),
    (
        re.compile(
            r"Exception in callback FlowRunCancellingObserver\._handle_polling_task_done"
            r"(?s:.*)asyncio\.exceptions\.CancelledError"
        ),
        "the same shutdown: Prefect 3.8.8 calls task.exception() on the polling task it has "
        "just cancelled (prefect/_internal/observers.py), which raises CancelledError",
    ),
]
HEADER = re.compile(r"^\d\d:\d\d:\d\d\.\d{3} \| (?P<level>[A-Z]+)\s*\| (?P<source>.*?) - ")
# A flow or task run's own log (its errors are the tests' business, not the server's health)
RUN_LOG = re.compile(r"^(Flow run|Task run) ")


@dataclass(frozen=True)
class Record:
    log: Path
    offset: int  # byte offset of its first line
    lines: list[str]

    @property
    def header(self) -> re.Match | None:
        return HEADER.match(self.lines[0])

    def bad(self) -> bool:
        header = self.header
        if header and RUN_LOG.match(header["source"]):
            return False
        erred = header is not None and header["level"] in ("ERROR", "CRITICAL")
        return erred or any("Traceback (most recent call last)" in line for line in self.lines)


def server_logs(settings: Settings) -> list[Path]:
    return sorted(
        p
        for p in settings.log_dir.glob("*.log")
        if p.name == f"{services.SERVER}.log" or p.name.startswith("worker-")
    )


def records(log: Path) -> Iterator[Record]:
    """A log line in Prefect's format starts a record; the lines that follow belong to it."""
    offset, current, start = 0, [], 0
    with open(log, "rb") as fh:
        for raw in fh:
            line = raw.decode(errors="replace").rstrip("\n")
            if HEADER.match(line) or not current:
                if current:
                    yield Record(log, start, current)
                current, start = [line], offset
            else:
                current.append(line)
            offset += len(raw)
    if current:
        yield Record(log, start, current)


def loud_records(settings: Settings, noise: list[Noise]) -> list[str]:
    found = []
    for log in server_logs(settings):
        for record in records(log):
            if not record.bad():
                continue
            if any(n.log == log and n.start <= record.offset < n.end for n in noise):
                continue
            text = "\n".join(record.lines)
            if any(pattern.search(text) for pattern, _ in ALLOWED):
                continue
            found.append(f"{log.name}: {text[:1500]}")
    return found


# --- the session's stack and its demo ----------------------------------------------------------


@pytest.fixture(scope="session")
def stack() -> Iterator[Stack]:
    # not under pytest's temp folder, which another pytest session may make 0700 (see pg_server)
    home = Path(tempfile.mkdtemp(prefix="mdw-e2e-"))
    webhook, smtp = WebhookReceiver(), SmtpReceiver()
    # `mdw demo` writes the stack's exports into the venv's activate script: the developer's
    # own (pointing at their own stack) comes back at the end
    activate = VENV / "bin" / "activate"
    saved = activate.read_text() if activate.exists() else None
    s = Stack(home, webhook, smtp)
    try:
        up = s.run("mdw", "up", timeout=600)
        assert up.returncode == 0, up.stdout + up.stderr
        yield s
        down = s.run("mdw", "down", timeout=180)
        assert down.returncode == 0, down.stdout + down.stderr
        loud = loud_records(s.settings, s.noise)
        assert not loud, "the stack's logs are not quiet:\n\n" + "\n\n".join(loud)
    finally:
        if saved is not None:
            activate.write_text(saved)
        s.run("mdw", "down", timeout=180)
        webhook.close()
        smtp.close()
        if not os.environ.get("MDW_E2E_KEEP_HOME"):  # set it to read the logs afterwards
            shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(scope="session")
def demo(stack: Stack) -> subprocess.CompletedProcess:
    """`make demo` - the Makefile target itself - in the user's shell pointing at the session's
    stack (its MDW_*): the README's first command, and the sample warehouse every test that
    needs data reads. Run once."""
    make = ["make", "--no-print-directory", f"VENV={VENV}"]
    fresh = subprocess.run([*make, "-q", f"{VENV}/.installed"], cwd=PROJECT_ROOT, env=stack.env)
    assert fresh.returncode == 0, "the venv is older than requirements.lock: `make install`"
    return stack.shell(shlex.join([*make, "demo"]), stack.env, timeout=1800)
