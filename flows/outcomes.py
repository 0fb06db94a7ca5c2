"""The failure rule of every landing flow, written once.

A run in which some units (files, symbols, windows, listings) failed ends **Failed**; its state
message names the failed units (the first few, and how many in all), its artifact lists every
unit, and the units that succeeded are landed and recorded all the same. A run with nothing to
do, or in which every unit landed, ends Completed.

Callers that run a landing flow as a sub-flow with `return_state=True` read what it landed with
`landed_result(state)` (the result travels with the failure), whether it landed anything with
`landed_anything(state)`, and the line that names its failure with `failure_of(name, state)`:
the pipeline still builds and validates what landed, then ends Failed with those lines.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from prefect.states import State

T = TypeVar("T")
NAMED = 5  # failed units named in a state message


class UnitsFailed(RuntimeError):
    """Some units of a landing run failed; `result` is what the run returns otherwise."""

    def __init__(self, message: str, result: Any = None, landed: int = 0) -> None:
        super().__init__(message)
        self.result = result
        self.landed = landed

    def __reduce__(self):  # survives Prefect's result serialisation
        return (type(self), (str(self), self.result, self.landed))


def failure_message(what: str, failed: Sequence[tuple[str, str]], total: int) -> str:
    """`2 of 5 files failed: a.csv (why); b.csv (why)` - the first NAMED, then a count."""
    named = "; ".join(f"{unit} ({why})" if why else unit for unit, why in failed[:NAMED])
    more = f"; ... and {len(failed) - NAMED} more" if len(failed) > NAMED else ""
    return f"{len(failed)} of {total} {what} failed: {named}{more}"[:4000]


def finish(what: str, result: T, failed: Sequence[tuple[str, str]], total: int) -> T:
    """Return `result`, or raise UnitsFailed (the run ends Failed) when any unit failed."""
    if failed:
        raise UnitsFailed(failure_message(what, failed, total), result, landed=total - len(failed))
    return result


def _failure(state: State) -> BaseException | None:
    if state.is_completed():
        return None
    return state.result(raise_on_failure=False)


def landed_result(state: State) -> Any:
    """What a landing sub-flow returned, also when some of its units failed; re-raises when
    nothing landed (every unit failed, or the run failed for another reason)."""
    if state.is_completed():
        return state.result()
    error = _failure(state)
    if isinstance(error, UnitsFailed) and error.landed > 0:
        return error.result
    raise error if isinstance(error, BaseException) else RuntimeError(state.message)


def landed_anything(state: State) -> bool:
    """True when the run completed, or failed with some of its units landed."""
    if state.is_completed():
        return True
    error = _failure(state)
    return isinstance(error, UnitsFailed) and error.landed > 0


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
