"""flows/build_runner.py without dbt: the node ledger, the callback, the failure message, and
a progress reporter that cannot hold up the build."""

from __future__ import annotations

import queue
import threading
import time
from types import SimpleNamespace

import pytest

from flows.build_runner import (
    DbtOutcome,
    NodeLedger,
    NodeResult,
    ThreadDied,
    dbt_callback,
    invoke_watched,
    progress_reporter,
)


def node(name: str, status: str, kind: str = "model", message: str = "") -> NodeResult:
    return NodeResult(f"{kind}.p.{name}", name, kind, status, 0.25, message)


def event(name: str, **data) -> SimpleNamespace:
    return SimpleNamespace(info=SimpleNamespace(name=name), data=SimpleNamespace(**data))


def finished(name: str, status: str) -> SimpleNamespace:
    return event(
        "NodeFinished",
        node_info=SimpleNamespace(
            unique_id=f"model.p.{name}", node_name=name, resource_type="model", node_status=status
        ),
        run_result=SimpleNamespace(status=status, execution_time=0.5, message=""),
    )


def test_the_failure_message_names_every_failed_node_and_dbts_own_error():
    outcome = DbtOutcome(
        "build",
        3.0,
        [
            node("a", "success"),
            node("not_null_a_x", "fail", "test", "Got 3 results, configured to fail if != 0"),
            node("b", "error", "model", 'relation "raw.x" does not exist'),
            node("c", "skipped"),
        ],
    )
    assert not outcome.success
    assert outcome.failure_message() == (
        "dbt build failed: 2 of 4 nodes, 1 skipped; "
        "test not_null_a_x: fail (Got 3 results, configured to fail if != 0); "
        'model b: error (relation "raw.x" does not exist)'
    )
    broken = DbtOutcome("build", 1.0, [], error="CompilationError: bad jinja")
    assert broken.failure_message().endswith("; CompilationError: bad jinja")


def test_the_callback_records_finished_nodes_and_never_raises_into_dbt():
    """Not even SystemExit, which rich raises from Prefect's console handler on a broken pipe
    (it killed dbt's worker thread, and dbt waited for it forever)."""
    ledger = NodeLedger()
    seen: list[tuple[str, int, int]] = []

    def on_node(n: NodeResult, index: int, total: int) -> None:
        seen.append((n.name, index, total))
        raise SystemExit(1)

    callback = dbt_callback(ledger, on_node)
    callback(event("LogStartLine", total=2))
    callback(finished("a", "success"))
    callback(event("NodeFinished", node_info=None))  # malformed: counted, not raised
    callback(finished("b", "error"))
    assert seen == [("a", 1, 2), ("b", 2, 2)]
    assert ledger.progress() == (2, 2, 1)
    assert ledger.callback_errors == 3  # two lines that could not be logged, one bad event
    assert ledger.first_callback_error == "SystemExit: 1"


class DyingRunner:
    """Does what dbt does when a worker thread dies: its main loop waits on its job queue for
    a result that never comes."""

    def invoke(self, argv, **kwargs):
        results: queue.Queue = queue.Queue()

        def node() -> None:
            raise SystemExit(1)  # e.g. rich on a broken pipe, under a log call

        threading.Thread(target=node, name="Thread-1 (worker)").start()
        return results.get()  # forever


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")  # on purpose
def test_a_dead_dbt_thread_fails_the_invocation_instead_of_hanging_it():
    started = time.monotonic()
    with pytest.raises(ThreadDied, match=r"Thread-1 \(worker\): SystemExit: 1"):
        invoke_watched(DyingRunner(), ["build"], {})
    assert time.monotonic() - started < 10


def test_a_watched_invocation_returns_dbts_result_or_raises_its_error():
    class Runner:
        def invoke(self, argv, **kwargs):
            if argv == ["fail"]:
                raise ValueError("bad args")
            return ("result", argv, kwargs)

    assert invoke_watched(Runner(), ["build"], {"log_level": "none"}) == (
        "result",
        ["build"],
        {"log_level": "none"},
    )
    with pytest.raises(ValueError, match="bad args"):
        invoke_watched(Runner(), ["fail"], {})


def test_a_hanging_progress_report_cannot_hold_up_the_block():
    ledger = NodeLedger()
    never, called = threading.Event(), threading.Event()
    calls: list[tuple[int, int, int]] = []

    def report(done: int, total: int, failed: int) -> None:
        calls.append((done, total, failed))
        called.set()
        never.wait()  # an API that never answers

    ledger.finished(node("a", "success"), 1)
    started = time.monotonic()
    with progress_reporter(ledger, report, every=0.01, join_seconds=0.2):
        assert called.wait(timeout=10), "the progress thread never reported"
    assert calls == [(1, 1, 0)]
    assert time.monotonic() - started < 5


def test_the_progress_report_gets_the_final_state():
    ledger = NodeLedger()
    calls: list[tuple[int, int, int]] = []
    with progress_reporter(ledger, lambda *s: calls.append(s), every=60):
        ledger.finished(node("a", "success"), 2)
        ledger.finished(node("t", "fail", "test"), 2)
    assert calls == [(2, 2, 1)]
