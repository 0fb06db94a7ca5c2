"""The landing fault suite (issue 10): a real PostgreSQL is killed, crashed, filled up and raced,
and every case ends with rows lost 0, rows doubled 0, a raw.load_runs row for each attempt and a
message that names the file. The README's "Reliability" table is these tests.

Bad rows of each kind: tests/integration/test_landing_defects.py; vendors answering 429, 5xx,
timeouts or garbage: test_polygon_landing.py and test_yahoo_market.py.
"""

from __future__ import annotations

import csv
import os
import pwd
import subprocess
import threading
import time
from datetime import date, timedelta
from pathlib import Path

import pytest

from ingest.db import migrate, transaction
from ingest.landing import FileOutcome, ingest_file
from mdw import postgres
from tests.integration.conftest import create_database, drop_database

pytestmark = pytest.mark.integration

SYMBOLS, DAYS = 100, 600  # 60,000 rows: COPY and upsert each last long enough to be hit


@pytest.fixture(scope="module")
def big_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("faults") / "big.csv"
    first = date(2015, 1, 1)
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["symbol", "date", "open", "high", "low", "close", "volume"])
        for s in range(SYMBOLS):
            for d in range(DAYS):
                price = 10 + (s + d) % 50
                day = first + timedelta(days=d)
                w.writerow([f"S{s:03d}", day.isoformat(), price, price + 1, price - 1, price, 1000])
    return path


@pytest.fixture
def crash_db(pg_server):
    """A database for tests that crash the server (fresh admin connections afterwards)."""
    url = create_database(pg_server)
    yield url
    postgres.start(pg_server)  # idempotent: make sure it is up again
    drop_database(pg_server, url)


def one(url, sql):
    with transaction(url) as cur:
        cur.execute(sql)
        return cur.fetchone()


def landed_exactly_once(url) -> None:
    assert one(
        url, "select count(*), count(distinct (symbol, trade_date)) from raw.daily_bars"
    ) == (
        SYMBOLS * DAYS,
        SYMBOLS * DAYS,
    )


def land_in_background(url, path) -> tuple[threading.Thread, dict]:
    box: dict = {}
    thread = threading.Thread(target=lambda: box.update(outcome=ingest_file(url, path)))
    thread.start()
    return thread, box


def wait_for_statement(server, database: str, like: str, timeout: float = 60.0) -> int:
    """The pid of the landing's backend once it runs a statement matching `like`."""
    admin = postgres._connect(server, "postgres")
    admin.autocommit = True
    deadline = time.monotonic() + timeout
    try:
        with admin.cursor() as cur:
            while time.monotonic() < deadline:
                cur.execute(
                    "select pid from pg_stat_activity where datname = %s and state = 'active'"
                    " and application_name = 'mdw-ingest' and query ilike %s",
                    (database, like),
                )
                found = cur.fetchone()
                if found:
                    return found[0]
                time.sleep(0.002)
    finally:
        admin.close()
    raise AssertionError(f"the landing never ran {like!r}")


def crash_and_restart(server) -> None:
    """`pg_ctl stop -m immediate` (a crash: no shutdown checkpoint), then start (recovery)."""
    postgres._pg_ctl(server, ["-m", "immediate", "stop"], postgres._system_user())
    time.sleep(1.0)
    postgres.start(server)


def assert_failed_attempt_recorded(url, path: Path, outcome: FileOutcome) -> None:
    assert not outcome.ok and str(path) in outcome.error
    assert one(url, "select count(*) from raw.daily_bars") == (0,)
    assert one(url, "select symbol, status, source_uri from raw.load_runs") == (
        "*",
        "failed",
        str(path),
    )


@pytest.mark.parametrize(
    ("statement", "kill"),
    [
        ("copy _incoming%", "backend"),
        ("copy _incoming%", "server"),
        ("%insert into raw.daily_bars%", "server"),
    ],
    ids=["backend-killed-in-copy", "server-crash-in-copy", "server-crash-in-upsert"],
)
def test_database_killed_mid_landing_loses_and_doubles_nothing(
    pg_server, crash_db, big_file, statement, kill
):
    warehouse_url = crash_db
    migrate(warehouse_url)
    thread, box = land_in_background(warehouse_url, big_file)
    pid = wait_for_statement(pg_server, warehouse_url.database, statement)
    if kill == "backend":
        admin = postgres._connect(pg_server, "postgres")
        admin.autocommit = True
        with admin.cursor() as cur:
            cur.execute("select pg_terminate_backend(%s)", (pid,))
        admin.close()
    else:
        crash_and_restart(pg_server)
    thread.join(timeout=120)
    # the attempt is recorded once the database answers again (ingest.landing retries it)
    assert_failed_attempt_recorded(warehouse_url, big_file, box["outcome"])

    again = ingest_file(warehouse_url, big_file)
    assert again.ok and again.result.inserted == SYMBOLS * DAYS
    landed_exactly_once(warehouse_url)


def test_two_concurrent_loads_of_one_file_land_it_once(warehouse_url, big_file):
    migrate(warehouse_url)
    threads = [land_in_background(warehouse_url, big_file) for _ in range(2)]
    for thread, _ in threads:
        thread.join(timeout=300)
    outcomes = [box["outcome"] for _, box in threads]
    assert all(o.ok for o in outcomes), [o.error for o in outcomes]
    inserted = sum(o.result.inserted for o in outcomes)
    unchanged = sum(o.result.unchanged for o in outcomes)
    assert (inserted, unchanged) == (SYMBOLS * DAYS, SYMBOLS * DAYS)
    landed_exactly_once(warehouse_url)
    assert one(
        warehouse_url, "select count(distinct load_run_id), count(*) from raw.load_runs"
    ) == (
        2,
        2 * SYMBOLS,
    )


@pytest.fixture
def tiny_tablespace(pg_server, warehouse_url, tmp_path):
    """A 2 MB tmpfs as a tablespace holding raw.daily_bars (needs root to mount)."""
    folder = Path(f"/tmp/mdw-tiny-{os.getpid()}")
    folder.mkdir(exist_ok=True)
    user = postgres._system_user()
    owner = f",uid={pwd.getpwnam(user).pw_uid}" if user else ""
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size=2m,mode=0700{owner}", "tmpfs", str(folder)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        folder.rmdir()
        pytest.skip(f"cannot mount a tiny tmpfs here ({mounted.stderr.strip()}): needs root")
    admin = postgres._connect(pg_server, warehouse_url.database)
    admin.autocommit = True
    name = f"tiny_{os.getpid()}"
    try:
        with admin.cursor() as cur:
            cur.execute(f"create tablespace {name} location '{folder}'")
        yield name
    finally:
        with admin.cursor() as cur:
            cur.execute("alter table if exists raw.daily_bars set tablespace pg_default")
            cur.execute("alter index if exists raw.daily_bars_pkey set tablespace pg_default")
            cur.execute(f"drop tablespace if exists {name}")
        admin.close()
        subprocess.run(["umount", str(folder)], check=False)
        folder.rmdir()


def test_a_full_disk_fails_the_file_whole_and_a_rerun_lands_it_once(
    pg_server, warehouse_url, big_file, tiny_tablespace
):
    migrate(warehouse_url)
    with transaction(warehouse_url) as cur:
        cur.execute(f"alter table raw.daily_bars set tablespace {tiny_tablespace}")
        cur.execute(f"alter index raw.daily_bars_pkey set tablespace {tiny_tablespace}")
    full = ingest_file(warehouse_url, big_file)
    assert "DiskFull" in (full.error or "") and "No space left on device" in full.error
    assert_failed_attempt_recorded(warehouse_url, big_file, full)

    with transaction(warehouse_url) as cur:  # space freed: the table moves to a roomy disk
        cur.execute("alter table raw.daily_bars set tablespace pg_default")
        cur.execute("alter index raw.daily_bars_pkey set tablespace pg_default")
    again = ingest_file(warehouse_url, big_file)
    assert again.ok, again.error
    landed_exactly_once(warehouse_url)


def test_the_record_of_a_failure_waits_for_the_database(pg_server, crash_db, tmp_path):
    """With the server down the attempt cannot be recorded at once: the record is retried."""
    warehouse_url = crash_db
    migrate(warehouse_url)
    path = tmp_path / "x.csv"
    path.write_text("symbol,date\n")
    postgres.stop(pg_server)
    restart = threading.Timer(2.0, postgres.start, args=(pg_server,))
    restart.start()
    try:
        outcome = ingest_file(warehouse_url, path)
    finally:
        restart.join()
    assert not outcome.ok and str(path) in outcome.error
    assert "OperationalError" in outcome.error or "missing column" in outcome.error
    assert one(warehouse_url, "select count(*) from raw.load_runs where status = 'failed'") == (1,)
