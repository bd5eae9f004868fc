"""One :class:`~fedlearn_edu.FLConfig`, two runtimes: the kit's config as a Flower run config.

Flower hands every ServerApp and ClientApp a *run config*: a flat mapping of
kebab-case keys to bool, int, float or str, with defaults in the app's
``pyproject.toml`` (``[tool.flwr.app.config]``) and overrides given to ``flwr run
--run-config``. :func:`to_run_config` writes an FLConfig in that form and
:func:`from_run_config` reads it back, so the ServerApp, every ClientApp and the kit's
own simulation all start from the very same FLConfig.

Encoding: ``client_learning_rate`` becomes ``client-learning-rate``; ``None`` becomes
the string ``"none"``; ``hidden_units=(64, 32)`` becomes ``"64,32"``. This module does
not import Flower.
"""
from __future__ import annotations

import dataclasses
from typing import Mapping

from ..simulation import FLConfig

#: FLConfig fields that stay in the classroom: the engine choice, and the simulated devices,
#: SCAFFOLD and compression, which the Flower apps do not implement (see check_flower_config)
LOCAL_ONLY_FIELDS = ("engine", "devices", "speed_spread", "dropout", "deadline", "straggler_policy",
                     "scaffold", "compression", "topk_fraction", "error_feedback")

#: run-config keys of the Flower app that are not FLConfig fields, with their defaults
APP_KEYS = {
    "result-dir": "",            # where the ServerApp writes result.json and final_weights.npz
    "round-timeout": 600.0,      # seconds the ServerApp waits for the replies of one round
    "node-evaluation": "last",   # "none", "last" or "every": evaluate the global model on the nodes
    "server-data-file": "",      # .npz with the server's held-out test set (empty: load the data set)
}

NODE_EVALUATION = ("none", "last", "every")

_OPTIONAL_FIELDS = ("local_steps", "batch_size", "server_learning_rate")


def run_config_key(field: str) -> str:
    """The run-config key of an FLConfig field: ``client_learning_rate`` -> ``client-learning-rate``."""
    return field.replace("_", "-")


def _fields() -> list[dataclasses.Field]:
    return [f for f in dataclasses.fields(FLConfig) if f.name not in LOCAL_ONLY_FIELDS]


def check_flower_config(config: FLConfig) -> FLConfig:
    """Raise ``ValueError`` for the FLConfig features the Flower apps do not implement.

    Device simulation (profiles, dropouts, deadlines), SCAFFOLD and compressed updates
    are features of the kit's per-client engine; on Flower, availability and stragglers
    are real (the Grid's timeout), and these three stay in the classroom.
    """
    if not isinstance(config, FLConfig):
        raise TypeError(f"config must be a fedlearn_edu FLConfig, got {type(config).__name__}")
    if config.simulates_devices:
        raise ValueError(f"the Flower apps do not simulate devices (devices={config.devices}, "
                         f"dropout={config.dropout}, deadline={config.deadline}): on Flower the nodes "
                         f"are real; use devices=False, dropout=0, deadline=None")
    if config.scaffold:
        raise ValueError("scaffold=True is not implemented in the Flower apps; use scaffold=False")
    if config.compression != "none":
        raise ValueError(f"compression={config.compression!r} is not implemented in the Flower apps; "
                         f"use compression='none'")
    return config


def to_run_config(config: FLConfig, **app_values) -> dict[str, bool | int | float | str]:
    """The Flower run config of ``config`` (every FLConfig field but :data:`LOCAL_ONLY_FIELDS`).

    Parameters
    ----------
    config : FLConfig
    **app_values : values for the app's own keys (:data:`APP_KEYS`), with ``_`` for ``-``,
        e.g. ``result_dir="/tmp/run"``

    Returns
    -------
    dict mapping kebab-case keys to bool, int, float or str
    """
    check_flower_config(config)
    out: dict[str, bool | int | float | str] = {}
    for f in _fields():
        value = getattr(config, f.name)
        if value is None:
            value = "none"
        elif f.name == "hidden_units":
            value = ",".join(str(h) for h in value)
        out[run_config_key(f.name)] = value
    for name, value in app_values.items():
        key = run_config_key(name)
        if key not in APP_KEYS:
            raise ValueError(f"unknown app key {name!r}; app keys are {sorted(APP_KEYS)}")
        out[key] = value
    return out


def from_run_config(run_config: Mapping) -> FLConfig:
    """The FLConfig written by :func:`to_run_config` (keys that are not fields are ignored).

    Raises ``ValueError`` naming the key when a value cannot be read.
    """
    values = {}
    for f in _fields():
        key = run_config_key(f.name)
        if key not in run_config:
            continue
        value = run_config[key]
        if f.name in _OPTIONAL_FIELDS and isinstance(value, str):
            if value.strip().lower() != "none":
                raise ValueError(f"run config {key!r} must be a number or 'none', got {value!r}")
            value = None
        elif f.name == "hidden_units":
            try:
                value = tuple(int(part) for part in str(value).split(","))
            except ValueError:
                raise ValueError(f"run config 'hidden-units' must be comma-separated integers "
                                 f"like '64' or '64,32', got {value!r}") from None
        elif isinstance(f.default, float):
            value = float(value) if isinstance(value, int) and not isinstance(value, bool) else value
        values[f.name] = value
    return FLConfig(**values)


def app_value(run_config: Mapping, name: str):
    """One of the app's own run-config values (:data:`APP_KEYS`), default when absent."""
    key = run_config_key(name)
    if key not in APP_KEYS:
        raise ValueError(f"unknown app key {name!r}; app keys are {sorted(APP_KEYS)}")
    value = run_config.get(key, APP_KEYS[key])
    if key == "node-evaluation" and value not in NODE_EVALUATION:
        raise ValueError(f"run config 'node-evaluation' must be one of {NODE_EVALUATION}, got {value!r}")
    return value


def pyproject_config_table(config: FLConfig | None = None) -> str:
    """The ``[tool.flwr.app.config]`` table of the app's pyproject.toml for ``config``
    (defaults: ``FLConfig()``), as TOML text."""
    values = dict(to_run_config(config or FLConfig()), **APP_KEYS)
    lines = ["[tool.flwr.app.config]"]
    for key, value in values.items():
        if isinstance(value, bool):
            text = "true" if value else "false"
        elif isinstance(value, str):
            text = f'"{value}"'
        else:
            text = repr(value)
        lines.append(f"{key} = {text}")
    return "\n".join(lines) + "\n"
