"""The benchmark's server-log parsing: the slowest statements of a step."""

from __future__ import annotations

from bench import statements

LOG = """\
2026-11-22 06:03:42.538 UTC [10244] LOG:  duration: 0.035 ms  statement: insert into t values (1)
2026-11-22 06:03:42.553 UTC [10245] LOG:  duration: 2500 ms  statement: /* {"app": "dbt", \
"node_id": "model.market_data_warehouse.int_daily_indicators_computed"} */
\t-- the engine
\tcreate  table "warehouse"."intermediate"."x__dbt_tmp"
\t  as ( select 1 )
2026-11-22 06:03:42.654 UTC [10245] LOG:  duration: 101.389 ms  statement: select pg_sleep(0.1)
2026-11-22 06:03:42.700 UTC [10246] LOG:  duration: 900 ms  execute __asyncpg_stmt_1__: select 2
2026-11-22 06:03:42.800 UTC [10246] LOG:  checkpoint starting: time
\tnot a continuation of a statement
"""


def test_slowest_statements_first_with_their_dbt_node():
    top = statements.slowest(LOG, top=3)
    assert [t["seconds"] for t in top] == [2.5, 0.9, 0.101]
    assert top[0]["statement"] == (
        "[int_daily_indicators_computed] create table "
        '"warehouse"."intermediate"."x__dbt_tmp" as ( select 1 )'
    )
    assert top[1]["statement"] == "select 2"
    assert statements.total_seconds(LOG) == 0.000035 + 2.5 + 0.101389 + 0.9


def test_comments_are_dropped_even_without_a_dbt_node():
    assert statements.summarise('/* {"app": "dbt"} */\n  select 1 -- one\n') == "select 1"


def test_long_statements_are_cut():
    text = statements.summarise("select " + "x, " * 100, width=20)
    assert text == "select x, x, x, x..." and len(text) == 20


def test_statement_log_reads_from_an_offset(tmp_path):
    path = tmp_path / "server.log"
    log = statements.StatementLog(path)
    assert log.offset() == 0 and log.since(0) == ""
    path.write_text(LOG)
    start = log.offset()
    with path.open("a") as fh:
        fh.write("2026-11-22 06:04:00.000 UTC [1] LOG:  duration: 5.0 ms  statement: select 3\n")
    assert statements.slowest(log.since(start)) == [{"seconds": 0.005, "statement": "select 3"}]
