"""The landing step of `make bench`: `ingest_file` against what anyone would write instead.

- `landing_upsert` (the goal's reference, issue 17): the lean alternative on the same file -
  COPY into a typed temporary table, then one `INSERT ... ON CONFLICT DO UPDATE` into the keyed
  raw table (rows with a missing value skipped, as a NOT NULL column forces; no other check, no
  quarantine, no record). `landing_vs_upsert` = ingest_file rows/s / this, goal >= 0.6.
- `landing_copy` (context, no goal): a bare COPY into an empty table without keys.
- `landing_ingest_file`: the landing itself - every check, the quarantine, the load-run rows.

Each starts from an empty raw.daily_bars in the same database, one after the other.
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path

from sqlalchemy.engine import URL

from bench.warehouse import execute
from ingest.db import connect
from ingest.files import map_header
from ingest.landing import ingest_file

TYPES = {"symbol": "text", "date": "date"}  # everything else numeric; ignored columns text


def _header(path: Path) -> list[str]:
    with path.open(newline="", encoding="utf-8-sig") as fh:
        return fh.readline().strip().split(",")


def _typed_columns(path: Path) -> tuple[list[str], str]:
    """(the file's columns by canonical name, their typed DDL)."""
    names = map_header(_header(path))
    ddl = ", ".join(
        f'"{n}" {TYPES.get(n, "text" if n.startswith("_") else "numeric")}' for n in names
    )
    return names, ddl


def _timed_copy(url: URL, statements: list[str], copy_sql: str, path: Path) -> float:
    conn = connect(url)
    try:
        started = time.perf_counter()
        with conn, conn.cursor() as cur, path.open("rb") as stream:
            for sql in statements[:-1]:
                cur.execute(sql)
            cur.copy_expert(copy_sql, stream, size=1 << 16)
            cur.execute(statements[-1])
        return time.perf_counter() - started
    finally:
        conn.close()


def copy_into_empty_table(url: URL, path: Path) -> float:
    """A plain COPY of the file into an empty typed table without keys (seconds)."""
    names, ddl = _typed_columns(path)
    execute(url, "drop schema if exists bench_copy cascade", "create schema bench_copy")
    cols = ", ".join(f'"{n}"' for n in names)
    seconds = _timed_copy(
        url,
        [f"create table bench_copy.daily_bars ({ddl})", "select 1"],
        f"copy bench_copy.daily_bars ({cols}) from stdin with (format csv, header true)",
        path,
    )
    execute(url, "drop schema bench_copy cascade")
    return seconds


LEAN_UPSERT = """
insert into raw.daily_bars as b (source, symbol, trade_date, open, high, low, close, volume,
                                 load_run_id)
select 'lean', upper(symbol), date, open, high, low, close, volume, '{run_id}'
from _lean
where symbol is not null and date is not null and open is not null and high is not null
  and low is not null and close is not null and volume is not null
on conflict (source, symbol, trade_date) do update
    set open = excluded.open, high = excluded.high, low = excluded.low,
        close = excluded.close, volume = excluded.volume, loaded_at = now(),
        load_run_id = excluded.load_run_id
"""


def lean_upsert(url: URL, path: Path) -> float:
    """COPY into a typed temporary table + one INSERT ... ON CONFLICT DO UPDATE into
    raw.daily_bars (seconds); the rows are removed afterwards."""
    names, ddl = _typed_columns(path)
    cols = ", ".join(f'"{n}"' for n in names)
    seconds = _timed_copy(
        url,
        [
            f"create temporary table _lean ({ddl}) on commit drop",
            LEAN_UPSERT.format(run_id=uuid.uuid4()),
        ],
        f"copy _lean ({cols}) from stdin with (format csv, header true)",
        path,
    )
    execute(url, "truncate raw.daily_bars")
    return seconds


def land_file(url: URL, path: Path) -> tuple[float, int, int]:
    """ingest_file into raw.daily_bars: (seconds, rows inserted, rows quarantined)."""
    started = time.perf_counter()
    outcome = ingest_file(url, path, load_run_id=uuid.uuid4())
    seconds = time.perf_counter() - started
    if not outcome.landed:
        raise RuntimeError(f"ingest_file({path}) failed: {outcome.error}")
    return seconds, outcome.inserted, outcome.rejected


def main(argv: list[str] | None = None) -> int:
    """`python -m bench.landing [--data FILE] [--rounds N]`: the landing step on its own (its
    own PostgreSQL, the bench's history file), each round lean upsert then ingest_file on an
    empty raw.daily_bars; prints each round's figures and the median."""
    import argparse
    import statistics
    import tempfile

    from bench import data
    from bench.__main__ import DEFAULT_DATA
    from bench.warehouse import bench_server
    from ingest.db import migrate

    p = argparse.ArgumentParser(prog="python -m bench.landing", description=main.__doc__)
    p.add_argument("--data", type=Path, default=DEFAULT_DATA)
    p.add_argument("--rounds", type=int, default=3)
    args = p.parse_args(argv)
    ratios = []
    with tempfile.TemporaryDirectory(prefix="mdw-bench-files-") as scratch:
        files = data.prepare_files(args.data, Path(scratch), None)
        with bench_server() as server:
            migrate(server.url)
            for n in range(1, args.rounds + 1):
                copy = copy_into_empty_table(server.url, files.history)
                lean = lean_upsert(server.url, files.history)
                seconds, inserted, rejected = land_file(server.url, files.history)
                execute(server.url, "truncate raw.daily_bars, raw.load_runs, raw.rejected_bars")
                ratios.append(lean / seconds)
                print(
                    f"round {n}: {files.history_rows:,} rows - ingest_file {seconds:.2f} s "
                    f"({inserted:,} inserted, {rejected} quarantined), lean upsert {lean:.2f} s, "
                    f"COPY {copy:.2f} s: landing_vs_upsert {lean / seconds:.3f}, "
                    f"landing_vs_copy {copy / seconds:.3f}",
                    flush=True,
                )
    print(f"landing_vs_upsert median {statistics.median(ratios):.3f} (goal >= 0.6)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
