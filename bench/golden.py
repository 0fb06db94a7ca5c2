"""`python -m bench.golden [--check]`: the golden rows of the dbt singular test, from TA-Lib.

Input: two real daily series of the bundled sample (MSFT's first 260 bars: every warm-up ends
inside it; APTV's whole 44-bar history: the long windows stay null). Expected: what TA-Lib gives
for every registry column on the bars around each warm-up edge and seed, plus the first, 100th,
200th and last bars - one row per symbol, day and indicator, empty where TA-Lib gives NaN.
`--check` exits 1 when the committed seeds differ from what this writes: the keys (symbol, day,
indicator) and every input field exactly, TA-Lib's values within 1e-12 relative (numpy's
vectorised log and standard deviation differ in the last digits from one CPU to another, so the
generated text may too; the exactness tests carry the real tolerance).
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
VALUE = "expected_value"  # the one generated number; every other field is a key or input
VALUE_RTOL = 1e-12


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


def _close(a: str, b: str, rtol: float) -> bool:
    if a == "" or b == "":
        return a == b
    x, y = float(a), float(b)
    return abs(x - y) <= rtol * max(abs(x), abs(y))


def same_rows(committed: str, generated_text: str, rtol: float = VALUE_RTOL) -> bool:
    """Same header, rows and keys; the generated values within `rtol` relative."""
    left = list(csv.DictReader(io.StringIO(committed)))
    right = list(csv.DictReader(io.StringIO(generated_text)))
    if committed.split("\n", 1)[0] != generated_text.split("\n", 1)[0] or len(left) != len(right):
        return False
    for a, b in zip(left, right, strict=True):
        if {k: v for k, v in a.items() if k != VALUE} != {k: v for k, v in b.items() if k != VALUE}:
            return False
        if not _close(a.get(VALUE, ""), b.get(VALUE, ""), rtol):
            return False
    return True


def stale() -> list[Path]:
    """The committed seeds that differ from what this writes (values within VALUE_RTOL)."""
    return [
        path
        for path, text in generated().items()
        if not path.exists() or not same_rows(path.read_text(), text)
    ]


def main(argv: list[str]) -> int:
    if "--check" in argv:
        out_of_date = stale()
        for path in out_of_date:
            print(f"{path}: out of date; run `python -m bench.golden`")
        return 1 if out_of_date else 0
    for path, text in generated().items():
        path.write_text(text)
        print(f"wrote {path} ({text.count(chr(10)) - 1} rows)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
