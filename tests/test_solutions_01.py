"""Notebook 01's exercise solutions quote numbers: recompute them with the kit."""
from helpers import assert_states_in_order, solution_text  # noqa: E402

import fedlearn_edu as fl
from fedlearn_edu.widgets import comparison


def test_exercise_3_digits_crossover():
    digits = fl.load_dataset("digits")
    n_parameters = fl.count_parameters(fl.get_weights(fl.build_model(digits.n_features, digits.n_classes, (64,))))
    example_bytes = comparison.bytes_per_example(digits.n_features)
    result = comparison.compute_bytes_crossover(samples_per_client=len(digits.y_train) // 10, rounds=20,
                                                n_parameters=n_parameters, example_bytes=example_bytes)
    per_client = len(digits.y_train) // 10
    text = solution_text("01_why_federated", 3)
    crossover = round(result.crossover_samples)
    assert_states_in_order(text, [n_parameters, crossover, per_client,              # the code and its comment
                                  example_bytes, n_parameters, crossover, per_client])  # the sentence
    assert result.crossover_samples > per_client          # "uploading is cheaper"
