"""Expected failures of a command: one line for the user (what, why, what to do), no traceback.

Exit codes, the same for every command (README, "Exit codes"): 0 done; 1 failed (a run failed,
bad input, a refused restore, a part of the stack down in `mdw status`); 2 a bad command line;
3 the stack is not running (`mdw up` starts it); 130 interrupted.
"""

from __future__ import annotations

FAILED = 1
USAGE = 2
STACK_DOWN = 3
INTERRUPTED = 130


class UserError(Exception):
    """An error the user can fix; `mdw` prints `message` on one line and exits with `exit_code`.

    what: what failed; why: the cause; fix: what to do about it.
    """

    def __init__(self, what: str, why: str = "", fix: str = "", exit_code: int = FAILED) -> None:
        self.what, self.why, self.fix, self.exit_code = what, why, fix, exit_code
        super().__init__(self.message)

    @property
    def message(self) -> str:
        text = self.what
        if self.why:
            text += f": {self.why}"
        if self.fix:
            text += f"; {self.fix}"
        return " ".join(text.split())  # one line, whatever the parts held


def stack_down(api_url: str) -> UserError:
    """The Prefect server does not answer: every command that needs it says this."""
    return UserError(
        "the stack is not running",
        f"no Prefect API answers at {api_url}",
        "start it with `mdw up`",
        exit_code=STACK_DOWN,
    )


def warehouse_down(where: str, cause: object = "") -> UserError:
    """The stack's PostgreSQL does not answer (commands that need only the database)."""
    first = str(cause).strip().splitlines()[0] if str(cause).strip() else ""
    return UserError(
        "the stack is not running",
        f"no PostgreSQL answers at {where}" + (f" ({first})" if first else ""),
        "start it with `mdw up`",
        exit_code=STACK_DOWN,
    )


def port_taken(port: int, what: str, variable: str, holder: str | None) -> UserError:
    """A port the stack needs is already in use: name it, its holder if known, and the fix."""
    by = f" by {holder}" if holder else " by another process"
    return UserError(
        f"{what} cannot start",
        f"port {port} on 127.0.0.1 is already in use{by}",
        f"stop that process or set {variable} to a free port",
    )
