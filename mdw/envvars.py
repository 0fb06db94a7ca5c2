"""The environment the stack's processes and a user's shell share (pure functions)."""

from __future__ import annotations

import shlex
from pathlib import Path

from mdw.postgres import BIN_DIR
from settings import Settings

ACTIVATE_BEGIN = "# >>> mdw stack environment >>>"
ACTIVATE_END = "# <<< mdw stack environment <<<"


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
        "PREFECT_API_URL": settings.prefect_api_url,
        "PREFECT_HOME": str(settings.prefect_home),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",  # Prefect's SDK telemetry (and its first-run notice): off
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
    env = public_environment(settings)
    env["PREFECT_API_DATABASE_CONNECTION_URL"] = settings.prefect_database.render_as_string(
        hide_password=False
    )
    if not settings.embedded:
        assert settings.warehouse_url_override is not None
        env["WAREHOUSE_URL"] = settings.warehouse_url_override.get_secret_value()
        if settings.warehouse.password:
            env["PGPASSWORD"] = str(settings.warehouse.password)
    return env


def shell_exports(settings: Settings) -> str:
    lines = [f"export {k}={shlex.quote(v)}" for k, v in public_environment(settings).items()]
    lines.append(f'export PATH={shlex.quote(str(BIN_DIR))}:"$PATH"')
    if not settings.embedded:
        lines.append("# WAREHOUSE_URL is yours; set PGPASSWORD or ~/.pgpass for psql and dbt")
    else:
        lines.append('# psql "$WAREHOUSE_URL" (a libpq URL; the password is read from PGPASSFILE)')
    return "\n".join(lines) + "\n"


def with_activate_block(activate_text: str, exports: str) -> str:
    """Put (or replace) the stack's exports at the end of a venv `activate` script."""
    head = activate_text
    if ACTIVATE_BEGIN in head:
        before, _, rest = head.partition(ACTIVATE_BEGIN)
        _, _, after = rest.partition(ACTIVATE_END)
        head = before.rstrip("\n") + "\n" + after.lstrip("\n")
    return f"{head.rstrip()}\n{ACTIVATE_BEGIN}\n{exports}{ACTIVATE_END}\n"


def write_activate(settings: Settings, venv: Path) -> Path | None:
    activate = venv / "bin" / "activate"
    if not activate.exists():
        return None
    activate.write_text(with_activate_block(activate.read_text(), shell_exports(settings)))
    return activate


def apply_client_environment(settings: Settings) -> None:
    """Point this process's dbt (profiles.yml reads PG*) and Prefect client at the stack."""
    import os

    for key, value in stack_environment(settings).items():
        if key.startswith(("PG", "DBT_", "WAREHOUSE_URL")):
            os.environ[key] = value
