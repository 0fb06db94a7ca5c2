"""Make this `mdw` process a client of the running stack (shared by the command groups)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from lib.environment import stack_environment
from mdw import services
from mdw.errors import stack_down
from settings import Settings


def use_stack(settings: Settings) -> None:
    """Point this process's Prefect client, dbt profile and warehouse URL at the stack."""
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
