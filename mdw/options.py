"""Option types shared by command groups: dates as YYYY-MM-DD, comma-separated symbol lists."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated

import typer

# Tickers as vendors spell them: AAPL, BRK.B, BRK-B, ^GSPC, EURUSD=X, 7203.T. Anything else
# (quotes, spaces, semicolons, ...) is refused before it reaches a flow.
SYMBOL = re.compile(r"^\^?[A-Z0-9][A-Z0-9.\-=]{0,19}$")


def parse_date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        message = f"{value!r} is not a date; write YYYY-MM-DD, e.g. 2024-01-31"
        raise typer.BadParameter(message) from None


def parse_symbols(value: str) -> list[str]:
    symbols = [v.strip().upper() for v in value.split(",") if v.strip()]
    if not symbols:
        raise typer.BadParameter(f"{value!r} holds no symbol; write e.g. AAPL,MSFT")
    bad = [s for s in symbols if not SYMBOL.match(s)]
    if bad:
        raise typer.BadParameter(
            f"{', '.join(repr(b) for b in bad)} is not a ticker (letters, digits, . - = and a "
            "leading ^ only); write e.g. AAPL,MSFT,BRK.B"
        )
    return symbols


def _symbols_callback(value: str | None) -> list[str] | None:
    return None if value is None else parse_symbols(value)


def date_option(help_text: str) -> typer.models.OptionInfo:
    """`--start`-style option: a YYYY-MM-DD day, None when not given."""
    return typer.Option(parser=parse_date, metavar="YYYY-MM-DD", help=help_text)


def symbols_option(help_text: str = "default: the universe") -> typer.models.OptionInfo:
    return typer.Option(
        callback=_symbols_callback,
        metavar="SYM,...",
        help=f"comma-separated tickers, e.g. AAPL,MSFT ({help_text})",
    )


# The callback turns the text into list[str]; the annotation says what the user types.
Symbols = Annotated[str | None, symbols_option()]
MaxSymbols = Annotated[
    int | None, typer.Option(min=1, help="use at most this many symbols (the first of the list)")
]
