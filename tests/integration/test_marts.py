"""The analyst-facing marts on the built sample: who a symbol is (dim_symbols, dim_symbol_history)
from what the Yahoo and Polygon reference flows land (answered by their stand-ins), the latest
complete session (dim_sessions), and the documentation inside the database (persist_docs)."""

from __future__ import annotations

import copy
import dataclasses
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy.engine import URL

from ingest.db import transaction
from ingest.polygon.client import build_client
from ingest.polygon.reference import land_ticker_listing, listing_names, reconcile_listing
from ingest.retry import RetryPolicy
from ingest.yahoo.client import YahooClient
from ingest.yahoo.company import land_company_data as land_yahoo_company_data
from ingest.yahoo.session import YahooSession, use_endpoint
from tests.integration.conftest import create_database, dbt, drop_database, query
from tests.support.polygon_server import (
    PolygonServer,
    delisted_ticker,
    json_reply,
    recorded_json,
    tickers_body,
)
from tests.support.yahoo_server import Recordings, YahooServer

pytestmark = pytest.mark.integration


def rows(url: URL, sql: str, *args) -> list[tuple]:
    with transaction(url) as cur:
        cur.execute(sql, args)
        return cur.fetchall()


def build(url: URL, *selection: str) -> None:
    result = dbt(url, "build", "--select", *selection)
    assert result.success, result.exception or [
        (r.node.name, r.message) for r in result.result if r.status not in ("success", "pass")
    ]


def test_every_mart_and_column_is_described_in_the_database(built_warehouse):
    """persist_docs: what `\\d+` shows in psql (pg_description), for every relation of marts."""
    described = query(
        built_warehouse,
        """select c.relname, a.attname, obj_description(c.oid, 'pg_class') as relation_comment,
                  col_description(c.oid, a.attnum) as column_comment
           from pg_class c
           join pg_namespace n on n.oid = c.relnamespace
           join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
           where n.nspname = 'marts' and c.relkind in ('r', 'v')""",
    )
    relations = set(described.relname)
    assert {"fct_daily_indicators", "fct_daily_analytics", "dim_symbols", "dim_sessions"} <= (
        relations
    )
    undocumented = described[described.relation_comment.isna() | described.column_comment.isna()]
    assert undocumented.empty, undocumented[["relname", "attname"]].to_string()
    comment = described.set_index(["relname", "attname"]).column_comment
    rsi = comment["fct_daily_indicators", "rsi_14"]
    assert rsi.startswith("`talib.RSI(close, timeperiod=14)`")
    # the wide mart's indicator columns carry the indicator mart's text (no copy in its YAML)
    assert comment["fct_daily_analytics", "rsi_14"] == rsi
    assert comment["fct_daily_analytics", "signals"].startswith("The signals that fired")


# --- the symbol dimension -------------------------------------------------------------------

POLYGON_KEY = "pk-marts-test-0a1b2c"


def polygon_listing_of_aapl() -> dict:
    """The recorded ticker details of AAPL (v3/reference/tickers/AAPL.json) as a listing record:
    the fields the listing endpoint returns."""
    details = recorded_json("v3/reference/tickers/AAPL.json")["results"]
    listed = recorded_json("v3/reference/tickers.json")["results"][0]
    return {k: details[k] for k in listed if k in details} | {
        "last_updated_utc": listed["last_updated_utc"]
    }


def with_profile(recordings: Recordings, symbol: str, **changes: str) -> Recordings:
    """The stand-in's recordings with fields of `symbol`'s recorded assetProfile answer changed:
    a test's model of Yahoo changing its answer (the recordings hold one answer per symbol)."""
    status, body = recordings.summary_module[("assetProfile", symbol)]
    body = copy.deepcopy(body)
    body["quoteSummary"]["result"][0]["assetProfile"].update(changes)
    return dataclasses.replace(
        recordings,
        summary_module=recordings.summary_module | {("assetProfile", symbol): (status, body)},
    )


def land_company_data(
    url: URL,
    symbols: list[str],
    cache_dir: Path,
    *,
    as_of: date | None = None,
    profile_changes: dict[str, dict[str, str]] | None = None,
) -> None:
    """Yahoo company data of `symbols` landed as the yahoo-company flow lands it
    (ingest.yahoo.company through yfinance), answered by the Yahoo stand-in from the
    recorded answers (early 2025), with `profile_changes` applied to them. The stand-in answers
    today: `as_of` re-dates the landed snapshots to an earlier day (a landing made then)."""
    with YahooServer() as server, use_endpoint(server.endpoint):
        for symbol, changes in (profile_changes or {}).items():
            server.recordings = with_profile(server.recordings, symbol, **changes)
        client = YahooClient(
            YahooSession(),
            retry=RetryPolicy(max_retries=1, backoff_base=0.01),
            timeout=5.0,
            cache_dir=cache_dir,
        )
        for symbol in symbols:
            [landed] = land_yahoo_company_data(url, client, [symbol], load_run_id=uuid.uuid4())
            datasets = {name for name, counts in landed.parts if counts.inserted}
            # what the symbol dimension reads (AMZN's recordings have no statements or holders)
            assert {"company_profile", "key_statistics"} <= datasets, landed
            if as_of is not None:
                rows(
                    url,
                    """update raw.yahoo_company_data
                       set as_of_date = %s, fetched_at = %s::date + time '12:00'
                       where symbol = %s and as_of_date = %s returning 1""",
                    as_of,
                    as_of,
                    symbol,
                    landed.window_start,
                )


SYMBOL_MODELS = (
    "snapshot_polygon_tickers",
    "snapshot_reference_symbols",
    "int_symbol_attributes_observed+",
)


@pytest.fixture(scope="module")
def reference_data(pg_server, built_warehouse, tmp_path_factory) -> Iterator[URL]:
    """A copy of the sample plus what the reference flows land: Yahoo's company data of AMZN on
    three days and of AAPL today, Polygon's AAPL listing and KO's delisting (crafted: KO was
    never delisted), and a symbol landed only from a file (ZZZ); shared by the tests that read
    it."""
    url = create_database(pg_server, template=built_warehouse.database)
    # AMZN: on 2015-01-02 and 2016-01-04 Yahoo's recorded answer with another sector and
    # industry - altered by this test to model a reclassification -, on 2017-03-01 as recorded
    older = {"AMZN": {"sector": "Services", "industry": "Catalog & Mail Order Houses"}}
    for day, changes in (
        (date(2015, 1, 2), older),
        (date(2016, 1, 4), older),
        (date(2017, 3, 1), None),
    ):
        land_company_data(
            url, ["AMZN"], tmp_path_factory.mktemp("yf"), as_of=day, profile_changes=changes
        )
    land_company_data(url, ["AAPL"], tmp_path_factory.mktemp("yf"))
    with PolygonServer(POLYGON_KEY) as server:
        server.route("/v3/reference/tickers", json_reply(tickers_body([polygon_listing_of_aapl()])))
        server.route(
            "/v3/reference/tickers",
            json_reply(tickers_body([delisted_ticker("KO", "2017-12-29T00:00:00Z", "Coca-Cola")])),
            query={"ticker": "KO"},
        )
        client = build_client(
            POLYGON_KEY,
            server.url,
            lambda: None,
            RetryPolicy(max_retries=1, backoff_base=0.01, connect_timeout=1, read_timeout=5),
        )
        outcome, tickers = land_ticker_listing(url, client)
        assert outcome.status == "success" and tickers, outcome
        reconcile_listing(url, client, ["AAPL", "KO"], listing_names(tickers), today=date.today())
    rows(
        url,
        """insert into raw.daily_bars
               (source, symbol, trade_date, open, high, low, close, volume, load_run_id)
           select 'files', 'ZZZ', trade_date, 10, 11, 9, 10, 1000, gen_random_uuid()
           from raw.daily_bars where symbol = 'AAPL' and trade_date >= '2018-01-02'
           returning 1""",
    )
    # the snapshots take the new reference rows, fct_daily_bars ZZZ's bars
    build(url, "fct_daily_bars", *SYMBOL_MODELS)
    yield url
    drop_database(pg_server, url)


def test_dim_symbols_says_who_each_symbol_is_and_where_each_fact_comes_from(reference_data):
    symbols = query(reference_data, "select * from marts.dim_symbols").set_index("symbol")
    assert len(symbols) == 21  # the sample's 20 and the file-only ZZZ
    aapl = symbols.loc["AAPL"]
    assert (aapl.security_name, aapl.name_source) == ("Apple Inc.", "polygon_reference")
    assert (aapl.exchange_mic, aapl.exchange_source) == ("XNAS", "polygon_reference")
    assert (aapl.asset_type, aapl.currency, aapl.currency_source) == (
        "stock",
        "USD",
        "polygon_reference",
    )
    assert (aapl.sector, aapl.industry, aapl.country) == (
        "Technology",
        "Consumer Electronics",
        "United States",
    )
    assert aapl.sector_source == aapl.industry_source == "yahoo_profile"
    assert (aapl.listed_on, aapl.listed_on_source) == (date(1980, 12, 12), "yahoo_profile")
    assert aapl.market_cap == pytest.approx(3688676720640.0, rel=1e-12)
    assert aapl.shares_outstanding == pytest.approx(15022100480, rel=1e-12)
    assert aapl.market_cap_source == "yahoo_profile"
    assert aapl.market_cap_as_of == datetime.now(UTC).date()  # the landing's day
    assert (aapl.first_trade_date, aapl.last_trade_date) == (date(2013, 2, 8), date(2018, 2, 7))

    amzn = symbols.loc["AMZN"]  # Yahoo only: its latest snapshot, every fact from the profile
    assert (amzn.security_name, amzn.exchange_mic, amzn.asset_type, amzn.currency) == (
        "Amazon.com, Inc.",
        "XNAS",
        "stock",
        "USD",
    )
    assert {amzn.name_source, amzn.exchange_source, amzn.currency_source} == {"yahoo_profile"}
    assert (amzn.sector, amzn.industry) == ("Consumer Cyclical", "Internet Retail")
    assert amzn.market_cap == pytest.approx(2295249764352.0, rel=1e-12)
    assert amzn.market_cap_as_of == date(2017, 3, 1)

    ko = symbols.loc["KO"]  # named by its Polygon listing; no company data, so no sector
    assert (ko.security_name, ko.name_source) == ("Coca-Cola", "polygon_reference")
    assert ko[["sector", "sector_source", "industry", "market_cap"]].isna().all()
    assert (bool(ko.is_active), ko.delisted_on, ko.status_source) == (
        False,
        date(2017, 12, 29),
        "polygon_reference",
    )

    # no reference flow has covered the other 17 nor ZZZ: their facts come from the bars only
    uncovered = symbols.drop(["AAPL", "AMZN", "KO"])
    assert len(uncovered) == 18
    assert uncovered[["security_name", "sector", "name_source", "sector_source"]].isna().all().all()
    assert set(uncovered.status_source) == set(uncovered.listed_on_source) == {"bars"}
    zzz = symbols.loc["ZZZ"]  # landed from a file only: a row, its facts derived from bars
    assert (bool(zzz.is_active), zzz.status_source) == (True, "bars")
    assert (zzz.listed_on, zzz.listed_on_source) == (date(2018, 1, 2), "bars")
    assert zzz.bar_count == len(
        rows(reference_data, "select 1 from marts.fct_daily_bars where symbol = 'ZZZ'")
    )


def test_history_gives_a_backtest_the_sector_of_its_day(reference_data):
    def sector_on(symbol: str, day: date) -> list[tuple]:
        return rows(
            reference_data,
            "select sector, sector_source from marts.dim_symbol_history"
            " where symbol = %s and %s::date >= valid_from and %s::date < valid_to",
            symbol,
            day,
            day,
        )

    # AMZN's three Yahoo snapshots: two alike (one version), then the reclassification
    assert rows(
        reference_data,
        "select valid_from, valid_to, observed_on, sector, industry from marts.dim_symbol_history"
        " where symbol = 'AMZN' order by valid_from",
    ) == [
        (
            date(2013, 2, 8),
            date(2017, 3, 1),
            date(2015, 1, 2),
            "Services",
            "Catalog & Mail Order Houses",
        ),
        (
            date(2017, 3, 1),
            date(9999, 12, 31),
            date(2017, 3, 1),
            "Consumer Cyclical",
            "Internet Retail",
        ),
    ]
    assert sector_on("AMZN", date(2016, 6, 1)) == [("Services", "yahoo_profile")]
    assert sector_on("AMZN", date(2017, 6, 1)) == [("Consumer Cyclical", "yahoo_profile")]
    # a backtest over the bars sees each day's sector
    assert rows(
        reference_data,
        """select h.sector, min(b.trade_date), max(b.trade_date)
           from marts.fct_daily_bars as b
           join marts.dim_symbol_history as h on h.symbol = b.symbol
               and b.trade_date >= h.valid_from and b.trade_date < h.valid_to
           where b.symbol = 'AMZN' group by h.sector order by 2""",
    ) == [
        ("Services", date(2013, 2, 8), date(2017, 2, 28)),
        ("Consumer Cyclical", date(2017, 3, 1), date(2018, 2, 7)),
    ]
    # a symbol no reference flow covered: one version of nulls from its first bar
    assert rows(
        reference_data,
        "select valid_from, valid_to, sector, name_source from marts.dim_symbol_history"
        " where symbol = 'MSFT'",
    ) == [(date(2013, 2, 8), date(9999, 12, 31), None, None)]
    # the delisting takes effect on its date (no reference flow said anything before it), while
    # the name Polygon reported today reaches back to KO's first bar
    status = (
        "select security_name, is_active, delisted_on, status_source"
        " from marts.dim_symbol_history"
        " where symbol = 'KO' and %s::date >= valid_from and %s::date < valid_to"
    )
    assert rows(reference_data, status, "2013-02-08", "2013-02-08") == [
        ("Coca-Cola", None, None, None)
    ]
    assert rows(reference_data, status, "2017-12-28", "2017-12-28") == [
        ("Coca-Cola", None, None, None)
    ]
    assert rows(reference_data, status, "2017-12-29", "2017-12-29") == [
        ("Coca-Cola", False, date(2017, 12, 29), "polygon_reference")
    ]
    # every bar finds exactly one version (the first reaches back to the first bar)
    assert rows(
        reference_data,
        """select count(*), count(distinct (b.symbol, b.trade_date))
           from marts.fct_daily_bars as b
           join marts.dim_symbol_history as h on h.symbol = b.symbol
               and b.trade_date >= h.valid_from and b.trade_date < h.valid_to""",
    ) == rows(reference_data, "select count(*), count(*) from marts.fct_daily_bars")


# --- the latest complete session -----------------------------------------------------------


def test_one_stray_row_moves_neither_today_nor_the_stale_check(warehouse_copy: URL):
    url = warehouse_copy
    rows(
        url,
        """insert into raw.daily_bars
               (source, symbol, trade_date, open, high, low, close, volume, load_run_id)
           values ('files', 'AAPL', '2024-06-03', 190, 195, 189, 194, 1000, gen_random_uuid())
           returning 1""",
    )
    build(url, "fct_daily_bars", "dim_sessions", "fct_data_quality_issues")

    assert rows(
        url,
        "select source, latest_complete_session, latest_bar_date, symbols, symbols_beyond"
        " from marts.dim_latest_sessions order by source",
    ) == [
        ("all", date(2018, 2, 7), date(2024, 6, 3), 20, 1),
        ("files", date(2018, 2, 7), date(2024, 6, 3), 20, 1),
    ]
    assert rows(url, "select session_date from marts.dim_sessions where is_latest_complete") == [
        (date(2018, 2, 7),)
    ]
    assert rows(url, "select session_date from marts.dim_sessions where sessions_ago = -1") == [
        (date(2018, 2, 8),)
    ]
    # max(trade_date) would have made the other 19 symbols six years stale
    assert rows(
        url, "select count(*) from marts.fct_data_quality_issues where check_name = 'stale_symbol'"
    ) == [(0,)]
    # the bundled analysis still answers for the latest complete session
    compiled = dbt(url, "compile", "--select", "rsi_extremes_latest_day")
    assert compiled.success, compiled.exception
    sql = compiled.result.results[0].node.compiled_code
    found = rows(url, sql)
    assert found and {r[1] for r in found} == {date(2018, 2, 7)}, found
