"""The e2e suite's quiet-server check (tests/e2e/conftest.py) can fail: a traceback or an ERROR
of Prefect's own services is loud; a flow or task run's own errors, an allowed line and a
`noisy` window are not."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.conftest import Noise, loud_records

WORKER = """\
Worker 'mdw-maintenance' started!
12:00:01.000 | INFO    | prefect.flow_runs.worker - Worker 'mdw-maintenance' submitting flow run 'x'
12:00:02.000 | ERROR   | Flow run 'odd-cat' - Encountered exception during execution:
Traceback (most recent call last):
ValueError: a failing flow is the test's business
12:00:03.000 | ERROR   | Task run "dbt ['build']" - Finished in state Failed('boom')
12:00:04.000 | ERROR   | GlobalEventLoopThread | prefect._internal.concurrency - Service \
'EventsWorker' failed to process item Event(occurred=x, event='prefect.flow-run.heartbeat', y)
12:00:05.000 | ERROR   | prefect.flow_runs.worker - Failed to update state of flow run 'y'
Traceback (most recent call last):
prefect.exceptions.ObjectNotFound: None
"""
SERVER = "banner\n12:00:06.000 | WARNING | prefect.server.events.actions - Action failed\n"


class Home:
    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir


def test_only_prefects_own_errors_are_loud(tmp_path):
    (tmp_path / "worker-maintenance.log").write_text(WORKER)
    (tmp_path / "prefect-server.log").write_text(SERVER)
    (tmp_path / "deploy.log").write_text("Traceback (most recent call last):\n")  # not a server
    loud = loud_records(Home(tmp_path), [])
    assert len(loud) == 1 and "Failed to update state of flow run 'y'" in loud[0]
    assert "ObjectNotFound" in loud[0]
    start = WORKER.index("12:00:05")
    quiet = [Noise(tmp_path / "worker-maintenance.log", start, len(WORKER), "on purpose")]
    assert loud_records(Home(tmp_path), quiet) == []


SHUTDOWN = """\
12:00:07.000 | WARNING | prefect.FlowRunCancellingObserver - Consumer task exited with exception
Traceback (most recent call last):
EOFError: connection closed while reading HTTP status line
12:00:07.002 | ERROR   | asyncio - Exception in callback \
FlowRunCancellingObserver._handle_polling_task_done(<Task cancelled>)
Traceback (most recent call last):
asyncio.exceptions.CancelledError
Worker 'mdw-analytics' started!
12:00:08.000 | WARNING | prefect.FlowRunCancellingObserver - Consumer task exited with exception
Traceback (most recent call last):
ValueError: not a lost connection
"""


def test_a_worker_shutdown_after_a_lost_websocket_is_allowed_and_nothing_else(tmp_path):
    (tmp_path / "worker-analytics.log").write_text(SHUTDOWN)
    loud = loud_records(Home(tmp_path), [])
    assert len(loud) == 1 and "not a lost connection" in loud[0]
