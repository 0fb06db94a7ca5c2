"""The environment the stack's processes share (pure functions of the settings).

`mdw` starts the server and workers with `stack_environment`; flows point their own dbt and
Prefect clients at the stack with `apply_client_environment`; `mdw env` prints
`public_environment` (never a password) and `prefect_auth_export` (a line that reads the
API's credentials from their 0600 file).
"""

from __future__ import annotations

import os
import shlex
from pathlib import Path

from settings import Settings


def prefect_client_environment(settings: Settings) -> dict[str, str]:
    """What a Prefect client needs to talk to the stack's server, and only to it.

    Prefect's own default profile allows an "ephemeral" mode: a client with no API URL starts a
    temporary server of its own. Never for this stack: a missing URL is an error, not a second
    server with its own database.
    """
    return {
        "PREFECT_API_URL": settings.prefect_api_url,
        "PREFECT_HOME": str(settings.prefect_home),
        "PREFECT_SERVER_EPHEMERAL_ENABLED": "false",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",  # Prefect's SDK telemetry (and its first-run notice): off
    }


def prefect_auth_file(settings: Settings) -> Path:
    """The Prefect API's credentials (`user:password`, 0600, made by the first `mdw up`)."""
    return settings.mdw_home / "prefect-auth"


def read_prefect_auth(settings: Settings) -> str | None:
    try:
        return prefect_auth_file(settings).read_text().strip() or None
    except OSError:
        return None


def prefect_auth_environment(settings: Settings) -> dict[str, str]:
    """The client side of the API's credentials: never printed (see `prefect_auth_export`)."""
    auth = read_prefect_auth(settings)
    return {"PREFECT_API_AUTH_STRING": auth} if auth else {}


def prefect_auth_export(settings: Settings) -> str:
    """A shell line that exports the credentials by reading their file, not by quoting them."""
    path = shlex.quote(str(prefect_auth_file(settings)))
    return f'export PREFECT_API_AUTH_STRING="$(cat {path} 2>/dev/null)"'


def public_environment(settings: Settings) -> dict[str, str]:
    """Variables safe to print: no password ever appears here."""
    wh = settings.warehouse
    env = {
        "MDW_HOME": str(settings.mdw_home),
        "MDW_PG_PORT": str(settings.pg_port),
        "MDW_PREFECT_PORT": str(settings.prefect_port),
        "PGHOST": wh.host or "127.0.0.1",
        "PGPORT": str(wh.port or 5432),
        "PGUSER": wh.username or "postgres",
        "PGDATABASE": wh.database or "warehouse",
        **prefect_client_environment(settings),
        "PREFECT_RUNNER_POLL_FREQUENCY": "2",
        "DBT_PROFILES_DIR": str(settings.profiles_dir),
        "DBT_PROJECT_DIR": str(settings.dbt_project_dir),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    if settings.embedded:
        # A libpq URL (psql, psycopg, pandas, any SQL client); the password comes from PGPASSFILE.
        env["WAREHOUSE_URL"] = settings.warehouse_libpq_url
        env["PGPASSFILE"] = str(settings.pgpass_file)
    return env


def stack_environment(settings: Settings) -> dict[str, str]:
    """What child processes get: the public set plus connection secrets, never printed."""
    env = public_environment(settings) | prefect_auth_environment(settings)
    env["PREFECT_API_DATABASE_CONNECTION_URL"] = settings.prefect_database.render_as_string(
        hide_password=False
    )
    if not settings.embedded:
        assert settings.warehouse_url_override is not None
        env["WAREHOUSE_URL"] = settings.warehouse_url_override.get_secret_value()
        if settings.warehouse.password:
            env["PGPASSWORD"] = str(settings.warehouse.password)
    return env


def apply_client_environment(settings: Settings) -> None:
    """Point this process's dbt (profiles.yml reads PG*) and Prefect client at the stack."""
    for key, value in stack_environment(settings).items():
        if key.startswith(("PG", "DBT_", "WAREHOUSE_URL")):
            os.environ[key] = value
