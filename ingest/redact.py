"""Keys out of every message: what any error, log line or raw.load_runs row may carry."""

from __future__ import annotations

import re
from collections.abc import Iterable

_SECRET_PARAM = re.compile(r"(?i)\b(api[_-]?key)=([^&\s'\"]+)")
_BEARER = re.compile(r"(?i)\b(bearer)\s+[A-Za-z0-9._~+/=-]+")


def scrub(text: str, secrets: Iterable[str | None] = ()) -> str:
    """`text` without any API key: known secret values, `apiKey=...` query parameters and bearer
    tokens are replaced by `***`."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    text = _SECRET_PARAM.sub(r"\1=***", text)
    return _BEARER.sub(r"\1 ***", text)
