import inspect
from datetime import date

import pytest

from mdw.cli import _vendor_flow, build_parser

VENDOR_COMMANDS = [
    "polygon-daily",
    "polygon-backfill",
    "polygon-reference",
    "yahoo",
    "yahoo-company",
]


def options(argv: list[str]) -> dict[str, object]:
    args = vars(build_parser().parse_args(argv))
    return {k: v for k, v in args.items() if k not in ("command", "ingest_command")}


@pytest.mark.parametrize("command", VENDOR_COMMANDS)
def test_every_vendor_option_is_a_parameter_of_its_flow(command):
    flow_parameters = inspect.signature(_vendor_flow(command).fn).parameters
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
    assert [_vendor_flow(c).name for c in VENDOR_COMMANDS] == [
        "polygon-daily-ingestion",
        "polygon-historical-backfill",
        "polygon-reference-data",
        "yahoo-market-data",
        "yahoo-company-data",
    ]


def test_stack_commands_parse():
    for argv in (["up"], ["down"], ["status"], ["env"], ["demo"], ["ingest", "files", "a.csv"]):
        assert build_parser().parse_args(argv).command == argv[0]
