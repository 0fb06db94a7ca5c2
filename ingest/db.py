"""Connections and schema migrations for the raw layer."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources

import psycopg2
import psycopg2.extensions
from sqlalchemy.engine import URL

MIGRATION_LOCK = 7_463_001  # pg_advisory_xact_lock key: one migrator at a time


def connect(url: URL) -> psycopg2.extensions.connection:
    return psycopg2.connect(
        host=url.host,
        port=url.port,
        user=url.username,
        password=url.password,
        dbname=url.database,
        application_name="mdw-ingest",
        **{k: str(v) for k, v in url.query.items()},
    )


@contextmanager
def transaction(url: URL) -> Iterator[psycopg2.extensions.cursor]:
    """One transaction, durable on commit whatever the server's default: a landing reported
    as done survives a crash (the embedded server runs with synchronous_commit=off, which may
    lose the last commits of a crash)."""
    conn = connect(url)
    try:
        with conn, conn.cursor() as cur:
            cur.execute("set local synchronous_commit to on")
            yield cur
    finally:
        conn.close()


def migration_files() -> list[tuple[str, str]]:
    """(version, sql) for every bundled migration, in order."""
    folder = resources.files("ingest") / "migrations"
    files = sorted(p for p in folder.iterdir() if p.name.endswith(".sql"))
    return [(p.name.removesuffix(".sql"), p.read_text()) for p in files]


def migrate(url: URL) -> list[str]:
    """Apply pending migrations in one transaction, under a lock. Returns the versions applied."""
    applied: list[str] = []
    with transaction(url) as cur:
        cur.execute("select pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
        cur.execute("create schema if not exists raw")
        cur.execute(
            "create table if not exists raw.schema_migrations ("
            " version text primary key, applied_at timestamptz not null default now())"
        )
        cur.execute("select version from raw.schema_migrations")
        done = {row[0] for row in cur.fetchall()}
        for version, sql in migration_files():
            if version in done:
                continue
            cur.execute(sql)
            cur.execute("insert into raw.schema_migrations (version) values (%s)", (version,))
            applied.append(version)
    return applied
