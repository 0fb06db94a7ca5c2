"""Backtests as users ask for them: the declared strategies, the dbt vars of a run, and the
performance table read from marts.fct_strategy_performance (SQL only; nothing is computed here).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import yaml
from sqlalchemy.engine import URL

from ingest.db import transaction

# the dbt models a backtest builds (and tests): the simulation and every mart after it
SELECTION = "int_strategy_positions_simulated+"

PERFORMANCE_SQL = """
select
    strategy, total_return, cagr, annual_volatility, sharpe_ratio, sortino_ratio, max_drawdown,
    calmar_ratio, trades, trade_win_rate, profit_factor, average_gross_exposure, beta, alpha,
    first_date, last_date, cost_bps, is_benchmark
from marts.fct_strategy_performance
where period = 'all' and (%(strategies)s::text[] is null or strategy = any(%(strategies)s::text[])
    or is_benchmark)
order by is_benchmark, strategy
"""

# (column, header, format): what the table shows, as fct_strategy_performance names it
COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("strategy", "Strategy", "s"),
    ("total_return", "Total", "+.1%"),
    ("cagr", "CAGR", "+.1%"),
    ("annual_volatility", "Vol", ".1%"),
    ("sharpe_ratio", "Sharpe", ".2f"),
    ("sortino_ratio", "Sortino", ".2f"),
    ("max_drawdown", "Max DD", ".1%"),
    ("calmar_ratio", "Calmar", ".2f"),
    ("trades", "Trades", "d"),
    ("trade_win_rate", "Win", ".0%"),
    ("profit_factor", "PF", ".2f"),
    ("average_gross_exposure", "Exposure", ".0%"),
    ("beta", "Beta", ".2f"),
    ("alpha", "Alpha", "+.1%"),
)


@dataclass(frozen=True)
class Performance:
    rows: list[dict]

    @property
    def span(self) -> str:
        firsts = [r["first_date"] for r in self.rows if r["first_date"]]
        lasts = [r["last_date"] for r in self.rows if r["last_date"]]
        return f"{min(firsts)} to {max(lasts)}" if firsts else "no sessions"


def declared_strategies(project_dir: Path) -> dict[str, dict]:
    """The strategies declared in dbt_project.yml (vars: strategies), by name."""
    project = yaml.safe_load((project_dir / "dbt_project.yml").read_text())
    return dict(project.get("vars", {}).get("strategies") or {})


def backtest_vars(
    strategies: Sequence[str] | None = None,
    start: date | str | None = None,
    end: date | str | None = None,
    cost_bps: float | None = None,
) -> dict[str, object]:
    """The dbt vars of a backtest run (macros/strategies/strategy_declarations.sql reads them)."""
    return {
        "backtest_strategies": list(strategies) if strategies else None,
        "backtest_start": str(start) if start else None,
        "backtest_end": str(end) if end else None,
        "backtest_cost_bps": cost_bps,
    }


def dbt_args(vars_: dict[str, object]) -> list[str]:
    return ["build", "--select", SELECTION, "--vars", json.dumps(vars_)]


def read_performance(url: URL, strategies: Sequence[str] | None = None) -> Performance:
    """The 'all' period of the asked strategies (default all) and of the benchmarks."""
    with transaction(url) as cur:
        cur.execute(PERFORMANCE_SQL, {"strategies": list(strategies) if strategies else None})
        names = [c.name for c in cur.description]
        return Performance([dict(zip(names, row, strict=True)) for row in cur.fetchall()])


def cell(value: object, fmt: str) -> str:
    if value is None:
        return "-"
    if fmt == "s":
        return str(value)
    return format(float(value) if fmt != "d" else int(value), fmt)


def performance_markdown(performance: Performance, title: str = "Backtest") -> str:
    """Pure: the performance table as markdown (the artifact; `mdw backtest` off a terminal)."""
    header = "| " + " | ".join(h for _, h, _ in COLUMNS) + " |"
    rule = "|" + "|".join("---" if f == "s" else "---:" for _, _, f in COLUMNS) + "|"
    lines = [f"# {title}", "", f"Sessions {performance.span}; benchmarks last.", "", header, rule]
    for row in performance.rows:
        lines.append("| " + " | ".join(cell(row[c], f) for c, _, f in COLUMNS) + " |")
    if not performance.rows:
        lines.append("| (no strategy built) |" + " |" * (len(COLUMNS) - 1))
    lines += [
        "",
        "Definitions: marts.fct_strategy_performance (dbt docs) and the README's "
        '"Strategies and backtests". Every strategy and year: `select * from '
        "marts.fct_strategy_performance`.",
    ]
    return "\n".join(lines)
