"""What a landing did, per symbol: counts that add up (received = inserted + updated + unchanged
+ quarantined), the one outcome type every source returns and raw.load_runs records."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date


@dataclass(frozen=True)
class SymbolResult:
    symbol: str
    window_start: date | None
    window_end: date | None
    received: int
    inserted: int
    updated: int
    unchanged: int
    rejected: int
    rejected_lines: tuple[int, ...] = ()  # the first lines (of the file) that were quarantined

    def __post_init__(self) -> None:
        total = self.inserted + self.updated + self.unchanged + self.rejected
        if total != self.received:
            raise ValueError(
                f"{self.symbol}: counts do not add up: received {self.received} != "
                f"inserted {self.inserted} + updated {self.updated} + unchanged "
                f"{self.unchanged} + quarantined {self.rejected}"
            )

    @property
    def quarantined(self) -> int:
        return self.rejected

    @property
    def status(self) -> str:
        if self.rejected == 0:
            return "success"
        return "failed" if self.rejected == self.received else "partial"


class SymbolTotals:
    """Totals over the per-symbol results of a landing (a `symbols` list of SymbolResult)."""

    symbols: list[SymbolResult]

    @property
    def received(self) -> int:
        return sum(s.received for s in self.symbols)

    @property
    def inserted(self) -> int:
        return sum(s.inserted for s in self.symbols)

    @property
    def updated(self) -> int:
        return sum(s.updated for s in self.symbols)

    @property
    def unchanged(self) -> int:
        return sum(s.unchanged for s in self.symbols)

    @property
    def rejected(self) -> int:
        return sum(s.rejected for s in self.symbols)

    @property
    def quarantined(self) -> int:
        return self.rejected


@dataclass(frozen=True)
class FileResult(SymbolTotals):
    """One landing of bars (a file, or one vendor answer): where they came from and per symbol."""

    path: str
    load_run_id: uuid.UUID
    symbols: list[SymbolResult] = field(default_factory=list)
