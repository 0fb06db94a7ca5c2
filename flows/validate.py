"""`validate-warehouse`: run the Great Expectations checkpoints; failed expectations fail it."""

from __future__ import annotations

from prefect import flow
from prefect.artifacts import create_markdown_artifact

from flows.report import validation_markdown
from flows.tasks import ValidationSummary, run_gx_checkpoints


class ValidationFailed(RuntimeError):
    """At least one expectation failed; the message lists them."""


@flow(name="validate-warehouse", log_prints=True)
def validate_warehouse() -> ValidationSummary:
    summary = run_gx_checkpoints()
    create_markdown_artifact(
        key="validation-summary",
        markdown=validation_markdown(summary.checks, summary.data_docs),
    )
    if not summary.success:
        failed = [f"{c['name']}: {f}" for c in summary.checks for f in c["failed"]]
        raise ValidationFailed("failed expectations:\n" + "\n".join(failed))
    return summary
