"""Markdown for the runs' Prefect artifacts (pure functions)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from ingest.outcomes import Outcome

if TYPE_CHECKING:
    from flows.tasks import DbtSummary

NODES_ARTIFACT = "dbt-nodes"  # flows/tasks.py creates it


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


def dbt_markdown(summary: DbtSummary) -> str:
    lines = [
        "## dbt",
        "",
        f"`dbt {summary.command}`: {summary.models} models built, {summary.tests} tests passed, "
        f"{summary.other} other nodes (hooks, seeds) in {summary.seconds:.1f} s. Every node, "
        f"its status and seconds: the run's `{NODES_ARTIFACT}` artifact.",
    ]
    if summary.slowest:
        slowest = ", ".join(f"{name} {seconds:.1f} s" for _, name, seconds in summary.slowest)
        lines.append(f"Slowest: {slowest}.")
    if summary.docs_index:
        lines.append(f"dbt docs: `{summary.docs_index}` (browse with `dbt docs serve`).")
    return "\n".join(lines)


def validation_markdown(checks: Sequence[dict], data_docs: str) -> str:
    """Checkpoint results; a non-gating checkpoint's failures are listed as warnings, never
    under "Failed expectations" (they do not fail validation)."""
    lines = [
        "## Validation (Great Expectations)",
        "",
        "| checkpoint | result | expectations | failed |",
        "|---|---|---:|---:|",
    ]
    for c in checks:
        gate = c.get("gate", True)
        if gate:
            result, failed = ("passed" if c["success"] else "**FAILED**"), len(c["failed"])
        else:
            result = "passed" if c["success"] else f"{len(c['failed'])} warning(s)"
            result, failed = f"{result} (not gating)", 0
        lines.append(f"| {c['name']} | {result} | {c['evaluated']} | {failed} |")
    for title, gating in (("Failed expectations", True), ("Warnings (not gating)", False)):
        listed = [
            f"- {c['name']}: {f}"
            for c in checks
            if c.get("gate", True) == gating
            for f in c["failed"]
        ]
        if listed:
            lines += ["", f"{title}:", *listed]
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
