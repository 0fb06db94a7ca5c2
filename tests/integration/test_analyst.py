"""`mdw analyst add NAME`: a login that reads every mart and can do nothing else - not even in a
session switched to read-write -, within its connection limit and statement timeout; and the
README's "Asking questions in SQL", run as that login."""

from __future__ import annotations

import re
from decimal import Decimal

import psycopg2
import pytest
from psycopg2 import sql

from ingest.db import transaction
from mdw import analysts
from mdw.cli import main
from settings import PROJECT_ROOT, pgpass_password
from tests.integration.conftest import create_database, drop_database
from tests.integration.test_marts import SYMBOL_MODELS, build, land_company_data

pytestmark = pytest.mark.integration

NEW_MARTS = {"dim_symbols", "dim_symbol_history", "dim_sessions", "dim_latest_sessions"}


def connect_as(analyst: analysts.Analyst, url):
    password = pgpass_password(analyst.pgpass_file, analyst.name)
    return psycopg2.connect(
        host=url.host, port=url.port, user=analyst.name, password=password, dbname=url.database
    )


def refused(conn, statement: str) -> str:
    with conn.cursor() as cur, pytest.raises(psycopg2.Error) as info:
        cur.execute(statement)
    conn.rollback()
    return str(info.value)


@pytest.fixture(scope="module")
def analyst_warehouse(pg_server, built_warehouse, tmp_path_factory):
    """One copy of the built sample with one analyst, shared by the read-only tests here: the
    README's "Asking questions in SQL" world - the sample after `make demo`, then `mdw ingest
    yahoo-company --symbols AAPL,AMZN` (answered by the Yahoo stand-in from the recorded
    answers) and a build of the symbol dimension."""
    url = create_database(pg_server, template=built_warehouse.database)
    land_company_data(url, ["AAPL", "AMZN"], tmp_path_factory.mktemp("yfinance"))
    build(url, *SYMBOL_MODELS)
    analyst = analysts.add(url, "ana_reader", tmp_path_factory.mktemp("analysts"))
    yield url, analyst
    analysts.remove(url, "ana_reader", analyst.pgpass_file.parent)
    drop_database(pg_server, url)


def test_an_analyst_reads_every_mart_and_nothing_else(warehouse_copy, tmp_path):
    analyst = analysts.add(warehouse_copy, "ana_lyst", tmp_path)
    assert analyst.url == (
        f"postgresql://ana_lyst@{warehouse_copy.host}:{warehouse_copy.port}/"
        f"{warehouse_copy.database}"
    )
    assert oct(analyst.pgpass_file.stat().st_mode & 0o777) == "0o600"
    with transaction(warehouse_copy) as cur:
        cur.execute("select table_name from information_schema.tables where table_schema = 'marts'")
        marts = sorted(r[0] for r in cur.fetchall())
        cur.execute("select table_schema from information_schema.tables group by 1")
        schemas = {r[0] for r in cur.fetchall()}
        counts = {}
        for table in marts:
            cur.execute(sql.SQL("select count(*) from marts.{}").format(sql.Identifier(table)))
            counts[table] = cur.fetchone()[0]
    assert {"fct_daily_indicators", "fct_signals", "fct_daily_analytics", *NEW_MARTS} <= set(marts)
    assert {"raw", "staging", "intermediate", "meta"} <= schemas
    assert counts["fct_daily_analytics"] == counts["fct_daily_bars"] > 0
    conn = connect_as(analyst, warehouse_copy)
    try:
        with conn.cursor() as cur:
            for table in marts:  # every row the owner sees
                cur.execute(sql.SQL("select count(*) from marts.{}").format(sql.Identifier(table)))
                assert cur.fetchone()[0] == counts[table], table
        conn.rollback()
        mart = "marts.fct_daily_bars"
        for statement in (
            f"insert into {mart} select * from {mart} limit 1",
            f"update {mart} set close = 0",
            f"delete from {mart}",
            f"drop table {mart}",
            f"truncate {mart}",
            "create table marts.mine (x int)",
            "create table public.mine (x int)",
            "create schema mine",
            "select count(*) from raw.daily_bars",
            "select count(*) from raw.load_runs",
            "select count(*) from staging.stg_raw__daily_bars",
            "select count(*) from meta.view_definitions",
        ):
            message = refused(conn, statement)
            assert "permission denied" in message or "read-only" in message, statement
    finally:
        conn.close()

    # a mart that dbt rebuilds (a new table, made by the warehouse's owner) stays readable
    with transaction(warehouse_copy) as cur:
        cur.execute("create table marts.rebuilt as select 1 as x")
    conn = connect_as(analyst, warehouse_copy)
    with conn.cursor() as cur:
        cur.execute("select x from marts.rebuilt")
        assert cur.fetchone() == (1,)
    conn.close()

    assert analysts.remove(warehouse_copy, "ana_lyst", tmp_path)
    assert not analyst.pgpass_file.exists()
    with pytest.raises(psycopg2.OperationalError):
        connect_as(analysts.Analyst("ana_lyst", analyst.url, tmp_path / "gone"), warehouse_copy)
    assert not analysts.remove(warehouse_copy, "ana_lyst", tmp_path)


def test_a_session_switched_to_read_write_can_change_nothing(analyst_warehouse):
    """PostgreSQL lets any role leave its read-only default (`begin read write`): privileges are
    what stops the writes - every kind PUBLIC could otherwise do."""
    url, analyst = analyst_warehouse
    with transaction(url) as cur:
        cur.execute("select count(*), sum(close) from marts.fct_daily_bars")
        before = cur.fetchone()
        cur.execute("select count(*) from pg_largeobject_metadata")
        large_objects = cur.fetchone()
    conn = connect_as(analyst, url)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute("show default_transaction_read_only")
            assert cur.fetchone() == ("on",)
            cur.execute("begin read write")
            cur.execute("show transaction_read_only")
            assert cur.fetchone() == ("off",)  # the flag is not locked ...
            cur.execute("rollback")
        mart = "marts.fct_daily_bars"
        statements = (
            f"insert into {mart} select * from {mart} limit 1",
            f"update {mart} set close = 0",
            f"delete from {mart}",
            f"truncate {mart}",
            f"alter table {mart} add column mine int",
            f"create index mine on {mart} (close)",
            f"comment on table {mart} is 'mine'",
            "drop view marts.fct_daily_analytics",
            "create table marts.mine (x int)",
            "create table public.mine (x int)",
            "create view public.mine as select 1 as x",
            "create function public.mine() returns int language sql as 'select 1'",
            "create temporary table mine (x int)",
            "create temporary view mine as select 1 as x",
            "create schema mine",
            "select lo_create(0)",
            "select lo_from_bytea(0, 'mine')",
            "select nextval('raw.rejected_records_rejected_id_seq')",
            f"alter role {analyst.name} connection limit 1000",
            "set role postgres",
            "create extension pg_trgm",
        )
        for statement in statements:
            with conn.cursor() as cur:
                cur.execute("begin read write")
                try:
                    with pytest.raises(psycopg2.Error) as info:
                        cur.execute(statement)
                finally:
                    cur.execute("rollback")
            message = str(info.value)
            assert "permission denied" in message or "must be owner" in message, (
                statement,
                message,
            )
    finally:
        conn.close()
    with transaction(url) as cur:  # ... and nothing changed
        cur.execute("select count(*), sum(close) from marts.fct_daily_bars")
        assert cur.fetchone() == before
        cur.execute("select count(*) from pg_largeobject_metadata")
        assert cur.fetchone() == large_objects
        cur.execute("select count(*) from pg_class where relname = 'mine'")
        assert cur.fetchone() == (0,)


def test_connection_limit_and_statement_timeout_are_per_analyst(warehouse_copy, tmp_path):
    analyst = analysts.add(
        warehouse_copy, "ana_limited", tmp_path, connection_limit=2, statement_timeout="200ms"
    )
    try:
        first, second = connect_as(analyst, warehouse_copy), connect_as(analyst, warehouse_copy)
        with pytest.raises(psycopg2.OperationalError, match="too many connections for role"):
            connect_as(analyst, warehouse_copy)
        with first.cursor() as cur:
            cur.execute("show statement_timeout")
            assert cur.fetchone() == ("200ms",)
            with pytest.raises(psycopg2.errors.QueryCanceled, match="statement timeout"):
                cur.execute("select pg_sleep(5)")
        first.close()
        second.close()
        # run again: new limits, same role (the defaults)
        again = analysts.add(warehouse_copy, "ana_limited", tmp_path)
        assert (again.connection_limit, again.statement_timeout) == (10, "5min")
        with transaction(warehouse_copy) as cur:
            cur.execute("select rolconnlimit from pg_roles where rolname = 'ana_limited'")
            assert cur.fetchone() == (10,)
    finally:
        analysts.remove(warehouse_copy, "ana_limited", tmp_path)
    for limit, timeout, error in (
        (0, "5min", "connection limit 0 must be at least 1"),
        (5, "5", "statement timeout '5' is not a duration"),
        (5, "1 hour; drop role postgres", "is not a duration"),
    ):
        with pytest.raises(analysts.AnalystError, match=error):
            analysts.add(
                warehouse_copy,
                "ana_refused",
                tmp_path,
                connection_limit=limit,
                statement_timeout=timeout,
            )
    with transaction(warehouse_copy) as cur:
        cur.execute("select count(*) from pg_roles where rolname = 'ana_refused'")
        assert cur.fetchone() == (0,)


def test_only_analysts_can_be_removed_and_names_are_checked(warehouse_copy, tmp_path):
    with transaction(warehouse_copy) as cur:
        cur.execute("create role not_an_analyst login")
    try:
        with pytest.raises(analysts.AnalystError, match="not an analyst"):
            analysts.remove(warehouse_copy, "not_an_analyst", tmp_path)
        with pytest.raises(analysts.AnalystError, match="not an analyst"):
            analysts.add(warehouse_copy, "not_an_analyst", tmp_path)
    finally:
        with transaction(warehouse_copy) as cur:
            cur.execute("drop role not_an_analyst")
    with pytest.raises(analysts.AnalystError, match="cannot be an analyst role name"):
        analysts.remove(warehouse_copy, "postgres", tmp_path)
    for hostile in ('x"; drop role postgres; --', "Robert'); drop table marts.dim_symbols;--"):
        with pytest.raises(analysts.AnalystError, match="cannot be an analyst role name"):
            analysts.add(warehouse_copy, hostile, tmp_path)


def test_the_cli_says_one_line_for_a_bad_name_or_limit(capsys, monkeypatch):
    monkeypatch.setenv("MDW_PG_PORT", "9")
    assert main(["analyst", "add", "Bad Name"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "cannot be an analyst role name" in err[0]
    assert main(["analyst", "add", "ana", "--statement-timeout", "soon"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "'soon' is not a duration" in err[0]


# --- README: "Asking questions in SQL" ----------------------------------------------------


def readme_questions() -> list[tuple[str, str, list[str], list[list[str]]]]:
    """(title, sql, header, rows) of each question in the README section: a ```sql block and
    the ```text block after it (psql's aligned output)."""
    text = (PROJECT_ROOT / "README.md").read_text()
    section = text.split("\n## Asking questions in SQL\n", 1)[1].split("\n## ", 1)[0]
    found = re.findall(
        r"\*\*(.+?)\*\*.*?```sql\n(.*?)```\s*```text\n(.*?)```", section, flags=re.DOTALL
    )
    questions = []
    for title, query_text, output in found:
        lines = [line for line in output.splitlines() if line.strip()]
        header = [cell.strip() for cell in lines[0].split("|")]
        assert set(lines[1]) <= {"-", "+"}, lines[1]
        body = [[cell.strip() for cell in line.split("|")] for line in lines[2:-1]]
        assert re.fullmatch(rf"\({len(body)} rows?\)", lines[-1]), lines[-1]
        questions.append((title, query_text, header, body))
    return questions


def same_cell(shown: str, value: object) -> bool:
    if value is None:
        return shown == ""
    if isinstance(value, bool):
        return shown == ("t" if value else "f")
    if isinstance(value, int | float | Decimal):
        return float(shown) == pytest.approx(float(value), rel=1e-9, abs=1e-9)
    if isinstance(value, list):
        return shown == "{" + ",".join(value) + "}"
    return shown == str(value)


def test_the_readme_questions_answer_as_shown_for_an_analyst(analyst_warehouse):
    url, analyst = analyst_warehouse
    questions = readme_questions()
    assert len(questions) >= 4, [q[0] for q in questions]
    conn = connect_as(analyst, url)
    try:
        for title, query_text, header, shown in questions:
            with conn.cursor() as cur:
                cur.execute(query_text)
                columns = [d.name for d in cur.description]
                got = cur.fetchall()
            conn.rollback()
            assert columns == header, title
            assert len(got) == len(shown) > 0, (title, got)
            for shown_row, row in zip(shown, got, strict=True):
                assert all(same_cell(s, v) for s, v in zip(shown_row, row, strict=True)), (
                    title,
                    shown_row,
                    row,
                )
    finally:
        conn.close()
