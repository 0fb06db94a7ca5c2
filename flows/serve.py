"""The stack's runner: serves every deployment from this process (`python -m flows.serve`).

`mdw up` starts it in the background; it polls the Prefect server and runs each flow run in a
subprocess. Deployments: pipeline/sample, ingest-files/manual, dbt-build/manual,
validate-warehouse/manual.
"""

from __future__ import annotations

from prefect import serve

from flows.dbt_build import dbt_build
from flows.ingest_files import ingest_files
from flows.pipeline import pipeline
from flows.validate import validate_warehouse


def deployments() -> list:
    return [
        pipeline.to_deployment(
            name="sample",
            description="Land the bundled 20-symbol sample, build the dbt project, validate it.",
            tags=["sample"],
        ),
        ingest_files.to_deployment(name="manual", description="Land the given files."),
        dbt_build.to_deployment(name="manual", description="dbt build (and docs)."),
        validate_warehouse.to_deployment(name="manual", description="Run the GX checkpoints."),
    ]


def main() -> None:
    serve(*deployments(), limit=4)


if __name__ == "__main__":
    main()
