"""`mdw analyst add|remove NAME`: read-only login roles on the marts."""

from __future__ import annotations

from typing import Annotated

import psycopg2
import typer

from mdw import analysts
from mdw.console import out
from mdw.errors import STACK_DOWN, UserError
from settings import get_settings

app = typer.Typer(
    name="analyst",
    help="Read-only analyst logins: they can read marts and nothing else.",
    no_args_is_help=True,
)

Name = Annotated[str, typer.Argument(help="role name: lower-case letters, digits and _")]
ConnectionLimit = Annotated[
    int, typer.Option(help="most sessions the analyst may hold at once (PostgreSQL enforces it)")
]
StatementTimeout = Annotated[
    str,
    typer.Option(help="the analyst's sessions cancel a statement after this long, e.g. 30s, 2h"),
]


def register(root: typer.Typer) -> None:
    root.add_typer(app)


def _admin():
    settings = get_settings()
    return settings, settings.warehouse


def _unreachable(exc: Exception) -> UserError:
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return UserError("cannot reach the warehouse", first, "is the stack up? (`mdw up`)", STACK_DOWN)


@app.command("add")
def cmd_add(
    name: Name,
    connection_limit: ConnectionLimit = analysts.DEFAULT_CONNECTION_LIMIT,
    statement_timeout: StatementTimeout = analysts.DEFAULT_STATEMENT_TIMEOUT,
) -> None:
    """Create login role NAME (select on marts only) and print how to connect. Run it again
    to reset the password or change the limits."""
    settings, admin = _admin()
    try:
        analyst = analysts.add(
            admin,
            name,
            settings.mdw_home / "analysts",
            connection_limit=connection_limit,
            statement_timeout=statement_timeout,
        )
    except analysts.AnalystError as exc:
        raise UserError(str(exc)) from None
    except psycopg2.OperationalError as exc:
        raise _unreachable(exc) from None
    out.print(f"analyst {name}: can read schema marts; raw, staging, writes and DDL are refused")
    out.print(
        f"limits    {analyst.connection_limit} connections, statements cancelled after "
        f"{analyst.statement_timeout} (a session default), idle transactions ended after "
        f"{analysts.IDLE_IN_TRANSACTION_TIMEOUT}"
    )
    out.print(f"password  in {analyst.pgpass_file} (mode 0600): hand it over safely")
    out.print(f'connect   PGPASSFILE={analyst.pgpass_file} psql "{analyst.url}"')
    out.print(f"remove    mdw analyst remove {name}")


@app.command("remove")
def cmd_remove(name: Name) -> None:
    """Drop analyst role NAME and its password file."""
    settings, admin = _admin()
    try:
        dropped = analysts.remove(admin, name, settings.mdw_home / "analysts")
    except analysts.AnalystError as exc:
        raise UserError(str(exc)) from None
    except psycopg2.OperationalError as exc:
        raise _unreachable(exc) from None
    out.print(f"analyst {name}: {'dropped' if dropped else 'did not exist'}")
