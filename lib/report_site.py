"""The report site: static pages a trader would look at, read from the marts with SQL only.

`write_site` writes `index.html` (one row per symbol: last close, change, RSI, distance to the
SMA 200, the day's signals, open data-quality findings), one page per symbol with stacked,
date-aligned, zoomable panels (candlesticks + SMA 20/50/200 + Bollinger bands, volume, RSI 14,
MACD, signal markers, the strategies' entries and exits) and, where the strategy marts exist,
`strategies.html`: the performance table and, per strategy, its equity against both benchmarks
(log scale), its drawdown (underwater), its monthly returns and its trades. Every number comes
from marts.* (SQL only); nothing is computed here.
The pages work offline: Plotly's JavaScript is copied next to them (`plotly.min.js`).
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path

from sqlalchemy.engine import URL

from ingest.db import transaction
from lib.backtest import COLUMNS

PLOTLY_JS = "plotly.min.js"
CHART_ID = "chart"

INDEX_SQL = """
with latest as (
    select distinct on (ind.symbol)
        ind.symbol, ind.trade_date, ind.close, ind.rsi_14, ind.sma_200, bars.previous_close,
        bars.simple_return
    from marts.fct_daily_indicators as ind
    inner join marts.fct_daily_bars as bars
        on bars.symbol = ind.symbol and bars.trade_date = ind.trade_date
    where %(symbols)s::text[] is null or ind.symbol = any(%(symbols)s::text[])
    order by ind.symbol, ind.trade_date desc
)
select
    latest.symbol,
    latest.trade_date,
    latest.close,
    latest.close - latest.previous_close as change,
    latest.simple_return as change_pct,
    latest.rsi_14,
    latest.close / nullif(latest.sma_200, 0) - 1 as distance_to_sma_200,
    coalesce(
        (select string_agg(sig.signal, ', ' order by sig.signal)
         from marts.fct_signals as sig
         where sig.symbol = latest.symbol and sig.trade_date = latest.trade_date),
        ''
    ) as signals
from latest
order by latest.symbol
"""

QUALITY_TABLE = "marts.fct_data_quality_issues"
# Open findings per symbol (null: feed-level). `acknowledged` rows are known and reviewed.
QUALITY_SQL = """
select symbol, count(*) as findings
from marts.fct_data_quality_issues
where {open_filter}
group by symbol
"""

SERIES_SQL = """
select
    bars.trade_date, bars.open, bars.high, bars.low, bars.close, bars.volume,
    ind.sma_20, ind.sma_50, ind.sma_200, ind.bb_upper, ind.bb_middle, ind.bb_lower,
    ind.rsi_14, ind.macd, ind.macd_signal, ind.macd_hist
from marts.fct_daily_bars as bars
left join marts.fct_daily_indicators as ind
    on ind.symbol = bars.symbol and ind.trade_date = bars.trade_date
where bars.symbol = %(symbol)s
order by bars.trade_date
"""

SIGNALS_SQL = """
select trade_date, signal, direction, close
from marts.fct_signals
where symbol = %(symbol)s
order by trade_date, signal
"""

STRATEGY_TABLE = "marts.fct_strategy_performance"
# a symbol's round trips, for its entry and exit marks
SYMBOL_TRADES_SQL = """
select strategy, side, entry_date, entry_price, exit_date, exit_price, exit_reason
from marts.fct_strategy_trades
where symbol = %(symbol)s
order by strategy, entry_date
"""

PERFORMANCE_SQL = """
select strategy, description, is_benchmark, total_return, cagr, annual_volatility, sharpe_ratio,
    sortino_ratio, max_drawdown, max_drawdown_peak_date, max_drawdown_trough_date,
    max_drawdown_recovery_date, calmar_ratio, trades, open_trades, trade_win_rate, profit_factor,
    average_gross_exposure, beta, alpha, first_date, last_date
from marts.fct_strategy_performance
where period = 'all'
order by is_benchmark, strategy
"""

# equity as growth of the capital, and the drawdown, per strategy and session
CURVES_SQL = """
select strategy, trade_date, equity / capital as growth, drawdown
from marts.fct_strategy_returns
order by strategy, trade_date
"""

# each calendar month's return: its last equity over the equity it started with
MONTHLY_SQL = """
select
    strategy,
    extract(year from trade_date)::int as year,
    extract(month from trade_date)::int as month,
    (array_agg(equity order by trade_date desc))[1]
    / (array_agg(previous_equity order by trade_date))[1] - 1 as monthly_return
from marts.fct_strategy_returns
group by strategy, year, month
order by strategy, year, month
"""

TRADES_SHOWN = 50  # the latest round trips per strategy on the strategies page
TRADES_SQL = """
select strategy, symbol, side, entry_date, entry_price, exit_date, exit_price, exit_reason,
    holding_sessions, net_return, net_pnl
from (
    select *, row_number() over (partition by strategy order by entry_date desc, symbol) as latest
    from marts.fct_strategy_trades
) as numbered
where latest <= %(shown)s
order by strategy, entry_date desc, symbol
"""


@dataclass(frozen=True)
class IndexRow:
    symbol: str
    trade_date: date
    close: float | None
    change: float | None
    change_pct: float | None
    rsi_14: float | None
    distance_to_sma_200: float | None
    signals: str
    findings: int | None = None  # None: no data-quality table in this warehouse


@dataclass(frozen=True)
class Signal:
    trade_date: date
    signal: str
    direction: str
    close: float | None


@dataclass(frozen=True)
class Trade:
    strategy: str
    side: str
    entry_date: date
    entry_price: float | None
    exit_date: date | None
    exit_price: float | None
    exit_reason: str


@dataclass
class SymbolSeries:
    symbol: str
    columns: dict[str, list] = field(default_factory=dict)
    signals: list[Signal] = field(default_factory=list)
    trades: list[Trade] = field(default_factory=list)


@dataclass
class Strategies:
    """What the strategies page shows, as read from the strategy marts."""

    performance: list[dict] = field(default_factory=list)
    curves: dict[str, dict[str, list]] = field(default_factory=dict)
    monthly: dict[str, list[tuple[int, int, float]]] = field(default_factory=dict)
    trades: dict[str, list[dict]] = field(default_factory=dict)


@dataclass(frozen=True)
class Site:
    index: Path
    pages: int
    unknown: tuple[str, ...] = ()  # symbols asked for that the marts do not have
    strategies: Path | None = None

    @property
    def url(self) -> str:
        return self.index.resolve().as_uri()


def _plain(value: object) -> object:
    """Database values as JSON-ready Python values (numeric -> float, date -> ISO text)."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


# --- reading (SQL only) --------------------------------------------------------------------


def read_quality(cur) -> dict[str | None, int] | None:
    cur.execute("select to_regclass(%s) is not null", (QUALITY_TABLE,))
    if not cur.fetchone()[0]:
        return None
    cur.execute(
        "select 1 from information_schema.columns"
        " where table_schema = 'marts' and table_name = 'fct_data_quality_issues'"
        " and column_name = 'acknowledged'"
    )
    open_filter = "not acknowledged" if cur.fetchone() else "true"
    cur.execute(QUALITY_SQL.format(open_filter=open_filter))
    return {symbol: int(n) for symbol, n in cur.fetchall()}


def read_index(cur, symbols: Sequence[str] | None) -> tuple[list[IndexRow], dict | None]:
    cur.execute(INDEX_SQL, {"symbols": list(symbols) if symbols else None})
    rows = cur.fetchall()
    quality = read_quality(cur)
    out = []
    for symbol, day, close, change, pct, rsi, dist, signals in rows:
        findings = None if quality is None else quality.get(symbol, 0)
        values = [_float(v) for v in (close, change, pct, rsi, dist)]
        out.append(IndexRow(symbol, day, *values, signals=signals, findings=findings))
    return out, quality


def _float(value: object) -> float | None:
    return None if value is None else float(value)


def has_strategies(cur) -> bool:
    cur.execute("select to_regclass(%s) is not null", (STRATEGY_TABLE,))
    return cur.fetchone()[0]


def read_series(cur, symbol: str, strategies: bool = False) -> SymbolSeries:
    cur.execute(SERIES_SQL, {"symbol": symbol})
    rows = cur.fetchall()
    series = SymbolSeries(symbol)
    for i, column in enumerate(cur.description):
        series.columns[column.name] = [_plain(row[i]) for row in rows]
    cur.execute(SIGNALS_SQL, {"symbol": symbol})
    series.signals = [Signal(d, s, direction, _float(c)) for d, s, direction, c in cur.fetchall()]
    if strategies:
        cur.execute(SYMBOL_TRADES_SQL, {"symbol": symbol})
        series.trades = [
            Trade(name, side, entry, _float(ep), exit_, _float(xp), reason)
            for name, side, entry, ep, exit_, xp, reason in cur.fetchall()
        ]
    return series


def _records(cur) -> list[dict]:
    names = [c.name for c in cur.description]
    return [{n: _plain(v) for n, v in zip(names, row, strict=True)} for row in cur.fetchall()]


def read_strategies(cur) -> Strategies:
    found = Strategies()
    cur.execute(PERFORMANCE_SQL)
    found.performance = _records(cur)
    cur.execute(CURVES_SQL)
    for row in _records(cur):
        curve = found.curves.setdefault(row["strategy"], {"date": [], "growth": [], "drawdown": []})
        curve["date"].append(row["trade_date"])
        curve["growth"].append(row["growth"])
        curve["drawdown"].append(row["drawdown"])
    cur.execute(MONTHLY_SQL)
    for row in _records(cur):
        found.monthly.setdefault(row["strategy"], []).append(
            (row["year"], row["month"], row["monthly_return"])
        )
    cur.execute(TRADES_SQL, {"shown": TRADES_SHOWN})
    for row in _records(cur):
        found.trades.setdefault(row["strategy"], []).append(row)
    return found


# --- rendering -----------------------------------------------------------------------------


def page_name(symbol: str) -> str:
    """A file name for any symbol (BRK.B, ^GSPC, EURUSD=X): unsafe characters become _."""
    return re.sub(r"[^A-Za-z0-9.-]", "_", symbol).lstrip(".") + ".html"


PANELS = ("Price", "Volume", "RSI 14", "MACD 12/26/9")


@cache
def panel_layout() -> dict:
    """Four stacked panels on one shared date axis (made once; the same for every symbol)."""
    from plotly.subplots import make_subplots

    fig = make_subplots(
        rows=4,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.025,
        row_heights=[0.52, 0.14, 0.16, 0.18],
        subplot_titles=PANELS,
    )
    for level in (30, 70):
        fig.add_hline(
            y=level,
            line={"dash": "dot", "width": 1, "color": "#888"},
            row=3,
            col=1,
            exclude_empty_subplots=False,  # the layout is made before any trace
        )
    fig.update_layout(
        height=1000,
        margin={"l": 60, "r": 20, "t": 70, "b": 30},
        hovermode="x unified",
        dragmode="zoom",
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.025, "x": 0},
        template="plotly_white",
        bargap=0,
    )
    fig.update_xaxes(rangeslider_visible=False, type="date")
    fig.update_yaxes(range=[0, 100], row=3, col=1)
    return fig.to_plotly_json()["layout"]


def _line(x: list, y: list, name: str, color: str, row: int, **extra: object) -> dict:
    axis = "" if row == 1 else str(row)
    return {
        "type": "scatter",
        "mode": "lines",
        "x": x,
        "y": y,
        "name": name,
        "line": {"width": 1.3, "color": color},
        "xaxis": f"x{axis}",
        "yaxis": f"y{axis}",
        **extra,
    }


def symbol_figure(series: SymbolSeries) -> dict:
    """The page's Plotly figure as plain data (traces read straight from the marts' columns)."""
    c = series.columns
    x = c["trade_date"]
    band = "rgba(110,110,160,0.6)"
    traces = [
        {
            "type": "candlestick",
            "x": x,
            "open": c["open"],
            "high": c["high"],
            "low": c["low"],
            "close": c["close"],
            "name": "OHLC",
            "xaxis": "x",
            "yaxis": "y",
        },
        _line(x, c["bb_upper"], "BB upper", band, 1, legendgroup="bb"),
        _line(
            x,
            c["bb_lower"],
            "BB lower",
            band,
            1,
            legendgroup="bb",
            fill="tonexty",
            fillcolor="rgba(110,110,160,0.08)",
        ),
        _line(x, c["sma_20"], "SMA 20", "#1f77b4", 1),
        _line(x, c["sma_50"], "SMA 50", "#ff7f0e", 1),
        _line(x, c["sma_200"], "SMA 200", "#9467bd", 1),
    ]
    for direction, marker, color in (
        ("bullish", "triangle-up", "#2ca02c"),
        ("bearish", "triangle-down", "#d62728"),
    ):
        picked = [s for s in series.signals if s.direction == direction]
        traces.append(
            {
                "type": "scatter",
                "mode": "markers",
                "x": [s.trade_date.isoformat() for s in picked],
                "y": [s.close for s in picked],
                "text": [s.signal for s in picked],
                "name": f"{direction} signals",
                "marker": {"symbol": marker, "size": 8, "color": color, "opacity": 0.85},
                "hovertemplate": "%{x}<br>%{text}<br>close %{y}<extra></extra>",
                "xaxis": "x",
                "yaxis": "y",
            }
        )
    traces += trade_marks(series.trades)
    grey = "rgba(100,100,100,0.55)"
    traces += [
        {"type": "bar", "x": x, "y": c["volume"], "name": "Volume", "marker": {"color": grey},
         "xaxis": "x2", "yaxis": "y2"},
        _line(x, c["rsi_14"], "RSI 14", "#8c564b", 3),
        {"type": "bar", "x": x, "y": c["macd_hist"], "name": "MACD hist",
         "marker": {"color": grey}, "xaxis": "x4", "yaxis": "y4"},
        _line(x, c["macd"], "MACD", "#1f77b4", 4),
        _line(x, c["macd_signal"], "MACD signal", "#ff7f0e", 4),
    ]  # fmt: skip
    return {"data": traces, "layout": panel_layout()}


STRATEGY_COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf")


def trade_marks(trades: list[Trade]) -> list[dict]:
    """Per strategy: its entries (triangles) and exits (crosses) at their execution prices."""
    traces = []
    names = sorted({t.strategy for t in trades})
    for n, name in enumerate(names):
        colour = STRATEGY_COLOURS[n % len(STRATEGY_COLOURS)]
        mine = [t for t in trades if t.strategy == name]
        closed = [t for t in mine if t.exit_reason != "open"]
        for kind, picked, x, y, marker in (
            ("entries", mine, [t.entry_date for t in mine], [t.entry_price for t in mine],
             "triangle-right"),
            ("exits", closed, [t.exit_date for t in closed], [t.exit_price for t in closed],
             "x-thin-open"),
        ):  # fmt: skip
            traces.append(
                {
                    "type": "scatter",
                    "mode": "markers",
                    "x": [d.isoformat() for d in x],
                    "y": y,
                    "text": [
                        f"{name} {t.side} {kind[:-2] if kind == 'exits' else 'entry'}"
                        + (f" ({t.exit_reason})" if kind == "exits" else "")
                        for t in picked
                    ],  # fmt: skip
                    "name": f"{name} {kind}",
                    "legendgroup": name,
                    "visible": "legendonly",  # a click on the legend shows a strategy's marks
                    "marker": {
                        "symbol": marker,
                        "size": 9,
                        "color": colour,
                        "line": {"width": 2, "color": colour},
                    },  # fmt: skip
                    "hovertemplate": "%{x}<br>%{text}<br>at %{y}<extra></extra>",
                    "xaxis": "x",
                    "yaxis": "y",
                }
            )
    return traces


STYLE = """
body { font-family: system-ui, sans-serif; margin: 24px; color: #222; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; }
th, td { padding: 4px 10px; border-bottom: 1px solid #ddd; text-align: right; }
th:first-child, td:first-child, .text { text-align: left; }
.up { color: #1a7f37; } .down { color: #c62828; } .muted { color: #888; }
"""


def _page(title: str, body: str, head: str = "") -> str:
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title><style>{STYLE}</style>{head}</head>"
        f"<body>{body}</body></html>\n"
    )


def _num(value: float | None, fmt: str, signed: bool = False) -> str:
    if value is None:
        return "<td class='muted'>-</td>"
    css = (
        "" if not signed else (" class='up'" if value > 0 else " class='down'" if value < 0 else "")
    )
    return f"<td{css}>{format(value, fmt)}</td>"


def index_html(
    rows: list[IndexRow], quality: dict | None, generated: datetime, strategies: bool = False
) -> str:
    has_quality = quality is not None
    header = (
        "<tr><th>Symbol</th><th class='text'>Date</th><th>Close</th><th>Change</th>"
        "<th>Change %</th><th>RSI 14</th><th>vs SMA 200</th><th class='text'>Today's signals</th>"
        + ("<th>Open findings</th>" if has_quality else "")
        + "</tr>"
    )
    body_rows = []
    for r in rows:
        link = f"<a href='{html.escape(page_name(r.symbol))}'>{html.escape(r.symbol)}</a>"
        cells = [
            f"<td>{link}</td><td class='text'>{r.trade_date.isoformat()}</td>",
            _num(r.close, ".2f"),
            _num(r.change, "+.2f", signed=True),
            _num(r.change_pct, "+.2%", signed=True),
            _num(r.rsi_14, ".1f"),
            _num(r.distance_to_sma_200, "+.1%", signed=True),
            f"<td class='text'>{html.escape(r.signals) or '<span class=muted>none</span>'}</td>",
        ]
        if has_quality:
            cells.append(f"<td>{r.findings}</td>")
        body_rows.append(f"<tr data-symbol='{html.escape(r.symbol)}'>{''.join(cells)}</tr>")
    feed = ""
    if quality and quality.get(None):
        feed = f"<p>{quality[None]} open feed-level data-quality finding(s).</p>"
    note = "" if has_quality else "<p class='muted'>No data-quality table in this warehouse.</p>"
    link = (
        f"<p><a id='strategies-link' href='{STRATEGIES_PAGE}'>Strategies and backtests</a></p>"
        if strategies
        else ""
    )
    body = (
        "<h1>Market data warehouse</h1>"
        f"{link}"
        f"<p class='muted'>{len(rows)} symbols, from the marts; generated "
        f"{generated:%Y-%m-%d %H:%M} UTC. Change is against the previous close; "
        "vs SMA 200 is close / SMA 200 - 1.</p>"
        f"{feed}<table id='symbols'><thead>{header}</thead><tbody>{''.join(body_rows)}"
        f"</tbody></table>{note}"
    )
    return _page("Market data warehouse - report", body)


def symbol_html(series: SymbolSeries, generated: datetime) -> str:
    import plotly.io as pio

    chart = pio.to_html(
        symbol_figure(series),
        validate=False,
        full_html=False,
        include_plotlyjs=False,
        div_id=CHART_ID,
        config={"displaylogo": False, "scrollZoom": True, "responsive": True},
    )
    symbol = html.escape(series.symbol)
    days = series.columns["trade_date"]
    span = f"{days[0]} to {days[-1]}" if days else "no bars"
    body = (
        f"<p><a href='index.html'>&larr; all symbols</a></p><h1>{symbol}</h1>"
        f"<p class='muted'>Daily bars {span} ({len(days)} days), split-adjusted; "
        f"{len(series.signals)} signals; click a strategy's entries or exits in the legend to mark "
        "them. Drag to zoom, double-click to reset; all panels share "
        f"the date axis. Generated {generated:%Y-%m-%d %H:%M} UTC.</p>{chart}"
    )
    return _page(
        f"{series.symbol} - market data warehouse", body, f"<script src='{PLOTLY_JS}'></script>"
    )


STRATEGIES_PAGE = "strategies.html"
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
PERFORMANCE_COLUMNS = tuple(c for c in COLUMNS if c[0] != "strategy")  # as `mdw backtest` shows


def strategy_id(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "_", name)


@cache
def _template() -> dict:
    import plotly.io as pio

    return pio.templates["plotly_white"].to_plotly_json()


def equity_figure(name: str, strategies: Strategies, benchmarks: list[str]) -> dict:
    """Growth of the capital (log scale) against the benchmarks, and the drawdown below it."""
    from plotly.subplots import make_subplots

    fig = make_subplots(
        rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.06, row_heights=[0.7, 0.3],
        subplot_titles=("Equity / capital (log scale)", "Drawdown (underwater)"),
    )  # fmt: skip
    layout = fig.to_plotly_json()["layout"]
    layout.update(
        height=560,
        margin={"l": 60, "r": 20, "t": 50, "b": 30},
        hovermode="x unified",
        template=_template(),
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.06, "x": 0},
    )
    layout["yaxis"].update(type="log", title={"text": "growth"})
    layout["yaxis2"].update(tickformat=".0%", title={"text": "drawdown"})
    curve = strategies.curves.get(name, {"date": [], "growth": [], "drawdown": []})
    traces = [
        {"type": "scatter", "mode": "lines", "x": curve["date"], "y": curve["growth"],
         "name": name, "line": {"width": 2, "color": "#1f77b4"}, "xaxis": "x", "yaxis": "y"},
    ]  # fmt: skip
    for n, bench in enumerate(b for b in benchmarks if b != name):
        other = strategies.curves.get(bench, {"date": [], "growth": []})
        traces.append(
            {
                "type": "scatter",
                "mode": "lines",
                "x": other["date"],
                "y": other["growth"],
                "name": bench,
                "line": {"width": 1.3, "dash": "dot", "color": ("#ff7f0e", "#7f7f7f")[n % 2]},
                "xaxis": "x",
                "yaxis": "y",
            }  # fmt: skip
        )
    traces.append(
        {"type": "scatter", "mode": "lines", "x": curve["date"], "y": curve["drawdown"],
         "name": f"{name} drawdown", "fill": "tozeroy", "line": {"width": 1, "color": "#d62728"},
         "fillcolor": "rgba(214,39,40,0.25)", "xaxis": "x2", "yaxis": "y2", "showlegend": False}
    )  # fmt: skip
    return {"data": traces, "layout": layout}


def monthly_figure(name: str, strategies: Strategies) -> dict:
    """Monthly returns: a year x month heat map (the marts' monthly compounding)."""
    months = strategies.monthly.get(name, [])
    years = sorted({y for y, _, _ in months})
    z = [[None] * 12 for _ in years]
    for y, m, r in months:
        z[years.index(y)][m - 1] = r
    text = [["" if v is None else f"{v:+.1%}" for v in row] for row in z]
    return {
        "data": [
            {"type": "heatmap", "x": list(MONTHS), "y": [str(y) for y in years], "z": z,
             "text": text, "texttemplate": "%{text}", "zmid": 0,
             "colorscale": [[0, "#c62828"], [0.5, "#f7f7f7"], [1, "#1a7f37"]],
             "hovertemplate": "%{y} %{x}: %{text}<extra></extra>", "showscale": False}
        ],
        "layout": {"height": 60 + 34 * max(len(years), 1), "template": _template(),
                   "margin": {"l": 60, "r": 20, "t": 10, "b": 30},
                   "yaxis": {"autorange": "reversed", "type": "category"}},
    }  # fmt: skip


def _chart(figure: dict, div_id: str) -> str:
    import plotly.io as pio

    return pio.to_html(
        figure,
        validate=False,
        full_html=False,
        include_plotlyjs=False,
        div_id=div_id,
        config={"displaylogo": False, "responsive": True},
    )


def _performance_table(rows: list[dict]) -> str:
    header = "<tr><th>Strategy</th>" + "".join(f"<th>{h}</th>" for _, h, _ in PERFORMANCE_COLUMNS)
    body = []
    for r in rows:
        name = html.escape(r["strategy"])
        label = f"<a href='#strategy-{strategy_id(r['strategy'])}'>{name}</a>"
        if r["is_benchmark"]:
            label += " <span class='muted'>(benchmark)</span>"
        cells = []
        for column, _, fmt in PERFORMANCE_COLUMNS:
            value = r[column]
            if fmt == "d":
                cells.append(f"<td>{'-' if value is None else int(value)}</td>")
            else:
                cells.append(_num(_float(value), fmt, signed=fmt.startswith("+")))
        body.append(f"<tr data-strategy='{name}'><td>{label}</td>{''.join(cells)}</tr>")
    rows_html = "".join(body)
    return f"<table id='performance'><thead>{header}</tr></thead><tbody>{rows_html}</tbody></table>"


def _trades_table(name: str, trades: list[dict]) -> str:
    header = (
        "<tr><th>Symbol</th><th class='text'>Side</th><th class='text'>Entry</th><th>Price</th>"
        "<th class='text'>Exit</th><th>Price</th><th class='text'>Reason</th><th>Sessions</th>"
        "<th>Net return</th><th>Net P&amp;L</th></tr>"
    )
    rows = []
    for t in trades:
        rows.append(
            f"<tr><td>{html.escape(t['symbol'])}</td><td class='text'>{html.escape(t['side'])}</td>"
            f"<td class='text'>{t['entry_date']}</td>{_num(_float(t['entry_price']), '.2f')}"
            f"<td class='text'>{t['exit_date'] or ''}</td>{_num(_float(t['exit_price']), '.2f')}"
            f"<td class='text'>{html.escape(t['exit_reason'])}</td><td>{t['holding_sessions']}</td>"
            f"{_num(_float(t['net_return']), '+.2%', signed=True)}"
            f"{_num(_float(t['net_pnl']), '+,.2f', signed=True)}</tr>"
        )
    return (
        f"<table class='trades' id='trades-{strategy_id(name)}'><thead>{header}</thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def strategies_html(strategies: Strategies, generated: datetime) -> str:
    benchmarks = [r["strategy"] for r in strategies.performance if r["is_benchmark"]]
    sections = []
    for r in strategies.performance:
        name, sid = r["strategy"], strategy_id(r["strategy"])
        peak = r["max_drawdown_peak_date"] or "the start"
        recovered = r["max_drawdown_recovery_date"] or "not yet"
        dd = (
            f"max drawdown {_fmt(r['max_drawdown'], '.1%')} from {peak} to "
            f"{r['max_drawdown_trough_date'] or '-'}, recovered {recovered}"
        )
        shown = strategies.trades.get(name, [])
        total = (r["trades"] or 0) + (r["open_trades"] or 0)
        sections.append(
            f"<section id='strategy-{sid}'><h2>{html.escape(name)}</h2>"
            f"<p>{html.escape(r['description'] or '')}</p>"
            f"<p class='muted'>{r['first_date']} to {r['last_date']}; {dd}.</p>"
            f"{_chart(equity_figure(name, strategies, benchmarks), f'equity-{sid}')}"
            f"<h3>Monthly returns</h3>{_chart(monthly_figure(name, strategies), f'monthly-{sid}')}"
            f"<h3>Trades</h3><p class='muted'>The latest {len(shown)} of {total} round trips "
            f"({r['open_trades']} still open; all of them: marts.fct_strategy_trades).</p>"
            f"{_trades_table(name, shown)}"
            "</section>"
        )
    body = (
        "<p><a href='index.html'>&larr; all symbols</a></p><h1>Strategies and backtests</h1>"
        f"<p class='muted'>The declared strategies (dbt_project.yml) from the strategy marts, "
        f"net of costs; benchmarks: {', '.join(html.escape(b) for b in benchmarks) or 'none'}. "
        f"Generated {generated:%Y-%m-%d %H:%M} UTC.</p>"
        f"{_performance_table(strategies.performance)}{''.join(sections)}"
    )
    return _page("Strategies - market data warehouse", body, f"<script src='{PLOTLY_JS}'></script>")


def _fmt(value: object, fmt: str) -> str:
    return "-" if value is None else format(float(value), fmt)


def write_plotly_js(output: Path) -> None:
    from plotly.offline import get_plotlyjs

    target = output / PLOTLY_JS
    js = get_plotlyjs()
    if not target.exists() or target.stat().st_size != len(js.encode()):
        target.write_text(js, encoding="utf-8")


def write_site(url: URL, output: Path, symbols: Sequence[str] | None = None) -> Site:
    """Write the site into `output` (created if needed); returns the index page."""
    output.mkdir(parents=True, exist_ok=True)
    generated = datetime.now(UTC)
    with transaction(url) as cur:
        rows, quality = read_index(cur, symbols)
        with_strategies = has_strategies(cur)
        series = [read_series(cur, r.symbol, with_strategies) for r in rows]
        strategies = read_strategies(cur) if with_strategies else None
    write_plotly_js(output)
    for s in series:
        (output / page_name(s.symbol)).write_text(symbol_html(s, generated), encoding="utf-8")
    strategies_page = None
    if strategies is not None:
        strategies_page = output / STRATEGIES_PAGE
        strategies_page.write_text(strategies_html(strategies, generated), encoding="utf-8")
    index = output / "index.html"
    index.write_text(index_html(rows, quality, generated, strategies is not None), encoding="utf-8")
    known = {r.symbol for r in rows}
    unknown = tuple(dict.fromkeys(s for s in symbols or () if s not in known))
    return Site(index, len(series), unknown, strategies_page)
