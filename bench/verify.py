"""Cheap correctness checks inside the benchmark run, so that a fast but wrong build shows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import asyncpg
import numpy as np

from bench.baselines import SCHEMA, TABLE, compute, read_bars
from bench.indicators import INDICATORS, allowed_error_sql, mismatches

DBT_INDICATORS = "marts.fct_daily_indicators"


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


def row_count_check(name: str, counts: dict[str, int]) -> Check:
    ok = len(set(counts.values())) == 1
    return Check(name, ok, ", ".join(f"{k} {v:,}" for k, v in counts.items()))


def comparison_sql(left: str, right: str) -> str:
    """Every row of two indicator tables joined on the key: rows missing on either side, and per
    column the values that differ (null mask, or beyond bench.indicators.allowed_error)."""
    parts = [
        "count(*) filter (where l.symbol is null) as missing_left",
        "count(*) filter (where r.symbol is null) as missing_right",
    ]
    for c in INDICATORS:
        allowed = allowed_error_sql(c, "r")
        parts.append(
            f"count(*) filter (where l.symbol is not null and r.symbol is not null and ("
            f"(l.{c} is null) <> (r.{c} is null) or abs(l.{c} - r.{c}) > {allowed})) as {c}"
        )
    return (
        f"select count(*) as joined, {', '.join(parts)}\n"
        f"from {left} as l full join {right} as r\n"
        "on l.symbol = r.symbol and l.trade_date = r.trade_date"
    )


def summarise_differences(name: str, row: dict[str, int]) -> Check:
    bad = {c: n for c, n in row.items() if c not in ("joined",) and n}
    if not bad:
        return Check(name, True, f"{row['joined']:,} rows x {len(INDICATORS)} columns agree")
    return Check(name, False, "differences: " + ", ".join(f"{c} {n:,}" for c, n in bad.items()))


async def full_build_agrees(dsn: str) -> Check:
    """The dbt build equals the Python (TA-Lib) baseline on every row and indicator."""
    conn = await asyncpg.connect(dsn)
    try:
        record = await conn.fetchrow(comparison_sql(DBT_INDICATORS, f"{SCHEMA}.{TABLE}"))
    finally:
        await conn.close()
    return summarise_differences("full build: dbt = TA-Lib baseline", dict(record))


@dataclass(frozen=True)
class IncrementCheck:
    check: Check
    # per indicator: the seed style's worst relative error against the exact value
    seed_style_max_rel_error: dict[str, float]


async def increment_agrees(
    dsn: str, day: date, seed_values: dict[str, dict[str, float]]
) -> IncrementCheck:
    """The incremental run's new rows equal TA-Lib over each symbol's whole history."""
    conn = await asyncpg.connect(dsn)
    try:
        bars = await read_bars(conn)
        rows = await conn.fetch(
            f"select symbol, {', '.join(INDICATORS)} from {DBT_INDICATORS} where trade_date = $1",
            day,
        )
    finally:
        await conn.close()
    exact = compute(bars)
    latest = {s: part.stop - 1 for s, part in bars.parts if bars.trade_date[part.stop - 1] == day}
    got = {r["symbol"]: r for r in rows}
    problems: list[str] = []
    if set(got) != set(latest):
        problems.append(f"{len(got)} new rows for {len(latest)} symbols with a bar on {day}")
    order = sorted(set(got) & set(latest))
    at = np.array([latest[s] for s in order], dtype=int)
    for c in INDICATORS:
        values = np.array([np.nan if got[s][c] is None else got[s][c] for s in order], float)
        ad = exact["ad"][at] if "ad" in exact else None
        n = mismatches(c, values, exact[c][at], bars.close[at], ad)
        if n:
            problems.append(f"{c} {n}")
    seed_error: dict[str, float] = {}
    for c in INDICATORS:
        worst = 0.0
        for s, i in latest.items():
            if s in seed_values and not np.isnan(exact[c][i]) and exact[c][i] != 0:
                worst = max(worst, abs(seed_values[s][c] - exact[c][i]) / abs(exact[c][i]))
        seed_error[c] = worst
    name = f"increment: new rows = TA-Lib over full history ({len(order)} symbols)"
    check = Check(
        name,
        not problems,
        "; ".join(problems) or f"{len(order)} rows x {len(INDICATORS)} columns agree",
    )
    return IncrementCheck(check, seed_error)
