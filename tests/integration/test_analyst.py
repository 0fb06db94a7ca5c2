"""`mdw analyst add NAME`: a login that reads every mart and can do nothing else."""

from __future__ import annotations

import psycopg2
import pytest
from psycopg2 import sql

from ingest.db import transaction
from mdw import analysts
from mdw.cli import main
from settings import pgpass_password

pytestmark = pytest.mark.integration


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
    assert {"fct_daily_indicators", "fct_signals", "dim_symbols"} <= set(marts)
    assert {"raw", "staging", "intermediate"} <= schemas
    conn = connect_as(analyst, warehouse_copy)
    try:
        with conn.cursor() as cur:
            for table in marts:
                cur.execute(sql.SQL("select count(*) from marts.{}").format(sql.Identifier(table)))
                assert cur.fetchone()[0] >= 0
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
        ):
            message = refused(conn, statement)
            assert "permission denied" in message or "read-only" in message, statement
        # even with the read-only default switched off, privileges still refuse writes
        with conn.cursor() as cur:
            cur.execute("set default_transaction_read_only = off")
        conn.commit()
        assert "permission denied" in refused(conn, f"delete from {mart}")
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


def test_the_cli_says_one_line_for_a_bad_name(capsys, monkeypatch):
    monkeypatch.setenv("MDW_PG_PORT", "9")
    assert main(["analyst", "add", "Bad Name"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "cannot be an analyst role name" in err[0]
