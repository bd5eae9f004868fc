"""Notebook 11's exercise solutions quote measured numbers: recompute them with the kit."""
from helpers import assert_states_in_order, solution_text  # noqa: E402

from fedlearn_edu.widgets import non_iid


def test_exercise_3_too_much_momentum():
    runs = {(alpha, beta): non_iid.compute_algorithms(alpha=alpha, server_momentum=beta, algorithms=("FedAvgM",))
            for alpha in (0.1, 100.0) for beta in (0.0, 0.5, 0.95)}
    rounds = {key: r.rounds["FedAvgM"] for key, r in runs.items()}
    final = {key: f"{r.final_accuracy['FedAvgM']:.3f}" for key, r in runs.items()}
    text = solution_text("11_non_iid_algorithms", 3)
    assert_states_in_order(text, [rounds[0.1, 0.0], rounds[100.0, 0.0], rounds[0.1, 0.5], rounds[100.0, 0.5],
                                  rounds[0.1, 0.95], final[0.1, 0.95], final[100.0, 0.95],
                                  final[0.1, 0.5], final[100.0, 0.5]])
    # the claims the numbers carry: 0.5 is best on both splits, 0.95 overshoots
    assert rounds[0.1, 0.5] < min(rounds[0.1, 0.0], rounds[0.1, 0.95])
    assert rounds[100.0, 0.5] == rounds[100.0, 0.0]
    for alpha in (0.1, 100.0):
        assert runs[alpha, 0.95].final_accuracy["FedAvgM"] < runs[alpha, 0.5].final_accuracy["FedAvgM"]
        assert runs[alpha, 0.5].final_accuracy["FedAvgM"] > runs[alpha, 0.0].final_accuracy["FedAvgM"]


def test_exercise_1_many_clients():
    many, ten = non_iid.compute_algorithms(alpha=0.1, n_clients=30), non_iid.compute_algorithms(alpha=0.1)
    text = solution_text("11_non_iid_algorithms", 1)
    assert_states_in_order(text, [many.rounds["SCAFFOLD"], ten.rounds["SCAFFOLD"], many.rounds["FedAvg"],
                                  f"{many.non_iid_score:.3f}", f"{ten.non_iid_score:.3f}"])
    # the claims: SCAFFOLD gains most with 30 clients, and the split is more skewed
    gains = {a: many.rounds["FedAvg"] - many.rounds[a] for a in ("FedProx", "FedAvgM", "SCAFFOLD")}
    assert max(gains, key=gains.get) == "SCAFFOLD"
    assert many.non_iid_score > ten.non_iid_score
