"""`mdw ingest ...`: land data into the running stack (each run shows up in the Prefect UI).

The flows run in this process; their logs go to the Prefect API (the UI shows them), not to the
terminal (`mdw --debug` shows them too). What the terminal gets is one line per file, or one
line for a vendor run: its summary, or - exit code 1 - what did not land in full, why, and what
to do (flows.outcomes words it).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ingest.outcomes import Counts, Outcome, tally
from mdw.client import require_stack
from mdw.console import err, out
from mdw.errors import UserError
from mdw.options import MaxSymbols, Symbols, date_option, parse_symbols, symbols_option
from mdw.progress import flow_logs_to_api, watch_copy
from settings import Settings, get_settings

if TYPE_CHECKING:
    from prefect.states import State

app = typer.Typer(
    name="ingest",
    help="Land data into the running stack (start it with `mdw up`).",
    no_args_is_help=True,
)

DaysBack = Annotated[int | None, typer.Option(min=1, help="how far back to go, in days")]


def register(root: typer.Typer) -> None:
    root.add_typer(app)


def debug_of(ctx: typer.Context) -> bool:
    return bool((ctx.find_root().obj or {}).get("debug"))


def landed_line(o: Outcome) -> str:
    """What a unit did in one line: its counts, then what to know (its failures and notes -
    the ready query of its quarantined rows among them)."""
    if not o.counts.received and o.error:
        return o.error
    return o.counts.line() + (f"; {o.error}" if o.error else "")


def outcomes_of(name: str, state: State) -> list[Outcome]:
    """The outcomes a landing run carries, Completed or Failed; one line when it carries none
    (the run itself failed: the warehouse is down, a bug)."""
    result = state.result(raise_on_failure=False)
    if isinstance(result, list):
        return result
    why = (state.message or str(result) or "no message").strip().splitlines()[0]
    raise UserError(
        f"{name} {state.name}", why, "check `mdw status`; the run's logs are in the Prefect UI"
    )


# --- files ---------------------------------------------------------------------------------


def unusable_paths(paths: list[Path]) -> list[str]:
    """Paths that cannot be files of bars at all (checked before a run), each said in words."""
    wrong = []
    for p in paths:
        if p.is_dir():
            wrong.append(f"{p} is a directory, not a file (give the files in it: {p}/*.csv)")
        elif not p.exists():
            wrong.append(f"file not found: {p}")
    return wrong


def _one_symbol(value: str | None) -> str | None:
    if value is None:
        return None
    symbols = parse_symbols(value)
    if len(symbols) != 1:
        raise typer.BadParameter(f"{value!r}: give one symbol (the file's), e.g. NVDA")
    return symbols[0]


@app.command("files")
def cmd_files(
    ctx: typer.Context,
    paths: Annotated[
        list[Path],
        typer.Argument(
            help="CSV or Parquet files with symbol,date,open,high,low,close,volume columns",
            metavar="FILE...",
        ),
    ],
    source: Annotated[str, typer.Option(help="value written to raw.daily_bars.source")] = "files",
    symbol: Annotated[
        str | None,
        typer.Option(
            callback=_one_symbol,
            metavar="SYM",
            help="the symbol of files without a symbol column (files of one symbol)",
        ),
    ] = None,
) -> None:
    """Land CSV/Parquet daily-bar files (flow ingest-files)."""
    wrong = unusable_paths(paths)
    if wrong:
        # Checked before any flow runs: a typo is neither a format error nor a Completed run.
        raise UserError(
            "; ".join(wrong),
            f"relative paths are read from {Path.cwd()}",
            "check the paths; nothing was landed",
        )
    settings = get_settings()
    require_stack(settings)
    from flows.ingest_files import ingest_files

    label = paths[0].name if len(paths) == 1 else f"{len(paths)} files"
    sizes = [p.stat().st_size for p in paths]
    with watch_copy(settings.warehouse, sizes, label), flow_logs_to_api(debug_of(ctx)):
        state = ingest_files(
            [str(p.resolve()) for p in paths], source=source, symbol=symbol, return_state=True
        )
    for o in outcomes_of("ingest-files", state):
        if o.ok:
            out.print(f"{o.source_uri}: {landed_line(o)}", markup=False)
        else:
            err.print(
                f"mdw: {o.source_uri}: {o.label}: {landed_line(o)}; fix the file and land it "
                "again (the attempt is in raw.load_runs)",
                markup=False,
            )
    if not state.is_completed():
        raise typer.Exit(1)


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
    from flows.keys import MissingApiKey, resolve_api_key

    try:
        resolve_api_key(settings)
    except MissingApiKey as exc:
        raise UserError(
            "no Polygon API key",
            str(exc).removeprefix("no Polygon API key: "),
            "export POLYGON_API_KEY=... (or create the Prefect Secret block) and rerun",
        ) from None


def run_vendor(command: str, options: dict[str, object], debug: bool = False) -> None:
    """Run a vendor flow in this process against the stack; options left None use its defaults.
    One line: the run's summary, or (exit 1) what did not land in full and why."""
    settings = get_settings()
    require_stack(settings)
    if command.startswith("polygon"):
        check_polygon_key(settings)
    flow_fn = vendor_flow(command)
    kwargs = {k: v for k, v in options.items() if v is not None and k != "ctx"}
    with flow_logs_to_api(debug):
        state = flow_fn(**kwargs, return_state=True)
    outcomes = outcomes_of(flow_fn.name, state)
    if not state.is_completed():
        raise UserError(
            f"{flow_fn.name} {state.name}",
            state.message or "",
            "check the vendor (network, key, symbols) and rerun: what landed stays landed; "
            "every unit is in raw.load_runs",
        )
    total = Counts.total(o.counts for o in outcomes)
    out.print(
        f"{flow_fn.name}: {state.name} ({tally(outcomes) or 'nothing to do'}); rows: "
        f"{total.line()}; details in raw.load_runs and the run's artifact",
        markup=False,
    )


@app.command("polygon-daily")
def cmd_polygon_daily(
    ctx: typer.Context,
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
    max_days: Annotated[
        int | None,
        typer.Option(min=1, help="request at most this many trading days per run (default 30)"),
    ] = None,
) -> None:
    """Polygon grouped-daily bars for every missing trading day."""
    run_vendor("polygon-daily", locals(), debug_of(ctx))


@app.command("polygon-backfill")
def cmd_polygon_backfill(
    ctx: typer.Context,
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
    run_vendor("polygon-backfill", locals(), debug_of(ctx))


@app.command("polygon-reference")
def cmd_polygon_reference(
    ctx: typer.Context,
    symbols: Symbols = None,
    max_symbols: MaxSymbols = None,
    all_delisted: Annotated[
        bool | None, typer.Option("--all-delisted", help="list every delisted US ticker too")
    ] = None,
) -> None:
    """Polygon tickers (active/delisted), splits and dividends."""
    run_vendor("polygon-reference", locals(), debug_of(ctx))


@app.command("yahoo")
def cmd_yahoo(
    ctx: typer.Context,
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
    run_vendor("yahoo", locals(), debug_of(ctx))


@app.command("yahoo-company")
def cmd_yahoo_company(
    ctx: typer.Context, symbols: Symbols = None, max_symbols: MaxSymbols = None
) -> None:
    """Yahoo profiles, key statistics, statements, holders and officers."""
    run_vendor("yahoo-company", locals(), debug_of(ctx))
