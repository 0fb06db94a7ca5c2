"""`daily-report` (after the daily pipeline): one markdown artifact of the day - what landed per
source, what failed, data-quality findings by severity, the day's signals, each strategy's
last-session P&L and open positions, links to docs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from prefect import flow, task
from prefect.artifacts import create_markdown_artifact

from expectations.context import data_docs_index
from ingest.db import transaction
from settings import Settings, get_settings


def _exists(cur, relation: str) -> bool:
    cur.execute("select to_regclass(%s) is not null", (relation,))
    return cur.fetchone()[0]


@task
def report_facts(settings: Settings, since: datetime) -> dict[str, list[tuple]]:
    facts: dict[str, list[tuple]] = {}
    with transaction(settings.warehouse) as cur:
        cur.execute(
            "select source, status, count(*), sum(rows_inserted), sum(rows_updated),"
            " sum(rows_rejected) from raw.load_runs where started_at >= %s"
            " group by source, status order by source, status",
            (since,),
        )
        facts["landed"] = cur.fetchall()
        cur.execute(
            "select source, symbol, status, coalesce(error, '') from raw.load_runs"
            " where started_at >= %s and status in ('failed', 'partial')"
            " order by source, symbol limit 200",
            (since,),
        )
        facts["failed"] = cur.fetchall()
        facts["quality"] = []
        if _exists(cur, "marts.fct_data_quality_issues"):
            cur.execute(
                "select severity, count(*) filter (where not acknowledged), count(*)"
                " from marts.fct_data_quality_issues group by severity order by severity"
            )
            facts["quality"] = cur.fetchall()
        facts["signals"] = []
        if _exists(cur, "marts.fct_signals"):
            cur.execute(
                "select symbol, signal, direction, close from marts.fct_signals"
                " where trade_date = (select max(trade_date) from marts.fct_signals)"
                " order by symbol, signal limit 100"
            )
            facts["signals"] = cur.fetchall()
            cur.execute("select max(trade_date) from marts.fct_signals")
            facts["signal_day"] = [cur.fetchone()]
        facts["strategies"] = []
        if _exists(cur, "marts.fct_strategy_returns"):
            cur.execute(STRATEGIES_SQL)
            facts["strategies"] = cur.fetchall()
    return facts


# each strategy's last session: its P&L and return, equity, and the positions it holds
STRATEGIES_SQL = """
select
    returns.strategy,
    returns.trade_date,
    returns.net_pnl,
    returns.net_return,
    returns.equity,
    returns.drawdown,
    returns.open_positions,
    coalesce((
        select string_agg(
            positions.symbol || case when positions.side = 'short' then ' (short)' else '' end,
            ', ' order by positions.symbol
        )
        from marts.fct_strategy_positions as positions
        where positions.strategy = returns.strategy
            and positions.trade_date = returns.trade_date
            and positions.symbol <> '$CASH'
            and positions.weight <> 0
    ), '') as held
from marts.fct_strategy_returns as returns
inner join (
    select strategy, max(trade_date) as trade_date from marts.fct_strategy_returns group by strategy
) as last_session
    on returns.strategy = last_session.strategy and returns.trade_date = last_session.trade_date
order by returns.strategy
"""


def report_markdown(facts: dict[str, list[tuple]], since: datetime, links: list[str]) -> str:
    """Pure: the report from its facts."""
    lines = [f"# Daily report (since {since:%Y-%m-%d %H:%M} UTC)", "", "## Landed per source", ""]
    lines += ["| source | status | units | inserted | updated | quarantined |"]
    lines += ["|---|---|---:|---:|---:|---:|"]
    lines += [f"| {s} | {st} | {n} | {i} | {u} | {r} |" for s, st, n, i, u, r in facts["landed"]]
    if not facts["landed"]:
        lines.append("| (nothing landed) | | | | | |")
    lines += ["", "## Failed units", ""]
    lines += [f"- {s} `{sym}` {st}: {err[:200]}" for s, sym, st, err in facts["failed"]] or [
        "None."
    ]
    lines += ["", "## Data-quality findings by severity", ""]
    if facts["quality"]:
        lines += ["| severity | unacknowledged | total |", "|---|---:|---:|"]
        lines += [f"| {sev} | {open_} | {total} |" for sev, open_, total in facts["quality"]]
    else:
        lines.append("No findings table (marts.fct_data_quality_issues) or no findings.")
    day = facts.get("signal_day", [(None,)])[0][0]
    lines += ["", f"## Signals of {day or 'the last session'}", ""]
    if facts["signals"]:
        lines += ["| symbol | signal | direction | close |", "|---|---|---|---:|"]
        lines += [f"| {s} | {sig} | {d} | {c} |" for s, sig, d, c in facts["signals"]]
    else:
        lines.append("No signals.")
    lines += ["", "## Strategies (last session)", ""]
    if facts.get("strategies"):
        lines += ["| strategy | session | net P&L | return | equity | drawdown | open | held |"]
        lines += ["|---|---|---:|---:|---:|---:|---:|---|"]
        for name, day, pnl, ret, equity, dd, n, held in facts["strategies"]:
            shown = held if len(held) <= 200 else held[:200] + "..."
            lines.append(
                f"| {name} | {day} | {pnl:+,.2f} | {ret:+.2%} | {equity:,.2f} | {dd:.1%} | {n} "
                f"| {shown} |"
            )
    else:
        lines.append("No strategy marts (marts.fct_strategy_returns).")
    lines += ["", "## Links", "", *[f"- {link}" for link in links]]
    return "\n".join(lines)


@flow(name="daily-report", log_prints=True)
def daily_report(hours: int = 24) -> str:
    settings = get_settings()
    since = datetime.now(UTC) - timedelta(hours=hours)
    facts = report_facts(settings, since)
    links = [f"GX data docs: file://{data_docs_index()}"]
    dbt_docs = settings.dbt_project_dir / "target" / "index.html"
    if dbt_docs.exists():
        links.append(f"dbt docs: file://{dbt_docs}")
    markdown = report_markdown(facts, since, links)
    create_markdown_artifact(key="daily-report", markdown=markdown, description="The day's run")
    return markdown
