from datetime import UTC, date, datetime

from lib.report_site import IndexRow, index_html, page_name

NOW = datetime(2024, 1, 2, tzinfo=UTC)


def test_page_names_are_safe_for_any_symbol():
    assert page_name("AAPL") == "AAPL.html"
    assert page_name("BRK.B") == "BRK.B.html"
    assert page_name("^GSPC") == "_GSPC.html"
    assert page_name("../../etc/passwd") == "_.._etc_passwd.html"
    assert "/" not in page_name("a/b") and "'" not in page_name("x'y")


def test_the_index_escapes_what_it_shows():
    hostile = "<script>alert('x')</script>"
    row = IndexRow(hostile, date(2024, 1, 2), 1.0, 0.1, 0.1, 50.0, 0.01, signals=hostile)
    page = index_html([row], quality=None, generated=NOW)
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert "No data-quality table" in page


def test_open_findings_column_only_with_the_quality_table():
    row = IndexRow("AAPL", date(2024, 1, 2), 1.0, None, None, None, None, "", findings=3)
    page = index_html([row], quality={"AAPL": 3, None: 2}, generated=NOW)
    assert "Open findings" in page and "<td>3</td>" in page
    assert "2 open feed-level" in page
