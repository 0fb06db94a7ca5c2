"""The Polygon request layer's pure parts: retry timing, scrubbing, JSON, budget, reports."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from ingest.outcomes import Counts, artifact_rows, summary
from ingest.polygon import runs
from ingest.polygon.http import (
    MalformedResponse,
    PolygonError,
    StrictJSON,
    display_url,
    retry_after_seconds,
    retry_delay,
    retryable,
)
from ingest.polygon.runs import aggs_uri, grouped_uri
from ingest.ratelimit import limit_spec
from ingest.redact import scrub
from ingest.retry import RetryPolicy


def test_scrub_removes_keys_everywhere():
    key = "pk_live_123abc"
    text = (
        f"GET /v3/reference/tickers?cursor=abc&apiKey={key}&limit=5 failed; "
        f"header Authorization: Bearer {key}; api_key={key}; echoed {key}"
    )
    clean = scrub(text, [key])
    assert key not in clean
    assert "apiKey=***&limit=5" in clean
    assert "Bearer ***" in clean
    assert scrub("apikey=zzz9", []) == "apikey=***"  # unknown values too
    assert scrub("nothing secret", [None, ""]) == "nothing secret"


def test_retry_after_is_seconds_or_an_http_date():
    now = datetime(2025, 1, 2, 12, 0, 0, tzinfo=UTC)
    assert retry_after_seconds("7", now) == 7.0
    assert retry_after_seconds("1.5", now) == 1.5
    assert retry_after_seconds("Thu, 02 Jan 2025 12:00:30 GMT", now) == 30.0
    assert retry_after_seconds("Thu, 02 Jan 2025 11:00:00 GMT", now) == 0.0
    assert retry_after_seconds("-3", now) == 0.0
    assert retry_after_seconds("soon", now) is None
    assert retry_after_seconds(None, now) is None


def test_retry_delay_honours_retry_after_else_backs_off():
    policy = RetryPolicy(backoff_base=2.0, backoff_cap=20.0, max_retry_after=60.0)
    assert [retry_delay(policy, n, None) for n in range(5)] == [2.0, 4.0, 8.0, 16.0, 20.0]
    assert retry_delay(policy, 0, 12.0) == 12.0
    assert retry_delay(policy, 3, 0.5) == 0.5
    assert retry_delay(policy, 0, 600.0) == 60.0
    assert [s for s in (200, 404, 429, 500, 502, 503, 599) if retryable(s)] == [
        429,
        500,
        502,
        503,
        599,
    ]


def test_strict_json_keeps_numbers_exact_and_refuses_garbage():
    assert StrictJSON.loads('{"c": 1.4604, "v": 6.42646396e+08, "n": 3}') == {
        "c": Decimal("1.4604"),
        "v": Decimal("6.42646396E+8"),
        "n": 3,
    }
    with pytest.raises(MalformedResponse) as info:
        StrictJSON.loads('{"results": [{"T": "A", "c": 1.')
    # the client only swallows ValueError: ours must get through it
    assert not isinstance(info.value, ValueError)
    assert isinstance(info.value, PolygonError)


def test_display_url_shows_path_and_query_only():
    assert (
        display_url("https://api.polygon.io/v2/aggs/x?cursor=a", {"limit": 5})
        == "/v2/aggs/x?cursor=a&limit=5"
    )
    assert display_url("http://127.0.0.1:1/v3/reference/splits") == "/v3/reference/splits"


def test_the_budget_is_a_one_slot_limit_decaying_at_rpm_over_60():
    spec = limit_spec(5)
    assert (spec.name, spec.limit, spec.slot_decay_per_second) == ("polygon-api", 1, 5 / 60)
    assert limit_spec(120).slot_decay_per_second == 2.0
    with pytest.raises(ValueError):
        limit_spec(0)


def test_reports_put_failures_first():
    def window(symbol, **result):
        return runs.unit("window", symbol, "u", (date(2020, 1, 1), date(2020, 3, 31))).outcome(
            **result
        )

    outcomes = [
        window("AAPL", counts=Counts(60, 60, 0, 0, 0)),
        window("NOPE", failures=("no bars",)),
        window("AAPL", skipped=True),
    ]
    rows = artifact_rows(outcomes)
    assert [r["status"] for r in rows] == ["failed", "success", "skipped"]
    assert rows[0]["window"] == "2020-01-01 .. 2020-03-31"
    assert "1 failed" in summary(outcomes) and "60 inserted" in summary(outcomes)


def test_uris_name_the_request():
    assert grouped_uri(date(2024, 1, 2)) == (
        "polygon:/v2/aggs/grouped/locale/us/market/stocks/2024-01-02?adjusted=false"
    )
    assert aggs_uri("AAPL", date(2005, 4, 1), date(2005, 4, 4)) == (
        "polygon:/v2/aggs/ticker/AAPL/range/1/day/2005-04-01/2005-04-04?adjusted=false"
    )
