"""`python -m bench.golden [--check]`: the golden rows of the dbt singular test, from TA-Lib.

Input: two real daily series of the bundled sample (MSFT's first 260 bars: every warm-up ends
inside it; APTV's whole 44-bar history: the long windows stay null). Expected: what TA-Lib gives
for every registry column on the bars around each warm-up edge and seed, plus the first, 100th,
200th and last bars - one row per symbol, day and indicator, empty where TA-Lib gives NaN.
`--check` exits 1 when the committed seeds differ from what this writes.
"""

from __future__ import annotations

import csv
import io
import sys
from pathlib import Path

import numpy as np

from bench.indicators import registry, talib_indicators

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "data" / "sample" / "daily_bars_sample.csv"
SEEDS = ROOT / "dbt_project" / "seeds" / "golden"
SERIES = {"MSFT": 260, "APTV": None}  # symbol -> how many leading bars (None: all)
FIELDS = ("high", "low", "close", "volume")


def golden_input() -> list[dict[str, str]]:
    with SAMPLE.open(newline="") as fh:
        rows = sorted(csv.DictReader(fh), key=lambda r: (r["symbol"], r["date"]))
    out = []
    for symbol, limit in SERIES.items():
        series = [r for r in rows if r["symbol"] == symbol][:limit]
        out += [
            {"symbol": symbol, "trade_date": r["date"], **{f: r[f] for f in FIELDS}} for r in series
        ]
    return out


def selected_bars(length: int) -> list[int]:
    """1-based bars to compare: each warm-up edge (last null, first value, next) and a few more."""
    bars = {1, 100, 200, length}
    for c in registry():
        bars |= {c.first_bar - 1, c.first_bar, c.first_bar + 1}
    return sorted(b for b in bars if 1 <= b <= length)


def golden_expected(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    out = []
    for symbol in SERIES:
        series = [r for r in rows if r["symbol"] == symbol]
        arrays = {f: np.array([float(r[f]) for r in series]) for f in FIELDS}
        values = talib_indicators(**arrays)
        for bar in selected_bars(len(series)):
            for c in registry():
                v = values[c.name][bar - 1]
                out.append(
                    {
                        "symbol": symbol,
                        "trade_date": series[bar - 1]["trade_date"],
                        "indicator": c.name,
                        "expected_value": "" if np.isnan(v) else repr(float(v)),
                    }
                )
    return out


def _csv(rows: list[dict[str, str]]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def generated() -> dict[Path, str]:
    rows = golden_input()
    return {
        SEEDS / "talib_golden_input.csv": _csv(rows),
        SEEDS / "talib_golden_expected.csv": _csv(golden_expected(rows)),
    }


def main(argv: list[str]) -> int:
    files = generated()
    if "--check" in argv:
        stale = [p for p, text in files.items() if not p.exists() or p.read_text() != text]
        for path in stale:
            print(f"{path}: out of date; run `python -m bench.golden`")
        return 1 if stale else 0
    for path, text in files.items():
        path.write_text(text)
        print(f"wrote {path} ({text.count(chr(10)) - 1} rows)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
