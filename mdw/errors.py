"""Expected failures of a command: one line for the user (what, why, what to do), no traceback."""

from __future__ import annotations


class UserError(Exception):
    """An error the user can fix; `mdw` prints `message` on one line and exits with `exit_code`.

    what: what failed; why: the cause; fix: what to do about it.
    """

    def __init__(self, what: str, why: str = "", fix: str = "", exit_code: int = 1) -> None:
        self.what, self.why, self.fix, self.exit_code = what, why, fix, exit_code
        super().__init__(self.message)

    @property
    def message(self) -> str:
        text = self.what
        if self.why:
            text += f": {self.why}"
        if self.fix:
            text += f"; {self.fix}"
        return text


def stack_down(api_url: str) -> UserError:
    return UserError(
        "the stack is not running",
        f"no Prefect API answers at {api_url}",
        "start it with `mdw up`",
        exit_code=2,
    )
