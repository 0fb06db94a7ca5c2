"""Where the time goes inside a step: the slowest statements, from the server's own log.

The benchmark's server logs every statement's duration (`log_min_duration_statement = 0`); the
log between two offsets is one step's. Pure parsing here; no database access.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

ENTRY = re.compile(
    r"^\S+ \S+ \S+ \[\d+\] LOG:  duration: ([\d.]+) ms  (?:statement|execute [^:]*): ?(.*)$"
)
DBT_NODE = re.compile(r'/\*\s*\{.*?"node_id":\s*"[^"]*?\.([^".]+)".*?\}\s*\*/', re.S)
BLOCK_COMMENT = re.compile(r"/\*.*?\*/", re.S)
LINE_COMMENT = re.compile(r"--[^\n]*")


def summarise(statement: str, width: int = 110) -> str:
    """One line: [dbt node] and the statement without comments, whitespace collapsed, cut."""
    node = DBT_NODE.search(statement)
    text = BLOCK_COMMENT.sub(" ", statement)
    text = " ".join(LINE_COMMENT.sub(" ", text).split())
    if len(text) > width:
        text = text[: width - 3] + "..."
    return f"[{node.group(1)}] {text}" if node else text


def parse(log_text: str) -> list[tuple[float, str]]:
    """(seconds, statement) of every statement whose duration `log_text` logs, in order."""
    entries: list[list[Any]] = []
    current: list[Any] | None = None
    for line in log_text.splitlines():
        match = ENTRY.match(line)
        if match:
            current = [float(match.group(1)) / 1000, match.group(2)]
            entries.append(current)
        elif line.startswith("\t") and current is not None:
            current[1] += "\n" + line[1:]
        else:
            current = None
    return [(e[0], e[1]) for e in entries]


def slowest(log_text: str, top: int = 3) -> list[dict[str, Any]]:
    """The `top` slowest statements logged in `log_text`, slowest first."""
    entries = sorted(parse(log_text), key=lambda e: -e[0])
    return [{"seconds": round(s, 3), "statement": summarise(t)} for s, t in entries[:top]]


def total_seconds(log_text: str) -> float:
    """Time the server spent in the statements of `log_text` (all sessions together)."""
    return sum(seconds for seconds, _ in parse(log_text))


class StatementLog:
    """Offsets into the server log, and the slowest statements logged since one."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def offset(self) -> int:
        try:
            return self.path.stat().st_size
        except OSError:
            return 0

    def since(self, offset: int) -> str:
        try:
            with self.path.open("rb") as fh:
                fh.seek(offset)
                return fh.read().decode("utf-8", errors="replace")
        except OSError:
            return ""
