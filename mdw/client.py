"""Make this `mdw` process a client of the running stack (shared by the command groups).

Prefect reads its settings (the API URL among them) once, when `prefect` is first imported: a
change of `os.environ` after that import changes nothing, and a client without an API URL would
start a temporary server of its own. So `mdw.cli.main` enters `prefect_at_stack` before any
command runs: through the environment while `prefect` is not imported yet (no command module
imports it at import time; tests/unit/test_cli.py checks), and through Prefect's settings API
when something imported it first (a test, a program that embeds mdw). Either way the
temporary-server mode is off: without a reachable stack a command fails with one line.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from lib.environment import (
    prefect_auth_environment,
    prefect_client_environment,
    stack_environment,
)
from mdw import services
from mdw.errors import stack_down
from settings import Settings

# Prefect's setting paths (prefect.settings) of the variables in prefect_client_environment
PREFECT_SETTING_PATHS = {
    "PREFECT_API_URL": "api.url",
    "PREFECT_HOME": "home",
    "PREFECT_SERVER_EPHEMERAL_ENABLED": "server.ephemeral.enabled",
    "PREFECT_API_AUTH_STRING": "api.auth_string",
}


@contextmanager
def prefect_at_stack(settings: Settings | None) -> Iterator[None]:
    """Point this process's Prefect client at the stack's server for the duration.

    `settings` is None when the environment's settings are invalid: the command then fails with
    its own one-line error, and no Prefect client may start a temporary server meanwhile.
    """
    env = (
        prefect_client_environment(settings) | prefect_auth_environment(settings)
        if settings is not None
        else {"PREFECT_SERVER_EPHEMERAL_ENABLED": "false"}
    )
    saved = {key: os.environ.get(key) for key in env}
    os.environ.update(env)
    try:
        if "prefect" not in sys.modules:  # the environment is read at Prefect's first import
            yield
            return
        from prefect.settings import temporary_settings

        updates = {path: env[key] for key, path in PREFECT_SETTING_PATHS.items() if key in env}
        with temporary_settings(updates=updates):
            yield
    finally:  # an embedding program (or a test) gets its own environment back
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def use_stack(settings: Settings) -> None:
    """Point this process's dbt profile and warehouse URL at the stack (Prefect: see above)."""
    os.environ.update(stack_environment(settings))


def require_stack(settings: Settings) -> None:
    """Fail with one line (and exit code 2) when the stack's Prefect server is not up."""
    if not services.server_healthy(settings):
        raise stack_down(settings.prefect_api_url)
    use_stack(settings)
    # Flows run in this process: their logs go to the Prefect API (the UI shows them); the
    # terminal gets warnings and the command's own summary and progress.
    os.environ.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", "WARNING")


def venv() -> Path | None:
    return Path(sys.prefix) if sys.prefix != sys.base_prefix else None
