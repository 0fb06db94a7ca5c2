"""A Prefect notification block that sends e-mail through an SMTP server.

Prefect ships webhook blocks but no plain-SMTP one. The Prefect server loads this module
through the `prefect.collections` entry point (pyproject.toml), so automations can use it.
Light on purpose: the server imports it at start-up.
"""

from __future__ import annotations

import smtplib
from email.message import EmailMessage

import anyio.to_thread
from prefect._internal.compatibility.async_dispatch import async_dispatch
from prefect.blocks.abstract import NotificationBlock
from pydantic import Field, SecretStr


class SmtpEmail(NotificationBlock):
    """Send a notification as one e-mail (plain text) through an SMTP server."""

    _block_type_name = "mdw SMTP Email"
    _block_type_slug = "mdw-smtp-email"

    smtp_host: str = Field(default="localhost")
    smtp_port: int = Field(default=25)
    username: str | None = Field(default=None)
    password: SecretStr | None = Field(default=None)
    starttls: bool = Field(default=False)
    from_address: str = Field(default="mdw@localhost")
    to: list[str] = Field(default_factory=list)
    timeout: float = Field(default=15.0)

    def _send(self, body: str, subject: str | None) -> None:
        msg = EmailMessage()
        msg["Subject"] = subject or "mdw alert"
        msg["From"] = self.from_address
        msg["To"] = ", ".join(self.to)
        msg.set_content(body)
        with smtplib.SMTP(self.smtp_host, self.smtp_port, timeout=self.timeout) as smtp:
            if self.starttls:
                smtp.starttls()
            if self.username:
                smtp.login(self.username, self.password.get_secret_value() if self.password else "")
            smtp.send_message(msg)

    async def anotify(self, body: str, subject: str | None = None) -> None:
        await anyio.to_thread.run_sync(self._send, body, subject)

    @async_dispatch(anotify)
    def notify(self, body: str, subject: str | None = None) -> None:  # type: ignore[override]
        self._send(body, subject)
