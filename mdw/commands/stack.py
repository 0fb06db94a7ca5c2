"""The local stack: `mdw up`, `down`, `status`, `env`, `demo`."""

from __future__ import annotations

import sys
import time
from typing import Annotated

import typer

from mdw import stack
from mdw.client import use_stack, venv
from mdw.console import out
from mdw.envvars import shell_exports, write_activate
from settings import Settings, get_settings


def _say(line: str) -> None:
    out.print(line, markup=False)


def up(settings: Settings) -> None:
    stack.up(settings, _say)


def cmd_up() -> None:
    """Start PostgreSQL, the Prefect server, the work pools and one worker per pool (idempotent)."""
    up(get_settings())


def cmd_down() -> None:
    """Stop the workers, every flow-run process, the server and PostgreSQL (data is kept)."""
    stack.down(get_settings(), _say)


def cmd_status() -> None:
    """Show the stack's parts, pools, workers, schedules (next and last completed run), active
    and crashed runs. Exit 1: a part is down or the scheduler is failing; 3: the stack is not
    running."""
    code = stack.status(get_settings(), _say)
    if code:
        raise typer.Exit(code)


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
