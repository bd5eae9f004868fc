"""One algorithm registry: name -> FLConfig changes and a one-line description."""
import pytest

import fedlearn_edu as fl
from fedlearn_edu.widgets import challenges, lab, non_iid


@pytest.mark.parametrize("name", list(fl.ALGORITHMS))
def test_every_algorithm_builds_a_valid_config(name):
    algorithm = fl.ALGORITHMS[name]
    config = fl.algorithm_config(name, fl.FLConfig(rounds=3))
    for field, value in algorithm.changes.items():
        assert getattr(config, field) == value
    assert config.rounds == 3
    assert len(algorithm.description) > 20 and "\n" not in algorithm.description
    assert set(algorithm.knobs) <= set(fl.FLConfig().to_dict())


def test_knobs_are_set_and_checked():
    assert fl.algorithm_changes("FedProx", mu=0.5) == {"mu": 0.5}
    assert fl.algorithm_config("FedAvgM", server_momentum=0.5).server_momentum == 0.5
    with pytest.raises(ValueError, match="FedAvg has no setting mu"):
        fl.algorithm_changes("FedAvg", mu=0.1)
    with pytest.raises(ValueError, match="algorithm.*'FedMagic'"):
        fl.algorithm_changes("FedMagic")
    with pytest.raises(ValueError, match="mu"):          # FLConfig still checks the value
        fl.algorithm_config("FedProx", mu=-1.0)


def test_the_algorithms_really_differ():
    """Each registry entry changes the run: FedAvg and every variant give different final models."""
    base = fl.FLConfig(rounds=2, n_clients=4)
    finals = {name: fl.run_experiment(fl.algorithm_config(name, base)).final_loss for name in fl.ALGORITHMS}
    assert len(set(finals.values())) == len(finals), finals


def test_widgets_take_their_menus_from_the_registry():
    assert set(lab.ALGORITHMS) <= set(fl.ALGORITHMS) and set(non_iid.ALGORITHMS) <= set(fl.ALGORITHMS)
    for name in non_iid.ALGORITHMS:
        assert non_iid.algorithm_fields(name, mu=0.3, server_momentum=0.4) == fl.algorithm_changes(
            name, **{k: v for k, v in {"mu": 0.3, "server_momentum": 0.4}.items() if k in fl.ALGORITHMS[name].knobs})
    for name in lab.ALGORITHMS:
        config = lab.settings_to_config(lab.LabSettings(algorithm=name, mu=0.2, server_momentum=0.7))
        for field, value in fl.ALGORITHMS[name].changes.items():
            if field not in ("mu", "server_momentum"):
                assert getattr(config, field) == value
        assert config.mu == (0.2 if name == "FedProx" else 0.0)
    assert challenges.ALGORITHMS["FedAdam"] == {"server_optimizer": "fedadam", "server_learning_rate": 0.03}
