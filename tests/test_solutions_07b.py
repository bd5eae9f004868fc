"""Notebook 07b's exercise solutions quote numbers: recompute them with the kit."""
from helpers import assert_states_in_order, solution_text  # noqa: E402

from fedlearn_edu.widgets import challenges


def test_exercise_3_bytes_for_a_real_federation():
    phones, fraction, n_parameters, rounds = 1000, 0.01, 1_200_000, 500
    m = int(fraction * phones)
    per_round = challenges.bytes_per_round(n_parameters, m)
    text = solution_text("07b_communication_and_devices", 3)
    assert_states_in_order(text, [f"{per_round / 1e6:g}", f"{rounds * per_round / 1e9:g}",
                                  f"{per_round / m / 1e6:g}", f"{per_round / m / 2e6:g}", f"{per_round / m / 2e6:g}"])
