"""The validation flow's summary and failure message (pure functions over what the mart holds)."""

from __future__ import annotations

from datetime import date

from flows.tasks import ValidationSummary
from flows.validate import QualityFindings, failure_message, findings_markdown

ERROR = ("price_jump", "LNT", None, date(2016, 5, 19), date(2016, 5, 19), "bad print: ...")
GAP = ("missing_sessions", "ZZZ", "files", date(2017, 1, 3), date(2017, 1, 5), "3 session(s)")
FINDINGS = QualityFindings(
    counts=[
        ("missing_sessions", "error", 3, 2),
        ("price_jump", "error", 1, 0),
        ("late_data", "warn", 1, 0),
    ],
    errors=[GAP, ERROR],
    warnings=[("late_data", None, None, date(2018, 2, 8), date(2026, 11, 30), "no symbol: ...")],
)


def test_counts_split_open_from_acknowledged_findings():
    assert FINDINGS.unacknowledged_errors == 2
    assert FINDINGS.unacknowledged_warnings == 1
    assert FINDINGS.error_counts_by_check() == {"missing_sessions": 1, "price_jump": 1}


def test_artifact_has_a_table_by_check_and_severity_and_the_findings():
    md = findings_markdown(FINDINGS)
    assert "| missing_sessions | error | 3 | 2 | 1 |" in md
    assert "| late_data | warn | 1 | 0 | 1 |" in md
    assert "- missing_sessions ZZZ [files] 2017-01-03 .. 2017-01-05: 3 session(s)" in md
    assert "- late_data (all symbols) 2018-02-08 .. 2026-11-30: no symbol: ..." in md


def test_failure_message_counts_by_check_then_lists_the_findings():
    summary = ValidationSummary(
        checks=[
            {
                "name": "data_quality_errors",
                "success": False,
                "evaluated": 2,
                "gate": True,
                "failed": ["expect_column_values_to_be_null{'column': 'unacknowledged_error'}"],
            },
            {
                "name": "data_quality_warnings",
                "success": False,
                "evaluated": 1,
                "gate": False,
                "failed": ["not shown"],
            },
        ],
        data_docs="/x/index.html",
    )
    assert not summary.success
    message = failure_message(FINDINGS, summary)
    first, *rest = message.splitlines()
    assert first.startswith("2 unacknowledged error finding(s) (missing_sessions 1, price_jump 1)")
    assert "  - price_jump LNT 2016-05-19: bad print: ..." in rest
    assert "not shown" not in message


def test_non_gating_failures_do_not_fail_the_summary():
    summary = ValidationSummary(
        checks=[
            {"name": "raw_daily_bars", "success": True, "evaluated": 3, "failed": []},
            {
                "name": "data_quality_warnings",
                "success": False,
                "evaluated": 1,
                "gate": False,
                "failed": ["x"],
            },
        ],
        data_docs="/x/index.html",
    )
    assert summary.success


def test_mdw_validate_parses_and_needs_the_stack(monkeypatch, tmp_path, capsys):
    from mdw.cli import main, parse_args

    assert parse_args(["validate", "--timeout", "5"]).params == {"timeout": 5.0}
    monkeypatch.setenv("MDW_HOME", str(tmp_path))
    monkeypatch.setenv("MDW_PREFECT_PORT", "9")  # nothing listens there
    assert main(["validate"]) == 3  # STACK_DOWN (mdw.errors)
    assert capsys.readouterr().err.startswith("mdw: the stack is not running")
