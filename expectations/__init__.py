"""Great Expectations (GX Core 1.x) suites and checkpoints for the warehouse.

The file-backed context lives in `expectations/gx/` (committed). The suites are defined in
`suites.py`; `context.ensure_context` writes them, the data source, validation definitions and
checkpoints into the file context (idempotently), and `context.run_checkpoints` runs them.
"""
