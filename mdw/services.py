"""Background processes of the local stack: the Prefect server and one worker per work pool.

Each is started detached (its own session), logs to `$MDW_HOME/logs/<name>.log` and keeps
its PID in `$MDW_HOME/run/<name>.pid`; `stop` ends it by that PID. Deployments come from the
committed `prefect.yaml` (`prefect deploy --all`) and live in the Prefect database, so they
survive `mdw down` / `mdw up`; they are registered again only when `prefect.yaml` changes.

The API requires credentials: `mdw up` generates them once (`$MDW_HOME/prefect-auth`, 0600, as
mdw/postgres.py does for PostgreSQL's password); the server checks them, every client of the
stack (this CLI, the workers, their flow runs, `prefect deploy`) sends them.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import secrets
import shlex
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psutil

from lib.environment import prefect_auth_environment, prefect_auth_file, stack_environment
from mdw.prefect_api import ApiError, ApiUnavailable, api, api_or
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


def server_environment(settings: Settings) -> dict[str, str]:
    """The server's side of the lock: credentials, CSRF protection, CORS for its own UI only."""
    ui = settings.prefect_api_url.removesuffix("/api")
    env = {
        "PREFECT_UI_URL": ui,  # links in alerts
        "PREFECT_SERVER_API_CSRF_PROTECTION_ENABLED": "true",
        "PREFECT_SERVER_API_CORS_ALLOWED_ORIGINS": ui,
        # no 15-minute hold on the alerts of runs in flight across a restart (its docstring)
        "PREFECT_SERVER_EVENTS_CAUSAL_ORDERING": "mdw.event_ordering",
        # concurrency leases (the `dbt-build` slot, the pools' slots) in files under
        # PREFECT_HOME, not in the server's memory: a lease outlives a server restart and then
        # expires as it should; in memory it vanished and its slot stayed taken for good (a
        # killed server left every later dbt build waiting)
        "PREFECT_SERVER_CONCURRENCY_LEASE_STORAGE": (
            "prefect.server.concurrency.lease_storage.filesystem"
        ),
    }
    auth = prefect_auth_environment(settings)
    if auth:
        env["PREFECT_SERVER_API_AUTH_STRING"] = auth["PREFECT_API_AUTH_STRING"]
    return env


def worker_name(pool: str) -> str:
    return f"worker-{pool}"


WORKERS = [worker_name(p) for p in POOLS]


@dataclass(frozen=True)
class ProcStatus:
    name: str
    pid: int | None
    running: bool
    detail: str


# --- processes ----------------------------------------------------------------------------------


def pid_file(settings: Settings, name: str) -> Path:
    return settings.run_dir / f"{name}.pid"


def live_process(pid: int, created: float | None = None) -> psutil.Process | None:
    """The process `pid` if it runs (a zombie does not), and is the one created at `created`
    (a PID reused by another program is not ours)."""
    try:
        proc = psutil.Process(pid)
        if proc.status() == psutil.STATUS_ZOMBIE:
            return None
        if created is not None and abs(proc.create_time() - created) > 0.01:
            return None
        return proc
    except psutil.Error:
        return None


def read_pid(settings: Settings, name: str) -> int | None:
    """The PID of the stack's process `name` while it runs (pid file: PID, creation time)."""
    try:
        pid, *created = pid_file(settings, name).read_text().split()
        return int(pid) if live_process(int(pid), float(created[0]) if created else None) else None
    except (OSError, ValueError):
        return None


def spawn(settings: Settings, name: str, argv: list[str], env: dict[str, str]) -> int:
    """Start `argv` detached (own session, stdin closed, output appended to its log)."""
    settings.run_dir.mkdir(parents=True, exist_ok=True)
    settings.log_dir.mkdir(parents=True, exist_ok=True)
    with open(settings.log_dir / f"{name}.log", "ab") as log:
        proc = subprocess.Popen(
            argv,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**os.environ, **stack_environment(settings), **env},
            cwd=PROJECT_ROOT,
            start_new_session=True,
        )
    created = psutil.Process(proc.pid).create_time()
    pid_file(settings, name).write_text(f"{proc.pid} {created}\n")
    return proc.pid


def terminate(pids: Iterable[int], timeout: float, tree: bool = True, gentle: bool = True) -> None:
    """End the processes (and, with `tree`, their descendants): SIGTERM, again (a worker whose
    server has gone may ignore the first), then SIGKILL, each step waiting a third of `timeout`;
    without `gentle`, SIGKILL at once."""
    procs: list[psutil.Process] = []
    for pid in pids:
        if (proc := live_process(pid)) is not None:
            procs.append(proc)
            with contextlib.suppress(psutil.Error):
                procs += proc.children(recursive=True) if tree else []
    steps = [psutil.Process.terminate] * 2 * gentle + [psutil.Process.kill]
    for kill in steps:
        for proc in procs:
            with contextlib.suppress(psutil.Error):
                kill(proc)
        _, procs = psutil.wait_procs(procs, timeout=timeout / len(steps))
        if not procs:
            return


def stop(settings: Settings, name: str, timeout: float = 20.0, tree: bool = True) -> bool:
    pid = read_pid(settings, name)
    pid_file(settings, name).unlink(missing_ok=True)
    if pid is None:
        return False
    terminate([pid], timeout, tree)
    return True


def flow_processes(settings: Settings) -> dict[int, str]:
    """{pid: flow run id} of the processes running this stack's deployment runs: the topmost
    process with the run's id (PREFECT__FLOW_RUN_ID, set by the worker) and this MDW_HOME in
    its environment (its own children inherit both: they are not counted)."""
    home = str(settings.mdw_home)
    found: dict[int, tuple[str, int]] = {}
    for proc in psutil.process_iter(["pid", "ppid", "name"]):
        if not (proc.info["name"] or "").startswith("python") or proc.info["pid"] == os.getpid():
            continue
        try:
            env = proc.environ()
        except psutil.Error:
            continue
        if env.get("MDW_HOME") == home and "PREFECT__FLOW_RUN_ID" in env:
            found[proc.info["pid"]] = (env["PREFECT__FLOW_RUN_ID"], proc.info["ppid"])
    return {
        pid: run_id for pid, (run_id, ppid) in found.items() if found.get(ppid, ("",))[0] != run_id
    }


def _wait(predicate: Callable[[], bool], timeout: float, what: str, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.5)
    tail = log.read_text(errors="replace")[-3000:] if log.exists() else ""
    raise RuntimeError(f"timed out after {timeout:.0f}s waiting for {what}; log {log}:\n{tail}")


# --- the server -----------------------------------------------------------------------------


def ensure_prefect_auth(settings: Settings) -> None:
    """The API's credentials: kept in $MDW_HOME/prefect-auth, generated there (0600) if missing.
    This process's Prefect client uses them from here on (mdw imports prefect only later)."""
    path = prefect_auth_file(settings)
    if not path.exists():
        settings.mdw_home.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(f"mdw:{secrets.token_urlsafe(32)}\n")
    os.chmod(path, 0o600)
    os.environ.update(prefect_auth_environment(settings))


def server_healthy(settings: Settings) -> bool:
    """The API answers (it may still have lost its database: see `server_database_ok`)."""
    return api_or(False, settings, "GET", "/health") is True


def server_database_ok(settings: Settings) -> bool:
    """Prefect's readiness check: the server can reach its database."""
    return api_or(False, settings, "GET", "/ready") is not False


def server_unlocked(settings: Settings) -> bool:
    """The stack's server runs and serves anonymous requests: it was started before the API
    had credentials (an upgraded stack), and must be restarted with them."""
    if read_pid(settings, SERVER) is None or not server_healthy(settings):
        return False
    try:
        api(settings, "GET", "/admin/version", anonymous=True, timeout=5.0)
    except ApiError as exc:
        return exc.status != 401
    return True


def start_server(settings: Settings, timeout: float = 120.0) -> ProcStatus:
    ensure_prefect_auth(settings)
    pid = read_pid(settings, SERVER)
    if pid is None:
        if server_healthy(settings):
            raise RuntimeError(
                f"port {settings.prefect_port} already serves a Prefect API that this stack did "
                "not start; set MDW_PREFECT_PORT to another port"
            )
        pid = spawn(
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
            SERVICE_ENV | server_environment(settings),
        )
    _wait(
        lambda: server_healthy(settings) and server_database_ok(settings),
        timeout,
        f"the Prefect server on {settings.prefect_api_url}",
        settings.log_dir / f"{SERVER}.log",
    )
    return ProcStatus(SERVER, pid, True, settings.prefect_api_url)


# --- work pools, deployments, workers ---------------------------------------------------------


def job_template(pool: str) -> dict:
    """Prefect's process job template, with two defaults changed: a flow run's process is
    started by mdw.flow_process (own session, output to `$MDW_HOME/logs/flow-runs-<pool>.log`)
    and the worker does not stream its output. So a flow run never writes to a pipe that leads
    to its worker: a killed worker cannot leave it blocked (issue 20, defect 1)."""
    from prefect.workers.process import ProcessWorker

    template = ProcessWorker.get_default_base_job_template()
    variables = template["variables"]["properties"]
    variables["command"]["default"] = shlex.join([sys.executable, "-m", "mdw.flow_process", pool])
    variables["stream_output"]["default"] = False
    return template


def ensure_pools(settings: Settings) -> dict[str, int]:
    """Create the process work pools (or bring their job template and concurrency limit up to
    date); also the dbt-build global concurrency limit. Idempotent."""
    from flows.dbt_build import DBT_BUILD_LIMIT

    for name, limit in POOLS.items():
        pool = {"base_job_template": job_template(name), "concurrency_limit": limit}
        if api(settings, "GET", f"/work_pools/{name}", missing_ok=True) is None:
            api(
                settings,
                "POST",
                "/work_pools/",
                {
                    "name": name,
                    "type": "process",
                    "description": f"mdw {name} pool (process worker started by `mdw up`)",
                    **pool,
                },
            )
        else:
            api(settings, "PATCH", f"/work_pools/{name}", pool)
    if api(settings, "GET", f"/v2/concurrency_limits/{DBT_BUILD_LIMIT}", missing_ok=True) is None:
        api(settings, "POST", "/v2/concurrency_limits/", {"name": DBT_BUILD_LIMIT, "limit": 1})
    return dict(POOLS)


def deployment_names(settings: Settings) -> list[str]:
    """`flow/deployment` names the server knows (REST, since `prefect deployment ls` truncates)."""
    flows = api_or([], settings, "POST", "/flows/filter", {"limit": 200})
    deps = api_or([], settings, "POST", "/deployments/filter", {"limit": 200})
    flow_names = {f["id"]: f["name"] for f in flows}
    return sorted(f"{flow_names.get(d['flow_id'], '?')}/{d['name']}" for d in deps)


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
    found = api(settings, "GET", f"/deployments/name/{flow}/{dep}", missing_ok=True)
    if found is None:
        raise RuntimeError(f"no deployment {name!r}: see `mdw status`")
    return found


def set_schedule_active(
    settings: Settings, name: str, active: bool, remember: bool = True
) -> list[dict]:
    """Turn every schedule of a deployment on or off (and un-pause it). Remembered under
    MDW_HOME, so a later re-registration of prefect.yaml keeps the user's choice."""
    dep = read_deployment(settings, name)
    if not dep["schedules"]:
        raise RuntimeError(f"deployment {name} has no schedule")
    for sched in dep["schedules"]:
        api(
            settings,
            "PATCH",
            f"/deployments/{dep['id']}/schedules/{sched['id']}",
            {"active": active},
        )
    api(settings, "PATCH", f"/deployments/{dep['id']}", {"paused": not active})
    if remember:
        overrides = schedule_overrides(settings)
        overrides[name] = active
        _overrides_file(settings).write_text(json.dumps(overrides, indent=2, sort_keys=True))
    return read_deployment(settings, name)["schedules"]


def start_worker(settings: Settings, pool: str) -> ProcStatus:
    """The pool's process worker (started unless it runs); does not wait for it to poll."""
    name = worker_name(pool)
    pid = read_pid(settings, name)
    if pid is None:
        argv = [sys.executable, "-m", "prefect", "worker", "start", "--pool", pool]
        argv += ["--type", "process", "--name", f"mdw-{pool}", "--no-create-pool-if-not-found"]
        pid = spawn(settings, name, [*argv, "--install-policy", "never"], SERVICE_ENV)
    return ProcStatus(name, pid, True, pool)


def wait_worker_online(settings: Settings, pool: str, timeout: float = 120.0) -> None:
    _wait(
        lambda: _worker_online(settings, pool),
        timeout,
        f"the worker of pool {pool}",
        settings.log_dir / f"{worker_name(pool)}.log",
    )


def start_workers(settings: Settings, timeout: float = 120.0) -> list[ProcStatus]:
    started = [start_worker(settings, pool) for pool in POOLS]
    for st in started:
        wait_worker_online(settings, st.detail, timeout)
    return started


def pool_workers(settings: Settings, pool: str) -> list[dict]:
    return api_or([], settings, "POST", f"/work_pools/{pool}/workers/filter", {})


def _worker_online(settings: Settings, pool: str) -> bool:
    return any(w.get("status") == "ONLINE" for w in pool_workers(settings, pool))


# --- runs ---------------------------------------------------------------------------------------


def active_runs(settings: Settings) -> list[dict]:
    return api(
        settings,
        "POST",
        "/flow_runs/filter",
        {"flow_runs": {"state": {"type": {"any_": ACTIVE_STATES}}}, "limit": 200},
    )


def recent_crashes(settings: Settings, hours: int = 24) -> list[dict]:
    since = (datetime.now(UTC) - timedelta(hours=hours)).isoformat()
    return api_or(
        [],
        settings,
        "POST",
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
    online = [w for w in pool_workers(settings, pool) if w.get("status") == "ONLINE"]
    if not online:
        return ProcStatus(name, pid, False, f"process up, not polling pool {pool}")
    beat = online[0].get("last_heartbeat_time", "")[:19]
    return ProcStatus(name, pid, True, f"polling pool {pool} (last heartbeat {beat})")


def pools_status(settings: Settings) -> Iterator[tuple[str, str]]:
    for pool in POOLS:
        try:
            wp = api(settings, "GET", f"/work_pools/{pool}", timeout=5.0)
        except (ApiUnavailable, ApiError):
            yield pool, "missing"
            continue
        online = sum(w.get("status") == "ONLINE" for w in pool_workers(settings, pool))
        yield (
            pool,
            f"{wp['status'] or '?'}  concurrency {wp['concurrency_limit']}  "
            f"workers online {online}",
        )
