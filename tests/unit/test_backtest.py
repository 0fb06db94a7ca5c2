"""`mdw backtest` and the backtest library: declarations, vars, the performance table."""

from __future__ import annotations

import inspect
from datetime import date, datetime

from flows.backtest import backtest
from flows.daily_report import report_markdown
from lib.backtest import (
    COLUMNS,
    Performance,
    backtest_vars,
    dbt_args,
    declared_strategies,
    performance_markdown,
)
from mdw.cli import main, parse_args
from settings import PROJECT_ROOT

ROW = {
    "strategy": "sma_trend",
    "total_return": 0.6652,
    "cagr": 0.1075,
    "annual_volatility": 0.095,
    "sharpe_ratio": 1.126,
    "sortino_ratio": 1.589,
    "max_drawdown": -0.1281,
    "calmar_ratio": 0.84,
    "trades": 26,
    "trade_win_rate": 0.538,
    "profit_factor": None,
    "average_gross_exposure": 0.57,
    "beta": 0.175,
    "alpha": 0.075,
    "first_date": date(2013, 2, 8),
    "last_date": date(2018, 2, 7),
    "cost_bps": 5.0,
    "is_benchmark": False,
}


def test_the_shipped_strategies_are_declared():
    declared = declared_strategies(PROJECT_ROOT / "dbt_project")
    assert {"sma_trend", "rsi_reversion", "macd_cross", "bollinger_breakout"} <= set(declared)
    assert {"momentum_long_short", "buy_and_hold_benchmark", "equal_weight_universe"} <= set(
        declared
    )


def test_a_run_passes_its_parameters_as_dbt_vars():
    vars_ = backtest_vars(["sma_trend"], date(2015, 1, 2), None, 12.5)
    assert vars_ == {
        "backtest_strategies": ["sma_trend"],
        "backtest_start": "2015-01-02",
        "backtest_end": None,
        "backtest_cost_bps": 12.5,
    }
    args = dbt_args(vars_)
    assert args[:3] == ["build", "--select", "int_strategy_positions_simulated+"]
    assert args[3] == "--vars" and '"backtest_cost_bps": 12.5' in args[4]
    assert backtest_vars() == {k: None for k in vars_}


def test_the_performance_table_formats_every_column_and_shows_missing_values():
    md = performance_markdown(Performance([ROW]), "Backtest")
    header = next(line for line in md.splitlines() if line.startswith("| Strategy"))
    assert header.count("|") == len(COLUMNS) + 1
    assert (
        "| sma_trend | +66.5% | +10.8% | 9.5% | 1.13 | 1.59 | -12.8% | 0.84 | 26 | 54% | - |" in md
    )
    assert "2013-02-08 to 2018-02-07" in md
    assert "(no strategy built)" in performance_markdown(Performance([]))


def test_the_cli_options_are_the_flows_parameters():
    parsed = parse_args(
        ["backtest", "sma_trend", "rsi_reversion", "--start", "2015-01-02", "--cost-bps", "10"]
    ).params
    assert parsed["strategies"] == ["sma_trend", "rsi_reversion"]
    assert parsed["start"] == date(2015, 1, 2) and parsed["cost_bps"] == 10
    flow_parameters = set(inspect.signature(backtest.fn).parameters)
    assert {"strategies", "start", "end", "cost_bps"} == flow_parameters


def test_unknown_strategies_and_reversed_dates_fail_before_anything_runs(
    capsys, monkeypatch, tmp_path
):
    monkeypatch.setenv("MDW_HOME", str(tmp_path))
    assert main(["backtest", "sma_trend", "nope"]) == 1
    assert "unknown strategy nope" in capsys.readouterr().err
    assert main(["backtest", "--start", "2018-01-01", "--end", "2017-01-01"]) == 1
    assert "--start 2018-01-01 is after --end 2017-01-01" in capsys.readouterr().err
    assert main(["backtest", "--cost-bps", "-1"]) == 2


def test_the_daily_report_lists_each_strategys_last_session():
    facts = {
        "landed": [],
        "failed": [],
        "quality": [],
        "signals": [],
        "strategies": [
            ("sma_trend", date(2018, 2, 7), -1234.5, -0.0123, 166516.36, -0.05, 2, "AAPL, MSFT"),
            ("momentum_long_short", date(2018, 2, 7), 10.0, 0.0001, 96106.36, 0, 1, "KO (short)"),
        ],
    }
    md = report_markdown(facts, datetime(2018, 2, 7, 20, 0), [])
    assert "## Strategies (last session)" in md
    assert (
        "| sma_trend | 2018-02-07 | -1,234.50 | -1.23% | 166,516.36 | -5.0% | 2 | AAPL, MSFT |"
        in md
    )
    assert "| KO (short) |" in md
    assert "No strategy marts" in report_markdown(
        {**facts, "strategies": []}, datetime(2018, 2, 7), []
    )
