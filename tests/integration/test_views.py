"""The project's views are replaced only when their definition changes
(dbt_project/macros/view_materialization.sql, fingerprints in meta.view_definitions): a scheduled
run leaves them, and every view built on them outside the project, as they are; a change of
documentation only rewrites the comments."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import URL

from ingest.db import transaction
from tests.integration.conftest import dbt

pytestmark = pytest.mark.integration

VIEW = "intermediate.int_volume_anomalies_found"


def oid(url: URL, relation: str) -> int | None:
    with transaction(url) as cur:
        cur.execute("select to_regclass(%s)::oid", (relation,))
        return cur.fetchone()[0]


def comment(url: URL, relation: str) -> str | None:
    with transaction(url) as cur:
        cur.execute("select obj_description(to_regclass(%s), 'pg_class')", (relation,))
        return cur.fetchone()[0]


def fingerprint(url: URL, relation: str) -> str | None:
    """The recorded md5 of the view's compiled SQL (None: no record for the view)."""
    schema, name = relation.split(".")
    with transaction(url) as cur:
        cur.execute(
            "select definition_md5 from meta.view_definitions"
            " where schema_name = %s and view_name = %s and view_oid = to_regclass(%s)::oid",
            (schema, name, relation),
        )
        row = cur.fetchone()
        return row[0] if row else None


def run(url: URL, *args: str) -> None:
    result = dbt(url, "run", "--select", f"+{VIEW.split('.')[1]} +fct_daily_indicators", *args)
    assert result.success, result.exception


def test_a_run_keeps_unchanged_views_and_the_views_built_on_them(warehouse_copy: URL):
    url = warehouse_copy
    run(url)  # the copy's compiled SQL names its own database: its views are replaced once
    with transaction(url) as cur:  # an analyst's own view over a mart, and one over a staging view
        cur.execute(
            "create view public.my_rsi as select symbol, rsi_14 from marts.fct_daily_indicators"
        )
        cur.execute("create view public.my_bars as select * from staging.stg_raw__daily_bars")
    before = {
        r: oid(url, r) for r in (VIEW, "marts.fct_daily_indicators", "staging.stg_raw__daily_bars")
    }
    assert len(fingerprint(url, VIEW)) == 32

    run(url)

    assert {r: oid(url, r) for r in before} == before  # not re-created
    assert oid(url, "public.my_rsi") is not None and oid(url, "public.my_bars") is not None
    with transaction(url) as cur:
        cur.execute("select count(*) from public.my_rsi")
        assert cur.fetchone()[0] > 0


def test_a_changed_definition_or_a_full_refresh_replaces_the_view(warehouse_copy: URL):
    url = warehouse_copy
    run(url)  # as above
    first = oid(url, VIEW)
    recorded = fingerprint(url, VIEW)

    run(url, "--vars", "{volume_spike_ratio: 30}")  # the view's compiled SQL changes
    changed = oid(url, VIEW)
    assert changed != first
    assert fingerprint(url, VIEW) not in (None, recorded)  # the new definition's fingerprint
    with transaction(url) as cur:
        cur.execute(f"select pg_get_viewdef('{VIEW}'::regclass)")  # noqa: S608
        assert "30" in cur.fetchone()[0]

    run(url, "--vars", "{volume_spike_ratio: 30}")
    assert oid(url, VIEW) == changed  # the same definition again: kept

    run(url, "--vars", "{volume_spike_ratio: 30}", "--full-refresh")
    assert oid(url, VIEW) != changed

    with transaction(url) as cur:  # a view some cascade dropped is built again
        cur.execute(f"drop view {VIEW}")
    run(url)
    assert fingerprint(url, VIEW) == recorded


def test_changed_documentation_rewrites_the_comments_and_keeps_the_view(warehouse_copy: URL):
    url = warehouse_copy
    mart = "marts.fct_daily_indicators"

    def run_mart() -> None:
        result = dbt(url, "run", "--select", "fct_daily_indicators")
        assert result.success, result.exception

    run_mart()  # as above: the copy's view is replaced once
    kept, described = oid(url, mart), comment(url, mart)
    assert described.startswith("Technical indicators per symbol")  # persist_docs, no marker
    with transaction(url) as cur:  # as if the YAML had changed since the last run
        cur.execute(f"comment on view {mart} is 'stale'")
        cur.execute(f"comment on column {mart}.rsi_14 is 'stale'")
        cur.execute(
            "update meta.view_definitions set documentation_md5 = 'old'"
            " where schema_name = 'marts' and view_name = 'fct_daily_indicators'"
        )

    run_mart()

    assert oid(url, mart) == kept
    assert comment(url, mart) == described
    with transaction(url) as cur:
        cur.execute(
            "select col_description(attrelid, attnum) from pg_attribute"
            " where attrelid = %s::regclass and attname = 'rsi_14'",
            (mart,),
        )
        assert cur.fetchone()[0].startswith("`talib.RSI(close, timeperiod=14)`")
