from pathlib import Path

from lib.environment import public_environment, stack_environment
from mdw.envvars import ACTIVATE_BEGIN, shell_exports, with_activate_block
from settings import Settings


def test_defaults_point_at_the_embedded_server(tmp_path: Path):
    s = Settings(MDW_HOME=tmp_path, MDW_PG_PORT=5555, MDW_PREFECT_PORT=4999)
    assert s.embedded
    assert (
        s.warehouse.render_as_string() == "postgresql+psycopg2://postgres@127.0.0.1:5555/warehouse"
    )
    assert s.prefect_database.drivername == "postgresql+asyncpg"
    assert s.prefect_database.database == "prefect"
    assert s.prefect_api_url == "http://127.0.0.1:4999/api"
    assert s.pgdata == tmp_path / "pgdata"


def test_bare_postgresql_url_gets_an_explicit_driver():
    s = Settings(WAREHOUSE_URL="postgresql://ana:s3cret@db.example:6543/wh")
    assert not s.embedded
    assert s.warehouse.drivername == "postgresql+psycopg2"
    assert s.prefect_database.drivername == "postgresql+asyncpg"
    assert s.prefect_database.database == "prefect"


def test_exported_embedded_url_still_means_embedded():
    s = Settings(MDW_PG_PORT=5555)
    again = Settings(MDW_PG_PORT=5555, WAREHOUSE_URL=public_environment(s)["WAREHOUSE_URL"])
    assert again.embedded


def test_secrets_never_reach_printed_exports():
    s = Settings(WAREHOUSE_URL="postgresql://ana:s3cret@db.example:6543/wh")
    printed = shell_exports(s)
    assert "s3cret" not in printed
    assert "export PGHOST=db.example" in printed and "export PGPORT=6543" in printed
    assert "s3cret" not in repr(s)
    # child processes do get it
    assert "s3cret" in stack_environment(s)["WAREHOUSE_URL"]
    assert stack_environment(s)["PGPASSWORD"] == "s3cret"


def test_exports_cover_what_a_users_shell_needs():
    env = public_environment(Settings(MDW_PG_PORT=5555))
    for key in (
        "WAREHOUSE_URL",
        "PREFECT_API_URL",
        "PGHOST",
        "PGPORT",
        "PGDATABASE",
        "DBT_PROFILES_DIR",
        "DBT_PROJECT_DIR",
    ):
        assert key in env


def test_activate_block_is_replaced_not_appended():
    once = with_activate_block("original\n", "export A=1\n")
    twice = with_activate_block(once, "export A=2\n")
    assert twice.count(ACTIVATE_BEGIN) == 1
    assert "export A=2" in twice and "export A=1" not in twice
    assert twice.startswith("original\n")


def test_universe_accepts_a_comma_list_or_json_and_keys_stay_secret(monkeypatch):
    monkeypatch.setenv("MDW_UNIVERSE", "aapl, msft,")
    monkeypatch.setenv("POLYGON_API_KEY", "pk_live_123")
    s = Settings()
    assert s.universe == ["AAPL", "MSFT"]
    assert "pk_live_123" not in repr(s) and "pk_live_123" not in str(s.model_dump())
    monkeypatch.setenv("MDW_UNIVERSE", '["tsla"]')
    assert Settings().universe == ["TSLA"]
    assert Settings().polygon_requests_per_minute == 5


def test_explicit_port_wins_over_another_stacks_exported_url():
    """Regression (issue 8): an activated shell's WAREHOUSE_URL must not redirect a second stack."""
    first = Settings(MDW_PG_PORT=5555)
    exported = public_environment(first)["WAREHOUSE_URL"]
    second = Settings(MDW_PG_PORT=6666, WAREHOUSE_URL=exported)
    assert second.embedded
    assert second.warehouse.port == 6666


def test_another_stacks_url_without_an_explicit_port_is_an_error(monkeypatch):
    import pydantic
    import pytest

    monkeypatch.delenv("MDW_PG_PORT", raising=False)
    with pytest.raises(pydantic.ValidationError, match="MDW_PG_PORT=5555"):
        Settings(WAREHOUSE_URL="postgresql://postgres@127.0.0.1:5555/warehouse")
