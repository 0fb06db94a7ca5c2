"""`python -m bench.columns [--check]`: the files generated from the indicator registry.

First the catalogue (dbt_project/seeds/golden/talib_golden_columns.csv): the families'
declarations (dbt_project/macros/indicators/) rendered by dbt itself (`dbt compile --inline`, no
database needed), one row per output column. Then, from the catalogue, the column entries of
int_daily_indicators_computed, fct_daily_indicators and fct_hourly_indicators (one doc block per
registry column, shared by the three models, and its warm-up test). `--check` only compares the
files made from the catalogue and exits 1 when one is out of date (the unit test
tests/unit/test_indicator_registry.py does the same; the dbt test
assert_indicator_catalog_is_current checks the catalogue against the declarations).
"""

from __future__ import annotations

import csv
import io
import json
import sys
import tempfile
from contextlib import redirect_stdout
from pathlib import Path

from bench.indicators import CATALOG, Column, read_catalog, registry

DBT_PROJECT = Path(__file__).resolve().parent.parent / "dbt_project"
MODELS = DBT_PROJECT / "models"
CATALOG_FIELDS = (
    "column_name",
    "family",
    "first_bar",
    "talib",
    "relative_tolerance",
    "absolute_tolerance",
    "tolerance_scale",
    "description",
    "notes",
)
HEADER = "# Generated from the indicator registry by `python -m bench.columns`: do not edit.\n"


def _doc_name(column: Column) -> str:
    return f"indicator_{column.name}"


def docs() -> str:
    blocks = [HEADER.replace("# ", "{# ", 1).rstrip("\n") + " #}\n"]
    for c in registry():
        blocks.append(
            f"{{% docs {_doc_name(c)} %}}\n`{c.talib_call}`: {c.description} "
            f"Null before bar {c.first_bar}.\n{{% enddocs %}}\n"
        )
    return "\n".join(blocks)


def _key_columns(entries: list[tuple[str, str]]) -> list[str]:
    lines = []
    for name, description in entries:
        lines += [
            f"      - name: {name}",
            f"        description: {description}",
            "        data_tests: [not_null]",
        ]
    return lines


def _indicator_columns(with_tests: bool) -> list[str]:
    lines = []
    for c in registry():
        lines += [
            f"      - name: {c.name}",
            f"        description: '{{{{ doc(\"{_doc_name(c)}\") }}}}'",
        ]
        if with_tests:
            lines += [
                "        data_tests:",
                f"          - null_only_in_warm_up: {{arguments: {{first_bar: {c.first_bar}}}}}",
            ]
    return lines


def _names() -> set[str]:
    return {c.name for c in registry()}


def _expressions(*candidates: str) -> list[str]:
    """Range checks whose columns are all in the registry."""
    lines = []
    for expression, needs in candidates:
        if set(needs) <= _names():
            lines += [
                "      - expression_is_true:",
                "          arguments:",
                f'            expression: "{expression}"',
            ]
    return lines


# range checks of the bounded oscillators, with 1e-9 of slack for rounding at the bounds
CHECKS = (
    ("rsi_14 between 0 and 100", ("rsi_14",)),
    ("bb_lower <= bb_middle and bb_middle <= bb_upper", ("bb_lower", "bb_middle", "bb_upper")),
    ("volatility_20 >= 0 and atr_14 >= 0", ("volatility_20", "atr_14")),
    (
        "stoch_slowk between -1e-9 and 100 + 1e-9 and stoch_slowd between -1e-9 and 100 + 1e-9",
        ("stoch_slowk", "stoch_slowd"),
    ),
    ("willr_14 between -100 - 1e-9 and 1e-9", ("willr_14",)),
    (
        "mfi_14 between -1e-9 and 100 + 1e-9 and ultosc between -1e-9 and 100 + 1e-9",
        ("mfi_14", "ultosc"),
    ),
    (
        "aroon_up_25 between 0 and 100 and aroon_down_25 between 0 and 100",
        ("aroon_up_25", "aroon_down_25"),
    ),
    (
        "adx_14 between -1e-9 and 100 + 1e-9 and plus_di_14 >= 0 and minus_di_14 >= 0",
        ("adx_14", "plus_di_14", "minus_di_14"),
    ),
)


def intermediate() -> str:
    lines = [
        HEADER.rstrip("\n"),
        "version: 2",
        "",
        "models:",
        "  - name: int_daily_indicators_computed",
        "    description: >",
        "      The indicator engine for daily bars (macros/technical_indicators.sql, driven by the",
        "      registry `vars.indicators`) on the split-adjusted series: the indicators of",
        "      marts.fct_daily_indicators, the bar's high, low and volume (look-back rows of an",
        "      incremental run read them), and the state an incremental run carries (running sums,",
        "      and per recursive average state_<q>_prefix / state_<q>_anchor). Incremental and",
        "      bit-identical to a full refresh.",
        "    columns:",
        *_key_columns(
            [
                ("symbol", "Ticker."),
                ("trade_date", "Trading day."),
                ("bar_number", "1-based position of the bar in the symbol's series."),
                ("close", "Split-adjusted close the indicators are computed on."),
            ]
        ),
        *_indicator_columns(with_tests=False),
        "      - name: high",
        "        description: Split-adjusted high (read back by incremental runs).",
        "      - name: low",
        "        description: Split-adjusted low (read back by incremental runs).",
        "      - name: volume",
        "        description: Split-adjusted volume (read back by incremental runs).",
        "      - name: source_loaded_at",
        "        description: Incremental watermark, from int_daily_bars_adjusted.",
        "    data_tests:",
        "      - unique_combination_of_columns:",
        "          arguments:",
        "            combination_of_columns: [symbol, trade_date]",
    ]
    return "\n".join(lines) + "\n"


def marts() -> str:
    lines = [
        HEADER.rstrip("\n"),
        "version: 2",
        "",
        "models:",
        "  - name: fct_daily_indicators",
        "    description: >",
        "      Technical indicators per symbol and trading day, as TA-Lib (Classic mode)",
        "      computes them on the symbol's split-adjusted series from its first landed bar",
        "      (the registry `vars.indicators` in dbt_project.yml declares them). Null exactly",
        "      where TA-Lib gives NaN (the warm-up rows: see `bar_number`).",
        "    columns:",
        *_key_columns(
            [
                ("symbol", "Ticker."),
                ("trade_date", "Trading day."),
                (
                    "bar_number",
                    "1-based position of the bar in the symbol's series (warm-up rows first).",
                ),
                ("close", "Split-adjusted close the indicators are computed on."),
            ]
        ),
        *_indicator_columns(with_tests=True),
        "    data_tests:",
        "      - unique_combination_of_columns:",
        "          arguments:",
        "            combination_of_columns: [symbol, trade_date]",
        *_expressions(*CHECKS),
        "",
        "  - name: fct_hourly_indicators",
        "    description: >",
        "      The daily indicator set on Yahoo's hourly bars (split-adjusted), periods counted in",
        "      bars (SMA 20 = the last 20 hourly bars), as TA-Lib computes them from each symbol's",
        "      first landed hourly bar. volatility_20 keeps the daily sqrt(252) factor.",
        "    columns:",
        *_key_columns(
            [
                ("symbol", "Ticker."),
                ("bar_start", "The hourly bar's opening instant (UTC)."),
                ("trade_date", "The exchange-local trading day of the bar."),
                ("bar_number", "1-based position of the bar in the symbol's hourly series."),
                ("close", "Split-adjusted hourly close."),
            ]
        ),
        *_indicator_columns(with_tests=True),
        "    data_tests:",
        "      - unique_combination_of_columns:",
        "          arguments:",
        "            combination_of_columns: [symbol, bar_start]",
        *_expressions(*CHECKS[:2]),
    ]
    return "\n".join(lines) + "\n"


def rendered_catalog() -> str:
    """The catalogue as the declarations give it: `indicator_catalog()` rendered by dbt."""
    from dbt.cli.main import dbtRunner

    shown = io.StringIO()  # compile --inline prints what it rendered: not ours to show
    with tempfile.TemporaryDirectory(prefix="mdw-catalog-") as scratch, redirect_stdout(shown):
        result = dbtRunner().invoke(
            [
                "compile",
                "--inline",
                "{{ tojson(indicator_catalog()) }}",
                "--no-populate-cache",
                "--project-dir",
                str(DBT_PROJECT),
                "--profiles-dir",
                str(DBT_PROJECT.parent),
                "--target-path",
                f"{scratch}/target",
                "--log-path",
                f"{scratch}/logs",
                "--quiet",
            ]
        )
    if not result.success:
        raise RuntimeError(f"dbt could not render the indicator catalogue: {result.exception}")
    rows = json.loads(result.result.results[0].node.compiled_code)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CATALOG_FIELDS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: "" if row[k] is None else str(row[k]) for k in CATALOG_FIELDS})
    return buffer.getvalue()


def generated() -> dict[Path, str]:
    """Every generated file and the content it must have."""
    return {
        MODELS / "_indicator_columns.md": docs(),
        MODELS / "intermediate" / "_int_daily_indicators_computed.yml": intermediate(),
        MODELS / "marts" / "_indicators__models.yml": marts(),
    }


def stale() -> list[Path]:
    return [p for p, text in generated().items() if not p.exists() or p.read_text() != text]


def main(argv: list[str]) -> int:
    if "--check" in argv:
        out_of_date = stale()
        for path in out_of_date:
            print(f"{path}: out of date with vars.indicators; run `python -m bench.columns`")
        return 1 if out_of_date else 0
    CATALOG.write_text(rendered_catalog())
    print(f"wrote {CATALOG} ({len(read_catalog())} columns)")
    registry.cache_clear()
    for path, text in generated().items():
        path.write_text(text)
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
