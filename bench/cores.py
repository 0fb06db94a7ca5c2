"""The full build split over the machine's cores, against the same build in one statement.

`dbt_full_1x` (the benchmark's full build) runs the engine as the project runs it: one statement
per bucket of symbols, the buckets in parallel workers, as many as the database server has cores
(macros/symbol_buckets.sql). Here the same build runs again with `indicator_build_workers: 1`
(one statement, one core), and both builds' stored tables must be identical to the bit: the
figure `full_build_cores_speedup` is the one-statement build's seconds over the split one's,
the engine node's (a dbt invocation with other --vars parses the whole project again first).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from sqlalchemy.engine import URL

from bench.verify import Check
from bench.warehouse import scalar

ENGINE = "intermediate.int_daily_indicators_computed"
ENGINE_NODE = "int_daily_indicators_computed"
ONE_STATEMENT = "{indicator_build_workers: 1}"


def table_digest(url: URL, relation: str = ENGINE) -> str:
    """Rows and an order-independent digest of every column of every row (float8's text is
    exact: the shortest text that reads back as the same double)."""
    return str(
        scalar(
            url,
            f"select count(*) || ':' || coalesce(bit_xor(('x' || left(md5(t::text), 16))"
            f"::bit(64)::bigint), 0) from {relation} as t",
        )
    )


def engine_seconds(nodes: list[dict[str, Any]]) -> float:
    """The engine node's seconds in a dbt run (its node timings)."""
    return next(float(n["seconds"]) for n in nodes if n["name"] == ENGINE_NODE)


def buckets_used(compiled_dir: Path) -> int:
    """How many buckets the last compiled engine statement ran (1: one statement)."""
    found = list(compiled_dir.rglob("int_daily_indicators_computed.sql"))
    if not found:
        return 0
    return max(1, len(re.findall(r"__bucket\(array\[", found[0].read_text())))


def same_tables_check(split: str, one_statement: str) -> Check:
    return Check(
        "full build: split over cores = one statement, bit for bit",
        split == one_statement,
        f"rows:digest {split} (split) / {one_statement} (one statement)",
    )
