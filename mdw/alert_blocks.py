"""The stack's notification blocks: a webhook POST and an SMTP e-mail (mdw.notify sends).

Prefect ships no plain-SMTP block, and its webhook block keeps the URL in the block document,
where the API returns it with `include_secrets`. These keep no secret at all: the document
holds where the secrets are (`$MDW_HOME/alert-secrets.json`, 0600), read when a message is sent.
The Prefect server loads this module through the `prefect.collections` entry point
(pyproject.toml), so automations can use the blocks. Light on purpose: the server imports it at
start-up.
"""

from __future__ import annotations

from dataclasses import fields

import anyio.to_thread
from prefect._internal.compatibility.async_dispatch import async_dispatch
from prefect.blocks.abstract import NotificationBlock
from pydantic import Field

from mdw.notify import Mail, post_webhook, read_secret


class _SendsInAThread:
    """notify() / anotify() around a blocking `_send` (smtplib, urllib)."""

    def _send(self, body: str, subject: str | None) -> None:
        raise NotImplementedError

    async def anotify(self, body: str, subject: str | None = None) -> None:
        await anyio.to_thread.run_sync(self._send, body, subject)

    @async_dispatch(anotify)
    def notify(self, body: str, subject: str | None = None) -> None:
        self._send(body, subject)


class Webhook(_SendsInAThread, NotificationBlock):
    """POST {"subject": ..., "text": ...} as JSON to the URL kept in the secrets file."""

    _block_type_name = "mdw Webhook"
    _block_type_slug = "mdw-webhook"

    secrets_file: str = Field(description="JSON file (0600) holding `webhook_url`")

    def _send(self, body: str, subject: str | None) -> None:
        url = read_secret(self.secrets_file, "webhook_url")
        if not url:
            raise RuntimeError(f"no webhook_url in {self.secrets_file}: run `mdw up`")
        post_webhook(url, subject or "mdw alert", body)


class SmtpEmail(_SendsInAThread, NotificationBlock):
    """Send a notification as one e-mail (plain text) through an SMTP server."""

    _block_type_name = "mdw SMTP Email"
    _block_type_slug = "mdw-smtp-email"

    smtp_host: str = Field(default="localhost")
    smtp_port: int = Field(default=25)
    username: str | None = Field(default=None)
    starttls: bool = Field(default=False)
    from_address: str = Field(default="mdw@localhost")
    to: list[str] = Field(default_factory=list)
    secrets_file: str = Field(description="JSON file (0600) holding `smtp_password`, if any")

    def _send(self, body: str, subject: str | None) -> None:
        public = self.model_dump(include={f.name for f in fields(Mail)} - {"password"})
        password = read_secret(self.secrets_file, "smtp_password")
        Mail(**public, password=password).send(subject or "mdw alert", body)
