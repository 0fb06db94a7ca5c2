"""Running unattended: `mdw schedule enable|disable NAME`, `mdw backup`, `mdw restore`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from lib.backup import restore
from mdw import services
from mdw.client import require_stack
from mdw.console import out
from mdw.errors import UserError
from settings import Settings, get_settings

schedule_app = typer.Typer(
    help="Turn a deployment's schedules on or off (kept across `mdw down` / `mdw up`).",
    no_args_is_help=True,
)

Deployment = Annotated[str, typer.Argument(help="flow/deployment, e.g. pipeline/daily")]


def _set(deployment: str, active: bool) -> None:
    settings = get_settings()
    require_stack(settings)
    try:
        schedules = services.set_schedule_active(settings, deployment, active)
    except RuntimeError as exc:
        raise UserError(str(exc)) from None
    for sched in schedules:
        spec = sched["schedule"]
        what = spec.get("cron") or f"every {spec.get('interval')} s"
        state = "active" if sched["active"] else "inactive"
        out.print(f"{deployment}: {what} ({spec.get('timezone') or 'UTC'}) {state}", markup=False)


@schedule_app.command("enable")
def cmd_enable(deployment: Deployment) -> None:
    """Switch the deployment's schedules on (and un-pause it)."""
    _set(deployment, True)


@schedule_app.command("disable")
def cmd_disable(deployment: Deployment) -> None:
    """Switch the deployment's schedules off."""
    _set(deployment, False)


def cmd_backup(
    output: Annotated[
        Path | None,
        typer.Option("--output", help="folder for the archives (default $MDW_HOME/backups)"),
    ] = None,
) -> None:
    """pg_dump the warehouse and, separately, the Prefect database (verified, last N kept)."""
    from lib.backup import backup_stack

    settings = get_settings()
    try:
        archives = backup_stack(settings, output)
    except RuntimeError as exc:
        raise UserError("backup failed", str(exc)) from None
    for a in archives:
        out.print(
            f"{a.database:<10} {a.path}  {a.bytes / 1e6:.1f} MB, {a.entries} tables "
            "(verified with pg_restore --list)",
            markup=False,
        )
    out.print(f"kept the last {settings.backup_keep} of each (MDW_BACKUP_KEEP)", markup=False)


def restore_stack(settings: Settings, archive: Path, yes: bool) -> str:
    """`mdw restore PATH --yes`: refuses without --yes and while any flow run is active."""
    if not yes:
        raise RuntimeError(
            f"restore replaces the warehouse database {settings.warehouse.database!r} with "
            f"{archive}: rerun with --yes"
        )
    if services.server_healthy(settings):
        active = services.active_runs(settings)
        if active:
            names = ", ".join(f"{r['name']} ({r['state_type']})" for r in active)
            raise RuntimeError(f"refusing to restore while flow runs are active: {names}")
    return restore(settings.warehouse, archive, settings.embedded)


def cmd_restore(
    path: Annotated[Path, typer.Argument(help="a warehouse-*.dump archive of `mdw backup`")],
    yes: Annotated[bool, typer.Option("--yes", help="yes, replace the warehouse")] = False,
) -> None:
    """Replace the warehouse with an archive (refused without --yes or while a run is active)."""
    settings = get_settings()
    try:
        restore_stack(settings, path, yes)
    except RuntimeError as exc:
        raise UserError("restore refused or failed", str(exc)) from None
    out.print(f"restored {settings.warehouse.database} from {path}", markup=False)


def register(app: typer.Typer) -> None:
    app.add_typer(schedule_app, name="schedule")
    app.command("backup")(cmd_backup)
    app.command("restore")(cmd_restore)
