"""Notebook 12's exercise solutions quote measured numbers: recompute them with the kit."""
from helpers import assert_states_in_order, solution_text  # noqa: E402

from fedlearn_edu.sweeps import settled_accuracy
from fedlearn_edu.widgets import communication


def test_exercise_1_top_k_on_skewed_data():
    skewed = communication.base_config().replace(partition="dirichlet", alpha=0.1)
    settled = {s: settled_accuracy(communication.run_cached(skewed.replace(**communication.scheme_fields(s, 0.05))),
                                   last=5) for s in ("none", "top-k")}
    iid = communication.compute_communication()
    lost_skewed = settled["none"] - settled["top-k"]
    lost_iid = iid.settled["none"] - iid.settled["top-k"]
    assert_states_in_order(solution_text("12_communication_cost", 1), [f"{lost_skewed:.3f}", f"{lost_iid:.3f}"])
    # the claims the numbers carry: it hurts less on the skewed split, and the uncompressed run settles lower there
    assert lost_skewed < lost_iid
    assert settled["none"] < iid.settled["none"]
