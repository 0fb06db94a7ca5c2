"""The layering runs one way: settings <- ingest <- lib <- flows <- mdw (imports read from the
source). `lib` is library code that is not a flow: it knows neither Prefect nor the CLI."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# package -> top-level modules it must never import
FORBIDDEN = {
    "ingest": {"prefect", "prefect_dbt", "lib", "flows", "mdw", "settings"},
    "lib": {"prefect", "prefect_dbt", "flows", "mdw"},
    "flows": {"mdw"},
    "expectations": {"flows", "mdw"},
}


def imported_modules(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_a_package_imports_nothing_above_it(package):
    offences = {
        str(path.relative_to(ROOT)): sorted(imported_modules(path) & FORBIDDEN[package])
        for path in sorted((ROOT / package).rglob("*.py"))
    }
    assert {p: m for p, m in offences.items() if m} == {}


def test_settings_imports_no_package_of_the_project():
    assert (
        imported_modules(ROOT / "settings.py") & {"ingest", "lib", "flows", "mdw", "expectations"}
        == set()
    )
