"""dbt targets: `local`/`prod` build into staging/intermediate/marts, `dev` into <name>_*."""

from __future__ import annotations

from settings import PROJECT_ROOT

DBT_PROJECT = PROJECT_ROOT / "dbt_project"


def model_schemas(target: str, tmp_path, monkeypatch) -> set[str]:
    from dbt.cli.main import dbtRunner

    monkeypatch.setenv("DBT_DEV_SCHEMA", "Alice")
    monkeypatch.setenv("PGHOST", "127.0.0.1")  # parse renders the profile but never connects
    monkeypatch.setenv("PGUSER", "someone")
    monkeypatch.setenv("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    result = dbtRunner().invoke(
        [
            "parse",
            "--target",
            target,
            "--project-dir",
            str(DBT_PROJECT),
            "--profiles-dir",
            str(PROJECT_ROOT),
            "--target-path",
            str(tmp_path / target),
            "--no-partial-parse",
            "--quiet",
        ]
    )
    assert result.success, result.exception
    return {n.schema for n in result.result.nodes.values() if n.resource_type == "model"}


def test_prod_uses_the_schemas_as_named(tmp_path, monkeypatch):
    # (`local` is what every other dbt test builds, into the same names)
    assert model_schemas("prod", tmp_path, monkeypatch) == {"staging", "intermediate", "marts"}


def test_dev_prefixes_every_schema_with_the_developers_name(tmp_path, monkeypatch):
    assert model_schemas("dev", tmp_path, monkeypatch) == {
        "alice_staging",
        "alice_intermediate",
        "alice_marts",
    }
