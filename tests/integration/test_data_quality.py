"""Data-quality checks (dbt), their GX gate and the offline data docs: real PostgreSQL, dbt, GX."""

from __future__ import annotations

import shutil
import subprocess
import uuid
from datetime import date, timedelta

import pytest

from expectations.context import data_docs_index, run_checkpoints
from expectations.offline_docs import remote_references
from ingest.db import transaction
from ingest.sessions import land_sessions
from tests.integration.conftest import create_database, dbt, drop_database, query

pytestmark = pytest.mark.integration

# The upstream views read raw live; the late_data view is rebuilt for its clock var.
QUALITY = "int_late_data_found fct_data_quality_issues fct_source_reconciliation"
# The sample's sessions (2013-02-08 .. 2018-02-07) as the late_data clock: nothing is late.
AS_OF = '{"quality_as_of": "2018-02-08 12:00+00"}'


def url_string(url) -> str:
    return url.render_as_string(hide_password=False)


def findings(url, where: str = "true"):
    return query(
        url,
        "select check_name, severity, symbol, source, first_date, last_date, detail,"
        f" acknowledged from marts.fct_data_quality_issues where {where}"
        " order by check_name, symbol, first_date",
    )


def test_sessions_land_idempotently_with_holidays_and_early_closes(warehouse_url):
    from ingest.db import migrate

    migrate(warehouse_url)
    first = land_sessions(warehouse_url, start=date(1990, 1, 1))
    again = land_sessions(warehouse_url, start=date(1990, 1, 1))
    assert first.first_session == date(1990, 1, 2) and first.inserted == first.received > 9000
    assert (again.inserted, again.updated, again.deleted) == (0, 0, 0)
    sessions = query(
        warehouse_url,
        "select session_date, is_early_close, close_at from raw.trading_sessions"
        " where session_date between '2017-11-22' and '2017-11-27'",
    )
    assert [str(d) for d in sessions.session_date] == ["2017-11-22", "2017-11-24", "2017-11-27"]
    assert sessions.is_early_close.tolist() == [False, True, False]  # day after Thanksgiving
    runs = query(
        warehouse_url, "select status from raw.load_runs where source = 'exchange_calendars'"
    )
    assert runs.status.tolist() == ["success", "success"]


def test_sample_findings_are_the_reviewed_ones_and_all_errors_acknowledged(built_warehouse):
    found = findings(built_warehouse, "check_name <> 'late_data'")
    errors = found[found.severity == "error"]
    assert errors.acknowledged.all(), errors[~errors.acknowledged].to_string()
    assert set(errors.check_name) == {"missing_sessions", "price_jump"}
    jumps = errors[errors.check_name == "price_jump"]
    assert set(zip(jumps.symbol, map(str, jumps.first_date), strict=True)) == {
        ("BAX", "2015-07-01"),  # Baxalta spin-off
        ("NVDA", "2016-11-11"),  # earnings
    }
    gaps = errors[errors.symbol == "LNT"]
    assert [str(d) for d in gaps.first_date] == ["2016-05-19"]  # the quarantined bad close
    # The late starters (APTV, BHF, PYPL) start late but have no gap: no finding.
    assert not {"APTV", "PYPL"} & set(found.symbol)


def _text(value) -> str | None:
    return value if isinstance(value, str) else None  # pandas reads SQL null as NaN


def _bars(symbol: str, sessions: list[date], closes: list[float], volumes: list[float]):
    return [
        (symbol, d, c, c * 1.01, c * 0.99, c, v)
        for d, c, v in zip(sessions, closes, volumes, strict=True)
    ]


def _insert(cur, source: str, rows) -> None:
    run = str(uuid.uuid4())
    for symbol, d, o, h, lo, c, v in rows:
        cur.execute(
            "insert into raw.daily_bars (source, symbol, trade_date, open, high, low, close,"
            " volume, load_run_id) values (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
            (source, symbol, d, o, max(h, o, c), min(lo, o, c), c, v, run),
        )


def _craft_faults(url) -> None:
    """ZZZ: 120 clean sessions, then one fault of each kind; CLEAN: the same series unharmed."""
    sessions = [
        r.session_date
        for r in query(
            url,
            "select session_date from raw.trading_sessions"
            " where session_date between '2017-06-01' and '2018-02-07' order by 1",
        ).itertuples()
    ]
    n = len(sessions)
    closes = [50 + (i % 7) * 0.3 for i in range(n)]
    volumes = [1_000_000 + (i % 5) * 10_000 for i in range(n)]
    with transaction(url) as cur:
        _insert(cur, "files", _bars("CLEAN", sessions, closes, volumes))
        z_closes, z_volumes = list(closes), list(volumes)
        z_closes[100] = closes[100] * 1.6  # bad print: +60 %, back the next day
        z_closes[130:] = [c * 0.5 for c in closes[130:]]  # a lasting -50 % drop, no split
        z_volumes[110] = 0
        z_volumes[120] = volumes[120] * 40  # volume spike
        rows = _bars("ZZZ", sessions, z_closes, z_volumes)
        del rows[90:93]  # three missing sessions
        _insert(cur, "files", rows)
        saturday = next(
            d for d in (sessions[60] + timedelta(i) for i in range(7)) if d.weekday() == 5
        )
        _insert(cur, "files", [("ZZZ", saturday, 50, 50.5, 49.5, 50, 1000)])
        # a second source whose close disagrees by 2 % (polygon is preferred: files disagree)
        _insert(cur, "polygon", [("ZZZ", sessions[80], 51, 51, 51, closes[80] * 1.02, 900_000)])
        # STALE stops 10 sessions before the newest landed session
        _insert(
            cur, "files", _bars("STALE", sessions[: n - 10], closes[: n - 10], volumes[: n - 10])
        )


@pytest.fixture(scope="module")
def crafted(pg_server, built_warehouse):
    """One copy of the built sample with the faults, shared by this module's tests (the
    acknowledging test, which changes it, runs last)."""
    url = create_database(pg_server, template=built_warehouse.database)
    _craft_faults(url)
    result = dbt(url, "build", "--select", QUALITY, "--vars", AS_OF)
    assert result.success, result.exception  # findings are rows, never a failed build
    yield url
    drop_database(pg_server, url)


def test_each_check_fires_on_its_crafted_fault_and_not_on_the_clean_series(crafted):
    found = findings(crafted, "symbol in ('ZZZ', 'CLEAN', 'STALE')")
    assert "CLEAN" not in set(found.symbol), found[found.symbol == "CLEAN"].to_string()
    got = {
        (r.check_name, r.severity, _text(r.symbol), _text(r.source), str(r.first_date))
        for r in found.itertuples()
    }
    sessions = (
        query(
            crafted,
            "select session_date from raw.trading_sessions"
            " where session_date between '2017-06-01' and '2018-02-07' order by 1",
        )
        .session_date.map(str)
        .tolist()
    )
    expected = {
        ("missing_sessions", "error", "ZZZ", None, sessions[90]),
        ("missing_sessions", "error", "ZZZ", "files", sessions[90]),
        ("price_jump", "error", "ZZZ", None, sessions[100]),
        ("price_jump", "error", "ZZZ", None, sessions[130]),
        ("zero_volume", "warn", "ZZZ", None, sessions[110]),
        ("volume_spike", "warn", "ZZZ", None, sessions[120]),
        ("source_disagreement", "error", "ZZZ", "files", sessions[80]),
        ("stale_symbol", "warn", "STALE", None, sessions[-10]),
    }
    assert expected <= got, sorted(got)
    weekend = found[found.check_name == "non_session_date"]
    assert weekend.symbol.tolist() == ["ZZZ"] and "weekend" in weekend.detail.iloc[0]
    bad_print = found[
        (found.check_name == "price_jump") & (found.first_date.map(str) == sessions[100])
    ]
    assert bad_print.detail.iloc[0].startswith("bad print:")
    assert len(found[found.check_name == "price_jump"]) == 2  # the move back is no second finding
    gap = found[(found.check_name == "missing_sessions") & found.source.isna()].detail.iloc[0]
    assert gap.startswith("3 session(s) without a bar")
    recon = query(crafted, "select * from marts.fct_source_reconciliation where symbol = 'ZZZ'")
    assert len(recon) == 1 and recon.chosen_source.iloc[0] == "polygon"
    assert not recon.is_within_tolerance.iloc[0]


def test_late_data_uses_the_clock(crafted):
    result = dbt(
        crafted,
        "build",
        "--select",
        "int_late_data_found fct_data_quality_issues",  # views keep the vars they were built with
        "--vars",
        '{"quality_as_of": "2018-02-20 12:00+00"}',
    )
    assert result.success
    late = findings(crafted, "check_name = 'late_data'")
    assert late.symbol.isna().tolist() == [True] and str(late.last_date.iloc[0]) == "2018-02-16"


def test_acknowledging_turns_failing_validation_into_passing(crafted, gx_root):
    results = {r.name: r for r in run_checkpoints(url_string(crafted), root=gx_root, run_name="t")}
    assert not results["data_quality_errors"].success
    assert results["data_quality_errors"].failed[0].endswith("unexpected)")
    assert results["data_quality_warnings"].gate is False
    with transaction(crafted) as cur:
        cur.execute(
            "insert into quality.known_data_issues"
            " (check_name, symbol, first_date, last_date, reason)"
            " select distinct check_name, symbol, null::date, null::date, 'crafted in a test'"
            " from marts.fct_data_quality_issues where severity = 'error' and not acknowledged"
        )
    assert dbt(crafted, "run", "--select", "fct_data_quality_issues", "--vars", AS_OF).success
    results = {r.name: r for r in run_checkpoints(url_string(crafted), root=gx_root, run_name="t")}
    assert results["data_quality_errors"].success
    assert findings(crafted, "acknowledged").detail.notna().all()


def _chromium() -> str:
    found = shutil.which("chromium")
    if found:
        return found
    subprocess.run(["apt-get", "update", "-qq"], check=True)
    subprocess.run(
        ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "chromium"], check=True
    )
    return shutil.which("chromium") or pytest.fail("chromium did not install")


def test_data_docs_render_offline_with_every_checkpoint(built_warehouse, gx_root, tmp_path):
    results = run_checkpoints(url_string(built_warehouse), root=gx_root, run_name="offline-test")
    site = data_docs_index(gx_root).parent
    pages = [*site.rglob("*.html"), *(p for p in site.rglob("*.css") if "vendor" not in p.parts)]
    leftovers = {str(p.relative_to(site)): remote_references(p.read_text()) for p in pages}
    assert not {p: r for p, r in leftovers.items() if r}
    screenshot = tmp_path / "index.png"
    # a network namespace of its own: no network at all, not even loopback
    dom = subprocess.run(
        [
            "unshare",
            "-n",
            _chromium(),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--virtual-time-budget=5000",
            "--window-size=1400,1000",
            "--dump-dom",
            data_docs_index(gx_root).as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    for r in results:  # bootstrap-table (vendored) filled the list: one row per checkpoint run
        assert f"offline-test {r.name}" in dom, r.name
    assert "Showing 1 to" in dom
    subprocess.run(
        [
            "unshare",
            "-n",
            _chromium(),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--virtual-time-budget=5000",
            "--window-size=1400,1000",
            f"--screenshot={screenshot}",
            data_docs_index(gx_root).as_uri(),
        ],
        capture_output=True,
        timeout=120,
        check=True,
    )
    assert screenshot.stat().st_size > 20_000
