"""The one outcome type and its rule (ingest.outcomes), the early stop (ingest.units.Breaker)
and how a run's failures are worded (flows.outcomes)."""

from __future__ import annotations

import pytest

from flows.outcomes import failure_message
from ingest.outcomes import FAILED, PARTIAL, SUCCESS, Counts, Unit, status_of
from ingest.units import Breaker, Unreachable
from ingest.universe import batches


def test_the_rule():
    assert status_of(received=10, rejected=0, failed_parts=False) == SUCCESS
    assert status_of(10, 3, False) == SUCCESS  # quarantined rows are kept and named, not lost
    assert status_of(0, 0, False) == SUCCESS  # nothing to land is not an error
    assert status_of(3, 3, False) == FAILED  # every row quarantined
    assert status_of(0, 0, True) == FAILED  # the fetch failed
    assert status_of(10, 0, True) == PARTIAL  # daily landed, hourly answered 422
    assert status_of(10, 10, True) == FAILED


def test_counts_add_up_or_say_so():
    assert Counts(5, 3, 1, 1, 0) + Counts(2, 0, 0, 1, 1) == Counts(7, 3, 1, 2, 1)
    assert Counts(5, 3, 1, 1, 0).line() == (
        "5 received = 3 inserted + 1 updated + 1 unchanged + 0 quarantined"
    )
    with pytest.raises(ValueError, match="do not add up"):
        Counts(3, 1, 0, 0, 0)


def test_a_unit_with_a_failed_symbol_row_is_partial_and_skipped_units_are_not_recorded():
    unit = Unit("files", "file", "*", "f.csv")
    good = unit.outcome(counts=Counts(10, 10, 0, 0, 0))
    bad = unit.outcome(counts=Counts(2, 0, 0, 0, 2))
    whole = unit.outcome(
        counts=Counts(12, 10, 0, 0, 2),
        rows=(good, bad),
        summary_row=False,
        failures=("X: all 2 row(s) quarantined",),
    )
    assert (good.status, bad.status, whole.status) == (SUCCESS, FAILED, PARTIAL)
    assert whole.recorded() == (good, bad)
    assert unit.outcome(skipped=True).recorded() == ()
    stopped = unit.not_attempted("Yahoo unreachable")
    assert (stopped.status, stopped.label) == (FAILED, "not attempted")


def test_one_wording_names_the_first_units_and_counts_the_rest():
    units = [Unit("yahoo", "market", f"S{i}") for i in range(8)]
    outcomes = [
        units[0].outcome(counts=Counts(5, 5, 0, 0, 0), failures=("1h: not_found: 422",)),
        units[1].outcome(counts=Counts(5, 5, 0, 0, 0)),
        *(u.not_attempted("Yahoo unreachable") for u in units[2:]),
    ]
    message = failure_message("symbols", outcomes, stopped="Yahoo unreachable")
    assert message.startswith("stopped early: Yahoo unreachable; 7 of 8 symbols did not land")
    assert "(1 partial, 6 not attempted)" in message
    assert "market S0 (partial: 1h: not_found: 422)" in message
    assert message.endswith("... and 2 more")


def test_the_breaker_opens_after_consecutive_requests_without_an_answer():
    breaker = Breaker("Yahoo", limit=3)
    breaker.no_answer("query2.finance.yahoo.com", "ConnectionError: refused")
    breaker.no_answer("query2.finance.yahoo.com", "ConnectionError: refused")
    breaker.answered()  # any answer, even an error status, resets the count
    breaker.no_answer("fc.yahoo.com", "refused")
    breaker.no_answer("fc.yahoo.com", "refused")
    breaker.check()
    breaker.no_answer("fc.yahoo.com", "refused")
    assert breaker.reason.startswith("Yahoo unreachable: 3 consecutive requests to fc.yahoo.com")
    with pytest.raises(Unreachable):
        breaker.check()


def test_batches_hand_over_the_rest_at_once_when_the_run_stops():
    stopped = []
    found = []
    for batch in batches(list("ABCDEFG"), 2, lambda: bool(stopped)):
        found.append(batch)
        stopped.append(True)
    assert found == [["A", "B"], ["C", "D", "E", "F", "G"]]
