"""The smallest flow a worker can run: the deployment of tests/e2e/test_schedules.py."""

from prefect import flow


@flow(name="e2e-tick", log_prints=False)
def tick() -> int:
    return 1
