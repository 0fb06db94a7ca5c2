"""Sending one alert through the stack's channels: a webhook POST and an SMTP e-mail.

The notification blocks (mdw.alert_blocks, run by the Prefect server's automations) and the
supervisor (which must alert even while the server is down) both send through here. Neither a
block document nor a message carries a secret: `mdw up` writes the channels' secrets (the
webhook URL, which may hold a token, and the SMTP password) from the settings to
`$MDW_HOME/alert-secrets.json` (0600), and they are read from there when a message is sent. So
the Prefect API cannot hand them out, not even with `include_secrets`.
"""

from __future__ import annotations

import json
import os
import smtplib
import urllib.request
from dataclasses import asdict, dataclass
from email.message import EmailMessage
from pathlib import Path

from settings import Settings

TIMEOUT = 15.0


def secrets_file(settings: Settings) -> Path:
    return settings.mdw_home / "alert-secrets.json"


def write_secrets(settings: Settings) -> Path:
    """The channels' secrets from the settings, 0600 (rewritten at every `mdw up`)."""
    values = {
        "webhook_url": settings.alert_webhook_url,
        "smtp_password": settings.alert_smtp_password,
    }
    path = secrets_file(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump({k: v.get_secret_value() for k, v in values.items() if v is not None}, fh)
    os.chmod(path, 0o600)
    return path


def read_secret(path: str | Path, key: str) -> str | None:
    try:
        return json.loads(Path(path).read_text()).get(key)
    except (OSError, ValueError):
        return None


def post_webhook(url: str, subject: str, body: str) -> None:
    """One JSON POST: {"subject": ..., "text": ...}."""
    req = urllib.request.Request(
        url,
        data=json.dumps({"subject": subject, "text": body}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(req, timeout=TIMEOUT) as resp:  # noqa: S310 - the user's URL
        resp.read()


@dataclass(frozen=True)
class Mail:
    smtp_host: str
    smtp_port: int
    username: str | None
    password: str | None
    starttls: bool
    from_address: str
    to: list[str]

    def public_fields(self) -> dict:
        """Everything but the password (what a block document may hold)."""
        return {k: v for k, v in asdict(self).items() if k != "password"}

    def send(self, subject: str, body: str) -> None:
        msg = EmailMessage()
        msg["Subject"] = subject
        msg["From"] = self.from_address
        msg["To"] = ", ".join(self.to)
        msg.set_content(body)
        with smtplib.SMTP(self.smtp_host, self.smtp_port, timeout=TIMEOUT) as smtp:
            if self.starttls:
                smtp.starttls()
            if self.username:
                smtp.login(self.username, self.password or "")
            smtp.send_message(msg)


def mail_of(settings: Settings) -> Mail | None:
    """The e-mail channel of the settings (None without MDW_ALERT_EMAIL_TO)."""
    to = [a.strip() for a in (settings.alert_email_to or "").split(",") if a.strip()]
    if not to:
        return None
    password = settings.alert_smtp_password
    return Mail(
        smtp_host=settings.alert_smtp_host,
        smtp_port=settings.alert_smtp_port,
        username=settings.alert_smtp_user,
        password=password.get_secret_value() if password else None,
        starttls=settings.alert_smtp_starttls,
        from_address=settings.alert_email_from,
        to=to,
    )


def notify_all(settings: Settings, subject: str, body: str) -> list[str]:
    """Send to every configured channel directly (no Prefect server needed); returns the
    channels that failed, each as one line (a channel failing does not stop the others)."""
    failed = []
    if settings.alert_webhook_url is not None:
        try:
            post_webhook(settings.alert_webhook_url.get_secret_value(), subject, body)
        except OSError as exc:
            failed.append(f"webhook: {type(exc).__name__}")  # the URL may hold a token
    mail = mail_of(settings)
    if mail is not None:
        try:
            mail.send(subject, body)
        except (OSError, smtplib.SMTPException) as exc:
            failed.append(f"email: {exc}")
    return failed
