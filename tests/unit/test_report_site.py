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


def test_the_strategies_page_escapes_names_and_descriptions():
    from lib.report_site import Strategies, strategies_html

    hostile = "<script>alert('x')</script>"
    row = {
        "strategy": "x_strategy",
        "description": hostile,
        "is_benchmark": False,
        "first_date": "2013-02-08",
        "last_date": "2018-02-07",
        "max_drawdown": -0.1,
        "max_drawdown_peak_date": None,
        "max_drawdown_trough_date": "2015-01-02",
        "max_drawdown_recovery_date": None,
        "trades": 1,
        "open_trades": 0,
        **{c: None for c in ("total_return", "cagr", "annual_volatility", "sharpe_ratio",
                              "sortino_ratio", "calmar_ratio", "trade_win_rate", "profit_factor",
                              "average_gross_exposure", "beta", "alpha")},
    }  # fmt: skip
    trade = {
        "symbol": hostile,
        "side": "long",
        "entry_date": "2014-01-02",
        "entry_price": 1.0,
        "exit_date": None,
        "exit_price": None,
        "exit_reason": "open",
        "holding_sessions": 3,
        "net_return": 0.01,
        "net_pnl": 5.0,
    }
    page = strategies_html(Strategies([row], trades={"x_strategy": [trade]}), NOW)
    assert "<script>alert" not in page and "&lt;script&gt;" in page
    assert "from the start to 2015-01-02, recovered not yet" in page
    assert 'id="equity-x_strategy"' in page and 'id="monthly-x_strategy"' in page


def test_monthly_returns_fill_a_year_by_month_grid():
    from lib.report_site import Strategies, monthly_figure

    strategies = Strategies(monthly={"s": [(2013, 2, 0.01), (2013, 12, -0.02), (2014, 1, 0.03)]})
    heat = monthly_figure("s", strategies)["data"][0]
    assert heat["y"] == ["2013", "2014"]
    assert heat["z"][0][1] == 0.01 and heat["z"][0][11] == -0.02 and heat["z"][1][0] == 0.03
    assert heat["z"][0][0] is None and heat["text"][1][0] == "+3.0%"


def test_trade_marks_are_per_strategy_and_exits_only_for_closed_trades():
    from lib.report_site import Trade, trade_marks

    trades = [
        Trade("a", "long", date(2014, 1, 2), 10.0, date(2014, 2, 3), 11.0, "signal"),
        Trade("a", "long", date(2014, 3, 3), 12.0, date(2014, 3, 10), 12.5, "open"),
        Trade("b", "short", date(2014, 1, 6), 9.0, date(2014, 1, 9), 8.0, "last_bar"),
    ]
    marks = {t["name"]: t for t in trade_marks(trades)}
    assert set(marks) == {"a entries", "a exits", "b entries", "b exits"}
    assert marks["a entries"]["x"] == ["2014-01-02", "2014-03-03"]
    assert marks["a exits"]["x"] == ["2014-02-03"] and marks["a exits"]["y"] == [11.0]
    assert "last_bar" in marks["b exits"]["text"][0]
    assert all(t["visible"] == "legendonly" for t in marks.values())
