"""Step 4, continued: how the server turns the averaged client model into the next
global model.

Notation (as in the notebooks). theta_t is the global model of round t, theta_bar the
FedAvg average of the client models of that round, and

    g_t = theta_t - theta_bar          (the "pseudo-gradient": minus the average client update)

Every server optimizer below is a rule theta_{t+1} = theta_t - (step built from g_t):

- FedAvg (McMahan et al. 2017), server learning rate eta (1 gives plain averaging,
  theta_{t+1} = theta_bar)::

      theta_{t+1} = theta_t - eta * g_t

- FedAvgM (Hsu et al. 2019), server momentum beta::

      v_t = beta * v_{t-1} + g_t,          v_{-1} = 0
      theta_{t+1} = theta_t - eta * v_t

- FedAdagrad, FedAdam, FedYogi (Reddi et al. 2021, "Adaptive Federated Optimization"),
  with m_{-1} = 0, v_{-1} = tau^2 and no bias correction, as in the paper::

      m_t = beta1 * m_{t-1} + (1 - beta1) * g_t
      FedAdagrad: v_t = v_{t-1} + g_t^2
      FedAdam:    v_t = beta2 * v_{t-1} + (1 - beta2) * g_t^2
      FedYogi:    v_t = v_{t-1} - (1 - beta2) * g_t^2 * sign(v_{t-1} - g_t^2)
      theta_{t+1} = theta_t - eta * m_t / (sqrt(v_t) + tau)

  (beta2 is unused by FedAdagrad.)
"""
from __future__ import annotations

import numpy as np

from ._validate import check_choice, check_float, check_positive

SERVER_OPTIMIZERS = ("fedavg", "fedavgm", "fedadagrad", "fedadam", "fedyogi")

#: server learning rate used when none is given
DEFAULT_SERVER_LEARNING_RATE = {"fedavg": 1.0, "fedavgm": 1.0, "fedadagrad": 0.1,
                                "fedadam": 0.01, "fedyogi": 0.01}


class ServerOptimizer:
    """Base class: holds the optimizer state; :meth:`step` gives the next global model."""

    name = "base"

    def __init__(self, server_learning_rate: float = 1.0):
        self.server_learning_rate = check_positive("server_learning_rate", server_learning_rate)

    def reset(self) -> None:
        """Forget the state (momentum, second moments)."""

    def step(self, theta: np.ndarray, theta_bar: np.ndarray) -> np.ndarray:
        """One server update.

        Parameters
        ----------
        theta : ndarray (P,), the current global model theta_t
        theta_bar : ndarray (P,), the FedAvg average of this round's client models

        Returns
        -------
        ndarray (P,) float32, theta_{t+1}
        """
        theta = np.asarray(theta, dtype=np.float32)
        theta_bar = np.asarray(theta_bar, dtype=np.float32)
        if theta.shape != theta_bar.shape or theta.ndim != 1:
            raise ValueError(f"theta and theta_bar must be vectors of one shape, "
                             f"got {theta.shape} and {theta_bar.shape}")
        return self._step(theta, theta - theta_bar).astype(np.float32)

    def _step(self, theta, g):  # pragma: no cover - abstract
        raise NotImplementedError

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.startswith("_"))
        return f"{type(self).__name__}({params})"


class FedAvgServer(ServerOptimizer):
    """theta_{t+1} = theta_t - eta * g_t (with eta = 1: theta_{t+1} = theta_bar)."""

    name = "fedavg"

    def _step(self, theta, g):
        return theta - np.float32(self.server_learning_rate) * g


class FedAvgMServer(ServerOptimizer):
    """Server momentum: v_t = beta v_{t-1} + g_t; theta_{t+1} = theta_t - eta v_t."""

    name = "fedavgm"

    def __init__(self, server_learning_rate: float = 1.0, server_momentum: float = 0.9):
        super().__init__(server_learning_rate)
        self.server_momentum = check_float("server_momentum", server_momentum, low=0.0, high=1.0,
                                           high_inclusive=False)
        self._velocity = None

    def reset(self):
        self._velocity = None

    def _step(self, theta, g):
        if self._velocity is None:
            self._velocity = np.zeros_like(g)
        self._velocity = np.float32(self.server_momentum) * self._velocity + g
        return theta - np.float32(self.server_learning_rate) * self._velocity


class _AdaptiveServer(ServerOptimizer):
    def __init__(self, server_learning_rate: float = 0.01, beta1: float = 0.9, beta2: float = 0.99,
                 tau: float = 1e-3):
        super().__init__(server_learning_rate)
        self.beta1 = check_float("beta1", beta1, low=0.0, high=1.0, high_inclusive=False)
        self.beta2 = check_float("beta2", beta2, low=0.0, high=1.0, high_inclusive=False)
        self.tau = check_positive("tau", tau)
        self._first_moment = self._second = None

    def reset(self):
        self._first_moment = self._second = None

    def _second_moment(self, v, g2):  # pragma: no cover - abstract
        raise NotImplementedError

    def _step(self, theta, g):
        f = np.float32
        if self._first_moment is None:
            self._first_moment = np.zeros_like(g)
            self._second = np.full_like(g, f(self.tau) ** 2)              # v_0 = tau^2
        # m_t = beta1 m_{t-1} + (1 - beta1) g_t
        self._first_moment = f(self.beta1) * self._first_moment + f(1.0 - self.beta1) * g
        # v_t by the optimizer's rule (Adagrad, Adam or Yogi)
        self._second = self._second_moment(self._second, g * g).astype(np.float32)
        # theta_{t+1} = theta_t - eta m_t / (sqrt(v_t) + tau)
        return theta - f(self.server_learning_rate) * self._first_moment / (np.sqrt(self._second) + f(self.tau))


class FedAdagradServer(_AdaptiveServer):
    """v_t = v_{t-1} + g_t^2."""

    name = "fedadagrad"

    def __init__(self, server_learning_rate: float = 0.1, beta1: float = 0.9, beta2: float = 0.99,
                 tau: float = 1e-3):
        super().__init__(server_learning_rate, beta1, beta2, tau)

    def _second_moment(self, v, g2):
        return v + g2


class FedAdamServer(_AdaptiveServer):
    """v_t = beta2 v_{t-1} + (1 - beta2) g_t^2."""

    name = "fedadam"

    def _second_moment(self, v, g2):
        return np.float32(self.beta2) * v + np.float32(1.0 - self.beta2) * g2


class FedYogiServer(_AdaptiveServer):
    """v_t = v_{t-1} - (1 - beta2) g_t^2 sign(v_{t-1} - g_t^2)."""

    name = "fedyogi"

    def _second_moment(self, v, g2):
        return v - np.float32(1.0 - self.beta2) * g2 * np.sign(v - g2)


def make_server_optimizer(name: str = "fedavg", *, server_learning_rate: float | None = None,
                          server_momentum: float = 0.9, beta1: float = 0.9, beta2: float = 0.99,
                          tau: float = 1e-3) -> ServerOptimizer:
    """Build a server optimizer by name (one of :data:`SERVER_OPTIMIZERS`).

    ``server_learning_rate=None`` takes :data:`DEFAULT_SERVER_LEARNING_RATE` for the name.
    ``server_momentum`` is used by ``fedavgm``; ``beta1``, ``beta2``, ``tau`` by the adaptive ones.
    """
    check_choice("server_optimizer", name, SERVER_OPTIMIZERS)
    eta = DEFAULT_SERVER_LEARNING_RATE[name] if server_learning_rate is None else server_learning_rate
    if name == "fedavg":
        return FedAvgServer(eta)
    if name == "fedavgm":
        return FedAvgMServer(eta, server_momentum)
    cls = {"fedadagrad": FedAdagradServer, "fedadam": FedAdamServer, "fedyogi": FedYogiServer}[name]
    return cls(eta, beta1=beta1, beta2=beta2, tau=tau)
