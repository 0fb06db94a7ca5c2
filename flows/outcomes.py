"""What a sub-flow's final state means for the pipeline: landed something, failed units, both.

The landing flows end Failed when some units failed and name them in the state message; the
pipeline still builds and validates what did land, then ends Failed with those messages. Only a
landing that landed nothing at all stops the pipeline before dbt.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from prefect import task
from prefect.states import State

from ingest.db import transaction
from settings import get_settings


@dataclass(frozen=True)
class Landing:
    markdown: str
    failures: list[str] = field(default_factory=list)  # "<flow>: <state message>"
    landed: int = 0  # load-run rows that landed something (success or partial)


@task(name="count-landed-units")
def landed_units(flow_run_ids: list[str]) -> int:
    """Units (load-run rows) of these flow runs that landed rows, from raw.load_runs."""
    if not flow_run_ids:
        return 0
    with transaction(get_settings().warehouse) as cur:
        cur.execute(
            "select count(*) from raw.load_runs"
            " where flow_run_id = any(%s) and status in ('success', 'partial')",
            (flow_run_ids,),
        )
        return cur.fetchone()[0]


def failure_of(name: str, state: State) -> list[str]:
    """[] for a Completed state, else one line naming the flow and its state message."""
    if state.is_completed():
        return []
    return [f"{name} {state.name}: {state.message or 'no message'}"]


def run_id(state: State) -> str | None:
    flow_run_id = state.state_details.flow_run_id
    return str(flow_run_id) if flow_run_id else None


def failed_markdown(problems: list[str]) -> list[str]:
    """The artifact section listing what failed (nothing when nothing did)."""
    if not problems:
        return []
    return ["## Failed\n\n" + "\n".join(f"- {p}" for p in problems)]
