"""What one unit of landing work did: the one outcome type, with the one status rule.

A *unit* is what is fetched or read and landed as a whole, and recorded in raw.load_runs: a
file, a Polygon grouped day, a backfill window, a listing, a symbol's corporate actions, a Yahoo
symbol's market or company data. Every source describes it as a `Unit` and what it did as an
`Outcome`; `ingest.units` runs units, records each outcome and names the failures.

The rule (`status_of`), the same for every source:

- **failed**: nothing of the unit landed, although something was asked for - every fetch or
  read failed (the vendor answered an error, the file could not be read, the unit was not
  attempted because the run stopped early), or every row received was quarantined;
- **partial**: some of it landed and some of what was asked for did not arrive - one part
  failed (Yahoo's hourly window answered 422 while the daily bars landed; a symbol of the
  universe was absent from Polygon's day; one symbol of a file had only bad rows);
- **success**: everything that arrived is accounted for - landed, or quarantined with its
  reason (quarantined rows are counted in `rejected` and named in the unit's notes: they are
  kept, findable and reported, not lost). An empty answer is a success with nothing to land.

A run in which any unit is failed or partial ends Failed (flows.outcomes). Units not requested
at all (already landed, after a delisting) are `skipped`: reported, not recorded.

Counts add up: received = inserted + updated + unchanged + rejected (quarantined).
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import date

SUCCESS = "success"
PARTIAL = "partial"
FAILED = "failed"
SKIPPED = "skipped"  # not requested: reported in the run's artifact, not recorded
STATUSES = (SUCCESS, PARTIAL, FAILED)  # raw.load_runs.status of every recorded unit
LANDED = (SUCCESS, PARTIAL)  # something of the unit landed: a refetch is not needed for it
NOT_ATTEMPTED = "not attempted"  # the prefix of the failure of a unit the run stopped before
ALL_SYMBOLS = "*"  # the symbol of a unit about many symbols (a file, a grouped day, a listing)


def status_of(received: int, rejected: int, failed_parts: bool) -> str:
    """The one rule (see the module docstring)."""
    landed = received - rejected
    if landed <= 0 and (failed_parts or received > 0):
        return FAILED
    if failed_parts:
        return PARTIAL
    return SUCCESS


@dataclass(frozen=True)
class Counts:
    """Rows (or records, datasets) of a landing; they add up or the constructor says so."""

    received: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0

    def __post_init__(self) -> None:
        accounted = self.inserted + self.updated + self.unchanged + self.rejected
        if accounted != self.received:
            raise ValueError(
                f"counts do not add up: received {self.received} != inserted {self.inserted}"
                f" + updated {self.updated} + unchanged {self.unchanged}"
                f" + quarantined {self.rejected}"
            )

    def __add__(self, other: Counts) -> Counts:
        return Counts(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(Counts)))

    @property
    def landed(self) -> int:
        return self.received - self.rejected

    @staticmethod
    def total(counts: Iterable[Counts]) -> Counts:
        return sum(counts, Counts())

    def line(self) -> str:
        """`5 received = 3 inserted + 1 updated + 1 unchanged + 0 quarantined`."""
        return (
            f"{self.received} received = {self.inserted} inserted + {self.updated} updated + "
            f"{self.unchanged} unchanged + {self.rejected} quarantined"
        )


@dataclass(frozen=True)
class Unit:
    """What a unit is before it runs: enough to record it whatever happens."""

    source: str
    kind: str  # file, grouped-day, window, splits, dividends, tickers, delisting, market, company
    symbol: str
    source_uri: str | None = None
    window_start: date | None = None
    window_end: date | None = None
    load_run_id: uuid.UUID = field(default_factory=uuid.uuid4)

    @property
    def name(self) -> str:
        """How a failure message names the unit: the file, or kind, symbol and day."""
        if self.kind == "file":
            return self.source_uri or self.symbol
        return " ".join(str(p) for p in (self.kind, self.symbol, self.window_start or "") if p)

    def outcome(self, **result: object) -> Outcome:
        """This unit's outcome (`result`: the Outcome fields beyond the unit's)."""
        own = {f.name: getattr(self, f.name) for f in fields(Unit)}
        return Outcome(**{**own, **result})

    def failed(self, why: str) -> Outcome:
        return self.outcome(failures=(why,))

    def not_attempted(self, why: str) -> Outcome:
        return self.outcome(failures=(f"{NOT_ATTEMPTED}: {why}",), attempted=False)


@dataclass(frozen=True)
class Outcome(Unit):
    """What a unit did. `failures`: what did not land and why (one line each); `notes`: what
    else to know (rows quarantined, an empty answer). `rows`: the per-symbol raw.load_runs rows
    of a unit about many symbols (a file, a grouped day); `summary_row`: whether the unit is a
    row of its own beside them (a grouped day's `*` row) or only through them (a file)."""

    counts: Counts = field(default_factory=Counts)
    failures: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    rows: tuple[Outcome, ...] = ()
    summary_row: bool = True
    parts: tuple[tuple[str, Counts], ...] = ()  # a breakdown for the artifact (daily, 1h...)
    skipped: bool = False
    attempted: bool = True
    attempts: int = 0  # HTTP requests the unit took (a vendor's retries included)

    @property
    def status(self) -> str:
        if self.skipped:
            return SKIPPED
        return status_of(self.counts.received, self.counts.rejected, bool(self.failures))

    @property
    def ok(self) -> bool:
        """Nothing of the unit is missing (success, or skipped)."""
        return self.status in (SUCCESS, SKIPPED)

    @property
    def landed(self) -> bool:
        return self.status in LANDED

    @property
    def error(self) -> str | None:
        """The failures, then the notes: the raw.load_runs error text."""
        return "; ".join((*self.failures, *self.notes)) or None

    @property
    def label(self) -> str:
        """The status as a person reads it (`not attempted` is a failed unit never tried)."""
        return self.status if self.attempted else NOT_ATTEMPTED

    # convenience: the counts as attributes
    received = property(lambda self: self.counts.received)
    inserted = property(lambda self: self.counts.inserted)
    updated = property(lambda self: self.counts.updated)
    unchanged = property(lambda self: self.counts.unchanged)
    rejected = property(lambda self: self.counts.rejected)

    def part(self, name: str) -> Counts:
        """The counts of one part (Counts() when the unit has no such part)."""
        return dict(self.parts).get(name, Counts())

    def recorded(self) -> tuple[Outcome, ...]:
        """The raw.load_runs rows of this outcome (none for a skipped unit)."""
        if self.skipped:
            return ()
        own = (self,) if self.summary_row or not self.rows else ()
        return own + self.rows

    def with_failure(self, why: str) -> Outcome:
        return replace(self, failures=(*self.failures, why))

    def with_note(self, note: str) -> Outcome:
        return replace(self, notes=(*self.notes, note))

    def as_row(self) -> dict[str, object]:
        """One row of a run's table artifact."""
        window = self.window_start.isoformat() if self.window_start else ""
        if self.window_end and self.window_end != self.window_start:
            window += f" .. {self.window_end.isoformat()}"
        row: dict[str, object] = {
            "unit": self.kind,
            "symbol": self.source_uri if self.kind == "file" else self.symbol,
            "window": window,
            "status": self.label,
        }
        row.update({f.name: getattr(self.counts, f.name) for f in fields(Counts)})
        for name, part in self.parts:
            row[name] = f"{part.received} recv / {part.landed} landed / {part.rejected} rej"
        row["error"] = self.error or ""
        return row


def quarantine_note(rejected: int, table: str, lines: Sequence[int] = (), uri: str = "") -> str:
    """`3 row(s) quarantined in raw.rejected_bars (bars.csv lines 5, 9, 12)`."""
    note = f"{rejected} row(s) quarantined in {table}"
    if lines:
        where = f"{uri} line{'s' if len(lines) > 1 else ''} {', '.join(map(str, lines))}"
        note += f" ({where}{', ...' if rejected > len(lines) else ''})"
    return note


# --- a run's units, summed up --------------------------------------------------------------

MAX_ARTIFACT_ROWS = 500  # an artifact is for people: failures first, then the rest


def failing(outcomes: Iterable[Outcome]) -> list[Outcome]:
    """The units that end a run Failed: failed (or not attempted) and partial ones."""
    return [o for o in outcomes if o.status in (FAILED, PARTIAL)]


def tally(outcomes: Iterable[Outcome]) -> str:
    """`2 failed, 1 partial, 3 not attempted, 7 success` (by label, most serious first)."""
    order = {FAILED: 0, PARTIAL: 1, NOT_ATTEMPTED: 2, SUCCESS: 3, SKIPPED: 4}
    counts = Counter(o.label for o in outcomes)
    return ", ".join(
        f"{n:,} {label}" for label, n in sorted(counts.items(), key=lambda p: order.get(p[0], 9))
    )


def summary(outcomes: Sequence[Outcome]) -> str:
    """`12 units: 1 failed, 11 success; 2,510 received, 2,500 inserted, ...`."""
    if not outcomes:
        return "nothing to do"
    total = Counts.total(o.counts for o in outcomes)
    return (
        f"{len(outcomes)} units: {tally(outcomes)}; {total.received:,} received, "
        f"{total.inserted:,} inserted, {total.updated:,} updated, "
        f"{total.unchanged:,} unchanged, {total.rejected:,} quarantined"
    )


def artifact_rows(outcomes: Sequence[Outcome]) -> list[dict[str, object]]:
    """Every failed or partial unit, then the others, as table rows (capped)."""
    order = {FAILED: 0, PARTIAL: 1, SUCCESS: 2, SKIPPED: 3}
    ranked = sorted(enumerate(outcomes), key=lambda p: (order[p[1].status], p[0]))
    rows = [o.as_row() for _, o in ranked[:MAX_ARTIFACT_ROWS]]
    if len(outcomes) > MAX_ARTIFACT_ROWS:
        rows.append({"unit": "...", "status": f"{len(outcomes) - MAX_ARTIFACT_ROWS} more rows"})
    return rows
