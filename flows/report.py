"""Markdown for the runs' Prefect artifacts (pure functions)."""

from __future__ import annotations

from collections.abc import Sequence

from ingest.outcomes import Outcome


def landing_markdown(outcomes: Sequence[Outcome]) -> str:
    """The landing section of a summary: one row per unit, counts that add up, what failed."""
    lines = [
        "## Landing",
        "",
        "| unit | received | inserted | updated | unchanged | quarantined | status |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for o in outcomes:
        c = o.counts
        status = o.label + (f": {o.error}" if o.error else "")
        lines.append(
            f"| `{o.name}` | {c.received} | {c.inserted} | {c.updated} | {c.unchanged} "
            f"| {c.rejected} | {status} |"
        )
    lines += ["", "Quarantined rows, with their reasons, are in `raw.rejected_bars`."]
    return "\n".join(lines)


def dbt_markdown(command: str, models: int, tests: int, other: int, docs: str | None) -> str:
    lines = [
        "## dbt",
        "",
        f"`dbt {command}`: {models} models built, {tests} tests passed, "
        f"{other} other nodes (hooks, seeds).",
    ]
    if docs:
        lines.append(f"dbt docs: `{docs}` (browse with `dbt docs serve`).")
    return "\n".join(lines)


def validation_markdown(checks: Sequence[dict], data_docs: str) -> str:
    lines = [
        "## Validation (Great Expectations)",
        "",
        "| checkpoint | result | expectations | failed |",
        "|---|---|---:|---:|",
    ]
    for c in checks:
        result = "passed" if c["success"] else "**FAILED**"
        if not c.get("gate", True):
            result = ("passed" if c["success"] else "findings listed") + " (not gating)"
        lines.append(f"| {c['name']} | {result} | {c['evaluated']} | {len(c['failed'])} |")
    failures = [f"- {c['name']}: {f}" for c in checks for f in c["failed"]]
    if failures:
        lines += ["", "Failed expectations:", *failures]
    lines += ["", f"Data docs: [{data_docs}](file://{data_docs}) (open offline in a browser)"]
    return "\n".join(lines)


def warehouse_markdown(counts: dict[str, int]) -> str:
    lines = ["## Warehouse", "", "| table | rows |", "|---|---:|"]
    lines += [f"| `{table}` | {n} |" for table, n in counts.items()]
    return "\n".join(lines)


def vendor_markdown(states: dict[str, str]) -> str:
    lines = ["## Landing (vendors)", "", "| vendor flow | state |", "|---|---|"]
    lines += [f"| {name} | {state} |" for name, state in states.items()]
    lines += [
        "",
        "Each vendor run's own artifact lists what landed and what failed; every unit "
        "of work is a row of `raw.load_runs`.",
    ]
    return "\n".join(lines)
