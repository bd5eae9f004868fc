"""Notebook 09's exercise solutions state facts: recompute them with the kit."""
from helpers import solution_text  # noqa: E402

from fedlearn_edu import privacy


def test_exercise_1_four_times_the_rounds_cost_about_twice_the_epsilon():
    ratio = (privacy.dp_epsilon(1.0, 0.2, 60, delta=1e-5) / privacy.dp_epsilon(1.0, 0.2, 15, delta=1e-5))
    assert 1.6 < ratio < 2.4, ratio
    assert "about twice" in solution_text("09_privacy_and_security", 1)


def test_exercise_2_divides_by_the_expected_clients():
    text = solution_text("09_privacy_and_security", 2)
    assert "0.2 * 50" in text and privacy.dp_noise_std(1.0, 0.5, 0.2 * 50) == 0.05


def test_exercise_6_clips_each_client_before_the_sum():
    text = solution_text("09_privacy_and_security", 6)
    assert "def dp_aggregate" in text and "each client first" in text and "check_dp_aggregate" in text


def test_exercise_7_scales_whole_rows():
    text = solution_text("09_privacy_and_security", 7)
    assert "def clip_to_norm" in text and "check_clip_to_norm" in text
