"""`mdw` command groups: one module per group, each exposing `register(app)`.

To add a group: write `mdw/commands/<name>.py` with a `register(app: typer.Typer)` that adds
its commands (or `app.add_typer(...)` a sub-app), and list the module in `GROUPS`.
Raise `mdw.errors.UserError` for anything the user can fix; `mdw.cli` prints it on one line.
"""

from __future__ import annotations

GROUPS = ["stack", "ingest", "validate", "ops", "analyst", "report", "backtest"]
