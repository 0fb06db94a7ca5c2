"""Running unattended: `mdw schedule enable|disable NAME`, `mdw backup`, `mdw restore`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from lib.backup import Restored, drop_replaced, replaced_databases, restore, undo_restore
from mdw import postgres, schedules, services
from mdw.client import require_stack
from mdw.console import out
from mdw.errors import UserError, warehouse_down
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
        changed = services.set_schedule_active(settings, deployment, active)
    except RuntimeError as exc:
        raise UserError(str(exc)) from None
    for sched in changed:
        state = "active" if sched["active"] else "inactive"
        out.print(f"{deployment}: {schedules.describe(sched['schedule'])} {state}", markup=False)
    watched = schedules.sync_deadman(settings)
    out.print(
        f"dead-man's switch: alerts when no run of {deployment} completes within its period "
        "plus a grace"
        if deployment in watched
        else f"dead-man's switch: off for {deployment}"
        + ("" if active else " (schedule inactive)"),
        markup=False,
    )


@schedule_app.command("enable")
def cmd_enable(deployment: Deployment) -> None:
    """Switch the deployment's schedules on (and un-pause it)."""
    _set(deployment, True)


@schedule_app.command("disable")
def cmd_disable(deployment: Deployment) -> None:
    """Switch the deployment's schedules off."""
    _set(deployment, False)


def require_warehouse(settings: Settings) -> None:
    """Fail with the stack-down line (exit 3) when the stack's PostgreSQL does not answer."""
    if settings.embedded:
        if not postgres.status(settings).running:
            raise warehouse_down(f"127.0.0.1:{settings.pg_port}", "the embedded server is stopped")
        return
    import psycopg2

    wh = settings.warehouse
    try:
        psycopg2.connect(
            host=wh.host,
            port=wh.port,
            user=wh.username,
            password=str(wh.password) if wh.password else None,
            dbname=wh.database,
            connect_timeout=5,
        ).close()
    except psycopg2.OperationalError as exc:
        raise warehouse_down(f"{wh.host}:{wh.port}", exc) from None


def cmd_backup(
    output: Annotated[
        Path | None,
        typer.Option("--output", help="folder for the archives (default $MDW_HOME/backups)"),
    ] = None,
) -> None:
    """pg_dump the warehouse and, separately, the Prefect database (verified, last N kept);
    databases replaced by earlier restores are dropped once the new archive is verified."""
    from lib.backup import backup_stack

    settings = get_settings()
    require_warehouse(settings)
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
        if a.dropped:
            out.print(
                f"dropped (replaced by earlier restores): {', '.join(a.dropped)}", markup=False
            )
    out.print(f"kept the last {settings.backup_keep} of each (MDW_BACKUP_KEEP)", markup=False)


def _refuse_while_active(settings: Settings) -> None:
    if services.server_healthy(settings):
        active = services.active_runs(settings)
        if active:
            names = ", ".join(f"{r['name']} ({r['state_type']})" for r in active)
            raise RuntimeError(f"refusing to restore while flow runs are active: {names}")


def restore_stack(settings: Settings, archive: Path, yes: bool) -> Restored:
    """`mdw restore PATH --yes`: refuses without --yes, while any flow run is active, and an
    archive that is not a warehouse archive."""
    if not yes:
        raise RuntimeError(
            f"restore replaces the warehouse database {settings.warehouse.database!r} with "
            f"{archive} (the replaced one is kept): rerun with --yes"
        )
    _refuse_while_active(settings)
    return restore(settings.warehouse, archive, settings.embedded)


def cmd_restore(
    path: Annotated[
        Path | None, typer.Argument(help="a warehouse-*.dump archive of `mdw backup`")
    ] = None,
    yes: Annotated[bool, typer.Option("--yes", help="yes, replace the warehouse")] = False,
    undo: Annotated[
        bool,
        typer.Option("--undo", help="put back the database the last restore replaced (--yes)"),
    ] = False,
    drop_kept: Annotated[
        bool,
        typer.Option("--drop-replaced", help="drop the databases earlier restores replaced"),
    ] = False,
) -> None:
    """Replace the warehouse with an archive (refused without --yes, while a run is active, or
    for an archive that is not the warehouse's); the replaced database is kept until
    `--drop-replaced` or the next verified `mdw backup`, and `--undo` puts it back."""
    settings = get_settings()
    if sum((path is not None, undo, drop_kept)) != 1:
        raise UserError(
            "mdw restore needs one of: an archive PATH, --undo, --drop-replaced",
            fix="see `mdw restore --help`",
            exit_code=2,
        )
    require_warehouse(settings)
    name = settings.warehouse.database
    if drop_kept:
        dropped = drop_replaced(settings.warehouse)
        out.print(f"dropped: {', '.join(dropped)}" if dropped else "nothing to drop", markup=False)
        return
    try:
        if undo:
            if not yes:
                kept = replaced_databases(settings.warehouse)
                raise RuntimeError(
                    f"--undo replaces {name!r} with {kept[-1] if kept else 'nothing kept'}: "
                    "rerun with --yes"
                )
            _refuse_while_active(settings)
            done = undo_restore(settings.warehouse)
            what = "put back the database the last restore replaced"
        else:
            assert path is not None
            done = restore_stack(settings, path, yes)
            what = f"restored {name} from {path}"
    except RuntimeError as exc:
        raise UserError("restore refused or failed", str(exc)) from None
    out.print(
        f"{what}; the database it replaced is kept as {done.kept} "
        "(`mdw restore --undo --yes` puts it back; `mdw restore --drop-replaced` or the next "
        "verified `mdw backup` drops it)",
        markup=False,
    )


def register(app: typer.Typer) -> None:
    app.add_typer(schedule_app, name="schedule")
    app.command("backup")(cmd_backup)
    app.command("restore")(cmd_restore)
