"""`python -m bench` (`make bench`): the dbt indicator engine against the alternatives, side by side
in one run on its own PostgreSQL. See bench/README.md for what each figure measures."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.engine import URL

from bench import (
    backtest,
    baselines,
    cores,
    data,
    landing,
    peers,
    pipeline,
    report,
    statements,
    verify,
)
from bench.statements import StatementLog
from bench.warehouse import Dbt, DbtRun, Server, bench_server, execute, machine, scalar
from ingest.db import connect, migrate
from settings import PROJECT_ROOT

STARTED = time.perf_counter()

DEFAULT_DATA = PROJECT_ROOT.parent / "shared" / "data" / "prices" / "all_stocks_5yr.csv"
RESULTS = Path(__file__).resolve().parent / "results"
# The indicator engine and everything it reads: the mart view and all its ancestors. Not its
# other descendants (signals, ...): they are not the engine, and they may need models outside it.
SELECTION = "+fct_daily_indicators"
SIGNALS = "fct_signals"
# the recursive-CTE peer runs on all symbols; past PEER_TIMEOUT seconds, on this many (spread
# over the list), extrapolated by rows
PEER_EMA_SYMBOLS = 50
PEER_TIMEOUT = 600.0
WARM_UP_SELECTION = "stg_raw__daily_bars"
DBT_OUTPUT = "intermediate.int_daily_indicators_computed"
# Projection of the scale step: synthesising a bar costs about this much (measured 6.5 us/row on
# 2 busy cores, primary key rebuilt once), and the build is projected linearly from 1x. The
# projection only avoids starting what cannot finish; a statement timeout is the hard limit.
SYNTH_SECONDS_PER_ROW = 8e-6
SCALE_SAFETY = 1.0
MARGIN_SECONDS = 15.0


class BudgetExceeded(RuntimeError):
    pass


class Run:
    """Everything measured so far, and the progress log."""

    def __init__(self, budget: float) -> None:
        self.budget = budget
        self.log_file: StatementLog | None = None
        self.slowest: dict[str, list[dict[str, Any]]] = {}
        self.sql_seconds: dict[str, float] = {}
        self.seconds: dict[str, float] = {}
        self.rows: dict[str, int] = {}
        self.nodes: dict[str, list[dict[str, Any]]] = {}
        self.checks: list[verify.Check] = []
        self.notes: list[str] = []
        self.extra: dict[str, Any] = {}

    @staticmethod
    def elapsed() -> float:
        return time.perf_counter() - STARTED

    def remaining(self) -> float:
        return self.budget - self.elapsed()

    def log(self, message: str) -> None:
        print(f"[{self.elapsed():6.1f}s] {message}", flush=True)

    @contextmanager
    def watch(self, label: str) -> Iterator[None]:
        """Keep the slowest statements the server logged during the block."""
        start = self.log_file.offset() if self.log_file else 0
        try:
            yield
        finally:
            if self.log_file:
                text = self.log_file.since(start)
                self.slowest[label] = statements.slowest(text)
                self.sql_seconds[label] = round(statements.total_seconds(text), 4)

    def check(self, check: verify.Check) -> None:
        self.checks.append(check)
        self.log(f"  check {'ok' if check.ok else 'FAILED'}: {check.name} - {check.detail}")

    def dbt(self, dbt: Dbt, label: str, *args: str) -> DbtRun:
        self.log(f"dbt {' '.join(args)} ...")
        with self.watch(label):
            run = dbt.invoke(*args)
        self.nodes[label] = [asdict(n) for n in run.nodes]
        if not run.success:
            raise RuntimeError(
                f"dbt {' '.join(args)} failed after {run.seconds:.1f} s: {run.error}"
            )
        self.seconds[label] = run.seconds
        slowest = sorted(run.nodes, key=lambda n: -n.seconds)[:2]
        self.log(
            f"  {label}: {run.seconds:.2f} s ("
            + ", ".join(f"{n.name} {n.seconds:.2f} s" for n in slowest)
            + ")"
        )
        return run


def land(run: Run, url: URL, path: Path, label: str) -> None:
    with run.watch(label):
        seconds, inserted, rejected = landing.land_file(url, path)
    run.seconds[label] = seconds
    run.rows[f"{label}_inserted"] = inserted
    run.rows[f"{label}_rejected"] = rejected
    run.log(f"  {label}: {seconds:.2f} s ({inserted:,} inserted, {rejected} quarantined)")


def count(url: URL, relation: str) -> int:
    return int(scalar(url, f"select count(*) from {relation}"))  # type: ignore[arg-type]


def synthesize(url: URL, copies: int) -> None:
    """(copies + 1) x the landed bars: one INSERT..SELECT, the primary key rebuilt once."""
    conn = connect(url)
    try:
        with conn, conn.cursor() as cur:
            cur.execute(
                "select conname from pg_constraint"
                " where conrelid = 'raw.daily_bars'::regclass and contype = 'p'"
            )
            (pkey,) = cur.fetchone()
            cur.execute(f'alter table raw.daily_bars drop constraint "{pkey}"')
            cur.execute(data.synthesis_sql(copies))
            cur.execute(
                f'alter table raw.daily_bars add constraint "{pkey}"'
                " primary key (source, symbol, trade_date)"
            )
    finally:
        conn.close()
    execute(url, "vacuum analyze raw.daily_bars")


def full_history(run: Run, server: Server, dbt: Dbt, files: data.BenchFiles) -> None:
    url = server.url
    # 1. landing: ingest_file vs the lean upsert and a plain COPY of the same file (bench/landing)
    run.log(f"landing {files.history.name} ({files.history_rows:,} rows) ...")
    for label, step in (
        ("landing_copy", landing.copy_into_empty_table),
        ("landing_upsert", landing.lean_upsert),
    ):
        with run.watch(label):
            run.seconds[label] = step(url, files.history)
        run.log(f"  {label}: {run.seconds[label]:.2f} s")
    land(run, url, files.history, "landing_ingest_file")
    run.rows["landing_file"] = files.history_rows
    execute(url, "vacuum analyze raw.daily_bars")

    # 2. full build: dbt (after one warm-up invocation) vs Python
    run.dbt(dbt, "dbt_warmup", "run", "--select", WARM_UP_SELECTION)
    run.dbt(dbt, "dbt_full_1x", "run", "--full-refresh", "--select", SELECTION)
    run.rows["bars_1x"] = count(url, "raw.daily_bars")
    run.log("Python full build (asyncpg read, TA-Lib per symbol, binary COPY) ...")
    with run.watch("python_full_1x"):
        build = asyncio.run(baselines.python_full_build(server.dsn))
    run.seconds.update(
        python_full_1x=build.seconds,
        python_read=build.read_seconds,
        python_compute=build.compute_seconds,
        python_write=build.write_seconds,
    )
    run.log(
        f"  python_full_1x: {build.seconds:.2f} s (read {build.read_seconds:.2f}, "
        f"TA-Lib {build.compute_seconds:.2f}, write {build.write_seconds:.2f})"
    )
    run.check(
        verify.row_count_check(
            "full build: row counts",
            {
                "raw": run.rows["bars_1x"],
                "dbt": count(url, verify.DBT_INDICATORS),
                "python": count(url, f"{baselines.SCHEMA}.{baselines.TABLE}"),
            },
        )
    )
    run.check(asyncio.run(verify.full_build_agrees(server.dsn)))
    split_over_cores(run, server, dbt)
    compare_peers(run, server)
    # the floor of any dbt invocation: one trivial view model, the same invocation style (its
    # definition unchanged, so kept, as the no-op run keeps its views)
    run.dbt(dbt, "dbt_floor", "run", "--select", WARM_UP_SELECTION)
    # the signals exist before the increments (their incremental time is measured at 10x)
    run.dbt(dbt, "dbt_signals_1x", "run", "--select", SIGNALS)


def split_over_cores(run: Run, server: Server, dbt: Dbt) -> None:
    """The same full build in one statement: the split one (dbt_full_1x) must equal it. Compared
    by the engine node's seconds (a run with other --vars parses the project again)."""
    run.extra["engine_buckets_1x"] = cores.buckets_used(dbt.work_dir / "target" / "compiled")
    run.seconds["engine_full_1x"] = cores.engine_seconds(run.nodes["dbt_full_1x"])
    split = cores.table_digest(server.url)
    run.dbt(
        dbt,
        "dbt_full_1x_one_statement",
        *("run", "--full-refresh", "--select", SELECTION, "--vars", cores.ONE_STATEMENT),
    )
    run.seconds["engine_full_1x_one_statement"] = cores.engine_seconds(
        run.nodes["dbt_full_1x_one_statement"]
    )
    run.check(cores.same_tables_check(split, cores.table_digest(server.url)))
    # back to the project's vars: dbt parses the project again, here rather than in a timed step
    run.dbt(dbt, "dbt_warmup_again", "run", "--select", WARM_UP_SELECTION)


def compare_peers(run: Run, server: Server) -> None:
    url = server.url
    symbols = [
        str(s) for s in data.pick_symbols([str(r) for r in distinct_symbols(url)], PEER_EMA_SYMBOLS)
    ]
    run.log(
        "peers: moving-frame avg/stddev/RSI (numeric, float8), recursive-CTE EMA 12/26 "
        f"(all symbols, or {len(symbols)} past {PEER_TIMEOUT:.0f} s) ..."
    )
    with run.watch("peers"):
        result = peers.run_peers(url, symbols, verify.DBT_INDICATORS, PEER_TIMEOUT)
    run.seconds.update(
        peer_frames_numeric=result.frames_numeric,
        peer_frames_float8=result.frames_float8,
        peer_ema_recursive_subset=result.ema_subset,
        peer_ema_recursive_extrapolated=result.ema_extrapolated,
        peer_sql_total=result.sql_total,
    )
    run.rows.update(peer_ema_subset_rows=result.ema_subset_rows, peer_rows=result.frames_rows)
    run.log(
        f"  frames numeric {result.frames_numeric:.2f} s, float8 {result.frames_float8:.2f} s; "
        f"recursive EMA {result.ema_subset:.2f} s on {result.ema_subset_rows:,} rows "
        f"-> {result.ema_extrapolated:.1f} s extrapolated to {result.all_rows:,}"
    )
    run.check(
        verify.Check(
            "peers: same rows, their SMAs equal the engine's (1e-9)",
            result.frames_rows == result.all_rows and result.sma_mismatches == 0,
            f"{result.frames_rows:,} rows for {result.all_rows:,}; "
            f"{result.sma_mismatches} SMA differences",
        )
    )
    if result.ema_symbols is not None:
        run.notes.append(
            f"peer_sql_ratio: the peers' recursive-CTE EMA exceeded {PEER_TIMEOUT:.0f} s on all "
            f"symbols; it ran on {result.ema_symbols} symbols ({result.ema_subset_rows:,} rows, "
            f"{result.ema_subset:.1f} s) and is extrapolated by rows to all "
            f"{result.all_rows:,} ({result.ema_extrapolated:.0f} s)."
        )


def distinct_symbols(url: URL) -> list[str]:
    conn = connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute("select distinct symbol from raw.daily_bars order by symbol")
            return [r[0] for r in cur.fetchall()]
    finally:
        conn.close()


def increment(run: Run, server: Server, dbt: Dbt, files: data.BenchFiles) -> None:
    url = server.url
    day = date.fromisoformat(files.last_date)
    run.log(f"daily increment: landing {files.last_date} ({files.last_day_rows} rows) ...")
    land(run, url, files.last_day, "land_last_day")
    run.dbt(dbt, "dbt_increment", "run", "--select", SELECTION)
    run.log(f"seed style: per symbol, fetch {baselines.SEED_DAYS_BACK} bars, TA-Lib, upsert ...")
    seed = asyncio.run(baselines.seed_style_increment(server.dsn, day))
    run.seconds["seed_style_increment"] = seed.seconds
    run.rows["seed_style_rows_upserted"] = seed.rows_upserted
    run.log(
        f"  seed_style_increment: {seed.seconds:.2f} s ({seed.symbols} symbols, "
        f"{seed.rows_upserted} rows upserted)"
    )
    run.log("seed style as usually written (SQLAlchemy + pandas.read_sql per symbol) ...")
    run.seconds["seed_style_pandas"], upserted = baselines.seed_style_pandas(url, day)
    run.log(
        f"  seed_style_pandas: {run.seconds['seed_style_pandas']:.2f} s ({upserted} rows upserted)"
    )
    if upserted != seed.rows_upserted:
        raise RuntimeError(
            f"seed style (pandas) upserted {upserted} rows, the lean one {seed.rows_upserted}"
        )
    run.rows["bars_after_increment"] = count(url, "raw.daily_bars")
    run.check(
        verify.row_count_check(
            "increment: row counts",
            {"raw": run.rows["bars_after_increment"], "dbt": count(url, verify.DBT_INDICATORS)},
        )
    )
    checked = asyncio.run(verify.increment_agrees(server.dsn, day, seed.values))
    run.check(checked.check)
    # the increment's fixed cost: the same run again with nothing new
    run.dbt(dbt, "dbt_increment_noop", "run", "--select", SELECTION)
    run.extra["seed_style_max_rel_error"] = {
        k: float(f"{v:.3g}") for k, v in checked.seed_style_max_rel_error.items()
    }
    errors = checked.seed_style_max_rel_error
    worst = ", ".join(f"{c} {errors[c]:.2g}" for c in sorted(errors, key=lambda c: -errors[c])[:3])
    run.notes.append(
        f"The seed style is not exact: its {baselines.SEED_DAYS_BACK}-bar window "
        f"restarts OBV and the EMA recursions (worst relative errors: {worst}); the "
        "dbt increment continues the stored state and equals a full refresh."
    )


def scale(run: Run, server: Server, dbt: Dbt, factor: int) -> None:
    url = server.url
    bars = run.rows["bars_after_increment"]
    synth_rows = bars * (factor - 1)
    projected_synth = synth_rows * SYNTH_SECONDS_PER_ROW
    # two builds at that size: the new symbols incrementally, then a full refresh
    projected_build = 2 * run.seconds["dbt_full_1x"] * factor * SCALE_SAFETY
    budget_left = run.remaining() - MARGIN_SECONDS
    run.log(
        f"scale {factor}x: projected {projected_synth:.0f} s to synthesise "
        f"{synth_rows:,} bars + {projected_build:.0f} s to build; {budget_left:.0f} s left"
    )
    if projected_synth + projected_build > budget_left:
        raise BudgetExceeded(
            f"{factor}x step skipped: projected {projected_synth + projected_build:.0f} s "
            f"(synthesis + 2 builds at {factor * SCALE_SAFETY:g} x the 1x build) exceeds the "
            f"{budget_left:.0f} s left of the {run.budget:.0f} s budget"
        )
    started = time.perf_counter()
    synthesize(url, factor - 1)
    run.seconds["scale_synthesis"] = time.perf_counter() - started
    run.rows[f"bars_{factor}x"] = count(url, "raw.daily_bars")
    run.rows[f"symbols_{factor}x"] = count(url, "(select distinct symbol from raw.daily_bars) s")
    run.log(
        f"  scale_synthesis: {run.rows[f'bars_{factor}x']:,} bars in "
        f"{run.seconds['scale_synthesis']:.1f} s"
    )
    # bound the build by what is left of the budget: a statement that runs longer is cancelled
    limit_ms = int(max(run.remaining() - MARGIN_SECONDS, 1.0) * 1000)
    execute(url, f"alter database {url.database} set statement_timeout = {limit_ms}")
    try:
        # the new symbols arrive incrementally: the engine, then the signals over them
        many = run.dbt(dbt, "dbt_many_symbols", "run", "--select", f"{SELECTION} {SIGNALS}")
        timings = {n.name: n.seconds for n in many.nodes}
        run.seconds["engine_many_symbols"] = timings["int_daily_indicators_computed"]
        run.seconds["signals_many_symbols"] = timings[SIGNALS]
        run.dbt(dbt, f"dbt_full_{factor}x", "run", "--full-refresh", "--select", SELECTION)
    except RuntimeError as exc:
        if "statement timeout" in str(exc):
            raise BudgetExceeded(
                f"{factor}x build cancelled after {limit_ms / 1000:.0f} s "
                "(what was left of the budget)"
            ) from exc
        raise
    finally:
        execute(url, f"alter database {url.database} reset statement_timeout")
    run.check(
        verify.row_count_check(
            f"scale {factor}x: row counts",
            {"raw": run.rows[f"bars_{factor}x"], "dbt": count(url, DBT_OUTPUT)},
        )
    )
    run.extra["scale_rows_ratio"] = round(run.rows[f"bars_{factor}x"] / run.rows["bars_1x"], 4)
    increment_at_scale(run, server, dbt, factor)


def increment_at_scale(run: Run, server: Server, dbt: Dbt, factor: int) -> None:
    """One new day for every symbol at the scaled size: dbt incremental vs the seed style."""
    url = server.url
    last = scalar(url, "select max(trade_date) from raw.daily_bars")
    day = last + timedelta(days=3 if last.weekday() == 4 else 1)  # type: ignore[operator]
    run.log(f"increment at {factor}x: one new bar on {day} for every symbol ...")
    execute(url, data.next_day_sql(day.isoformat()), "analyze raw.daily_bars")
    run.dbt(dbt, f"dbt_increment_{factor}x", "run", "--select", SELECTION)
    seed = asyncio.run(baselines.seed_style_increment(server.dsn, day))
    run.seconds[f"seed_style_increment_{factor}x"] = seed.seconds
    run.log(f"  seed_style_increment_{factor}x: {seed.seconds:.2f} s ({seed.symbols} symbols)")
    checked = asyncio.run(verify.increment_agrees(server.dsn, day, seed.values))
    run.check(
        verify.Check(
            f"increment at {factor}x: " + checked.check.name.split(": ", 1)[-1],
            checked.check.ok,
            checked.check.detail,
        )
    )


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    p.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the bars file (CSV)")
    p.add_argument(
        "--symbols",
        type=int,
        default=None,
        help="only N symbols, spread over the list (for development)",
    )
    p.add_argument("--scale", type=int, default=10, help="the scale step's factor (0: skip it)")
    p.add_argument(
        "--budget",
        type=float,
        default=3600.0,
        help="seconds the whole run may take; the scale step is skipped or cancelled "
        "when it would not fit (default 3600)",
    )
    p.add_argument(
        "--out",
        type=Path,
        default=None,
        help="results JSON (default bench/results/latest.json; with --symbols, "
        "bench/results/subset-N.json)",
    )
    p.add_argument("--keep", action="store_true", help="keep the temporary MDW_HOME")
    p.add_argument(
        "--no-pipeline",
        action="store_true",
        help="skip the pipeline keys (a stack by `mdw up`; skipped with --symbols too; "
        "`python -m bench.pipeline` measures them alone)",
    )
    return p.parse_args(argv)


def write_result(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    out = args.out or RESULTS / (
        "latest.json" if args.symbols is None else f"subset-{args.symbols}.json"
    )
    run = Run(args.budget)
    failure: str | None = None
    info: dict[str, Any] = {}
    skip_pipeline = args.no_pipeline or args.symbols is not None  # development runs skip it
    pipeline_failure = None if skip_pipeline else pipeline.step(run)
    with tempfile.TemporaryDirectory(prefix="mdw-bench-files-") as scratch:
        run.log(f"preparing {args.data} ...")
        started = time.perf_counter()
        files = data.prepare_files(args.data, Path(scratch), args.symbols)
        run.seconds["prepare_files"] = time.perf_counter() - started
        run.rows.update(
            symbols=files.symbols,
            file_rows=files.rows,
            history_rows=files.history_rows,
            last_day_rows=files.last_day_rows,
        )
        run.log(
            f"  {files.symbols} symbols: {files.history_rows:,} history rows before "
            f"{files.last_date}, {files.last_day_rows} rows on it"
        )
        try:
            started = time.perf_counter()
            with bench_server(keep=args.keep) as server:
                run.seconds["server_start"] = time.perf_counter() - started
                run.log(
                    f"PostgreSQL on 127.0.0.1:{server.settings.pg_port} (MDW_HOME {server.home})"
                )
                info = machine(server.url)
                migrate(server.url)
                # every statement's duration goes to the server log: where the time goes
                execute(
                    server.url,
                    f"alter database {server.url.database} set log_min_duration_statement = 0",
                )
                run.log_file = StatementLog(server.settings.pgdata / "server.log")
                dbt = Dbt(server.url, server.home / "dbt")
                try:
                    full_history(run, server, dbt, files)
                    backtest.full(run, server, dbt)  # the strategy marts (bench/backtest.py)
                    increment(run, server, dbt, files)
                    backtest.increment(run, server, dbt)
                    if args.scale > 1:
                        scale(run, server, dbt, args.scale)
                except BudgetExceeded as exc:
                    run.notes.append(str(exc))
                    run.log(f"  {exc}")
                run.log("stopping PostgreSQL ...")
        except Exception as exc:  # report what was measured, then fail
            failure = f"{type(exc).__name__}: {exc}"
            run.notes.append(f"the run failed: {failure}")
    failure = failure or pipeline_failure
    run.seconds["total"] = run.elapsed()
    if info:
        info["load_average_1m_at_end"] = round(os.getloadavg()[0], 2)
    run.notes.append(
        "dbt seconds are the in-process invocation (after one warm-up invocation): "
        "on-run-start hook, view refreshes and the models; node timings below."
    )
    options = {
        "data": args.data.name,
        "symbols": args.symbols,
        "scale": args.scale,
        "budget_seconds": args.budget,
        "selection": SELECTION,
    }
    result = report.build_result(
        seconds=run.seconds,
        rows=run.rows,
        machine=info,
        dbt_nodes=run.nodes,
        checks=[asdict(c) for c in run.checks],
        notes=run.notes,
        options=options,
        extra={**run.extra, "sql_seconds": run.sql_seconds, "slowest_statements": run.slowest},
    )
    print()
    print(report.to_markdown(result), flush=True)
    if failure is None:
        write_result(out, report.to_json(result))
        shown = out.relative_to(PROJECT_ROOT) if out.is_relative_to(PROJECT_ROOT) else out
        print(f"results: {shown} (total {run.seconds['total']:.0f} s)")
    else:
        print(f"FAILED: {failure}", file=sys.stderr)
        return 1
    if result["verified"] is False:
        print("FAILED: a correctness check failed (see Checks)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
