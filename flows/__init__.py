"""Prefect flows: thin tables of contents that call the tasks in `flows.tasks`."""
