"""Bad input never reaches TensorFlow: each public entry point raises ValueError (wrong
value) or TypeError (wrong type) with a message naming the parameter and the value given."""
from __future__ import annotations

import numpy as np
import pytest

import fedlearn_edu as fl

Y = np.repeat([0, 1, 2], 10)                        # 30 labels
X = np.arange(60, dtype=float).reshape(30, 2)


def _X_with_nan():
    X_bad = X.copy()
    X_bad[3, 1] = np.nan
    return X_bad


def _labels_out_of_range():
    y = Y.copy()
    y[-1] = 3
    return y


def _client_update(**kwargs):
    trainer = fl.LocalTrainer(fl.build_model(n_features=2, n_classes=3, hidden_units=(4,)))
    return fl.client_update(trainer, fl.get_weights(trainer.model), X.astype(np.float32), Y, **kwargs)


# (id, call, exception type, parameter name, value as shown in the message)
CASES = [
    # number of clients
    ("n_clients=0", lambda: fl.FLConfig(n_clients=0), ValueError, "n_clients", "got 0"),
    ("n_clients=-3", lambda: fl.FLConfig(n_clients=-3), ValueError, "n_clients", "got -3"),
    ("n_clients>samples run", lambda: fl.run_experiment(n_clients=801, rounds=1, progress=False),
     ValueError, "n_clients", "got 801"),
    ("n_clients>samples partition", lambda: fl.iid_partition(Y, 31), ValueError, "n_clients", "got 31"),
    ("n_clients='10'", lambda: fl.FLConfig(n_clients="10"), TypeError, "n_clients", "'10'"),
    ("n_clients=2.5", lambda: fl.FLConfig(n_clients=2.5), TypeError, "n_clients", "2.5"),
    # the objective's client weights
    ("client_weighting='mean'", lambda: fl.FLConfig(client_weighting="mean"), ValueError, "client_weighting",
     "'mean'"),
    ("client_weights negative", lambda: fl.aggregate.client_weights([3, -1]), ValueError, "n_examples", "-1"),
    ("n_clients=True", lambda: fl.FLConfig(n_clients=True), TypeError, "n_clients", "True"),
    ("n_clients=None partition", lambda: fl.make_partition(Y, None), TypeError, "n_clients", "None"),
    # client learning rate
    ("client_lr=0", lambda: fl.FLConfig(client_learning_rate=0), ValueError, "client_learning_rate", "got 0.0"),
    ("client_lr=-1", lambda: fl.FLConfig(client_learning_rate=-1), ValueError, "client_learning_rate", "got -1.0"),
    ("client_lr=nan", lambda: fl.FLConfig(client_learning_rate=float("nan")), ValueError,
     "client_learning_rate", "got nan"),
    ("client_lr=inf", lambda: fl.FLConfig(client_learning_rate=float("inf")), ValueError,
     "client_learning_rate", "got inf"),
    ("client_lr='0.1'", lambda: fl.FLConfig(client_learning_rate="0.1"), TypeError, "client_learning_rate", "'0.1'"),
    ("client_update lr=nan", lambda: _client_update(client_learning_rate=np.nan), ValueError,
     "client_learning_rate", "got nan"),
    # rounds, fraction, epochs, batch size
    ("rounds=0", lambda: fl.FLConfig(rounds=0), ValueError, "rounds", "got 0"),
    ("rounds=None", lambda: fl.FLConfig(rounds=None), TypeError, "rounds", "None"),
    ("fraction=0", lambda: fl.FLConfig(fraction=0), ValueError, "fraction", "got 0.0"),
    ("fraction=1.5", lambda: fl.FLConfig(fraction=1.5), ValueError, "fraction", "got 1.5"),
    ("fraction=nan", lambda: fl.FLConfig(fraction=float("nan")), ValueError, "fraction", "got nan"),
    ("local_epochs=0", lambda: fl.FLConfig(local_epochs=0), ValueError, "local_epochs", "got 0"),
    ("batch_size=0", lambda: fl.FLConfig(batch_size=0), ValueError, "batch_size", "got 0"),
    ("batch_size=0 client_update", lambda: _client_update(batch_size=0), ValueError, "batch_size", "got 0"),
    ("batch_size='32'", lambda: fl.FLConfig(batch_size="32"), TypeError, "batch_size", "'32'"),
    ("client_momentum=1", lambda: fl.FLConfig(client_momentum=1.0), ValueError, "client_momentum", "got 1.0"),
    ("mu=-0.5", lambda: fl.FLConfig(mu=-0.5), ValueError, "mu", "got -0.5"),
    ("seed=-1", lambda: fl.FLConfig(seed=-1), ValueError, "seed", "got -1"),
    # alpha and partitions
    ("alpha=0 config", lambda: fl.FLConfig(alpha=0), ValueError, "alpha", "got 0.0"),
    ("alpha=0 dirichlet", lambda: fl.dirichlet_partition(Y, 3, alpha=0), ValueError, "alpha", "got 0.0"),
    ("alpha=-1 quantity", lambda: fl.quantity_skew_partition(Y, 3, alpha=-1), ValueError, "alpha", "got -1.0"),
    ("partition='foo' config", lambda: fl.FLConfig(partition="foo"), ValueError, "partition", "'foo'"),
    ("partition='foo'", lambda: fl.make_partition(Y, 3, "foo"), ValueError, "partition", "'foo'"),
    ("shards_per_client=0", lambda: fl.shard_partition(Y, 3, shards_per_client=0), ValueError,
     "shards_per_client", "got 0"),
    ("min_size=0", lambda: fl.FLConfig(min_size=0), ValueError, "min_size", "got 0"),
    # server
    ("server_optimizer='sgd' config", lambda: fl.FLConfig(server_optimizer="sgd"), ValueError,
     "server_optimizer", "'sgd'"),
    ("server_optimizer='sgd'", lambda: fl.make_server_optimizer("sgd"), ValueError, "server_optimizer", "'sgd'"),
    ("server_lr=0", lambda: fl.FLConfig(server_learning_rate=0), ValueError, "server_learning_rate", "got 0.0"),
    ("server_momentum=1", lambda: fl.FLConfig(server_momentum=1), ValueError, "server_momentum", "got 1.0"),
    ("tau=0", lambda: fl.FLConfig(tau=0), ValueError, "tau", "got 0.0"),
    # data and model
    ("dataset='mnist'", lambda: fl.FLConfig(dataset="mnist"), ValueError, "dataset", "'mnist'"),
    ("hidden_units=(64, 0)", lambda: fl.FLConfig(hidden_units=(64, 0)), ValueError, "hidden_units", "got 0"),
    ("activation='softmax'", lambda: fl.FLConfig(activation="softmax"), ValueError, "activation", "'softmax'"),
    ("engine='gpu'", lambda: fl.FLConfig(engine="gpu"), ValueError, "engine", "'gpu'"),
    ("X/y length mismatch", lambda: fl.split_and_standardise(X, Y[:-1]), ValueError, "y",
     "30 samples in X and 29 labels"),
    ("labels outside 0..C-1", lambda: fl.split_and_standardise(X, _labels_out_of_range(), n_classes=3),
     ValueError, "y", "from 0 to 3"),
    ("negative labels", lambda: fl.iid_partition(np.array([0, 1, -2, 1]), 2), ValueError, "y", "got -2"),
    ("non-integer labels", lambda: fl.split_and_standardise(X, Y + 0.5), ValueError, "y", "non-integer"),
    ("string labels", lambda: fl.split_and_standardise(X, Y.astype(str)), TypeError, "y", "dtype <U"),
    ("NaN features", lambda: fl.split_and_standardise(_X_with_nan(), Y), ValueError, "X", "NaN"),
    ("1-D features", lambda: fl.split_and_standardise(np.arange(30.0), Y), ValueError, "X", "shape (30,)"),
    ("test_size=1", lambda: fl.split_and_standardise(X, Y, test_size=1.0), ValueError, "test_size", "got 1.0"),
    ("hidden_units=0 model", lambda: fl.build_model(hidden_units=(0,)), ValueError, "hidden_units", "got 0"),
    ("n_classes=1 model", lambda: fl.build_model(n_classes=1), ValueError, "n_classes", "got 1"),
    ("set_seed(-1)", lambda: fl.set_seed(-1), ValueError, "seed", "got -1"),
]


@pytest.mark.parametrize("call, exc, name, shown", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_message(call, exc, name, shown):
    with pytest.raises(exc) as info:
        call()
    assert type(info.value) is exc
    message = str(info.value)
    assert name in message, message
    assert shown in message, message
    assert "\n" not in message                      # one line: readable in a notebook and the CLI


def test_nothing_slips_through_as_a_tensorflow_error():
    # wrong n_features for the model is caught before TensorFlow sees it
    trainer = fl.LocalTrainer(fl.build_article_model())
    with pytest.raises(ValueError, match=r"X must have shape \(n_k, 20\)"):
        fl.client_update(trainer, fl.get_weights(trainer.model), np.zeros((5, 7), np.float32), np.zeros(5, int))


def test_integral_floats_are_accepted():
    # 10.0 is an integer value: accepted and stored as int
    c = fl.FLConfig(n_clients=10.0, rounds=np.int64(3))
    assert c.n_clients == 10 and isinstance(c.n_clients, int)
    assert c.rounds == 3 and isinstance(c.rounds, int)


def test_star_import_brings_no_module_names():
    """``from fedlearn_edu import *`` must not overwrite a student's ``data``, ``model`` or ``client``."""
    import types
    namespace: dict = {}
    exec("from fedlearn_edu import *", namespace)
    imported = {k: v for k, v in namespace.items() if not k.startswith("__")}
    assert not [k for k, v in imported.items() if isinstance(v, types.ModuleType)]
    assert {"data", "model", "client", "simulation"}.isdisjoint(imported)
    assert set(imported) == set(fl.__all__) and len(fl.__all__) == len(set(fl.__all__))
