"""fl.check: a notebook's claim as one verdict line that never raises."""
import math

import numpy as np
import pytest

from fedlearn_edu.claims import check, format_value, verdict


def test_a_claim_that_holds_prints_a_tick_with_the_numbers(capsys):
    check(0.885 >= 0.85, "FedAvg reaches 85% on the article's data", measured=0.885, expected="≥ 0.85")
    assert capsys.readouterr().out == "✔ FedAvg reaches 85% on the article's data: measured 0.885, expected ≥ 0.85\n"


def test_a_claim_that_fails_prints_a_cross_and_does_not_raise(capsys):
    assert check(False, "the loss went down", measured=[0.9, 1.2], expected="a smaller last value") is None
    assert capsys.readouterr().out == "✘ the loss went down: measured [0.9, 1.2], expected a smaller last value\n"


def test_the_verdict_is_truthy_iff_the_claim_holds():
    assert verdict(np.bool_(True), "x") and not verdict(np.bool_(False), "x")
    assert str(verdict(True, "plain claim")) == "✔ plain claim"


@pytest.mark.parametrize("condition, reason", [
    (lambda: 1 / 0, "ZeroDivisionError"),
    (lambda: bool(np.array([1, 2]) > 1), "ValueError"),
    (np.array([True, False]), "ValueError"),             # an array is not one truth value
    (lambda: [][3], "IndexError"),
])
def test_a_check_that_cannot_be_evaluated_is_a_cross_that_says_why(condition, reason):
    result = verdict(condition, "a claim", measured=1)
    assert not result and reason in str(result)
    assert str(result).startswith("✘ a claim: measured 1, could not be checked (")


@pytest.mark.parametrize("value, text", [
    (1539, "1539"), (np.int64(7), "7"), (0.88541, "0.8854"), (np.float32(0.5), "0.5"), (math.nan, "nan"),
    (math.inf, "inf"), (True, "True"), ("≥ 0.85", "≥ 0.85"), (np.array(3.0), "3"),
    (list(range(10)), "[0, 1, 2, 3, 4, 5, 6, 7, …]"), (np.array([0.1, 0.25]), "[0.1, 0.25]"),
])
def test_values_are_formatted_short_and_stable(value, text):
    assert format_value(value) == text
