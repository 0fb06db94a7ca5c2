"""`mdw up` / `down` / `status`: the whole local stack, in order. Each step reports one line."""

from __future__ import annotations

from collections.abc import Callable

from mdw import alerts, postgres, services
from settings import Settings

Say = Callable[[str], None]


def _row(name: str, state: str, pid: object, detail: str) -> str:
    return f"{name:<24} {state:<5} {pid or '-':<7} {detail}"


def up(settings: Settings, say: Say = print) -> int:
    from ingest.db import migrate

    if settings.embedded:
        pg = postgres.start(settings)
        say(_row("postgres", "up", pg.pid, f"{pg.detail}  (data: {settings.pgdata})"))
    else:
        say(_row("postgres", "ext", None, "your own server (WAREHOUSE_URL)"))
    applied = migrate(settings.warehouse)
    say(_row("raw schema", "ok", None, f"migrated ({', '.join(applied) or 'up to date'})"))
    server = services.start_server(settings)
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
    crashed = services.crash_orphaned_runs(
        settings, "Crashed: no live process when `mdw up` ran (worker or process killed)"
    )
    if crashed:
        names = ", ".join(r["name"] for r in crashed)
        say(_row("orphaned runs", "fixed", None, f"{len(crashed)} marked Crashed: {names}"))
    for worker in services.start_workers(settings):
        say(_row(worker.name, "up", worker.pid, f"process worker of pool {worker.detail}"))
    say(_row("logs", "", None, str(settings.log_dir)))
    return 0


def down(settings: Settings, say: Say = print) -> int:
    # Workers first: a worker whose server has gone may ignore the first SIGTERM.
    for name in services.WORKERS:
        say(_row(name, "down", None, "stopped" if services.stop(settings, name) else "not running"))
    flows = services.stop_flow_processes(settings)
    say(_row("flow processes", "down", None, f"{len(flows)} stopped"))
    if services.server_healthy(settings) and services.server_database_ok(settings):
        crashed = services.crash_orphaned_runs(
            settings, "Crashed: stopped by `mdw down`", all_active=True
        )
        if crashed:
            say(_row("active runs", "ended", None, f"{len(crashed)} marked Crashed"))
    stopped = services.stop(settings, services.SERVER)
    say(_row(services.SERVER, "down", None, "stopped" if stopped else "not running"))
    if settings.embedded:
        stopped = postgres.stop(settings)
        say(_row("postgres", "down", None, "stopped (data kept)" if stopped else "not running"))
    return 0


def status(settings: Settings, say: Say = print) -> int:
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
    if not server.running:
        return 1
    for pool, detail in services.pools_status(settings):
        say(_row(f"pool {pool}", "", None, detail))
    names = services.deployment_names(settings)
    say(_row("deployments", "", None, f"{len(names)}: {', '.join(names)}"))
    for run in services.active_runs(settings):
        say(_row("active run", run["state_type"].lower(), None, run["name"]))
    for run in services.recent_crashes(settings):
        message = (run.get("state") or {}).get("message") or ""
        say(_row("crashed run (24 h)", "", None, f"{run['name']}: {message[:120]}"))
    return 0 if healthy else 1
