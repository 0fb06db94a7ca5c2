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


# --- parallel runs: `make test` runs pytest-xdist workers with --dist loadscope ---------------
# The e2e stack's flows and the flows a test runs in-process write dbt's artifacts into
# dbt_project/target (docs, partial parse): they are one scope, so one worker runs them, in
# order. Every other module is a scope of its own (its module-scoped fixtures are built once).
# The tests' own dbt calls (tests/integration/conftest.py `dbt`) keep a target per database.
# (By node id: xdist 3.8's `xdist_group` marks set `Item._nodeid`, which pytest 9 no longer reads.)
SHARES_DBT_TARGET = (
    "tests/e2e/",
    "tests/integration/test_dbt_step.py::",
    "tests/integration/test_strategies.py::test_the_backtest_flow_",
)


def scope_of(nodeid: str) -> str:
    if nodeid.startswith(SHARES_DBT_TARGET):
        return "dbt_project/target"
    return nodeid.split("::", 1)[0]


def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object | None:
    if config.getvalue("dist") != "loadscope":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class SharedTargetScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return scope_of(nodeid)

    return SharedTargetScheduling(config, log)


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
