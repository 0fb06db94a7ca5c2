"""`validate-warehouse`: run the Great Expectations checkpoints and report the data-quality
findings of marts.fct_data_quality_issues (computed by dbt; read here, never computed).

Fails when a gating checkpoint fails - above all `data_quality_errors`, i.e. any unacknowledged
error finding; its message lists the top 20 findings and the counts by check. Warnings are
listed and never fail it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.runtime import flow_run

from flows.report import validation_markdown
from flows.tasks import ValidationSummary, run_gx_checkpoints
from settings import get_settings

TOP_FINDINGS = 20


class ValidationFailed(RuntimeError):
    """A gating expectation failed (e.g. unacknowledged error findings); the message lists them."""


@dataclass(frozen=True)
class QualityFindings:
    """What marts.fct_data_quality_issues holds: counts and the top unacknowledged findings."""

    # (check_name, severity, findings, acknowledged)
    counts: list[tuple[str, str, int, int]] = field(default_factory=list)
    # (check_name, symbol, source, first_date, last_date, detail), by check, symbol and date
    errors: list[tuple] = field(default_factory=list)
    warnings: list[tuple] = field(default_factory=list)

    @property
    def unacknowledged_errors(self) -> int:
        return sum(n - ack for _, severity, n, ack in self.counts if severity == "error")

    @property
    def unacknowledged_warnings(self) -> int:
        return sum(n - ack for _, severity, n, ack in self.counts if severity == "warn")

    def error_counts_by_check(self) -> dict[str, int]:
        return {
            check: n - ack
            for check, severity, n, ack in self.counts
            if severity == "error" and n > ack
        }


_TOP_SQL = """
select check_name, symbol, source, first_date, last_date, detail
from marts.fct_data_quality_issues
where severity = %s and not acknowledged
order by check_name, symbol nulls first, first_date
limit %s
"""


@task(name="read-quality-findings")
def read_quality_findings() -> QualityFindings:
    from ingest.db import transaction

    with transaction(get_settings().warehouse) as cur:
        cur.execute("select to_regclass('marts.fct_data_quality_issues') is not null")
        if not cur.fetchone()[0]:
            return QualityFindings()
        cur.execute(
            "select check_name, severity, count(*), count(*) filter (where acknowledged)"
            " from marts.fct_data_quality_issues group by 1, 2 order by 2, 1"
        )
        counts = [tuple(r) for r in cur.fetchall()]
        cur.execute(_TOP_SQL, ("error", TOP_FINDINGS))
        errors = [tuple(r) for r in cur.fetchall()]
        cur.execute(_TOP_SQL, ("warn", TOP_FINDINGS))
        warnings = [tuple(r) for r in cur.fetchall()]
    return QualityFindings(counts, errors, warnings)


def finding_line(finding: tuple) -> str:
    check, symbol, source, first, last, detail = finding
    where = symbol or "(all symbols)"
    if source:
        where += f" [{source}]"
    dates = str(first) if first == last else f"{first} .. {last}"
    return f"{check} {where} {dates}: {detail}"


def findings_markdown(findings: QualityFindings) -> str:
    lines = [
        "## Data quality findings (marts.fct_data_quality_issues)",
        "",
        "| check | severity | findings | acknowledged | open |",
        "|---|---|---:|---:|---:|",
    ]
    lines += [
        f"| {check} | {severity} | {n} | {ack} | {n - ack} |"
        for check, severity, n, ack in findings.counts
    ]
    if not findings.counts:
        lines.append("| (none) | | 0 | 0 | 0 |")
    for title, rows, total in (
        (
            "Unacknowledged errors (fail validation)",
            findings.errors,
            findings.unacknowledged_errors,
        ),
        ("Unacknowledged warnings", findings.warnings, findings.unacknowledged_warnings),
    ):
        if rows:
            shown = f"top {len(rows)} of {total}" if total > len(rows) else f"{total}"
            lines += ["", f"{title}, {shown}:", *[f"- {finding_line(r)}" for r in rows]]
    lines += [
        "",
        "Acknowledge a reviewed finding in `dbt_project/seeds/quality/known_data_issues.csv`.",
    ]
    return "\n".join(lines)


def failure_message(findings: QualityFindings, summary: ValidationSummary) -> str:
    parts = []
    if findings.unacknowledged_errors:
        by_check = ", ".join(f"{c} {n}" for c, n in findings.error_counts_by_check().items())
        parts.append(
            f"{findings.unacknowledged_errors} unacknowledged error finding(s) ({by_check}); "
            f"top {len(findings.errors)}:\n"
            + "\n".join(f"  - {finding_line(r)}" for r in findings.errors)
        )
    failed = [
        f"  - {c['name']}: {f}"
        for c in summary.checks
        if c.get("gate", True) and not c["success"]
        for f in c["failed"]
    ]
    if failed:
        parts.append("failed expectations:\n" + "\n".join(failed))
    return "\n".join(parts)


@dataclass(frozen=True)
class ValidationOutcome:
    summary: ValidationSummary
    findings: QualityFindings

    @property
    def markdown(self) -> str:
        return "\n\n".join(
            [
                findings_markdown(self.findings),
                validation_markdown(self.summary.checks, self.summary.data_docs),
            ]
        )


@flow(name="validate-warehouse", log_prints=True)
def validate_warehouse() -> ValidationOutcome:
    run_name = f"validate-warehouse {flow_run.name}" if flow_run.name else None
    summary = run_gx_checkpoints(run_name=run_name)
    findings = read_quality_findings()
    outcome = ValidationOutcome(summary, findings)
    create_markdown_artifact(
        key="validation-summary",
        markdown=outcome.markdown,
        description="Findings by check and severity, checkpoint results, data docs",
    )
    logger = get_run_logger()
    logger.info(
        "data quality: %d unacknowledged error(s), %d unacknowledged warning(s)",
        findings.unacknowledged_errors,
        findings.unacknowledged_warnings,
    )
    for r in findings.warnings:
        logger.warning("warning finding: %s", finding_line(r))
    if not summary.success or findings.unacknowledged_errors:
        raise ValidationFailed(failure_message(findings, summary))
    return outcome
