"""Notebook 09b's exercise solutions state facts: recompute them with the kit."""
import numpy as np
import pytest
from helpers import solution_text  # noqa: E402

from fedlearn_edu import secure_aggregation as secagg


def test_exercise_2_fewer_survivors_than_the_threshold_abort_the_round():
    updates = np.random.default_rng(0).normal(0, 0.01, (5, 20))
    with pytest.raises(ValueError):
        secagg.secure_sum(updates, dropped=[0, 1, 2], threshold=3)
    assert secagg.secure_sum(updates, dropped=[0, 1], threshold=3).exact, "three survivors are enough"
    text = solution_text("09b_secure_aggregation_and_poisoning", 2)
    assert "fewer than the threshold" in text and "dropped=[0, 1, 2]" in text


def test_exercise_3_and_4_are_the_masks_and_the_median():
    assert "def masked_update" in solution_text("09b_secure_aggregation_and_poisoning", 3)
    assert "def coordinate_median" in solution_text("09b_secure_aggregation_and_poisoning", 4)
