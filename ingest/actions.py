"""Corporate actions (splits, dividends) into raw.corporate_actions, bad ones quarantined."""

from __future__ import annotations

import json
import uuid
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

import psycopg2.extensions
from psycopg2.extras import Json, execute_values

from ingest.outcomes import Counts
from ingest.quarantine import quarantine_record


@dataclass(frozen=True)
class CorporateAction:
    """One event as a source reported it. A split gives `split_to` shares for `split_from`."""

    symbol: str
    action_type: str  # 'split' | 'dividend'
    ex_date: date | str | None
    split_from: object = None
    split_to: object = None
    cash_amount: object = None
    currency: str | None = None
    details: dict = field(default_factory=dict)


Rejected = list[tuple[CorporateAction, str]]  # (the action as received, why)


def _number(value: object) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def problems(action: CorporateAction) -> list[str]:
    """Why an action cannot be landed (empty when it can)."""
    found: list[str] = []
    if not (action.symbol or "").strip():
        found.append("missing symbol")
    if action.action_type not in ("split", "dividend"):
        found.append(f"unknown action type {action.action_type!r}")
    try:
        if action.ex_date is None or action.ex_date == "":
            found.append("missing ex_date")
        elif not isinstance(action.ex_date, date):
            date.fromisoformat(str(action.ex_date)[:10])
    except ValueError:
        found.append("unparseable ex_date")
    if action.action_type == "split":
        for name in ("split_from", "split_to"):
            number = _number(getattr(action, name))
            if number is None:
                found.append(f"missing or unparseable {name}")
            elif number <= 0:
                found.append(f"non-positive {name}")
    if action.action_type == "dividend":
        amount = _number(action.cash_amount)
        if amount is None:
            found.append("missing or unparseable cash_amount")
        elif amount < 0:
            found.append("negative cash_amount")
    return found


UPSERT_SQL = """
insert into raw.corporate_actions as a (
    source, symbol, action_type, ex_date, split_from, split_to, cash_amount, currency,
    details, load_run_id
) values %s
on conflict (source, symbol, action_type, ex_date) do update
    set split_from = excluded.split_from, split_to = excluded.split_to,
        cash_amount = excluded.cash_amount, currency = excluded.currency,
        details = excluded.details, loaded_at = now(), load_run_id = excluded.load_run_id
    where (a.split_from, a.split_to, a.cash_amount, a.currency)
          is distinct from
          (excluded.split_from, excluded.split_to, excluded.cash_amount, excluded.currency)
returning (xmax = 0) as inserted
"""


def land_actions(
    cur: psycopg2.extensions.cursor,
    actions: Iterable[CorporateAction],
    *,
    source: str,
    load_run_id: uuid.UUID,
) -> tuple[Counts, Rejected]:
    """Upsert valid actions (unchanged ones untouched); quarantine the rest with reasons
    (identical rejects once, with their count). Returns the counts and what was rejected."""
    good: dict[tuple, tuple] = {}
    rejected: list[tuple[CorporateAction, str]] = []
    received = 0
    for action in actions:
        received += 1
        found = problems(action)
        if found:
            rejected.append((action, "; ".join(found)))
            continue
        ex_date = (
            action.ex_date
            if isinstance(action.ex_date, date)
            else date.fromisoformat(str(action.ex_date)[:10])
        )
        key = (action.symbol.strip().upper(), action.action_type, ex_date)
        row = (
            source,
            key[0],
            action.action_type,
            ex_date,
            _number(action.split_from),
            _number(action.split_to),
            _number(action.cash_amount),
            action.currency,
            Json(json.loads(json.dumps(action.details, default=str))),
            str(load_run_id),
        )
        if key in good:
            rejected.append(
                (
                    action,
                    "conflicting duplicate of symbol, type and ex-date"
                    if good[key][4:8] != row[4:8]
                    else "repeated event within the batch (first copy landed)",
                )
            )
            continue
        good[key] = row
    copies = Counter(repr((asdict(action), reason)) for action, reason in rejected)
    for action, reason in {repr((asdict(a), r)): (a, r) for a, r in rejected}.values():
        quarantine_record(
            cur,
            source=source,
            record_kind=f"corporate_action:{action.action_type}",
            symbol=action.symbol,
            payload=asdict(action),
            reason=reason,
            load_run_id=load_run_id,
            occurrences=copies[repr((asdict(action), reason))],
        )
    inserted = updated = 0
    if good:
        flags = execute_values(cur, UPSERT_SQL, list(good.values()), fetch=True)
        inserted = sum(1 for (flag,) in flags if flag)
        updated = len(flags) - inserted
    unchanged = len(good) - inserted - updated
    return Counts(received, inserted, updated, unchanged, len(rejected)), rejected


def actions_note(counts: Counts, rejected: Rejected) -> str:
    """`3 corporate action(s) into raw.corporate_actions (2 new); 1 quarantined in
    raw.rejected_records: AAPL 2020-01-02: negative cash_amount`."""
    note = (
        f"{counts.landed} corporate action(s) into raw.corporate_actions "
        f"({counts.inserted} new, {counts.updated} changed)"
    )
    if rejected:
        why = "; ".join(f"{a.symbol} {a.ex_date}: {r}" for a, r in rejected[:5])
        note += f"; {len(rejected)} quarantined in raw.rejected_records: {why}"
    return note
