from pathlib import Path

import pytest

from ingest.files import CANONICAL, FileFormatError, file_actions, file_kind, map_header


def test_canonical_header_maps_to_itself():
    assert map_header(list(CANONICAL)) == list(CANONICAL)


def test_header_is_case_insensitive_and_any_order():
    assert map_header(["Close", "DATE", "Symbol", "open", "High", "low", "Volume"]) == [
        "close",
        "date",
        "symbol",
        "open",
        "high",
        "low",
        "volume",
    ]


def test_kaggle_style_header_uses_name_alias_and_ignores_extra_columns():
    mapped = map_header(["date", "open", "high", "low", "close", "volume", "Name", "adj_close"])
    assert mapped == ["date", "open", "high", "low", "close", "volume", "symbol", "_extra_7"]


def test_exact_canonical_name_wins_over_an_alias():
    mapped = map_header(["name", "symbol", "date", "open", "high", "low", "close", "volume"])
    assert mapped[1] == "symbol" and mapped[0].startswith("_extra_")


def test_missing_columns_are_named_in_the_error():
    with pytest.raises(FileFormatError, match="missing column\\(s\\) volume"):
        map_header(["symbol", "date", "open", "high", "low", "close"])


@pytest.mark.parametrize(
    ("name", "kind"),
    [("a.csv", "csv"), ("a.CSV", "csv"), ("a.csv.gz", "csv"), ("b.parquet", "parquet")],
)
def test_file_kind(name, kind):
    assert file_kind(Path(name)) == kind


def test_unknown_file_kind_is_a_clear_error():
    with pytest.raises(FileFormatError, match="unknown file type"):
        file_kind(Path("bars.xlsx"))


def test_a_file_of_one_symbol_takes_the_symbol_given_and_needs_it():
    header = ["timestamp", "open", "high", "low", "close", "adjusted_close", "volume"]
    assert map_header(header, "AAPL")[:5] == ["date", "open", "high", "low", "close"]
    with pytest.raises(FileFormatError, match="no symbol column .* --symbol SYM"):
        map_header(header)
    with pytest.raises(FileFormatError, match="has a symbol column .* only for files without"):
        map_header(list(CANONICAL), "AAPL")


def test_action_columns_of_alpha_vantage_and_yfinance_are_recognised():
    av = ["timestamp", "open", "high", "low", "close", "adjusted_close", "volume"]
    av += ["dividend_amount", "split_coefficient"]
    assert map_header(av, "AAPL")[-2:] == ["dividend", "split"]
    yf = ["Datetime", "Open", "High", "Low", "Close", "Adj Close", "Volume"]
    yf += ["Dividends", "Stock Splits"]
    assert map_header(yf, "CALM")[0] == "date" and map_header(yf, "CALM")[-2:] == [
        "dividend",
        "split",
    ]


def test_file_actions_are_the_non_trivial_coefficients_and_amounts():
    rows = [
        ("AAPL", "2020-08-31", "0.0000", "4.0"),
        ("AAPL", "2020-08-07", "0.8200", "1.0"),
        ("CALM", "2022-01-03", "0.0", "0.0"),
        ("AAPL", "2014-06-09", "", "7.00001"),
        ("AAPL", "2020-01-02", "abc", ""),
    ]
    found = [(a.action_type, str(a.ex_date), a.split_to, a.cash_amount) for a in file_actions(rows)]
    assert found == [
        ("split", "2020-08-31", "4.0", None),
        ("dividend", "2020-08-07", None, "0.8200"),
        ("split", "2014-06-09", "7.00001", None),
        ("dividend", "2020-01-02", None, "abc"),  # quarantined by land_actions, not dropped
    ]
