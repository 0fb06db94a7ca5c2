"""Alerts and crash detection, configured in the Prefect server at `mdw up`.

- Notification blocks: `mdw-alert-webhook` (mdw.alert_blocks.Webhook, from
  MDW_ALERT_WEBHOOK_URL) and `mdw-alert-email` (mdw.alert_blocks.SmtpEmail, from
  MDW_ALERT_EMAIL_TO and the MDW_ALERT_SMTP_* settings). Their secrets stay in a 0600 file
  (mdw.notify), never in the block documents.
- Automation `mdw: failed or crashed run`: every run of a deployment that ends Failed or
  Crashed sends one message per channel: flow, deployment, run id, the run's UI link and the
  state message (the error, or the failed units of a partial landing or validation). Sub-flows
  of a deployment run do not alert on their own: their parent's state carries their message.
- Automation `mdw: crash runs without a heartbeat`: flow runs send a heartbeat every 30 s
  (PREFECT_FLOWS_HEARTBEAT_FREQUENCY); one that stops for 90 s is marked Crashed - which in
  turn alerts. The supervisor (mdw.orphans) finds the runs of the stack's workers sooner; this
  covers the rest (flows `mdw` runs in its own process).
- Automation `mdw: triggers live`: answers a probe event, so that `mdw up` and the supervisor
  know the server's trigger service is evaluating before they mark orphaned runs Crashed (an
  event nobody evaluates is an alert lost).

Automations are created once and updated in place only when their definition changed (a
fingerprint in the description): deleting and re-creating them on every start lost the alerts
of the runs marked Crashed right after (issue 20, defect 4).

Messages are built by the server from the run only: no setting, URL or password is in them.
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from datetime import UTC, datetime

from mdw.notify import write_secrets
from mdw.prefect_api import api
from settings import Settings

PREFIX = "mdw: "
WEBHOOK_BLOCK = "mdw-alert-webhook"
EMAIL_BLOCK = "mdw-alert-email"
BLOCK_TYPES = ("mdw-webhook", "mdw-smtp-email")  # the slugs of mdw.alert_blocks' two blocks
HEARTBEAT_SECONDS = 30
HEARTBEAT_GRACE_SECONDS = 90
PROBE_EVENT = "mdw.stack.probe"

SUBJECT = "[mdw] {{ flow.name }}/{{ deployment.name }}: {{ flow_run.state.name }}"
BODY = """\
{{ flow_run.state.name }}: {{ flow.name }}/{{ deployment.name }}
flow: {{ flow.name }}
deployment: {{ flow.name }}/{{ deployment.name }}
flow run: {{ flow_run.name }} (id {{ flow_run.id }})
link: {{ flow_run|ui_url }}
error or failed units:
{{ flow_run.state.message }}"""


def _save_blocks(settings: Settings) -> dict[str, str]:
    """Create or overwrite the notification blocks; returns {channel: block document id}."""
    from mdw.alert_blocks import SmtpEmail, Webhook
    from mdw.notify import mail_of

    path = str(write_secrets(settings))
    # a stack from before kept the URL in a Prefect webhook block: that document goes
    old = api(
        settings,
        "GET",
        f"/block_types/slug/custom-webhook/block_documents/name/{WEBHOOK_BLOCK}",
        missing_ok=True,
    )
    if old is not None:
        api(settings, "DELETE", f"/block_documents/{old['id']}", missing_ok=True)
    ids: dict[str, str] = {}
    if settings.alert_webhook_url is not None:
        ids["webhook"] = str(Webhook(secrets_file=path).save(WEBHOOK_BLOCK, overwrite=True))
    mail = mail_of(settings)
    if mail is not None:
        email = SmtpEmail(**mail.public_fields(), secrets_file=path)
        ids["email"] = str(email.save(EMAIL_BLOCK, overwrite=True))
    return ids


def failed_run_automation(block_ids: dict[str, str]) -> dict:
    return {
        "name": f"{PREFIX}failed or crashed run",
        "description": "One message per channel for a deployment run that ends Failed/Crashed.",
        "enabled": True,
        "trigger": {
            "type": "event",
            "posture": "Reactive",
            "match": {"prefect.resource.id": "prefect.flow-run.*"},
            "match_related": {"prefect.resource.role": "deployment"},
            "expect": ["prefect.flow-run.Failed", "prefect.flow-run.Crashed"],
            "threshold": 1,
            "within": 0,
        },
        "actions": [
            {
                "type": "send-notification",
                "block_document_id": block_id,
                "subject": SUBJECT,
                "body": BODY,
            }
            for block_id in block_ids.values()
        ],
    }


def heartbeat_automation() -> dict:
    """Prefect's documented zombie-run detection: no heartbeat within the grace -> Crashed."""
    return {
        "name": f"{PREFIX}crash runs without a heartbeat",
        "description": "A flow run whose process died (killed worker, lost database) is "
        "marked Crashed instead of staying Running.",
        "enabled": True,
        "trigger": {
            "type": "event",
            "posture": "Proactive",
            "after": ["prefect.flow-run.heartbeat"],
            "expect": [
                "prefect.flow-run.heartbeat",
                "prefect.flow-run.Completed",
                "prefect.flow-run.Failed",
                "prefect.flow-run.Cancelled",
                "prefect.flow-run.Crashed",
            ],
            "match": {"prefect.resource.id": ["prefect.flow-run.*"]},
            "for_each": ["prefect.resource.id"],
            "threshold": 1,
            "within": HEARTBEAT_GRACE_SECONDS,
        },
        "actions": [
            {
                "type": "change-flow-run-state",
                "state": "CRASHED",
                "message": f"No heartbeat for {HEARTBEAT_GRACE_SECONDS} s: the run's process "
                "is gone (worker or process killed, or its database lost).",
            }
        ],
    }


def probe_automation() -> dict:
    return {
        "name": f"{PREFIX}triggers live",
        "description": "Answers `mdw up`'s probe: the trigger service is evaluating events.",
        "enabled": True,
        "trigger": {
            "type": "event",
            "posture": "Reactive",
            "match": {"prefect.resource.id": "mdw.stack.*"},
            "expect": [PROBE_EVENT],
            "threshold": 1,
            "within": 0,
        },
        "actions": [{"type": "do-nothing"}],
    }


def _fingerprinted(automation: dict) -> dict:
    digest = hashlib.sha256(json.dumps(automation, sort_keys=True).encode()).hexdigest()[:16]
    return {**automation, "description": f"{automation['description']} [mdw {digest}]"}


def configure(settings: Settings) -> list[str]:
    """Idempotent: the stack's automations (names starting 'mdw: ') are created, updated in
    place when their definition changed, and removed when no longer wanted; unchanged ones are
    not touched. Returns the alert channels configured."""
    block_ids = _save_blocks(settings)
    wanted = [heartbeat_automation(), probe_automation()]
    if block_ids:
        wanted.append(failed_run_automation(block_ids))
    wanted_by_name = {a["name"]: _fingerprinted(a) for a in wanted}
    existing = {
        a["name"]: a
        for a in api(settings, "POST", "/automations/filter", {"limit": 200})
        if a["name"].startswith(PREFIX)
    }
    for name, automation in wanted_by_name.items():
        if name not in existing:
            api(settings, "POST", "/automations/", automation)
        elif existing[name]["description"] != automation["description"]:
            api(settings, "PUT", f"/automations/{existing[name]['id']}", automation)
    for name, automation in existing.items():
        if name not in wanted_by_name:
            api(settings, "DELETE", f"/automations/{automation['id']}", missing_ok=True)
    return sorted(block_ids)


def _probe_answered(settings: Settings, probe_id: str, since: str) -> bool:
    found = api(
        settings,
        "POST",
        "/events/filter",
        {
            "filter": {
                "occurred": {"since": since},
                "event": {"name": ["prefect.automation.action.executed"]},
                "related": {"id": [f"prefect.event.{probe_id}"]},
            },
            "limit": 1,
        },
    )
    return bool(found["events"])


def wait_triggers_live(settings: Settings, timeout: float = 120.0) -> float:
    """Until the server's trigger and action services answer a probe event (a `do-nothing`
    automation executes for it); the seconds it took. A probe sent before the services were
    listening is lost, so a new one goes out every 10 s."""
    started = time.monotonic()
    since = datetime.now(UTC).isoformat()
    while time.monotonic() - started < timeout:
        probe_id = str(uuid.uuid4())
        event = {
            "id": probe_id,
            "occurred": datetime.now(UTC).isoformat(),
            "event": PROBE_EVENT,
            "resource": {"prefect.resource.id": f"mdw.stack.{settings.prefect_port}"},
        }
        api(settings, "POST", "/events", [event])
        resend = time.monotonic() + 10.0
        while time.monotonic() < min(resend, started + timeout):
            if _probe_answered(settings, probe_id, since):
                return time.monotonic() - started
            time.sleep(0.5)
    raise RuntimeError(
        f"the Prefect server's trigger service did not answer within {timeout:.0f} s: alerts "
        f"would be lost (see {settings.log_dir / 'prefect-server.log'})"
    )
