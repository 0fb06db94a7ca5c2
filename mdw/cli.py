"""`mdw`: the local stack - up, down, status, env, demo, ingest."""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import date
from pathlib import Path

from mdw import services
from mdw.envvars import shell_exports, stack_environment, write_activate
from settings import Settings, get_settings


def _use_stack(settings: Settings) -> None:
    """Make this process a client of the stack (Prefect API, dbt profile, warehouse URL)."""
    os.environ.update(stack_environment(settings))


def cmd_up(settings: Settings) -> int:
    from mdw import stack

    return stack.up(settings)


def cmd_down(settings: Settings) -> int:
    from mdw import stack

    return stack.down(settings)


def cmd_status(settings: Settings) -> int:
    from mdw import stack

    return stack.status(settings)


def cmd_backup(settings: Settings, output: Path | None) -> int:
    from mdw.backup import backup_stack

    for archive in backup_stack(settings, output):
        print(
            f"{archive.database:<10} {archive.path}  {archive.bytes / 1e6:.1f} MB, "
            f"{archive.entries} tables (verified with pg_restore --list)"
        )
    print(f"kept the last {settings.backup_keep} of each (MDW_BACKUP_KEEP)")
    return 0


def cmd_restore(settings: Settings, path: Path, yes: bool) -> int:
    from mdw.backup import restore_stack

    restore_stack(settings, path, yes)
    print(f"restored {settings.warehouse.database} from {path}")
    return 0


def cmd_schedule(settings: Settings, action: str, deployment: str) -> int:
    if not services.server_healthy(settings):
        print("the stack is not up: run `mdw up` first", file=sys.stderr)
        return 2
    schedules = services.set_schedule_active(settings, deployment, action == "enable")
    for sched in schedules:
        spec = sched["schedule"]
        what = spec.get("cron") or f"every {spec.get('interval')} s"
        state = "active" if sched["active"] else "inactive"
        print(f"{deployment}: {what} ({spec.get('timezone') or 'UTC'}) {state}")
    return 0


def cmd_env(settings: Settings, write: bool) -> int:
    if write:
        venv = _venv()
        path = write_activate(settings, venv) if venv else None
        print(f"# written to {path}" if path else "# no virtual environment to write to")
    sys.stdout.write(shell_exports(settings))
    return 0


def _venv() -> Path | None:
    return Path(sys.prefix) if sys.prefix != sys.base_prefix else None


def cmd_demo(settings: Settings, timeout: float) -> int:
    cmd_up(settings)
    _use_stack(settings)
    from mdw.demo import print_summary, run_pipeline_sample

    started = time.monotonic()
    flow_run = run_pipeline_sample(timeout)
    venv = _venv()
    if venv:
        write_activate(settings, venv)
    return print_summary(settings, flow_run, time.monotonic() - started)


def cmd_ingest_files(settings: Settings, paths: list[str], source: str) -> int:
    if not services.server_healthy(settings):
        print("the stack is not up: run `mdw up` first", file=sys.stderr)
        return 2
    _use_stack(settings)
    from flows.ingest_files import ingest_files

    missing = [p for p in paths if not Path(p).exists()]
    for p in missing:
        print(f"warning: {p} does not exist (recorded as a failed load)", file=sys.stderr)
    state = ingest_files([str(Path(p).resolve()) for p in paths], source=source, return_state=True)
    outcomes = state.result(raise_on_failure=False)
    if isinstance(outcomes, BaseException):
        print(f"ingest-files failed: {outcomes}", file=sys.stderr)
        return 1
    for o in outcomes:
        if o.result is None:
            print(f"{o.path}: FAILED {o.error}")
        else:
            r = o.result
            print(
                f"{o.path}: {r.received} received, {r.inserted} inserted, "
                f"{r.updated} updated, {r.rejected} quarantined"
            )
    return 0 if all(o.ok for o in outcomes) else 1


def _symbols(value: str) -> list[str]:
    return [v.strip().upper() for v in value.split(",") if v.strip()]


def _date(value: str) -> date:
    return date.fromisoformat(value)


def cmd_ingest_vendor(settings: Settings, command: str, options: dict[str, object]) -> int:
    """Run a vendor flow in this process against the stack (it shows up in the Prefect UI)."""
    if not services.server_healthy(settings):
        print("the stack is not up: run `mdw up` first", file=sys.stderr)
        return 2
    _use_stack(settings)
    flow_fn = _vendor_flow(command)
    kwargs = {k: v for k, v in options.items() if v is not None}
    state = flow_fn(**kwargs, return_state=True)
    outcome = state.result(raise_on_failure=False)
    if isinstance(outcome, BaseException):
        print(f"{flow_fn.name} failed: {outcome}", file=sys.stderr)
        return 1
    counts: dict[str, int] = {}
    for unit in outcome or []:
        status = getattr(unit, "status", "done")
        counts[status] = counts.get(status, 0) + 1
    summary = ", ".join(f"{n} {status}" for status, n in sorted(counts.items())) or "nothing to do"
    print(
        f"{flow_fn.name}: {state.name} ({summary}); details in raw.load_runs and the run's artifact"
    )
    return 0 if state.is_completed() else 1


def _vendor_flow(command: str):
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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mdw", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser(
        "up", help="start PostgreSQL, the Prefect server, work pools and workers (idempotent)"
    )
    sub.add_parser("down", help="stop what `up` started (data is kept)")
    sub.add_parser("status", help="show each part of the stack and its health")
    bk = sub.add_parser("backup", help="pg_dump the warehouse and the Prefect database")
    bk.add_argument(
        "--output", type=Path, help="folder for the archives (default MDW_HOME/backups)"
    )
    rs = sub.add_parser("restore", help="replace the warehouse with a backup archive")
    rs.add_argument("path", type=Path, help="a warehouse-*.dump archive of `mdw backup`")
    rs.add_argument("--yes", action="store_true", help="yes, replace the warehouse")
    sc = sub.add_parser("schedule", help="turn a deployment's schedule on or off (kept across up)")
    sc.add_argument("action", choices=["enable", "disable"])
    sc.add_argument("deployment", help="flow/deployment, e.g. pipeline/daily")
    env = sub.add_parser("env", help="print the shell exports the stack uses")
    env.add_argument(
        "--write-activate",
        action="store_true",
        help="also put them into this virtualenv's bin/activate",
    )
    demo = sub.add_parser("demo", help="up, then run pipeline/sample through Prefect and summarise")
    demo.add_argument("--timeout", type=float, default=900.0, help="seconds to wait for the run")
    ingest = sub.add_parser("ingest", help="land data into the running stack")
    ingest_sub = ingest.add_subparsers(dest="ingest_command", required=True)
    files = ingest_sub.add_parser("files", help="land canonical CSV/Parquet files (ingest-files)")
    files.add_argument("paths", nargs="+", help="files with symbol,date,open,high,low,close,volume")
    files.add_argument("--source", default="files", help="value of raw.daily_bars.source")

    daily = ingest_sub.add_parser(
        "polygon-daily", help="Polygon grouped-daily bars for every missing trading day"
    )
    daily.add_argument("--symbols", type=_symbols, help="comma-separated; default: the universe")
    daily.add_argument("--max-symbols", type=int)
    daily.add_argument("--days-back", type=int, help="sessions to fetch when nothing landed yet")
    daily.add_argument("--end", type=_date, help="last trading day (default: last closed)")
    daily.add_argument(
        "--whole-market",
        action="store_true",
        default=None,
        help="keep every US ticker, not just the universe",
    )
    backfill = ingest_sub.add_parser(
        "polygon-backfill", help="Polygon per-symbol history, chunked and resumable"
    )
    backfill.add_argument("--symbols", type=_symbols, required=True, help="comma-separated")
    backfill.add_argument("--start", type=_date)
    backfill.add_argument("--end", type=_date)
    backfill.add_argument("--days-back", type=int, help="when --start is not given")
    backfill.add_argument("--chunk-days", type=int)
    backfill.add_argument("--max-symbols", type=int)
    backfill.add_argument(
        "--no-actions",
        dest="include_actions",
        action="store_false",
        default=None,
        help="skip splits and dividends",
    )
    ref = ingest_sub.add_parser(
        "polygon-reference", help="Polygon tickers (active/delisted), splits and dividends"
    )
    ref.add_argument("--symbols", type=_symbols)
    ref.add_argument("--max-symbols", type=int)
    ref.add_argument("--all-delisted", action="store_true", default=None)

    market = ingest_sub.add_parser(
        "yahoo", help="Yahoo hourly (or --interval) and daily bars, splits and dividends"
    )
    market.add_argument("--symbols", type=_symbols, help="comma-separated; default: the universe")
    market.add_argument("--max-symbols", type=int)
    market.add_argument("--days-back", type=int, help="days of new data to request (default 7)")
    market.add_argument("--interval", help="intraday interval (default 1h)")
    market.add_argument("--no-daily", dest="include_daily", action="store_false", default=None)
    market.add_argument("--start", type=_date)
    market.add_argument("--end", type=_date)
    company = ingest_sub.add_parser(
        "yahoo-company", help="Yahoo profiles, key statistics, statements, holders, officers"
    )
    company.add_argument("--symbols", type=_symbols)
    company.add_argument("--max-symbols", type=int)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    settings = get_settings()
    try:
        if args.command == "up":
            return cmd_up(settings)
        if args.command == "down":
            return cmd_down(settings)
        if args.command == "status":
            return cmd_status(settings)
        if args.command == "backup":
            return cmd_backup(settings, args.output)
        if args.command == "restore":
            return cmd_restore(settings, args.path, args.yes)
        if args.command == "schedule":
            return cmd_schedule(settings, args.action, args.deployment)
        if args.command == "env":
            return cmd_env(settings, args.write_activate)
        if args.command == "demo":
            return cmd_demo(settings, args.timeout)
        if args.command == "ingest" and args.ingest_command == "files":
            return cmd_ingest_files(settings, args.paths, args.source)
        if args.command == "ingest":
            options = {
                k: v for k, v in vars(args).items() if k not in ("command", "ingest_command")
            }
            return cmd_ingest_vendor(settings, args.ingest_command, options)
    except RuntimeError as exc:
        print(f"mdw {args.command}: {exc}", file=sys.stderr)
        return 1
    return 2


if __name__ == "__main__":
    sys.exit(main())
