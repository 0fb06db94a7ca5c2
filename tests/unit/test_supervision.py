"""Pure parts of issue 20's supervision: which runs have no live process (sub-flows judged by
their root), the supervisor's back-off, restart records and keeps-dying alert (to a real local
HTTP receiver), and the server's causal ordering after a restart."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

from mdw import event_ordering, orphans, services, supervisor
from mdw.supervisor import Part, Supervisor
from settings import Settings
from tests.e2e.receivers import WebhookReceiver


def _run(run_id: str, state: str = "RUNNING", age: float = 60.0, **extra) -> dict:
    stamp = (datetime.now(UTC) - timedelta(seconds=age)).isoformat()
    return {
        "id": run_id,
        "state_type": state,
        "state": {"timestamp": stamp},
        "deployment_id": None,
        "parent_task_run_id": None,
        "work_pool_name": None,
        **extra,
    }


def _judge(runs: list[dict], live: set[str], pools: set[str] | None = None) -> orphans.Judge:
    """A judge reading these runs, and task runs `task-<parent run id>` of their parents."""
    by_id = {r["id"]: r for r in runs}

    def read(path: str) -> dict:
        kind, _, ident = path.strip("/").partition("/")
        if kind == "task_runs":
            return {"flow_run_id": ident.removeprefix("task-")}
        return by_id[ident]

    return orphans.Judge(live, set(services.POOLS) if pools is None else pools, read)


def test_a_deployment_run_is_judged_by_its_own_process():
    dep = {"deployment_id": "d", "work_pool_name": "analytics"}
    alive, dead = _run("a", **dep), _run("b", **dep)
    judge = _judge([alive, dead], live={"a"})
    assert not judge.dead(alive)
    assert judge.dead(dead)
    # just started (its worker reports a death itself first), or Pending while its worker
    # starts it: not yet; Pending for too long, or with no worker to start it: dead
    assert not judge.dead(_run("c", age=2, **dep))
    assert not judge.dead(_run("d", state="PENDING", age=30, **dep))
    assert judge.dead(_run("e", state="PENDING", age=200, **dep))
    assert _judge([], live=set(), pools=set()).dead(_run("f", state="PENDING", age=30, **dep))


def test_a_sub_flow_is_judged_by_its_root_and_strangers_are_left_alone():
    root = _run("root", deployment_id="d", work_pool_name="analytics")
    child = _run("child", parent_task_run_id="task-root")
    grandchild = _run("grandchild", parent_task_run_id="task-child")
    runs = [root, child, grandchild]
    # the sub-flows run in the root's process: alive with it (issue 20: `mdw up` crashed a
    # live sub-flow and left its parent Running)
    assert not any(_judge(runs, live={"root"}).dead(r) for r in runs)
    assert all(_judge(runs, live=set()).dead(r) for r in runs)
    finished = [root | {"state_type": "COMPLETED"}, child]
    assert _judge(finished, live=set()).dead(child)
    # a flow `mdw` runs in its own process, and another pool's run: the heartbeat's business
    assert not _judge([], live=set()).dead(_run("adhoc"))
    other = _run("other", deployment_id="d", work_pool_name="someone-elses")
    assert not _judge([other], live=set()).dead(other)


def test_restarts_wait_longer_each_time_are_recorded_and_alert_once(tmp_path):
    hook = WebhookReceiver()
    try:
        settings = Settings(MDW_HOME=tmp_path, MDW_ALERT_WEBHOOK_URL=hook.url)
        settings.run_dir.mkdir(parents=True)
        pids = iter(range(100, 200))
        part = Part("worker-x", problem=lambda: "its process is gone", restart=lambda: next(pids))
        sup = Supervisor(settings, parts=[part])
        sup._restart(part, "its process is gone", now=1000.0)  # at once
        sup._restart(part, "its process is gone", now=1001.0)  # within the 2 s back-off: no
        sup._restart(part, "its process is gone", now=1002.0)
        assert part.next_try == 1002.0 + supervisor.BACKOFF_SECONDS[2]
        assert hook.posts == []  # twice is not "keeps dying"
        sup._restart(part, "its process is gone", now=part.next_try)
        post = hook.wait_for(lambda p: "keeps dying" in p["json"]["subject"], timeout=10)
        assert post is not None and "restarted 3 times" in post["json"]["text"]
        assert "s3cret-token" not in json.dumps(post["json"])
        sup._restart(part, "its process is gone", now=part.next_try)
        assert len(hook.posts) == 1  # once per window
        records = supervisor.recent_restarts(settings)
        assert [r["pid"] for r in records] == [100, 101, 102, 103]
        proc, summary = supervisor.status(settings)
        assert not proc.running and summary.startswith("worker-x 4 (last ")
    finally:
        hook.close()


def test_a_failed_restart_is_recorded_and_tried_again_after_the_back_off(tmp_path):
    settings = Settings(MDW_HOME=tmp_path)
    settings.run_dir.mkdir(parents=True)

    def refuse() -> int:
        raise RuntimeError("port 4200 is taken\nsecond line")

    part = Part("prefect-server", problem=lambda: "gone", restart=refuse)
    sup = Supervisor(settings, parts=[part])
    sup._restart(part, "gone", now=10.0)
    (record,) = supervisor.recent_restarts(settings)
    assert record["failed"] == "port 4200 is taken" and "pid" not in record
    assert part.next_try > 10.0
    assert supervisor.status(settings)[1].endswith(", failed)")


def test_the_causal_ordering_does_not_wait_for_a_previous_server_process():
    def uuid7_at(seconds: float) -> uuid.UUID:
        value = (int(seconds * 1000) << 80) | (7 << 76) | (0b10 << 62) | 12345
        return uuid.UUID(int=value)

    started = event_ordering.STARTED
    assert event_ordering.emitted_before_start(uuid7_at(started - 60))
    assert not event_ordering.emitted_before_start(uuid7_at(started + 1))
    assert not event_ordering.emitted_before_start(uuid.uuid4())  # no time in it: wait
