"""Notebook 13's exercise solutions quote measured numbers: recompute them with the kit."""
from helpers import assert_states_in_order, solution_text  # noqa: E402

from fedlearn_edu.widgets import stragglers


def test_exercise_6_where_the_deadline_should_be():
    deadlines = (3.0, 4.0, 5.0, 6.0, 8.0, 12.0, 20.0)
    minutes = [stragglers.compute_devices(deadline=d, correlated=True).minutes["accept partial work"]
               for d in deadlines]
    never = [f"{d:g}" for d, m in zip(deadlines, minutes, strict=True) if m is None]
    reached = [f"{m:.1f}" for m in minutes if m is not None]
    assert never == ["3", "4"]
    text = solution_text("13_devices_and_deadlines", 6)
    assert_states_in_order(text, [*never, *reached])
    # the claim: the best deadline is neither the smallest that reaches 90% nor the largest
    best = min(range(len(minutes)), key=lambda i: float("inf") if minutes[i] is None else minutes[i])
    assert 2 < best < len(deadlines) - 1


def test_exercise_1_the_proximal_term_does_not_help_the_slow_digits():
    slow = list(stragglers.SLOW_CLASSES)
    accuracy = {mu: float(stragglers.run_devices(stragglers.base_config().replace(
        deadline=5.0, straggler_policy="partial", mu=mu), True)[1][slow].mean()) for mu in (0.0, 0.1)}
    text = solution_text("13_devices_and_deadlines", 1)
    assert_states_in_order(text, [f"{accuracy[0.1]:.3f}"])
    # the claim: "nothing changes" on digits 5-9
    assert abs(accuracy[0.1] - accuracy[0.0]) < 0.005
