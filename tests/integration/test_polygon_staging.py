"""dbt staging for Polygon over bars and actions landed from recorded responses (real dbt)."""

from __future__ import annotations

from datetime import date

import pytest

from ingest.db import migrate, transaction
from ingest.landing import land_rows
from ingest.outcomes import Unit
from ingest.polygon import daily, reference
from ingest.polygon.backfill import backfill_symbol, plan_backfill
from ingest.polygon.client import build_client
from tests.integration.conftest import dbt, query
from tests.support.polygon_server import (
    AggsFromAlphaVantage,
    PolygonServer,
    grouped_day_body,
    json_reply,
    openapi_splits,
)

pytestmark = pytest.mark.integration

KEY = "pk-staging-test"

BAR_COLUMNS = [
    "symbol",
    "trade_date",
    "open",
    "high",
    "low",
    "close",
    "volume",
    "data_source",
    "loaded_at",
    "load_run_id",
]
ACTION_COLUMNS = [
    "symbol",
    "action_type",
    "ex_date",
    "split_from",
    "split_to",
    "split_ratio",
    "cash_amount",
    "currency",
    "data_source",
    "loaded_at",
]


def test_polygon_staging_builds_and_its_tests_pass(warehouse_url):
    migrate(warehouse_url)
    with PolygonServer(KEY) as server:
        client = build_client(KEY, server.url, lambda: None)
        day = date(2024, 1, 2)
        server.route(
            f"/v2/aggs/grouped/locale/us/market/stocks/{day}", json_reply(grouped_day_body(day))
        )
        daily.land_grouped_day(warehouse_url, client, day, None)
        server.route("/v2/aggs/ticker/AAPL/range/*", AggsFromAlphaVantage("AAPL"))
        server.route("/v3/reference/splits", openapi_splits())
        (plan,) = plan_backfill(warehouse_url, ["AAPL"], date(2020, 8, 24), date(2020, 9, 4), 30)
        backfill_symbol(warehouse_url, client, plan)
        reference.land_corporate_actions(warehouse_url, client, "splits", "AAPL")
        reference.land_corporate_actions(warehouse_url, client, "dividends", None)  # recorded
    # a bar of another source is not Polygon's
    with transaction(warehouse_url) as cur:
        land_rows(
            cur, Unit("files", "file", "*", "test.csv"), [("AAPL", "2020-08-24", 1, 1, 1, 1, 1)]
        )

    result = dbt(
        warehouse_url,
        "build",
        "--select",
        "source:raw",
        "stg_raw__daily_bars",
        "stg_raw__corporate_actions",
    )
    assert result.success, result.exception or [
        (r.node.name, r.message) for r in result.result if r.status not in ("pass", "success")
    ]

    freshness = dbt(
        warehouse_url,
        "source",
        "freshness",
        "--select",
        "source:raw.daily_bars",
        "source:raw.corporate_actions",
    )
    assert freshness.success, freshness.exception

    bars = query(
        warehouse_url,
        "select * from staging.stg_raw__daily_bars where data_source = 'polygon'"
        " order by symbol, trade_date",
    )
    assert list(bars.columns) == BAR_COLUMNS
    assert len(bars) == 4 + 10 and set(bars.data_source) == {"polygon"}
    aapl = bars[bars.symbol == "AAPL"].set_index("trade_date")
    assert aapl.loc[date(2020, 8, 28), "close"] == 499.23  # unadjusted
    # staging keeps prices and volume exact, as landed (marts cast to double precision)
    assert float(bars[bars.symbol == "TANH"].volume.item()) == 25933.6

    actions = query(
        warehouse_url,
        "select * from staging.stg_raw__corporate_actions where data_source = 'polygon'"
        " order by symbol, ex_date",
    )
    assert list(actions.columns) == ACTION_COLUMNS
    split = actions[(actions.symbol == "AAPL") & (actions.ex_date == date(2020, 8, 31))]
    assert split.split_ratio.item() == 4.0
    dividends = actions[actions.action_type == "dividend"]
    assert len(dividends) == 10 and dividends.split_ratio.isna().all()
    assert (dividends.cash_amount > 0).all()
