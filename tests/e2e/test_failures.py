"""Start-up failures of `mdw up` in a new user's shell (issue 16): one line naming what failed,
why (the port and its holder, or the server's own log) and what to do - and nothing left
running. Each test uses a stack home of its own; none of them starts a Prefect server."""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from mdw import postgres
from mdw.errors import STACK_DOWN
from settings import Settings
from tests.conftest import free_port
from tests.e2e.conftest import BIN, user_shell

pytestmark = pytest.mark.e2e


class Home:
    def __init__(self, path: Path) -> None:
        self.env = {
            **user_shell(),
            "MDW_HOME": str(path),
            "MDW_PG_PORT": str(free_port()),
            "MDW_PREFECT_PORT": str(free_port()),
        }
        self.settings = Settings(
            MDW_HOME=path,
            MDW_PG_PORT=int(self.env["MDW_PG_PORT"]),
            MDW_PREFECT_PORT=int(self.env["MDW_PREFECT_PORT"]),
        )

    def mdw(self, *argv: str):
        import subprocess

        return subprocess.run(
            [str(BIN / "mdw"), *argv],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=300,
            stdin=subprocess.DEVNULL,
        )

    def nothing_running(self) -> None:
        status = self.mdw("status")
        assert status.returncode == STACK_DOWN, status.stdout + status.stderr
        assert not postgres.status(self.settings).running


@pytest.fixture
def home() -> Iterator[Home]:
    path = Path(tempfile.mkdtemp(prefix="mdw-e2e-fail-"))  # see pg_server: not under tmp_path
    h = Home(path)
    yield h
    h.mdw("down")
    shutil.rmtree(path, ignore_errors=True)


def one_line(done) -> str:
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 1 and len(lines) == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    return lines[0]


@pytest.mark.parametrize("variable", ["MDW_PG_PORT", "MDW_PREFECT_PORT"])
def test_a_port_taken_is_one_line_naming_port_holder_and_variable(home, variable):
    port = int(home.env[variable])
    with socket.socket() as held:
        held.bind(("127.0.0.1", port))
        held.listen()
        line = one_line(home.mdw("up"))
    assert f"port {port} on 127.0.0.1 is already in use by pid {os.getpid()}" in line, line
    assert variable in line
    home.nothing_running()


def test_a_server_that_does_not_start_is_quoted_from_its_log(home):
    """PostgreSQL refuses a setting: its own FATAL line, and no server left behind."""
    postgres.start(home.settings)  # a data folder, then a bad setting in it
    postgres.stop(home.settings)
    with open(home.settings.pgdata / "postgresql.conf", "a") as conf:
        conf.write("\nshared_buffers = 'a lot'\n")
    line = one_line(home.mdw("up"))
    assert line.startswith("mdw: PostgreSQL did not start on 127.0.0.1:"), line
    assert 'invalid value for parameter "shared_buffers"' in line and "server.log" in line
    home.nothing_running()
