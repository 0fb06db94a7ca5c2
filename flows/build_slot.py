"""The `dbt-build` slot: one dbt build at a time, free within seconds when its holder dies.

A Prefect global concurrency limit of one slot (`mdw up` creates it): two builds at once collide
on the same relations, so a second build - scheduled, manual or in-process - waits its turn.

- The lease is short: 60 s (the server's minimum), renewed every 15 s by a daemon thread. A
  holder that vanishes without a trace loses the slot when the lease expires (at most 60 s
  after its last renewal, plus the server's 15 s expiry loop) - not 5 minutes.
- The holder records itself in the Prefect variable `dbt-build-holder`: its lease, flow run,
  host, process id and the process's start time. A build that finds the slot taken reads that
  record every second; when the holder's process is gone (same host) or its flow run is final
  (Crashed, Failed, Cancelled, Completed: any host), it revokes the holder's lease and takes
  the slot. A live holder process is never judged dead, whatever its run's state says: it may
  still be writing.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from uuid import UUID

import httpx
import psutil
from prefect import get_run_logger
from prefect.client.orchestration import get_client
from prefect.client.schemas.objects import ConcurrencyLeaseHolder
from prefect.runtime import flow_run
from prefect.variables import Variable

DBT_BUILD_LIMIT = "dbt-build"
HOLDER_VARIABLE = "dbt-build-holder"
LEASE_SECONDS = 60.0  # the server's minimum lease
RENEW_SECONDS = 15.0
POLL_SECONDS = 1.0
WAIT_LOG_SECONDS = 60.0  # a waiting build says who it waits for this often


@dataclass(frozen=True)
class Holder:
    lease_id: str
    flow_run_id: str | None
    flow_run_name: str | None
    host: str
    pid: int
    started: float  # the process's start time (psutil): a reused pid is another process

    @classmethod
    def this_process(cls, lease_id: UUID) -> Holder:
        return cls(
            lease_id=str(lease_id),
            flow_run_id=str(flow_run.id) if flow_run.id else None,
            flow_run_name=flow_run.name,
            host=socket.gethostname(),
            pid=os.getpid(),
            started=psutil.Process().create_time(),
        )

    def describe(self) -> str:
        run = f"flow run {self.flow_run_name} " if self.flow_run_name else ""
        return f"{run}(pid {self.pid} on {self.host})"


def process_gone(holder: Holder) -> bool | None:
    """True/False on the holder's own host; None elsewhere (cannot tell)."""
    if holder.host != socket.gethostname():
        return None
    try:
        process = psutil.Process(holder.pid)
        if process.status() == psutil.STATUS_ZOMBIE:
            return True
        return abs(process.create_time() - holder.started) > 1.0
    except psutil.NoSuchProcess:
        return True


def why_dead(client, holder: Holder) -> str | None:
    """Why the holder can no longer be using the slot, or None when it may be."""
    gone = process_gone(holder)
    if gone is True:
        return f"its process {holder.pid} is gone"
    if gone is False or not holder.flow_run_id:
        return None
    run = client.read_flow_run(UUID(holder.flow_run_id))
    if run.state is not None and run.state.is_final():
        return f"its flow run is {run.state.name}"
    return None


def read_holder() -> Holder | None:
    value = Variable.get(HOLDER_VARIABLE, default=None)
    if not isinstance(value, dict):
        return None
    try:
        return Holder(**value)
    except TypeError:
        return None


def _free_if_dead(client, logger) -> str | None:
    holder = read_holder()
    if holder is None:
        return None
    reason = why_dead(client, holder)
    if reason is None:
        return holder.describe()
    client.release_concurrency_slots_with_lease(UUID(holder.lease_id))
    if read_holder() == holder:
        Variable.unset(HOLDER_VARIABLE)
    logger.warning("freed the %r slot of %s: %s", DBT_BUILD_LIMIT, holder.describe(), reason)
    return None


def _acquire(client, logger, holder: ConcurrencyLeaseHolder) -> UUID | None:
    """The lease on the slot (None: the limit does not exist). Waits while a live build
    holds it; frees it from a dead one."""
    started = time.monotonic()
    next_log = started
    while True:
        try:
            response = client.increment_concurrency_slots_with_lease(
                names=[DBT_BUILD_LIMIT],
                slots=1,
                mode="concurrency",
                lease_duration=LEASE_SECONDS,
                holder=holder,
            )
        except httpx.HTTPStatusError as exc:
            if exc.response.status_code != 423:
                raise
        else:
            body = response.json()
            if not body.get("limits"):
                logger.warning(
                    "no %r concurrency limit on this server (`mdw up` creates it): "
                    "building without one",
                    DBT_BUILD_LIMIT,
                )
                return None
            return UUID(body["lease_id"])
        held_by = _free_if_dead(client, logger)
        if time.monotonic() >= next_log:
            logger.info(
                "waiting for the %r slot (one dbt build at a time), held by %s",
                DBT_BUILD_LIMIT,
                held_by or "a build that left no record",
            )
            next_log += WAIT_LOG_SECONDS
        time.sleep(POLL_SECONDS)


def _renew(lease_id: UUID, stop: threading.Event, logger) -> None:
    """Renew the lease until stopped; a failure is logged once, never raised (not even the
    `SystemExit` a broken console raises: see flows/build_runner.py)."""
    try:
        with get_client(sync_client=True) as client:
            while not stop.wait(RENEW_SECONDS):
                client.renew_concurrency_lease(lease_id, lease_duration=LEASE_SECONDS)
    except BaseException as exc:  # noqa: BLE001 - see the docstring
        if not stop.is_set():
            with contextlib.suppress(BaseException):
                logger.warning(
                    "could not renew the %r lease (%s): another build may start",
                    DBT_BUILD_LIMIT,
                    exc,
                )


@contextmanager
def build_slot() -> Iterator[None]:
    """Hold the `dbt-build` slot while the block runs (see the module's docstring)."""
    logger = get_run_logger()
    started = time.monotonic()
    owner = ConcurrencyLeaseHolder(type="flow_run", id=flow_run.id) if flow_run.id else None
    with get_client(sync_client=True) as client:
        lease_id = _acquire(client, logger, owner)
    if lease_id is None:
        yield
        return
    waited = time.monotonic() - started
    if waited > 2:
        logger.warning("waited %.0f s for another dbt build to finish", waited)
    me = Holder.this_process(lease_id)
    Variable.set(HOLDER_VARIABLE, asdict(me), overwrite=True)
    stop = threading.Event()
    renewer = threading.Thread(
        target=_renew, args=(lease_id, stop, logger), daemon=True, name="dbt-build-lease"
    )
    renewer.start()
    try:
        yield
    finally:
        stop.set()
        renewer.join(timeout=5)
        with get_client(sync_client=True) as client:
            if read_holder() == me:  # cleared first: the next holder's record is its own
                Variable.unset(HOLDER_VARIABLE)
            client.release_concurrency_slots_with_lease(lease_id)
