"""Cell checks (number, range, step), deviation per expert, objective-item consistency."""

from __future__ import annotations

from decimal import Decimal

import pytest

from scoring.rules import (
    Cell,
    Criterion,
    FindingKind,
    Group,
    Item,
    RuleError,
    check_value,
    deviation,
    objective_differences,
)

D = Decimal  # short, for the tables below

QUALITY = Criterion("q", Group.TECHNICAL, D("5"), D("0.5"))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0", None),
        ("2.5", None),
        ("5", None),
        ("5.0", None),
        ("5.5", FindingKind.OUT_OF_RANGE),
        ("-0.5", FindingKind.OUT_OF_RANGE),
        ("2.3", FindingKind.OFF_STEP),
        ("0.25", FindingKind.OFF_STEP),
        ("NaN", FindingKind.NOT_A_NUMBER),
        ("Infinity", FindingKind.NOT_A_NUMBER),
    ],
)
def test_a_value_is_checked_for_number_range_and_step(value, expected):
    assert check_value(D(value), QUALITY) == expected


def test_a_float_is_not_a_number_here():
    assert check_value(2.5, QUALITY) == FindingKind.NOT_A_NUMBER  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"max_points": D("0")}, "positive"),
        ({"max_points": D("5"), "step": D("2")}, "divide"),
        ({"max_points": D("5"), "step": D("0")}, "step"),
        ({"max_points": D("5"), "group": "bonus"}, "bonus"),
    ],
)
def test_a_criterion_out_of_shape_is_refused(kwargs, message):
    values = {"id": "x", "group": Group.TECHNICAL, **kwargs}
    with pytest.raises(ValueError, match=message):
        Criterion(**values)


def test_deviation_is_the_distance_to_the_others_mean_over_max():
    assert deviation(D("9"), [D("5"), D("6"), D("7")], D("10")) == D("0.3")
    assert deviation(D("2"), [D("9"), D("9"), D("9"), D("9")], D("10")) == D("0.7")
    assert deviation(D("4"), [], D("10")) is None


def test_objective_differences_name_the_item_and_every_expert_value():
    scores = {
        Cell("e1", "a", "cert"): D("2"),
        Cell("e2", "a", "cert"): D("2"),
        Cell("e1", "b", "cert"): D("2"),
        Cell("e2", "b", "cert"): D("1"),
        Cell("e1", "b", "plan"): D("3"),
        Cell("e2", "b", "plan"): D("4"),
    }
    assert objective_differences(scores, ["cert"]) == {Item("b", "cert"): {"e1": D("2"), "e2": D("1")}}


def test_rule_errors_are_value_errors():
    assert issubclass(RuleError, ValueError)
