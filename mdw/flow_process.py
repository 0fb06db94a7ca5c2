"""The process a worker starts for a flow run (the work pools' job command: see
`mdw.services.job_template`): `python -m mdw.flow_process POOL`.

It cuts every tie to the worker before Prefect's engine starts - its own session (a signal to
the worker's process group does not reach it, as with Prefect's default starter), stdin from
/dev/null, stdout and stderr appended to `$MDW_HOME/logs/flow-runs-<pool>.log` instead of pipes
to the worker - then becomes `python -m prefect.engine` (exec: the same PID, the one the worker
records as the run's infrastructure). A flow run whose worker was killed can therefore never
block on a write to a dead pipe (issue 20, defect 1: such a run hung with its heartbeat still
beating); the supervisor ends it instead (`mdw.orphans`).
"""

from __future__ import annotations

import os
import sys
import time

from settings import get_settings


def main(argv: list[str]) -> None:
    (pool,) = argv
    log_dir = get_settings().log_dir
    log_dir.mkdir(parents=True, exist_ok=True)
    log = os.open(log_dir / f"flow-runs-{pool}.log", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    run_id = os.environ.get("PREFECT__FLOW_RUN_ID", "?")
    os.write(log, f"{time.strftime('%H:%M:%S')} flow run {run_id}: pid {os.getpid()}\n".encode())
    os.setsid()
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.dup2(log, 1)
    os.dup2(log, 2)
    os.close(devnull)
    os.close(log)
    os.execv(sys.executable, [sys.executable, "-m", "prefect.engine"])


if __name__ == "__main__":
    main(sys.argv[1:])
