"""A user's shell and the venv's activate script: the stack's exports (lib.environment)."""

from __future__ import annotations

import shlex
from pathlib import Path

from lib.environment import prefect_auth_export, public_environment
from mdw.postgres import BIN_DIR
from settings import Settings

ACTIVATE_BEGIN = "# >>> mdw stack environment >>>"
ACTIVATE_END = "# <<< mdw stack environment <<<"


def shell_exports(settings: Settings) -> str:
    lines = [f"export {k}={shlex.quote(v)}" for k, v in public_environment(settings).items()]
    lines.append(f'export PATH={shlex.quote(str(BIN_DIR))}:"$PATH"')
    # the Prefect API's credentials are read from their 0600 file, never printed
    lines.append(prefect_auth_export(settings))
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
