"""fl.exercises: every checker passes the solution, gives each typical wrong answer its own hint,
and never raises on garbage (None, a string, a wrong shape, NaN, a function that raises)."""
from __future__ import annotations

import math
import sys
from types import SimpleNamespace

import numpy as np
import pytest

import fedlearn_edu as fl
from fedlearn_edu import exercises as ex
from fedlearn_edu import reference


def passes(verdict):
    assert isinstance(verdict, ex.Verdict), verdict
    text = str(verdict)
    assert verdict and verdict.passed and text.startswith("✔ ") and verdict.message.startswith("✔"), text
    assert "\n" not in text and repr(verdict) == text and verdict.hint == ""


def fails(verdict, phrase):
    assert isinstance(verdict, ex.Verdict), verdict
    text = str(verdict)
    assert not verdict and not verdict.passed and text.startswith("✘ ") and verdict.message.startswith("✘"), text
    assert "\n" not in text, text
    assert phrase in text, f"{phrase!r} not in {text!r}"


def raising(*args, **kwargs):
    return 1 / 0


# =============================================================================================
# The verdict, the registry, garbage
# =============================================================================================
def test_verdict_is_one_line_truthy_iff_passed():
    good, bad = ex.Verdict(True, "fine\nreally"), ex.Verdict(False, "✘ wrong", hint="a hint")
    assert good and str(good) == "✔ fine really" == repr(good)
    assert not bad and str(bad) == "✘ wrong" and bad.hint == "a hint"
    assert str(ex.Verdict(False, "✔ not really")) == "✘ not really"      # the mark follows `passed`
    with pytest.raises(AttributeError):
        good.passed = False                                                 # frozen


def test_registry_lists_every_checker_with_its_notebook():
    functions = {name for name, value in vars(ex).items() if name.startswith("check_") and callable(value)}
    assert functions == set(ex.CHECKERS) and len(functions) >= 30
    assert set(ex.__all__) == functions | {"Verdict", "CHECKERS"}
    notebooks = {notebook for notebook, _ in ex.CHECKERS.values()}
    assert set(range(9)) <= notebooks
    for name, (notebook, description) in ex.CHECKERS.items():
        doc = getattr(ex, name).__doc__
        assert f"{notebook:02d}" in doc and "\n" not in description and description, name


#: the context each checker needs besides the answer
CONTEXT = {
    "check_prediction": dict(measured=0.9),
    "check_clients_per_round": dict(n_clients=10, fraction=0.35),
    "check_rounds_to_accuracy": dict(accuracy=[0.5, 0.9]),
    "check_config_field": dict(),
    "check_model_upload_bytes": dict(),
    "check_crossover_samples": dict(n_parameters=1539, rounds=20, example_bytes=84),
    "check_label_distribution": dict(y=np.array([0, 1, 2, 2]), parts=[np.array([0, 1]), np.array([2, 3])]),
    "check_partition": dict(n_examples=20, n_clients=3),
    "check_more_skewed_alpha": dict(),
    "check_non_iid_score": dict(counts=np.array([[5, 1], [1, 5]])),
    "check_parameter_count": dict(),
    "check_local_steps": dict(n_examples=80, epochs=5, batch_size=32),
    "check_fedavg_weights": dict(n_examples=[9, 200, 40]),
    "check_stopping_round": dict(losses=[0.80, 0.60, 0.50, 0.497, 0.490, 0.488, 0.487, 0.486]),
    "check_article_weights": dict(n_examples=[5, 50, 200]),
    "check_objective_weights": dict(n_examples=[10, 30, 60]),
    "check_run_bytes": dict(n_parameters=1539, rounds=20, n_clients=10),
    "check_dp_noise_std": dict(noise_multiplier=1.2, clip_norm=2.0, expected_clients=4),
    "check_upload_bytes": dict(scheme="int8", n_parameters=4810),
    "check_topk_breakeven": dict(n_parameters=4810),
    "check_client_time": dict(model_bytes=19240, examples_trained=144, examples_per_second=100,
                              bytes_per_second=20000),
    "check_partial_steps": dict(n_examples=72, epochs=2, batch_size=10, examples_per_second=20,
                                bytes_per_second=20000, model_bytes=19240, deadline=5.0),
    "check_round_time": dict(client_seconds=[3.0, 7.5, 4.2]),
    "check_speedup": dict(rounds_fedsgd=60, rounds_fedavg=12),
}
#: checkers whose answer is a function: a raising one is reported with its exception
FUNCTION_CHECKERS = {"check_local_update", "check_fedprox_update", "check_fedavg", "check_fedavg_round",
                     "check_server_update", "check_fedavg_vectors", "check_fedsgd_step", "check_server_momentum",
                     "check_reconstruction", "check_clip_to_norm", "check_dp_aggregate", "check_secure_masks",
                     "check_coordinate_median", "check_scaffold_control", "check_proximal_gradient",
                     "check_error_feedback"}
GARBAGE = {"None": None, "text": "abc", "wrong shape": np.zeros((7, 3)), "NaN": float("nan"), "raises": raising}


@pytest.mark.parametrize("garbage", list(GARBAGE), ids=list(GARBAGE))
@pytest.mark.parametrize("name", sorted(ex.CHECKERS))
def test_garbage_gives_a_cross_and_never_raises(name, garbage):
    verdict = getattr(ex, name)(GARBAGE[garbage], **CONTEXT.get(name, {}))
    fails(verdict, "")
    assert "the checker could not run" not in str(verdict), str(verdict)     # diagnosed, not just caught
    if garbage == "raises" and name in FUNCTION_CHECKERS:
        fails(verdict, "ZeroDivisionError: division by zero")


def test_function_checkers_take_a_function_and_number_checkers_a_number():
    fails(ex.check_fedavg(np.ones(3)), "not a function")
    fails(ex.check_run_bytes(lambda: 3, **CONTEXT["check_run_bytes"]), "call it and pass its result")
    fails(ex.check_run_bytes(True, **CONTEXT["check_run_bytes"]), "not True or False")
    fails(ex.check_run_bytes(3), "check the keyword arguments")            # context missing: a cross, not a raise
    assert set(FUNCTION_CHECKERS) <= set(ex.CHECKERS)


# =============================================================================================
# Predict, then run; 00
# =============================================================================================
def test_check_prediction():
    passes(ex.check_prediction(0.85, 0.88, what="the final accuracy"))
    passes(ex.check_prediction(0.05, 0.0, tolerance=0.1))                  # absolute around 0
    fails(ex.check_prediction(2.0, 1.0), "overestimated")
    fails(ex.check_prediction(3.0, 1.0), "off by a factor 3")
    fails(ex.check_prediction(0.5, 1.0), "underestimated")
    fails(ex.check_prediction(-1.0, 1.0), "wrong sign")
    fails(ex.check_prediction(1.0, None), "run the experiment cell first")


def test_check_clients_per_round():
    passes(ex.check_clients_per_round(3, n_clients=10, fraction=0.35))
    passes(ex.check_clients_per_round(1, n_clients=10, fraction=0.05))
    fails(ex.check_clients_per_round(3.5, n_clients=10, fraction=0.35), "not a whole number of clients")
    fails(ex.check_clients_per_round(4, n_clients=10, fraction=0.35), "rounded C K up")
    fails(ex.check_clients_per_round(10, n_clients=10, fraction=0.35), "that is every client")
    fails(ex.check_clients_per_round(0.35, n_clients=10, fraction=0.35), "the share C itself")
    fails(ex.check_clients_per_round(0, n_clients=10, fraction=0.05), "at least one")
    fails(ex.check_clients_per_round(7, n_clients=10, fraction=0.35), "a share C of the K clients, rounded down")


def test_check_rounds_to_accuracy():
    acc = [0.5, 0.7, 0.86, 0.84, 0.9, 0.88]
    passes(ex.check_rounds_to_accuracy(3, accuracy=acc))
    passes(ex.check_rounds_to_accuracy(3, accuracy=SimpleNamespace(accuracy=np.array(acc))))   # a History
    fails(ex.check_rounds_to_accuracy(2, accuracy=acc), "0-based index")
    fails(ex.check_rounds_to_accuracy(5, accuracy=acc), "round of the best accuracy")
    fails(ex.check_rounds_to_accuracy(6, accuracy=acc), "the last round of the run")
    fails(ex.check_rounds_to_accuracy(4, accuracy=acc), "scan the accuracy column")
    fails(ex.check_rounds_to_accuracy(None, accuracy=acc), "None means never reached")
    passes(ex.check_rounds_to_accuracy(None, accuracy=[0.5, 0.6]))
    fails(ex.check_rounds_to_accuracy(2, accuracy=[0.5, 0.6]), "answer None")


def test_check_config_field():
    passes(ex.check_config_field("n_clients"))
    passes(ex.check_config_field("FLConfig.n_clients"))
    passes(ex.check_config_field("fraction", symbol="C"))
    passes(ex.check_config_field("client_learning_rate", symbol="α"))
    fails(ex.check_config_field("clients_per_round"), "the clients of ONE round")
    fails(ex.check_config_field("rounds"), "FLConfig.rounds is 'int >= 1, R, communication rounds'")
    fails(ex.check_config_field("devices"), "simulate device profiles")
    fails(ex.check_config_field("n_devices"), "not a field of FLConfig")


# =============================================================================================
# 01
# =============================================================================================
def test_check_model_upload_bytes():
    p = fl.count_parameters(fl.build_article_model())
    passes(ex.check_model_upload_bytes(4 * p))
    passes(ex.check_model_upload_bytes(4 * 4810, n_features=64, hidden_units=64, n_classes=10))
    fails(ex.check_model_upload_bytes(p), "that is the number of parameters P")
    fails(ex.check_model_upload_bytes(8 * p), "a download plus an upload")
    fails(ex.check_model_upload_bytes(32 * p), "that is bits")
    fails(ex.check_model_upload_bytes(4 * (20 * 64 + 64 * 3)), "you left out the biases")
    fails(ex.check_model_upload_bytes(1000), "P float32 numbers of 4 bytes each")


def test_check_crossover_samples():
    context = dict(n_parameters=1539, rounds=20, example_bytes=84)
    exact = 8 * 1539 * 20 / 84
    passes(ex.check_crossover_samples(exact, **context))
    passes(ex.check_crossover_samples(round(exact), **context))
    passes(ex.check_crossover_samples(exact / 10, **context, fraction=0.1))
    fails(ex.check_crossover_samples(exact / 2, **context), "counted only the uploads")
    fails(ex.check_crossover_samples(exact, **context, fraction=0.1), "multiply by C")
    fails(ex.check_crossover_samples(exact / 4, **context), "parameters as bytes")
    fails(ex.check_crossover_samples(1000, **context), "set n_k × b")


# =============================================================================================
# 02
# =============================================================================================
Y = np.array([0, 0, 1, 2, 1, 1, 0, 2, 2, 0, 1, 0])
PARTS = [np.array([0, 1, 2]), np.array([3, 4, 5, 6]), np.array([7, 8]), np.array([9, 10, 11])]


def test_check_label_distribution():
    counts = np.stack([np.bincount(Y[p], minlength=3) for p in PARTS])
    passes(ex.check_label_distribution(counts, y=Y, parts=PARTS, n_classes=3))
    fails(ex.check_label_distribution(counts.T, y=Y, parts=PARTS), "you transposed the matrix")
    fails(ex.check_label_distribution(counts[:, :2], y=Y, parts=PARTS), "minlength=n_classes")
    fails(ex.check_label_distribution(counts / counts.sum(axis=1, keepdims=True), y=Y, parts=PARTS),
          "label shares")
    fails(ex.check_label_distribution(np.tile(np.bincount(Y), (4, 1)), y=Y, parts=PARTS), "the global count")
    off = counts.copy()
    off[1, 2] += 1
    fails(ex.check_label_distribution(off, y=Y, parts=PARTS), "client 1, class 2")
    three = PARTS[:2] + [np.concatenate(PARTS[2:])]                      # 3 clients, 3 classes: same shape
    fails(ex.check_label_distribution(fl.label_distribution(Y, three, 3).T, y=Y, parts=three), "transposed")


def test_check_partition():
    order = np.random.default_rng(0).permutation(20)
    passes(ex.check_partition(np.array_split(order, 3), n_examples=20, n_clients=3))
    passes(ex.check_partition(fl.iid_partition(np.arange(20) % 2, 3), n_examples=20, n_clients=3))
    fails(ex.check_partition(np.array_split(order, 2), n_examples=20, n_clients=3), "you made 2 parts")
    fails(ex.check_partition([order[0:6], order[6:12], order[12:18]], n_examples=20, n_clients=3),
          "drops the remainder")
    fails(ex.check_partition([order[:7], order[:7], order[7:]], n_examples=20, n_clients=3),
          "exactly one client")
    fails(ex.check_partition([order, np.array([]), np.array([])], n_examples=20, n_clients=3), "holds no examples")
    fails(ex.check_partition([np.arange(0, 7), np.arange(7, 14), np.arange(14, 21)], n_examples=20, n_clients=3),
          "outside range(20)")
    fails(ex.check_partition([order < 10, order >= 10, order < 0], n_examples=20, n_clients=3), "np.flatnonzero")
    fails(ex.check_partition([p.astype(float) for p in np.array_split(order, 3)], n_examples=20, n_clients=3),
          "integer indices")


def test_check_more_skewed_alpha():
    passes(ex.check_more_skewed_alpha(0.1))
    fails(ex.check_more_skewed_alpha(10), "with a large α every client's share")
    fails(ex.check_more_skewed_alpha(1.0), "not one of the choices")


def _js_score(counts, *, weighted=True, log=np.log2, root=True, kl=False):
    counts = np.asarray(counts, float)
    mix = counts.sum(0) / counts.sum()
    distances = []
    for row in counts:
        p = row / row.sum()
        m = (p + mix) / 2
        div = (lambda a, b: np.sum(np.where(a > 0, a * log(np.where(a > 0, a, 1) / b), 0.0)))  # noqa: E731
        d = div(p, mix) if kl else 0.5 * div(p, m) + 0.5 * div(mix, m)
        distances.append(np.sqrt(d) if root and not kl else d)
    weights = counts.sum(1) / counts.sum() if weighted else np.full(len(counts), 1 / len(counts))
    return float(weights @ distances)


def test_check_non_iid_score():
    counts = np.array([[5, 1], [1, 5], [3, 3]])
    passes(ex.check_non_iid_score(_js_score))
    passes(ex.check_non_iid_score(fl.non_iid_score, counts=counts))
    passes(ex.check_non_iid_score(fl.non_iid_score(counts), counts=counts))
    passes(ex.check_non_iid_score(ex._score_variant(counts), counts=counts))      # the helper is the kit's score
    fails(ex.check_non_iid_score(lambda c: _js_score(c, weighted=False)), "weight each by its share")
    fails(ex.check_non_iid_score(lambda c: _js_score(c, log=np.log)), "natural logarithm")
    fails(ex.check_non_iid_score(lambda c: _js_score(c, root=False)), "the distance is its square root")
    fails(ex.check_non_iid_score(lambda c: _js_score(c, kl=True)), "Kullback-Leibler")
    fails(ex.check_non_iid_score(_js_score(counts, root=False), counts=counts), "square root")
    fails(ex.check_non_iid_score(0.3), "needs the counts")
    fails(ex.check_non_iid_score(lambda c: 0.5), "Jensen-Shannon distance in base 2")


# =============================================================================================
# 03
# =============================================================================================
def test_check_parameter_count():
    passes(ex.check_parameter_count(fl.count_parameters(fl.build_article_model())))
    passes(ex.check_parameter_count(4810, n_features=64, hidden_units=(64,), n_classes=10))
    fails(ex.check_parameter_count(20 * 64 + 64 * 3), "left out the biases")
    fails(ex.check_parameter_count(20 * 64 + 64), "only the hidden layer")
    fails(ex.check_parameter_count(20 * 64 * 3), "they do not multiply")
    fails(ex.check_parameter_count(1000), "d·h + h + h·C + C")


def test_check_local_steps():
    context = dict(n_examples=80, epochs=5, batch_size=32)
    passes(ex.check_local_steps(15, **context))
    passes(ex.check_local_steps(5, n_examples=80, epochs=5, batch_size=None))
    fails(ex.check_local_steps(10, **context), "ceil, not floor")
    fails(ex.check_local_steps(3, **context), "that is one epoch")
    fails(ex.check_local_steps(12.5, **context), "round n_k / B up")
    fails(ex.check_local_steps(400, **context), "not one per example")
    fails(ex.check_local_steps(7, **context), "one step per mini-batch")


def _gradients(w, x, y):
    """The batch-mean cross-entropy gradient of Dense-ReLU-Dense-softmax, written out again."""
    z = x @ w[0] + w[1]
    h = np.maximum(z, 0)
    logits = h @ w[2] + w[3]
    p = np.exp(logits - logits.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    d2 = (p - np.eye(w[3].size)[y]) / len(y)
    d1 = d2 @ w[2].T * (z > 0)
    return [x.T @ d1, d1.sum(0), h.T @ d2, d2.sum(0)]


def make_local_update(*, copy=True, summed=False, one_epoch=False, ignore_order=False, reuse_order=False,
                      full_batch=False, drop_last=False, ascent=False, mu=None, mu_scale=1.0, anchor_epoch=False):
    """A student's local update (FedProx when ``mu`` is given), with one of the typical bugs switched on."""
    def local_update(w, X, y, epochs, batch_size, learning_rate, order, mu_value=0.0):
        w = [a.copy() for a in w] if copy else w
        anchor = [a.copy() for a in w]
        n = len(y)
        starts, sizes = fl.batch_plan(n, 1 if one_epoch else epochs, None if full_batch else batch_size)
        for start, size in zip(starts, sizes, strict=True):
            if drop_last and size < batch_size:
                continue
            if anchor_epoch and start % n == 0:
                anchor = [a.copy() for a in w]
            first = start % n
            batch = (np.arange(first, first + size) if ignore_order else
                     order[first:first + size] if reuse_order else order[start:start + size])
            for a, g, a0 in zip(w, _gradients(w, X[batch], y[batch]), anchor, strict=True):
                g = g * size if summed else g
                g = g + mu_scale * mu_value * (a - a0)
                a += (learning_rate if ascent else -learning_rate) * g
        return w

    if mu is None:
        return lambda w, X, y, epochs, batch_size, learning_rate, order: local_update(
            w, X, y, epochs, batch_size, learning_rate, order)
    return local_update


def test_check_local_update():
    passes(ex.check_local_update(make_local_update()))

    def by_keyword(weights, X, y, *, E, B, lr, order):                     # other names: called by keyword
        return make_local_update()(weights, X, y, E, B, lr, order)
    passes(ex.check_local_update(by_keyword))
    fails(ex.check_local_update(make_local_update(copy=False)), "copy the global model first")
    fails(ex.check_local_update(make_local_update(summed=True)), "B times too big")
    fails(ex.check_local_update(make_local_update(one_epoch=True)), "one pass over the data")
    fails(ex.check_local_update(make_local_update(ignore_order=True)), "you ignored `order`")
    fails(ex.check_local_update(make_local_update(reuse_order=True)), "reused the first epoch's order")
    fails(ex.check_local_update(make_local_update(full_batch=True)), "one full-batch step per epoch")
    fails(ex.check_local_update(make_local_update(drop_last=True)), "dropped the last, smaller batch")
    fails(ex.check_local_update(make_local_update(ascent=True)), "stepped up the gradient")
    fails(ex.check_local_update(lambda w, X, y, epochs, batch_size, learning_rate, order: [a.copy() for a in w]),
          "returned the weights it was given")
    fails(ex.check_local_update(lambda w, X, y, epochs, batch_size, learning_rate, order: None), "is None")
    fails(ex.check_local_update(lambda w, X, y, epochs, batch_size, learning_rate, order: w[:2]), "holds 2 entries")


def test_check_local_update_accepts_a_gradient_tape_solution():
    import tensorflow as tf

    def local_update(w, X, y, epochs, batch_size, learning_rate, order):
        w = [tf.Variable(a) for a in w]
        starts, sizes = fl.batch_plan(len(y), epochs, batch_size)
        for start, size in zip(starts, sizes, strict=True):
            batch = order[start:start + size]
            with tf.GradientTape() as tape:
                hidden = tf.nn.relu(X[batch] @ w[0] + w[1])
                loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(y[batch], hidden @ w[2] + w[3]))
            for v, g in zip(w, tape.gradient(loss, w), strict=True):
                v.assign_sub(learning_rate * g)
        return [v.numpy() for v in w]
    passes(ex.check_local_update(local_update))


def test_the_fedprox_reference_is_the_engines_fedprox():
    X, y, w = ex._local_problem(0)
    order = fl.rng.epoch_orders(len(y), 2, 0, 0, 0).ravel()
    trainer = fl.LocalTrainer(fl.build_model(4, 3, hidden_units=(5,)))
    for mu in (0.0, 0.5):
        engine = fl.client_update(trainer, w, X, y, epochs=2, batch_size=4, client_learning_rate=0.5, mu=mu)
        mine = ex._sgd(w, X, y, order, epochs=2, batch_size=4, learning_rate=0.5, mu=mu)
        for a, b in zip(mine, engine.weights, strict=True):
            np.testing.assert_allclose(a, b, atol=1e-5)
    plain = reference.local_update(w, X, y, order=order, epochs=2, batch_size=4, client_learning_rate=0.5)
    assert all(np.array_equal(a, b) for a, b in zip(plain, ex._sgd(w, X, y, order, epochs=2, batch_size=4,
                                                                   learning_rate=0.5), strict=True))


def test_check_fedprox_update():
    passes(ex.check_fedprox_update(make_local_update(mu=True)))
    passes(ex.check_fedprox_update(make_local_update(mu=True), mu=0.1))
    fails(ex.check_fedprox_update(make_local_update(mu=True, mu_scale=0.0)), "your update ignores μ")
    fails(ex.check_fedprox_update(make_local_update(mu=True, mu_scale=-1.0)), "points the wrong way")
    fails(ex.check_fedprox_update(make_local_update(mu=True, mu_scale=2.0)), "twice the pull")
    fails(ex.check_fedprox_update(make_local_update(mu=True, mu_scale=0.5)), "half the pull")
    fails(ex.check_fedprox_update(make_local_update(mu=True, anchor_epoch=True)), "your anchor moved")
    fails(ex.check_fedprox_update(make_local_update(mu=True, copy=False)), "copy the global model first")
    fails(ex.check_fedprox_update(make_local_update(mu=True, summed=True)), "the batch-mean gradient")


# =============================================================================================
# 04
# =============================================================================================
def test_check_fedavg_weights():
    n = np.array([9, 200, 40, 5])
    passes(ex.check_fedavg_weights(n / n.sum(), n_examples=n))
    passes(ex.check_fedavg_weights(np.round(n / n.sum(), 3), n_examples=n))
    inverse = (1 / n) / np.sum(1 / n)
    verdict = ex.check_fedavg_weights(inverse, n_examples=n)
    fails(verdict, "you weighted by 1/n_k, as the article does: the smallest client gets the most say")
    fails(verdict, "sum to 1.000 and give client 3 (5 examples) 0.59 of the say")
    fails(ex.check_fedavg_weights(np.full(4, 0.25), n_examples=n), "every client counted the same (1/m)")
    fails(ex.check_fedavg_weights(n, n_examples=n), "you multiplied by n_k but did not divide by n")
    fails(ex.check_fedavg_weights(1 / n, n_examples=n), "taken literally")
    fails(ex.check_fedavg_weights(np.ones(4), n_examples=n), "you added the models up")
    fails(ex.check_fedavg_weights([0.1, 0.2, 0.3, 0.5], n_examples=n), "they are shares of the round's examples")
    fails(ex.check_fedavg_weights([0.1, 0.2, 0.3, 0.4], n_examples=n), "coefficient k is n_k / n")
    fails(ex.check_fedavg_weights([0.5, 0.5], n_examples=n), "one coefficient per client")


def fedavg_with(weights_of):
    def fedavg(models, n_examples):
        c = weights_of(np.asarray(n_examples, float))
        return [sum(c_k * model[i] for c_k, model in zip(c, models, strict=True)) for i in range(len(models[0]))]
    return fedavg


def test_check_fedavg():
    passes(ex.check_fedavg(fedavg_with(lambda n: n / n.sum())))
    passes(ex.check_fedavg(reference.fedavg))
    passes(ex.check_fedavg(fl.weighted_average))
    fails(ex.check_fedavg(fedavg_with(lambda n: (1 / n) / np.sum(1 / n))), "the smallest client gets the most say")
    fails(ex.check_fedavg(fedavg_with(lambda n: np.full(len(n), 1 / len(n)))), "every client counted the same")
    fails(ex.check_fedavg(fedavg_with(lambda n: n)), "did not divide by n")
    fails(ex.check_fedavg(fedavg_with(lambda n: 1 / n)), "taken literally")
    fails(ex.check_fedavg(fedavg_with(np.ones_like)), "you added the models up")

    def first_layer_only(models, n_examples):
        average = reference.fedavg(models, n_examples)
        return [average[0]] + [a.copy() for a in models[0][1:]]
    fails(ex.check_fedavg(first_layer_only), "average every layer")
    fails(ex.check_fedavg(lambda models, n_examples: models), "return ONE model")

    def in_place(models, n_examples):
        p = n_examples / n_examples.sum()
        for i, layer in enumerate(models[0]):
            layer *= p[0]
            for p_k, model in zip(p[1:], models[1:], strict=True):
                layer += p_k * model[i]
        return models[0]
    fails(ex.check_fedavg(in_place), "changed the client models")


def make_round(*, chained=False, weights="examples", last=False, update_only=False, copy=True):
    local = make_local_update(copy=copy)

    def fedavg_round(w, client_data, orders, epochs, batch_size, learning_rate):
        models, start = [], w
        for (X, y), order in zip(client_data, orders, strict=True):
            models.append(local(start, X, y, epochs, batch_size, learning_rate, order))
            start = models[-1] if chained else w
        if last:
            return models[-1]
        n = np.array([len(y) for _, y in client_data], float)
        c = {"examples": n, "uniform": np.ones_like(n), "inverse": 1 / n}[weights]
        average = reference.fedavg(models, c)
        return [a - b for a, b in zip(average, w, strict=True)] if update_only else average
    return fedavg_round


def test_check_fedavg_round():
    passes(ex.check_fedavg_round(make_round()))
    fails(ex.check_fedavg_round(make_round(chained=True)), "client k started from client k-1's model")
    fails(ex.check_fedavg_round(make_round(weights="uniform")), "every client counted the same")
    fails(ex.check_fedavg_round(make_round(weights="inverse")), "the smallest client gets the most say")
    fails(ex.check_fedavg_round(make_round(last=True)), "you returned the last client's model")
    fails(ex.check_fedavg_round(make_round(update_only=True)), "the new global model is w + Δ")
    fails(ex.check_fedavg_round(make_round(copy=False)), "changed the global model w")


def test_check_server_update():
    passes(ex.check_server_update(lambda theta, theta_bar, server_learning_rate:
                                  theta - server_learning_rate * (theta - theta_bar)))
    passes(ex.check_server_update(lambda w, average, eta: fl.FedAvgServer(eta).step(w, average)))
    fails(ex.check_server_update(lambda theta, theta_bar, eta: theta_bar), "you forgot the server learning rate η")
    fails(ex.check_server_update(lambda theta, theta_bar, eta: theta + eta * (theta - theta_bar)), "sign error")
    fails(ex.check_server_update(lambda theta, theta_bar, eta: eta * theta_bar), "shrinks the model towards 0")
    fails(ex.check_server_update(lambda theta, theta_bar, eta: eta * theta + (1 - eta) * theta_bar),
          "you swapped η and 1 - η")
    fails(ex.check_server_update(lambda theta, theta_bar, eta: theta), "a step of η along the average update")
    fails(ex.check_server_update(lambda theta, theta_bar, eta: theta[:3]), "the new model has the shape of θ")


TOY = [0.80, 0.60, 0.50, 0.497, 0.490, 0.488, 0.487, 0.486]
CREEP = [1.0, 0.9, 0.897, 0.894, 0.891, 0.888]


def make_rule(*, previous=False, zero_based=False, strict=False, skip_nan=False):
    def rule(losses, tolerance, patience):
        best, waiting = math.inf, 0
        for r, loss in enumerate(losses, start=1):
            if not np.isfinite(loss):
                if skip_nan:
                    continue
                return r
            reference_loss = losses[r - 2] if previous and r > 1 else best
            if loss < reference_loss - (0.0 if strict else tolerance):
                best, waiting = min(best, loss), 0
            else:
                best, waiting = min(best, loss) if previous else best, waiting + 1
                if waiting >= patience:
                    return r - 1 if zero_based else r
        return None
    return rule


def test_check_stopping_round():
    passes(ex.check_stopping_round(make_rule()))
    passes(ex.check_stopping_round(fl.widgets.fedavg_steps.stopping_round, losses=CREEP))
    passes(ex.check_stopping_round(8, losses=TOY))
    passes(ex.check_stopping_round(None, losses=CREEP))
    fails(ex.check_stopping_round(make_rule(previous=True)), "compared each loss with the previous round's")
    fails(ex.check_stopping_round(make_rule(zero_based=True)), "rounds count from 1")
    fails(ex.check_stopping_round(make_rule(strict=True)), "at least the tolerance")
    fails(ex.check_stopping_round(make_rule(skip_nan=True)), "a NaN or infinite loss stops the run at once")
    fails(ex.check_stopping_round(5, losses=CREEP), "the rule never fires (None): you compared each loss with the "
                                                    "previous round's")
    fails(ex.check_stopping_round(3, losses=CREEP), "None means the rule never fires")
    fails(ex.check_stopping_round(7, losses=TOY), "rounds count from 1")
    fails(ex.check_stopping_round(None, losses=TOY), "at least the tolerance")
    fails(ex.check_stopping_round(None, losses=[1.0, 1.0, 1.0, 1.0]), "the rule does fire")
    fails(ex.check_stopping_round(4, losses=TOY), "count the rounds in a row")
    fails(ex.check_stopping_round(8), "needs the losses")


# =============================================================================================
# 05
# =============================================================================================
def test_check_fedavg_vectors():
    passes(ex.check_fedavg_vectors(lambda m, n: (n / n.sum()) @ m))
    passes(ex.check_fedavg_vectors(fl.weighted_average))
    fails(ex.check_fedavg_vectors(lambda m, n: ((1 / n) / np.sum(1 / n)) @ m), "smallest client gets the most say")
    fails(ex.check_fedavg_vectors(lambda m, n: m.mean(axis=0)), "every client counted the same")
    fails(ex.check_fedavg_vectors(lambda m, n: n @ m), "did not divide by n")
    fails(ex.check_fedavg_vectors(lambda m, n: (1 / n) @ m), "taken literally")
    fails(ex.check_fedavg_vectors(lambda m, n: m.sum(axis=0)), "you added the models up")
    fails(ex.check_fedavg_vectors(lambda m, n: n / n.sum()), "you returned the coefficients")
    fails(ex.check_fedavg_vectors(lambda m, n: m), "you returned the client models")
    verdict = ex.check_fedavg_vectors(lambda m, n: ((1 / n) / np.sum(1 / n)) @ m)
    fails(verdict, "gives client 0 (3 examples) 0.58 of the say, its coefficients summing to 1.000")


def test_check_article_weights():
    n = np.array([5, 50, 200, 45])
    inverse = (1 / n) / np.sum(1 / n)
    passes(ex.check_article_weights(inverse, n_examples=n))
    passes(ex.check_article_weights(np.full(4, 0.25), n_examples=n, reading="sum"))
    fails(ex.check_article_weights(n / n.sum(), n_examples=n), "FedAvg's n_k/n, the correction")
    fails(ex.check_article_weights(np.full(4, 0.25), n_examples=n), "that is the sum reading")
    fails(ex.check_article_weights(inverse, n_examples=n, reading="sum"), "that is the mean reading")
    fails(ex.check_article_weights(1 / n, n_examples=n), "normalise to shares")
    fails(ex.check_article_weights([0.4, 0.3, 0.2, 0.1], n_examples=n), "over the sum of all weights")


def test_check_formula_scaling():
    passes(ex.check_formula_scaling(2))
    passes(ex.check_formula_scaling(5, alpha=0.1, new_alpha=0.5))
    fails(ex.check_formula_scaling(1), "keeps nothing of θ_(t-1)")
    fails(ex.check_formula_scaling(0.5), "inverted")
    fails(ex.check_formula_scaling(4), "what happens to it when α changes")


def test_check_objective_weights():
    n = np.array([10, 30, 60])
    passes(ex.check_objective_weights(n / n.sum(), n_examples=n))
    passes(ex.check_objective_weights(np.full(3, 1 / 3), n_examples=n, client_weighting="uniform"))
    fails(ex.check_objective_weights(np.full(3, 1 / 3), n_examples=n), "that is the uniform objective")
    fails(ex.check_objective_weights(n / n.sum(), n_examples=n, client_weighting="uniform"),
          "that is the 'examples' objective")
    fails(ex.check_objective_weights(n, n_examples=n), "normalise: p_k = u_k")
    fails(ex.check_objective_weights(np.ones(3), n_examples=n, client_weighting="uniform"), "normalise: p_k = u_k")
    fails(ex.check_objective_weights([0.5, 0.3, 0.2], n_examples=n), "u_k = n_k ('examples')")


def fedsgd_with(step):
    return lambda theta, gradients, n_examples, learning_rate: step(
        theta, gradients, np.asarray(n_examples, float), learning_rate)


def test_check_fedsgd_step():
    passes(ex.check_fedsgd_step(fedsgd_with(lambda t, g, n, eta: t - eta * (n / n.sum()) @ g)))
    passes(ex.check_fedsgd_step(lambda w, grads, n, lr: w - lr * fl.fedavg_coefficients(n) @ grads))
    fails(ex.check_fedsgd_step(fedsgd_with(lambda t, g, n, eta: eta * (1 / n) @ g)), "the article's θ_t")
    fails(ex.check_fedsgd_step(fedsgd_with(lambda t, g, n, eta: t - eta * g.mean(0))),
          "every client's gradient counted the same")
    fails(ex.check_fedsgd_step(fedsgd_with(lambda t, g, n, eta: t - eta * ((1 / n) / np.sum(1 / n)) @ g)),
          "you weighted by 1/n_k")
    fails(ex.check_fedsgd_step(fedsgd_with(lambda t, g, n, eta: -eta * (n / n.sum()) @ g)), "returned the step")
    fails(ex.check_fedsgd_step(fedsgd_with(lambda t, g, n, eta: t + eta * (n / n.sum()) @ g)),
          "gradient descent subtracts")
    fails(ex.check_fedsgd_step(fedsgd_with(lambda t, g, n, eta: t - (n / n.sum()) @ g)), "forgot the learning rate")


def make_momentum(velocity_rule, *, sign=-1.0, use_eta=True, pair=True):
    def step(theta, theta_bar, velocity, server_learning_rate, server_momentum):
        v = velocity_rule(velocity, theta - theta_bar, server_momentum)
        theta_next = theta + sign * (server_learning_rate if use_eta else 1.0) * v
        return (theta_next, v) if pair else theta_next
    return step


def test_check_server_momentum():
    correct = make_momentum(lambda v, g, beta: beta * v + g)
    passes(ex.check_server_momentum(correct))
    fails(ex.check_server_momentum(make_momentum(lambda v, g, beta: g)), "no momentum")
    fails(ex.check_server_momentum(make_momentum(lambda v, g, beta: beta * v + (1 - beta) * g)),
          "you damped g by (1 - β)")
    fails(ex.check_server_momentum(make_momentum(lambda v, g, beta: beta * v + g, sign=1.0)),
          "sign error: θ_(t+1) = θ_t - η v_t")
    fails(ex.check_server_momentum(make_momentum(lambda v, g, beta: beta * v + g, use_eta=False)),
          "you forgot the server learning rate η")
    fails(ex.check_server_momentum(make_momentum(lambda v, g, beta: beta * v + g, pair=False)),
          "return two arrays: (theta_next, velocity_next)")
    fails(ex.check_server_momentum(make_momentum(lambda v, g, beta: beta * v + 2 * g)), "in round 1")


# =============================================================================================
# 06, 07, 08
# =============================================================================================
def test_check_server_share():
    passes(ex.check_server_share(1 - 0.99 ** 10))
    passes(ex.check_server_share(0.0956))
    passes(ex.check_server_share(1 - 0.5 ** 3, server_learning_rate=0.5, rounds=3))
    fails(ex.check_server_share(0.1), "of the REMAINING distance")
    fails(ex.check_server_share(0.01), "that is one round")
    fails(ex.check_server_share(0.99 ** 10), "the share still left")
    fails(ex.check_server_share(1.0), "land on the average in one round")
    fails(ex.check_server_share(0.5), "the distance that is LEFT")


def test_check_run_bytes():
    context = dict(n_parameters=1_200_000, rounds=500, n_clients=1000, fraction=0.01)
    total = 500 * 2 * 10 * 1_200_000 * 4                                  # the notebook's 48 GB
    passes(ex.check_run_bytes(total, **context))
    passes(ex.check_run_bytes(20 * 2 * 10 * 1539 * 4, n_parameters=1539, rounds=20, n_clients=10))
    fails(ex.check_run_bytes(100 * total, **context), "counted all K clients")
    fails(ex.check_run_bytes(total / 2, **context), "one direction only")
    fails(ex.check_run_bytes(total / 4, **context), "numbers, not bytes")
    fails(ex.check_run_bytes(total / 500, **context), "that is one round")
    fails(ex.check_run_bytes(total / 1e6, **context), "that is in MB")
    fails(ex.check_run_bytes(48, **context), "that is in GB")
    fails(ex.check_run_bytes(8 * total, **context), "that is bits")
    fails(ex.check_run_bytes(12345, **context), "the model down to each of the m clients")


def make_reconstruction(*, delta=True, unit=None, upside_down=False, sign=1.0, scale=1.0, row=False,
                        label="argmax"):
    def reconstruct(before, after):
        dW = after[0] - before[0] if delta else after[0]
        db = after[1] - before[1] if delta else after[1]
        j = int(np.argmax(np.abs(after[1] - before[1]))) if unit is None else unit
        x = db[j] / dW[:, j] if upside_down else (dW[j, :] / db[j] if row else dW[:, j] / db[j])
        d_out = after[-1] - before[-1]
        found = {"argmax": np.argmax, "argmin": np.argmin}[label](d_out) if label else None
        return (sign * scale * x, int(found)) if label else sign * scale * x
    return reconstruct


def test_check_reconstruction():
    passes(ex.check_reconstruction(make_reconstruction()))
    passes(ex.check_reconstruction(make_reconstruction(label=None)))
    privacy = pytest.importorskip("fedlearn_edu.privacy")
    passes(ex.check_reconstruction(privacy.reconstruct_single_example))
    fails(ex.check_reconstruction(make_reconstruction(delta=False)), "divide the CHANGES")
    with np.errstate(invalid="ignore"):
        fails(ex.check_reconstruction(make_reconstruction(unit=0)), "that unit did not fire")
    fails(ex.check_reconstruction(make_reconstruction(row=True)), "unit j's column ΔW1[:, j]")
    fails(ex.check_reconstruction(make_reconstruction(upside_down=True)), "upside down")
    fails(ex.check_reconstruction(make_reconstruction(sign=-1.0)), "their ratio is +x")
    fails(ex.check_reconstruction(make_reconstruction(scale=0.1)), "do not multiply by it")
    fails(ex.check_reconstruction(make_reconstruction(scale=10.0)), "do not divide by it")
    fails(ex.check_reconstruction(make_reconstruction(label="argmin")), "take the argmax, not the argmin")


# =============================================================================================
# 09
# =============================================================================================
def clip_rows(u, S):
    return u * np.minimum(1.0, S / np.linalg.norm(u, axis=-1, keepdims=True))


def test_check_clip_to_norm():
    passes(ex.check_clip_to_norm(clip_rows))
    passes(ex.check_clip_to_norm(clip_rows, clip_norm=0.5))
    passes(ex.check_clip_to_norm(pytest.importorskip("fedlearn_edu.privacy").clip_to_norm))
    fails(ex.check_clip_to_norm(lambda u, S: np.clip(u, -S, S)), "you clipped each coordinate to [-S, S]")
    fails(ex.check_clip_to_norm(lambda u, S: u * S / np.linalg.norm(u, axis=1, keepdims=True)), "small ones up")
    fails(ex.check_clip_to_norm(lambda u, S: u * min(1, S / np.linalg.norm(u))), "all updates together")
    fails(ex.check_clip_to_norm(lambda u, S: u), "nothing was clipped")
    fails(ex.check_clip_to_norm(lambda u, S: clip_rows(u, S)[0]), "keep the shape (m, P)")
    fails(ex.check_clip_to_norm(lambda u, S: clip_rows(u, 2 * S)), "u · min(1, S / ‖u‖) for each row u")


def test_check_dp_noise_std():
    context = dict(noise_multiplier=1.2, clip_norm=2.0, expected_clients=4, realised_clients=3)
    passes(ex.check_dp_noise_std(0.6, **context))
    fails(ex.check_dp_noise_std(2.4, **context), "the noise on the SUM")
    fails(ex.check_dp_noise_std(0.3, **context), "scales with the clip norm S")
    fails(ex.check_dp_noise_std(0.8, **context), "the EXPECTED number of clients")
    fails(ex.check_dp_noise_std(1.2, **context), "not √m")
    fails(ex.check_dp_noise_std(0.36, **context), "that is the variance")
    fails(ex.check_dp_noise_std(2 / 4.8, **context), "z multiplies the noise")
    fails(ex.check_dp_noise_std(0.7, **context), "divided by m")


def make_dp(*, clip_after=False, clip=True, divide_by_realised=False, noise=1.0):
    def dp_average(updates, clip_norm, noise_multiplier, expected_clients, rng):
        m = len(updates) if divide_by_realised else expected_clients
        std = noise * noise_multiplier * clip_norm / m
        if clip_after:
            return clip_rows(updates.sum(0) / m + rng.normal(0, std, updates.shape[1]), clip_norm)
        clipped = clip_rows(updates, clip_norm) if clip else updates
        return clipped.sum(0) / m + (rng.normal(0, std, updates.shape[1]) if noise else 0)
    return dp_average


def test_check_dp_aggregate():
    privacy = pytest.importorskip("fedlearn_edu.privacy")
    passes(ex.check_dp_aggregate(make_dp()))
    passes(ex.check_dp_aggregate(privacy.dp_aggregate))
    # the same noise drawn on the sum (std z S) and divided with it: the same numbers
    passes(ex.check_dp_aggregate(lambda updates, clip_norm, noise_multiplier, expected_clients, rng:
           (clip_rows(updates, clip_norm).sum(0) + rng.normal(0, noise_multiplier * clip_norm, 6)) / expected_clients))
    fails(ex.check_dp_aggregate(make_dp(clip_after=True)), "you clipped after adding the noise")
    fails(ex.check_dp_aggregate(make_dp(clip=False)), "no clipping")
    fails(ex.check_dp_aggregate(make_dp(divide_by_realised=True)), "the n clients who showed up")
    fails(ex.check_dp_aggregate(make_dp(noise=0)), "no noise: clipping bounds")
    fails(ex.check_dp_aggregate(make_dp(noise=1 / 4)), "m times too small")
    fails(ex.check_dp_aggregate(make_dp(noise=0.5)), "the kit's order")


def make_masking(*, sign_for_lower=-1, modulo=True, mask=True):
    def masked(client_id, quantised, masks):
        y = quantised.astype(np.int64)
        for (i, j), r in masks.items():
            if mask and i == client_id:
                y = y + r.astype(np.int64)
            elif mask and j == client_id:
                y = y + sign_for_lower * r.astype(np.int64)
        return (y % 2 ** 32).astype(np.uint32) if modulo else y
    return masked


def test_check_secure_masks():
    pytest.importorskip("cryptography")
    passes(ex.check_secure_masks(make_masking()))
    fails(ex.check_secure_masks(make_masking(sign_for_lower=+1)), "the masks do not cancel, a sign is wrong")
    fails(ex.check_secure_masks(make_masking(modulo=False)), "work modulo 2**32")
    fails(ex.check_secure_masks(make_masking(mask=False)), "sent its quantised update unmasked")
    fails(ex.check_secure_masks(make_masking(sign_for_lower=0)), "every pair's mask once with + and once with -")


def test_a_missing_extra_is_a_cross_that_says_how_to_install_it(monkeypatch):
    def missing(extra):
        raise fl.MissingExtra(f"this needs the kit's [{extra}] extra (cryptography not installed); install it with: "
                              f"pip install fedlearn_edu[{extra}]")
    monkeypatch.setitem(sys.modules, "fedlearn_edu.secure_aggregation", None)
    monkeypatch.setattr(ex, "require_extra", missing)
    verdict = ex.check_secure_masks(make_masking())
    fails(verdict, "fedlearn_edu.secure_aggregation cannot be imported: this needs the kit's [privacy] extra")
    fails(verdict, "install it with")


def test_check_coordinate_median():
    passes(ex.check_coordinate_median(lambda u: np.median(u, axis=0)))
    passes(ex.check_coordinate_median(fl.coordinate_median))
    fails(ex.check_coordinate_median(lambda u: u.mean(axis=0)), "that is the mean")
    fails(ex.check_coordinate_median(lambda u: np.median(u, axis=1)), "per coordinate (axis=0)")
    fails(ex.check_coordinate_median(lambda u: np.median(u)), "the median of all values together")
    fails(ex.check_coordinate_median(lambda u: np.sort(u, axis=0)[2]), "(you took the lower one)")
    fails(ex.check_coordinate_median(lambda u: np.sort(u, axis=0)[3]), "(you took the upper one)")
    fails(ex.check_coordinate_median(lambda u: u[np.argsort(np.linalg.norm(u, axis=1))[2]]),
          "you picked one client's whole update")


# =============================================================================================
# 11
# =============================================================================================
def control_by_the_engine(c_k, c, x, y_k, n_steps, learning_rate):
    """SCAFFOLD's update as Simulation.update_controls computes it, on a stand-in simulation."""
    sim = SimpleNamespace(global_weights=[np.asarray(x, np.float32)], client_weights=np.array([1.0]),
                          config=SimpleNamespace(client_learning_rate=learning_rate),
                          client_controls=np.asarray(c_k, np.float32)[None].copy(),
                          server_control=np.asarray(c, np.float32).copy())
    result = SimpleNamespace(client_id=0, weights=[np.asarray(y_k, np.float32)], n_steps=n_steps)
    fl.Simulation.update_controls(sim, [result])
    return sim.client_controls[0]


def test_check_scaffold_control():
    passes(ex.check_scaffold_control(control_by_the_engine))
    passes(ex.check_scaffold_control(lambda c_k, c, x, y_k, K, lr: c_k - c + (x - y_k) / (K * lr)))
    fails(ex.check_scaffold_control(lambda c_k, c, x, y_k, K, lr: c_k - c + (y_k - x) / (K * lr)),
          "divide (x - y_k), not (y_k - x)")
    fails(ex.check_scaffold_control(lambda c_k, c, x, y_k, K, lr: c_k - c + (x - y_k) / lr), "forgot K")
    fails(ex.check_scaffold_control(lambda c_k, c, x, y_k, K, lr: c_k - c + (x - y_k) / K), "forgot η")
    fails(ex.check_scaffold_control(lambda c_k, c, x, y_k, K, lr: (x - y_k) / (K * lr)), "you left out c_k - c")
    fails(ex.check_scaffold_control(lambda c_k, c, x, y_k, K, lr: c - c_k + (x - y_k) / (K * lr)),
          "c_k - c, not c - c_k")


def test_check_proximal_gradient():
    import tensorflow as tf

    def by_tape(w, w_global, mu):
        v = tf.Variable(w)
        with tf.GradientTape() as tape:
            term = 0.5 * mu * tf.reduce_sum((v - w_global) ** 2)
        return tape.gradient(term, v).numpy()
    passes(ex.check_proximal_gradient(by_tape))
    passes(ex.check_proximal_gradient(lambda w, w_global, mu: mu * (w - w_global)))
    fails(ex.check_proximal_gradient(lambda w, wg, mu: mu * (wg - w)), "pulls w back")
    fails(ex.check_proximal_gradient(lambda w, wg, mu: 2 * mu * (w - wg)), "a factor 2 too many")
    fails(ex.check_proximal_gradient(lambda w, wg, mu: mu / 2 * (w - wg)), "half too small")
    fails(ex.check_proximal_gradient(lambda w, wg, mu: mu * w), "that is weight decay")
    fails(ex.check_proximal_gradient(lambda w, wg, mu: w - wg), "you left out μ")
    fails(ex.check_proximal_gradient(lambda w, wg, mu: 0.5 * mu * np.sum((w - wg) ** 2)), "the size of the term")


# =============================================================================================
# 12
# =============================================================================================
def test_check_upload_bytes_agrees_with_the_notebooks_byte_counts():
    from fedlearn_edu.widgets import communication
    for scheme, name in (("none", "none"), ("int8", "int8"), ("int4", "int4"), ("topk", "top-k")):
        for p in (1539, 4810):
            passes(ex.check_upload_bytes(communication.upload_bytes_per_client(name, p, 0.05), scheme=scheme,
                                         n_parameters=p, topk_fraction=0.05))


def test_check_upload_bytes():
    p = 4810
    k = max(1, round(0.05 * p))
    passes(ex.check_upload_bytes(4 * p, scheme="none", n_parameters=p))
    passes(ex.check_upload_bytes(p + 8, scheme="int8", n_parameters=p))
    passes(ex.check_upload_bytes(math.ceil(1539 / 2) + 8, scheme="int4", n_parameters=1539))
    passes(ex.check_upload_bytes(8 * k, scheme="topk", n_parameters=p, topk_fraction=0.05))
    fails(ex.check_upload_bytes(p, scheme="none", n_parameters=p), "each float32 takes 4 bytes")
    fails(ex.check_upload_bytes(p, scheme="int8", n_parameters=p), "the range travels too")
    fails(ex.check_upload_bytes(4 * p, scheme="int8", n_parameters=p), "the uncompressed float32 update")
    fails(ex.check_upload_bytes(p / 2, scheme="int4", n_parameters=p), "the range travels too")
    fails(ex.check_upload_bytes(p + 8, scheme="int4", n_parameters=p), "two codes fit in one byte")
    fails(ex.check_upload_bytes(1539 / 2 + 8, scheme="int4", n_parameters=1539), "round up")
    fails(ex.check_upload_bytes(4 * k, scheme="topk", n_parameters=p, topk_fraction=0.05), "WHICH coordinates")
    fails(ex.check_upload_bytes(k, scheme="topk", n_parameters=p, topk_fraction=0.05), "k is how many")
    fails(ex.check_upload_bytes(8 * 0.05 * p, scheme="topk", n_parameters=p, topk_fraction=0.05), "a whole number")
    fails(ex.check_upload_bytes(p + 9, scheme="int8", n_parameters=p), "count what travels")


def make_feedback(*, add_residual=True, residual_from="carried", sign=1.0, by_value=False, pair=True):
    def step(update, residual, k):
        carried = update + residual if add_residual else update
        keep = np.argsort(-carried if by_value else -np.abs(carried))[:k]
        sent = np.zeros_like(carried)
        sent[keep] = carried[keep]
        base = {"carried": carried, "update": update, "none": sent}[residual_from]
        return (sent, sign * (base - sent)) if pair else sent
    return step


def test_check_error_feedback():
    passes(ex.check_error_feedback(make_feedback()))
    fails(ex.check_error_feedback(make_feedback(add_residual=False)), "add the residual before compressing")
    fails(ex.check_error_feedback(make_feedback(residual_from="update")), "(update + residual) - sent")
    fails(ex.check_error_feedback(make_feedback(sign=-1.0)), "sign: the residual is what was NOT sent")
    fails(ex.check_error_feedback(make_feedback(residual_from="none")), "your residual stays zero")
    fails(ex.check_error_feedback(make_feedback(by_value=True)), "largest MAGNITUDE")
    fails(ex.check_error_feedback(make_feedback(pair=False)), "return two arrays: (sent, new_residual)")


def test_check_topk_breakeven():
    passes(ex.check_topk_breakeven((4810 + 8) / (8 * 4810), n_parameters=4810))
    passes(ex.check_topk_breakeven(1 / 8, n_parameters=4810))
    passes(ex.check_topk_breakeven(1 / 16, n_parameters=4810, scheme="int4"))
    fails(ex.check_topk_breakeven(1 / 4, n_parameters=4810), "you forgot the indices")
    fails(ex.check_topk_breakeven(8, n_parameters=4810), "inverted")
    fails(ex.check_topk_breakeven(1 / 16, n_parameters=4810), "the break-even with int4")
    fails(ex.check_topk_breakeven(0.3, n_parameters=4810), "solve for f")


# =============================================================================================
# 13, 14
# =============================================================================================
def test_check_client_time():
    context = CONTEXT["check_client_time"]
    passes(ex.check_client_time(2 * 19240 / 20000 + 144 / 100, **context))
    fails(ex.check_client_time(19240 / 20000 + 144 / 100, **context), "you counted one transfer")
    fails(ex.check_client_time(144 / 100, **context), "the transfers take time too")
    fails(ex.check_client_time(2 * 19240 / 20000, **context), "the training takes time too")
    fails(ex.check_client_time(10, **context), "download, train, upload")


def test_check_partial_steps():
    context = CONTEXT["check_partial_steps"]
    passes(ex.check_partial_steps(6, **context))        # (5 - 2 × 0.962) s × 20 examples/s = 61.5: 6 batches of 10
    passes(ex.check_partial_steps(16, **{**context, "deadline": 60.0}))
    fails(ex.check_partial_steps(10, **context), "the download and the upload eat into the deadline")
    fails(ex.check_partial_steps(8, **context), "you counted one transfer")
    fails(ex.check_partial_steps(7, **context), "a step that is not finished")
    fails(ex.check_partial_steps(16, **context), "cannot finish all its steps")
    fails(ex.check_partial_steps(2, **context), "subtract both transfers")


def test_check_round_time():
    times = [3.0, 7.5, 4.2]
    passes(ex.check_round_time(7.5, client_seconds=times))
    passes(ex.check_round_time(5.0, client_seconds=times, deadline=5.0))
    passes(ex.check_round_time(7.5, client_seconds=times, deadline=10.0))
    fails(ex.check_round_time(np.mean(times), client_seconds=times), "max, not the mean")
    fails(ex.check_round_time(sum(times), client_seconds=times), "not the sum")
    fails(ex.check_round_time(3.0, client_seconds=times), "that is the fastest client")
    fails(ex.check_round_time(7.5, client_seconds=times, deadline=5.0), "stops waiting at the deadline")
    fails(ex.check_round_time(6.0, client_seconds=times), "the server waits for the last one")


def test_check_speedup():
    passes(ex.check_speedup(5, rounds_fedsgd=60, rounds_fedavg=12))
    passes(ex.check_speedup(6.5, rounds_fedsgd=13, rounds_fedavg=2))
    passes(ex.check_speedup(None, rounds_fedsgd=60, rounds_fedavg=None))
    fails(ex.check_speedup(0.2, rounds_fedsgd=60, rounds_fedavg=12), "inverted")
    fails(ex.check_speedup(48, rounds_fedsgd=60, rounds_fedavg=12), "the difference in rounds")
    fails(ex.check_speedup(400, rounds_fedsgd=60, rounds_fedavg=12), "a percentage gain")
    fails(ex.check_speedup(3, rounds_fedsgd=60, rounds_fedavg=None), "answer None")
    fails(ex.check_speedup(None, rounds_fedsgd=60, rounds_fedavg=12), "divide FedSGD's rounds by FedAvg's")
    fails(ex.check_speedup(4, rounds_fedsgd=60, rounds_fedavg=12), "to the same target")


def test_the_module_docstring_names_the_kinds_of_exercise():
    for kind in ("predict, then run", "compute a number", "find the bug", "write the function"):
        assert kind in ex.__doc__


def test_partition_copies_get_their_own_hint():
    import numpy as np

    import fedlearn_edu as fl
    verdict = fl.exercises.check_partition([np.arange(20) for _ in range(5)], n_examples=20, n_clients=5)
    assert not verdict and "every client got the same 20 examples" in str(verdict)


def test_non_iid_score_by_hand_accepts_three_decimals_but_a_function_is_exact():
    import fedlearn_edu as fl
    counts = [[10, 0], [0, 10]]
    exact = fl.non_iid_score(counts)
    assert fl.exercises.check_non_iid_score(round(exact, 3), counts=counts)
    assert not fl.exercises.check_non_iid_score(round(exact, 2), counts=counts)
    assert not fl.exercises.check_non_iid_score(lambda c: round(fl.non_iid_score(c), 3), counts=counts)
    assert "divergence" in str(fl.exercises.check_non_iid_score(0.311, counts=counts))
