"""The indicator registry as TA-Lib (Classic mode) computes it: what the dbt engine must reproduce.

The registry is `vars.indicators` in dbt_project/dbt_project.yml; each family declares its
columns, their TA-Lib call, first bar and tolerance in its own file
(dbt_project/macros/indicators/<family>.sql). `python -m bench.columns` renders those
declarations to dbt_project/seeds/golden/talib_golden_columns.csv (the catalogue), and the dbt
test `assert_indicator_catalog_is_current` fails when it is stale. Everything here reads the
catalogue: the integration tests, the benchmark's Python baseline, the generated YAML column
entries and docs (`python -m bench.columns`) and the golden rows (`python -m bench.golden`).
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import talib
from talib import abstract

CATALOG = (
    Path(__file__).resolve().parent.parent
    / "dbt_project"
    / "seeds"
    / "golden"
    / "talib_golden_columns.csv"
)
# open, high, low, close, volume (float64, one symbol, in time order)
Arrays = dict[str, np.ndarray]


@dataclass(frozen=True)
class Column:
    """One output column as its family declares it."""

    name: str
    family: str
    first_bar: int
    talib: dict[str, Any]  # function, inputs, parameters, and output / scale when given
    relative_tolerance: float
    absolute_tolerance: float
    tolerance_scale: str  # '' (points), 'close' or 'ad': what the absolute tolerance is times
    description: str
    notes: str
    checks: tuple[str, ...]  # its family's range checks (SQL), given with its first column
    arguments: dict[str, str]  # its family macro's arguments (name: description), likewise

    @property
    def talib_call(self) -> str:
        """The TA-Lib call as text, e.g. `talib.RSI(close, timeperiod=14)`."""
        args = [*self.talib["inputs"], *(f"{k}={v}" for k, v in self.talib["parameters"].items())]
        output = f"[{self.talib['output']}]" if "output" in self.talib else ""
        scale = f" x {self.talib['scale']:.6g}" if "scale" in self.talib else ""
        return f"talib.{self.talib['function']}({', '.join(args)}){output}{scale}"


def read_catalog(path: Path = CATALOG) -> tuple[Column, ...]:
    with path.open(newline="") as fh:
        return tuple(
            Column(
                name=row["column_name"],
                family=row["family"],
                first_bar=int(row["first_bar"]),
                talib=json.loads(row["talib"]),
                relative_tolerance=float(row["relative_tolerance"]),
                absolute_tolerance=float(row["absolute_tolerance"]),
                tolerance_scale=row["tolerance_scale"],
                description=row["description"],
                notes=row["notes"],
                checks=tuple(json.loads(row["checks"])),
                arguments=json.loads(row["arguments"]),
            )
            for row in csv.DictReader(fh)
        )


@cache
def registry() -> tuple[Column, ...]:
    """Every output column the registry declares, in declaration order."""
    return read_catalog()


INDICATORS: tuple[str, ...] = tuple(c.name for c in registry())
COLUMNS: dict[str, Column] = {c.name: c for c in registry()}


@cache
def _output_index(function: str, output: str | None) -> int | None:
    names = abstract.Function(function).output_names
    if len(names) == 1:
        return None
    return names.index(output)


def _log_returns(close: np.ndarray) -> np.ndarray:
    """ln(close / previous close), from the second bar on (no NaN ahead for TA-Lib's sums)."""
    return np.log(close[1:] / close[:-1])


def reference(column: Column, arrays: Arrays) -> np.ndarray:
    """What TA-Lib gives for one column of one symbol's ordered bars (NaN where TA-Lib does)."""
    spec = column.talib
    function = getattr(talib, spec["function"])
    shifted = spec["inputs"] == ["log_return"]  # the one input TA-Lib does not take as is
    inputs = [_log_returns(arrays["close"])] if shifted else [arrays[i] for i in spec["inputs"]]
    out = np.full(len(arrays["close"]), np.nan)
    if shifted and len(arrays["close"]) < 2:
        return out
    result = function(*inputs, **spec["parameters"])
    index = _output_index(spec["function"], spec.get("output"))
    values = result if index is None else result[index]
    values = values * spec["scale"] if "scale" in spec else values
    out[len(out) - len(values) :] = values
    return out


def talib_indicators(
    high: np.ndarray,
    low: np.ndarray,
    close: np.ndarray,
    volume: np.ndarray,
    open: np.ndarray | None = None,  # noqa: A002 - TA-Lib's name for the input
) -> dict[str, np.ndarray]:
    """Every registry column for one symbol's ordered bars (NaN where TA-Lib gives NaN)."""
    arrays = {"high": high, "low": low, "close": close, "volume": volume}
    if open is not None:
        arrays["open"] = open
    return {c.name: reference(c, arrays) for c in registry()}


def allowed_error(
    column: str, expected: np.ndarray, close: np.ndarray, ad: np.ndarray | None = None
) -> np.ndarray:
    """The tolerance per value (the family's: dbt's indicator_tolerances())."""
    c = COLUMNS[column]
    scale = {"": 1.0, "close": close, "ad": ad}[c.tolerance_scale]
    if scale is None:  # the AD line was not given: the relative tolerance alone
        scale = 0.0
    return np.maximum(c.relative_tolerance * np.abs(expected), c.absolute_tolerance * np.abs(scale))


def allowed_error_sql(column: str, alias: str) -> str:
    """allowed_error as SQL over a row `alias` holding the reference values (and close, ad)."""
    c = COLUMNS[column]
    allowed = f"{c.relative_tolerance!r} * abs({alias}.{column})"
    if not c.absolute_tolerance:
        return allowed
    scale = f" * abs({alias}.{c.tolerance_scale})" if c.tolerance_scale else ""
    return f"greatest({allowed}, {c.absolute_tolerance!r}{scale})"


def mismatches(
    column: str,
    got: np.ndarray,
    expected: np.ndarray,
    close: np.ndarray,
    ad: np.ndarray | None = None,
) -> int:
    """How many values differ: null where the other is not, or beyond the tolerance."""
    got_nan, expected_nan = np.isnan(got), np.isnan(expected)
    both = ~got_nan & ~expected_nan
    error = np.abs(got[both] - expected[both])
    allowed = allowed_error(column, expected[both], close[both], None if ad is None else ad[both])
    return int((got_nan != expected_nan).sum() + (error > allowed).sum())
