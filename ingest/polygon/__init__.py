"""Polygon.io landing: daily grouped bars, per-symbol backfills and reference data.

Small modules, I/O at the edges:

- `http`: the request budget (a limiter passed in) and retries (ingest.retry) around
  polygon-api-client's urllib3 pool, typed errors, key scrubbing.
- `client`: builds a `polygon.RESTClient` wired to the above (key and limiter passed in).
- `calendar`: XNYS sessions (exchange_calendars), watermark and window planning (pure).
- `bars`: Polygon aggregates -> canonical bar rows (pure).
- `symbols`: which symbols a run fetches (pure; the same module name as Yahoo's).
- `runs`: raw.load_runs reads/writes and the other SQL of this source.
- `daily`, `backfill`, `reference`: one unit of work each (a day, a symbol's windows, a
  listing or a symbol's corporate actions), recorded in raw.load_runs, never raising for a
  vendor failure.
- `report`: rows of the runs' Prefect table artifacts (pure).
"""

SOURCE = "polygon"
