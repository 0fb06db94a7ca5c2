"""The project's views are replaced only when their definition changes
(dbt_project/macros/view_materialization.sql): a scheduled run leaves them, and every view built
on them outside the project, as they are."""

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
    assert comment(url, VIEW).startswith("dbt definition ")

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
    fingerprint = comment(url, VIEW)

    run(url, "--vars", "{volume_spike_ratio: 30}")  # the view's compiled SQL changes
    changed = oid(url, VIEW)
    assert changed != first
    assert comment(url, VIEW) not in (None, fingerprint)  # the new definition's fingerprint
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
    assert comment(url, VIEW) == fingerprint
