"""Read-only analyst roles: log in, read `marts`, nothing else (no raw, no writes, no DDL).

Every analyst is a member of the NOLOGIN group role `mdw_analyst`, which holds the grants:
CONNECT on the warehouse database, USAGE on schema marts, SELECT on its tables, and default
privileges so that the tables dbt rebuilds in marts stay readable. Role names are checked and
always sent as identifiers; passwords and settings as bound literals.

Limits per analyst: a connection limit (enforced by PostgreSQL), and session defaults for the
statement timeout and the idle-in-transaction timeout (a session holding a transaction open
would block the nightly dbt build's table swaps).

Read-only is enforced by privileges, not by the session's read-only flag: PostgreSQL 18 lets
every role switch its own session to read-write (`begin read write`, or `set
default_transaction_read_only = off`; only a hot standby refuses). So nothing in the warehouse
database is writable by PUBLIC: no CREATE on schema public, no TEMP on the database, no large
objects (lo_create and kin), and the analysts' group holds SELECT only.
"""

from __future__ import annotations

import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

import psycopg2
from psycopg2 import sql
from sqlalchemy.engine import URL

from settings import without_password

GROUP = "mdw_analyst"
SCHEMA = "marts"
NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
RESERVED = {"postgres", "public", GROUP}
# A PostgreSQL duration with its unit: 30s, 5min, 2h, 500ms.
DURATION = re.compile(r"^[1-9][0-9]{0,8}(ms|s|min|h|d)$")

DEFAULT_CONNECTION_LIMIT = 10
DEFAULT_STATEMENT_TIMEOUT = "5min"
IDLE_IN_TRANSACTION_TIMEOUT = "10min"
# Large objects can be created by any role that may execute these (PUBLIC, by default).
LARGE_OBJECT_WRITERS = (
    "lo_create(oid)",
    "lo_creat(integer)",
    "lo_from_bytea(oid, bytea)",
    "lo_import(text)",
    "lo_import(text, oid)",
)


class AnalystError(ValueError):
    """A name that cannot be an analyst, or an analyst that does not exist."""


@dataclass(frozen=True)
class Analyst:
    name: str
    url: str  # libpq URL, no password
    pgpass_file: Path
    connection_limit: int = DEFAULT_CONNECTION_LIMIT
    statement_timeout: str = DEFAULT_STATEMENT_TIMEOUT


def check_name(name: str) -> str:
    if not NAME.match(name) or name in RESERVED or name.startswith("pg_"):
        raise AnalystError(
            f"{name!r} cannot be an analyst role name: use lower-case letters, digits and _, "
            "starting with a letter (not postgres, public, mdw_analyst or pg_*)"
        )
    return name


def check_limits(connection_limit: int, statement_timeout: str) -> None:
    if connection_limit < 1:
        raise AnalystError(
            f"connection limit {connection_limit} must be at least 1 (an analyst must connect)"
        )
    if not DURATION.match(statement_timeout):
        raise AnalystError(
            f"statement timeout {statement_timeout!r} is not a duration: write a number and a "
            "unit, e.g. 30s, 5min, 2h (ms, s, min, h, d)"
        )


def _connect(url: URL):
    return psycopg2.connect(
        host=url.host,
        port=url.port,
        user=url.username,
        password=url.password,
        dbname=url.database,
        connect_timeout=5,
    )


def _role_exists(cur, name: str) -> bool:
    cur.execute("select 1 from pg_roles where rolname = %s", (name,))
    return cur.fetchone() is not None


def _is_analyst(cur, name: str) -> bool:
    cur.execute(
        "select 1 from pg_auth_members m join pg_roles r on r.oid = m.member"
        " join pg_roles g on g.oid = m.roleid where r.rolname = %s and g.rolname = %s",
        (name, GROUP),
    )
    return cur.fetchone() is not None


def ensure_group(cur, database: str) -> None:
    """The group role and its grants in `database`, and nothing writable by PUBLIC there
    (idempotent)."""
    if not _role_exists(cur, GROUP):
        cur.execute(sql.SQL("create role {} nologin").format(sql.Identifier(GROUP)))
    group, schema = sql.Identifier(GROUP), sql.Identifier(SCHEMA)
    for statement in (
        "grant connect on database {db} to {group}",
        "create schema if not exists {schema}",
        "grant usage on schema {schema} to {group}",
        "grant select on all tables in schema {schema} to {group}",
        # dbt rebuilds marts tables (as this role): new tables are readable too
        "alter default privileges in schema {schema} grant select on tables to {group}",
        # what PUBLIC may write by default: temporary objects, the public schema (PostgreSQL
        # 15+ no longer grants it; a database from an older template may)
        "revoke temporary on database {db} from public",
        "revoke create on schema public from public",
    ):
        cur.execute(
            sql.SQL(statement).format(db=sql.Identifier(database), group=group, schema=schema)
        )
    # and large objects (signatures are fixed text, not input)
    cur.execute(
        "revoke execute on function "
        + ", ".join(f"pg_catalog.{f}" for f in LARGE_OBJECT_WRITERS)
        + " from public"
    )


def _write_pgpass(path: Path, url: URL, name: str, password: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(f"{url.host}:{url.port or 5432}:{url.database}:{name}:{password}\n")
    os.chmod(path, 0o600)


def add(
    admin: URL,
    name: str,
    pgpass_dir: Path,
    *,
    connection_limit: int = DEFAULT_CONNECTION_LIMIT,
    statement_timeout: str = DEFAULT_STATEMENT_TIMEOUT,
) -> Analyst:
    """Create (or reset the password and limits of) analyst `name`; its password goes to a
    0600 pgpass. One transaction: a refusal leaves nothing half made."""
    check_name(name)
    check_limits(connection_limit, statement_timeout)
    password = secrets.token_urlsafe(24)
    conn = _connect(admin)
    try:
        with conn, conn.cursor() as cur:
            ensure_group(cur, admin.database)
            role = sql.Identifier(name)
            if _role_exists(cur, name) and not _is_analyst(cur, name):
                raise AnalystError(f"role {name!r} exists and is not an analyst: left unchanged")
            verb = "alter" if _role_exists(cur, name) else "create"
            cur.execute(
                sql.SQL(verb + " role {} login password %s connection limit {}").format(
                    role, sql.Literal(connection_limit)
                ),
                (password,),
            )
            cur.execute(sql.SQL("grant {} to {}").format(sql.Identifier(GROUP), role))
            for parameter, value in (
                ("default_transaction_read_only", "on"),
                ("statement_timeout", statement_timeout),
                ("idle_in_transaction_session_timeout", IDLE_IN_TRANSACTION_TIMEOUT),
            ):
                cur.execute(
                    sql.SQL("alter role {} set {} = {}").format(
                        role, sql.Identifier(parameter), sql.Literal(value)
                    )
                )
    finally:
        conn.close()
    path = pgpass_dir / f"{name}.pgpass"
    _write_pgpass(path, admin, name, password)
    url = without_password(admin.set(drivername="postgresql", username=name))
    return Analyst(name, url.render_as_string(), path, connection_limit, statement_timeout)


def remove(admin: URL, name: str, pgpass_dir: Path) -> bool:
    """Drop analyst `name` (only a member of mdw_analyst). False when there was none."""
    check_name(name)
    conn = _connect(admin)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            if not _role_exists(cur, name):
                return False
            if not _is_analyst(cur, name):
                raise AnalystError(f"role {name!r} is not an analyst: not dropped")
            cur.execute(sql.SQL("drop owned by {}").format(sql.Identifier(name)))
            cur.execute(sql.SQL("drop role {}").format(sql.Identifier(name)))
    finally:
        conn.close()
    (pgpass_dir / f"{name}.pgpass").unlink(missing_ok=True)
    return True
