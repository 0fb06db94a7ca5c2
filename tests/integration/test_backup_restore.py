"""Backups and restores against a real PostgreSQL (issues 8 and 16): pg_dump / pg_restore from
the embedded wheel, a real landed warehouse."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.engine import URL

from ingest.db import migrate, transaction
from ingest.landing import ingest_file
from lib import backup
from mdw.commands.ops import restore_stack
from settings import Settings
from tests.conftest import SAMPLE
from tests.integration.conftest import create_database, drop_database


@pytest.fixture
def landed(pg_server: Settings) -> Iterator[URL]:
    url = create_database(pg_server)
    migrate(url)
    assert ingest_file(url, SAMPLE).ok
    yield url
    drop_database(pg_server, url)


def fingerprint(url: URL) -> dict[str, object]:
    """Row count of every table outside the system schemas, and a checksum of raw.daily_bars."""
    with transaction(url) as cur:
        cur.execute(
            "select table_schema, table_name from information_schema.tables"
            " where table_type = 'BASE TABLE'"
            " and table_schema not in ('pg_catalog', 'information_schema') order by 1, 2"
        )
        tables = cur.fetchall()
        counts: dict[str, object] = {}
        for schema, name in tables:
            cur.execute(f'select count(*) from "{schema}"."{name}"')  # noqa: S608
            counts[f"{schema}.{name}"] = cur.fetchone()[0]
        cur.execute(
            "select md5(string_agg(b::text, '|' order by source, symbol, trade_date))"
            " from raw.daily_bars b"
        )
        counts["checksum raw.daily_bars"] = cur.fetchone()[0]
    return counts


def test_backup_delete_restore_round_trips_every_table(landed, tmp_path):
    before = fingerprint(landed)
    assert before["raw.daily_bars"] > 20_000
    archive = backup.dump(landed, tmp_path, "warehouse")
    assert archive.path.exists() and archive.entries >= len(before) - 1
    with transaction(landed) as cur:
        cur.execute("delete from raw.daily_bars where symbol in ('AAPL', 'MSFT')")
        cur.execute("delete from raw.load_runs")
    assert fingerprint(landed) != before

    changed = fingerprint(landed)
    restored = backup.restore(landed, archive.path)

    assert fingerprint(landed) == before
    # the replaced database is kept, and an undo puts it back (and keeps the restored one)
    assert backup.replaced_databases(landed) == [restored.kept]
    undone = backup.undo_restore(landed)
    assert fingerprint(landed) == changed
    assert backup.replaced_databases(landed) == [undone.kept] != [restored.kept]
    assert backup.drop_replaced(landed) and backup.replaced_databases(landed) == []


def test_an_archive_that_is_not_the_warehouses_is_refused_and_changes_nothing(
    landed, tmp_path, pg_server
):
    """Regression (issue 16, defect 7): the Prefect archive replaced the warehouse."""
    before = fingerprint(landed)
    prefect_like = create_database(pg_server)
    with transaction(prefect_like) as cur:  # what Prefect's database has: alembic, no raw
        cur.execute("create table alembic_version (version_num varchar(32) primary key)")
        cur.execute("create table flow_run (id uuid primary key)")
    try:
        archive = backup.dump(prefect_like, tmp_path, "prefect")
    finally:
        drop_database(pg_server, prefect_like)
    with pytest.raises(backup.NotAWarehouseArchive, match="Prefect database's archive"):
        backup.restore(landed, archive.path)
    assert fingerprint(landed) == before
    assert backup.replaced_databases(landed) == []


def test_backups_keep_the_last_n(landed, tmp_path):
    for _ in range(3):
        backup.dump(landed, tmp_path, "warehouse")
    removed = backup.prune(tmp_path, "warehouse", keep=2)
    assert len(removed) == 1
    assert len(list(tmp_path.glob("warehouse-*.dump"))) == 2


def test_restore_refuses_without_yes(pg_server, tmp_path):
    with pytest.raises(RuntimeError, match="--yes"):
        restore_stack(pg_server, tmp_path / "x.dump", yes=False)
