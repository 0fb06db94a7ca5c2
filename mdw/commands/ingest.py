"""`mdw ingest ...`: land data into the running stack (each run shows up in the Prefect UI)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer

from mdw.client import require_stack
from mdw.console import err, out
from mdw.errors import UserError
from mdw.options import MaxSymbols, Symbols, date_option, symbols_option
from settings import Settings, get_settings

app = typer.Typer(
    name="ingest",
    help="Land data into the running stack (start it with `mdw up`).",
    no_args_is_help=True,
)

DaysBack = Annotated[int | None, typer.Option(min=1, help="how far back to go, in days")]


def register(root: typer.Typer) -> None:
    root.add_typer(app)


# --- files ---------------------------------------------------------------------------------


def missing_files(paths: list[Path]) -> list[Path]:
    return [p for p in paths if not p.is_file()]


@app.command("files")
def cmd_files(
    paths: Annotated[
        list[Path],
        typer.Argument(
            help="CSV or Parquet files with symbol,date,open,high,low,close,volume columns",
            metavar="FILE...",
        ),
    ],
    source: Annotated[str, typer.Option(help="value written to raw.daily_bars.source")] = "files",
) -> None:
    """Land canonical CSV/Parquet daily-bar files (flow ingest-files)."""
    missing = missing_files(paths)
    if missing:
        # Checked before any flow runs: a typo is neither a format error nor a Completed run.
        names = ", ".join(str(p) for p in missing)
        raise UserError(
            f"{'file' if len(missing) == 1 else 'files'} not found: {names}",
            f"relative paths are read from {Path.cwd()}",
            "check the path; nothing was landed",
        )
    settings = get_settings()
    require_stack(settings)
    from flows.ingest_files import ingest_files

    state = ingest_files([str(p.resolve()) for p in paths], source=source, return_state=True)
    outcomes = state.result(raise_on_failure=False)
    if isinstance(outcomes, BaseException):
        raise UserError("ingest-files failed", str(outcomes), "see raw.load_runs for each file")
    for o in outcomes:
        if o.result is None:
            err.print(f"{o.path}: FAILED {o.error}")
        else:
            out.print(f"{o.path}: {landing_counts(o.result)}")
    if not all(o.ok for o in outcomes):
        raise typer.Exit(1)


def landing_counts(result: Any) -> str:
    """received = inserted + updated + unchanged + quarantined, in that order."""
    return (
        f"{result.received} received = {result.inserted} inserted + {result.updated} updated + "
        f"{result.unchanged} unchanged + {result.rejected} quarantined"
    )


# --- vendor flows --------------------------------------------------------------------------


def vendor_flow(command: str):
    """The Prefect flow behind `mdw ingest <command>`."""
    if command.startswith("polygon"):
        from flows import polygon

        return {
            "polygon-daily": polygon.polygon_daily_ingestion,
            "polygon-backfill": polygon.polygon_historical_backfill,
            "polygon-reference": polygon.polygon_reference_data,
        }[command]
    if command.startswith("yahoo"):
        from flows import yahoo

        return {"yahoo": yahoo.yahoo_market_data, "yahoo-company": yahoo.yahoo_company_data}[
            command
        ]
    raise ValueError(command)


def check_polygon_key(settings: Settings) -> None:
    from ingest.polygon.client import MissingApiKey, resolve_api_key

    try:
        resolve_api_key(settings)
    except MissingApiKey as exc:
        raise UserError(
            "no Polygon API key",
            str(exc).removeprefix("no Polygon API key: "),
            "export POLYGON_API_KEY=... (or create the Prefect Secret block) and rerun",
        ) from None


def run_vendor(command: str, options: dict[str, object]) -> None:
    """Run a vendor flow in this process against the stack; options left None use its defaults."""
    settings = get_settings()
    require_stack(settings)
    if command.startswith("polygon"):
        check_polygon_key(settings)
    flow_fn = vendor_flow(command)
    kwargs = {k: v for k, v in options.items() if v is not None}
    state = flow_fn(**kwargs, return_state=True)
    outcome = state.result(raise_on_failure=False)
    if isinstance(outcome, BaseException):
        raise UserError(f"{flow_fn.name} failed", str(outcome), "details in raw.load_runs")
    counts: dict[str, int] = {}
    for unit in outcome or []:
        status = getattr(unit, "status", "done")
        counts[status] = counts.get(status, 0) + 1
    summary = ", ".join(f"{n} {status}" for status, n in sorted(counts.items())) or "nothing to do"
    out.print(
        f"{flow_fn.name}: {state.name} ({summary}); details in raw.load_runs and the run's artifact"
    )
    if not state.is_completed():
        raise typer.Exit(1)


@app.command("polygon-daily")
def cmd_polygon_daily(
    symbols: Symbols = None,
    max_symbols: MaxSymbols = None,
    days_back: Annotated[
        int | None, typer.Option(min=1, help="sessions to fetch when nothing landed yet")
    ] = None,
    end: Annotated[
        date | None, date_option("last trading day (default: the last closed session)")
    ] = None,
    whole_market: Annotated[
        bool | None,
        typer.Option("--whole-market", help="keep every US ticker, not just the universe"),
    ] = None,
) -> None:
    """Polygon grouped-daily bars for every missing trading day."""
    run_vendor("polygon-daily", locals())


@app.command("polygon-backfill")
def cmd_polygon_backfill(
    symbols: Annotated[str, symbols_option("required")],
    start: Annotated[
        date | None, date_option("first calendar day (default: --end minus --days-back)")
    ] = None,
    end: Annotated[date | None, date_option("last calendar day (default: last closed)")] = None,
    days_back: Annotated[
        int | None, typer.Option(min=1, help="calendar days back when --start is not given")
    ] = None,
    chunk_days: Annotated[
        int | None, typer.Option(min=1, help="calendar days per request window")
    ] = None,
    max_symbols: MaxSymbols = None,
    include_actions: Annotated[
        bool | None,
        typer.Option("--actions/--no-actions", help="also land splits and dividends"),
    ] = None,
) -> None:
    """Polygon per-symbol daily history, chunked and resumable."""
    run_vendor("polygon-backfill", locals())


@app.command("polygon-reference")
def cmd_polygon_reference(
    symbols: Symbols = None,
    max_symbols: MaxSymbols = None,
    all_delisted: Annotated[
        bool | None, typer.Option("--all-delisted", help="list every delisted US ticker too")
    ] = None,
) -> None:
    """Polygon tickers (active/delisted), splits and dividends."""
    run_vendor("polygon-reference", locals())


@app.command("yahoo")
def cmd_yahoo(
    symbols: Symbols = None,
    max_symbols: MaxSymbols = None,
    days_back: Annotated[
        int | None, typer.Option(min=1, help="days of new data to request (default 7)")
    ] = None,
    interval: Annotated[
        str | None, typer.Option(help="intraday bar size: 1m 2m 5m 15m 30m 60m 90m 1h, or 1d")
    ] = None,
    include_daily: Annotated[
        bool | None, typer.Option("--daily/--no-daily", help="also land daily bars")
    ] = None,
    start: Annotated[date | None, date_option("first day of an explicit window")] = None,
    end: Annotated[
        date | None, date_option("day after the last day of the window (default: now)")
    ] = None,
) -> None:
    """Yahoo hourly (or --interval) and daily bars, splits and dividends."""
    run_vendor("yahoo", locals())


@app.command("yahoo-company")
def cmd_yahoo_company(symbols: Symbols = None, max_symbols: MaxSymbols = None) -> None:
    """Yahoo profiles, key statistics, statements, holders and officers."""
    run_vendor("yahoo-company", locals())
