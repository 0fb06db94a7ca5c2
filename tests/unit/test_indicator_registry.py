"""The registry (vars.indicators) drives the generated dbt YAML and the golden rows: both must be
regenerated when it changes (python -m bench.columns, python -m bench.golden)."""

from __future__ import annotations

from bench import columns, golden
from bench.indicators import INDICATORS, registry


def test_generated_yaml_and_docs_match_the_registry():
    assert columns.stale() == [], "run `python -m bench.columns`"


def test_golden_rows_match_the_registry_and_talib():
    stale = [p for p, text in golden.generated().items() if p.read_text() != text]
    assert stale == [], "run `python -m bench.golden`"


def test_every_declared_column_has_a_talib_call_and_a_first_bar():
    assert len(INDICATORS) == len(set(INDICATORS)) >= 39
    for column in registry():
        assert column.talib_call.startswith("talib.") and column.first_bar >= 1
    assert {c.name: c.first_bar for c in registry()}["adx_14"] == 28


def test_golden_rows_cover_every_warm_up_edge():
    bars = golden.selected_bars(260)
    for column in registry():
        assert {column.first_bar - 1, column.first_bar} <= set(bars) | {0}
