"""The failure model in the ingest-files flow (real Prefect server, real PostgreSQL): one failed
file makes the run Failed - a returned state, no traceback - its state message names the file
and the line, the artifact lists every file, and the other files are landed and recorded all
the same."""

from __future__ import annotations

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

from flows.ingest_files import ingest_files
from flows.outcomes import landed_anything, landed_result
from ingest.db import transaction

pytestmark = pytest.mark.integration

HEADER = "symbol,date,open,high,low,close,volume\n"


@pytest.fixture
def env(prefect_api, warehouse_url, monkeypatch):
    monkeypatch.setenv("WAREHOUSE_URL", warehouse_url.render_as_string(hide_password=False))
    return warehouse_url


def artifact(state, key: str) -> str:
    with get_client(sync_client=True) as client:
        found = client.read_artifacts(
            artifact_filter=ArtifactFilter(
                flow_run_id=ArtifactFilterFlowRunId(any_=[state.state_details.flow_run_id])
            )
        )
    return next(a.data for a in found if a.key == key)


def test_one_bad_file_fails_the_run_by_name_and_the_others_land(env, tmp_path):
    good = tmp_path / "good.csv"
    good.write_text(HEADER + "AAPL,2020-01-02,10,11,9,10.5,100\n")
    bad = tmp_path / "bad.csv"
    bad.write_text("symbol,date,open,high,low,close\nAAPL,2020-01-03,10,11,9,10\n")
    state = ingest_files([str(good), str(bad)], return_state=True)

    assert state.is_failed()
    assert state.message.startswith(
        f"1 of 2 files did not land in full (1 failed): {bad} (failed: {bad}: line 1: "
        "missing column(s) volume"
    )
    table = str(artifact(state, "ingest-files-summary"))
    assert str(good) in table and f"{bad}: line 1" in table
    outcomes = landed_result(state)  # what the pipeline reads: the good file's counts
    assert [o.ok for o in outcomes] == [True, False] and landed_anything(state)
    with transaction(env) as cur:
        cur.execute("select source_uri, status from raw.load_runs order by 1")
        assert cur.fetchall() == [(str(bad), "failed"), (str(good), "success")]
        cur.execute("select count(*) from raw.daily_bars")
        assert cur.fetchone() == (1,)

    clean = ingest_files([str(good)], return_state=True)
    assert clean.is_completed() and clean.result()[0].unchanged == 1


def test_every_file_failing_lands_nothing_and_the_pipeline_stops(env, tmp_path):
    state = ingest_files([str(tmp_path / "nope.csv")], return_state=True)
    assert state.is_failed() and "no such file" in state.message
    assert not landed_anything(state)
    with pytest.raises(Exception, match="1 of 1 files did not land in full"):
        landed_result(state)
