import inspect
import os
import subprocess
import sys
from datetime import date

import pytest
import typer

from mdw.cli import app, main, parse_args
from mdw.commands.ingest import vendor_flow
from mdw.errors import STACK_DOWN

VENDOR_COMMANDS = [
    "polygon-daily",
    "polygon-backfill",
    "polygon-reference",
    "yahoo",
    "yahoo-company",
]


def options(argv: list[str]) -> dict[str, object]:
    return parse_args(argv).params


@pytest.mark.parametrize("command", VENDOR_COMMANDS)
def test_every_vendor_option_is_a_parameter_of_its_flow(command):
    flow_parameters = inspect.signature(vendor_flow(command).fn).parameters
    assert set(options(["ingest", command, "--symbols", "aapl"])) <= set(flow_parameters)


def test_options_are_parsed_to_the_flow_types():
    parsed = options(
        [
            "ingest",
            "polygon-backfill",
            "--symbols",
            "aapl, msft",
            "--start",
            "2020-01-02",
            "--chunk-days",
            "90",
            "--no-actions",
        ]
    )
    assert parsed["symbols"] == ["AAPL", "MSFT"]
    assert parsed["start"] == date(2020, 1, 2)
    assert parsed["chunk_days"] == 90 and parsed["include_actions"] is False
    # options not given stay None, so the flow's own defaults apply
    assert parsed["end"] is None and parsed["days_back"] is None


def test_flow_names_are_the_ones_users_see():
    assert [vendor_flow(c).name for c in VENDOR_COMMANDS] == [
        "polygon-daily-ingestion",
        "polygon-historical-backfill",
        "polygon-reference-data",
        "yahoo-market-data",
        "yahoo-company-data",
    ]


def test_stack_commands_parse():
    for argv in (["up"], ["down"], ["status"], ["env"], ["demo"], ["ingest", "files", "a.csv"]):
        assert parse_args(argv).command[0] == argv[0]


def _walk(command, path=()):
    yield path, command
    for name, sub in getattr(command, "commands", {}).items():
        yield from _walk(sub, (*path, name))


def test_every_command_and_option_has_a_help_line():
    root = typer.main.get_command(app)
    for path, command in _walk(root):
        assert (command.help or "").strip(), f"mdw {' '.join(path)} has no help"
        for param in command.params:
            if param.param_type_name == "option":
                assert (param.help or "").strip(), f"mdw {' '.join(path)} {param.opts} no help"
            if "date" in param.name or param.name in ("start", "end"):
                assert param.metavar == "YYYY-MM-DD", (path, param.name)


def one_line_error(capsys, argv: list[str], code: int) -> str:
    assert main(argv) == code
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert "Traceback" not in captured.err + captured.out
    return lines[0]


def test_a_missing_file_is_one_line_checked_before_any_run(capsys, tmp_path, monkeypatch):
    # The stack is not up either: the missing file is what the user is told about.
    monkeypatch.setenv("MDW_PREFECT_PORT", "9")
    line = one_line_error(capsys, ["ingest", "files", str(tmp_path / "nope.csv")], 1)
    assert "file not found" in line and "nope.csv" in line and "format" not in line


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["ingest", "yahoo", "--start", "2024-02-30"], "'--start'"),
        (["ingest", "polygon-daily", "--end", "yesterday"], "'--end'"),
        (["ingest", "yahoo", "--symbols", "AAPL'; drop table raw.daily_bars; --"], "'--symbols'"),
        (["ingest", "yahoo", "--symbols", " , "], "'--symbols'"),
        (["ingest", "polygon-backfill"], "'--symbols'"),
        (["nosuch"], "nosuch"),
    ],
)
def test_bad_options_are_one_line_naming_the_option(capsys, argv, expected):
    line = one_line_error(capsys, argv, 2)
    assert expected in line and line.startswith("mdw")


def test_dates_are_documented_and_asked_as_yyyy_mm_dd(capsys):
    line = one_line_error(capsys, ["ingest", "yahoo", "--start", "01/02/2024"], 2)
    assert "YYYY-MM-DD" in line


STACK_COMMANDS = [
    ["ingest", "yahoo", "--symbols", "AAPL"],
    ["ingest", "polygon-daily"],
    ["validate"],
    ["schedule", "enable", "pipeline/daily"],
    ["backup"],
    ["restore", "--drop-replaced"],
    ["report"],
    ["analyst", "add", "alice"],
]


@pytest.mark.parametrize("argv", STACK_COMMANDS, ids=lambda a: " ".join(a[:2]))
def test_a_stack_that_is_down_is_one_line_and_one_exit_code(capsys, monkeypatch, argv, tmp_path):
    """Every command that needs the stack: exit code 3 (README, "Exit codes") and `mdw up`."""
    monkeypatch.setenv("MDW_HOME", str(tmp_path))
    monkeypatch.setenv("MDW_PREFECT_PORT", "9")  # nothing listens on the discard port
    monkeypatch.setenv("MDW_PG_PORT", "9")
    line = one_line_error(capsys, argv, STACK_DOWN)
    assert "mdw up" in line, line


def test_status_of_a_stack_that_is_down_exits_with_the_same_code(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("MDW_HOME", str(tmp_path))
    monkeypatch.setenv("MDW_PREFECT_PORT", "9")
    monkeypatch.setenv("MDW_PG_PORT", "9")
    assert main(["status"]) == STACK_DOWN
    assert "prefect-server           down" in capsys.readouterr().out


def test_restore_needs_one_of_an_archive_undo_or_drop(capsys):
    line = one_line_error(capsys, ["restore"], 2)
    assert "--undo" in line and "--drop-replaced" in line


def test_debug_shows_the_traceback(monkeypatch):
    monkeypatch.setenv("MDW_PREFECT_PORT", "9")
    with pytest.raises(Exception, match="not running"):
        main(["--debug", "ingest", "yahoo"])


def test_version(capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.startswith("mdw ")


def test_ordinary_commands_print_no_warning_noise(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "XDG_RUNTIME_DIR"}
    env.update(MDW_HOME=str(tmp_path), MDW_PREFECT_PORT="9", MDW_PG_PORT="9")
    done = subprocess.run(
        [sys.executable, "-m", "mdw.cli", "status"], env=env, capture_output=True, text=True
    )
    assert done.returncode == STACK_DOWN  # nothing is up
    assert done.stderr == ""
    assert "postgres" in done.stdout
