"""A local Polygon.io for tests: recorded real responses served over HTTP on 127.0.0.1.

The bodies come from /work/shared/data/api/polygon/ (see its SOURCES.md):
`client-python_mocks/**` are real API responses recorded by polygon-io/client-python (the file
name encodes path and query: `&` starts/joins the query, `;` stands for `:`), and
`openapi/rest.json` holds the vendor's example bodies. Where no recording exists for a case,
the builders below derive one from a recording - re-dated, re-tickered or emptied - and each
says exactly what it changed. polygon-api-client's RESTClient talks to this server for real
(`base=server.url`): its URL building, pagination and parsing are what the tests exercise.

Resolution of a request: scripted routes first (`server.route(path, *replies, query=...)`, a
queue whose last reply repeats; see `route` for which route wins),
then the recordings (same path, the recording's query items a subset of the request's, most
specific wins), else a 404 shaped like Polygon's. Every request is kept in `server.requests`
with its arrival time, so tests can count requests per time window.
"""

from __future__ import annotations

import csv
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from datetime import time as dtime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, unquote, urlsplit
from zoneinfo import ZoneInfo

from tests.conftest import SHARED_DATA

POLYGON_DATA = SHARED_DATA / "api" / "polygon"
RECORDINGS = POLYGON_DATA / "client-python_mocks"
OPENAPI = POLYGON_DATA / "openapi" / "rest.json"
ALPHAVANTAGE = SHARED_DATA / "prices" / "alphavantage_daily_adjusted"
NEW_YORK = ZoneInfo("America/New_York")

GROUPED_RECORDING = "v2/aggs/grouped/locale/us/market/stocks/2005-04-04&adjusted=true.json"
AAPL_RANGE_RECORDING = "v2/aggs/ticker/AAPL/range/1/day/2005-04-01/2005-04-04.json"


# --- what the server answers --------------------------------------------------------------


@dataclass(frozen=True)
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds to wait before answering (a read timeout on the client)


@dataclass(frozen=True)
class Seen:
    at: float  # time.monotonic() on arrival
    path: str
    query: dict[str, str]
    authorization: str | None
    raw_query: str = ""


Handler = Reply | Callable[[Seen], Reply]


def recorded_bytes(relpath: str) -> bytes:
    return (RECORDINGS / relpath).read_bytes()


def recorded_json(relpath: str) -> dict:
    return json.loads(recorded_bytes(relpath))


def json_reply(obj: object, status: int = 200, headers: dict[str, str] | None = None) -> Reply:
    return Reply(
        status, json.dumps(obj).encode(), {"Content-Type": "application/json", **(headers or {})}
    )


def recorded(relpath: str) -> Reply:
    """A recording, byte for byte."""
    return Reply(200, recorded_bytes(relpath), {"Content-Type": "application/json"})


def error_reply(status: int, message: str, headers: dict[str, str] | None = None) -> Reply:
    """A Polygon error body. No error response is recorded; the shape (`status`, `request_id`,
    `error`/`message`) is the one Polygon documents for its 4xx/5xx answers."""
    kind = {401: "ERROR", 403: "NOT_AUTHORIZED", 404: "NOT_FOUND", 429: "ERROR"}.get(
        status, "ERROR"
    )
    return json_reply(
        {"status": kind, "request_id": "local-test", "error": message}, status, headers
    )


def openapi_example(path: str) -> dict:
    spec = json.loads(OPENAPI.read_text())
    content = spec["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]
    return json.loads(json.dumps(content.get("example") or content["schema"]["example"]))


# --- bodies derived from the recordings ---------------------------------------------------


def ms_at(day: date, hour: int = 0) -> int:
    """Epoch milliseconds of `hour`:00 America/New_York on `day`."""
    return int(datetime.combine(day, dtime(hour), NEW_YORK).timestamp() * 1000)


def grouped_day_body(day: date, tickers: list[str] | None = None) -> dict:
    """A grouped-daily answer for `day`: the bars of the recorded grouped response (GIK) and of
    the vendor's OpenAPI example (KIMpL, TANH, VSAT), verbatim except that `t` is moved to
    16:00 New York time on `day` - the recorded t (1602705600000 = 2020-10-14 20:00Z) is that
    hour - and `adjusted` is false (we ask for unadjusted bars); counts follow the results.
    `tickers` keeps only those."""
    recorded_body = recorded_json(GROUPED_RECORDING)
    results = (
        recorded_body["results"]
        + openapi_example("/v2/aggs/grouped/locale/us/market/stocks/{date}")["results"]
    )
    if tickers is not None:
        results = [r for r in results if r["T"] in tickers]
    for r in results:
        r["t"] = ms_at(day, 16)
    recorded_body.update(
        results=results,
        queryCount=len(results),
        resultsCount=len(results),
        count=len(results),
        adjusted=False,
    )
    return recorded_body


def empty_grouped_body() -> dict:
    """The recorded grouped response with no results (what Polygon answers for a day it has
    no bars for yet): `results` removed, counts 0."""
    body = recorded_json(GROUPED_RECORDING)
    del body["results"]
    body.update(queryCount=0, resultsCount=0, count=0, adjusted=False)
    return body


def aggs_body(ticker: str, results: list[dict], next_url: str | None = None) -> dict:
    """The recorded AAPL range response's envelope around `results` (ticker and counts
    follow; `adjusted` false). An empty `results` is dropped, as Polygon does for a ticker or
    range with no bars."""
    body = recorded_json(AAPL_RANGE_RECORDING)
    body.update(
        ticker=ticker,
        queryCount=len(results),
        resultsCount=len(results),
        count=len(results),
        adjusted=False,
        results=results,
    )
    if not results:
        del body["results"]
    if next_url:
        body["next_url"] = next_url
    return body


def alphavantage_bars(symbol: str, start: date, end: date) -> list[dict]:
    """Real unadjusted daily OHLCV (Alpha Vantage TIME_SERIES_DAILY_ADJUSTED, shared/data) as
    Polygon range bars: o/h/l/c/v as in the file, t = 00:00 New York time of the day (how
    Polygon stamps daily bars); vw and n are not in the source and are left out."""
    path = ALPHAVANTAGE / f"daily_adjusted_{symbol}.csv"
    bars = []
    with path.open(newline="") as fh:
        for row in csv.DictReader(fh):
            day = date.fromisoformat(row["timestamp"])
            if start <= day <= end:
                bars.append(
                    {
                        "v": int(row["volume"]),
                        "o": float(row["open"]),
                        "c": float(row["close"]),
                        "h": float(row["high"]),
                        "l": float(row["low"]),
                        "t": ms_at(day),
                    }
                )
    return sorted(bars, key=lambda b: b["t"])


class AggsFromAlphaVantage:
    """Answers `/v2/aggs/ticker/<SYM>/range/1/day/<from>/<to>` from the Alpha Vantage file,
    `page_size` bars per page with a `next_url` shaped like Polygon's (the next page's `from`
    is the next bar's epoch ms, as in the OpenAPI example)."""

    def __init__(self, symbol: str, page_size: int | None = None, api_key_in_next_url: str = ""):
        self.symbol = symbol
        self.page_size = page_size
        self.api_key_in_next_url = api_key_in_next_url

    def __call__(self, seen: Seen) -> Reply:
        parts = seen.path.split("/")
        lo, hi = parts[-2], parts[-1]
        start = (
            datetime.fromtimestamp(int(lo) / 1000, NEW_YORK).date()
            if lo.isdigit()
            else date.fromisoformat(lo)
        )
        bars = alphavantage_bars(self.symbol, start, date.fromisoformat(hi))
        next_url = None
        if self.page_size and len(bars) > self.page_size:
            nxt = bars[self.page_size]["t"]
            bars = bars[: self.page_size]
            next_url = (
                f"https://api.polygon.io/v2/aggs/ticker/{parts[-6]}/range/1/day/{nxt}/"
                f"{hi}?cursor=bGltaXQ9MiZzb3J0PWFzYw"
            )
            if self.api_key_in_next_url:
                next_url += f"&apiKey={self.api_key_in_next_url}"
        return json_reply(aggs_body(parts[-6], bars, next_url))


def tickers_body(results: list[dict], next_url: str | None = None) -> dict:
    """The recorded ticker-listing envelope (v3/reference/tickers.json) around `results`."""
    body = recorded_json("v3/reference/tickers.json")
    body.update(results=results, count=len(results))
    body.pop("next_url", None)
    if next_url:
        body["next_url"] = next_url
    return body


def delisted_ticker(ticker: str, delisted_utc: str, name: str = "Delisted Example Inc.") -> dict:
    """A delisted listing: the recorded `AA` ticker record with `ticker`, `name` replaced,
    `active` false and `delisted_utc` added (a field of Polygon's Ticker schema, absent from
    the recordings, which list active tickers only)."""
    record = dict(recorded_json("v3/reference/tickers.json")["results"][1])
    record.update(ticker=ticker, name=name, active=False, delisted_utc=delisted_utc)
    return record


def filtered_body(relpath: str, ticker: str) -> dict:
    """A recorded listing (splits, dividends) kept to one ticker, as Polygon's `ticker=`
    filter does."""
    body = recorded_json(relpath)
    body["results"] = [r for r in body["results"] if r.get("ticker") == ticker]
    return body


# --- the server ---------------------------------------------------------------------------


def _recording_index() -> dict[str, list[tuple[dict[str, str], str]]]:
    """path -> [(query items, relpath)] for every recording."""
    index: dict[str, list[tuple[dict[str, str], str]]] = {}
    for file in RECORDINGS.rglob("*.json"):
        rel = file.relative_to(RECORDINGS).as_posix()
        name = rel.removesuffix(".json").replace(";", ":")
        path, _, query = name.partition("&")
        items = dict(parse_qsl(query, keep_blank_values=True)) if query else {}
        index.setdefault("/" + path, []).append((items, rel))
    return index


def _route_score(pattern: str, path: str) -> int:
    if pattern.endswith("*"):
        return 1 if path.startswith(pattern[:-1]) else 0
    return 2 if path == pattern else 0


class PolygonServer:
    """`with PolygonServer(api_key) as server:`; `server.url` is the RESTClient's base."""

    def __init__(self, api_key: str):
        self.api_key = api_key
        self.requests: list[Seen] = []
        self._routes: list[tuple[str, dict[str, str], list[Handler]]] = []
        self._index = _recording_index()
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> PolygonServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def route(self, path: str, *replies: Handler, query: dict[str, str] | None = None) -> None:
        """Answer `path` (with at least these query items) with `replies` in turn; the last
        one repeats. A path ending in `*` is a prefix (an exact path wins over a prefix; then
        the route with more query items; then the latest)."""
        with self._lock:
            self._routes.append((path, dict(query or {}), list(replies)))

    def seen(self, path_prefix: str = "") -> list[Seen]:
        with self._lock:
            return [r for r in self.requests if r.path.startswith(path_prefix)]

    def max_in_window(self, seconds: float, path_prefix: str = "") -> int:
        """The most requests that arrived within any `seconds`-long window."""
        times = sorted(r.at for r in self.seen(path_prefix))
        best, lo = 0, 0
        for hi, t in enumerate(times):
            while t - times[lo] >= seconds:
                lo += 1
            best = max(best, hi - lo + 1)
        return best

    def _answer(self, seen: Seen) -> Reply:
        if seen.authorization != f"Bearer {self.api_key}":
            return error_reply(401, "Unknown API Key")
        with self._lock:
            self.requests.append(seen)
            matches = [
                (_route_score(p, seen.path), len(q), i)
                for i, (p, q, _) in enumerate(self._routes)
                if _route_score(p, seen.path) and q.items() <= seen.query.items()
            ]
            if matches:
                *_, i = max(matches)
                replies = self._routes[i][2]
                handler = replies.pop(0) if len(replies) > 1 else replies[0]
                return handler(seen) if callable(handler) else handler
        candidates = [
            (len(q), rel)
            for q, rel in self._index.get(seen.path, [])
            if q.items() <= seen.query.items()
        ]
        if candidates:
            return recorded(max(candidates)[1])
        return error_reply(404, f"no recording for {seen.path}")

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802 - the http.server API
                parts = urlsplit(self.path)
                seen = Seen(
                    time.monotonic(),
                    unquote(parts.path),
                    dict(parse_qsl(parts.query, keep_blank_values=True)),
                    self.headers.get("Authorization"),
                    parts.query,
                )
                reply = server._answer(seen)
                if reply.delay:
                    time.sleep(reply.delay)
                try:
                    self.send_response(reply.status)
                    for k, v in reply.headers.items():
                        self.send_header(k, v)
                    self.send_header("Content-Length", str(len(reply.body)))
                    self.end_headers()
                    self.wfile.write(reply.body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout test)

            def log_message(self, *args: object) -> None:
                pass

        return Handler


class FilteredListing:
    """Answers a reference listing (splits, dividends) from fixed `results` the way Polygon
    filters them: by `ticker` and by `<date_field>.gte` / `.lte` in the query."""

    def __init__(self, results: list[dict], date_field: str):
        self.results = results
        self.date_field = date_field

    def __call__(self, seen: Seen) -> Reply:
        q = seen.query
        keep = [
            r
            for r in self.results
            if ("ticker" not in q or r.get("ticker") == q["ticker"])
            and r.get(self.date_field, "") >= q.get(f"{self.date_field}.gte", "")
            and r.get(self.date_field, "9999") <= q.get(f"{self.date_field}.lte", "9999")
        ]
        return json_reply({"results": keep, "status": "OK", "request_id": "local-test"})


def openapi_splits() -> FilteredListing:
    """The vendor's example splits (AAPL 4-for-1 on 2020-08-31, 2-for-1 on 2005-02-28)."""
    return FilteredListing(openapi_example("/v3/reference/splits")["results"], "execution_date")


def recorded_listing(relpath: str, date_field: str) -> FilteredListing:
    """A recorded listing (v3/reference/splits.json, dividends.json), filtered per request."""
    return FilteredListing(recorded_json(relpath)["results"], date_field)
