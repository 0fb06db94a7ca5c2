"""Vendor API keys, resolved where Prefect is known: the settings first, then a Prefect Secret.

The Polygon key comes from the settings (`POLYGON_API_KEY`) or, when that is unset, from the
Prefect Secret block `polygon-api-key`; `ingest` receives the key as a plain argument.
"""

from __future__ import annotations

from settings import Settings

SECRET_BLOCK = "polygon-api-key"


class MissingApiKey(RuntimeError):
    """Neither POLYGON_API_KEY nor the Prefect Secret block holds a key."""


def resolve_api_key(settings: Settings, block_name: str = SECRET_BLOCK) -> str:
    """The key from the settings, else from the Prefect Secret block `block_name`."""
    if settings.polygon_api_key is not None:
        key = settings.polygon_api_key.get_secret_value().strip()
        if key:
            return key
    try:
        from prefect.blocks.system import Secret

        value = Secret.load(block_name).get()
    except Exception as exc:  # no block, no Prefect API, ... - say which, never more
        raise MissingApiKey(
            f"no Polygon API key: set POLYGON_API_KEY or create a Prefect Secret block named "
            f"{block_name!r} ({type(exc).__name__} while reading the block)"
        ) from None
    key = str(value or "").strip()
    if not key:
        raise MissingApiKey(f"the Prefect Secret block {block_name!r} is empty")
    return key
