"""The benchmark of the dbt indicator engine (`make bench` / `python -m bench`)."""
