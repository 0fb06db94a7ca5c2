"""Pure parts of issue 8: prefect.yaml's declarations, alert automations, health thresholds,
the daily report's markdown."""

from __future__ import annotations

from datetime import date, datetime

import yaml

from flows.daily_report import report_markdown
from flows.health import assess
from mdw import alerts, services
from settings import PROJECT_ROOT, Settings

CONFIG = yaml.safe_load((PROJECT_ROOT / "prefect.yaml").read_text())


def test_every_deployment_has_a_pool_tags_and_zoned_schedules():
    deployments = CONFIG["deployments"]
    assert len(deployments) == 15
    for d in deployments:
        assert d["work_pool"]["name"] in services.POOLS, d["name"]
        assert d["tags"] and d["description"] and ":" in d["entrypoint"]
        for schedule in d.get("schedules", []):
            assert schedule["timezone"] in ("America/New_York", "UTC")
            assert isinstance(schedule["active"], bool)
    vendors = [d for d in deployments if "vendors" in d["tags"] or "polygon" in d["tags"]]
    assert all(not s["active"] for d in vendors for s in d.get("schedules", []))


def test_the_alert_automation_covers_failed_and_crashed_deployment_runs():
    automation = alerts.failed_run_automation({"webhook": "b1", "email": "b2"})
    trigger = automation["trigger"]
    assert set(trigger["expect"]) == {"prefect.flow-run.Failed", "prefect.flow-run.Crashed"}
    assert trigger["match_related"] == {"prefect.resource.role": "deployment"}
    assert [a["block_document_id"] for a in automation["actions"]] == ["b1", "b2"]
    for field in (
        "flow.name",
        "deployment.name",
        "flow_run.id",
        "flow_run|ui_url",
        "state.message",
    ):
        assert field in alerts.BODY
    crash = alerts.heartbeat_automation()
    assert crash["trigger"]["posture"] == "Proactive"
    assert crash["actions"][0]["state"] == "CRASHED"


def test_health_thresholds(tmp_path):
    settings = Settings(MDW_HOME=tmp_path, MDW_HEALTH_MIN_FREE_GB=5)
    deployments = [("polygon-daily-ingestion/daily", True, "never"), ("x/y", False, "never")]
    ok = assess(
        settings,
        (10_000_000, {"polygon": date(2026, 11, 30), "files": date(2018, 2, 7)}),
        50 * 10**9,
        deployments,
        {"data-ingestion": 1, "analytics": 1, "maintenance": 1},
        date(2026, 12, 1),
    )
    assert ok.problems == []  # the old `files` source has no active schedule: not stale
    bad = assess(
        settings,
        (10_000_000, {"polygon": date(2026, 11, 1)}),
        1 * 10**9,
        deployments,
        {"data-ingestion": 1, "analytics": 0, "maintenance": 1},
        date(2026, 12, 1),
    )
    text = " ".join(bad.problems)
    assert "disk" in text and "polygon" in text and "analytics" in text
    down = assess(settings, "OperationalError", 50 * 10**9, [], {}, date(2026, 12, 1))
    assert down.problems == ["warehouse database unreachable: OperationalError"]


def test_daily_report_lists_failures_findings_and_signals():
    md = report_markdown(
        {
            "landed": [("files", "partial", 2, 10, 0, 1)],
            "failed": [("files", "ZZZ", "partial", "1 rows quarantined")],
            "quality": [("error", 1, 3), ("warn", 0, 2)],
            "signals": [("AAPL", "rsi_oversold", "long", 101.5)],
            "signal_day": [(date(2026, 11, 30),)],
        },
        datetime(2026, 11, 30, 20, 0),
        ["GX data docs: file:///x/index.html"],
    )
    assert "| files | partial | 2 | 10 | 0 | 1 |" in md
    assert "`ZZZ` partial" in md
    assert "| error | 1 | 3 |" in md
    assert "| AAPL | rsi_oversold | long | 101.5 |" in md and "2026-11-30" in md
    assert "file:///x/index.html" in md
