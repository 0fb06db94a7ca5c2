"""The benchmark's pure reporting: figures from measurements, the JSON and the markdown."""

from __future__ import annotations

import json

import pytest

from bench import report

SECONDS = {
    "landing_copy": 1.0,
    "landing_upsert": 1.0,
    "landing_ingest_file": 1.25,
    "dbt_full_1x": 4.0,
    "python_full_1x": 5.0,
    "dbt_increment": 0.1,
    "seed_style_increment": 3.0,
    "dbt_full_10x": 42.0,
}
ROWS = {"landing_file": 1000, "symbols": 3, "file_rows": 1003}
MACHINE = {
    "cpu": "Test CPU",
    "cores": 2,
    "memory_gib": 8.0,
    "postgresql": "18.6",
    "python": "3.11.7",
    "date": "2026-11-22T06:00:00+00:00",
    "load_average_1m_at_start": 0.5,
}


def result(seconds=SECONDS, checks=None):
    return report.build_result(
        seconds=seconds,
        rows=ROWS,
        machine=MACHINE,
        dbt_nodes={"dbt_full_1x": [{"name": "int_x", "status": "success", "seconds": 3.5}]},
        checks=checks if checks is not None else [{"name": "counts", "ok": True, "detail": "1"}],
        notes=["a note"],
        options={"data": "f.csv"},
    )


def test_each_figure_is_a_ratio_of_two_measurements_of_the_run():
    figures = report.figures(SECONDS, ROWS)
    assert figures["full_build_ratio"] == pytest.approx(0.8)
    assert figures["increment_vs_full"] == pytest.approx(0.025)
    assert figures["increment_speedup_vs_seed_style"] == pytest.approx(30.0)
    assert figures["landing_vs_upsert"] == pytest.approx(0.8)  # same rows: lean s / landing s
    assert report.context(SECONDS)["landing_vs_copy"] == pytest.approx(0.8)  # no goal
    assert figures["scale_10x_ratio"] == pytest.approx(10.5)


def test_context_figures_say_where_the_goals_stand():
    seconds = {**SECONDS, "seed_style_pandas": 6.0, "dbt_increment_noop": 0.08}
    ctx = report.context(seconds)
    assert ctx["increment_speedup_vs_seed_style_pandas"] == pytest.approx(60.0)
    assert ctx["increment_noop_share"] == pytest.approx(0.8)
    assert ctx["python_full_write_share"] is None
    text = report.to_markdown(result(seconds=seconds))
    assert "- `increment_speedup_vs_seed_style_pandas` = 60.0: seed style as usually" in text
    assert "python_full_write_share" not in text


def test_a_figure_not_measured_is_none_not_an_error():
    figures = report.figures({"dbt_full_1x": 4.0}, {})
    assert all(v is None for v in figures.values())
    assert report.ratio(1.0, 0.0) is None


@pytest.mark.parametrize(
    ("key", "value", "met"),
    [
        ("full_build_ratio", 1.0, True),
        ("full_build_ratio", 1.01, False),
        ("increment_speedup_vs_seed_style", 20.0, True),
        ("increment_speedup_vs_seed_style", 19.9, False),
        ("landing_vs_upsert", 0.59, False),
        ("scale_10x_ratio", None, None),
    ],
)
def test_goals_have_a_direction(key, value, met):
    assert report.GOALS[key].met(value) is met


def test_the_cores_speedup_goal_scales_with_the_machines_cores():
    goal = report.GOALS["full_build_cores_speedup"]
    assert goal.met(1.6, cores=2) is True and goal.met(1.59, cores=2) is False
    assert goal.met(1.6, cores=16) is False  # 0.8 x 16 = 12.8
    doc = result(seconds={**SECONDS, "engine_full_1x": 4.0, "engine_full_1x_one_statement": 7.0})
    assert doc["full_build_cores_speedup"] == pytest.approx(1.75)
    assert (
        doc["goals"]["full_build_cores_speedup"] == ">= 1.6"
        and doc["met"]["full_build_cores_speedup"]
    )
    assert "| >= 1.6 | yes | one statement 7.00 s / split 4.00 s |" in report.to_markdown(doc)


def test_the_json_has_the_figures_at_the_top_and_what_they_came_from():
    doc = json.loads(report.to_json(result()))
    for key in (
        "full_build_ratio",
        "increment_vs_full",
        "increment_speedup_vs_seed_style",
        "landing_vs_upsert",
        "scale_10x_ratio",
    ):
        assert key in doc
    assert "landing_vs_copy" in doc["context"]
    assert doc["seconds"]["dbt_full_1x"] == 4.0
    assert doc["machine"]["cpu"] == "Test CPU"
    assert doc["met"]["full_build_ratio"] is True
    assert doc["verified"] is True


def test_a_failed_check_marks_the_result_unverified():
    doc = result(checks=[{"name": "x", "ok": False, "detail": "differences: sma_20 3"}])
    assert doc["verified"] is False
    assert "**FAILED**: x" in report.to_markdown(doc)


def test_markdown_table_machine_line_and_node_timings():
    text = report.to_markdown(result(seconds={**SECONDS, "dbt_full_10x": 50.0}))
    assert (
        "| `full_build_ratio`: Full build: dbt / Python (TA-Lib + binary COPY) | 0.800 "
        "| <= 1 | yes | dbt 4.00 s / Python 5.00 s |" in text
    )
    assert "| `scale_10x_ratio`" in text and "12.5 | <= 11 | **no**" in text
    assert "1,000 rows/s (1.25 s) / 1,000 rows/s (1.00 s)" not in text
    assert "800 rows/s (1.25 s) / 1,000 rows/s (1.00 s)" in text
    assert (
        "Machine: Test CPU, 2 cores, 8.0 GiB RAM, PostgreSQL 18.6, Python 3.11.7, "
        "2026-11-22T06:00:00+00:00"
    ) in text
    assert "| int_x | success | 3.500 |" in text


def test_markdown_of_a_partial_run_says_not_measured():
    text = report.to_markdown(result(seconds={"landing_copy": 1.0}))
    assert "| n/a | <= 0.05 | - | not measured |" in text


def test_slowest_statements_are_listed_without_breaking_the_table():
    doc = {
        **result(),
        "slowest_statements": {
            "dbt_full_1x": [
                {"seconds": 9.5, "statement": "[int_x] create table t as select a || b"}
            ]
        },
    }
    text = report.to_markdown(doc)
    assert "| dbt_full_1x | 9.500 | `[int_x] create table t as select a \\|\\| b` |" in text


def test_the_issue_9_figures_are_ratios_of_their_two_measurements():
    from bench.report import figures

    seconds = {
        "dbt_full_1x": 10.0,
        "peer_sql_total": 400.0,
        "peer_frames_numeric": 5.0,
        "dbt_increment_10x": 3.0,
        "dbt_full_10x": 100.0,
        "seed_style_increment_10x": 6.0,
        "dbt_increment_noop": 1.0,
        "dbt_floor": 0.8,
        "signals_many_symbols": 2.0,
        "engine_many_symbols": 50.0,
    }
    got = figures(seconds, {})
    assert got["peer_sql_ratio"] == 10.0 / 400.0
    assert got["peer_frames_ratio"] == 2.0
    assert got["increment_vs_full_10x"] == 0.03
    assert got["increment_speedup_vs_seed_style_10x"] == 2.0
    assert got["increment_noop_vs_dbt_floor"] == 1.25
    assert got["signals_vs_engine_many_symbols"] == 0.04
    assert got["full_build_ratio"] is None  # not measured
