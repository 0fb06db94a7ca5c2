"""A non-gating suite's failures are shown as warnings (issue 16, defect 8): in the summary
and artifacts (flows.report.validation_markdown) and in the GX data docs (warning_docs)."""

from __future__ import annotations

from expectations.warning_docs import mark_warnings
from flows.report import validation_markdown

CHECKS = [
    {"name": "raw_daily_bars", "success": True, "evaluated": 12, "failed": [], "gate": True},
    {
        "name": "data_quality_warnings",
        "success": False,
        "evaluated": 1,
        "failed": ["expect_column_values_to_be_null{'column': 'unacknowledged_warning'} (1)"],
        "gate": False,
    },
]


def test_warnings_are_listed_as_warnings_not_as_failed_expectations():
    md = validation_markdown(CHECKS, "/x/index.html")
    assert "| data_quality_warnings | 1 warning(s) (not gating) | 1 | 0 |" in md
    assert "Failed expectations" not in md
    assert "Warnings (not gating):\n- data_quality_warnings: expect_column_values" in md
    failing = [{**CHECKS[0], "success": False, "failed": ["x"]}, CHECKS[1]]
    md = validation_markdown(failing, "/x/index.html")
    assert "Failed expectations:\n- raw_daily_bars: x\n" in md and "| **FAILED** |" in md


# What GX 1.24 writes for a failed validation: the page's status and icons, the index's row
PAGE = (
    '<span class="h6" >Status:</span> <i class="fas fa-times text-danger" aria-hidden="true">'
    '</i> Failed\n<i class="fas fa-times text-danger" ></i>\n<strong class="text-danger" >'
)
INDEX = (
    "[{'validation_success': '<i class=\"fas fa-times text-danger ge-failed-icon\" ></i>',"
    " 'expectation_suite_name': '<a href=\"expectations/%s.html\">', "
    "'_validation_success_text': 'Failed', 'asset_name': '%s'}]"
)


def test_data_docs_show_a_non_gating_suite_as_warnings_and_leave_the_others(tmp_path):
    warned = tmp_path / "validations" / "data_quality_warnings" / "run" / "t" / "b.html"
    other = tmp_path / "validations" / "raw_daily_bars" / "run" / "t" / "b.html"
    for page in (warned, other):
        page.parent.mkdir(parents=True)
        page.write_text(PAGE)
    rows = [INDEX % (s, s) for s in ("data_quality_warnings", "raw_daily_bars")]
    (tmp_path / "index.html").write_text("\n".join(rows))
    for _ in range(2):  # idempotent
        mark_warnings(tmp_path, ["data_quality_warnings"])
    text = warned.read_text()
    assert "fa-times" not in text and "Failed" not in text and "text-danger" not in text
    assert "Warnings (not gating" in text and "fa-exclamation-triangle text-warning" in text
    assert other.read_text() == PAGE
    warned_row, other_row = (tmp_path / "index.html").read_text().splitlines()
    assert "ge-failed-icon" not in warned_row and "'Warnings'" in warned_row
    assert other_row == rows[1]
