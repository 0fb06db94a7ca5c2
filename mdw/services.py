"""Background processes of the local stack: the Prefect server and one worker per work pool.

Each is started detached (its own session), logs to `$MDW_HOME/logs/<name>.log` and keeps
its PID in `$MDW_HOME/run/<name>.pid`; `stop` ends it by that PID. Deployments come from the
committed `prefect.yaml` (`prefect deploy --all`) and live in the Prefect database, so they
survive `mdw down` / `mdw up`; they are registered again only when `prefect.yaml` changes.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml

from lib.environment import stack_environment
from settings import PROJECT_ROOT, Settings

SERVER = "prefect-server"
PREFECT_YAML = PROJECT_ROOT / "prefect.yaml"
# Work pools and their concurrency limits. analytics runs one flow at a time: dbt builds and
# GX checkpoints must never overlap (two builds collide on the same relations).
POOLS: dict[str, int] = {"data-ingestion": 4, "analytics": 1, "maintenance": 2}
ACTIVE_STATES = ["RUNNING", "PENDING", "CANCELLING"]


# What the server and workers get on top of the stack environment.
SERVICE_ENV = {
    # flow runs send a heartbeat; the heartbeat automation (mdw.alerts) crashes silent ones
    "PREFECT_FLOWS_HEARTBEAT_FREQUENCY": "30",
    # workers poll every 2 s (default 10): a deployment run starts promptly
    "PREFECT_WORKER_QUERY_SECONDS": "2",
    # the server's own vacuum also removes logs and artifacts of deleted (trimmed) runs
    "PREFECT_SERVER_SERVICES_DB_VACUUM_ENABLED": "events,orphans",
}


def worker_name(pool: str) -> str:
    return f"worker-{pool}"


WORKERS = [worker_name(p) for p in POOLS]


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
    env = {**os.environ, **stack_environment(settings), **SERVICE_ENV}
    env["PREFECT_UI_URL"] = settings.prefect_api_url.removesuffix("/api")  # links in alerts
    proc = subprocess.Popen(
        argv,
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        env=env,
        cwd=PROJECT_ROOT,
        start_new_session=True,
    )
    log.close()
    pid_file(settings, name).write_text(str(proc.pid))
    return proc.pid


def _terminate(pid: int, timeout: float, group: bool = True) -> None:
    kill = os.killpg if group else os.kill
    for sig in (signal.SIGTERM, signal.SIGTERM, signal.SIGKILL):
        try:
            kill(pid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + timeout / 2
        while time.monotonic() < deadline:
            if not _alive(pid):
                return
            time.sleep(0.2)


def stop(settings: Settings, name: str, timeout: float = 20.0) -> bool:
    pid = read_pid(settings, name)
    pid_file(settings, name).unlink(missing_ok=True)
    if pid is None:
        return False
    _terminate(pid, timeout)
    return True


def flow_processes(settings: Settings) -> dict[int, str]:
    """{pid: flow run id} of this stack's flow-run subprocesses (workers start them in their
    own session). Found by their environment: a flow run id and this stack's MDW_HOME."""
    home = f"MDW_HOME={settings.mdw_home}".encode()
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            environ = (entry / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if home not in environ:
            continue
        for var in environ:
            if var.startswith(b"PREFECT__FLOW_RUN_ID=") and _alive(int(entry.name)):
                found[int(entry.name)] = var.split(b"=", 1)[1].decode()
    return found


def stop_flow_processes(settings: Settings, timeout: float = 10.0) -> list[int]:
    pids = list(flow_processes(settings))
    for pid in pids:
        _terminate(pid, timeout, group=False)
    return pids


# --- the Prefect REST API (urllib: `mdw status` should not pay for importing prefect) --------


def _request(settings: Settings, method: str, path: str, body: object = None, timeout=5.0):
    req = urllib.request.Request(
        f"{settings.prefect_api_url}{path}",
        data=None if body is None else json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method=method,
    )
    with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310 - loopback only
        raw = resp.read()
        return json.loads(raw) if raw else None


def _post_json(settings: Settings, path: str, body: dict) -> object:
    return _request(settings, "POST", path, body)


def server_healthy(settings: Settings) -> bool:
    """The API answers (it may still have lost its database: see `server_database_ok`)."""
    try:
        return _request(settings, "GET", "/health", timeout=3.0) is True
    except (urllib.error.URLError, OSError, ValueError):
        return False


def server_database_ok(settings: Settings) -> bool:
    """Prefect's readiness check: the server can reach its database."""
    try:
        _request(settings, "GET", "/ready", timeout=5.0)
        return True
    except (urllib.error.URLError, OSError, ValueError):
        return False


def deployment_names(settings: Settings) -> list[str]:
    """`flow/deployment` names the server knows (REST, since `prefect deployment ls` truncates)."""
    try:
        flows = _post_json(settings, "/flows/filter", {"limit": 200})
        deps = _post_json(settings, "/deployments/filter", {"limit": 200})
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
        lambda: server_healthy(settings) and server_database_ok(settings),
        timeout,
        f"the Prefect server on {settings.prefect_api_url}",
        settings.log_dir / f"{SERVER}.log",
    )
    return ProcStatus(SERVER, pid, True, settings.prefect_api_url)


# --- work pools, deployments, workers ---------------------------------------------------------


def ensure_pools(settings: Settings) -> dict[str, int]:
    """Create the process work pools (with Prefect's default process job template) and set
    their concurrency limits; also the dbt-build global concurrency limit. Idempotent."""
    from prefect.workers.process import ProcessWorker

    from flows.dbt_build import DBT_BUILD_LIMIT

    template = ProcessWorker.get_default_base_job_template()
    for name, limit in POOLS.items():
        try:
            _request(settings, "GET", f"/work_pools/{name}")
            _request(settings, "PATCH", f"/work_pools/{name}", {"concurrency_limit": limit})
        except urllib.error.HTTPError as exc:
            if exc.code != 404:
                raise
            _post_json(
                settings,
                "/work_pools/",
                {
                    "name": name,
                    "type": "process",
                    "base_job_template": template,
                    "concurrency_limit": limit,
                    "description": f"mdw {name} pool (process worker started by `mdw up`)",
                },
            )
    try:
        _request(settings, "GET", f"/v2/concurrency_limits/{DBT_BUILD_LIMIT}")
    except urllib.error.HTTPError as exc:
        if exc.code != 404:
            raise
        _post_json(settings, "/v2/concurrency_limits/", {"name": DBT_BUILD_LIMIT, "limit": 1})
    return dict(POOLS)


def declared_deployments() -> list[str]:
    """`flow/deployment` names of prefect.yaml (flow names from the flows' decorators)."""
    from prefect.flows import load_flow_from_entrypoint

    config = yaml.safe_load(PREFECT_YAML.read_text())
    names = set()
    cache: dict[str, str] = {}
    for d in config["deployments"]:
        entry = d["entrypoint"]
        if entry not in cache:
            cache[entry] = load_flow_from_entrypoint(str(PROJECT_ROOT / entry)).name
        names.add(f"{cache[entry]}/{d['name']}")
    return sorted(names)


def _yaml_digest() -> str:
    return hashlib.sha256(PREFECT_YAML.read_bytes() + str(PROJECT_ROOT).encode()).hexdigest()


def register_deployments(settings: Settings, timeout: float = 600.0) -> bool:
    """`prefect deploy --all` when prefect.yaml changed since the last registration (or the
    server lost them). Schedules the user switched with `mdw schedule` keep their state.
    Returns whether it deployed."""
    stamp = settings.run_dir / "prefect-yaml.sha256"
    digest = _yaml_digest()
    if stamp.exists() and stamp.read_text() == digest and deployment_names(settings):
        return False
    log = settings.log_dir / "deploy.log"
    env = {**os.environ, **stack_environment(settings)}
    with open(log, "ab") as fh:
        proc = subprocess.run(
            [sys.executable, "-m", "prefect", "--no-prompt", "deploy", "--all"],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=fh,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            timeout=timeout,
        )
    if proc.returncode != 0:
        tail = log.read_text(errors="replace")[-3000:]
        raise RuntimeError(f"`prefect deploy --all` failed; log {log}:\n{tail}")
    for name, active in schedule_overrides(settings).items():
        set_schedule_active(settings, name, active, remember=False)
    stamp.write_text(digest)
    return True


def _overrides_file(settings: Settings) -> Path:
    return settings.mdw_home / "schedules.json"


def schedule_overrides(settings: Settings) -> dict[str, bool]:
    path = _overrides_file(settings)
    return json.loads(path.read_text()) if path.exists() else {}


def read_deployment(settings: Settings, name: str) -> dict:
    flow, _, dep = name.partition("/")
    try:
        return _request(settings, "GET", f"/deployments/name/{flow}/{dep}")
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            raise RuntimeError(f"no deployment {name!r}: see `mdw status`") from exc
        raise


def set_schedule_active(
    settings: Settings, name: str, active: bool, remember: bool = True
) -> list[dict]:
    """Turn every schedule of a deployment on or off (and un-pause it). Remembered under
    MDW_HOME, so a later re-registration of prefect.yaml keeps the user's choice."""
    dep = read_deployment(settings, name)
    if not dep["schedules"]:
        raise RuntimeError(f"deployment {name} has no schedule")
    for sched in dep["schedules"]:
        _request(
            settings,
            "PATCH",
            f"/deployments/{dep['id']}/schedules/{sched['id']}",
            {"active": active},
        )
    _request(settings, "PATCH", f"/deployments/{dep['id']}", {"paused": not active})
    if remember:
        overrides = schedule_overrides(settings)
        overrides[name] = active
        _overrides_file(settings).write_text(json.dumps(overrides, indent=2, sort_keys=True))
    return read_deployment(settings, name)["schedules"]


def start_workers(settings: Settings, timeout: float = 120.0) -> list[ProcStatus]:
    started = []
    for pool in POOLS:
        name = worker_name(pool)
        pid = read_pid(settings, name)
        if pid is None:
            pid = _spawn(
                settings,
                name,
                [
                    sys.executable,
                    "-m",
                    "prefect",
                    "worker",
                    "start",
                    "--pool",
                    pool,
                    "--type",
                    "process",
                    "--name",
                    f"mdw-{pool}",
                    "--no-create-pool-if-not-found",
                    "--install-policy",
                    "never",
                ],
            )
        started.append(ProcStatus(name, pid, True, pool))
    for st in started:
        _wait(
            lambda st=st: _worker_online(settings, st.detail),
            timeout,
            f"the worker of pool {st.detail}",
            settings.log_dir / f"{st.name}.log",
        )
    return started


def pool_workers(settings: Settings, pool: str) -> list[dict]:
    try:
        return _post_json(settings, f"/work_pools/{pool}/workers/filter", {})  # type: ignore[return-value]
    except (urllib.error.URLError, OSError, ValueError):
        return []


def _worker_online(settings: Settings, pool: str) -> bool:
    return any(w.get("status") == "ONLINE" for w in pool_workers(settings, pool))


# --- runs left without a process ----------------------------------------------------------------


def active_runs(settings: Settings) -> list[dict]:
    return _post_json(  # type: ignore[return-value]
        settings,
        "/flow_runs/filter",
        {"flow_runs": {"state": {"type": {"any_": ACTIVE_STATES}}}, "limit": 200},
    )


def crash_orphaned_runs(settings: Settings, why: str, all_active: bool = False) -> list[dict]:
    """Mark Crashed every Running/Cancelling run of the stack without a live flow process
    (and Pending ones too when no worker is alive, or every active run with `all_active`)."""
    live = set(flow_processes(settings).values())
    no_worker = not any(read_pid(settings, w) for w in WORKERS)
    crashed = []
    for run in active_runs(settings):
        if not all_active:
            if run["id"] in live:
                continue
            if run["state_type"] == "PENDING" and not no_worker:
                continue  # a live worker is starting it
        _post_json(
            settings,
            f"/flow_runs/{run['id']}/set_state",
            {
                "state": {"type": "CRASHED", "name": "Crashed", "message": why},
                "force": True,
            },
        )
        crashed.append(run)
    return crashed


def recent_crashes(settings: Settings, hours: int = 24) -> list[dict]:
    since = (datetime.now(UTC) - timedelta(hours=hours)).isoformat()
    try:
        return _post_json(  # type: ignore[return-value]
            settings,
            "/flow_runs/filter",
            {
                "flow_runs": {
                    "state": {"type": {"any_": ["CRASHED"]}},
                    "start_time": {"after_": since},
                },
                "sort": "START_TIME_DESC",
                "limit": 20,
            },
        )
    except (urllib.error.URLError, OSError, ValueError):
        return []


# --- status -------------------------------------------------------------------------------------


def proc_status(settings: Settings, name: str) -> ProcStatus:
    pid = read_pid(settings, name)
    if pid is None:
        return ProcStatus(name, None, False, "stopped")
    if name == SERVER:
        if not server_healthy(settings):
            return ProcStatus(name, pid, False, "process up, API not answering")
        if not server_database_ok(settings):
            return ProcStatus(name, pid, False, "API up but its database is unreachable")
        return ProcStatus(name, pid, True, f"healthy at {settings.prefect_api_url}")
    pool = name.removeprefix("worker-")
    workers = pool_workers(settings, pool)
    online = [w for w in workers if w.get("status") == "ONLINE"]
    if not online:
        return ProcStatus(name, pid, False, f"process up, not polling pool {pool}")
    beat = online[0].get("last_heartbeat_time", "")[:19]
    return ProcStatus(name, pid, True, f"polling pool {pool} (last heartbeat {beat})")


def pools_status(settings: Settings) -> Iterator[tuple[str, str]]:
    for pool in POOLS:
        try:
            wp = _request(settings, "GET", f"/work_pools/{pool}")
        except (urllib.error.URLError, OSError, ValueError):
            yield pool, "missing"
            continue
        online = sum(w.get("status") == "ONLINE" for w in pool_workers(settings, pool))
        yield (
            pool,
            f"{wp['status'] or '?'}  concurrency {wp['concurrency_limit']}  "
            f"workers online {online}",
        )
