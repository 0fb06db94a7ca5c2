"""dbt's context for sqlfluff's jinja templater (`.sqlfluff`: library_path), where its own stand-ins
fall short: `var()` answers from dbt_project.yml's vars as dbt does (sqlfluff's returns a
placeholder string, which the indicator registry, a mapping, cannot iterate), and `context` looks a
macro up by name as dbt's does (the registry calls each family's macro by its name). So the
engine and the models that call it render for the linter as dbt renders them."""

from __future__ import annotations

import datetime
import hashlib
import itertools
import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import yaml
from jinja2 import pass_context
from jinja2.runtime import Context

_VARS: dict[str, Any] = yaml.safe_load(
    (Path(__file__).resolve().parent.parent / "dbt_project.yml").read_text()
)["vars"]


def var(name: str, default: Any = None) -> Any:
    """dbt's var(): the project's value (no --vars in a lint)."""
    return _VARS.get(name, default)


class _Context:
    """dbt's `context`: the template's names, macros included."""

    @pass_context
    def get(self, jinja_context: Context, name: str, default: Any = None) -> Any:
        return jinja_context.get(name, default)


context = _Context()


# dbt's `modules` (the Python modules its Jinja context exposes) and `local_md5`
modules = SimpleNamespace(re=re, datetime=datetime, itertools=itertools)


def local_md5(value: str) -> str:
    return hashlib.md5(value.encode(), usedforsecurity=False).hexdigest()
