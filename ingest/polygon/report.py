"""What a Polygon run did, as rows for its Prefect table artifact and one-line summaries (pure)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from ingest.polygon.runs import UnitOutcome

MAX_ROWS = 500  # an artifact is for people: failures first, then the rest up to this many


def artifact_rows(outcomes: Sequence[UnitOutcome]) -> list[dict[str, object]]:
    """Every failed or partial unit, then the others, as table rows (capped at MAX_ROWS)."""
    order = {"failed": 0, "partial": 1, "success": 2, "skipped": 3}
    ranked = sorted(enumerate(outcomes), key=lambda p: (order.get(p[1].status, 9), p[0]))
    rows = [o.as_row() for _, o in ranked[:MAX_ROWS]]
    if len(outcomes) > MAX_ROWS:
        rows.append(
            {
                "unit": "...",
                "symbol": "",
                "window": "",
                "status": f"{len(outcomes) - MAX_ROWS} more rows in raw.load_runs",
                "received": "",
                "inserted": "",
                "updated": "",
                "unchanged": "",
                "rejected": "",
                "error": "",
            }
        )
    return rows


def summary(outcomes: Sequence[UnitOutcome]) -> str:
    """`12 units: 10 success, 1 partial, 1 failed; 2,510 bars received, ...`."""
    if not outcomes:
        return "nothing to do"
    counts = Counter(o.status for o in outcomes)
    statuses = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
    return (
        f"{len(outcomes)} units: {statuses}; {sum(o.received for o in outcomes):,} received, "
        f"{sum(o.inserted for o in outcomes):,} inserted, "
        f"{sum(o.updated for o in outcomes):,} updated, "
        f"{sum(o.rejected for o in outcomes):,} quarantined"
    )


def failures(outcomes: Sequence[UnitOutcome]) -> list[UnitOutcome]:
    return [o for o in outcomes if o.status == "failed"]


def unit_name(o: UnitOutcome) -> str:
    return f"{o.kind} {o.symbol} {o.window_start or ''}".strip()


def all_failed(outcomes: Sequence[UnitOutcome]) -> bool:
    """True when work was attempted and none of it landed (skipped units do not count)."""
    attempted = [o for o in outcomes if o.status != "skipped"]
    return bool(attempted) and all(o.status == "failed" for o in attempted)


def failure_message(outcomes: Sequence[UnitOutcome], limit: int = 10) -> str:
    failed = failures(outcomes)
    lines = [f"{o.kind} {o.symbol} {o.window_start or ''}: {o.error}" for o in failed[:limit]]
    if len(failed) > limit:
        lines.append(f"... and {len(failed) - limit} more (raw.load_runs)")
    return "; ".join(lines)
