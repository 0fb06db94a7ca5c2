"""The embedded server: password (scram-sha-256) authentication only, secrets under MDW_HOME."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import tempfile
from pathlib import Path

import psycopg2
import pytest

from lib.environment import public_environment
from mdw import postgres
from mdw.envvars import shell_exports
from settings import EMBEDDED_USER, Settings
from tests.conftest import free_port

pytestmark = pytest.mark.integration


def hba_methods(settings: Settings) -> set[str]:
    lines = (settings.pgdata / "pg_hba.conf").read_text().splitlines()
    return {line.split()[-1] for line in lines if line.strip() and not line.startswith("#")}


def psql(settings: Settings, sql: str, **extra: str) -> subprocess.CompletedProcess:
    """psql as a user's activated shell runs it: only what `mdw env` exports."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env.update(public_environment(settings), **extra)
    return subprocess.run(
        [str(postgres.BIN_DIR / "psql"), env["WAREHOUSE_URL"], "-Atc", sql],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_password_auth_only_and_the_password_only_in_a_0600_pgpass(pg_server):
    assert hba_methods(pg_server) == {"scram-sha-256"}
    mode = stat.S_IMODE(pg_server.pgpass_file.stat().st_mode)
    assert mode == 0o600
    password = pg_server.embedded_warehouse.password
    assert password and len(password) >= 32
    # nothing a user sees carries it: `mdw env` points at the file instead
    printed = shell_exports(pg_server)
    assert password not in printed
    assert f"export PGPASSFILE={pg_server.pgpass_file}" in printed
    assert public_environment(pg_server)["WAREHOUSE_URL"] == (
        f"postgresql://{EMBEDDED_USER}@127.0.0.1:{pg_server.pg_port}/warehouse"
    )


def test_psql_with_the_exported_url_works_and_no_password_is_refused(pg_server):
    ok = psql(pg_server, "select 1")
    assert ok.returncode == 0 and ok.stdout.strip() == "1", ok.stderr
    refused = psql(pg_server, "select 1", PGPASSFILE=os.devnull)
    assert refused.returncode != 0 and "password" in refused.stderr
    with pytest.raises(psycopg2.OperationalError, match="password authentication failed"):
        psycopg2.connect(
            host="127.0.0.1",
            port=pg_server.pg_port,
            user=EMBEDDED_USER,
            password="guess",
            dbname="postgres",
            connect_timeout=3,
        )


def test_a_trust_stack_from_before_is_migrated_on_up():
    home = Path(tempfile.mkdtemp(prefix="mdw-test-auth-"))
    settings = Settings(MDW_HOME=home, MDW_PG_PORT=free_port())
    try:
        postgres.start(settings)
        # make it look like a stack from before password auth: trust, no password, no pgpass
        (settings.pgdata / "pg_hba.conf").write_text(
            "local all all trust\nhost all all 127.0.0.1/32 trust\n"
        )
        conn = postgres._connect(settings, "postgres")
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("select pg_reload_conf()")
            cur.execute(f"alter role {EMBEDDED_USER} password null")
        conn.close()
        postgres.stop(settings)
        settings.pgpass_file.unlink()

        postgres.start(settings)  # what `mdw up` does

        assert hba_methods(settings) == {"scram-sha-256"}
        assert stat.S_IMODE(settings.pgpass_file.stat().st_mode) == 0o600
        assert psql(settings, "select count(*) from pg_database").returncode == 0
        assert psql(settings, "select 1", PGPASSFILE=os.devnull).returncode != 0
    finally:
        postgres.stop(settings)
        shutil.rmtree(home, ignore_errors=True)


def test_a_lost_password_file_is_one_clear_error():
    home = Path(tempfile.mkdtemp(prefix="mdw-test-auth-"))
    settings = Settings(MDW_HOME=home, MDW_PG_PORT=free_port())
    try:
        postgres.start(settings)
        postgres.stop(settings)
        settings.pgpass_file.unlink()
        with pytest.raises(RuntimeError, match="password file .* is missing"):
            postgres.start(settings)
    finally:
        shutil.rmtree(home, ignore_errors=True)
