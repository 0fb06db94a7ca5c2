"""The benchmark's own PostgreSQL (temporary MDW_HOME, free port) and in-process dbt."""

from __future__ import annotations

import os
import platform
import shutil
import socket
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

from sqlalchemy.engine import URL

from ingest.db import connect
from mdw import postgres
from settings import PROJECT_ROOT, Settings

RESERVED_PORTS = frozenset({54320, 4200})  # the developers' own stacks


def free_port() -> int:
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = int(s.getsockname()[1])
        if port not in RESERVED_PORTS:
            return port


@dataclass(frozen=True)
class Server:
    settings: Settings
    home: Path

    @property
    def url(self) -> URL:
        return self.settings.embedded_warehouse

    @property
    def dsn(self) -> str:
        """libpq URL with the password (the embedded server uses scram authentication)."""
        u = self.url
        user = quote(str(u.username), safe="")
        password = f":{quote(u.password, safe='')}" if u.password else ""
        return f"postgresql://{user}{password}@{u.host}:{u.port}/{u.database}"


@contextmanager
def bench_server(keep: bool = False) -> Iterator[Server]:
    """An embedded PostgreSQL in a temporary MDW_HOME on a free port; stopped (and its folder
    removed unless `keep`) on the way out, errors included."""
    home = Path(tempfile.mkdtemp(prefix="mdw-bench-"))
    settings = Settings(MDW_HOME=home, MDW_PG_PORT=free_port())
    try:
        postgres.start(settings)
        yield Server(settings, home)
    finally:
        try:
            postgres.stop(settings)
        finally:
            if not keep:
                shutil.rmtree(home, ignore_errors=True)


def execute(url: URL, *statements: str) -> None:
    """Run statements outside a transaction (VACUUM needs that)."""
    conn = connect(url)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            for sql in statements:
                cur.execute(sql)
    finally:
        conn.close()


def scalar(url: URL, sql: str) -> object:
    conn = connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
            row = cur.fetchone()
            return None if row is None else row[0]
    finally:
        conn.close()


@dataclass(frozen=True)
class NodeTiming:
    name: str
    status: str
    seconds: float


@dataclass(frozen=True)
class DbtRun:
    args: tuple[str, ...]
    seconds: float
    success: bool
    nodes: list[NodeTiming] = field(default_factory=list)
    error: str | None = None


class Dbt:
    """dbt in this process (dbtRunner): imports are paid once, by the first call. Target and log
    folders are private to the benchmark so that it never touches dbt_project/target."""

    def __init__(self, url: URL, work_dir: Path) -> None:
        self.url = url
        self.work_dir = work_dir
        work_dir.mkdir(parents=True, exist_ok=True)

    def _environment(self) -> dict[str, str]:
        u = self.url
        return {
            "PGHOST": str(u.host),
            "PGPORT": str(u.port),
            "PGUSER": str(u.username),
            "PGDATABASE": str(u.database),
            "PGPASSWORD": u.password or "",
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        }

    def invoke(self, *args: str) -> DbtRun:
        started = time.perf_counter()
        from dbt.cli.main import dbtRunner  # the first call pays dbt's imports

        wanted = self._environment()
        saved = {k: os.environ.get(k) for k in wanted}
        os.environ.update(wanted)
        try:
            result = dbtRunner().invoke(
                [
                    *args,
                    "--project-dir",
                    str(PROJECT_ROOT / "dbt_project"),
                    "--profiles-dir",
                    str(PROJECT_ROOT),
                    "--target-path",
                    str(self.work_dir / "target"),
                    "--log-path",
                    str(self.work_dir / "logs"),
                    "--quiet",
                ]
            )
            seconds = time.perf_counter() - started
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
        nodes: list[NodeTiming] = []
        errors: list[str] = []
        for r in getattr(result.result, "results", None) or []:
            status = str(getattr(r.status, "value", r.status))
            nodes.append(NodeTiming(r.node.name, status, float(r.execution_time or 0.0)))
            if status in ("error", "fail"):
                errors.append(f"{r.node.name}: {r.message}")
        if result.exception is not None:
            errors.append(f"{type(result.exception).__name__}: {result.exception}")
        error = None if result.success else ("; ".join(errors) or "dbt failed")
        return DbtRun(tuple(args), seconds, bool(result.success), nodes, error)


def machine(url: URL) -> dict[str, object]:
    """What the numbers were measured on."""
    cpu = platform.processor() or platform.machine()
    memory_gib: float | None = None
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory_gib = round(int(line.split()[1]) / 1024 / 1024, 1)
                break
    except OSError:
        pass
    try:
        load = os.getloadavg()[0]
    except OSError:
        load = None
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": memory_gib,
        "postgresql": str(scalar(url, "show server_version")),
        "python": platform.python_version(),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "load_average_1m_at_start": None if load is None else round(load, 2),
    }
