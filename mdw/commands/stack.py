"""The local stack: `mdw up`, `down`, `status`, `env`, `demo`."""

from __future__ import annotations

import sys
import time
from typing import Annotated

import typer

from mdw import postgres, services
from mdw.client import use_stack, venv
from mdw.console import out
from mdw.envvars import shell_exports, write_activate
from settings import Settings, get_settings


def up(settings: Settings) -> None:
    from ingest.db import migrate

    if settings.embedded:
        pg = postgres.start(settings)
        out.print(f"postgres        up    pid {pg.pid}  {pg.detail}  (data: {settings.pgdata})")
    else:
        out.print("postgres        external (WAREHOUSE_URL): no embedded server started")
    applied = migrate(settings.warehouse)
    out.print(f"raw schema      migrated ({', '.join(applied) if applied else 'up to date'})")
    server = services.start_server(settings)
    out.print(f"prefect server  up    pid {server.pid}  {server.detail}")
    runner = services.start_runner(settings)
    out.print(f"runner          up    pid {runner.pid}  serving {runner.detail}")
    out.print(f"logs            {settings.log_dir}")


def cmd_up() -> None:
    """Start PostgreSQL, the Prefect server and the runner (idempotent)."""
    up(get_settings())


def cmd_down() -> None:
    """Stop what `mdw up` started (data is kept)."""
    settings = get_settings()
    # Runner first: a runner whose server has gone may ignore the first SIGTERM.
    for name in (services.RUNNER, services.SERVER):
        stopped = services.stop(settings, name)
        out.print(f"{name:<15} {'stopped' if stopped else 'not running'}")
    if settings.embedded:
        stopped = postgres.stop(settings)
        out.print(f"{'postgres':<15} {'stopped (data kept)' if stopped else 'not running'}")


def cmd_status() -> None:
    """Show each part of the stack and its health (exit code 1 when a part is down)."""
    settings = get_settings()
    healthy = True
    if settings.embedded:
        pg = postgres.status(settings)
        healthy &= pg.running
        state = "up" if pg.running else "down"
        out.print(f"{'postgres':<15} {state:<5} {pg.pid or '-':<7} {pg.detail}")
    else:
        out.print(f"{'postgres':<15} external (WAREHOUSE_URL)")
    for name in (services.SERVER, services.RUNNER):
        st = services.proc_status(settings, name)
        healthy &= st.running
        out.print(f"{name:<15} {'up' if st.running else 'down':<5} {st.pid or '-':<7} {st.detail}")
    if not healthy:
        raise typer.Exit(1)


def cmd_env(
    write_activate_script: Annotated[
        bool,
        typer.Option(
            "--write-activate", help="also put the exports into this virtualenv's bin/activate"
        ),
    ] = False,
) -> None:
    """Print the shell exports the stack uses (eval "$(mdw env)")."""
    settings = get_settings()
    if write_activate_script:
        env_dir = venv()
        path = write_activate(settings, env_dir) if env_dir else None
        out.print(f"# written to {path}" if path else "# no virtual environment to write to")
    sys.stdout.write(shell_exports(settings))


def cmd_demo(
    timeout: Annotated[
        float, typer.Option(min=1, help="seconds to wait for the pipeline run")
    ] = 900.0,
) -> None:
    """`mdw up`, then run pipeline/sample through Prefect and summarise it."""
    settings = get_settings()
    up(settings)
    use_stack(settings)
    from mdw.demo import print_summary, run_pipeline_sample

    started = time.monotonic()
    flow_run = run_pipeline_sample(timeout)
    env_dir = venv()
    if env_dir:
        write_activate(settings, env_dir)
    code = print_summary(settings, flow_run, time.monotonic() - started)
    if code:
        raise typer.Exit(code)


def register(app: typer.Typer) -> None:
    app.command("up")(cmd_up)
    app.command("down")(cmd_down)
    app.command("status")(cmd_status)
    app.command("env")(cmd_env)
    app.command("demo")(cmd_demo)
