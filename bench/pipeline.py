"""The daily path through Prefect against its parts in-process (`pipeline_dbt_vs_plain`,
`pipeline_vs_parts`; bench/README.md, "The pipeline through Prefect").

A real stack is started with the CLI (`mdw up` in a temporary MDW_HOME on free ports) and
stopped at the end (`mdw down`), errors included. `pipeline/sample` runs once to build the
warehouse (the first run: context, no goal); then, alternately and `REPEATS` times each:
- the parts in-process, in a fresh Python process with what `mdw env` exports (a user's shell):
  landing (raw schema migration, the sample file, the trading calendar), plain `dbt build`
  (dbtRunner), validation (the GX checkpoints and the findings query), report site (table
  counts and the site); each timed with its first imports;
- `pipeline/sample` through the server: creation to Completed by the server's own timestamps,
  and its `dbt-build` sub-flow run (the dbt step as the pipeline runs it: the slot, the build
  with its per-node logs and artifacts, the docs).
The fastest of each is kept (the machine is shared: the minimum is the least disturbed).

`python -m bench.pipeline` measures these two keys alone; `python -m bench.pipeline parts` is
the in-process side (one JSON line on stdout), `... counts` the row counts that show the reruns
changed nothing.
"""

from __future__ import annotations

import base64
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from bench import verify
from bench.warehouse import free_port
from lib.environment import public_environment
from settings import PROJECT_ROOT, Settings

REPEATS = 2
RUN_TIMEOUT = 1800.0  # seconds a pipeline run may take before the bench gives up
DEPLOYMENT = "pipeline/sample"
COUNTED = ("raw.daily_bars", "marts.fct_daily_indicators", "marts.fct_signals")
# secrets of the caller's own stack that must not leak into the bench's stack (with what
# `mdw env` exports: `leaky()`)
SECRETS = ("MDW_PREFECT_DATABASE_URL", "PREFECT_API_AUTH_STRING", "PGPASSWORD")


def leaky() -> set[str]:
    return {*public_environment(Settings(MDW_HOME=tempfile.gettempdir())), *SECRETS}


def _run(argv: list[str], env: dict[str, str], timeout: float) -> subprocess.CompletedProcess:
    return subprocess.run(
        argv,
        env=env,
        cwd=PROJECT_ROOT,
        text=True,
        capture_output=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
        check=False,
    )


@dataclass
class Stack:
    """A stack started by `mdw up`; `env` is what `mdw env` exports (a user's shell)."""

    home: Path
    base_env: dict[str, str]
    env: dict[str, str]

    def mdw(self, *args: str, timeout: float = 900) -> subprocess.CompletedProcess[str]:
        return _run([str(Path(sys.executable).parent / "mdw"), *args], self.base_env, timeout)

    def api(self, path: str, body: dict | None = None, method: str | None = None) -> Any:
        headers = {"Content-Type": "application/json"}
        auth = self.env.get("PREFECT_API_AUTH_STRING")
        if auth:
            headers["Authorization"] = "Basic " + base64.b64encode(auth.encode()).decode()
        req = urllib.request.Request(
            self.env["PREFECT_API_URL"] + path,
            data=None if body is None else json.dumps(body).encode(),
            headers=headers,
            method=method or ("GET" if body is None else "POST"),
        )
        with urllib.request.urlopen(req, timeout=30) as resp:  # noqa: S310 - our own server
            raw = resp.read()
        return json.loads(raw) if raw else None


def _exports(text: str) -> dict[str, str]:
    env: dict[str, str] = {}
    for line in text.splitlines():
        if line.startswith("export "):
            key, _, value = line.removeprefix("export ").partition("=")
            words = shlex.split(value)
            if key != "PATH" and words:
                env[key] = words[0]
    return env


@contextmanager
def stack(log) -> Iterator[Stack]:
    home = Path(tempfile.mkdtemp(prefix="mdw-bench-stack-"))
    drop = leaky()
    base = {k: v for k, v in os.environ.items() if k not in drop}
    base.update(MDW_HOME=str(home), MDW_PG_PORT=str(free_port()), MDW_PREFECT_PORT=str(free_port()))
    st = Stack(home, base, {})
    try:
        started = time.perf_counter()
        up = st.mdw("up")
        if up.returncode != 0:
            raise RuntimeError(f"mdw up failed: {(up.stdout + up.stderr)[-2000:]}")
        log(f"  mdw up: {time.perf_counter() - started:.1f} s (MDW_HOME {home})")
        exported = st.mdw("env")
        st.env = {**base, **_exports(exported.stdout)}
        yield st
    finally:
        down = st.mdw("down", timeout=300)
        if down.returncode != 0:
            log(f"  mdw down failed: {(down.stdout + down.stderr)[-1000:]}")
        shutil.rmtree(home, ignore_errors=True)


def _ts(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


@dataclass(frozen=True)
class ServerRun:
    name: str
    state: str
    seconds: float  # creation to its final state, by the server's timestamps
    dbt_seconds: float | None  # the dbt-build sub-flow run, start to end
    start_delay: float  # creation to Running: worker pick-up, process start, imports
    message: str


def run_deployment(st: Stack) -> ServerRun:
    flow_name, name = DEPLOYMENT.split("/")
    deployment = st.api(f"/deployments/name/{flow_name}/{name}")
    run = st.api(f"/deployments/{deployment['id']}/create_flow_run", {"parameters": {}})
    deadline = time.monotonic() + RUN_TIMEOUT
    while True:
        run = st.api(f"/flow_runs/{run['id']}")
        if run["state"] and run["state"]["type"] in ("COMPLETED", "FAILED", "CRASHED", "CANCELLED"):
            break
        if time.monotonic() > deadline:
            raise RuntimeError(f"{DEPLOYMENT} still {run['state']['name']} after {RUN_TIMEOUT} s")
        time.sleep(0.5)
    children = st.api(
        "/flow_runs/filter", {"flow_runs": {"parent_flow_run_id": {"any_": [run["id"]]}}}
    )
    flows = {f["id"]: f["name"] for f in st.api("/flows/filter", {})}
    dbt = [c for c in children if flows.get(c["flow_id"]) == "dbt-build"]
    dbt_seconds = None
    if dbt and dbt[0]["start_time"] and dbt[0]["end_time"]:
        dbt_seconds = (_ts(dbt[0]["end_time"]) - _ts(dbt[0]["start_time"])).total_seconds()
    created = _ts(run["created"])
    return ServerRun(
        name=run["name"],
        state=run["state"]["type"],
        seconds=(_ts(run["state"]["timestamp"]) - created).total_seconds(),
        dbt_seconds=dbt_seconds,
        start_delay=(_ts(run["start_time"]) - created).total_seconds() if run["start_time"] else 0,
        message=run["state"].get("message") or "",
    )


def parts() -> dict[str, Any]:
    """landing, dbt build, validation, report site: each timed with its first imports."""
    seconds: dict[str, float] = {}
    started = time.perf_counter()
    import uuid

    from ingest.db import migrate, transaction
    from ingest.landing import ingest_file
    from ingest.sessions import calendar_start, land_sessions
    from settings import get_settings

    settings = get_settings()
    url = settings.warehouse
    migrate(url)
    landed = ingest_file(url, settings.sample_path, source="files", load_run_id=uuid.uuid4())
    if not landed.ok:
        raise RuntimeError(f"landing failed: {landed.error}")
    land_sessions(url, start=calendar_start(url, settings.sessions_start))
    seconds["landing"] = time.perf_counter() - started

    started = time.perf_counter()
    from dbt.cli.main import dbtRunner

    res = dbtRunner().invoke(
        [
            "build",
            "--project-dir",
            str(settings.dbt_project_dir),
            "--profiles-dir",
            str(settings.profiles_dir),
            "--quiet",
        ]
    )
    if not res.success:
        raise RuntimeError(f"dbt build failed: {res.exception}")
    nodes = len(res.result.results)
    seconds["dbt_build"] = time.perf_counter() - started

    started = time.perf_counter()
    from expectations.context import run_checkpoints

    checks = run_checkpoints(url.render_as_string(hide_password=False))
    with transaction(url) as cur:
        cur.execute("select severity, count(*) from marts.fct_data_quality_issues group by 1")
        cur.fetchall()
    seconds["validation"] = time.perf_counter() - started

    started = time.perf_counter()
    from lib.report_site import write_site

    counts = table_counts()
    with tempfile.TemporaryDirectory() as out:
        write_site(url, Path(out), None)
    seconds["report_site"] = time.perf_counter() - started
    return {
        "seconds": seconds,
        "dbt_nodes": nodes,
        "checks_passed": all(c.success for c in checks if c.gate),
        "counts": counts,
    }


def table_counts() -> dict[str, int]:
    from ingest.db import transaction
    from settings import get_settings

    out: dict[str, int] = {}
    with transaction(get_settings().warehouse) as cur:
        for table in COUNTED:
            cur.execute(f"select count(*) from {table}")  # noqa: S608 - fixed names
            out[table] = cur.fetchone()[0]
    return out


def _python(st: Stack, command: str) -> dict[str, Any]:
    """`python -m bench.pipeline COMMAND` in a fresh process with the user's environment."""
    proc = _run([sys.executable, "-m", "bench.pipeline", command], st.env, RUN_TIMEOUT)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(
            f"bench.pipeline {command} failed: {(proc.stdout + proc.stderr)[-2000:]}"
        )
    return json.loads(lines[-1])


def measure(run) -> None:
    """Both keys' measurements into `run` (bench.__main__.Run), with their checks."""
    run.log(f"pipeline: a stack by `mdw up`, {DEPLOYMENT} through it vs its parts in-process ...")
    with stack(run.log) as st:
        first = run_deployment(st)
        run.log(f"  first run (builds the warehouse): {first.state} in {first.seconds:.1f} s")
        run.seconds["pipeline_first_run"] = first.seconds
        if first.state != "COMPLETED":
            raise RuntimeError(f"{DEPLOYMENT}'s first run ended {first.state}: {first.message}")
        reference = _python(st, "counts")
        servers: list[ServerRun] = []
        in_process: list[dict[str, Any]] = []
        for _ in range(REPEATS):
            part = _python(st, "parts")
            in_process.append(part)
            total = sum(part["seconds"].values())
            run.log(
                f"  parts in-process: {total:.1f} s ("
                + ", ".join(f"{k} {v:.1f}" for k, v in part["seconds"].items())
                + ")"
            )
            server = run_deployment(st)
            servers.append(server)
            run.log(
                f"  {DEPLOYMENT} through the server: {server.state} in {server.seconds:.1f} s "
                f"(to Running {server.start_delay:.1f} s, dbt step {server.dbt_seconds or 0:.1f} s)"
            )
        after = _python(st, "counts")
    ok_runs = all(s.state == "COMPLETED" and s.dbt_seconds for s in servers)
    run.check(
        verify.Check(
            "pipeline: every run Completed, the parts passed, row counts unchanged by reruns",
            ok_runs
            and all(p["checks_passed"] for p in in_process)
            and after == reference
            and all(p["counts"] == reference for p in in_process),
            f"runs {[s.state for s in servers]}; counts {reference} -> {after}",
        )
    )
    best_server = min(servers, key=lambda s: s.seconds)
    best_parts = min(in_process, key=lambda p: sum(p["seconds"].values()))
    run.seconds["pipeline_server_run"] = best_server.seconds
    run.seconds["pipeline_to_running"] = best_server.start_delay
    run.seconds["pipeline_parts"] = sum(best_parts["seconds"].values())
    for key, value in best_parts["seconds"].items():
        run.seconds[f"part_{key}"] = value
    run.seconds["pipeline_dbt_step"] = min(s.dbt_seconds or 0.0 for s in servers)
    run.seconds["plain_dbt_build"] = min(p["seconds"]["dbt_build"] for p in in_process)
    run.rows["pipeline_dbt_nodes"] = best_parts["dbt_nodes"]
    run.extra["pipeline_runs"] = [s.__dict__ for s in servers]


def step(run) -> str | None:
    """`measure` as a step of `make bench`: a failure is noted and returned, never raised, so
    the other keys are still measured."""
    try:
        measure(run)
    except Exception as exc:
        failure = f"pipeline: {type(exc).__name__}: {exc}"
        run.notes.append(f"the pipeline step failed: {failure}")
        run.log(f"  {failure}")
        return failure
    return None


def main() -> int:
    """`python -m bench.pipeline`: these two keys alone (development; nothing written)."""
    from bench import report
    from bench.__main__ import Run

    run = Run(budget=3600.0)
    failure = step(run)
    result = report.build_result(
        seconds=run.seconds,
        rows=run.rows,
        machine={},
        dbt_nodes={},
        checks=[c.__dict__ for c in run.checks],
        notes=run.notes,
        options={"data": "pipeline/sample"},
        extra=run.extra,
    )
    print(report.to_markdown(result), flush=True)
    return 1 if failure or result["verified"] is False else 0


if __name__ == "__main__":
    commands = {"parts": parts, "counts": table_counts}
    if sys.argv[1:2] and sys.argv[1] in commands:
        print(json.dumps(commands[sys.argv[1]]()), flush=True)
    elif not sys.argv[1:]:
        sys.exit(main())
    else:
        sys.exit("usage: python -m bench.pipeline [parts|counts]")
