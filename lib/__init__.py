"""Library code of the warehouse that is not a flow: the stack's environment, backups, the
report site. Flows (`flows/`) and the CLI (`mdw/`) call it; it imports neither, nor Prefect."""
