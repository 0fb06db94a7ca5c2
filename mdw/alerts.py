"""Alerts and crash detection, configured in the Prefect server at `mdw up`.

- Notification blocks: `mdw-alert-webhook` (Prefect's CustomWebhookNotificationBlock, from
  MDW_ALERT_WEBHOOK_URL) and `mdw-alert-email` (our SMTP block, from MDW_ALERT_EMAIL_TO and the
  MDW_ALERT_SMTP_* settings).
- Automation `mdw: failed or crashed run`: every run of a deployment that ends Failed or
  Crashed sends one message per channel: flow, deployment, run id, the run's UI link and the
  state message (the error, or the failed units of a partial landing or validation). Sub-flows
  of a deployment run do not alert on their own: their parent's state carries their message.
- Automation `mdw: crash runs without a heartbeat`: flow runs send a heartbeat every 30 s
  (PREFECT_FLOWS_HEARTBEAT_FREQUENCY); one that stops for 90 s (killed worker or process,
  lost database) is marked Crashed - which in turn alerts.

Messages are built by the server from the run only: no setting, URL or password is in them.
"""

from __future__ import annotations

import urllib.error

from mdw import services
from settings import Settings

PREFIX = "mdw: "
WEBHOOK_BLOCK = "mdw-alert-webhook"
EMAIL_BLOCK = "mdw-alert-email"
HEARTBEAT_SECONDS = 30
HEARTBEAT_GRACE_SECONDS = 90

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
    from prefect.blocks.notifications import CustomWebhookNotificationBlock

    from mdw.alert_blocks import SmtpEmail

    ids: dict[str, str] = {}
    if settings.alert_webhook_url is not None:
        block = CustomWebhookNotificationBlock(
            name="mdw alerts",
            # the URL (it may carry a token) is kept as a block secret, never shown in the UI
            url="{{webhook_url}}",
            secrets={"webhook_url": settings.alert_webhook_url.get_secret_value()},
            method="POST",
            json_data={"subject": "{{subject}}", "text": "{{body}}"},
        )
        ids["webhook"] = str(block.save(WEBHOOK_BLOCK, overwrite=True))
    if settings.alert_email_to:
        email = SmtpEmail(
            smtp_host=settings.alert_smtp_host,
            smtp_port=settings.alert_smtp_port,
            username=settings.alert_smtp_user,
            password=settings.alert_smtp_password,
            starttls=settings.alert_smtp_starttls,
            from_address=settings.alert_email_from,
            to=[a.strip() for a in settings.alert_email_to.split(",") if a.strip()],
        )
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


def configure(settings: Settings) -> list[str]:
    """Idempotent: replaces the stack's automations (names starting 'mdw: ') each time.
    Returns the alert channels configured."""
    block_ids = _save_blocks(settings)
    wanted = [heartbeat_automation()]
    if block_ids:
        wanted.append(failed_run_automation(block_ids))
    existing = services._post_json(settings, "/automations/filter", {"limit": 200}) or []
    for automation in existing:  # type: ignore[union-attr]
        if automation["name"].startswith(PREFIX):
            try:
                services._request(settings, "DELETE", f"/automations/{automation['id']}")
            except urllib.error.HTTPError as exc:
                if exc.code != 404:
                    raise
    for automation in wanted:
        services._post_json(settings, "/automations/", automation)
    return sorted(block_ids)
