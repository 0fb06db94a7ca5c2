"""Where `mdw` writes: rich consoles for results (stdout) and problems (stderr)."""

from __future__ import annotations

from rich.console import Console

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


def interactive() -> bool:
    """Progress bars and live lines only when a person is watching a terminal."""
    return out.is_terminal and not out.is_dumb_terminal
