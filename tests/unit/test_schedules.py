"""Pure parts of the schedule watch (issue 16): the scheduler's verdict for `mdw status`, a
schedule's period and the dead-man automation's shape; the start-up log quoting of `mdw up`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from mdw import schedules, stack

NOW = datetime(2026, 12, 7, 15, 0, tzinfo=UTC)  # a Monday


def active(
    name: str, next_run: datetime | None, changed_ago: timedelta
) -> schedules.ActiveSchedule:
    return schedules.ActiveSchedule(
        deployment=name,
        deployment_id="d",
        spec={"interval": 900.0, "timezone": "UTC"},
        updated=NOW - changed_ago,
        next_run=next_run,
    )


def test_the_scheduler_is_failing_when_an_active_schedule_has_no_upcoming_run():
    ok = active("system-health/every-15-minutes", NOW + timedelta(minutes=5), timedelta(days=1))
    missing = active("maintenance/nightly", None, timedelta(days=1))
    long_up = NOW - timedelta(hours=3)
    assert schedules.verdict([ok], NOW, long_up).ok
    failing = schedules.verdict([ok, missing], NOW, long_up)
    assert not failing.ok and failing.line.startswith("scheduler: failing (no upcoming run for")
    assert "maintenance/nightly" in failing.line and "system-health" not in failing.line
    # a schedule changed a moment ago, or a server just started, has not had time yet
    just_changed = active("maintenance/nightly", None, timedelta(seconds=20))
    assert schedules.verdict([ok, just_changed], NOW, long_up).line.startswith(
        "scheduler: starting"
    )
    assert schedules.verdict([missing], NOW, NOW - timedelta(seconds=30)).ok
    assert schedules.verdict([], NOW, long_up).line == "scheduler: ok (no active schedule)"
    # a finite rule that has fired its last run is expected to have none coming
    done = "DTSTART:20261207T140000Z\nRRULE:FREQ=SECONDLY;INTERVAL=15;COUNT=4"
    exhausted = schedules.ActiveSchedule("x/y", "d", {"rrule": done}, NOW - timedelta(days=1))
    assert schedules.verdict([ok, exhausted], NOW, long_up).line.startswith("scheduler: ok")
    assert not schedules.has_future({"rrule": done}, NOW)
    assert schedules.has_future({"rrule": done}, NOW - timedelta(hours=1))
    assert schedules.has_future({"cron": "30 7 * * *"}, NOW)


def test_a_schedules_period_is_its_longest_gap():
    assert schedules.period({"interval": 900.0}) == timedelta(minutes=15)
    weekdays = {"cron": "30 20 * * 1-5", "timezone": "America/New_York", "day_or": True}
    assert schedules.period(weekdays, NOW) == timedelta(days=3)  # Friday evening to Monday
    nightly = {"cron": "30 7 * * *", "timezone": "UTC", "day_or": True}
    assert schedules.period(nightly, NOW) == timedelta(days=1)
    # the window: the period plus a quarter of it, at least twenty minutes
    assert schedules.window({"interval": 900.0}) == timedelta(minutes=35)
    assert schedules.window(nightly) == timedelta(days=1, hours=6)


def test_the_dead_man_automation_expects_a_completed_run_of_its_deployment():
    automation = schedules.deadman_automation(
        "system-health/every-15-minutes", "abc", timedelta(minutes=25), "every 15 min", ["b1"]
    )
    trigger = automation["trigger"]
    assert automation["name"] == "mdw dead-man: system-health/every-15-minutes"
    assert trigger["posture"] == "Proactive" and trigger["within"] == 1500
    assert trigger["expect"] == ["prefect.flow-run.Completed"] and trigger["threshold"] == 1
    assert trigger["match_related"]["prefect.resource.id"] == "prefect.deployment.abc"
    action = automation["actions"][0]
    assert action["block_document_id"] == "b1" and "25 min" in action["subject"]
    assert "{{" not in action["body"]  # static text: a proactive firing has no event to render


def test_a_failed_start_is_quoted_from_the_new_part_of_the_servers_log(tmp_path):
    log = tmp_path / "prefect-server.log"
    log.write_text("12:00:00.000 | ERROR   | old - an earlier start's problem\n")
    offset = log.stat().st_size
    with open(log, "a") as fh:
        fh.write("Port 4200 is already in use. Please specify a different port with the `--port`\n")
        fh.write("flag.\n")
    assert stack.log_problems(log, offset) == (
        "Port 4200 is already in use. Please specify a different port with the `--port` flag."
    )
    assert stack.log_problems(tmp_path / "missing.log", 0) == "nothing"
