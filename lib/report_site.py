"""The report site: static pages a trader would look at, read from the marts with SQL only.

`write_site` writes `index.html` (one row per symbol: last close, change, RSI, distance to the
SMA 200, the day's signals, open data-quality findings) and one page per symbol with stacked,
date-aligned, zoomable panels (candlesticks + SMA 20/50/200 + Bollinger bands, volume, RSI 14,
MACD, signal markers). Every number comes from marts.* as stored; nothing is computed here.
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


@dataclass
class SymbolSeries:
    symbol: str
    columns: dict[str, list] = field(default_factory=dict)
    signals: list[Signal] = field(default_factory=list)


@dataclass(frozen=True)
class Site:
    index: Path
    pages: int

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


def read_series(cur, symbol: str) -> SymbolSeries:
    cur.execute(SERIES_SQL, {"symbol": symbol})
    rows = cur.fetchall()
    series = SymbolSeries(symbol)
    for i, column in enumerate(cur.description):
        series.columns[column.name] = [_plain(row[i]) for row in rows]
    cur.execute(SIGNALS_SQL, {"symbol": symbol})
    series.signals = [Signal(d, s, direction, _float(c)) for d, s, direction, c in cur.fetchall()]
    return series


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


def index_html(rows: list[IndexRow], quality: dict | None, generated: datetime) -> str:
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
    body = (
        "<h1>Market data warehouse</h1>"
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
        f"{len(series.signals)} signals. Drag to zoom, double-click to reset; all panels share "
        f"the date axis. Generated {generated:%Y-%m-%d %H:%M} UTC.</p>{chart}"
    )
    return _page(
        f"{series.symbol} - market data warehouse", body, f"<script src='{PLOTLY_JS}'></script>"
    )


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
        series = [read_series(cur, r.symbol) for r in rows]
    write_plotly_js(output)
    for s in series:
        (output / page_name(s.symbol)).write_text(symbol_html(s, generated), encoding="utf-8")
    index = output / "index.html"
    index.write_text(index_html(rows, quality, generated), encoding="utf-8")
    return Site(index, len(series))
