"""The checks a new-lane form asks before creating (core/lane_checks.py), in real repos."""

from __future__ import annotations

import pytest

from core.errors import InvalidInputError
from core.lane_checks import new_lane_problem


def test_a_free_name_on_a_known_base_has_no_problem(ws):
    assert new_lane_problem(ws, "fresh", "HEAD") == ""
    assert new_lane_problem(ws, "fresh", "") == ""


def test_each_problem_is_named_without_command_line_flags(ws):
    ws.lanes.create("taken")
    ws.lanes.create("gone")
    ws.lanes.remove("gone")
    problems = {
        "invalid lane name": new_lane_problem(ws, "bad name!", "HEAD"),
        "'taken' already exists": new_lane_problem(ws, "taken", "HEAD"),
        "existed and was removed": new_lane_problem(ws, "gone", "HEAD"),
        "base ref 'nope'": new_lane_problem(ws, "fresh", "nope"),
    }
    for expected, problem in problems.items():
        assert expected in problem and "--" not in problem
    # What the form says is what create would refuse.
    with pytest.raises(Exception):
        ws.lanes.create("fresh", base_ref="nope")


def test_errors_carry_a_wording_for_the_app():
    err = InvalidInputError("empty; pass a non-empty --subject", ui="empty;  type one")
    assert str(err) == "empty; pass a non-empty --subject" and err.for_ui() == "empty; type one"
    assert InvalidInputError("plain").for_ui() == "plain"


def test_an_empty_subject_is_refused_in_both_wordings(ws):
    task = ws.tasks.create("x")
    with pytest.raises(InvalidInputError) as info:
        ws.tasks.update(task["id"], subject=" ")
    assert "--subject" in str(info.value) and "--" not in info.value.for_ui()
