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
    pages = {p.stem for p in site.glob("*.html")} - {"index", "strategies"}
    assert pages == symbols
    assert (site / "strategies.html").exists()
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


# --- strategies -------------------------------------------------------------------------------

CHARTS_READY = (
    "document.querySelectorAll('.js-plotly-plot').length > 0 && Array.from("
    "document.querySelectorAll('.js-plotly-plot')).every(d => d.querySelector('.main-svg'))"
)


def test_the_strategies_page_shows_the_marts_equity_drawdown_months_and_trades(
    site, browser, built_warehouse, tmp_path
):
    from tests.integration.conftest import query

    browser.open((site / "strategies.html").as_uri(), ready=CHARTS_READY)
    requested = browser.requested_urls()
    assert requested and all(u.startswith("file://") for u in requested), requested
    assert browser.distinct_colours(browser.screenshot(tmp_path / "strategies.png")) > 100
    performance = query(
        built_warehouse,
        "select strategy, total_return, sharpe_ratio, max_drawdown, is_benchmark"
        " from marts.fct_strategy_performance where period = 'all'",
    ).set_index("strategy")
    table = browser.evaluate(
        "Array.from(document.querySelectorAll('#performance tbody tr')).map(tr =>"
        " [tr.dataset.strategy, Array.from(tr.cells).map(c => c.textContent)])"
    )
    assert sorted(name for name, _ in table) == sorted(performance.index)
    for name, cells in table:
        row = performance.loc[name]
        assert (
            cells[1] == f"{row['total_return']:+.1%}" and cells[6] == f"{row['max_drawdown']:.1%}"
        )
    returns = query(
        built_warehouse,
        "select strategy, trade_date, equity, capital, drawdown, net_return"
        " from marts.fct_strategy_returns order by strategy, trade_date",
    )
    benchmarks = sorted(performance.index[performance["is_benchmark"]])
    trades = query(built_warehouse, "select * from marts.fct_strategy_trades")
    for name in performance.index:
        mine = returns[returns["strategy"] == name]
        chart = browser.evaluate(
            f"(() => {{ const d = document.getElementById('equity-{name}');"
            " return {data: d.data.map(t => ({name: t.name, x: Array.from(t.x), y: Array.from(t.y),"
            " yaxis: t.yaxis})), type: d._fullLayout.yaxis.type}; })()"
        )
        assert chart["type"] == "log"
        traces = {t["name"]: t for t in chart["data"]}
        assert {name, *benchmarks} <= set(traces)
        equity = traces[name]
        assert equity["x"] == [d.isoformat() for d in mine["trade_date"]]
        assert equity["y"] == list(mine["equity"] / mine["capital"])
        assert traces[f"{name} drawdown"]["y"] == list(mine["drawdown"])
        # the heat map's months are the returns compounded within each month
        heat = browser.evaluate(
            f"(() => {{ const t = document.getElementById('monthly-{name}').data[0];"
            " return {y: Array.from(t.y), z: t.z.map(r => Array.from(r))}; })()"
        )
        years = [d.year for d in mine["trade_date"]]
        months = [d.month for d in mine["trade_date"]]
        monthly = (1 + mine["net_return"]).groupby([years, months]).prod() - 1
        assert len(monthly) > 12
        for (year, month), value in monthly.items():
            shown = heat["z"][heat["y"].index(str(year))][month - 1]
            assert abs(shown - value) <= 1e-9 * max(1, abs(value)), (name, year, month, shown)
        # the trades table lists the strategy's latest round trips, newest first
        shown = browser.evaluate(
            f"Array.from(document.querySelectorAll('#trades-{name} tbody tr')).map(tr =>"
            " [tr.cells[0].textContent, tr.cells[2].textContent, tr.cells[6].textContent])"
        )
        expected = trades[trades["strategy"] == name].sort_values(
            ["entry_date", "symbol"], ascending=[False, True]
        )[:50]
        assert shown == [
            [t.symbol, t.entry_date.isoformat(), t.exit_reason] for t in expected.itertuples()
        ]


def test_a_symbol_page_marks_each_strategys_entries_and_exits(site, browser, built_warehouse):
    from tests.integration.conftest import query

    browser.open((site / f"{SYMBOL}.html").as_uri(), ready=CHART_READY)
    marks = browser.evaluate(
        "document.getElementById('chart').data.filter(t => / (entries|exits)$/.test(t.name))"
        ".map(t => [t.name, Array.from(t.x), Array.from(t.y)])"
    )
    trades = query(
        built_warehouse,
        f"select * from marts.fct_strategy_trades where symbol = '{SYMBOL}'"
        " order by strategy, entry_date",
    )
    assert {name.rsplit(" ", 1)[0] for name, _, _ in marks} == set(trades["strategy"])
    for name, x, y in marks:
        strategy, kind = name.rsplit(" ", 1)
        mine = trades[trades["strategy"] == strategy]
        if kind == "exits":
            mine = mine[mine["exit_reason"] != "open"]
            assert x == [d.isoformat() for d in mine["exit_date"]] and y == list(mine["exit_price"])
        else:
            assert x == [d.isoformat() for d in mine["entry_date"]] and y == list(
                mine["entry_price"]
            )


def test_report_names_unknown_symbols_and_fails_when_none_is_known(
    built_warehouse, tmp_path, capsys
):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("WAREHOUSE_URL", built_warehouse.render_as_string(hide_password=False))
        mp.setenv("MDW_HOME", str(tmp_path / "home"))
        unknown = [f"ZZ{i:03d}" for i in range(12)]
        assert (
            main(
                [
                    "report",
                    "--output",
                    str(tmp_path / "a"),
                    "--symbols",
                    ",".join(["AAPL", *unknown]),
                ]
            )
            == 0
        )
        printed = capsys.readouterr()
        assert "ZZ000" in printed.err and "and 2 more" in printed.err and "12 of 13" in printed.err
        assert sorted(p.name for p in (tmp_path / "a").glob("*.html")) == [
            "AAPL.html",
            "index.html",
            "strategies.html",
        ]
        assert main(["report", "--output", str(tmp_path / "b"), "--symbols", "ZZZZ,QQQQ"]) == 1
        printed = capsys.readouterr()
        assert "none of the symbols is in the marts: ZZZZ, QQQQ" in printed.err
