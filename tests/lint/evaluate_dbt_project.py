"""dbt Labs' project rules (dbt-project-evaluator) on dbt_project/, as a development check.

`make lint` runs this; on its own: `python -m tests.lint.evaluate_dbt_project`. The evaluator and
dbt-utils are not part of the product: they are read from ../shared/vendor/dbt-packages (the
check is skipped, with a line saying so, where that folder is absent). The project is copied to
a temporary folder, the two packages are installed there as local packages, the evaluator's
models are built in a throwaway embedded PostgreSQL, and every row of its fct_* models is a
violation. Exit status 1 when there is any.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import sys
import tempfile
from pathlib import Path

import sqlalchemy as sa

from mdw import postgres
from settings import PROJECT_ROOT, Settings

VENDOR = PROJECT_ROOT.parent / "shared" / "vendor" / "dbt-packages"
EVALUATOR, DBT_UTILS = "dbt-project-evaluator", "dbt-utils"
# Summary tables (one row each, whatever the project): reported, not counted as violations.
COVERAGE_MODELS = ("fct_documentation_coverage", "fct_test_coverage")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _prepare(work: Path) -> Path:
    """The project and the two packages in `work`, wired as local packages; the project dir."""
    project = work / "project"
    shutil.copytree(
        PROJECT_ROOT / "dbt_project",
        project,
        ignore=shutil.ignore_patterns("target", "logs", "dbt_packages", "package-lock.yml"),
    )
    packages = work / "packages"
    for name in (EVALUATOR, DBT_UTILS):
        shutil.copytree(VENDOR / name, packages / name)
    # the evaluator names dbt-utils on the hub, which these machines cannot reach
    (packages / EVALUATOR / "packages.yml").write_text(
        f"packages:\n  - local: {packages / DBT_UTILS}\n"
    )
    (project / "packages.yml").write_text(
        f"packages:\n  - local: {packages / EVALUATOR}\n  - local: {packages / DBT_UTILS}\n"
    )
    return project


def _write_profile(work: Path, settings: Settings) -> None:
    url = settings.embedded_warehouse
    profile = {
        "market_data_warehouse": {
            "target": "evaluator",
            "outputs": {
                "evaluator": {
                    "type": "postgres",
                    "host": url.host,
                    "port": url.port,
                    "user": url.username,
                    "password": url.password or "",
                    "dbname": url.database,
                    "schema": "public",
                    "threads": 2,
                }
            },
        }
    }
    (work / "profiles.yml").write_text(json.dumps(profile))  # JSON is YAML


def _dbt(project: Path, work: Path, *args: str) -> None:
    from dbt.cli.main import dbtRunner

    result = dbtRunner().invoke(
        [*args, "--project-dir", str(project), "--profiles-dir", str(work), "--quiet"]
    )
    if not result.success:
        raise SystemExit(f"dbt {args[0]} failed in {project}: {result.exception or result.result}")


def _violations(project: Path, settings: Settings) -> dict[str, list[dict]]:
    """Rows of every evaluator fct_* model, by model name (read where dbt built them)."""
    manifest = json.loads((project / "target" / "manifest.json").read_text())
    relations = {
        node["name"]: node["relation_name"]
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model"
        and node["package_name"] == "dbt_project_evaluator"
        and node["name"].startswith("fct_")
    }
    engine = sa.create_engine(settings.embedded_warehouse)
    try:
        with engine.connect() as conn:
            return {
                name: [dict(row._mapping) for row in conn.execute(sa.text(f"select * from {rel}"))]
                for name, rel in sorted(relations.items())
            }
    finally:
        engine.dispose()


def main() -> int:
    if not (VENDOR / EVALUATOR).is_dir() or not (VENDOR / DBT_UTILS).is_dir():
        print(f"dbt-project-evaluator: skipped ({VENDOR} has no {EVALUATOR} and {DBT_UTILS})")
        return 0
    os.environ["DBT_SEND_ANONYMOUS_USAGE_STATS"] = "false"
    work = Path(tempfile.mkdtemp(prefix="mdw-evaluator-"))
    settings = Settings(MDW_HOME=work / "mdw", MDW_PG_PORT=_free_port())
    try:
        project = _prepare(work)
        postgres.start(settings)  # generates the server's password, which the profile needs
        _write_profile(work, settings)
        _dbt(project, work, "deps")
        _dbt(
            project,
            work,
            "build",
            "--select",
            "package:dbt_project_evaluator",
            "--exclude",
            "resource_type:test",
        )
        found = _violations(project, settings)
    finally:
        postgres.stop(settings)
        shutil.rmtree(work, ignore_errors=True)

    total = 0
    for name, rows in found.items():
        if name in COVERAGE_MODELS:
            for row in rows:
                print(f"{name}: {json.dumps(row, default=str)}")
            continue
        total += len(rows)
        for row in rows:
            print(f"{name}: {json.dumps(row, default=str)}")
    print(f"dbt-project-evaluator: {total} violation(s) in {len(found)} rule models")
    return 1 if total else 0


if __name__ == "__main__":
    sys.exit(main())
