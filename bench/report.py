"""Pure: measurements -> the figures, the JSON document and the markdown table."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Goal:
    label: str
    op: str  # "<=" or ">="
    target: float
    numerator: str  # what the ratio divides, for the "measured" column
    denominator: str
    per_core: bool = False  # the target is per core of the machine (x its cores)

    def target_for(self, cores: int | None) -> float:
        return self.target * (cores or 1) if self.per_core else self.target

    def met(self, value: float | None, cores: int | None = None) -> bool | None:
        if value is None:
            return None
        target = self.target_for(cores)
        return value <= target if self.op == "<=" else value >= target


GOALS: dict[str, Goal] = {
    "full_build_ratio": Goal(
        "Full build: dbt / Python (TA-Lib + binary COPY)", "<=", 1.0, "dbt", "Python"
    ),
    "increment_vs_full": Goal(
        "Daily increment: dbt incremental / dbt full build", "<=", 0.05, "increment", "full"
    ),
    "increment_speedup_vs_seed_style": Goal(
        "Daily increment: seed style / dbt incremental", ">=", 20.0, "seed style", "dbt"
    ),
    "scale_10x_ratio": Goal("Scale: dbt full build at 10x rows / at 1x", "<=", 11.0, "10x", "1x"),
    "peer_sql_ratio": Goal(
        "Full build / peers' SQL (moving frames + recursive-CTE EMA)", "<=", 0.02, "dbt", "peers"
    ),
    "peer_frames_ratio": Goal(
        "Full build / peers' moving frames alone (numeric)", "<=", 0.5, "dbt", "frames"
    ),
    "increment_vs_full_10x": Goal(
        "Daily increment at 10x / full build at 10x", "<=", 0.05, "increment", "full"
    ),
    "increment_speedup_vs_seed_style_10x": Goal(
        "Daily increment at 10x: seed style / dbt", ">=", 5.0, "seed style", "dbt"
    ),
    "increment_noop_vs_dbt_floor": Goal(
        "Incremental run with nothing new / dbt run of one trivial view", "<=", 1.2, "noop", "floor"
    ),
    "signals_vs_engine_many_symbols": Goal(
        "fct_signals / engine, incremental, after landing 10x new symbols",
        "<=",
        0.3,
        "signals",
        "engine",
    ),
    "pipeline_dbt_vs_plain": Goal(
        "pipeline's dbt step through Prefect / plain in-process dbt build",
        "<=",
        1.25,
        "Prefect",
        "plain",
    ),
    "pipeline_vs_parts": Goal(
        "pipeline/sample through the server / its parts in-process", "<=", 1.3, "server", "parts"
    ),
    "landing_vs_upsert": Goal(
        "Landing: ingest_file rows/s / COPY to a temp table + one INSERT ON CONFLICT rows/s",
        ">=",
        0.6,
        "landing",
        "lean upsert",
    ),
    "backtest_vs_pandas": Goal(
        "Backtest: strategy marts' full build (dbt nodes) / numpy reference (read + compute)",
        "<=",
        1.0,
        "dbt",
        "numpy",
    ),
    "backtest_increment_vs_full": Goal(
        "Backtest: one new session / the strategy marts' full build (dbt nodes)",
        "<=",
        0.05,
        "increment",
        "full",
    ),
    "full_build_cores_speedup": Goal(
        "Full build (engine node): in one statement / split over the machine's cores",
        ">=",
        0.8,
        "one statement",
        "split",
        per_core=True,
    ),
}

# key -> (numerator, denominator) measurements
PAIRS: dict[str, tuple[str, str]] = {
    "full_build_ratio": ("dbt_full_1x", "python_full_1x"),
    "increment_vs_full": ("dbt_increment", "dbt_full_1x"),
    "increment_speedup_vs_seed_style": ("seed_style_increment", "dbt_increment"),
    "scale_10x_ratio": ("dbt_full_10x", "dbt_full_1x"),
    "peer_sql_ratio": ("dbt_full_1x", "peer_sql_total"),
    "peer_frames_ratio": ("dbt_full_1x", "peer_frames_numeric"),
    "increment_vs_full_10x": ("dbt_increment_10x", "dbt_full_10x"),
    "increment_speedup_vs_seed_style_10x": ("seed_style_increment_10x", "dbt_increment_10x"),
    "increment_noop_vs_dbt_floor": ("dbt_increment_noop", "dbt_floor"),
    "signals_vs_engine_many_symbols": ("signals_many_symbols", "engine_many_symbols"),
    "pipeline_dbt_vs_plain": ("pipeline_dbt_step", "plain_dbt_build"),
    "pipeline_vs_parts": ("pipeline_server_run", "pipeline_parts"),
    # rows/s over rows/s of the same file: the other side's seconds over the landing's
    "landing_vs_upsert": ("landing_upsert", "landing_ingest_file"),
    "backtest_vs_pandas": ("backtest_full", "backtest_pandas"),
    "backtest_increment_vs_full": ("backtest_increment", "backtest_full"),
    "full_build_cores_speedup": ("engine_full_1x_one_statement", "engine_full_1x"),
}
LANDING = {  # the rows/s figures, as their "measured" column shows them: (landing, other)
    "landing_vs_upsert": ("landing_ingest_file", "landing_upsert"),
    "landing_vs_copy": ("landing_ingest_file", "landing_copy"),
}


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or denominator is None or denominator <= 0:
        return None
    return numerator / denominator


def per_second(rows: int | None, seconds: float | None) -> float | None:
    return None if rows is None else ratio(float(rows), seconds)


def figures(seconds: Mapping[str, float], rows: Mapping[str, int]) -> dict[str, float | None]:
    """The ratios, each from two measurements of the same run (None when not measured)."""
    s = seconds.get
    return {k: ratio(s(a), s(b)) for k, (a, b) in PAIRS.items()}


def context(seconds: Mapping[str, float]) -> dict[str, float | None]:
    """Figures without a goal that say where the goals stand."""
    s = seconds.get
    return {
        "increment_speedup_vs_seed_style_pandas": ratio(s("seed_style_pandas"), s("dbt_increment")),
        "increment_noop_share": ratio(s("dbt_increment_noop"), s("dbt_increment")),
        "python_full_write_share": ratio(s("python_write"), s("python_full_1x")),
        # same rows on both sides: rows/s over rows/s is seconds over seconds
        "landing_vs_copy": ratio(s("landing_copy"), s("landing_ingest_file")),
    }


CONTEXT_TEXT = {
    "increment_speedup_vs_seed_style_pandas": (
        "seed style as usually written (SQLAlchemy + pandas.read_sql per symbol) / dbt increment"
    ),
    "increment_noop_share": (
        "dbt incremental run with nothing new / the daily increment (the increment's fixed cost)"
    ),
    "python_full_write_share": "share of the Python full build spent writing (binary COPY + key)",
    "landing_vs_copy": "ingest_file rows/s / a bare COPY into an empty table without keys",
}


def measured(key: str, seconds: Mapping[str, float], rows: Mapping[str, int]) -> str:
    """The two measurements behind a figure, as text."""
    a, b = LANDING.get(key) or PAIRS[key]
    goal = GOALS[key]
    if key in LANDING:
        n = rows.get("landing_file")
        fa, fb = per_second(n, seconds.get(a)), per_second(n, seconds.get(b))
        if fa is None or fb is None:
            return "not measured"
        return f"{fa:,.0f} rows/s ({seconds[a]:.2f} s) / {fb:,.0f} rows/s ({seconds[b]:.2f} s)"
    if a not in seconds or b not in seconds:
        return "not measured"
    return f"{goal.numerator} {seconds[a]:.2f} s / {goal.denominator} {seconds[b]:.2f} s"


def build_result(
    *,
    seconds: Mapping[str, float],
    rows: Mapping[str, int],
    machine: Mapping[str, Any],
    dbt_nodes: Mapping[str, list[dict[str, Any]]],
    checks: list[dict[str, Any]],
    notes: list[str],
    options: Mapping[str, Any],
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The JSON document: figures at the top level, then everything they came from."""
    values = figures(seconds, rows)
    cores = machine.get("cores")
    return {
        **values,
        "context": context(seconds),
        "goals": {k: f"{g.op} {g.target_for(cores):g}" for k, g in GOALS.items()},
        "met": {k: GOALS[k].met(v, cores) for k, v in values.items()},
        "verified": all(c["ok"] for c in checks) if checks else None,
        "seconds": {k: round(v, 4) for k, v in seconds.items()},
        "rows": dict(rows),
        "machine": dict(machine),
        "dbt_nodes": {k: list(v) for k, v in dbt_nodes.items()},
        "checks": list(checks),
        "notes": list(notes),
        "options": dict(options),
        **(dict(extra) if extra else {}),
    }


def to_json(result: Mapping[str, Any]) -> str:
    return json.dumps(result, indent=2, sort_keys=False, default=str) + "\n"


def _value(v: float | None) -> str:
    if v is None:
        return "n/a"
    return f"{v:.3f}" if v < 10 else f"{v:.1f}"


def _met(flag: bool | None) -> str:
    return {True: "yes", False: "**no**", None: "-"}[flag]


def _cell(text: str) -> str:
    """Text that cannot break a markdown table row or its code span."""
    return text.replace("|", "\\|").replace("`", "'")


def machine_line(m: Mapping[str, Any]) -> str:
    start, end = m.get("load_average_1m_at_start"), m.get("load_average_1m_at_end")
    load = (
        ""
        if start is None
        else f" (1-min load average {start} at start"
        + (f", {end} at end)" if end is not None else ")")
    )
    return (
        f"Machine: {m.get('cpu')}, {m.get('cores')} cores, {m.get('memory_gib')} GiB RAM, "
        f"PostgreSQL {m.get('postgresql')}, Python {m.get('python')}, {m.get('date')}" + load
    )


def to_markdown(result: Mapping[str, Any]) -> str:
    seconds: Mapping[str, float] = result.get("seconds", {})
    rows: Mapping[str, int] = result.get("rows", {})
    options: Mapping[str, Any] = result.get("options", {})
    lines = [
        f"## Benchmark: {options.get('data', 'data')} - {rows.get('symbols', '?')} symbols, "
        f"{rows.get('file_rows', 0):,} rows",
        "",
        "| figure | value | goal | met | measured side by side |",
        "|---|---:|---:|:-:|---|",
    ]
    cores = result.get("machine", {}).get("cores")
    for key, goal in GOALS.items():
        value = result.get(key)
        lines.append(
            f"| `{key}`: {goal.label} | {_value(value)} | {goal.op} {goal.target_for(cores):g} "
            f"| {_met(goal.met(value, cores))} | {measured(key, seconds, rows)} |"
        )
    lines += ["", machine_line(result.get("machine", {})), ""]
    shown = {k: v for k, v in result.get("context", {}).items() if v is not None}
    if shown:
        lines.append("Context (no goal):")
        lines += [f"- `{k}` = {_value(v)}: {CONTEXT_TEXT.get(k, k)}" for k, v in shown.items()]
        lines.append("")
    checks = result.get("checks", [])
    if checks:
        lines.append("Checks:")
        lines += [
            f"- {'ok' if c['ok'] else '**FAILED**'}: {c['name']} - {c['detail']}" for c in checks
        ]
        lines.append("")
    notes = result.get("notes", [])
    if notes:
        lines.append("Notes:")
        lines += [f"- {n}" for n in notes]
        lines.append("")
    lines += ["| measurement | seconds |", "|---|---:|"]
    lines += [f"| {k} | {v:.3f} |" for k, v in seconds.items()]
    lines.append("")
    lines += ["| rows | count |", "|---|---:|"]
    lines += [f"| {k} | {v:,} |" for k, v in rows.items()]
    sql = result.get("sql_seconds", {})
    if sql:
        lines += [
            "",
            "SQL time per step (the server log's statement durations, all sessions):",
            "",
            "| step | step seconds | SQL seconds |",
            "|---|---:|---:|",
        ]
        lines += [
            f"| {k} | {seconds[k]:.3f} | {v:.3f} |" if k in seconds else f"| {k} | - | {v:.3f} |"
            for k, v in sql.items()
        ]
    slow = {k: v for k, v in result.get("slowest_statements", {}).items() if v}
    if slow:
        lines += [
            "",
            "Slowest statements per step (server log):",
            "",
            "| step | seconds | statement |",
            "|---|---:|---|",
        ]
        for step, entries in slow.items():
            lines += [
                f"| {step} | {e['seconds']:.3f} | `{_cell(e['statement'])}` |" for e in entries
            ]
    for run, nodes in result.get("dbt_nodes", {}).items():
        if not nodes:
            continue
        lines += [
            "",
            f"dbt node timings ({run}):",
            "",
            "| node | status | seconds |",
            "|---|---|---:|",
        ]
        lines += [f"| {n['name']} | {n['status']} | {n['seconds']:.3f} |" for n in nodes]
        lines.append(f"| (sum of nodes) | | {sum(n['seconds'] for n in nodes):.3f} |")
        if run in seconds:
            lines.append(f"| (whole invocation) | | {seconds[run]:.3f} |")
    return "\n".join(lines) + "\n"
