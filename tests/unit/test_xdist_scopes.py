"""`make test`'s parallel workers (tests/conftest.py): what writes dbt_project/target is one
scope, run by one worker; every other module is a scope of its own."""

from __future__ import annotations

import ast

from settings import PROJECT_ROOT
from tests.conftest import SHARES_DBT_TARGET, scope_of


def test_the_e2e_stack_and_the_in_process_flows_share_one_scope():
    shared = {
        scope_of("tests/e2e/test_demo.py::test_make_demo_in_a_new_users_shell"),
        scope_of("tests/e2e/test_faults.py::test_a_killed_flow_process_crashes_its_run"),
        scope_of("tests/integration/test_dbt_step.py::test_anything"),
        scope_of("tests/integration/test_strategies.py::test_the_backtest_flow_builds_x"),
    }
    assert shared == {"dbt_project/target"}
    assert scope_of("tests/integration/test_strategies.py::test_every_metric") == (
        "tests/integration/test_strategies.py"
    )
    assert scope_of("tests/unit/test_cli.py::test_x[a::b]") == "tests/unit/test_cli.py"


def test_every_named_test_exists():
    """A renamed module or test would silently leave the shared scope."""
    for prefix in SHARES_DBT_TARGET:
        path, _, name = prefix.partition("::")
        target = PROJECT_ROOT / path
        assert target.exists(), prefix
        if name:
            tree = ast.parse(target.read_text())
            names = [n.name for n in tree.body if isinstance(n, ast.FunctionDef)]
            assert any(n.startswith(name) for n in names), prefix
