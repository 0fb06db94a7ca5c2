import pytest

STACK_VARIABLES = (
    "WAREHOUSE_URL",
    "MDW_PREFECT_DATABASE_URL",
    "MDW_HOME",
    "MDW_PG_PORT",
    "MDW_PREFECT_PORT",
    "POLYGON_API_KEY",
    "POLYGON_BASE_URL",
    "POLYGON_REQUESTS_PER_MINUTE",
    "MDW_UNIVERSE",
    "YAHOO_REQUESTS_PER_MINUTE",
    "YAHOO_BATCH_SIZE",
    "YAHOO_MAX_RETRIES",
)


@pytest.fixture(autouse=True)
def clean_stack_environment(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    """Unit tests see no stack configuration from the shell that runs them (nor a .env)."""
    for name in STACK_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
