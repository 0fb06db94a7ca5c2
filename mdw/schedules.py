"""Schedules, watched: what `mdw status` shows per active schedule, and a dead-man's switch.

A schedule that silently stops is the failure nobody sees (issue 16: a scheduler that crashed
every minute left every schedule without a run for weeks). Two guards:

- `mdw status` lists each active schedule (an active schedule of a deployment that is not
  paused) with its next scheduled run and its last completed one, and says `scheduler: failing`
  when an active schedule has no upcoming run (Prefect's scheduler keeps at least three runs
  ahead of every active schedule, so none at all means it is not working).
- A Prefect proactive automation per active schedule, `mdw dead-man: <flow/deployment>`: when
  no run of the deployment completes within its period plus a grace, it alerts through the
  stack's notification blocks (the channels of mdw.alerts). Prefect evaluates a proactive
  trigger over consecutive windows of that length, so the alert comes at most two windows
  after the last completed run, and again every window while nothing completes. `mdw up` and
  `mdw schedule enable|disable` keep these automations in step with the schedules; one whose
  definition did not change is left alone (its window keeps running).

Read through the REST API, like the rest of `mdw status` (no `prefect` import there).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from mdw import prefect_api
from settings import Settings

DEADMAN_PREFIX = "mdw dead-man: "
# The grace on top of a schedule's period: a quarter of the period, at least 20 minutes. Runs
# take time and a worker may be busy with another run of its pool; and Prefect 3.8.8's triggers
# hold the state events of a run for up to 15 minutes when it starts within 5 minutes of being
# scheduled (its Pending event `follows` a Scheduled event the scheduler service never emits),
# so a shorter window could miss a completion that did happen.
GRACE_FRACTION = 0.25
GRACE_MIN = timedelta(minutes=20)
# A schedule changed this recently may have no run yet: Prefect's recent-deployments scheduler
# creates the first ones within seconds, its main loop every 60 s.
SETTLE = timedelta(minutes=2)


def _api(settings: Settings, method: str, path: str, body: object = None):
    return prefect_api.api(settings, method, path, body, missing_ok=method == "DELETE")


@dataclass(frozen=True)
class ActiveSchedule:
    deployment: str  # flow/deployment
    deployment_id: str
    spec: dict  # the schedule as the API returns it (interval / cron / rrule, timezone)
    updated: datetime  # when the deployment (or its schedules) last changed
    next_run: datetime | None = None  # expected start of the next Scheduled run
    last_completed: datetime | None = None  # end of the last Completed run

    @property
    def label(self) -> str:
        return describe(self.spec)


def describe(spec: dict) -> str:
    zone = spec.get("timezone") or "UTC"
    if spec.get("interval") is not None:
        return f"every {_duration(timedelta(seconds=float(spec['interval'])))} ({zone})"
    if spec.get("cron"):
        return f"cron '{spec['cron']}' ({zone})"
    rule = " ".join(str(spec.get("rrule", "?")).split())  # one line, whatever it spans
    return f"rrule '{rule}' ({zone})"


def _duration(span: timedelta) -> str:
    seconds = int(span.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds // size} {unit}"
    if seconds >= 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds} s" if seconds < 60 else f"{seconds / 60:.1f} min"


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


def _first_run(settings: Settings, deployment_id: str, state: str, extra: dict, sort: str):
    runs = _api(
        settings,
        "POST",
        "/flow_runs/filter",
        {
            "deployments": {"id": {"any_": [deployment_id]}},
            "flow_runs": {"state": {"type": {"any_": [state]}}, **extra},
            "sort": sort,
            "limit": 1,
        },
    )
    return runs[0] if runs else None


def active_schedules(settings: Settings, now: datetime | None = None) -> list[ActiveSchedule]:
    """Every active schedule of a deployment that is not paused, with its next scheduled and
    its last completed run."""
    now = now or datetime.now(UTC)
    flows = {f["id"]: f["name"] for f in _api(settings, "POST", "/flows/filter", {"limit": 200})}
    found = []
    for dep in _api(settings, "POST", "/deployments/filter", {"limit": 200}):
        if dep.get("paused"):
            continue
        for sched in dep.get("schedules") or []:
            if not sched.get("active"):
                continue
            upcoming = _first_run(
                settings,
                dep["id"],
                "SCHEDULED",
                {"expected_start_time": {"after_": now.isoformat()}},
                "EXPECTED_START_TIME_ASC",
            )
            completed = _first_run(settings, dep["id"], "COMPLETED", {}, "END_TIME_DESC")
            found.append(
                ActiveSchedule(
                    deployment=f"{flows.get(dep['flow_id'], '?')}/{dep['name']}",
                    deployment_id=dep["id"],
                    spec=sched["schedule"],
                    updated=max(_time(dep["updated"]), _time(sched["updated"])),  # type: ignore[type-var]
                    next_run=_time(upcoming["expected_start_time"]) if upcoming else None,
                    last_completed=_time(completed["end_time"]) if completed else None,
                )
            )
    return sorted(found, key=lambda s: s.deployment)


def has_future(spec: dict, now: datetime) -> bool:
    """Whether the schedule fires again: intervals and crons always; an rrule with COUNT or
    UNTIL may be exhausted (then no upcoming run is no fault of the scheduler)."""
    if not spec.get("rrule"):
        return True
    from zoneinfo import ZoneInfo

    from dateutil.rrule import rrulestr

    rule = rrulestr(spec["rrule"], forceset=True)
    first = next(iter(rule), None)
    if first is None:
        return False
    if first.tzinfo is None:  # a naive DTSTART is in the schedule's time zone
        now = now.astimezone(ZoneInfo(spec.get("timezone") or "UTC")).replace(tzinfo=None)
    return rule.after(now) is not None


@dataclass(frozen=True)
class Verdict:
    ok: bool
    line: str


def verdict(
    schedules: Iterable[ActiveSchedule], now: datetime, server_started: datetime | None
) -> Verdict:
    """`scheduler: ok|failing|starting ...`: failing when an active schedule that had time to
    get runs (changed more than SETTLE ago, on a server up for more than SETTLE) has none."""
    schedules = list(schedules)
    if not schedules:
        return Verdict(True, "scheduler: ok (no active schedule)")
    # a finite rule whose last runs are due now may have them fetched early by a worker
    missing = [s for s in schedules if s.next_run is None and has_future(s.spec, now + SETTLE)]
    settling = server_started is not None and now - server_started < SETTLE
    late = [s for s in missing if now - s.updated >= SETTLE]
    if late and not settling:
        names = ", ".join(s.deployment for s in late)
        return Verdict(
            False,
            f"scheduler: failing (no upcoming run for {names}; Prefect's scheduler creates "
            "none: see prefect-server.log under $MDW_HOME/logs)",
        )
    if missing:
        return Verdict(True, f"scheduler: starting ({len(missing)} schedule(s) without runs yet)")
    return Verdict(True, f"scheduler: ok ({len(schedules)} active schedule(s), each with runs)")


def _when(value: datetime | None, now: datetime) -> str:
    if value is None:
        return "never"
    delta = value - now
    minutes = abs(delta.total_seconds()) / 60
    rel = f"{minutes:.0f} min" if minutes < 120 else f"{minutes / 60:.0f} h"
    rel = f"in {rel}" if delta.total_seconds() >= 0 else f"{rel} ago"
    return f"{value.astimezone(UTC):%Y-%m-%d %H:%M} UTC ({rel})"


def status_lines(
    settings: Settings, row: Callable[[str, str, object, str], str], server_started=None
) -> tuple[bool, list[str]]:
    """The rows `mdw status` prints for schedules, and whether the scheduler is healthy."""
    now = datetime.now(UTC)
    try:
        schedules = active_schedules(settings, now)
    except (prefect_api.ApiUnavailable, prefect_api.ApiError, ValueError) as exc:
        return False, [f"scheduler: unknown (the API did not answer: {exc})"]
    lines = [
        row(
            "schedule",
            "",
            None,
            f"{s.deployment}  {s.label}  next {_when(s.next_run, now)}  "
            f"last completed {_when(s.last_completed, now)}",
        )
        for s in schedules
    ]
    result = verdict(schedules, now, server_started)
    return result.ok, [*lines, result.line]


# --- the dead-man's switch ---------------------------------------------------------------------


def period(spec: dict, now: datetime | None = None) -> timedelta:
    """The longest gap between consecutive runs of a schedule (a weekday cron's is Friday to
    Monday), from Prefect's own schedule models over its next runs."""
    if spec.get("interval") is not None:
        return timedelta(seconds=float(spec["interval"]))
    import asyncio

    from prefect.server.schemas.schedules import CronSchedule, RRuleSchedule

    fields = {k: v for k, v in spec.items() if v is not None}
    model = CronSchedule(**fields) if "cron" in fields else RRuleSchedule(**fields)
    # from a week back: every gap of a weekly pattern, and the whole of a finite rule
    since = (now or datetime.now(UTC)) - timedelta(days=8)
    dates = asyncio.run(model.get_dates(n=60, start=since))
    gaps = [b - a for a, b in zip(dates, dates[1:], strict=False)]
    return max(gaps) if gaps else timedelta(days=1)


def window(spec: dict, grace: timedelta | None = None) -> timedelta:
    """The period plus the grace: how long without a completed run before the alert."""
    every = period(spec)
    return every + (grace if grace is not None else max(GRACE_MIN, every * GRACE_FRACTION))


def deadman_automation(
    deployment: str, deployment_id: str, within: timedelta, label: str, block_ids: Iterable[str]
) -> dict:
    """A proactive automation: no `prefect.flow-run.Completed` event of the deployment's runs
    within `within` -> one message per alert channel."""
    span = _duration(within)
    subject = f"[mdw] {deployment}: no completed run in {span}"
    body = (
        f"No run of {deployment} completed within {span} (its schedule: {label}, plus a grace).\n"
        "The scheduler may create no runs (`mdw status` says `scheduler: failing`), no worker "
        "may take them, or they fail.\n"
        "Check `mdw status` and the logs under $MDW_HOME/logs (prefect-server.log, worker-*.log)."
    )
    return {
        "name": f"{DEADMAN_PREFIX}{deployment}",
        "description": f"Alerts when no run of {deployment} completes within {span}.",
        "enabled": True,
        "trigger": {
            "type": "event",
            "posture": "Proactive",
            "match": {"prefect.resource.id": "prefect.flow-run.*"},
            "match_related": {
                "prefect.resource.id": f"prefect.deployment.{deployment_id}",
                "prefect.resource.role": "deployment",
            },
            "expect": ["prefect.flow-run.Completed"],
            "threshold": 1,
            "within": within.total_seconds(),
        },
        "actions": [
            {
                "type": "send-notification",
                "block_document_id": block_id,
                "subject": subject,
                "body": body,
            }
            for block_id in block_ids
        ],
    }


def alert_block_ids(settings: Settings) -> list[str]:
    """The notification blocks of the channels the settings configure (mdw.alerts saves them
    at `mdw up`); a channel since removed from the settings is not used."""
    from mdw.alerts import BLOCK_TYPES, EMAIL_BLOCK, WEBHOOK_BLOCK

    names = [WEBHOOK_BLOCK] if settings.alert_webhook_url is not None else []
    names += [EMAIL_BLOCK] if settings.alert_email_to else []
    if not names:
        return []
    docs = _api(
        settings,
        "POST",
        "/block_documents/filter",
        {
            "block_documents": {"name": {"any_": names}},
            "block_types": {"slug": {"any_": list(BLOCK_TYPES)}},
        },
    )
    return sorted(d["id"] for d in docs)


def _same(existing: dict, wanted: dict) -> bool:
    keys = ("name", "description", "enabled")
    if any(existing.get(k) != wanted[k] for k in keys):
        return False
    have, want = existing["trigger"], wanted["trigger"]
    if any(have.get(k) != want[k] for k in ("posture", "expect", "threshold")):
        return False
    if float(have.get("within", 0)) != want["within"]:
        return False
    if have.get("match_related") != want["match_related"]:
        return False
    fields = ("block_document_id", "subject", "body")
    have_actions = [{k: a.get(k) for k in fields} for a in existing["actions"]]
    return have_actions == [{k: a[k] for k in fields} for a in wanted["actions"]]


def sync_deadman(
    settings: Settings, grace: timedelta | None = None, only: Iterable[str] | None = None
) -> list[str]:
    """One dead-man automation per active schedule (none without an alert channel); stale
    ones removed, changed ones replaced, unchanged ones left running. `only`: restrict to
    these deployments (tests). Returns the deployments watched."""
    block_ids = alert_block_ids(settings)
    wanted: dict[str, dict] = {}
    if block_ids:
        for s in active_schedules(settings):
            if only is not None and s.deployment not in only:
                continue
            within = window(s.spec, grace)
            tighter = wanted.get(s.deployment, {}).get("trigger", {}).get("within")
            if tighter is not None and tighter <= within.total_seconds():
                continue  # two schedules: the tighter window watches the deployment
            wanted[s.deployment] = deadman_automation(
                s.deployment, s.deployment_id, within, s.label, block_ids
            )
    existing = [
        a
        for a in _api(settings, "POST", "/automations/filter", {"limit": 200}) or []
        if a["name"].startswith(DEADMAN_PREFIX)
    ]
    kept = set()
    for automation in existing:
        deployment = automation["name"].removeprefix(DEADMAN_PREFIX)
        if only is not None and deployment not in only:
            continue
        target = wanted.get(deployment)
        if target is not None and deployment not in kept and _same(automation, target):
            kept.add(deployment)
            continue
        _api(settings, "DELETE", f"/automations/{automation['id']}")  # gone already: fine
    for deployment, automation in wanted.items():
        if deployment not in kept:
            _api(settings, "POST", "/automations/", automation)
    return sorted(wanted)
