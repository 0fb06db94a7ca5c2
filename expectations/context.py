"""The file-backed GX context: keep it in step with `suites.py`, run its checkpoints."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import great_expectations as gx
from great_expectations.checkpoint import UpdateDataDocsAction
from great_expectations.data_context import FileDataContext

from expectations.suites import CHECKS, SUITES, TableCheck

GX_ROOT = Path(__file__).resolve().parent
DATASOURCE = "warehouse"
# The connection string stays an environment reference: no URL or password in the YAML.
CONNECTION_STRING = "${WAREHOUSE_URL}"


@dataclass(frozen=True)
class CheckResult:
    name: str
    success: bool
    evaluated: int
    failed: list[str]


def data_docs_index(root: Path = GX_ROOT) -> Path:
    return root / "gx" / "uncommitted" / "data_docs" / "local_site" / "index.html"


def get_context(root: Path = GX_ROOT) -> FileDataContext:
    return gx.get_context(mode="file", project_root_dir=str(root))


def ensure_context(context: FileDataContext) -> None:
    """Create or update the data source, suites, validation definitions and checkpoints."""
    source = context.data_sources.add_or_update_postgres(
        name=DATASOURCE, connection_string=CONNECTION_STRING
    )
    for check in CHECKS:
        asset = _table_asset(source, check)
        batch = _whole_table(asset)
        suite = context.suites.add_or_update(SUITES[check.name]())
        definition = context.validation_definitions.add_or_update(
            gx.ValidationDefinition(name=check.name, data=batch, suite=suite)
        )
        context.checkpoints.add_or_update(
            gx.Checkpoint(
                name=check.checkpoint_name,
                validation_definitions=[definition],
                actions=[UpdateDataDocsAction(name="update_data_docs")],
                result_format={"result_format": "SUMMARY"},
            )
        )


def _table_asset(source, check: TableCheck):
    try:
        return source.get_asset(check.name)
    except LookupError:
        return source.add_table_asset(
            name=check.name, table_name=check.table, schema_name=check.schema
        )


def _whole_table(asset):
    try:
        return asset.get_batch_definition("whole_table")
    except KeyError:
        return asset.add_batch_definition_whole_table("whole_table")


def run_checkpoint(context: FileDataContext, check: TableCheck) -> CheckResult:
    result = context.checkpoints.get(check.checkpoint_name).run()
    failed: list[str] = []
    evaluated = 0
    for validation in result.run_results.values():
        for r in validation.results:
            evaluated += 1
            if not r.success:
                cfg = r.expectation_config
                kwargs = {k: v for k, v in cfg.kwargs.items() if k != "batch_id"}
                unexpected = (r.result or {}).get("unexpected_count")
                detail = f" ({unexpected} unexpected)" if unexpected is not None else ""
                failed.append(f"{cfg.type}{kwargs}{detail}")
    return CheckResult(check.name, bool(result.success), evaluated, failed)


def run_checkpoints(warehouse_url: str, root: Path = GX_ROOT) -> list[CheckResult]:
    os.environ["WAREHOUSE_URL"] = warehouse_url
    context = get_context(root)
    ensure_context(context)
    return [run_checkpoint(context, check) for check in CHECKS]
