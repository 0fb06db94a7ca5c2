"""Integration fixtures: a warehouse with the bundled sample landed and the dbt project built."""

from __future__ import annotations

import atexit
import hashlib
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import URL

from ingest.db import migrate
from ingest.landing import ingest_file
from ingest.sessions import calendar_start, land_sessions
from mdw import postgres
from settings import PROJECT_ROOT, Settings
from tests.conftest import SAMPLE

DBT_PROJECT = PROJECT_ROOT / "dbt_project"


@contextmanager
def dbt_environment(url: URL) -> Iterator[None]:
    """PG* variables for profiles.yml, restored afterwards."""
    wanted = {
        "PGHOST": url.host,
        "PGPORT": str(url.port),
        "PGUSER": url.username,
        "PGDATABASE": url.database,
        "PGPASSWORD": url.password or "",
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    saved = {k: os.environ.get(k) for k in wanted}
    os.environ.update(wanted)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


# dbt's artifacts of the tests' own calls, outside the repository (see dbt_target)
DBT_TARGETS = Path(tempfile.mkdtemp(prefix="mdw-test-dbt-"))
atexit.register(shutil.rmtree, DBT_TARGETS, ignore_errors=True)


def dbt_target(url: URL, *args: str) -> Path:
    """Where `dbt(url, *args)` writes its artifacts: one folder per database and --vars.

    dbt re-parses the whole project (~30 s) when the profile's database or the vars differ from
    the partial parse it finds in its target; every test has a database of its own, so a shared
    target meant a full parse per call. Apart, the calls on one database reuse their parse, and
    parallel workers (pytest-xdist) never write into each other's target."""
    vars_ = args[args.index("--vars") + 1] if "--vars" in args else ""
    key = hashlib.sha1(vars_.encode()).hexdigest()[:8] if vars_ else "novars"
    return DBT_TARGETS / f"{url.database}-{key}"


def dbt(url: URL, *args: str):
    """Run dbt in-process (real dbt, real database); returns dbt's result object."""
    from dbt.cli.main import dbtRunner

    target = dbt_target(url, *args)
    with dbt_environment(url):
        return dbtRunner().invoke(
            [
                *args,
                "--project-dir",
                str(DBT_PROJECT),
                "--profiles-dir",
                str(PROJECT_ROOT),
                "--target-path",
                str(target),
                "--log-path",
                str(target),
                "--quiet",
            ]
        )


def create_database(server: Settings, template: str | None = None, name: str = "") -> URL:
    name = name or f"t_{uuid.uuid4().hex[:12]}"
    admin = postgres._connect(server, "postgres")
    admin.autocommit = True
    with admin.cursor() as cur:
        if template:  # a template must have no other sessions (GX keeps a pooled one)
            cur.execute(
                "select pg_terminate_backend(pid) from pg_stat_activity"
                " where datname = %s and pid <> pg_backend_pid()",
                (template,),
            )
        cur.execute(f'drop database if exists "{name}" with (force)')
        cur.execute(f'create database "{name}"' + (f' template "{template}"' if template else ""))
    admin.close()
    return server.embedded_warehouse.set(database=name)


def drop_database(server: Settings, url: URL) -> None:
    admin = postgres._connect(server, "postgres")
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'drop database if exists "{url.database}" with (force)')
    admin.close()


def query(url: URL, sql: str) -> pd.DataFrame:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return pd.read_sql(sa.text(sql), conn)
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def built_warehouse(pg_server: Settings) -> Iterator[URL]:
    """The sample landed and `dbt build` passed: shared read-only by the tests that use it."""
    url = create_database(pg_server)
    migrate(url)
    outcome = ingest_file(url, SAMPLE)
    assert outcome.ok, outcome.error
    land_sessions(url, start=calendar_start(url, date(1990, 1, 1)))
    result = dbt(url, "build")
    assert result.success, result.exception
    yield url
    drop_database(pg_server, url)


def copy_database(server: Settings, template: URL, purpose: str) -> URL:
    """A copy of `template` for one test. Always the same name for a purpose in a test process
    (its tests run one at a time), so dbt's partial parse of it lasts (dbt_target)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    return create_database(server, template=template.database, name=f"{purpose}_{worker}")


@pytest.fixture
def warehouse_copy(pg_server: Settings, built_warehouse: URL) -> Iterator[URL]:
    """A private copy of the built warehouse that a test may corrupt."""
    url = copy_database(pg_server, built_warehouse, "copy")
    yield url
    drop_database(pg_server, url)


@pytest.fixture
def gx_root(tmp_path: Path) -> Path:
    """A copy of the committed GX context, so tests never write into the repository."""
    shutil.copytree(
        PROJECT_ROOT / "expectations" / "gx",
        tmp_path / "gx",
        ignore=shutil.ignore_patterns("uncommitted"),
    )
    return tmp_path


@pytest.fixture(scope="session")
def prefect_api() -> Iterator[None]:
    """One real temporary Prefect server (SQLite) shared by the flow tests of the session."""
    from prefect.testing.utilities import prefect_test_harness

    saved = os.environ.get("PREFECT_SERVER_ANALYTICS_ENABLED")
    os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
    try:
        with prefect_test_harness(server_startup_timeout=300):  # slow on a busy machine
            yield
    finally:
        if saved is None:
            os.environ.pop("PREFECT_SERVER_ANALYTICS_ENABLED", None)
        else:
            os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = saved
