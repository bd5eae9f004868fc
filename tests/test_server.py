"""Server optimizers against the equations of fedlearn_edu/server.py's module docstring,
computed independently in float64."""
from __future__ import annotations

import numpy as np
import pytest

import fedlearn_edu as fl
from fedlearn_edu.server import DEFAULT_SERVER_LEARNING_RATE, SERVER_OPTIMIZERS

RTOL = 1e-6

THETA0 = np.array([1.0, -2.0, 0.5, 3.0, -0.75], np.float32)
BAR0 = np.array([0.5, -1.5, 0.75, 2.0, -0.8125], np.float32)     # g0 = theta0 - bar0 = [.5, -.5, -.25, 1, .0625]
BAR1 = np.array([0.875, -2.5, 1.0, 1.5, -0.75], np.float32)


def _assert_close(actual, expected):
    assert actual.dtype == np.float32
    np.testing.assert_allclose(actual.astype(np.float64), expected, rtol=RTOL, atol=0)


# ---------------------------------------------------------------------------------------
# FedAvg
def test_fedavg_eta_one_returns_theta_bar():
    opt = fl.FedAvgServer(1.0)
    _assert_close(opt.step(THETA0, BAR0), BAR0.astype(np.float64))
    rng = np.random.default_rng(0)
    theta = rng.normal(size=1000).astype(np.float32)
    bar = rng.normal(size=1000).astype(np.float32)
    np.testing.assert_allclose(opt.step(theta, bar), bar, rtol=1e-6, atol=1e-6)


def test_fedavg_half_step():
    opt = fl.FedAvgServer(0.5)
    t, b = THETA0.astype(np.float64), BAR0.astype(np.float64)
    expected = t - 0.5 * (t - b)                    # halfway between theta and theta_bar
    _assert_close(opt.step(THETA0, BAR0), expected)
    np.testing.assert_allclose(expected, (t + b) / 2)


def test_fedavg_accepts_lists_and_rejects_shape_mismatch():
    out = fl.FedAvgServer(1.0).step(THETA0.tolist(), BAR0.tolist())
    assert out.shape == THETA0.shape and out.dtype == np.float32
    with pytest.raises(ValueError, match="theta and theta_bar must be vectors of one shape"):
        fl.FedAvgServer().step(np.zeros(3), np.zeros(4))
    with pytest.raises(ValueError, match="theta and theta_bar must be vectors of one shape"):
        fl.FedAvgServer().step(np.zeros((2, 2)), np.zeros((2, 2)))


# ---------------------------------------------------------------------------------------
# FedAvgM
def test_fedavgm_two_steps():
    eta, beta = 0.7, 0.9
    opt = fl.FedAvgMServer(eta, beta)
    theta1 = opt.step(THETA0, BAR0)
    theta2 = opt.step(theta1, BAR1)

    t0, b0, b1 = (a.astype(np.float64) for a in (THETA0, BAR0, BAR1))
    g0 = t0 - b0
    v0 = beta * 0.0 + g0
    t1 = t0 - eta * v0
    g1 = t1 - b1
    v1 = beta * v0 + g1
    t2 = t1 - eta * v1
    assert np.min(np.abs(t2)) > 0.05              # no cancellation that would make rtol meaningless
    _assert_close(theta1, t1)
    _assert_close(theta2, t2)
    # momentum matters: plain FedAvg with the same eta gives another second step
    plain = fl.FedAvgServer(eta)
    assert not np.allclose(plain.step(plain.step(THETA0, BAR0), BAR1), theta2, rtol=1e-4)


# ---------------------------------------------------------------------------------------
# adaptive optimizers (Reddi et al. 2021), no bias correction, v_{-1} = tau^2
def _adaptive_reference(kind, bars, eta, beta1, beta2, tau, theta0=THETA0):
    theta = theta0.astype(np.float64)
    m = np.zeros_like(theta)
    v = np.full_like(theta, tau ** 2)
    out = []
    for bar in bars:
        g = theta - bar.astype(np.float64)
        m = beta1 * m + (1 - beta1) * g
        if kind == "fedadagrad":
            v = v + g ** 2
        elif kind == "fedadam":
            v = beta2 * v + (1 - beta2) * g ** 2
        elif kind == "fedyogi":
            v = v - (1 - beta2) * g ** 2 * np.sign(v - g ** 2)
        theta = theta - eta * m / (np.sqrt(v) + tau)
        out.append(theta)
    return out


ADAPTIVE = {"fedadagrad": fl.FedAdagradServer, "fedadam": fl.FedAdamServer, "fedyogi": fl.FedYogiServer}


@pytest.mark.parametrize("kind", list(ADAPTIVE))
@pytest.mark.parametrize("eta, beta1, beta2, tau", [(0.1, 0.9, 0.99, 1e-3), (0.05, 0.5, 0.9, 0.1)])
def test_adaptive_two_steps(kind, eta, beta1, beta2, tau):
    opt = ADAPTIVE[kind](eta, beta1=beta1, beta2=beta2, tau=tau)
    theta1 = opt.step(THETA0, BAR0)
    theta2 = opt.step(theta1, BAR1)
    t1, t2 = _adaptive_reference(kind, [BAR0, BAR1], eta, beta1, beta2, tau)
    assert np.min(np.abs(t2)) > 0.05
    _assert_close(theta1, t1)
    _assert_close(theta2, t2)


def test_yogi_uses_both_signs_in_the_example():
    """Make sure the Yogi example exercises v growing and v shrinking."""
    tau, beta2 = 1e-3, 0.99
    t0, b0 = THETA0.astype(np.float64), BAR0.astype(np.float64)
    g0 = t0 - b0
    v0 = tau ** 2 - (1 - beta2) * g0 ** 2 * np.sign(tau ** 2 - g0 ** 2)
    t1 = _adaptive_reference("fedyogi", [BAR0], 0.1, 0.9, beta2, tau)[0]
    g1 = t1 - BAR1.astype(np.float64)
    signs = np.sign(v0 - g1 ** 2)
    assert (signs > 0).any() and (signs < 0).any()


def test_adaptive_optimizers_differ_from_each_other():
    results = {}
    for kind, cls in ADAPTIVE.items():
        opt = cls(0.1)
        results[kind] = opt.step(opt.step(THETA0, BAR0), BAR1)
    assert not np.allclose(results["fedadam"], results["fedyogi"], rtol=1e-6, atol=0)
    assert not np.allclose(results["fedadam"], results["fedadagrad"], rtol=1e-6, atol=0)


@pytest.mark.parametrize("name", SERVER_OPTIMIZERS)
def test_reset_clears_state(name):
    opt = fl.make_server_optimizer(name)
    first = opt.step(THETA0, BAR0)
    second = opt.step(first, BAR1)
    opt.reset()
    np.testing.assert_array_equal(opt.step(THETA0, BAR0), first)
    fresh = fl.make_server_optimizer(name)
    fresh.step(THETA0, BAR0)
    # stateful optimizers: the step from `first` depends on the history, so after a
    # reset it is the same as a fresh optimizer's second step again
    opt.reset()
    opt.step(THETA0, BAR0)
    np.testing.assert_array_equal(opt.step(first, BAR1), second)
    if name != "fedavg":
        # without reset the state would leak: a first step on a used optimizer differs
        used = fl.make_server_optimizer(name)
        used.step(THETA0, BAR0)
        used.step(first, BAR1)
        assert not np.array_equal(used.step(THETA0, BAR0), first)


def test_reset_clears_attributes():
    m = fl.FedAvgMServer()
    m.step(THETA0, BAR0)
    assert m._velocity is not None
    m.reset()
    assert m._velocity is None
    a = fl.FedAdamServer()
    a.step(THETA0, BAR0)
    a.reset()
    assert a._first_moment is None and a._second is None


@pytest.mark.parametrize("name, cls, eta", [
    ("fedavg", fl.FedAvgServer, 1.0), ("fedavgm", fl.FedAvgMServer, 1.0),
    ("fedadagrad", fl.FedAdagradServer, 0.1), ("fedadam", fl.FedAdamServer, 0.01),
    ("fedyogi", fl.FedYogiServer, 0.01),
])
def test_make_server_optimizer_defaults(name, cls, eta):
    opt = fl.make_server_optimizer(name)
    assert type(opt) is cls
    assert opt.name == name
    assert opt.server_learning_rate == eta == DEFAULT_SERVER_LEARNING_RATE[name]
    if name == "fedavgm":
        assert opt.server_momentum == 0.9
    if name in ADAPTIVE:
        assert (opt.beta1, opt.beta2, opt.tau) == (0.9, 0.99, 1e-3)
    # the repr names the class and every setting, and rebuilds an optimizer with the same settings
    assert repr(opt).startswith(f"{cls.__name__}(server_learning_rate={eta!r}")
    rebuilt = eval(repr(opt), {cls.__name__: cls})
    assert type(rebuilt) is cls and vars(rebuilt) == vars(opt)
    # explicit values override the defaults
    custom = fl.make_server_optimizer(name, server_learning_rate=0.3, server_momentum=0.5,
                                      beta1=0.8, beta2=0.95, tau=0.01)
    assert custom.server_learning_rate == 0.3
    if name == "fedavgm":
        assert custom.server_momentum == 0.5
    if name in ADAPTIVE:
        assert (custom.beta1, custom.beta2, custom.tau) == (0.8, 0.95, 0.01)


def test_make_server_optimizer_default_name_is_fedavg():
    assert type(fl.make_server_optimizer()) is fl.FedAvgServer
    assert fl.SERVER_OPTIMIZERS == ("fedavg", "fedavgm", "fedadagrad", "fedadam", "fedyogi")


@pytest.mark.parametrize("factory, match", [
    (lambda: fl.FedAvgServer(0.0), r"server_learning_rate must be > 0, got 0.0"),
    (lambda: fl.FedAvgMServer(1.0, 1.0), r"server_momentum must be in \[0, 1\), got 1.0"),
    (lambda: fl.FedAdamServer(0.01, beta1=-0.1), r"beta1 must be in \[0, 1\), got -0.1"),
    (lambda: fl.FedYogiServer(0.01, tau=0), r"tau must be > 0, got 0.0"),
    (lambda: fl.make_server_optimizer("adam"), r"server_optimizer must be one of .*got 'adam'"),
])
def test_server_optimizer_bad_arguments(factory, match):
    with pytest.raises(ValueError, match=match):
        factory()
