"""The report site on the built sample, rendered offline in headless Chromium."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from ingest.db import transaction
from mdw.cli import main
from tests.headless import Browser

pytestmark = pytest.mark.integration

SYMBOL = "AAPL"
CHART_READY = "document.querySelector('#chart .main-svg') !== null"
REMOTE = re.compile(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", re.IGNORECASE)

# what the page's traces hold for one day: candlestick fields by name, other traces by name
VALUES_ON = """
((day) => {
  const out = {signals: []};
  for (const t of document.getElementById('chart').data) {
    const i = Array.from(t.x).indexOf(day);
    if (i < 0) continue;
    if (t.type === 'candlestick') {
      for (const k of ['open', 'high', 'low', 'close']) out[k] = t[k][i];
    } else if (t.mode === 'markers') {
      Array.from(t.x).forEach((x, j) => { if (x === day) out.signals.push(t.text[j]); });
    } else {
      out[t.name] = t.y[i];
    }
  }
  return out;
})
"""


@pytest.fixture(scope="module")
def site(built_warehouse, tmp_path_factory) -> Path:
    """`mdw report --output DIR` against the built sample."""
    output = tmp_path_factory.mktemp("report")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("WAREHOUSE_URL", built_warehouse.render_as_string(hide_password=False))
        mp.setenv("MDW_HOME", str(output / "home"))
        assert main(["report", "--output", str(output / "site")]) == 0
    return output / "site"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    b = Browser()
    yield b
    b.close()


def test_every_symbol_has_a_page_and_no_page_points_anywhere_remote(site, built_warehouse):
    with transaction(built_warehouse) as cur:
        cur.execute("select distinct symbol from marts.fct_daily_indicators")
        symbols = {r[0] for r in cur.fetchall()}
    pages = {p.stem for p in site.glob("*.html")} - {"index"}
    assert pages == symbols
    assert (site / "plotly.min.js").stat().st_size > 1_000_000
    for page in site.glob("*.html"):
        assert not REMOTE.search(page.read_text()), page


def test_the_index_has_one_row_per_symbol_with_the_marts_values(site, browser, built_warehouse):
    browser.open((site / "index.html").as_uri())
    rows = browser.evaluate(
        "Array.from(document.querySelectorAll('#symbols tbody tr')).map(tr =>"
        " [tr.dataset.symbol, tr.querySelector('a').getAttribute('href'),"
        " Array.from(tr.cells).map(c => c.textContent)])"
    )
    with transaction(built_warehouse) as cur:
        cur.execute(
            "select distinct on (symbol) symbol, trade_date, close, rsi_14"
            " from marts.fct_daily_indicators order by symbol, trade_date desc"
        )
        latest = {s: (d, c, r) for s, d, c, r in cur.fetchall()}
    assert [r[0] for r in rows] == sorted(latest)
    for symbol, href, cells in rows:
        assert (site / href).exists()
        day, close, rsi = latest[symbol]
        assert cells[1] == day.isoformat()
        assert cells[2] == f"{close:.2f}"
        assert cells[5] == ("-" if rsi is None else f"{rsi:.1f}")


def test_a_symbol_page_renders_offline_and_its_values_are_the_marts_row(
    site, browser, built_warehouse, tmp_path
):
    browser.open((site / f"{SYMBOL}.html").as_uri(), ready=CHART_READY)
    requested = browser.requested_urls()
    assert requested and all(u.startswith("file://") for u in requested), requested
    shot = browser.screenshot(tmp_path / f"{SYMBOL}.png")
    assert browser.distinct_colours(shot) > 100  # a blank or unstyled page has a handful

    names = browser.evaluate("document.getElementById('chart').data.map(t => t.name)")
    for expected in ("OHLC", "SMA 20", "SMA 50", "SMA 200", "BB upper", "BB lower", "Volume"):
        assert expected in names
    for expected in ("RSI 14", "MACD", "MACD signal", "MACD hist"):
        assert expected in names
    bands = browser.evaluate(
        "document.getElementById('chart').layout.shapes.map(s => [s.yref, s.y0, s.y1])"
    )
    assert sorted(bands) == [["y3", 30, 30], ["y3", 70, 70]]  # RSI's 30/70 lines
    # stacked panels share one date axis: zooming one zooms all
    browser.evaluate(
        "Plotly.relayout('chart', {'xaxis4.range': ['2016-01-04', '2016-03-31']}).then(() => true)"
    )
    ranges = browser.evaluate(
        "['xaxis', 'xaxis2', 'xaxis3', 'xaxis4'].map("
        "a => document.getElementById('chart')._fullLayout[a].range.map(String))"
    )
    assert all(r == ranges[0] for r in ranges) and ranges[0][0].startswith("2016-01-04")

    with transaction(built_warehouse) as cur:
        cur.execute(
            "select b.trade_date, b.open, b.high, b.low, b.close, b.volume, i.sma_20, i.sma_50,"
            " i.sma_200, i.bb_upper, i.bb_lower, i.rsi_14, i.macd, i.macd_signal, i.macd_hist"
            " from marts.fct_daily_bars b"
            " join marts.fct_daily_indicators i using (symbol, trade_date)"
            " where symbol = %s and i.sma_200 is not null"
            " and exists (select 1 from marts.fct_signals s"
            "   where s.symbol = b.symbol and s.trade_date = b.trade_date)"
            " order by b.trade_date desc limit 1",
            (SYMBOL,),
        )
        row = cur.fetchone()
        assert row is not None
        day = row[0]
        cur.execute(
            "select signal from marts.fct_signals where symbol = %s and trade_date = %s",
            (SYMBOL, day),
        )
        signals = sorted(r[0] for r in cur.fetchall())
    shown = browser.evaluate(f"{VALUES_ON}({json.dumps(day.isoformat())})")
    expected = dict(
        zip(
            [
                "open", "high", "low", "close", "Volume", "SMA 20", "SMA 50", "SMA 200",
                "BB upper", "BB lower", "RSI 14", "MACD", "MACD signal", "MACD hist",
            ],
            [float(v) for v in row[1:]],
            strict=True,
        )
    )  # fmt: skip
    assert {k: shown[k] for k in expected} == expected
    assert sorted(shown["signals"]) == signals


def test_hostile_symbols_reach_sql_only_as_parameters(built_warehouse, tmp_path):
    from lib.report_site import write_site

    hostile = ["AAPL'); drop table marts.fct_signals; --", "x' or '1'='1", "<script>alert(1)"]
    site = write_site(built_warehouse, tmp_path / "site", hostile)
    assert site.pages == 0
    with transaction(built_warehouse) as cur:
        cur.execute("select count(*) from marts.fct_signals")
        assert cur.fetchone()[0] > 0
