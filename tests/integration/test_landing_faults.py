"""The landing fault suite (issue 10): a real PostgreSQL is killed, crashed, filled up and raced,
and every case ends with rows lost 0, rows doubled 0, a raw.load_runs row for each attempt and a
message that names the file. The README's "Reliability" table is these tests.

Bad rows of each kind: tests/integration/test_landing_defects.py; vendors answering 429, 5xx,
timeouts or garbage: test_polygon_landing.py and test_yahoo_market.py.
"""

from __future__ import annotations

import csv
import json
import logging
import os
import pwd
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path

import pytest

from ingest.db import migrate, transaction
from ingest.landing import ingest_file
from ingest.outcomes import Outcome
from mdw import postgres
from settings import PROJECT_ROOT
from tests.integration.conftest import create_database, drop_database

pytestmark = pytest.mark.integration

SYMBOLS, DAYS = 100, 600  # 60,000 rows: COPY and upsert each last long enough to be hit
HEADER = "symbol,date,open,high,low,close,volume\n"
GOOD = "AAPL,2020-01-02,10,11,9,10.5,100\n"


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


class RecordWaits(logging.Handler):
    """Set when a landing's record of its failure waits for the database (ingest.units logs
    each retry): the landing has seen the crash and is waiting for the server."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.seen = threading.Event()

    def emit(self, record: logging.LogRecord) -> None:
        if "_record" in record.getMessage():
            self.seen.set()


@contextmanager
def record_waits() -> Iterator[threading.Event]:
    handler = RecordWaits()
    logger = logging.getLogger("ingest.units")
    logger.addHandler(handler)
    try:
        yield handler.seen
    finally:
        logger.removeHandler(handler)


def crash_and_restart(server) -> None:
    """`pg_ctl stop -m immediate` (a crash: no shutdown checkpoint); once the landing has seen
    it and waits to record its failure, start again (recovery)."""
    with record_waits() as waiting:
        postgres._pg_ctl(server, ["-m", "immediate", "stop"], postgres._system_user())
        assert waiting.wait(timeout=60), "the landing never noticed the crash"
    postgres.start(server)


def assert_failed_attempt_recorded(url, path: Path, outcome: Outcome) -> None:
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
    assert again.ok and again.inserted == SYMBOLS * DAYS
    landed_exactly_once(warehouse_url)


def test_two_concurrent_loads_of_one_file_land_it_once(warehouse_url, big_file):
    migrate(warehouse_url)
    threads = [land_in_background(warehouse_url, big_file) for _ in range(2)]
    for thread, _ in threads:
        thread.join(timeout=300)
    outcomes = [box["outcome"] for _, box in threads]
    assert all(o.ok for o in outcomes), [o.error for o in outcomes]
    inserted = sum(o.inserted for o in outcomes)
    unchanged = sum(o.unchanged for o in outcomes)
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
    with record_waits() as waiting:
        thread, box = land_in_background(warehouse_url, path)
        assert waiting.wait(timeout=60), "the record never waited for the database"
    postgres.start(pg_server)
    thread.join(timeout=60)
    outcome = box["outcome"]
    assert not outcome.ok and str(path) in outcome.error
    assert "OperationalError" in outcome.error or "missing column" in outcome.error
    assert one(warehouse_url, "select count(*) from raw.load_runs where status = 'failed'") == (1,)


# --- issue 20: each file its own unit, bounded memory, a quarantine that does not amplify ---

LAND_FILES = """
import json, sys
from ingest.landing import ingest_file
from sqlalchemy.engine import make_url
url = make_url(sys.argv[1])
for path in sys.argv[2:]:
    o = ingest_file(url, path)
    print(json.dumps({"path": path, "status": o.status, "received": o.received,
                      "inserted": o.inserted, "error": o.error}))
with open("/proc/self/status") as status:  # the peak of this program's own memory
    print(json.dumps({"VmHWM": next(l.split()[1] for l in status if l.startswith("VmHWM:"))}))
"""


def land_in_a_process(url, paths: list[Path]) -> tuple[list[dict], int]:
    """Land files one after the other in a fresh Python process, as the ingest-files flow does
    (one unit per file); returns what it printed per file and its peak RSS in bytes - VmHWM of
    the program itself: Linux's getrusage/wait4 maxrss also counts the forked copy of this
    (large) test process from before the exec."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(
            [sys.executable, "-c", LAND_FILES, url.render_as_string(hide_password=False)]
            + [str(p) for p in paths],
            stdout=out,
            stderr=err,
            cwd=PROJECT_ROOT,
        )
        try:
            proc.wait(timeout=300)
        finally:
            proc.kill()  # a no-op once it has ended; never left running past the bound
        out.seek(0)
        err.seek(0)
        assert proc.returncode == 0, err.read().decode()[-3000:]
        printed = [json.loads(line) for line in out.read().decode().splitlines()]
    return printed[:-1], int(printed[-1]["VmHWM"]) * 1024  # kB


def sparse(path: Path, size: int, head: bytes = b"") -> Path:
    """A file of `size` bytes: `head`, then zeros (a hole: nothing is written to disk)."""
    with path.open("wb") as fh:
        fh.write(head)
        fh.truncate(size)
    return path


def test_a_huge_or_malformed_file_never_stops_the_good_one_and_memory_stays_bounded(
    warehouse_url, tmp_path
):
    """A 2 GB file without a line break and a 512 MB line after a good header, each beside a
    good file in one call: both bad files are recorded, named with their line, the good one
    lands; the process never holds more than a line (today: 4.39 GB and no record at all)."""
    migrate(warehouse_url)
    no_header = sparse(tmp_path / "zeros.csv", 2 << 30)
    long_line = sparse(tmp_path / "long.csv", 512 << 20, HEADER.encode() + GOOD.encode())
    good = tmp_path / "good.csv"
    good.write_text(HEADER + "MSFT,2020-01-02,10,11,9,10.5,100\n")
    printed, rss = land_in_a_process(warehouse_url, [no_header, long_line, good])
    by_path = {p["path"]: p for p in printed}
    assert by_path[str(no_header)]["status"] == "failed"
    assert f"{no_header}: line 1: longer than 1,048,576 bytes" in by_path[str(no_header)]["error"]
    assert by_path[str(long_line)]["status"] == "success"  # its good line landed
    assert (by_path[str(long_line)]["received"], by_path[str(long_line)]["inserted"]) == (2, 1)
    assert by_path[str(good)] | {"error": None} == {
        "path": str(good),
        "status": "success",
        "received": 1,
        "inserted": 1,
        "error": None,
    }
    with transaction(warehouse_url) as cur:
        cur.execute("select source_uri, symbol, status from raw.load_runs order by 1, 2")
        assert cur.fetchall() == [
            (str(good), "MSFT", "success"),
            (str(long_line), "(unparseable symbol)", "failed"),  # the cut line, quarantined
            (str(long_line), "AAPL", "success"),
            (str(no_header), "*", "failed"),
        ]
    line, reason = one(warehouse_url, "select source_line, reason from raw.rejected_bars")
    assert line == 3
    assert reason.startswith("malformed line: line is longer than 1,048,576 bytes (its first")
    assert rss < 200 << 20, f"peak RSS {rss / 2**20:.0f} MiB"


def test_a_million_identical_rows_twice_grow_the_quarantine_once_by_one_row(
    warehouse_url, tmp_path
):
    """Today: 1 row landed, 999,999 quarantined, raw.rejected_bars +369 MB, then +265 MB."""
    migrate(warehouse_url)
    path = tmp_path / "same.csv"
    path.write_text(HEADER + GOOD * 1_000_000)
    size = "select pg_total_relation_size('raw.rejected_bars')"
    empty = one(warehouse_url, size)[0]
    first = ingest_file(warehouse_url, path)
    assert (first.status, first.inserted, first.rejected) == ("success", 1, 999_999)
    after_first = one(warehouse_url, size)[0]
    second = ingest_file(warehouse_url, path)
    assert (second.status, second.unchanged, second.rejected) == ("success", 1, 999_999)
    after_second = one(warehouse_url, size)[0]
    assert one(warehouse_url, "select count(*), sum(occurrences) from raw.rejected_bars") == (
        1,
        999_999,
    )
    assert after_first - empty < 1 << 20  # one row (and its index entries), not 369 MB
    assert after_second - after_first < 64 << 10  # the rerun updates that row, adds none
