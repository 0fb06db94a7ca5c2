"""`mdw up` / `down` / `status`: the whole local stack, in order. Each step reports one line."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import psutil

from mdw import alerts, orphans, ports, postgres, schedules, services, supervisor
from mdw.errors import FAILED, STACK_DOWN, UserError, port_taken
from settings import Settings

Say = Callable[[str], None]


def _row(name: str, state: str, pid: object, detail: str) -> str:
    return f"{name:<24} {state:<5} {pid or '-':<7} {detail}"


def _check_prefect_port(settings: Settings) -> None:
    """Before anything starts: the server's port is free, unless this stack's server holds it
    (PostgreSQL's port: `postgres.start` checks it the same way)."""
    port = settings.prefect_port
    if services.read_pid(settings, services.SERVER) is None and ports.in_use(port):
        raise port_taken(port, "the Prefect server", "MDW_PREFECT_PORT", ports.holder(port))


# Lines of the server's log that say why it did not start (its own errors, uvicorn's, Python's)
_PROBLEM = re.compile(r"\bERROR\b|\bCRITICAL\b|[a-z]Error\b|Exception\b|already in use|Errno")


def log_problems(log: Path, offset: int, limit: int = 3) -> str:
    """The last few lines of `log` written since `offset` that name a problem, on one line."""
    if not log.exists():
        return "nothing"
    with open(log, errors="replace") as fh:
        fh.seek(offset)
        lines = [" ".join(line.split()) for line in fh.read().splitlines()]
    # a message the server wraps over two lines ("... with the `--port`" / "flag.") stays whole
    joined = []
    for line in lines:
        if joined and line and not _PROBLEM.search(line) and line[0].islower():
            joined[-1] += " " + line
        else:
            joined.append(line)
    found = [line for line in joined if _PROBLEM.search(line)]
    return " | ".join(found[-limit:]) or "nothing"


def up(settings: Settings, say: Say = print) -> int:
    """Start what is not running. When a step fails, what this call started is stopped again
    and the failure is one line quoting the failing server's own log."""
    with supervisor.stack_lock(settings):  # the supervisor waits while `mdw up` works
        return _up_or_undo(settings, say)


def _up_or_undo(settings: Settings, say: Say) -> int:
    _check_prefect_port(settings)
    pg_was_up = settings.embedded and postgres.status(settings).running
    server_was_up = services.read_pid(settings, services.SERVER) is not None
    try:
        return _up(settings, say)
    except BaseException:
        for name in services.WORKERS:  # none of them can be of use without the server
            services.stop(settings, name)
        if not server_was_up:
            services.stop(settings, services.SERVER)
        if settings.embedded and not pg_was_up:
            postgres.stop(settings)
        raise


def _start_server(settings: Settings) -> services.ProcStatus:
    log = settings.log_dir / f"{services.SERVER}.log"
    offset = log.stat().st_size if log.exists() else 0
    try:
        return services.start_server(settings)
    except RuntimeError as exc:
        raise UserError(
            f"the Prefect server did not start on {settings.prefect_api_url}",
            f"{str(exc).splitlines()[0].split(';')[0]}; its log {log} says: "
            f"{log_problems(log, offset)}",
            "fix that and rerun `mdw up`",
        ) from exc


def _up(settings: Settings, say: Say) -> int:
    from ingest.db import migrate

    if settings.embedded:
        pg = postgres.start(settings)
        say(_row("postgres", "up", pg.pid, f"{pg.detail}  (data: {settings.pgdata})"))
    else:
        say(_row("postgres", "ext", None, "your own server (WAREHOUSE_URL)"))
    applied = migrate(settings.warehouse)
    say(_row("raw schema", "ok", None, f"migrated ({', '.join(applied) or 'up to date'})"))
    if services.server_unlocked(settings):  # started before the API had credentials
        for name in [*services.WORKERS, services.SERVER]:
            services.stop(settings, name)
        say(_row(services.SERVER, "stop", None, "it ran without API credentials: restarting"))
    server = _start_server(settings)
    say(_row(services.SERVER, "up", server.pid, server.detail))
    pools = services.ensure_pools(settings)
    say(
        _row(
            "work pools",
            "ok",
            None,
            ", ".join(f"{p} (concurrency {n})" for p, n in pools.items()),
        )
    )
    deployed = services.register_deployments(settings)
    names = services.deployment_names(settings)
    say(
        _row(
            "deployments",
            "ok",
            None,
            f"{len(names)} {'registered from prefect.yaml' if deployed else 'kept'}",
        )
    )
    channels = alerts.configure(settings)
    say(
        _row(
            "alerts",
            "ok",
            None,
            f"to {', '.join(channels)}" if channels else "none (set MDW_ALERT_WEBHOOK_URL)",
        )
    )
    watched = schedules.sync_deadman(settings)
    if watched:
        detail = f"alerts when no run completes within period + grace: {', '.join(watched)}"
    else:
        detail = "no alert channel (set MDW_ALERT_WEBHOOK_URL)" if not channels else "no schedule"
    say(_row("dead-man's switch", "ok" if watched else "off", None, detail))
    took = alerts.wait_triggers_live(settings)
    say(_row("triggers", "ok", None, f"live (answered a probe in {took:.1f} s)"))
    # only now: a run marked Crashed before the triggers listen would never alert
    ended = orphans.end_orphan_processes(settings)
    crashed = orphans.crash_runs_without_process(
        settings,
        "Crashed: no live process when `mdw up` ran (the machine, a worker or the process died)",
        reasons=dict.fromkeys(ended.values(), "Crashed: its worker died; `mdw up` ended it")
        | orphans.stopped_by_down(settings),
    )
    orphans.forget_stopped(settings)
    if crashed:
        names = ", ".join(r["name"] for r in crashed)
        say(_row("orphaned runs", "fixed", None, f"{len(crashed)} marked Crashed: {names}"))
    for worker in services.start_workers(settings):
        say(_row(worker.name, "up", worker.pid, f"process worker of pool {worker.detail}"))
    sup = supervisor.start(settings)
    say(_row(sup.name, "up", sup.pid, sup.detail))
    say(_row("logs", "", None, str(settings.log_dir)))
    return 0


def down(settings: Settings, say: Say = print) -> int:
    with supervisor.stack_lock(settings):
        return _down(settings, say)


def _down(settings: Settings, say: Say) -> int:
    # The supervisor first: it would restart what is stopped.
    stopped = supervisor.stop(settings)
    say(_row(supervisor.NAME, "down", None, "stopped" if stopped else "not running"))
    flows = services.flow_processes(settings)
    workers = {name: services.read_pid(settings, name) for name in services.WORKERS}
    if flows:
        # Runs in flight end with their workers, at once (SIGKILL): no worker reports a state
        # now, whose alert the server might not send before it stops; the next `mdw up` marks
        # them Crashed once its triggers listen, and they alert then.
        orphans.note_stopped(settings, flows.values())
        services.terminate([*filter(None, workers.values()), *flows], 15.0, gentle=False)
    for name, pid in workers.items():
        services.stop(settings, name)  # a worker whose server has gone may ignore a SIGTERM
        say(_row(name, "down", None, "stopped" if pid else "not running"))
    say(_row("flow processes", "down", None, f"{len(flows)} stopped (Crashed at `mdw up`)"))
    stopped = services.stop(settings, services.SERVER)
    say(_row(services.SERVER, "down", None, "stopped" if stopped else "not running"))
    if settings.embedded:
        stopped = postgres.stop(settings)
        say(_row("postgres", "down", None, "stopped (data kept)" if stopped else "not running"))
    return 0


def _started_at(pid: int | None) -> datetime | None:
    try:
        return datetime.fromtimestamp(psutil.Process(pid).create_time(), UTC) if pid else None
    except psutil.Error:
        return None


def status(settings: Settings, say: Say = print) -> int:
    """Exit code 0: every part up and every active schedule has runs coming; 1: a part is down
    or the scheduler is failing; 3 (STACK_DOWN): no Prefect API answers."""
    healthy = True
    if settings.embedded:
        pg = postgres.status(settings)
        healthy &= pg.running
        say(_row("postgres", "up" if pg.running else "down", pg.pid, pg.detail))
    else:
        say(_row("postgres", "ext", None, "your own server (WAREHOUSE_URL)"))
    server = services.proc_status(settings, services.SERVER)
    healthy &= server.running
    say(_row(server.name, "up" if server.running else "down", server.pid, server.detail))
    for name in services.WORKERS:
        st = services.proc_status(settings, name)
        healthy &= st.running
        say(_row(name, "up" if st.running else "down", st.pid, st.detail))
    sup, restarts = supervisor.status(settings)
    healthy &= sup.running
    say(_row(sup.name, "up" if sup.running else "down", sup.pid, sup.detail))
    say(_row("restarts (24 h)", "", None, restarts))
    if not server.running:
        return FAILED if services.server_healthy(settings) else STACK_DOWN
    for pool, detail in services.pools_status(settings):
        say(_row(f"pool {pool}", "", None, detail))
    names = services.deployment_names(settings)
    say(_row("deployments", "", None, f"{len(names)}: {', '.join(names)}"))
    scheduler_ok, lines = schedules.status_lines(settings, _row, _started_at(server.pid))
    healthy &= scheduler_ok
    for line in lines:
        say(line)
    for run in services.active_runs(settings):
        say(_row("active run", run["state_type"].lower(), None, run["name"]))
    for run in services.recent_crashes(settings):
        message = (run.get("state") or {}).get("message") or ""
        say(_row("crashed run (24 h)", "", None, f"{run['name']}: {message[:120]}"))
    return 0 if healthy else FAILED
