from pathlib import Path

import pytest

from ingest.files import CANONICAL, FileFormatError, FileResult, SymbolResult, file_kind, map_header


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


def _sym(received, rejected):
    return SymbolResult("X", None, None, received, received - rejected, 0, 0, rejected)


def test_symbol_status():
    assert _sym(10, 0).status == "success"
    assert _sym(10, 3).status == "partial"
    assert _sym(3, 3).status == "failed"


def test_file_result_totals():
    r = FileResult("f.csv", __import__("uuid").uuid4(), [_sym(10, 1), _sym(5, 0)])
    assert (r.received, r.inserted, r.rejected) == (15, 14, 1)
