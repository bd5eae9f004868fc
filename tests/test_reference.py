"""The readable NumPy FedAvg (fedlearn_edu.reference) gives both engines' weights for the same seed."""
import numpy as np
import pytest

import fedlearn_edu as fl
from fedlearn_edu import reference


@pytest.mark.parametrize("changes", [
    dict(),
    dict(partition="dirichlet", alpha=0.3, fraction=0.5, local_epochs=2, batch_size=16),
    dict(batch_size=None, local_epochs=3, client_learning_rate=0.5),
], ids=["article", "dirichlet-partial-E2-B16", "full-batch-E3"])
@pytest.mark.parametrize("engine", ["vectorized", "per_client"])
def test_reference_equals_the_engines(changes, engine):
    config = fl.FLConfig(n_clients=6, rounds=4, engine=engine).replace(**changes)
    sim = fl.Simulation(config)
    history = sim.run(progress=False)
    d = sim.dataset
    weights, accuracy = reference.run_fedavg(
        d.X_train, d.y_train, d.X_test, d.y_test, sim.partitions, sim.initial_weights, rounds=config.rounds,
        local_epochs=config.local_epochs, batch_size=config.batch_size,
        client_learning_rate=config.client_learning_rate, fraction=config.fraction, seed=config.seed)
    for mine, kit in zip(weights, history.final_weights, strict=True):
        np.testing.assert_allclose(mine, kit, rtol=1e-5, atol=1e-5 * float(np.max(np.abs(kit))))
    np.testing.assert_allclose(accuracy, history.accuracy, atol=1 / len(d.y_test) + 1e-9)


def test_hand_gradients_match_tensorflow():
    """The gradient written out in reference.gradients is the one GradientTape computes."""
    import tensorflow as tf
    d = fl.make_seed_dataset()
    model = fl.build_article_model(seed=3)
    w = fl.get_weights(model)
    x, y = d.X_train[:16], d.y_train[:16]
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(tf.keras.losses.sparse_categorical_crossentropy(y, model(x)))
    expected = tape.gradient(loss, model.trainable_variables)
    for mine, tape_grad in zip(reference.gradients(w, x, y), expected, strict=True):
        np.testing.assert_allclose(mine, tape_grad.numpy(), rtol=1e-4, atol=1e-6)


def test_fedavg_weights_by_examples():
    a, b = [np.zeros(2, np.float32)], [np.ones(2, np.float32)]
    np.testing.assert_allclose(reference.fedavg([a, b], [1, 3])[0], [0.75, 0.75])
