"""Data docs that show a non-gating suite's failures as warnings, not as failures.

GX 1.24 renders every unsuccessful validation with a red cross and "Status: Failed", whatever
the expectations' `severity` says (its renderers ignore it). A suite that never gates
(`TableCheck.gate = False`, e.g. `data_quality_warnings`) lists findings the README promises are
only warnings; `mark_warnings` rewrites its pages after each docs update: an amber warning sign
and "Warnings (not gating)" on its validation pages and on its rows of the index.
Idempotent: a page already rewritten is left as it is.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

WARNING_ICON = "fas fa-exclamation-triangle text-warning"
STATUS = "Warnings (not gating: listed, they never fail validation)"

# On a validation page: the overview's status, each expectation's icon, its unexpected count.
PAGE_REPLACEMENTS = (
    (
        '<i class="fas fa-times text-danger" aria-hidden="true"></i> Failed',
        f'<i class="{WARNING_ICON}" aria-hidden="true"></i> {STATUS}',
    ),
    ('<i class="fas fa-times text-danger" ></i>', f'<i class="{WARNING_ICON}" ></i>'),
    ('<strong class="text-danger" >', '<strong class="text-warning" >'),
)
# The index holds its table rows as data, one `{'validation_success': ...}` per validation.
_ROW = re.compile(r"\{'validation_success': .*?'asset_name': '[^']*'\}", re.DOTALL)


def _rewrite_page(path: Path) -> bool:
    text = path.read_text()
    new = text
    for old, replacement in PAGE_REPLACEMENTS:
        new = new.replace(old, replacement)
    if new != text:
        path.write_text(new)
    return new != text


def _rewrite_index(index: Path, suites: set[str]) -> None:
    text = index.read_text()

    def row(match: re.Match) -> str:
        found = match.group(0)
        if not any(f"expectations/{suite}.html" in found for suite in suites):
            return found
        return found.replace("fas fa-times text-danger ge-failed-icon", WARNING_ICON).replace(
            "'_validation_success_text': 'Failed'", "'_validation_success_text': 'Warnings'"
        )

    new = _ROW.sub(row, text)
    if new != text:
        index.write_text(new)


def mark_warnings(site: Path, suites: Iterable[str]) -> None:
    """Show the validations of the (non-gating) `suites` as warnings in the site at `site`."""
    names = set(suites)
    for suite in names:
        for page in (site / "validations" / suite).rglob("*.html"):
            _rewrite_page(page)
    index = site / "index.html"
    if index.exists() and names:
        _rewrite_index(index, names)
