"""dbt in this process, every node shown in Prefect, and nothing that can hang the run.

`run_dbt` makes one `dbtRunner` invocation. dbt's own callback (called synchronously in dbt's
threads, any number of them) records each finished node in a `NodeLedger` and hands it to
`on_node` (the task logs one line per node); a progress thread shows the share of nodes done
as a Prefect progress artifact. No queue is joined and no thread is waited on without a
bound: a callback or progress thread that fails loses progress lines, never the run, and the
node table comes from dbt's own results whatever happened to them.

Why not prefect-dbt's `PrefectDbtRunner` (one Prefect task per node, 4.4x plain dbt, and a
hang when its callback thread dies) nor its `PrefectDbtOrchestrator`: README, "Why this dbt
runner".
"""

from __future__ import annotations

import contextvars
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

# dbt's statuses for a node that did not do its job
FAILED = frozenset({"error", "fail", "runtime error"})
PROGRESS_SECONDS = 2.0  # how often the progress artifact is updated, at most
MESSAGE_CHARS = 300  # of a failed node's message, in the run's state message


@dataclass(frozen=True)
class NodeResult:
    unique_id: str
    name: str
    resource_type: str  # model, test, seed, snapshot, unit_test, operation, ...
    status: str  # dbt's: success, error, fail, warn, pass, skipped, ...
    seconds: float
    message: str = ""

    @property
    def failed(self) -> bool:
        return self.status in FAILED

    def line(self) -> str:
        text = f"{self.resource_type} {self.name}: {self.status}"
        if self.failed and self.message:
            text += f" ({self.message.strip()[:MESSAGE_CHARS]})"
        return text


@dataclass(frozen=True)
class DbtOutcome:
    """What one dbt invocation did, node by node (dbt's results, in order of completion)."""

    command: str
    seconds: float
    nodes: list[NodeResult] = field(default_factory=list)
    error: str | None = None  # an exception of dbt's own (parse, compile, connection)
    docs_index: str | None = None  # the docs site's file:// URL, when they were generated
    docs_seconds: float = 0.0

    @property
    def failures(self) -> list[NodeResult]:
        return [n for n in self.nodes if n.failed]

    @property
    def success(self) -> bool:
        return self.error is None and not self.failures

    def count(self, resource_type: str) -> int:
        return sum(n.resource_type == resource_type for n in self.nodes)

    def failure_message(self, limit: int = 10) -> str:
        """One message naming what failed (the run's state message)."""
        parts = [n.line() for n in self.failures[:limit]]
        if len(self.failures) > limit:
            parts.append(f"... and {len(self.failures) - limit} more")
        if self.error:
            parts.insert(0, self.error[: MESSAGE_CHARS * 2])
        skipped = sum(n.status == "skipped" for n in self.nodes)
        head = f"dbt {self.command} failed: {len(self.failures)} of {len(self.nodes)} nodes"
        if skipped:
            head += f", {skipped} skipped"
        return head + "; " + "; ".join(parts)


class NodeLedger:
    """Nodes as dbt finishes them (thread-safe): dbt's threads write, the progress thread reads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.total = 0  # nodes dbt selected (from its own counters), 0 until known
        self.done: list[NodeResult] = []
        self.callback_errors = 0
        self.first_callback_error: str | None = None

    def callback_failed(self, exc: BaseException) -> None:
        with self._lock:
            self.callback_errors += 1
            if self.first_callback_error is None:
                self.first_callback_error = f"{type(exc).__name__}: {exc}"

    def finished(self, node: NodeResult, total: int) -> int:
        with self._lock:
            self.done.append(node)
            self.total = max(self.total, total, len(self.done))
            return len(self.done)

    def progress(self) -> tuple[int, int, int]:
        """(nodes done, nodes selected, nodes failed)."""
        with self._lock:
            return len(self.done), self.total, sum(n.failed for n in self.done)


def _node_from_event(data: Any) -> NodeResult:
    info, result = data.node_info, data.run_result
    return NodeResult(
        unique_id=info.unique_id,
        name=info.node_name,
        resource_type=info.resource_type,
        status=result.status or info.node_status,
        seconds=round(float(result.execution_time or 0.0), 3),
        message=result.message or "",
    )


def dbt_callback(
    ledger: NodeLedger, on_node: Callable[[NodeResult, int, int], None]
) -> Callable[[Any], None]:
    """dbt's event callback: one `NodeFinished` -> the ledger and `on_node(node, index, total)`.

    dbt calls it for every event in the thread that fired it; it does no I/O of its own and
    never raises into dbt, not even `SystemExit`: rich, under Prefect's console log handler,
    raises that when the process's stderr is a broken pipe (a killed worker), and it killed
    dbt's thread (and prefect-dbt's callback thread before: issue 20). What `on_node` raises
    is counted in `ledger.callback_errors`.
    """
    totals = {"total": 0}

    def callback(event: Any) -> None:
        try:
            name = event.info.name
            if name in ("LogStartLine", "LogModelResult", "SkippingDetails"):
                totals["total"] = max(totals["total"], int(event.data.total))
            elif name == "LogTestResult":
                totals["total"] = max(totals["total"], int(event.data.num_models))
            elif name == "NodeFinished":
                node = _node_from_event(event.data)
                index = ledger.finished(node, totals["total"])
                on_node(node, index, ledger.total)
        except BaseException as exc:  # noqa: BLE001 - see the docstring
            ledger.callback_failed(exc)

    return callback


def _results(res: Any) -> list[NodeResult]:
    return [
        NodeResult(
            unique_id=r.node.unique_id,
            name=r.node.name,
            resource_type=str(getattr(r.node.resource_type, "value", r.node.resource_type)),
            status=str(getattr(r.status, "value", r.status)),
            seconds=round(float(r.execution_time or 0.0), 3),
            message=str(r.message or ""),
        )
        for r in (getattr(res.result, "results", None) or [])
    ]


def _error(res: Any, nodes: list[NodeResult]) -> str | None:
    if res.exception is not None:
        return f"{type(res.exception).__name__}: {res.exception}"
    if not res.success and not any(n.failed for n in nodes):
        return "dbt reported a failure without a failed node (see dbt_project/logs/dbt.log)"
    return None


class ThreadDied(RuntimeError):
    """A thread that dbt started died during its invocation: dbt would wait for it forever."""


WATCH_SECONDS = 1.0  # how often the watch looks for a dead dbt thread


def invoke_watched(runner: Any, argv: list[str], kwargs: dict[str, Any]) -> Any:
    """`runner.invoke(argv, **kwargs)` in a thread of its own, watched: returns dbt's result,
    or raises `ThreadDied` as soon as a thread started during the invocation (dbt's workers,
    the invocation itself) dies of an uncaught exception. dbt's main loop waits on its job
    queue for each node's worker without a bound, so such a death would hang the build (and
    the run, and its concurrency slot) forever; the stuck daemon thread ends with the process.
    """
    before = set(threading.enumerate())
    deaths: list[str] = []
    previous = threading.excepthook

    def record(hook_args: threading.ExceptHookArgs) -> None:
        if hook_args.thread not in before:
            name = hook_args.thread.name if hook_args.thread else "?"
            deaths.append(f"{name}: {hook_args.exc_type.__name__}: {hook_args.exc_value}")
        previous(hook_args)

    outcome: dict[str, Any] = {}

    def invoke() -> None:
        try:
            outcome["result"] = runner.invoke(argv, **kwargs)
        except BaseException as exc:  # noqa: BLE001 - handed to the caller
            outcome["error"] = exc

    thread = threading.Thread(
        target=contextvars.copy_context().run, args=(invoke,), name="dbt-invoke", daemon=True
    )
    threading.excepthook = record
    try:
        thread.start()
        while thread.is_alive():
            thread.join(timeout=WATCH_SECONDS)
            if deaths:
                raise ThreadDied(
                    "a dbt thread died during the build, so dbt could never finish: "
                    + "; ".join(deaths)
                )
    finally:
        threading.excepthook = previous
    if "error" in outcome:
        raise outcome["error"]
    return outcome["result"]


def run_dbt(
    args: list[str],
    project_dir: Path,
    profiles_dir: Path,
    on_node: Callable[[NodeResult, int, int], None] | None = None,
    ledger: NodeLedger | None = None,
    docs: bool = False,
) -> DbtOutcome:
    """dbt `args` in this process; returns every node's result (dbt's own run results).

    The project is parsed once and the manifest handed to dbt: with `docs`, `dbt docs generate
    --static --no-compile` then reuses the manifest the build compiled (0.7 s; compiling the
    project again for the docs took 8-17 s).
    """
    from dbt.cli.main import dbtRunner

    ledger = ledger or NodeLedger()
    callbacks = [dbt_callback(ledger, on_node)] if on_node else []
    paths = ["--project-dir", str(project_dir), "--profiles-dir", str(profiles_dir)]
    quiet = {"log_level": "none"}  # the console gets the task's node lines; dbt.log dbt's own
    command = " ".join(args)
    started = time.perf_counter()

    def failed(error: str, nodes: list[NodeResult] | None = None) -> DbtOutcome:
        return DbtOutcome(command, time.perf_counter() - started, nodes or [], error)

    try:
        parsed = invoke_watched(dbtRunner(), ["parse", *paths], quiet)
        if not parsed.success:
            return failed(_error(parsed, []) or "dbt parse failed")
        manifest = parsed.result  # the build compiles into it; the docs reuse it
        res = invoke_watched(
            dbtRunner(manifest=manifest, callbacks=callbacks), [*args, *paths], quiet
        )
        nodes = _results(res)
        outcome = DbtOutcome(command, time.perf_counter() - started, nodes, _error(res, nodes))
        if not (docs and outcome.success):
            return outcome
        docs_started = time.perf_counter()
        generated = invoke_watched(
            dbtRunner(manifest=manifest),
            ["docs", "generate", "--static", "--no-compile", *paths],
            quiet,
        )
    except ThreadDied as exc:
        return failed(str(exc), list(ledger.done))
    if not generated.success:
        return replace(outcome, error=f"dbt docs generate failed: {_error(generated, [])}")
    return replace(
        outcome,
        docs_index=(project_dir / "target" / "static_index.html").as_uri(),
        docs_seconds=round(time.perf_counter() - docs_started, 3),
    )


@contextmanager
def progress_reporter(
    ledger: NodeLedger,
    report: Callable[[int, int, int], None],
    every: float = PROGRESS_SECONDS,
    join_seconds: float = 5.0,
) -> Iterator[None]:
    """Call `report(done, total, failed)` from a daemon thread while the block runs, at most
    every `every` seconds and only on change; once more at the end. The thread is stopped
    with a bounded join (`join_seconds`): a report that hangs or fails costs progress, never
    the block."""
    stop = threading.Event()
    seen: list[tuple[int, int, int]] = []

    def tick() -> None:
        state = ledger.progress()
        if not seen or seen[-1] != state:
            seen.append(state)
            report(*state)

    def loop() -> None:
        try:
            while not stop.wait(every):
                tick()
            tick()  # the final state
        except BaseException:  # noqa: BLE001, S110 - see the docstring (SystemExit included)
            pass

    thread = threading.Thread(target=loop, daemon=True, name="dbt-progress")
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=join_seconds)
