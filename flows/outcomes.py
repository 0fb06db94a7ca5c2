"""How every landing flow ends, written once.

The units of a run (files, symbols, days, windows, listings) are recorded and judged by the one
rule of ingest.outcomes. A run ends **Completed** when every unit landed whole (success, or
nothing to do); it ends **Failed** when any unit is failed, partial or not attempted (the run
stopped early: the vendor stopped answering). The Failed state is *returned*, not raised: its
message names the units that did not land in full - the first few, with why, and how many in
all - in one wording for every flow; it carries the outcomes, so what did land is landed,
recorded and readable; and Prefect logs no traceback for what is an expected failure. Every run
leaves a table artifact of its units.

Callers that run a landing flow as a sub-flow with `return_state=True` read its outcomes with
`landed_result(state)`, whether it landed anything with `landed_anything(state)`, and the line
that names its failure with `failure_of(name, state)`: the pipeline still builds and validates
what landed, then ends Failed with those lines.
"""

from __future__ import annotations

from collections.abc import Sequence

from prefect import get_run_logger
from prefect.artifacts import create_table_artifact
from prefect.states import Failed, State

from ingest.outcomes import FAILED, NOT_ATTEMPTED, PARTIAL, Outcome, failing, summary, tally
from ingest.outcomes import artifact_rows as rows_of
from ingest.units import Breaker

NAMED = 5  # units named in a state message
ORDER = {FAILED: 0, PARTIAL: 1, NOT_ATTEMPTED: 2}


def failure_message(what: str, outcomes: Sequence[Outcome], stopped: str | None = None) -> str:
    """`stopped early: ...; 2 of 5 files did not land in full (1 failed, 1 partial): a.csv
    (failed: why); b.csv (partial: why)` - the first NAMED, then a count."""
    bad = sorted(failing(outcomes), key=lambda o: ORDER.get(o.label, 9))
    attempted = [o for o in outcomes if not o.skipped]
    named = "; ".join(f"{o.name} ({_why(o)})" for o in bad[:NAMED])
    more = f"; ... and {len(bad) - NAMED} more" if len(bad) > NAMED else ""
    head = f"stopped early: {stopped}; " if stopped else ""
    return (
        f"{head}{len(bad)} of {len(attempted)} {what} did not land in full ({tally(bad)}): "
        f"{named}{more}"
    )[:4000]


def _why(o: Outcome) -> str:
    error = o.error or ""
    return error if error.startswith(o.label) else f"{o.label}: {error}"


def finish(
    key: str,
    what: str,
    outcomes: Sequence[Outcome],
    *,
    breaker: Breaker | None = None,
    note: str = "",
) -> list[Outcome] | State:
    """Publish the run's table artifact, then return its outcomes (Completed) or a Failed state
    that carries them and names what did not land in full."""
    outcomes = list(outcomes)
    text = summary(outcomes) + (f" ({note})" if note else "")
    create_table_artifact(
        key=key,
        table=rows_of(outcomes) or [{"status": note or "nothing to do"}],
        description=f"{key}: {text}",
    )
    get_run_logger().info("%s: %s", key, text)
    stopped = breaker.reason if breaker is not None else None
    if not failing(outcomes) and not stopped:
        return outcomes
    return Failed(message=failure_message(what, outcomes, stopped), data=outcomes)


def _outcomes(state: State) -> list[Outcome] | None:
    """The outcomes a landing run carries (also when Failed), None when it carries none."""
    result = state.result(raise_on_failure=False) if state.is_final() else None
    return result if isinstance(result, list) else None


def landed_result(state: State) -> list[Outcome]:
    """What a landing sub-flow returned, also when some of its units failed; raises when
    nothing landed (every unit failed, or the run failed for another reason)."""
    outcomes = _outcomes(state)
    if outcomes is not None and (state.is_completed() or landed_anything(state)):
        return outcomes
    raise RuntimeError(f"{state.name}: {state.message or 'no message'}")


def landed_anything(state: State) -> bool:
    """True when the run completed, or failed with some of its units landed."""
    outcomes = _outcomes(state)
    if state.is_completed():
        return True
    return outcomes is not None and any(o.landed for o in outcomes)


def failure_of(name: str, state: State) -> list[str]:
    """[] for a Completed state, else one line naming the flow and its state message."""
    if state.is_completed():
        return []
    return [f"{name} {state.name}: {state.message or 'no message'}"]


def failed_markdown(problems: Sequence[str]) -> list[str]:
    """The artifact section listing what failed (nothing when nothing did)."""
    if not problems:
        return []
    return ["## Failed\n\n" + "\n".join(f"- {p}" for p in problems)]
