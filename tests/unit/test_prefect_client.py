"""`mdw` points Prefect at the stack whatever was imported first, and never at a temporary
server (issue 16: Prefect reads PREFECT_API_URL once, at its first import)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from mdw.client import prefect_at_stack
from settings import PROJECT_ROOT, Settings

USER_SHELL = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/"), "LANG": "C.UTF-8"}


def test_no_command_module_imports_prefect_at_import_time():
    """The environment set by mdw.cli.main reaches Prefect only if Prefect is imported later."""
    probe = (
        "import importlib, sys, mdw.cli\n"
        "from mdw.commands import GROUPS\n"
        "for g in GROUPS: importlib.import_module(f'mdw.commands.{g}')\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('prefect', 'prefect_dbt')))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe],
        env=USER_SHELL,
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_prefect_imported_first_is_pointed_at_the_stack_through_its_settings(tmp_path: Path):
    import prefect.settings as prefect_settings

    settings = Settings(MDW_HOME=tmp_path, MDW_PREFECT_PORT=45999)
    with prefect_at_stack(settings):
        current = prefect_settings.get_current_settings()
        assert current.api.url == "http://127.0.0.1:45999/api"
        assert current.server.ephemeral.enabled is False
        assert Path(current.home) == settings.prefect_home
    assert prefect_settings.get_current_settings().api.url != "http://127.0.0.1:45999/api"
    assert os.environ.get("PREFECT_API_URL") != "http://127.0.0.1:45999/api"


def test_invalid_settings_still_forbid_a_temporary_server(monkeypatch):
    monkeypatch.delenv("PREFECT_SERVER_EPHEMERAL_ENABLED", raising=False)
    with prefect_at_stack(None):
        assert os.environ["PREFECT_SERVER_EPHEMERAL_ENABLED"] == "false"
    assert "PREFECT_SERVER_EPHEMERAL_ENABLED" not in os.environ
