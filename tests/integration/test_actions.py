"""Corporate actions landing, against a real PostgreSQL."""

from __future__ import annotations

import uuid

import pytest

from ingest.actions import CorporateAction, land_actions, problems
from ingest.db import migrate, transaction

pytestmark = pytest.mark.integration

AAPL_SPLIT = CorporateAction(
    "AAPL", "split", "2020-08-31", split_from=1, split_to=4, details={"vendor": "test"}
)
AAPL_DIVIDEND = CorporateAction(
    "AAPL", "dividend", "2020-11-06", cash_amount="0.205", currency="USD"
)


def test_actions_land_idempotently_and_bad_ones_are_quarantined(warehouse_url):
    migrate(warehouse_url)
    bad = CorporateAction("TSLA", "split", "2020-08-31", split_from=0, split_to=5)
    with transaction(warehouse_url) as cur:
        first, rejected = land_actions(
            cur, [AAPL_SPLIT, AAPL_DIVIDEND, bad], source="test", load_run_id=uuid.uuid4()
        )
    assert (first.received, first.inserted, first.rejected, len(rejected)) == (3, 2, 1, 1)
    with transaction(warehouse_url) as cur:
        again, _ = land_actions(
            cur, [AAPL_SPLIT, AAPL_DIVIDEND, bad], source="test", load_run_id=uuid.uuid4()
        )
        assert (again.inserted, again.updated, again.unchanged) == (0, 0, 2)
        cur.execute("select symbol, reason from raw.rejected_records")
        assert cur.fetchall() == [("TSLA", "non-positive split_from")]
        cur.execute(
            "select split_to / split_from from raw.corporate_actions where action_type = 'split'"
        )
        assert cur.fetchone()[0] == 4


def test_duplicates_within_a_batch_are_quarantined_not_dropped(warehouse_url):
    migrate(warehouse_url)
    other = CorporateAction("AAPL", "split", "2020-08-31", split_from=1, split_to=5)
    with transaction(warehouse_url) as cur:
        result, rejected = land_actions(
            cur, [AAPL_SPLIT, AAPL_SPLIT, other], source="test", load_run_id=uuid.uuid4()
        )
        assert (result.inserted, result.rejected, len(rejected)) == (1, 2, 2)
        cur.execute("select reason from raw.rejected_records order by rejected_id")
        assert [r[0] for r in cur.fetchall()] == [
            "repeated event within the batch (first copy landed)",
            "conflicting duplicate of symbol, type and ex-date",
        ]


def test_problems_names_every_issue():
    assert problems(AAPL_SPLIT) == []
    assert problems(CorporateAction("", "merger", None)) == [
        "missing symbol",
        "unknown action type 'merger'",
        "missing ex_date",
    ]
    assert problems(CorporateAction("X", "dividend", "2020-13-01", cash_amount="abc")) == [
        "unparseable ex_date",
        "missing or unparseable cash_amount",
    ]
