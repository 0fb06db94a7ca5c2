"""The README, executed (issue 16): `make demo` itself in a new user's shell, then the README's
second block in a clean shell, as a user copies them. Together they run the sample pipeline
twice (once by `make demo`, once by `prefect deployment run pipeline/sample --watch`): the
second run is the README's "run it again: it succeeds and changes no row count".

The commands come from README.md itself (`readme_blocks`), so they cannot drift from it.
"""

from __future__ import annotations

import json
import re

import pytest

from expectations.context import data_docs_index
from settings import PROJECT_ROOT
from tests.e2e.conftest import VENV

pytestmark = pytest.mark.e2e

README = PROJECT_ROOT / "README.md"
TABLES = (
    "raw.daily_bars",
    "raw.rejected_bars",
    "marts.fct_daily_bars",
    "marts.fct_daily_indicators",
)
# `make test` is the suite that is running this very test: it is not run again from here.
NOT_RUN = {"make test": "the whole suite, which is what runs this test"}


def readme_blocks(count: int = 2) -> list[str]:
    """The README's first `count` ```sh blocks, as text."""
    return re.findall(r"^```sh\n(.*?)^```", README.read_text(), re.S | re.M)[:count]


def commands(block: str) -> list[str]:
    """The block's command lines without their trailing comments (continuations kept)."""
    return [re.sub(r"\s+#.*$", "", line).strip() for line in block.splitlines() if line.strip()]


def test_the_first_block_is_make_demo_then_make_test():
    """What `demo` runs is the README's first command; the only one not run is `make test`."""
    first, _ = readme_blocks()
    assert commands(first) == ["make demo", "make test"]
    assert set(NOT_RUN) == {c for c in commands(first) if c != "make demo"}


def test_make_demo_in_a_new_users_shell(stack, demo):
    """`make demo` (the target itself): rc 0, no temporary server (Stack.run checks every
    command), the pipeline run through the stack's server and its summary."""
    out = demo.stdout
    assert demo.returncode == 0, out[-3000:] + demo.stderr[-3000:]
    assert "pipeline/sample: Completed" in out
    assert "| raw_daily_bars | passed |" in out and "22213" in out
    # warnings are warnings (defect 8): listed as such, never under "Failed expectations"
    assert "| data_quality_warnings | 1 warning(s) (not gating) | 1 | 0 |" in out
    assert "Failed expectations" not in out and "Warnings (not gating):" in out
    report = stack.settings.reports_dir / "index.html"
    assert f"Report site    {report.as_uri()}" in out and report.exists()
    assert "psql" in out and data_docs_index().exists()
    assert (PROJECT_ROOT / "dbt_project" / "target" / "static_index.html").exists()
    assert stack.count("marts.fct_daily_indicators") == 22202
    assert stack.count("marts.fct_daily_bars") == 22202
    assert stack.count("raw.rejected_bars") == 11


def test_the_readme_second_block_in_a_clean_shell(stack, demo):
    """`source .venv/bin/activate`, dbt build, the pipeline through the `prefect` CLI, psql,
    dbt debug - verbatim from the README, in a shell that has only what `make demo` left."""
    assert demo.returncode == 0, "make demo failed (see its own test)"
    assert VENV == PROJECT_ROOT / ".venv", f"the README's commands need the venv at .venv: {VENV}"
    before = {t: stack.count(t) for t in TABLES}
    _, second = readme_blocks()
    done = stack.shell(second, stack.env, timeout=2400)
    said = done.stdout + done.stderr
    assert done.returncode == 0, said[-4000:]
    assert "All checks passed!" in said  # dbt debug found the profile and the database
    assert re.search(r"^ AAPL\s+\| \d{4}-\d\d-\d\d", done.stdout, re.M), done.stdout[-2000:]
    assert {t: stack.count(t) for t in TABLES} == before  # run again: no row count changes

    flow_run = stack.latest_run("pipeline/sample")
    assert flow_run["state"]["type"] == "COMPLETED"
    artifacts = stack.api(
        "/artifacts/filter",
        {
            "artifacts": {
                "key": {"any_": ["pipeline-summary"]},
                "flow_run_id": {"any_": [flow_run["id"]]},
            }
        },
    )
    assert len(artifacts) == 1
    summary = artifacts[0]["data"]
    assert "| raw_daily_bars | passed |" in summary and "Failed expectations" not in summary
    # the dbt step left every node with its status and seconds (the `dbt-nodes` artifact)
    children = stack.api(
        "/flow_runs/filter", {"flow_runs": {"parent_flow_run_id": {"any_": [flow_run["id"]]}}}
    )
    tables = stack.api(
        "/artifacts/filter",
        {
            "artifacts": {
                "key": {"any_": ["dbt-nodes"]},
                "flow_run_id": {"any_": [r["id"] for r in children]},
            }
        },
    )
    assert len(tables) == 1, tables
    nodes = (
        json.loads(tables[0]["data"]) if isinstance(tables[0]["data"], str) else tables[0]["data"]
    )
    by_name = {n["node"]: n for n in nodes}
    assert by_name["fct_daily_indicators"]["status"] == "success", sorted(by_name)[:20]
    assert all(isinstance(n["seconds"], int | float) for n in nodes)
