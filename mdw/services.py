"""Background processes of the local stack: the Prefect server and the deployment runner.

Each is started detached (its own session), logs to `$MDW_HOME/logs/<name>.log` and keeps
its PID in `$MDW_HOME/run/<name>.pid`; `stop` ends it by that PID.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from mdw.envvars import stack_environment
from settings import Settings

SERVER = "prefect-server"
RUNNER = "runner"


@dataclass(frozen=True)
class ProcStatus:
    name: str
    pid: int | None
    running: bool
    detail: str


def pid_file(settings: Settings, name: str) -> Path:
    return settings.run_dir / f"{name}.pid"


def read_pid(settings: Settings, name: str) -> int | None:
    path = pid_file(settings, name)
    try:
        pid = int(path.read_text().strip())
    except (OSError, ValueError):
        return None
    return pid if _alive(pid) else None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child still answers kill(0); treat it as gone.
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return True


def _spawn(settings: Settings, name: str, argv: list[str]) -> int:
    settings.run_dir.mkdir(parents=True, exist_ok=True)
    settings.log_dir.mkdir(parents=True, exist_ok=True)
    log = open(settings.log_dir / f"{name}.log", "ab")  # noqa: SIM115 - handed to the child
    env = {**os.environ, **stack_environment(settings)}
    proc = subprocess.Popen(
        argv,
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        env=env,
        start_new_session=True,
    )
    log.close()
    pid_file(settings, name).write_text(str(proc.pid))
    return proc.pid


def stop(settings: Settings, name: str, timeout: float = 20.0) -> bool:
    pid = read_pid(settings, name)
    pid_file(settings, name).unlink(missing_ok=True)
    if pid is None:
        return False
    for sig in (signal.SIGTERM, signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(pid, sig)
        except ProcessLookupError:
            return True
        deadline = time.monotonic() + timeout / 2
        while time.monotonic() < deadline:
            if not _alive(pid):
                return True
            time.sleep(0.2)
    return True


def _get_json(url: str, timeout: float = 3.0) -> object:
    with urllib.request.urlopen(url, timeout=timeout) as resp:  # noqa: S310 - loopback only
        return json.loads(resp.read() or b"null")


def _post_json(url: str, body: dict, timeout: float = 5.0) -> object:
    req = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310 - loopback only
        return json.loads(resp.read() or b"null")


def server_healthy(settings: Settings) -> bool:
    try:
        return _get_json(f"{settings.prefect_api_url}/health") is True
    except (urllib.error.URLError, OSError, ValueError):
        return False


def deployment_names(settings: Settings) -> list[str]:
    """`flow/deployment` names the server knows (REST, since `prefect deployment ls` truncates)."""
    try:
        flows = _post_json(f"{settings.prefect_api_url}/flows/filter", {"limit": 200})
        deps = _post_json(f"{settings.prefect_api_url}/deployments/filter", {"limit": 200})
    except (urllib.error.URLError, OSError, ValueError):
        return []
    flow_names = {f["id"]: f["name"] for f in flows}  # type: ignore[union-attr]
    return sorted(f"{flow_names.get(d['flow_id'], '?')}/{d['name']}" for d in deps)  # type: ignore[union-attr]


def _wait(predicate: Callable[[], bool], timeout: float, what: str, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.5)
    tail = log.read_text(errors="replace")[-3000:] if log.exists() else ""
    raise RuntimeError(f"timed out after {timeout:.0f}s waiting for {what}; log {log}:\n{tail}")


def start_server(settings: Settings, timeout: float = 120.0) -> ProcStatus:
    pid = read_pid(settings, SERVER)
    if pid is None:
        if server_healthy(settings):
            raise RuntimeError(
                f"port {settings.prefect_port} already serves a Prefect API that this stack did "
                "not start; set MDW_PREFECT_PORT to another port"
            )
        pid = _spawn(
            settings,
            SERVER,
            [
                sys.executable,
                "-m",
                "prefect",
                "server",
                "start",
                "--host",
                "127.0.0.1",
                "--port",
                str(settings.prefect_port),
                "--analytics-off",
            ],
        )
    _wait(
        lambda: server_healthy(settings),
        timeout,
        f"the Prefect server on {settings.prefect_api_url}",
        settings.log_dir / f"{SERVER}.log",
    )
    return ProcStatus(SERVER, pid, True, settings.prefect_api_url)


def start_runner(settings: Settings, expect: str = "pipeline/sample", timeout: float = 120.0):
    pid = read_pid(settings, RUNNER)
    if pid is None:
        pid = _spawn(settings, RUNNER, [sys.executable, "-m", "flows.serve"])
    _wait(
        lambda: expect in deployment_names(settings),
        timeout,
        f"the runner to register deployment {expect}",
        settings.log_dir / f"{RUNNER}.log",
    )
    return ProcStatus(RUNNER, pid, True, ", ".join(deployment_names(settings)))


def proc_status(settings: Settings, name: str) -> ProcStatus:
    pid = read_pid(settings, name)
    if pid is None:
        return ProcStatus(name, None, False, "stopped")
    if name == SERVER:
        ok = server_healthy(settings)
        detail = f"healthy at {settings.prefect_api_url}" if ok else "process up, API not healthy"
        return ProcStatus(name, pid, ok, detail)
    names = deployment_names(settings)
    return ProcStatus(name, pid, True, "serving " + (", ".join(names) or "no deployments yet"))
