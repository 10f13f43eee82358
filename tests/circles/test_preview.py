"""The roster preview: CSV checks with line numbers, JSON shape, text table, bad input."""

from __future__ import annotations

import io
import json
from datetime import date
from pathlib import Path

import pytest

from bot.cli import main
from services.circles.preview import EXIT_INVALID, EXIT_OK, run_preview

HEADER = "slack_user_id,email,name,timezone,team,level,region,role\n"
ROWS = [
    "U1,ana@example.com,Ana,Europe/Berlin,Sales,L1,EMEA,leader",
    "U2,bo@example.com,Bo,Europe/London,Ops,L2,EMEA,leader",
    "U3,,Cy,Europe/Paris,Finance,L3,EMEA,",
    "U4,,Di,Africa/Lagos,Sales,L2,EMEA,",
    "U5,,Ed,Europe/Madrid,People,L1,EMEA,",
    "U6,,Fi,Europe/Rome,Ops,L3,EMEA,",
    "U7,,Gu,Europe/Oslo,Eng,L2,EMEA,",
    "U8,,Ha,Europe/Dublin,Eng,L1,EMEA,",
]


def preview(tmp_path: Path, text: str, **options: object) -> tuple[int, str, str]:
    roster = tmp_path / "roster.csv"
    roster.write_text(text, encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    arguments: dict[str, object] = {"rounds": 3, "size": 2, "seed": 1, "as_json": True}
    arguments.update(options)
    code = run_preview(
        roster_path=roster,
        out=out,
        err=err,
        first_round=date(2026, 3, 2),
        **arguments,  # type: ignore[arg-type]
    )
    return code, out.getvalue(), err.getvalue()


def test_json_lists_each_rounds_groups_by_slack_user_id(tmp_path: Path) -> None:
    code, out, err = preview(tmp_path, HEADER + "\n".join(ROWS) + "\n", rounds=7)
    assert (code, err) == (EXIT_OK, "")
    payload = json.loads(out)
    assert list(payload) == ["rounds"]
    assert len(payload["rounds"]) == 7
    met: list[frozenset[str]] = []
    for groups in payload["rounds"]:
        assert all(isinstance(key, str) for group in groups for key in group)
        assert sorted(key for group in groups for key in group) == [f"U{n}" for n in range(1, 9)]
        met.extend(frozenset(group) for group in groups)
    # Eight people in pairs can meet everyone once in seven rounds; the preview does.
    assert len(met) == len(set(met)) == 28


def test_json_adds_unmatched_only_when_someone_is_left_out(tmp_path: Path) -> None:
    rows = [*ROWS[:3], "U9,,Zo,Pacific/Kiritimati,Ops,L1,APAC,"]
    code, out, _ = preview(tmp_path, HEADER + "\n".join(rows) + "\n", rounds=2)
    payload = json.loads(out)
    assert code == EXIT_OK
    assert (
        payload["unmatched"]
        == [
            [
                {
                    "slack_user_id": "U9",
                    "reason": "nobody else's working hours are within 6h of UTC+14",
                }
            ]
        ]
        * 2
    )


def test_the_text_table_shows_groups_figures_and_totals(tmp_path: Path) -> None:
    code, out, _ = preview(tmp_path, HEADER + "\n".join(ROWS[:5]) + "\n", as_json=False)
    assert code == EXIT_OK
    assert "Round 1: 2 circles: 1 of 2, 1 of 3\n" in out  # five in pairs: a pair and a trio
    assert "none have met before" in out
    table = out.splitlines()[-5:]
    assert table[0].split() == [
        "round",
        "circles",
        "repeat",
        "pairs",
        "same-team",
        "pairs",
        "cross-level",
        "unmatched",
    ]
    assert [line.split()[0] for line in table[1:]] == ["1", "2", "3", "total"]
    assert table[-1].split()[1] == "6"
    code, out, _ = preview(tmp_path, HEADER + "\n".join(ROWS[:4]) + "\n", as_json=False)
    assert "Round 1: 2 circles of 2\n" in out


def test_bad_rows_are_all_reported_with_their_line_numbers(tmp_path: Path) -> None:
    text = (
        HEADER
        + "U1,a@example.com,Ana,Europe/Berlin,Sales,L1,EMEA,\n"
        + ",b@example.com,Bo,Europe/London,Ops,L2,EMEA,\n"
        + 'U3,,"Cy\nSecond line",Mars/Olympus,Sales,L3,,\n'
        + "U1,,Dup,Asia/Kolkata,Finance,L2,APAC,\n"
        + "u5,,Ed,Europe/Paris,Ops,L1,EMEA,\n"
        + "U6,,Fi,Europe/Paris,Ops,L1,EMEA,,surplus\n"
    )
    code, out, err = preview(tmp_path, text)
    assert (code, out) == (EXIT_INVALID, "")
    assert err.splitlines()[1:] == [
        "  line 3: missing slack_user_id",
        "  line 5: unknown timezone 'Mars/Olympus' (use an IANA name like Europe/Berlin)",
        "  line 6: duplicate slack_user_id U1 (first on line 2)",
        "  line 7: slack_user_id 'u5' should be capital letters and digits",
        "  line 8: 9 fields but the header has 8",
    ]


def test_a_missing_column_is_named(tmp_path: Path) -> None:
    code, _, err = preview(tmp_path, "slack_user_id,name,timezone\nU1,Ana,UTC\n")
    assert code == EXIT_INVALID
    assert "line 1: missing column(s) email, team, level, region" in err


def test_an_empty_timezone_means_utc_and_extra_columns_are_ignored(tmp_path: Path) -> None:
    text = (
        "slack_user_id,email,name,timezone,team,level,region,title\nU1,,A,,,,,CEO\nU2,,B,UTC,,,,\n"
    )
    code, out, _ = preview(tmp_path, text, rounds=1)
    assert (code, json.loads(out)) == (EXIT_OK, {"rounds": [[["U1", "U2"]]]})


@pytest.mark.parametrize(
    ("rows", "size", "expected"),
    [
        ([], 4, {"rounds": [[]] * 3}),
        (ROWS[:2], 4, {"rounds": [[["U1", "U2"]]] * 3}),
        (ROWS[:3], 4, {"rounds": [[["U1", "U2", "U3"]]] * 3}),
    ],
)
def test_tiny_rosters_give_one_small_group_or_none(
    tmp_path: Path, rows: list[str], size: int, expected: dict[str, object]
) -> None:
    code, out, _ = preview(tmp_path, HEADER + "".join(row + "\n" for row in rows), size=size)
    assert (code, json.loads(out)) == (EXIT_OK, expected)


def test_a_roster_of_one_reports_that_person_as_unmatched(tmp_path: Path) -> None:
    code, out, _ = preview(tmp_path, HEADER + ROWS[0] + "\n", rounds=1, as_json=False)
    assert code == EXIT_OK
    assert "unmatched: Ana (U1): the only eligible person this round" in out


def test_an_empty_file_says_there_is_nobody(tmp_path: Path) -> None:
    code, out, _ = preview(tmp_path, "", as_json=False)
    assert code == EXIT_OK
    assert out.startswith("The roster has nobody in it")


def test_everyone_blocking_everyone_is_reported_not_crashed(tmp_path: Path) -> None:
    keys = [f"U{n}" for n in range(1, 5)]
    blocks = [(a, b) for a in keys for b in keys if a != b]
    code, out, _ = preview(tmp_path, HEADER + "\n".join(ROWS[:4]) + "\n", rounds=1, blocks=blocks)
    payload = json.loads(out)
    assert code == EXIT_OK and payload["rounds"] == [[]]
    assert [u["slack_user_id"] for u in payload["unmatched"][0]] == keys


def test_a_roster_spread_over_a_whole_day_is_grouped(tmp_path: Path) -> None:
    zones = [
        "Pacific/Pago_Pago",
        "Pacific/Honolulu",
        "America/Los_Angeles",
        "America/Chicago",
        "America/New_York",
        "America/Sao_Paulo",
        "Europe/London",
        "Europe/Berlin",
        "Asia/Dubai",
        "Asia/Kolkata",
        "Asia/Tokyo",
        "Australia/Sydney",
        "Pacific/Auckland",
        "Pacific/Kiritimati",
    ]
    rows = [f"U{n},,P{n},{zone},T{n % 3},L{n % 2}," for n, zone in enumerate(zones)]
    code, out, _ = preview(
        tmp_path, "slack_user_id,email,name,timezone,team,level,region\n" + "\n".join(rows), size=3
    )
    payload = json.loads(out)
    assert code == EXIT_OK and "unmatched" not in payload
    assert all(len(group) in (2, 3, 4) for groups in payload["rounds"] for group in groups)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"size": 7}, "error: group size must be between 2 and 6"),
        ({"size": 1}, "error: group size must be between 2 and 6"),
        ({"rounds": 0}, "error: rounds must be at least 1"),
        ({"cadence_weeks": 0}, "error: rounds must be 1 to 12 weeks apart"),
        ({"cadence_weeks": 13}, "error: rounds must be 1 to 12 weeks apart"),
        ({"max_spread_hours": 25}, "error: the timezone spread must be between 0 and 24 hours"),
        ({"max_spread_hours": -1}, "error: the timezone spread must be between 0 and 24 hours"),
    ],
)
def test_bad_options_exit_with_a_clear_message(
    tmp_path: Path, options: dict[str, object], message: str
) -> None:
    code, out, err = preview(tmp_path, HEADER + ROWS[0] + "\n", **options)
    assert (code, out, err.strip()) == (EXIT_INVALID, "", message)


def test_a_missing_file_exits_with_a_clear_message(tmp_path: Path) -> None:
    out, err = io.StringIO(), io.StringIO()
    code = run_preview(
        roster_path=tmp_path / "nope.csv", rounds=1, size=2, seed=0, as_json=True, out=out, err=err
    )
    assert code == EXIT_INVALID
    assert err.getvalue().startswith("error: cannot read")


LONDON_AND_NEW_YORK = (
    HEADER + "U1,,Ana,Europe/London,Sales,L1,EMEA,\n" + "U2,,Bo,America/New_York,Ops,L2,AMER,\n"
)


@pytest.mark.parametrize(
    ("cadence_weeks", "expected"),
    [
        # 2 Mar: five hours apart; 9 and 16 Mar: New York has moved its clocks, London not yet.
        (1, [[], [["U1", "U2"]], [["U1", "U2"]]]),
        # 2 Mar, 30 Mar, 27 Apr: both or neither on summer time, five hours apart every round.
        (4, [[], [], []]),
    ],
)
def test_rounds_fall_on_the_cadence_with_each_dates_clocks(
    tmp_path: Path, cadence_weeks: int, expected: list[list[list[str]]]
) -> None:
    code, out, _ = preview(
        tmp_path, LONDON_AND_NEW_YORK, cadence_weeks=cadence_weeks, max_spread_hours=4.5
    )
    assert code == EXIT_OK
    assert json.loads(out)["rounds"] == expected


def test_someone_no_circle_can_take_is_told_so_without_naming_anyone(tmp_path: Path) -> None:
    # Ana (London) fits with either, but Bo (Tokyo) and Cy (New York) are 10h apart, so
    # no circle of three fits and someone sits out.
    text = (
        HEADER
        + "U1,,Ana,Europe/London,Sales,L1,EMEA,\n"
        + "U2,,Bo,Asia/Tokyo,Ops,L2,APAC,\n"
        + "U3,,Cy,America/New_York,Eng,L3,AMER,\n"
    )
    code, out, _ = preview(tmp_path, text, rounds=1, size=3, max_spread_hours=9)
    payload = json.loads(out)
    assert code == EXIT_OK
    assert len(payload["rounds"][0]) == 1 and len(payload["rounds"][0][0]) == 2
    [[unmatched]] = payload["unmatched"]
    assert unmatched["reason"] == "no circle with a compatible partner could take one more person"


def test_the_command_line_takes_the_start_date_cadence_and_spread(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    roster = tmp_path / "roster.csv"
    roster.write_text(LONDON_AND_NEW_YORK, encoding="utf-8")
    common = ["circles", "preview", "--roster", str(roster), "--rounds", "3", "--json"]
    dates = ["--start", "2026-03-02", "--every", "1", "--spread", "4.5"]
    assert main([*common, *dates]) == EXIT_OK
    assert json.loads(capsys.readouterr().out)["rounds"] == [[], [["U1", "U2"]], [["U1", "U2"]]]
    with pytest.raises(SystemExit) as exited:
        main([*common, "--start", "2026-02-30"])
    assert exited.value.code == EXIT_INVALID
    assert "'2026-02-30' is not a date like 2027-01-04" in capsys.readouterr().err
