"""Pure parts of issue 20's lock on the stack: the API's credentials (a 0600 file, exported by
reading it, never printed), the server's settings, the alert secrets kept out of the block
documents, the work pools' job template, and automations fingerprinted for in-place updates."""

from __future__ import annotations

import os
import stat
import subprocess

from lib.environment import prefect_auth_file, stack_environment
from mdw import alerts, notify, services
from mdw.alert_blocks import SmtpEmail, Webhook
from mdw.envvars import shell_exports
from settings import Settings
from tests.e2e.receivers import SmtpReceiver, WebhookReceiver


def test_the_credentials_are_generated_once_0600_and_exported_by_reading_the_file(tmp_path):
    settings = Settings(MDW_HOME=tmp_path, MDW_PG_PORT=5555)
    saved = os.environ.get("PREFECT_API_AUTH_STRING")
    try:
        services.ensure_prefect_auth(settings)
        path = prefect_auth_file(settings)
        auth = path.read_text().strip()
        services.ensure_prefect_auth(settings)
        assert path.read_text().strip() == auth  # kept, not regenerated
    finally:
        os.environ.pop("PREFECT_API_AUTH_STRING", None)
        if saved is not None:
            os.environ["PREFECT_API_AUTH_STRING"] = saved
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and len(auth) > 40
    printed = shell_exports(settings)
    assert auth not in printed
    # a real shell evaluates the export: the variable holds the credentials
    shell = subprocess.run(
        ["bash", "-c", 'eval "$1" && printf %s "$PREFECT_API_AUTH_STRING"', "sh", printed],
        capture_output=True,
        text=True,
        timeout=30,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert shell.returncode == 0 and shell.stdout == auth, shell.stderr
    assert stack_environment(settings)["PREFECT_API_AUTH_STRING"] == auth
    server = services.server_environment(settings)
    assert server["PREFECT_SERVER_API_AUTH_STRING"] == auth
    assert server["PREFECT_SERVER_API_CSRF_PROTECTION_ENABLED"] == "true"
    assert server["PREFECT_SERVER_API_CORS_ALLOWED_ORIGINS"] == "http://127.0.0.1:4200"
    assert server["PREFECT_SERVER_EVENTS_CAUSAL_ORDERING"] == "mdw.event_ordering"


def test_alert_secrets_stay_in_a_0600_file_never_in_a_block_document(tmp_path):
    settings = Settings(
        MDW_HOME=tmp_path,
        MDW_ALERT_WEBHOOK_URL="http://127.0.0.1:9/hook?token=s3cret-token",
        MDW_ALERT_SMTP_PASSWORD="smtp-s3cret",
    )
    path = notify.write_secrets(settings)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert notify.read_secret(path, "webhook_url").endswith("token=s3cret-token")
    assert notify.read_secret(path, "smtp_password") == "smtp-s3cret"
    documents = [
        Webhook(secrets_file=str(path)).model_dump(),
        SmtpEmail(to=["desk@example.com"], secrets_file=str(path)).model_dump(),
    ]
    assert "s3cret" not in repr(documents)
    assert notify.read_secret(tmp_path / "missing.json", "webhook_url") is None


def test_flow_runs_start_detached_from_their_worker():
    template = services.job_template("analytics")
    variables = template["variables"]["properties"]
    assert variables["stream_output"]["default"] is False
    assert variables["command"]["default"].endswith("-m mdw.flow_process analytics")
    assert template["job_configuration"]["command"] == "{{ command }}"


def test_automations_carry_a_fingerprint_of_their_definition():
    first = alerts._fingerprinted(alerts.heartbeat_automation())
    assert first == alerts._fingerprinted(alerts.heartbeat_automation())
    changed = alerts.heartbeat_automation() | {"enabled": False}
    assert alerts._fingerprinted(changed)["description"] != first["description"]
    probe = alerts.probe_automation()
    assert probe["trigger"]["expect"] == [alerts.PROBE_EVENT]
    assert probe["actions"] == [{"type": "do-nothing"}]


def test_the_blocks_send_with_the_secrets_read_at_send_time(tmp_path):
    hook, smtp = WebhookReceiver(), SmtpReceiver()
    try:
        settings = Settings(MDW_HOME=tmp_path, MDW_ALERT_WEBHOOK_URL=hook.url)
        path = str(notify.write_secrets(settings))
        Webhook(secrets_file=path)._send("body text", "the subject")
        post = hook.wait_for(lambda p: p["json"]["subject"] == "the subject", timeout=10)
        assert post is not None and post["json"]["text"] == "body text"
        mail = SmtpEmail(
            smtp_host="127.0.0.1", smtp_port=smtp.port, to=["desk@example.com"], secrets_file=path
        )
        mail._send("mail body", "mail subject")
        msg = smtp.wait_for(lambda m: m["Subject"] == "mail subject", timeout=10)
        assert msg is not None and msg["To"] == "desk@example.com"
    finally:
        hook.close()
        smtp.close()


def test_the_block_type_slugs_others_read_are_the_blocks_own():
    assert (Webhook._block_type_slug, SmtpEmail._block_type_slug) == alerts.BLOCK_TYPES
