"""The local stack: settings, embedded PostgreSQL, Prefect server and runner, `mdw`."""
