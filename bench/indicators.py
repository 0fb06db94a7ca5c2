"""The indicator registry as TA-Lib (Classic mode) computes it: what the dbt engine must reproduce.

The registry is `vars.indicators` in dbt_project/dbt_project.yml (the dbt side derives its SQL
from the same declaration in macros/indicator_registry.sql). Here each family maps to its TA-Lib
call; the integration tests, the benchmark's Python baseline, the generated YAML column entries
(`python -m bench.columns`) and the golden rows (`python -m bench.golden`) all read this module.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import talib
import yaml
from talib import abstract

DBT_PROJECT = Path(__file__).resolve().parent.parent / "dbt_project" / "dbt_project.yml"

Arrays = dict[str, np.ndarray]  # high, low, close, volume (float64, one symbol, in time order)


@dataclass(frozen=True)
class Column:
    """One output column: its name, TA-Lib call, first non-null bar and description."""

    name: str
    family: str
    talib_call: str
    first_bar: int
    description: str


@dataclass(frozen=True)
class Family:
    """How TA-Lib computes a family: output names and values for one parameter set."""

    names: Callable[[object], tuple[str, ...]]
    compute: Callable[[Arrays, object], tuple[np.ndarray, ...]]
    call: Callable[[object], str]
    describe: Callable[[str, object], str]
    first_bar: Callable[[object], int]


def _lookback(function: str, **params: object) -> int:
    return abstract.Function(function, **params).lookback + 1


def _volatility(a: Arrays) -> np.ndarray:
    close = a["close"]
    out = np.full(len(close), np.nan)
    if len(close) > 1:
        log_returns = np.log(close[1:] / close[:-1])
        # sample sigma of 20 log returns = TA-Lib's population STDDEV * sqrt(20/19)
        out[1:] = talib.STDDEV(log_returns, 20, 1.0) * np.sqrt(20 / 19) * np.sqrt(252)
    return out


def _period(
    function: str,
    inputs: tuple[str, ...],
    text: str,
    outputs: tuple[str, ...] = (),
) -> Family:
    """A family with one period parameter: <family>_<n> (or <output>_<n> per output)."""
    args = ", ".join(inputs)

    def compute(a: Arrays, n: object) -> tuple[np.ndarray, ...]:
        result = getattr(talib, function)(*(a[i] for i in inputs), int(n))  # type: ignore[call-overload]
        return result if isinstance(result, tuple) else (result,)

    return Family(
        names=lambda n: tuple(f"{o}_{n}" for o in outputs) if outputs else (),
        compute=compute,
        call=lambda n: f"{function}({args}, {n})",
        describe=lambda name, n: text.format(n=n, name=name),
        first_bar=lambda n: _lookback(function, timeperiod=int(n)),  # type: ignore[arg-type]
    )


def _fixed(
    names: tuple[str, ...],
    compute: Callable[[Arrays], tuple[np.ndarray, ...]],
    call: str,
    descriptions: tuple[str, ...],
    first_bar: int,
) -> Family:
    return Family(
        names=lambda _: names,
        compute=lambda a, _: compute(a),
        call=lambda _: call,
        describe=lambda name, _: descriptions[names.index(name)],
        first_bar=lambda _: first_bar,
    )


FAMILIES: dict[str, Family] = {
    "sma": _period("SMA", ("close",), "Simple moving average of the last {n} closes."),
    "ema": _period(
        "EMA", ("close",), "EMA {n} of the close, seeded with the first {n} closes' SMA."
    ),
    "macd": _fixed(
        ("macd", "macd_signal", "macd_hist"),
        lambda a: talib.MACD(a["close"], 12, 26, 9),
        "MACD(close, 12, 26, 9)",
        (
            "MACD line: EMA 12 - EMA 26 (the fast EMA seeded on bars 15..26).",
            "Signal line: EMA 9 of the MACD line, seeded with its first 9 values.",
            "macd - macd_signal.",
        ),
        34,
    ),
    "rsi": _period("RSI", ("close",), "RSI {n}, Wilder smoothing; 0 when there was no move."),
    "bbands": _fixed(
        ("bb_upper", "bb_middle", "bb_lower"),
        lambda a: talib.BBANDS(a["close"], 20, 2.0, 2.0, talib.MA_Type.SMA),
        "BBANDS(close, 20, 2, 2)",
        (
            "Upper Bollinger band: SMA 20 + 2 population sigma.",
            "Middle Bollinger band (SMA 20).",
            "Lower Bollinger band: SMA 20 - 2 population sigma.",
        ),
        20,
    ),
    "atr": _period("ATR", ("high", "low", "close"), "Average true range, Wilder smoothing."),
    "obv": _fixed(
        ("obv",),
        lambda a: (talib.OBV(a["close"], a["volume"]),),
        "OBV(close, volume)",
        ("Running signed volume, starting at the first bar's volume.",),
        1,
    ),
    "volatility": _fixed(
        ("volatility_20",),
        lambda a: (_volatility(a),),
        "STDDEV(ln returns, 20) x sqrt(20/19) x sqrt(252)",
        ("Sample standard deviation of the last 20 daily log returns x sqrt(252).",),
        21,
    ),
    "stoch": _fixed(
        ("stoch_slowk", "stoch_slowd"),
        lambda a: talib.STOCH(a["high"], a["low"], a["close"], 14, 3, 0, 3, 0),
        "STOCH(high, low, close, 14, 3, SMA, 3, SMA)",
        (
            "Slow %K: SMA 3 of the fast %K over 14 bars (0 on a bar without range).",
            "Slow %D: SMA 3 of the slow %K.",
        ),
        18,
    ),
    "willr": _period(
        "WILLR", ("high", "low", "close"), "Williams %R over {n} bars (0 on a flat window)."
    ),
    "cci": _period(
        "CCI",
        ("high", "low", "close"),
        "Commodity channel index over {n} bars of the typical price (0 without deviation).",
    ),
    "adx": _period(
        "ADX",
        ("high", "low", "close"),
        "{name}",
        ("adx", "plus_di", "minus_di"),
    ),
    "mfi": _period(
        "MFI",
        ("high", "low", "close", "volume"),
        "Money flow index over {n} bars (0 when the flows sum below 1).",
    ),
    "roc": _period("ROC", ("close",), "Rate of change over {n} bars, in percent."),
    "mom": _period("MOM", ("close",), "Momentum: close - close {n} bars before."),
    "aroon": _period("AROON", ("high", "low"), "{name}", ("aroon_up", "aroon_down")),
    "natr": _period("NATR", ("high", "low", "close"), "ATR {n} / close x 100."),
    "wma": _period("WMA", ("close",), "Linearly weighted moving average of the last {n} closes."),
    "dema": _period("DEMA", ("close",), "Double EMA {n}: 2 EMA - EMA(EMA)."),
    "tema": _period("TEMA", ("close",), "Triple EMA {n}: 3 EMA - 3 EMA(EMA) + EMA(EMA(EMA))."),
    "trix": _period("TRIX", ("close",), "1-bar rate of change of the triple EMA {n}, percent."),
    "kama": _period(
        "KAMA",
        ("close",),
        "Kaufman adaptive MA {n}: an EMA whose factor follows the {n}-bar efficiency ratio.",
    ),
    "ultosc": _fixed(
        ("ultosc",),
        lambda a: (talib.ULTOSC(a["high"], a["low"], a["close"], 7, 14, 28),),
        "ULTOSC(high, low, close, 7, 14, 28)",
        ("Ultimate oscillator over 7, 14 and 28 bars.",),
        29,
    ),
    "sar": _fixed(
        ("sar",),
        lambda a: (talib.SAR(a["high"], a["low"], 0.02, 0.2),),
        "SAR(high, low, 0.02, 0.2)",
        ("Parabolic SAR; the first direction from MINUS_DM of the first two bars.",),
        2,
    ),
    "ad": _fixed(
        ("ad",),
        lambda a: (talib.AD(a["high"], a["low"], a["close"], a["volume"]),),
        "AD(high, low, close, volume)",
        ("Chaikin accumulation/distribution line (0 added on a bar without range).",),
        1,
    ),
    "adosc": _fixed(
        ("adosc",),
        lambda a: (talib.ADOSC(a["high"], a["low"], a["close"], a["volume"], 3, 10),),
        "ADOSC(high, low, close, volume, 3, 10)",
        ("Chaikin oscillator: EMA 3 - EMA 10 of AD, both seeded with the first bar's AD.",),
        10,
    ),
}

# the AROON and ADX outputs come in TA-Lib's order; name them in the registry's order
_OUTPUT_ORDER = {"aroon": (1, 0), "adx": (0, 1, 2)}
_MULTI_DESCRIPTIONS = {
    "adx": "Average directional index {n} (Wilder; seeded with the mean of the first {n} DX).",
    "plus_di": "+DI {n}: Wilder-smoothed +DM / true range x 100.",
    "minus_di": "-DI {n}: Wilder-smoothed -DM / true range x 100.",
    "aroon_up": "Aroon up {n}: 100 x ({n} - bars since the highest high of {m} bars) / {n}.",
    "aroon_down": "Aroon down {n}: 100 x ({n} - bars since the lowest low of {m} bars) / {n}.",
}
_MULTI_FUNCTIONS = {"plus_di": "PLUS_DI", "minus_di": "MINUS_DI"}


def _declared(path: Path = DBT_PROJECT) -> dict[str, object]:
    return yaml.safe_load(path.read_text())["vars"]["indicators"]


def _parameter_sets(declared: object) -> list[object]:
    if declared is True:
        return [None]
    if not declared:
        return []
    return list(declared) if isinstance(declared, list) else [declared]


@cache
def registry() -> tuple[Column, ...]:
    """Every output column the registry declares, in declaration order."""
    columns: list[Column] = []
    for family_name, declared in _declared().items():
        family = FAMILIES[family_name]
        for params in _parameter_sets(declared):
            names = family.names(params) or (f"{family_name}_{params}",)
            for name in names:
                prefix = name.rsplit("_", 1)[0]
                if prefix in _MULTI_DESCRIPTIONS:
                    text = _MULTI_DESCRIPTIONS[prefix].format(n=params, m=int(params) + 1)
                    function = _MULTI_FUNCTIONS.get(prefix, family.call(params).split("(")[0])
                    call = family.call(params).replace(family.call(params).split("(")[0], function)
                    first = _lookback(function, timeperiod=int(params)) if params else 0
                else:
                    text = family.describe(name, params)
                    call = family.call(params)
                    first = family.first_bar(params)
                columns.append(Column(name, family_name, f"talib.{call}", first, text))
    return tuple(columns)


INDICATORS: tuple[str, ...] = tuple(c.name for c in registry())
FAMILY_OF: dict[str, str] = {c.name: c.family for c in registry()}

# Values near zero have no meaningful relative error. MACD and its signal/histogram are
# differences of EMAs and cross zero: they are compared to 1e-12 of the price level. TRIX is a
# percent change of a smooth series (1 ulp of the ratio is 2e-14 points) and the bounded
# oscillators (0..100 or -100..0) come out of TA-Lib's running sums with a residue of ~1e-14
# where the exact value is 0: they are compared to 1e-12 points. ADOSC (a difference of two
# EMAs of AD): 1e-12 of |AD|.
PRICE_SCALED: frozenset[str] = frozenset({"macd", "macd_signal", "macd_hist"})
ABSOLUTE_FAMILIES: frozenset[str] = frozenset(
    {"trix", "rsi", "stoch", "willr", "cci", "adx", "mfi", "aroon", "ultosc"}
)
AD_SCALED: frozenset[str] = frozenset({"adosc"})

RTOL = 1e-9
PRICE_ATOL = 1e-12


def talib_indicators(
    high: np.ndarray, low: np.ndarray, close: np.ndarray, volume: np.ndarray
) -> dict[str, np.ndarray]:
    """Every registry column for one symbol's ordered bars (NaN where TA-Lib gives NaN)."""
    arrays = {"high": high, "low": low, "close": close, "volume": volume}
    out: dict[str, np.ndarray] = {}
    for family_name, declared in _declared().items():
        family = FAMILIES[family_name]
        for params in _parameter_sets(declared):
            values = family.compute(arrays, params)
            names = family.names(params) or (f"{family_name}_{params}",)
            order = _OUTPUT_ORDER.get(family_name, tuple(range(len(names))))
            if family_name == "adx":
                n = int(params)  # type: ignore[call-overload]
                values = (
                    values[0],
                    talib.PLUS_DI(high, low, close, n),
                    talib.MINUS_DI(high, low, close, n),
                )
            for name, index in zip(names, order, strict=True):
                out[name] = values[index]
    return out


def allowed_error(
    column: str, expected: np.ndarray, close: np.ndarray, ad: np.ndarray | None = None
) -> np.ndarray:
    """The tolerance per value: 1e-9 relative, or an absolute floor for columns crossing zero."""
    allowed = RTOL * np.abs(expected)
    family = FAMILY_OF.get(column, column)
    if column in PRICE_SCALED:
        allowed = np.maximum(allowed, PRICE_ATOL * np.abs(close))
    elif family in ABSOLUTE_FAMILIES:
        allowed = np.maximum(allowed, PRICE_ATOL)
    elif column in AD_SCALED and ad is not None:
        allowed = np.maximum(allowed, PRICE_ATOL * np.abs(ad))
    return allowed


def allowed_error_sql(column: str, alias: str) -> str:
    """allowed_error as SQL over a row `alias` holding the reference values (and close, ad)."""
    allowed = f"{RTOL!r} * abs({alias}.{column})"
    if column in PRICE_SCALED:
        return f"greatest({allowed}, {PRICE_ATOL!r} * abs({alias}.close))"
    if FAMILY_OF.get(column) in ABSOLUTE_FAMILIES:
        return f"greatest({allowed}, {PRICE_ATOL!r})"
    if column in AD_SCALED and "ad" in INDICATORS:
        return f"greatest({allowed}, {PRICE_ATOL!r} * abs({alias}.ad))"
    return allowed


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
