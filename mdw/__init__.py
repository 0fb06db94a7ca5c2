"""The local stack: settings, embedded PostgreSQL, Prefect server and runner, and the `mdw` command."""
