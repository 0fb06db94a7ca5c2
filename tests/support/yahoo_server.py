"""A local stand-in for Yahoo Finance that replays recorded Yahoo responses.

The seam: production code talks to Yahoo through yfinance on an `ingest.yahoo.session
.YahooSession`; `use_endpoint(server.endpoint)` makes that session send `https://<host>/<path>`
to `http://<host>.localhost:<port>/<host>/<path>` instead (`*.localhost` is the loopback
interface; keeping the Yahoo host in the name gives each host its own cookie domain, so yfinance
saves Yahoo's A3 cookie and reuses it as it does in production). Everything else is the real
thing: yfinance builds the requests, fetches its cookie and crumb, retries with its other cookie
strategy on an error status, raises YFRateLimitError on a second 429 and parses the bodies -
bodies this server takes from the recordings in
shared/data/api/yahoo/node-yahoo-finance2_fixtures (real Yahoo answers recorded by
node-yahoo-finance2, `.response.bodyJson`).

What the server does with them, per request (host taken from the first path segment):

- `fc.yahoo.com`: 200 with a cookie; `/v1/test/getcrumb`: 200 with a crumb; the consent pages:
  a page without a form (yfinance then falls back to its basic cookie strategy, as it does when
  Yahoo shows no consent page).
- `/v8/finance/chart/<symbol>` with `period1`/`period2`: the symbol's recording of that
  granularity that overlaps the window most, cut to the bars and events inside [period1, period2)
  - what Yahoo does with a window. No bar inside: the shape of the recorded empty answer
  (`chart-AAPL-2025-02-01-...-interval-1m.json`: meta, `indicators.quote: [{}]`, no timestamps).
  With `range` instead (yfinance's timezone lookup): the last bar of the newest recording.
- 1h bars: there is no recorded 1h chart answer, so for AAPL the server builds one from
  prices/intraday/AAPL_1h_yfinance.csv (real Yahoo 1h bars as yfinance downloaded them) inside
  the meta of the recorded AAPL chart answer, with the regular session of each day as
  `meta.tradingPeriods` (from exchange_calendars' XNYS) - the one constructed data answer.
- `/v10/finance/quoteSummary/<symbol>`: the requested modules, taken from the symbol's recorded
  all-modules answer or from its recorded single-module answers; modules Yahoo had no data for
  are left out, as Yahoo does. None at all: 404 with the recorded 404 body ("No fundamentals data
  found for any of the summaryTypes=...", module list set to the request's).
- `/v7/finance/quote`: the recorded quote answer, or the recorded empty one (APS.AX).
- An hourly window (`1h`/`60m`) that starts more than 730 days ago: 422 with Yahoo's own
  wording (`{"chart":{"result":null,"error":{"code":"Unprocessable Entity","description":"1h
  data not available for startTime=... and endTime=.... The requested range must be within the
  last 730 days."}}}`, as reported in yfinance issues #636 and #919) - Yahoo's real limit.
- An unknown symbol on the chart API: 404 with Yahoo's documented body
  `{"chart":{"result":null,"error":{"code":"Not Found","description":"No data found, symbol may
  be delisted"}}}` - the one error body not taken from a recording (none was recorded); it is the
  body Yahoo is widely reported to send.

Faults (`add_fault`) replace or delay the answer for matching requests: a status (429 answers
"Edge: Too Many Requests", the text Yahoo's edge sends; 5xx a plain error text), a delay longer
than the client's timeout, or the normal body cut in half (malformed JSON). Every request is
logged with its arrival time (`requests`) so tests can count what reached "Yahoo" and when.
"""

from __future__ import annotations

import copy
import csv
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from settings import PROJECT_ROOT

SHARED_DATA = PROJECT_ROOT.parent / "shared" / "data"
RECORDINGS = SHARED_DATA / "api" / "yahoo" / "node-yahoo-finance2_fixtures"
AAPL_1H_CSV = SHARED_DATA / "prices" / "intraday" / "AAPL_1h_yfinance.csv"
EMPTY_CHART = "chart/chart-AAPL-2025-02-01-to-2025-02-02-includePrePost-false-interval-1m.json"
QS_NOT_FOUND = "quoteSummary/quoteSummary-assetProfile-ADH.json"
EMPTY_QUOTE = "quote/quote-APS.AX.json"

CHART_NOT_FOUND = {
    "chart": {
        "result": None,
        "error": {"code": "Not Found", "description": "No data found, symbol may be delisted"},
    }
}
TOO_MANY_REQUESTS = b"Edge: Too Many Requests"
HOURLY_DAYS = 730  # Yahoo serves 1h bars of the last 730 days only


def hourly_out_of_range(interval: str, start: int, end: int | None, now: float) -> dict:
    """Yahoo's 422 answer to an hourly window older than HOURLY_DAYS."""
    description = (
        f"{interval} data not available for startTime={start} and endTime="
        f"{end if end is not None else int(now)}. The requested range must be within the last "
        f"{HOURLY_DAYS} days."
    )
    return {
        "chart": {
            "result": None,
            "error": {"code": "Unprocessable Entity", "description": description},
        }
    }


def recording(name: str) -> dict:
    """A recorded exchange: {request: {url, ...}, response: {status, headers, bodyJson}}."""
    return json.loads((RECORDINGS / name).read_text())


@dataclass
class Recordings:
    charts: dict[str, list[dict]]  # symbol -> chart bodies
    summary_all: dict[str, dict]  # symbol -> modules of the all-modules answer
    summary_module: dict[tuple[str, str], tuple[int, dict]]  # (module, symbol) -> answer
    quotes: dict[str, dict]  # symbol -> quote body
    empty_chart: dict
    summary_not_found: dict
    empty_quote: dict


@lru_cache(maxsize=1)
def load_recordings() -> Recordings:
    charts: dict[str, list[dict]] = {}
    for folder in ("chart", "historical-via-chart"):
        for path in sorted((RECORDINGS / folder).glob("*.json")):
            response = json.loads(path.read_text())["response"]
            if response["status"] != 200:
                continue
            body = response["bodyJson"]
            symbol = body["chart"]["result"][0]["meta"]["symbol"]
            charts.setdefault(symbol, []).append(body)
    summary_all: dict[str, dict] = {}
    summary_module: dict[tuple[str, str], tuple[int, dict]] = {}
    for path in sorted((RECORDINGS / "quoteSummary").glob("quoteSummary-*.json")):
        exchange = json.loads(path.read_text())
        url = urlsplit(exchange["request"]["url"])
        symbol = unquote(url.path.rsplit("/", 1)[1])
        modules = parse_qs(url.query).get("modules", [""])[0].split(",")
        response = exchange["response"]
        if path.name.startswith("quoteSummary-all-") and response["status"] == 200:
            summary_all[symbol] = response["bodyJson"]["quoteSummary"]["result"][0]
        elif len(modules) == 1:
            summary_module[(modules[0], symbol)] = (response["status"], response["bodyJson"])
    quotes: dict[str, dict] = {}
    for path in sorted((RECORDINGS / "quote").glob("quote-*.json")):
        body = json.loads(path.read_text())["response"]["bodyJson"]
        result = body["quoteResponse"]["result"]
        if len(result) == 1:
            quotes[result[0]["symbol"]] = body
    return Recordings(
        charts=charts,
        summary_all=summary_all,
        summary_module=summary_module,
        quotes=quotes,
        empty_chart=recording(EMPTY_CHART)["response"]["bodyJson"],
        summary_not_found=recording(QS_NOT_FOUND)["response"]["bodyJson"],
        empty_quote=recording(EMPTY_QUOTE)["response"]["bodyJson"],
    )


def _meta(body: dict) -> dict:
    return body["chart"]["result"][0]["meta"]


def _timestamps(body: dict) -> list[int]:
    return body["chart"]["result"][0].get("timestamp") or []


def empty_chart(meta: dict) -> dict:
    """The recorded empty answer's shape around the given meta."""
    body = copy.deepcopy(load_recordings().empty_chart)
    body["chart"]["result"][0]["meta"] = copy.deepcopy(meta)
    return body


def cut_chart(body: dict, start: int | None, end: int | None, last: int | None = None) -> dict:
    """The chart answer restricted to bars (and events) in [start, end), or its last bars."""
    stamps = _timestamps(body)
    keep = [
        i
        for i, t in enumerate(stamps)
        if (start is None or t >= start) and (end is None or t < end)
    ]
    if last is not None:
        keep = keep[-last:]
    if not keep:
        return empty_chart(_meta(body))
    out = copy.deepcopy(body)
    result = out["chart"]["result"][0]
    result["timestamp"] = [stamps[i] for i in keep]
    for blocks in result["indicators"].values():
        for series in blocks:
            for name, values in list(series.items()):
                series[name] = [values[i] for i in keep]
    first, after = stamps[keep[0]], stamps[keep[-1]] + 1
    events = {}
    for kind, items in (result.get("events") or {}).items():
        kept = {
            k: v
            for k, v in items.items()
            if (start is None or int(v["date"]) >= start)
            and (end is None or int(v["date"]) < end)
            and (last is None or first <= int(v["date"]) < after)
        }
        if kept:
            events[kind] = kept
    if events:
        result["events"] = events
    else:
        result.pop("events", None)
    return out


def with_null_bars(body: dict, positions: tuple[int, ...]) -> dict:
    """The answer with the values of some bars null, as Yahoo sends bars without data."""
    out = copy.deepcopy(body)
    for blocks in out["chart"]["result"][0].get("indicators", {}).values():
        for series in blocks:
            for values in series.values():
                for i in positions:
                    if i < len(values):
                        values[i] = None
    return out


@lru_cache(maxsize=4)
def _intraday_rows(path: Path) -> tuple[tuple[int, float, float, float, float, int], ...]:
    """(epoch, open, high, low, close, volume) from a yfinance CSV (3-line header)."""
    rows = []
    with path.open() as fh:
        reader = csv.reader(fh)
        header = next(reader)
        next(reader), next(reader)
        col = {name: i for i, name in enumerate(header)}
        for line in reader:
            stamp = int(datetime.fromisoformat(line[0]).timestamp())
            rows.append(
                (
                    stamp,
                    float(line[col["Open"]]),
                    float(line[col["High"]]),
                    float(line[col["Low"]]),
                    float(line[col["Close"]]),
                    int(float(line[col["Volume"]])),
                )
            )
    return tuple(rows)


def _trading_periods(stamps: list[int]) -> list[list[dict]]:
    """Yahoo's meta.tradingPeriods (regular session per day) for the days of the bars."""
    import exchange_calendars as xcals
    import pandas as pd

    days = sorted({datetime.fromtimestamp(t, UTC).date() for t in stamps})
    calendar = xcals.get_calendar("XNYS", start=str(days[0]), end=str(days[-1] + timedelta(days=1)))
    periods = []
    for day in days:
        if not calendar.is_session(str(day)):
            continue
        opens = calendar.session_open(str(day))
        closes = calendar.session_close(str(day))
        local = pd.Timestamp(opens).tz_convert("America/New_York")
        offset = int(local.utcoffset().total_seconds())
        periods.append(
            [
                {
                    "timezone": local.tzname(),
                    "start": int(opens.timestamp()),
                    "end": int(closes.timestamp()),
                    "gmtoffset": offset,
                }
            ]
        )
    return periods


def intraday_chart(
    symbol_body: dict,
    rows: tuple,
    interval: str,
    start: int | None,
    end: int | None,
    last_days: int | None = None,
) -> dict:
    """A 1h chart answer for the rows in [start, end) inside the recorded meta."""
    meta = copy.deepcopy(_meta(symbol_body))
    meta["dataGranularity"] = interval
    meta["range"] = ""
    picked = [r for r in rows if (start is None or r[0] >= start) and (end is None or r[0] < end)]
    if last_days is not None and picked:
        days = sorted({datetime.fromtimestamp(r[0], UTC).date() for r in picked})[-last_days:]
        picked = [r for r in picked if datetime.fromtimestamp(r[0], UTC).date() in days]
    if not picked:
        return empty_chart(meta)
    stamps = [r[0] for r in picked]
    meta["tradingPeriods"] = _trading_periods(stamps)
    quote = {
        "open": [r[1] for r in picked],
        "high": [r[2] for r in picked],
        "low": [r[3] for r in picked],
        "close": [r[4] for r in picked],
        "volume": [r[5] for r in picked],
    }
    return {
        "chart": {
            "result": [{"meta": meta, "timestamp": stamps, "indicators": {"quote": [quote]}}],
            "error": None,
        }
    }


@dataclass
class Fault:
    """Answer matching requests differently (times: how many; None = all of them)."""

    kind: str | None = None
    symbol: str | None = None
    params: dict[str, str] | None = None  # query parameters the request must have
    status: int | None = None
    delay: float = 0.0
    malformed: bool = False
    null_bars: tuple[int, ...] = ()  # chart bars (by position) whose values Yahoo sends as null
    times: int | None = None
    used: int = 0

    def matches(self, seen: Seen) -> bool:
        return (
            (self.kind is None or self.kind == seen.kind)
            and (self.symbol is None or self.symbol == seen.symbol)
            and all(seen.params.get(k) == v for k, v in (self.params or {}).items())
            and (self.times is None or self.used < self.times)
        )


@dataclass
class Seen:
    at: float  # time.monotonic() on arrival
    method: str
    host: str
    path: str
    params: dict[str, str]
    kind: str
    symbol: str | None
    status: int | None = None


@dataclass
class YahooServer:
    """The stand-in; use as a context manager, then `use_endpoint(server.endpoint)`."""

    intraday: dict[str, Path] = field(default_factory=lambda: {"AAPL": AAPL_1H_CSV})
    requests: list[Seen] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None
        self.recordings = load_recordings()

    # lifecycle -------------------------------------------------------------------------------
    def start(self) -> YahooServer:
        handler = _handler_for(self)
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._httpd.daemon_threads = True
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> YahooServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        assert self._httpd is not None, "server not started"
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def endpoint(self) -> str:
        """What to give `use_endpoint`: every Yahoo host under its own *.localhost name."""
        return "http://{host}.localhost:" + str(self._httpd.server_address[1])

    # test helpers ----------------------------------------------------------------------------
    def add_fault(self, **kwargs: object) -> Fault:
        fault = Fault(**kwargs)
        with self._lock:
            self.faults.append(fault)
        return fault

    def clear(self) -> None:
        with self._lock:
            self.requests.clear()
            self.faults.clear()

    def seen(self, kind: str | None = None, symbol: str | None = None) -> list[Seen]:
        with self._lock:
            return [
                r
                for r in self.requests
                if (kind is None or r.kind == kind) and (symbol is None or r.symbol == symbol)
            ]

    def statuses(self, kind: str | None = None, symbol: str | None = None) -> list[int | None]:
        return [r.status for r in self.seen(kind, symbol)]

    def max_in_window(self, seconds: float) -> int:
        """The most requests that arrived within any `seconds`-long window."""
        times = sorted(r.at for r in self.seen())
        best = 0
        j = 0
        for i, t in enumerate(times):
            while times[j] <= t - seconds:
                j += 1
            best = max(best, i - j + 1)
        return best

    # answers ---------------------------------------------------------------------------------
    def answer(self, seen: Seen) -> tuple[int, str, bytes, dict[str, str]]:
        with self._lock:
            fault = next((f for f in self.faults if f.matches(seen)), None)
            if fault is not None:
                fault.used += 1
        if fault is not None and fault.delay:
            time.sleep(fault.delay)
        if fault is not None and fault.status is not None:
            if fault.status == 429:
                return 429, "text/plain", TOO_MANY_REQUESTS, {}
            return fault.status, "text/plain", f"{fault.status} server error".encode(), {}
        status, kind, body, headers = self._normal(seen, fault.null_bars if fault else ())
        if fault is not None and fault.malformed:
            body = body[: len(body) // 2]
        return status, kind, body, headers

    def _normal(
        self, seen: Seen, null_bars: tuple[int, ...] = ()
    ) -> tuple[int, str, bytes, dict[str, str]]:
        if seen.kind == "cookie":
            return 200, "text/html", b"", {"Set-Cookie": "A3=d=local-test; Path=/; Max-Age=3600"}
        if seen.kind == "crumb":
            return 200, "text/plain", b"local-test-crumb", {}
        if seen.kind == "consent":
            return 200, "text/html", b"<html><body>no consent form here</body></html>", {}
        if seen.kind in ("history", "chart-range"):
            status, body = self.chart(seen.symbol or "", seen.params)
            if null_bars and status == 200:
                body = with_null_bars(body, null_bars)
        elif seen.kind == "quoteSummary":
            status, body = self.quote_summary(
                seen.symbol or "", seen.params.get("modules", "").split(",")
            )
        elif seen.kind == "quote":
            status, body = self.quote(seen.params.get("symbols", "").split(","))
        else:
            return 404, "text/plain", b"not recorded", {}
        return status, "application/json;charset=utf-8", json.dumps(body).encode(), {}

    def chart(self, symbol: str, params: dict[str, str]) -> tuple[int, dict]:
        interval = params.get("interval", "1d")
        start = int(params["period1"]) if "period1" in params else None
        end = int(params["period2"]) if "period2" in params else None
        last = None if start is not None else {"1d": 1, "5d": 5}.get(params.get("range"), 1)
        if interval in ("1h", "60m") and start is not None:
            now = time.time()
            if start < now - HOURLY_DAYS * 86400:
                return 422, hourly_out_of_range(interval, start, end, now)
        recorded = self.recordings.charts.get(symbol, [])
        csv_path = self.intraday.get(symbol)
        if not recorded and csv_path is None:
            return 404, CHART_NOT_FOUND
        base = recorded[-1] if recorded else next(iter(self.recordings.charts.values()))[0]
        if interval in ("1h", "60m") and csv_path is not None:
            rows = _intraday_rows(csv_path)
            return 200, intraday_chart(base, rows, interval, start, end, last_days=last)
        same = [b for b in recorded if _meta(b).get("dataGranularity") == interval]
        if not same:
            meta = copy.deepcopy(_meta(base))
            meta["dataGranularity"] = interval
            return 200, empty_chart(meta)
        if start is None:
            newest = max(same, key=lambda b: max(_timestamps(b), default=0))
            return 200, cut_chart(newest, None, None, last=last)
        best = max(
            same,
            key=lambda b: sum(1 for t in _timestamps(b) if t >= start and (end is None or t < end)),
        )
        return 200, cut_chart(best, start, end)

    def quote_summary(self, symbol: str, modules: list[str]) -> tuple[int, dict]:
        everything = self.recordings.summary_all.get(symbol, {})
        found = {}
        for module in modules:
            if module in everything:
                found[module] = everything[module]
                continue
            status, body = self.recordings.summary_module.get((module, symbol), (404, None))
            if status == 200:
                found[module] = body["quoteSummary"]["result"][0][module]
        if found:
            return 200, {"quoteSummary": {"result": [found], "error": None}}
        body = copy.deepcopy(self.recordings.summary_not_found)
        body["quoteSummary"]["error"]["description"] = (
            "No fundamentals data found for any of the summaryTypes=" + ",".join(modules)
        )
        return 404, body

    def quote(self, symbols: list[str]) -> tuple[int, dict]:
        results = [
            r
            for s in symbols
            if s in self.recordings.quotes
            for r in self.recordings.quotes[s]["quoteResponse"]["result"]
        ]
        if not results:
            return 200, copy.deepcopy(self.recordings.empty_quote)
        return 200, {"quoteResponse": {"result": results, "error": None}}


def classify_request(host: str, path: str, params: dict[str, str]) -> tuple[str, str | None]:
    """(kind, symbol) of a request as the server sees it."""
    if host == "fc.yahoo.com":
        return "cookie", None
    if path.endswith("/v1/test/getcrumb"):
        return "crumb", None
    if "consent" in host or "consent" in path:
        return "consent", None
    if path.startswith("/v8/finance/chart/"):
        symbol = unquote(path.rsplit("/", 1)[1]).upper()
        return ("history" if "period1" in params else "chart-range"), symbol
    if path.startswith("/v10/finance/quoteSummary/"):
        return "quoteSummary", unquote(path.rsplit("/", 1)[1]).upper()
    if path.startswith("/v7/finance/quote"):
        return "quote", params.get("symbols")
    return "other", None


def _handler_for(server: YahooServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            parts = urlsplit(self.path)
            _, host, *rest = parts.path.split("/", 2)
            path = "/" + (rest[0] if rest else "")
            params = {k: v[-1] for k, v in parse_qs(parts.query).items()}
            kind, symbol = classify_request(host, path, params)
            seen = Seen(time.monotonic(), self.command, host, path, params, kind, symbol)
            with server._lock:
                server.requests.append(seen)
            try:
                status, content_type, body, headers = server.answer(seen)
            except Exception as exc:  # noqa: BLE001 - a bug in the stand-in shows as a 599
                status, content_type, headers = 599, "text/plain", {}
                body = f"yahoo_server bug: {type(exc).__name__}: {exc}".encode()
            seen.status = status
            try:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (a timeout test)

        do_GET = _serve
        do_POST = _serve

        def log_message(self, *args: object) -> None:
            pass

    return Handler


def serve() -> Iterator[YahooServer]:
    """Generator for a pytest fixture: a started server, stopped afterwards."""
    with YahooServer() as server:
        yield server
