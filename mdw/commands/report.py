"""`mdw report`: write the static report site from the marts (also done by each pipeline run)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import psycopg2
import typer

from mdw.console import err, out
from mdw.errors import STACK_DOWN, UserError
from mdw.options import Symbols
from settings import get_settings


def cmd_report(
    symbols: Symbols = None,
    output: Annotated[
        Path | None,
        typer.Option(
            file_okay=False, help="folder to write the site into (default: $MDW_HOME/reports)"
        ),
    ] = None,
) -> None:
    """Write the report site: an index of symbols and one chart page per symbol (offline)."""
    from lib.report_site import write_site

    settings = get_settings()
    target = output or settings.reports_dir
    try:
        site = write_site(settings.warehouse, target, symbols)
    except psycopg2.OperationalError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UserError(
            "cannot reach the warehouse", first, "is the stack up? (`mdw up`)", STACK_DOWN
        ) from None
    except psycopg2.errors.UndefinedTable as exc:
        first = str(exc).strip().splitlines()[0]
        raise UserError(
            "the marts are not built", first, "run the pipeline first (`mdw demo`)"
        ) from None
    if site.pages == 0:
        if symbols:
            raise UserError(
                f"none of the symbols is in the marts: {named(site.unknown)}",
                "nothing to chart",
                "check --symbols (`mdw status` lists what landed)",
            )
        raise UserError("no symbol in the marts", "nothing to chart", "run the pipeline first")
    if site.unknown:
        err.print(
            f"not in the marts, no page: {named(site.unknown)} ({len(site.unknown)} of "
            f"{len(set(symbols or ()))} symbols asked for)",
            markup=False,
        )
    strategies = f" and the strategies page ({site.strategies.name})" if site.strategies else ""
    out.print(f"report site: {site.pages} symbol pages{strategies}, open {site.url}")


def named(symbols: tuple[str, ...], shown: int = 10) -> str:
    """The symbols, the first `shown` of them when there are more."""
    text = ", ".join(symbols[:shown])
    return text + (f" and {len(symbols) - shown:,} more" if len(symbols) > shown else "")


def register(app: typer.Typer) -> None:
    app.command("report")(cmd_report)
