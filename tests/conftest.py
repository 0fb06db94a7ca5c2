"""Shared fixtures: real PostgreSQL servers and databases, never fakes."""

from __future__ import annotations

import shutil
import socket
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import URL

from mdw import postgres
from settings import PROJECT_ROOT, Settings

SHARED_DATA = PROJECT_ROOT.parent / "shared" / "data"
SAMPLE = PROJECT_ROOT / "data" / "sample" / "daily_bars_sample.csv"


# --- parallel runs: `make test` runs pytest-xdist workers with --dist loadgroup ---------------
# The e2e stack's flows and the flows a test runs in-process write dbt's artifacts into
# dbt_project/target (docs, partial parse): they share one group, so one worker runs them in
# order. Every other module is a group of its own, so its module-scoped fixtures are built once.
# The tests' own dbt calls (tests/integration/conftest.py `dbt`) keep a target per database.
SHARED_TARGET = "dbt_project/target"


def xdist_group(item: pytest.Item) -> str:
    path = Path(item.path).relative_to(PROJECT_ROOT / "tests")
    if path.parts[0] == "e2e" or item.get_closest_marker("shares_dbt_target"):
        return SHARED_TARGET
    return path.as_posix()


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups into the node ids
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        item.add_marker(pytest.mark.xdist_group(xdist_group(item)))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def pg_server() -> Iterator[Settings]:
    """One embedded PostgreSQL for the test session, in its own MDW_HOME and port.

    Not under pytest's temp folder: another pytest session makes that 0700, which locks out
    the OS user the server runs as when tests run as root.
    """
    home = Path(tempfile.mkdtemp(prefix="mdw-test-pg-"))
    settings = Settings(MDW_HOME=home, MDW_PG_PORT=free_port())
    postgres.start(settings)
    yield settings
    postgres.stop(settings)
    shutil.rmtree(home, ignore_errors=True)


@pytest.fixture
def warehouse_url(pg_server: Settings) -> Iterator[URL]:
    """A fresh, empty database on the session's server, dropped afterwards."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = postgres._connect(pg_server, "postgres")
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'create database "{name}"')
    yield pg_server.embedded_warehouse.set(database=name)
    with admin.cursor() as cur:
        cur.execute(f'drop database "{name}" with (force)')
    admin.close()


@pytest.fixture
def sample_path() -> Path:
    return SAMPLE
