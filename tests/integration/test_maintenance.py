"""Nightly maintenance against a real PostgreSQL: retention archives then removes only what is
older than the limit and never touches market data; VACUUM ANALYZE; log rotation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flows.maintenance import apply_retention, rotate_logs, vacuum_changed
from ingest.db import migrate, transaction
from ingest.landing import ingest_file
from tests.conftest import SAMPLE
from tests.integration.conftest import create_database, drop_database


def test_retention_moves_only_rows_older_than_the_limit(pg_server):
    url = create_database(pg_server)
    try:
        migrate(url)
        assert ingest_file(url, SAMPLE).ok  # 20 symbols' load runs, 11 quarantined rows
        with transaction(url) as cur:
            cur.execute("select count(*) from raw.daily_bars")
            bars = cur.fetchone()[0]
            cur.execute("select count(*) from raw.load_runs")
            runs = cur.fetchone()[0]
            # age half of the load runs and three quarantined rows past the limit
            cur.execute(
                "update raw.load_runs set started_at = now() - interval '100 days'"
                " where symbol in (select distinct symbol from raw.load_runs"
                " order by symbol limit 10)"
            )
            old_runs = cur.rowcount
            cur.execute(
                "update raw.rejected_bars set rejected_at = now() - interval '91 days'"
                " where rejected_id in (select rejected_id from raw.rejected_bars"
                " order by rejected_id limit 3)"
            )
            cur.execute(  # exactly at the limit minus a minute: kept
                "update raw.rejected_bars set rejected_at = now() - interval '89 days 23:59'"
                " where rejected_id = (select max(rejected_id) from raw.rejected_bars)"
            )
        done = {r.table: r.archived for r in apply_retention(url, timedelta(days=90))}
        assert done == {
            "raw.load_runs": old_runs,
            "raw.rejected_bars": 3,
            "raw.rejected_records": 0,
        }
        with transaction(url) as cur:
            cur.execute("select count(*) from raw.daily_bars")
            assert cur.fetchone()[0] == bars  # market data untouched
            cur.execute("select count(*), min(started_at) from raw.load_runs")
            left, oldest = cur.fetchone()
            assert left == runs - old_runs
            assert oldest > datetime.now(UTC) - timedelta(days=90)
            cur.execute("select count(*) from archive.load_runs")
            assert cur.fetchone()[0] == old_runs
            cur.execute("select count(*) from raw.rejected_bars")
            assert cur.fetchone()[0] == 11 - 3
            cur.execute("select count(*) from archive.rejected_bars where archived_at is not null")
            assert cur.fetchone()[0] == 3
        # idempotent: nothing more is old enough
        again = {r.table: r.archived for r in apply_retention(url, timedelta(days=90))}
        assert set(again.values()) == {0}
        assert "raw.daily_bars" in vacuum_changed(url)
    finally:
        drop_database(pg_server, url)


def test_log_rotation_keeps_n_generations(tmp_path):
    log = tmp_path / "worker.log"
    for i in range(4):
        log.write_text(f"generation {i}\n" * 100)
        assert rotate_logs(tmp_path, max_bytes=100, keep=2) == ["worker.log"]
        assert log.read_text() == ""
    assert (tmp_path / "worker.log.1").read_text().startswith("generation 3")
    assert (tmp_path / "worker.log.2").read_text().startswith("generation 2")
    assert not (tmp_path / "worker.log.3").exists()
    small = tmp_path / "quiet.log"
    small.write_text("x")
    assert rotate_logs(tmp_path, max_bytes=100, keep=2) == []
