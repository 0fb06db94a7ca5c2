"""The stack's supervisor: `mdw up` starts it (`python -m mdw.supervisor`), `mdw down` stops it.

Every TICK_SECONDS it checks the stack's parts in dependency order - PostgreSQL (embedded), the
Prefect server, one worker per pool - and restarts a dead one, waiting longer after each restart
of the same part (BACKOFF_SECONDS; a part that stayed up STABLE_SECONDS starts again from the
shortest wait). Each restart is appended to `$MDW_HOME/run/restarts.jsonl` (`mdw status` shows
them); a part restarted KEEPS_DYING times within KEEPS_DYING_SECONDS is reported through the
alert channels directly (mdw.notify: the Prefect server may be the part that keeps dying).
Then it ends the flow processes whose worker died and marks Crashed the runs left without a
process (mdw.orphans), once the server's trigger service is live (so the alert is not lost).

Why a loop of our own rather than supervisord or systemd user units: the stack must heal on a
plain `pip install` on a laptop, in a container and in CI alike - systemd user units need a user
session bus (absent in containers and CI), supervisord is one more daemon with its own
configuration to generate and would still know nothing of orphaned flow runs, stale PIDs or the
order PostgreSQL -> server -> workers. psutil (already in the lock) gives the process facts.
The supervisor itself is not supervised: `mdw status` shows it, `mdw up` starts it again.

`mdw up` and `mdw down` hold the stack lock while they work; the supervisor only acts while it
can take it, so the two never start or stop the same part at once.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from mdw import alerts, orphans, postgres, services
from mdw.notify import notify_all
from mdw.prefect_api import ApiError, ApiUnavailable
from settings import Settings, get_settings

NAME = "supervisor"
TICK_SECONDS = 3.0
# the wait before restarting a part again, by how often it was restarted in STABLE_SECONDS
BACKOFF_SECONDS = (0, 2, 5, 15, 30, 60)
STABLE_SECONDS = 600.0
KEEPS_DYING = 3
KEEPS_DYING_SECONDS = 900.0
API_SILENCE_SECONDS = 60.0  # a server process whose API stays silent this long is restarted

log = logging.getLogger("mdw.supervisor")


def restarts_file(settings: Settings) -> Path:
    return settings.run_dir / "restarts.jsonl"


def recent_restarts(settings: Settings, hours: float = 24) -> list[dict]:
    """The restarts (and restart attempts that failed) of the last `hours`, oldest first."""
    since = (datetime.now(UTC) - timedelta(hours=hours)).isoformat()
    try:
        lines = restarts_file(settings).read_text().splitlines()
    except OSError:
        return []
    return [r for r in map(json.loads, lines) if r["at"] >= since]


@contextlib.contextmanager
def stack_lock(settings: Settings, wait: bool = True) -> Iterator[bool]:
    """Held by `mdw up` / `mdw down` for their whole run and by the supervisor for each tick;
    yields False (without waiting) when another holds it and `wait` is False."""
    settings.run_dir.mkdir(parents=True, exist_ok=True)
    with open(settings.run_dir / "stack.lock", "w") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


@dataclass
class Part:
    name: str
    problem: Callable[[], str | None]  # why it needs a restart, None while healthy
    restart: Callable[[], int | None]  # its new PID
    needed_by_the_rest: bool = False  # PostgreSQL, the server: nothing else works without it
    restarted: list[float] = field(default_factory=list)  # monotonic times of attempts
    next_try: float = 0.0
    alerted: float = float("-inf")

    def backoff(self, now: float) -> float:
        recent = [t for t in self.restarted if now - t < STABLE_SECONDS]
        return BACKOFF_SECONDS[min(len(recent), len(BACKOFF_SECONDS) - 1)]


class Supervisor:
    def __init__(self, settings: Settings, parts: list[Part] | None = None) -> None:
        self.settings = settings
        self.triggers_live = False
        self.api_silent_since: float | None = None
        self.orphaned_runs: dict[str, str] = {}
        self.parts = parts if parts is not None else self._stack_parts()

    def _stack_parts(self) -> list[Part]:
        parts = [self._postgres()] if self.settings.embedded else []
        return parts + [self._server(), *(self._worker(pool) for pool in services.POOLS)]

    # --- the parts ---------------------------------------------------------------------------

    def _postgres(self) -> Part:
        def problem() -> str | None:
            st = postgres.status(self.settings)
            return None if st.running else f"PostgreSQL is down ({st.detail})"

        def restart() -> int | None:
            return postgres.start(self.settings).pid

        return Part("postgres", problem, restart, needed_by_the_rest=True)

    def _server(self) -> Part:
        def problem() -> str | None:
            if services.read_pid(self.settings, services.SERVER) is None:
                return "its process is gone"
            if services.server_healthy(self.settings):
                self.api_silent_since = None
                return None
            now = time.monotonic()
            self.api_silent_since = self.api_silent_since or now
            if now - self.api_silent_since > API_SILENCE_SECONDS:
                return f"its API has not answered for {API_SILENCE_SECONDS:.0f} s"
            return None

        def restart() -> int | None:
            self.triggers_live = False
            self.api_silent_since = None
            services.stop(self.settings, services.SERVER)
            return services.start_server(self.settings).pid

        return Part(services.SERVER, problem, restart, needed_by_the_rest=True)

    def _worker(self, pool: str) -> Part:
        name = services.worker_name(pool)

        def problem() -> str | None:
            return None if services.read_pid(self.settings, name) else "its process is gone"

        def restart() -> int | None:
            return services.start_worker(self.settings, pool).pid

        return Part(name, problem, restart)

    # --- one tick ----------------------------------------------------------------------------

    def tick(self) -> None:
        for part in self.parts:
            why = part.problem()
            if why is None:
                continue
            self._restart(part, why)
            if part.needed_by_the_rest:
                return  # the parts after it (and the sweep) wait for the next tick
        self._sweep()

    def _restart(self, part: Part, why: str, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        if now < part.next_try:
            return
        part.restarted.append(now)
        part.next_try = now + part.backoff(now)
        record = {"at": datetime.now(UTC).isoformat(), "part": part.name, "why": why}
        try:
            record["pid"] = part.restart()
            log.info("restarted %s (%s): pid %s", part.name, why, record["pid"])
        except Exception as exc:  # noqa: BLE001 - recorded, alerted, tried again after a wait
            record["failed"] = str(exc).splitlines()[0][:300]
            log.error("could not restart %s (%s): %s", part.name, why, record["failed"])
        with open(restarts_file(self.settings), "a") as fh:
            fh.write(json.dumps(record) + "\n")
        self._alert_if_it_keeps_dying(part, now, record)

    def _alert_if_it_keeps_dying(self, part: Part, now: float, record: dict) -> None:
        recent = [t for t in part.restarted if now - t < KEEPS_DYING_SECONDS]
        if len(recent) < KEEPS_DYING or now - part.alerted < KEEPS_DYING_SECONDS:
            return
        part.alerted = now
        minutes = KEEPS_DYING_SECONDS / 60
        subject = f"[mdw] stack: {part.name} keeps dying"
        body = (
            f"{part.name} of the stack at {self.settings.mdw_home} was restarted "
            f"{len(recent)} times in {minutes:.0f} minutes by the supervisor.\n"
            f"last cause: {record['why']}\n"
            + (f"last restart failed: {record['failed']}\n" if "failed" in record else "")
            + f"logs: {self.settings.log_dir}\nsee `mdw status`"
        )
        for failure in notify_all(self.settings, subject, body):
            log.error("alert not sent: %s", failure)

    def _sweep(self) -> None:
        for pid, run_id in orphans.end_orphan_processes(self.settings).items():
            log.info("ended flow process %s of run %s: its worker is gone", pid, run_id)
            self.orphaned_runs[run_id] = (
                "Crashed: its worker died, so the supervisor ended the run's process "
                "(a run without its worker cannot be cancelled); rerun it"
            )
        try:
            if not self.triggers_live:
                took = alerts.wait_triggers_live(self.settings, timeout=60.0)
                log.info("trigger service live (%.1f s)", took)
                self.triggers_live = True
            for run in orphans.crash_runs_without_process(
                self.settings,
                "Crashed: its process is gone (killed or died) and nothing reported it",
                reasons=self.orphaned_runs,
            ):
                self.orphaned_runs.pop(run["id"], None)
                log.info("marked run %s (%s) Crashed: no live process", run["name"], run["id"])
        except (ApiUnavailable, ApiError, RuntimeError) as exc:
            log.warning("sweep skipped: %s", str(exc).splitlines()[0])


def _reap_children() -> None:
    """Parts this process restarted are its children: collect the exit of the dead ones."""
    with contextlib.suppress(ChildProcessError):
        while os.waitpid(-1, os.WNOHANG)[0]:
            pass


def main() -> None:
    logging.basicConfig(
        stream=sys.stdout,
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(message)s",
    )
    settings = get_settings()
    supervisor = Supervisor(settings)
    log.info("supervising %s", ", ".join(p.name for p in supervisor.parts))
    while True:
        with stack_lock(settings, wait=False) as mine:
            if mine:
                supervisor.tick()
        _reap_children()
        time.sleep(TICK_SECONDS)


def start(settings: Settings) -> services.ProcStatus:
    """Start the supervisor unless it runs."""
    pid = services.read_pid(settings, NAME)
    if pid is None:
        pid = services.spawn(settings, NAME, [sys.executable, "-m", "mdw.supervisor"], {})
    return services.ProcStatus(NAME, pid, True, "restarts dead parts, ends orphaned runs")


def stop(settings: Settings) -> bool:
    """Stop it alone (the parts it restarted are its children, and stay up)."""
    return services.stop(settings, NAME, tree=False)


def status(settings: Settings) -> tuple[services.ProcStatus, str]:
    """Its process, and the restarts of the last 24 hours as one line."""
    pid = services.read_pid(settings, NAME)
    proc = services.ProcStatus(
        NAME,
        pid,
        pid is not None,
        "watching postgres, server, workers" if pid else "stopped: nothing heals (`mdw up`)",
    )
    counts: dict[str, list[dict]] = {}
    for record in recent_restarts(settings):
        counts.setdefault(record["part"], []).append(record)
    summary = ", ".join(
        f"{part} {len(rs)} (last {rs[-1]['at'][11:19]} UTC"
        + (", failed)" if "failed" in rs[-1] else ")")
        for part, rs in counts.items()
    )
    return proc, summary or "none"


if __name__ == "__main__":
    main()
