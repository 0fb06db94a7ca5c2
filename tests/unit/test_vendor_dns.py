"""A vendor host that does not resolve fails at once, without the retries meant for transient
failures (issue 11): real polygon-api-client and urllib3 against a name that cannot resolve, and
Yahoo's classification of curl's DNS error."""

from __future__ import annotations

import time

import pytest

from ingest.polygon.client import budgeted_pool, build_client
from ingest.polygon.http import PolygonUnavailable
from ingest.retry import RetryPolicy
from ingest.yahoo.client import RETRYABLE, UNREACHABLE, classify
from ingest.yahoo.session import Observed

SLOW = RetryPolicy(max_retries=5, backoff_base=30.0, connect_timeout=5.0, read_timeout=5.0)


def test_polygon_fails_fast_when_its_host_does_not_resolve():
    requests: list[float] = []
    client = build_client("pk-dns", "http://no-such-host.invalid", lambda: requests.append(1), SLOW)
    started = time.monotonic()
    with pytest.raises(PolygonUnavailable, match="cannot resolve Polygon's host"):
        client.get_grouped_daily_aggs("2024-01-02", adjusted=False)
    assert time.monotonic() - started < 20  # five retries 30 s apart would take minutes
    assert len(requests) == 1 and budgeted_pool(client).attempts == 1


def test_yahoo_classifies_a_dns_failure_as_unreachable_not_transient():
    error = "curl: (6) Could not resolve host: query2.finance.yahoo.com"
    kind = classify(
        ConnectionError(error), Observed("https://query2.finance.yahoo.com/", None, None, error)
    )
    assert kind == UNREACHABLE and kind not in RETRYABLE
