"""The file-backed GX context: keep it in step with `suites.py`, run its checkpoints."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

import great_expectations as gx
from great_expectations.checkpoint import UpdateDataDocsAction
from great_expectations.core.run_identifier import RunIdentifier
from great_expectations.data_context import FileDataContext

from expectations.offline_docs import localize_data_docs
from expectations.suites import CHECKS, SUITES, TableCheck
from expectations.warning_docs import mark_warnings

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
    gate: bool = True
    run_name: str = ""


def data_docs_index(root: Path = GX_ROOT) -> Path:
    return root / "gx" / "uncommitted" / "data_docs" / "local_site" / "index.html"


def get_context(root: Path = GX_ROOT) -> FileDataContext:
    return gx.get_context(mode="file", project_root_dir=str(root))


def ensure_context(context: FileDataContext) -> None:
    """Add what is missing and update a suite only when its definition changed.

    Leaves the committed files byte-identical when nothing changed, so running the
    validation flow never dirties the repository.
    """
    try:
        source = context.data_sources.get(DATASOURCE)
    except KeyError:
        source = context.data_sources.add_postgres(
            name=DATASOURCE, connection_string=CONNECTION_STRING
        )
    for check in CHECKS:
        batch = _whole_table(_table_asset(source, check))
        suite = _suite(context, check)
        try:
            definition = context.validation_definitions.get(check.name)
        except Exception:  # noqa: BLE001 - GX raises several types for "not found"
            definition = context.validation_definitions.add(
                gx.ValidationDefinition(name=check.name, data=batch, suite=suite)
            )
        try:
            context.checkpoints.get(check.checkpoint_name)
        except Exception:  # noqa: BLE001
            context.checkpoints.add(
                gx.Checkpoint(
                    name=check.checkpoint_name,
                    validation_definitions=[definition],
                    actions=[UpdateDataDocsAction(name="update_data_docs")],
                    result_format={"result_format": check.result_format},
                )
            )


def _comparable(expectations: list) -> list[dict]:
    return [
        {k: v for k, v in e.configuration.to_json_dict().items() if k != "id"} for e in expectations
    ]


def _suite(context: FileDataContext, check: TableCheck) -> gx.ExpectationSuite:
    wanted = SUITES[check.name]()
    try:
        existing = context.suites.get(check.name)
    except Exception:  # noqa: BLE001
        return context.suites.add(gx.ExpectationSuite(name=check.name, expectations=wanted))
    if _comparable(existing.expectations) != _comparable(wanted):
        existing.expectations = []
        for expectation in wanted:
            existing.add_expectation(expectation)
        existing.save()
    return existing


def _table_asset(source, check: TableCheck):
    try:
        return source.get_asset(check.name)
    except LookupError:
        if check.query:
            return source.add_query_asset(name=check.name, query=check.query)
        return source.add_table_asset(
            name=check.name, table_name=check.table, schema_name=check.schema
        )


def _whole_table(asset):
    try:
        return asset.get_batch_definition("whole_table")
    except KeyError:
        return asset.add_batch_definition_whole_table("whole_table")


def run_checkpoint(
    context: FileDataContext, check: TableCheck, run_name: str | None = None
) -> CheckResult:
    """Run one checkpoint; its run is named `<run_name> <check>` in the data docs."""
    # GX stores a run under its name as a file path: no separators in it
    name = f"{run_name or 'manual'} {check.name}".replace("/", "-").replace("\\", "-")
    result = context.checkpoints.get(check.checkpoint_name).run(
        run_id=RunIdentifier(run_name=name, run_time=dt.datetime.now(dt.UTC))
    )
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
    return CheckResult(check.name, bool(result.success), evaluated, failed, check.gate, name)


def run_checkpoints(
    warehouse_url: str, root: Path = GX_ROOT, run_name: str | None = None
) -> list[CheckResult]:
    """Run every checkpoint against `warehouse_url` (given to GX through ${WAREHOUSE_URL}).

    `run_name` (e.g. the Prefect flow run's name) names the checkpoint runs in the data docs.
    """
    saved = os.environ.get("WAREHOUSE_URL")
    os.environ["WAREHOUSE_URL"] = warehouse_url
    try:
        context = get_context(root)
        ensure_context(context)
        results = [run_checkpoint(context, check, run_name) for check in CHECKS]
        site = data_docs_index(root).parent
        localize_data_docs(site)
        mark_warnings(site, [check.name for check in CHECKS if not check.gate])
        return results
    finally:
        if saved is None:
            os.environ.pop("WAREHOUSE_URL", None)
        else:
            os.environ["WAREHOUSE_URL"] = saved
