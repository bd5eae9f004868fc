"""Checkers for the kit's exercises: ``check_<name>(answer, ...)`` returns a :class:`Verdict`.

A verdict is one line that starts with "✔ " or "✘ ". It says what was measured and what
was expected and, for a wrong answer, gives a hint that teaches ("you weighted by 1/n_k, as
the article does: the smallest client gets the most say"). It is truthy iff the answer
passed, so ``assert fl.exercises.check_fedavg(fedavg)`` works in a cell.

A checker never raises on a wrong answer. A value of the wrong type or shape, NaN, None, a
string, or a function that raises all give a ✘ verdict that says what went wrong. A
function you wrote is called on small known inputs, inside ``try``, and its output is
compared with the kit's own code on the same inputs.

Every expected value is computed from the kit's functions (or from the formula the notebook
states), never typed in, so no checker goes stale when the kit changes.

The exercises come in four kinds, from easy to hard:

* **predict, then run**: :func:`check_prediction` compares your guess with the measured value
  and says how far off it was, and in which direction;
* **compute a number** (bytes, steps, clients per round): e.g. :func:`check_run_bytes`;
* **find the bug** (the article's formula, 1/n_k weights, a server that forgets its learning
  rate): e.g. :func:`check_article_weights`, :func:`check_server_update`;
* **write the function** (local SGD, FedAvg, FedProx, server momentum, clipping, masks): e.g.
  :func:`check_local_update`, :func:`check_fedavg`.

:data:`CHECKERS` lists every checker with its notebook and a one-line description.
"""
from __future__ import annotations

import dataclasses
import functools
import importlib
import inspect
import math
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np

from . import reference
from .aggregate import client_weights, coordinate_median, fedavg_coefficients, seed_formula
from .client import batch_plan
from .compression import Compressor, densify, top_k
from .devices import DeviceProfile, plan_round
from .i18n import N_, tr
from .partition import dirichlet_partition, label_distribution, non_iid_score
from .rng import epoch_orders
from .server import FedAvgMServer, FedAvgServer
from .simulation import BYTES_PER_PARAMETER, FLConfig, first_round_reaching
from .utils import MissingExtra, require_extra
from .widgets.challenges import bytes_per_round
from .widgets.comparison import crossover_samples
from .widgets.fedavg_steps import stopping_round
from .widgets.math import formula_weights

__all__ = [
    "Verdict", "CHECKERS", "check_prediction",
    # 00 start here
    "check_clients_per_round", "check_rounds_to_accuracy", "check_config_field",
    # 01 why federated
    "check_model_upload_bytes", "check_crossover_samples",
    # 02 data and partitions
    "check_label_distribution", "check_partition", "check_more_skewed_alpha", "check_non_iid_score",
    # 03 model and local training
    "check_parameter_count", "check_local_steps", "check_local_update", "check_fedprox_update",
    # 04 FedAvg step by step
    "check_fedavg_weights", "check_fedavg", "check_fedavg_round", "check_server_update", "check_stopping_round",
    # 05 the math
    "check_fedavg_vectors", "check_article_weights", "check_formula_scaling", "check_objective_weights",
    "check_fedsgd_step", "check_server_momentum",
    # 06 the lab, 07 challenges, 08 applications
    "check_server_share", "check_run_bytes", "check_reconstruction",
    # 09 privacy and security
    "check_clip_to_norm", "check_dp_noise_std", "check_dp_aggregate", "check_secure_masks",
    "check_coordinate_median",
    # 11 non-IID algorithms
    "check_scaffold_control", "check_proximal_gradient",
    # 12 communication
    "check_upload_bytes", "check_error_feedback", "check_topk_breakeven",
    # 13 devices and deadlines
    "check_client_time", "check_partial_steps", "check_round_time",
    # 14 the paper
    "check_speedup",
]

_PASS, _FAIL = "✔", "✘"
_TOLERANCE = 1e-5          # written-out functions must agree with the kit's to this (float32 arithmetic)


# =============================================================================================
# The verdict and the helpers every checker uses
# =============================================================================================
@dataclass(frozen=True, repr=False)
class Verdict:
    """What a checker says about an answer: one line, truthy iff the answer passed.

    Attributes
    ----------
    passed : bool
    message : str, one line starting with "✔ " or "✘ ": the measured value, the expected one
        and, for a wrong answer, the hint
    hint : str, the hint alone ("" when the answer passed)
    """

    passed: bool
    message: str
    hint: str = ""

    def __post_init__(self):
        passed = bool(self.passed)
        text = " ".join(str(self.message).split()).lstrip(_PASS + _FAIL).strip()
        object.__setattr__(self, "passed", passed)
        object.__setattr__(self, "message", f"{_PASS if passed else _FAIL} {text}")
        object.__setattr__(self, "hint", " ".join(str(self.hint).split()))

    def __bool__(self) -> bool:
        return self.passed

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return self.message


def _ok(text: str) -> Verdict:
    return Verdict(True, text)


def _no(text: str, hint: str = "") -> Verdict:
    # TRANSLATORS: what was measured, then the hint (a full-width colon in Chinese)
    return Verdict(False, tr("{verdict}: {hint}").format(verdict=text, hint=hint) if hint else text, hint)


def _checker(func: Callable[..., Verdict]) -> Callable[..., Verdict]:
    """A checker never raises: anything unexpected (bad context arguments too) becomes a ✘ verdict."""
    @functools.wraps(func)
    def wrapper(*args, **kwargs) -> Verdict:
        try:
            return func(*args, **kwargs)
        except Exception as exc:  # the student's answer or the call itself was unusable
            return _no(tr("the checker could not run ({error})").format(error=f"{type(exc).__name__}: {_short(exc)}"),
                       tr("check the keyword arguments the exercise gives after your answer"))
    return wrapper


def _short(text: Any, limit: int = 160) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _fmt(value: Any) -> str:
    """A number or a short array, readably: 6,156 / 0.0956 / [0.1, 0.25, …]."""
    if value is None:
        return "None"
    a = np.asarray(value)
    if a.dtype == object or a.dtype.kind in "USb":
        return _short(repr(value), 60)
    if a.ndim == 0:
        v = a.item()
        if isinstance(v, int):
            return f"{v:,}"
        if not math.isfinite(v):
            return str(v)
        return f"{int(v):,}" if float(v).is_integer() and abs(v) < 1e15 else f"{v:.4g}"
    items = [_fmt(v) for v in a.ravel()[:6]]
    return "[" + ", ".join(items) + (", …]" if a.size > 6 else "]")


def _describe(value: Any) -> str:
    if value is None:
        return "None"
    if isinstance(value, np.ndarray):
        return tr("an array of shape {shape}").format(shape=value.shape)
    return tr("a {type} ({value})").format(type=type(value).__name__, value=_short(repr(value), 40))


def _close(a: float, b: float, rtol: float, atol: float) -> bool:
    return abs(a - b) <= atol + rtol * abs(b)


def _not_a_value(answer: Any, what: str) -> Verdict | None:
    """The answers that are never numbers: None, text, a function, True/False."""
    if answer is None:
        return _no(tr("{what} is None").format(what=what),
                   tr("assign your answer first (a function without `return` gives None)"))
    if isinstance(answer, (str, bytes)):
        return _no(tr("{what} is the text {text}").format(what=what, text=_short(repr(answer), 40)),
                   tr("give a number or an array, not a string"))
    if callable(answer):
        return _no(tr("{what} is a function").format(what=what), tr("call it and pass its result"))
    if isinstance(answer, (bool, np.bool_)):
        return _no(tr("{what} is {value}").format(what=what, value=answer), tr("give a number, not True or False"))
    return None


def _floats(answer: Any, what: str, kind: str, hint: str) -> tuple[np.ndarray | None, Verdict | None]:
    """``answer`` as a float64 array, or the ✘ verdict that says it is not ``kind``."""
    problem = _not_a_value(answer, what)
    if problem is not None:
        return None, problem
    try:
        return np.asarray(answer, dtype=np.float64), None
    except (TypeError, ValueError):
        return None, _no(tr("{what} is {description}, not {kind}").format(what=what, description=_describe(answer),
                                                                           kind=kind), hint)


def _number(answer: Any, what: str) -> tuple[float | None, Verdict | None]:
    """``answer`` as one finite float, or the ✘ verdict that says why it is not one."""
    a, problem = _floats(answer, what, tr("a number"), tr("give a plain number such as 3 or 0.25"))
    if problem is not None:
        return None, problem
    if a.size != 1:
        return None, _no(tr("{what} has shape {shape}, expected one number").format(what=what, shape=a.shape),
                         tr("give a single number, not an array"))
    value = float(a.ravel()[0])
    if not math.isfinite(value):
        return None, _no(tr("{what} is {value}").format(what=what, value=value),
                         tr("NaN or infinity: a division by zero, or a diverged run?"))
    return value, None


def _array(answer: Any, what: str, shape: tuple | None = None,
           shape_hint: str = "") -> tuple[np.ndarray | None, Verdict | None]:
    """``answer`` as a finite float64 array (of ``shape``), or the ✘ verdict that says why not."""
    a, problem = _floats(answer, what, tr("an array of numbers"), tr("return a NumPy array (or a list of numbers)"))
    if problem is not None:
        return None, problem
    if shape is not None and a.shape != tuple(shape):
        return None, _no(tr("{what} has shape {shape}, expected {expected}").format(what=what, shape=a.shape,
                                                                                    expected=tuple(shape)),
                         shape_hint or tr("look at the shape of the inputs you were given"))
    if not np.all(np.isfinite(a)):
        return None, _no(tr("{what} contains NaN or infinity").format(what=what),
                         tr("a division by zero, or a step that blew up?"))
    return a, None


def _weights(answer: Any, template: Sequence[np.ndarray], what: str) -> tuple[list | None, Verdict | None]:
    """``answer`` as a list of arrays shaped like ``template`` (a model's layers)."""
    shapes = [tuple(np.shape(t)) for t in template]
    if not isinstance(answer, (list, tuple)):
        problem = _not_a_value(answer, what)
        if problem is not None:
            return None, problem
        return None, _no(tr("{what} is {description}, expected a list of {count} arrays shaped {shapes}").format(
                             what=what, description=_describe(answer), count=len(shapes), shapes=shapes),
                         tr("return the model as a list of arrays, one per layer, like the weights you were given"))
    if len(answer) != len(shapes):
        return None, _no(tr("{what} holds {entries} entries, expected {count} arrays shaped {shapes}").format(
                             what=what, entries=len(answer), count=len(shapes), shapes=shapes),
                         tr("one array per layer: kernel and bias of each Dense layer"))
    arrays = []
    for i, (layer, shape) in enumerate(zip(answer, shapes, strict=True)):
        a, problem = _array(layer, f"{what}[{i}]", shape, tr("each layer keeps its shape"))
        if problem is not None:
            return None, problem
        arrays.append(a)
    return arrays, None


def _call(fn: Any, what: str, args: tuple = (), kwargs: dict | None = None) -> tuple[Any, Verdict | None]:
    """Call a student's function; an exception becomes a one-line ✘ verdict."""
    if not callable(fn):
        return None, _no(tr("your {what} is {description}, not a function").format(what=what,
                                                                                    description=_describe(fn)),
                         tr("pass the function itself, without calling it: check_x(my_function)"))
    try:
        return fn(*args, **(kwargs or {})), None
    except Exception as exc:  # a student's bug: report it in one line instead of a traceback
        return None, _no(tr("your {what} raised {error}").format(what=what,
                                                                 error=f"{type(exc).__name__}: {_short(exc)}"),
                         tr("call it yourself on small inputs to see the line that fails"))


def _arguments(fn: Any, values: dict, aliases: dict) -> tuple[tuple, dict]:
    """Arguments for a student's function: by keyword when its parameter names are recognised
    (``values``' keys or their ``aliases``), otherwise positionally in the documented order."""
    try:
        parameters = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        return tuple(values.values()), {}
    named = {p.name for p in parameters if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
    by_name = {}
    for key, value in values.items():
        match = next((alias for alias in (key, *aliases.get(key, ())) if alias in named), None)
        if match is not None:
            by_name[match] = value
    required = {p.name for p in parameters
                if p.default is p.empty and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)}
    if len(by_name) == len(values) and required <= set(by_name):
        return (), by_name
    return tuple(values.values()), {}


def _call_named(fn: Any, what: str, values: dict, aliases: dict) -> tuple[Any, Verdict | None]:
    if not callable(fn):
        return _call(fn, what)
    args, kwargs = _arguments(fn, values, aliases)
    return _call(fn, what, args, kwargs)


def _compare_number(answer: Any, expected: float, *, what: str, because: str, otherwise: str,
                    wrong: Sequence[tuple[float | None, str]] = (), rtol: float = 1e-6,
                    atol: float = 1e-9) -> Verdict:
    """A number answer against ``expected``; the first matching typical mistake gives its hint."""
    value, problem = _number(answer, what)
    if problem is not None:
        return problem
    if _close(value, expected, rtol, atol):
        return _ok(tr("your {what} is {value}, as expected ({because})").format(what=what, value=_fmt(value),
                                                                                because=because))
    measured = tr("your {what} is {value}, expected {expected} ({because})").format(
        what=what, value=_fmt(value), expected=_fmt(expected), because=because)
    for candidate, hint in wrong:
        if candidate is not None and not _close(candidate, expected, rtol, atol) and _close(value, candidate, rtol,
                                                                                          atol):
            return _no(measured, hint)
    return _no(measured, otherwise)


def _first_match(got: np.ndarray, candidates: Sequence[tuple[Any, str]], atol: float = _TOLERANCE) -> str | None:
    """The hint of the first candidate ``got`` equals (same shape, within ``atol``)."""
    for candidate, hint in candidates:
        if candidate is None:
            continue
        c = np.asarray(candidate, dtype=np.float64)
        if c.shape == got.shape and np.allclose(got, c, rtol=_TOLERANCE, atol=atol):
            return hint
    return None


def _same(got: Sequence[np.ndarray], expected: Sequence[np.ndarray], atol: float = _TOLERANCE) -> bool:
    return all(np.allclose(a, b, rtol=_TOLERANCE, atol=atol) for a, b in zip(got, expected, strict=True))


def _max_gap(got: Sequence[np.ndarray], expected: Sequence[np.ndarray]) -> tuple[float, int]:
    gaps = [float(np.max(np.abs(np.asarray(a, np.float64) - np.asarray(b, np.float64)))) if np.size(b) else 0.0
            for a, b in zip(got, expected, strict=True)]
    return max(gaps), int(np.argmax(gaps))


def _flatten(layers: Sequence[np.ndarray]) -> np.ndarray:
    return np.concatenate([np.ravel(np.asarray(a, dtype=np.float64)) for a in layers])


def _changed(passed: Sequence[np.ndarray], originals: Sequence[np.ndarray]) -> bool:
    """True when a student's function changed the arrays it was handed."""
    return any(not np.array_equal(np.asarray(a), b) for a, b in zip(passed, originals, strict=True))


def _optional(module: str, extra: str) -> tuple[Any, Verdict | None]:
    """Import ``fedlearn_edu.<module>`` lazily; if the kit's ``extra`` is missing, the ✘ verdict says
    how to install it."""
    try:
        return importlib.import_module(f"fedlearn_edu.{module}"), None
    except ImportError as exc:
        try:
            require_extra(extra)
        except MissingExtra as missing:
            return None, _no(tr("fedlearn_edu.{module} cannot be imported").format(module=module), str(missing))
        return None, _no(tr("fedlearn_edu.{module} cannot be imported ({error})").format(
                             module=module, error=f"{type(exc).__name__}: {_short(exc)}"),
                         tr("reinstall the kit's [{extra}] extra").format(extra=extra))


# =============================================================================================
# Predict, then run (any notebook)
# =============================================================================================
@_checker
def check_prediction(guess: Any, measured: Any, *, tolerance: float = 0.1, relative: bool = True,
                     what: str = N_("the value")) -> Verdict:
    """Compare a guess written down before an experiment with what the experiment measured
    (predict-then-run, notebooks 01-14).

    Parameters
    ----------
    guess : number, your prediction
    measured : number, what the experiment gave (e.g. ``history.final_accuracy``)
    tolerance : float, allowed gap: a share of ``measured`` (``relative=True``) or absolute
    relative : bool, tolerance relative to the measured value (absolute when it is 0)
    what : str, what was predicted, for the message ("the final accuracy")

    Returns
    -------
    Verdict: how far off the guess was and in which direction (too high, too low, wrong sign).
    """
    what = tr(what) if isinstance(what, str) else what    # a notebook's description, in the kit's language
    value, problem = _number(guess, tr("your guess"))
    if problem is not None:
        return problem
    actual, problem = _number(measured, tr("the measured {what}").format(what=what))
    if problem is not None:
        return _no(tr("the measured {what} is not a number ({description})").format(what=what,
                                                                                    description=_describe(measured)),
                   tr("run the experiment cell first, then pass its result as `measured`"))
    by_share = relative and actual != 0
    scale = abs(actual) if by_share else 1.0
    gap = value - actual
    band = f"±{tolerance:.0%}" if by_share else f"±{_fmt(tolerance)}"
    if abs(gap) <= tolerance * scale:
        return _ok(tr("your guess {guess} for {what} is within {band} of the measured {measured}").format(
            guess=_fmt(value), what=what, band=band, measured=_fmt(actual)))
    how = f"{abs(gap) / scale:.0%}" if by_share else _fmt(abs(gap))
    factor = max(value / actual, actual / value) if value != 0 and actual != 0 else 0.0
    if value * actual < 0 or factor < 2:
        template = (tr("your guess {guess} for {what} is {gap} too high: measured {measured} (allowed {band})")
                    if gap > 0 else
                    tr("your guess {guess} for {what} is {gap} too low: measured {measured} (allowed {band})"))
    else:
        template = (tr("your guess {guess} for {what} is {gap} too high: measured {measured} (allowed {band}), "
                       "off by a factor {factor}") if gap > 0 else
                    tr("your guess {guess} for {what} is {gap} too low: measured {measured} (allowed {band}), "
                       "off by a factor {factor}"))
    measured_text = template.format(guess=_fmt(value), what=what, gap=how, measured=_fmt(actual), band=band,
                                    factor=f"{factor:.2g}")
    if value * actual < 0:
        return _no(measured_text, tr("wrong sign: the effect goes the other way from your prediction; "
                                     "which of the forces you had in mind did you expect to win?"))
    if gap > 0:
        return _no(measured_text, tr("you overestimated: the effect is smaller than you thought; "
                                     "look for what limits it"))
    return _no(measured_text, tr("you underestimated: the effect is larger than you thought; "
                                 "look for what amplifies it"))


# =============================================================================================
# 00 · Start here
# =============================================================================================
@_checker
def check_clients_per_round(answer: Any, *, n_clients: int, fraction: float) -> Verdict:
    """Notebook 00 (and 04, 07): how many clients take part in a round, m = max(1, floor(C K)).

    Parameters
    ----------
    answer : int, your m
    n_clients : int, K
    fraction : float in (0, 1], C

    Returns
    -------
    Verdict, computed from ``FLConfig(n_clients, fraction).clients_per_round``.
    """
    m = FLConfig(n_clients=n_clients, fraction=fraction).clients_per_round
    ck = fraction * n_clients
    return _compare_number(
        answer, m, what=tr("m (clients per round)"),
        because=tr("m = max(1, floor(C K)) with C = {fraction}, K = {clients}").format(fraction=_fmt(fraction),
                                                                                        clients=n_clients),
        otherwise=tr("m = max(1, floor(C K)): a share C of the K clients, rounded down, at least one"),
        wrong=[(ck, tr("C K = {ck} is not a whole number of clients: take its floor").format(ck=_fmt(ck))),
               (math.ceil(ck - 1e-9), tr("you rounded C K up (or to the nearest): the kit takes the floor, "
                                         "so a round never holds more than C K clients")),
               (math.floor(ck + 1e-9), tr("a round with no client trains nothing: max(1, ·) keeps at least one")),
               (n_clients, tr("that is every client, K: only a share C of them is sampled each round")),
               (fraction, tr("that is the share C itself: m counts clients"))])


@_checker
def check_rounds_to_accuracy(answer: Any, *, accuracy: Any, target: float = 0.85) -> Verdict:
    """Notebook 00, exercise 2: the first round whose test accuracy reaches ``target``.

    Parameters
    ----------
    answer : int (1-based round) or None (never reached)
    accuracy : History (its ``accuracy``) or the test accuracy after rounds 1, 2, ...
    target : float in [0, 1]

    Returns
    -------
    Verdict, computed with ``History.rounds_to_accuracy``'s rule (``first_round_reaching``).
    """
    acc = np.asarray(getattr(accuracy, "accuracy", accuracy), dtype=np.float64)
    expected = first_round_reaching(acc, target)
    best = int(np.argmax(acc)) + 1
    if expected is None:
        if answer is None:
            return _ok(tr("None: the run never reached {target} (its best accuracy is {best})").format(
                target=f"{target:g}", best=f"{acc.max():.3f}"))
        return _no(tr("you answered {answer}, but no round reached {target} (best {best}, in round {round})").format(
                       answer=_fmt(answer), target=f"{target:g}", best=f"{acc.max():.3f}", round=best),
                   tr("answer None when the target is never reached"))
    if answer is None:
        return _no(tr("you answered None, but round {round} reached {accuracy} >= {target}").format(
                       round=expected, accuracy=f"{acc[expected - 1]:.3f}", target=f"{target:g}"),
                   tr("None means never reached: look for the first row of history.table() at or above the target"))
    return _compare_number(
        answer, expected, what=tr("round"),
        because=tr("the first round with accuracy >= {target}: {accuracy} in round {round}").format(
            target=f"{target:g}", accuracy=f"{acc[expected - 1]:.3f}", round=expected),
        otherwise=tr("scan the accuracy column from round 1 and stop at the first value >= the target"),
        wrong=[(expected - 1, tr("rounds count from 1, as in history.table(): you gave the 0-based index into "
                                 "history.accuracy")),
               (best, tr("that is the round of the best accuracy; the question asks for the first to reach the "
                         "target")),
               (len(acc), tr("that is the last round of the run"))])


#: the article's (and the notebooks') symbols, and the FLConfig field each one is
_SYMBOLS = {"N": ("n_clients", N_("the number of edge devices N")), "K": ("n_clients", N_("the number of clients K")),
            "C": ("fraction", N_("the share of clients per round C")), "E": ("local_epochs", N_("the local epochs E")),
            "B": ("batch_size", N_("the local batch size B")), "R": ("rounds", N_("the number of rounds R")),
            "alpha": ("client_learning_rate", N_("the article's learning rate α")),
            "mu": ("mu", N_("FedProx's proximal coefficient μ")),
            "beta": ("server_momentum", N_("the article's β read as server momentum"))}
_GREEK = {"α": "alpha", "μ": "mu", "β": "beta"}


def _field_docs() -> dict[str, str]:
    """FLConfig's attribute descriptions, read from its docstring ("name : description")."""
    docs = {}
    for line in (FLConfig.__doc__ or "").splitlines():
        head, separator, text = line.strip().partition(" : ")
        names = [name.strip() for name in head.split(",")]
        if separator and all(name.isidentifier() for name in names):
            docs.update(dict.fromkeys(names, text.strip()))
    return docs


@_checker
def check_config_field(answer: Any, *, symbol: str = "N") -> Verdict:
    """Notebook 00, exercise 3: which ``FLConfig`` field is the article's symbol (N by default)?

    Parameters
    ----------
    answer : str, a field name such as "rounds" (``"FLConfig.rounds"`` is accepted too)
    symbol : one of N, K, C, E, B, R, alpha (α), mu (μ), beta (β)

    Returns
    -------
    Verdict; a wrong field is explained with its own description from ``FLConfig``'s docstring.
    """
    expected, meaning = _SYMBOLS[_GREEK.get(symbol, symbol)]
    meaning = tr(meaning)
    fields = [f.name for f in dataclasses.fields(FLConfig)]
    if expected not in fields:
        return _no(tr("FLConfig has no field {field} any more").format(field=repr(expected)),
                   tr("the kit changed: ask your teacher"))
    if not isinstance(answer, str):
        return _no(tr("your answer is {description}").format(description=_describe(answer)),
                   tr("give the field's name as a string, e.g. 'rounds'"))
    name = answer.strip().split(".")[-1].strip("'\" ")
    if name == expected:
        return _ok(tr("FLConfig.{field} is {meaning}").format(field=expected, meaning=meaning))
    if name == "clients_per_round":
        return _no(tr("FLConfig.clients_per_round is not {meaning}").format(meaning=meaning),
                   tr("clients_per_round is m = max(1, floor(C K)), the clients of ONE round, computed from two "
                      "fields"))
    if name in fields:
        # TRANSLATORS: {description} is the field's description from FLConfig's docstring (English)
        return _no(tr("FLConfig.{field} is not {meaning}").format(field=name, meaning=meaning),
                   tr("FLConfig.{field} is '{description}'").format(field=name,
                                                                     description=_field_docs().get(name, name)))
    return _no(tr("{name} is not a field of FLConfig").format(name=repr(name)),
               tr("its fields are {fields}, …: read the docstring, fl.FLConfig?").format(fields=", ".join(fields[:8])))


# =============================================================================================
# 01 · Why federated learning
# =============================================================================================
def _dense_parameters(n_features: int, hidden_units: Any, n_classes: int) -> tuple[int, int]:
    """(parameters, kernel entries only) of a Dense network n_features -> hidden... -> n_classes."""
    hidden = (int(hidden_units),) if np.isscalar(hidden_units) else tuple(int(h) for h in hidden_units)
    widths = [int(n_features), *hidden, int(n_classes)]
    kernels = sum(a * b for a, b in zip(widths[:-1], widths[1:], strict=True))
    return kernels + sum(widths[1:]), kernels


@_checker
def check_model_upload_bytes(answer: Any, *, n_features: int = 20, hidden_units: Any = (64,),
                             n_classes: int = 3) -> Verdict:
    """Notebooks 01 and 04: the bytes of one model upload, P float32 numbers of 4 bytes.

    Parameters
    ----------
    answer : int, your byte count
    n_features, hidden_units, n_classes : the network (the article's 20 -> 64 -> 3 by default)
    """
    n_parameters, kernels = _dense_parameters(n_features, hidden_units, n_classes)
    expected = n_parameters * BYTES_PER_PARAMETER
    return _compare_number(
        answer, expected, what=tr("byte count for one upload"),
        because=tr("P = {parameters} float32 parameters × {bytes} bytes").format(parameters=f"{n_parameters:,}",
                                                                                 bytes=BYTES_PER_PARAMETER),
        otherwise=tr("one upload is the whole model: P float32 numbers of 4 bytes each"),
        wrong=[(n_parameters, tr("that is the number of parameters P; each float32 parameter takes 4 bytes")),
               (2 * expected, tr("that is a download plus an upload (or float64): one upload is 4 P bytes")),
               (8 * expected, tr("that is bits: 32 bits make the 4 bytes of a float32")),
               (kernels * BYTES_PER_PARAMETER, tr("you left out the biases: each Dense layer has one per unit too"))])


@_checker
def check_crossover_samples(answer: Any, *, n_parameters: int, rounds: int, example_bytes: int,
                            fraction: float = 1.0) -> Verdict:
    """Notebook 01, exercises 2-3: the examples per client n* = 8 P R C / b above which FedAvg
    moves fewer bytes than uploading the raw data once.

    Parameters
    ----------
    answer : float, your n*
    n_parameters : int, P
    rounds : int, R
    example_bytes : int, b, bytes of one example (features and label)
    fraction : float, C
    """
    expected = crossover_samples(n_parameters, rounds, example_bytes, fraction)
    return _compare_number(
        answer, expected, what=tr("crossover n*"), rtol=0.005, atol=0.5,
        because=f"n* = 2 × 4 × P R C / b = 8 × {n_parameters:,} × {rounds} × {_fmt(fraction)} / {example_bytes}",
        otherwise=tr("set n_k × b (the raw data) equal to 2 × 4 P × R C (a model down and up in each of C R rounds)"),
        wrong=[(expected / 2, tr("you counted only the uploads: the model also travels down to the client each "
                                 "round")),
               (expected / fraction, tr("a client takes part in only C R of the R rounds: multiply by C")),
               (expected / BYTES_PER_PARAMETER, tr("you counted parameters as bytes: each is 4 bytes")),
               (1 / expected, tr("inverted: n* is a number of examples, model traffic divided by bytes per "
                                 "example"))])


# =============================================================================================
# 02 · Data and partitions
# =============================================================================================
@_checker
def check_label_distribution(answer: Any, *, y: Any, parts: Sequence, n_classes: int | None = None) -> Verdict:
    """Notebook 02: the label counts of a partition, ``counts[k, c]`` = examples of class c on client k.

    Parameters
    ----------
    answer : array (K, n_classes), your counts
    y : the labels the partition indexes
    parts : list of K index arrays
    n_classes : int, optional (default: max label + 1)
    """
    expected = label_distribution(y, parts, n_classes)
    n_clients, n_cls = expected.shape
    a, problem = _array(answer, tr("your counts"))
    if problem is not None:
        return problem
    transposed = tr("rows must be clients and columns classes: you transposed the matrix")
    if a.shape != expected.shape:
        if a.shape == (n_cls, n_clients):
            hint = transposed
        elif a.ndim == 2 and a.shape[0] == n_clients and a.shape[1] < n_cls:
            hint = tr("every client needs a column for every class, even one it lacks: "
                      "np.bincount(y[p], minlength=n_classes)")
        else:
            hint = tr("one row per client ({clients}) and one column per class ({classes})").format(
                clients=n_clients, classes=n_cls)
        return _no(tr("your counts have shape {shape}, expected ({clients}, {classes})").format(
            shape=a.shape, clients=n_clients, classes=n_cls), hint)
    if np.array_equal(a, expected):
        return _ok(tr("all {clients} × {classes} counts are right; they add up to n = {total}").format(
            clients=n_clients, classes=n_cls, total=f"{expected.sum():,}"))
    k, c = (int(i) for i in np.argwhere(a != expected)[0])
    measured = tr("client {client}, class {label}: you have {value}, expected {expected}").format(
        client=k, label=c, value=_fmt(a[k, c]), expected=expected[k, c])
    shares = expected / expected.sum(axis=1, keepdims=True)
    hint = _first_match(a, [
        (expected.T, transposed),
        (shares, tr("you gave each client's label shares; the exercise asks for counts (do not divide by n_k)")),
        (np.tile(expected.sum(axis=0), (n_clients, 1)),
         tr("every row is the global count: count the labels y[parts[k]] of client k, not all of y"))], atol=1e-6)
    return _no(measured, hint or tr("counts[k, c] is the number of examples of class c among y[parts[k]]"))


@_checker
def check_partition(answer: Any, *, n_examples: int, n_clients: int) -> Verdict:
    """Notebook 02: a partition you wrote, a list of ``n_clients`` index arrays that put every one
    of ``n_examples`` examples on exactly one client, no client empty.

    Parameters
    ----------
    answer : list of K integer arrays
    n_examples : int, n
    n_clients : int, K
    """
    if not isinstance(answer, (list, tuple)):
        problem = _not_a_value(answer, tr("your partition"))
        return problem if problem is not None else _no(
            tr("your partition is {description}").format(description=_describe(answer)),
            tr("return a list of index arrays, one per client"))
    if len(answer) != n_clients:
        return _no(tr("you made {parts} parts, expected one per client (K = {clients})").format(
                       parts=len(answer), clients=n_clients),
                   tr("np.array_split(order, K) makes exactly K parts"))
    parts = []
    for k, part in enumerate(answer):
        p = np.asarray(part)
        if p.dtype.kind == "b":
            return _no(tr("client {client}'s part is a boolean mask").format(client=k),
                       tr("turn it into indices with np.flatnonzero(mask)"))
        if p.ndim != 1 or (p.size and p.dtype.kind not in "iu"):
            return _no(tr("client {client}'s part is {description}").format(client=k, description=_describe(part)),
                       tr("each part is a 1-D array of integer indices"))
        parts.append(p.astype(np.int64))
    every = np.concatenate(parts) if parts else np.zeros(0, np.int64)
    sizes = np.array([len(p) for p in parts])
    if every.size and (every.min() < 0 or every.max() >= n_examples):
        bad = int(every[(every < 0) | (every >= n_examples)][0])
        return _no(tr("index {index} is outside range({n})").format(index=bad, n=n_examples),
                   tr("indices run from 0 to n - 1"))
    if np.any(sizes == 0):
        return _no(tr("client {client} holds no examples").format(client=int(np.argmin(sizes))),
                   tr("a client with no data cannot train"))
    counts = np.bincount(every, minlength=n_examples)
    if len(parts) > 1 and all(np.array_equal(np.sort(parts[0]), np.sort(p)) for p in parts[1:]):
        return _no(tr("every client got the same {examples} examples").format(examples=len(parts[0])),
                   tr("that copies the data to every client: split the indices, one part per client"))
    if counts.max() > 1:
        j = int(np.argmax(counts))
        return _no(tr("example {example} appears {count} times").format(example=j, count=counts[j]),
                   tr("each example lives on exactly one client: deal a permutation, do not draw with replacement"))
    if counts.min() == 0:
        missing = np.flatnonzero(counts == 0)
        return _no(tr("the sizes add up to {total}, not n = {n}: {missing} examples are on no client "
                      "(e.g. {example})").format(total=f"{sizes.sum():,}", n=f"{n_examples:,}",
                                                 missing=len(missing), example=missing[0]),
                   tr("n // K per client drops the remainder; np.array_split deals it out"))
    return _ok(tr("{clients} clients of {smallest} to {largest} examples: each of the {n} examples on exactly one "
                  "client").format(clients=n_clients, smallest=sizes.min(), largest=sizes.max(), n=f"{n_examples:,}"))


@_checker
def check_more_skewed_alpha(answer: Any, *, alphas: Sequence[float] = (0.1, 10.0), n_clients: int = 10,
                            seed: int = 0) -> Verdict:
    """Notebook 02, predict: which Dirichlet α gives the more skewed (more non-IID) split?

    Parameters
    ----------
    answer : float, one of ``alphas``
    alphas : the choices offered
    n_clients, seed : the splits measured (3 classes of 100 examples, 3 seeds)

    Returns
    -------
    Verdict with the mean non-IID score of each α, measured with ``dirichlet_partition`` and ``non_iid_score``.
    """
    y = np.repeat(np.arange(3), 100)
    scores = {float(a): float(np.mean([non_iid_score(label_distribution(
        y, dirichlet_partition(y, n_clients, alpha=float(a), seed=seed + s), 3)) for s in range(3)]))
        for a in alphas}
    expected = max(scores, key=scores.get)
    value, problem = _number(answer, tr("your α"))
    if problem is not None:
        return problem
    chosen = next((a for a in scores if _close(value, a, 1e-9, 1e-12)), None)
    table = ", ".join(f"α = {a:g}: {s:.2f}" for a, s in scores.items())
    if chosen is None:
        return _no(tr("your α = {alpha} is not one of the choices {choices}").format(
                       alpha=_fmt(value), choices=", ".join(f"{a:g}" for a in scores)),
                   tr("pick one of the α values offered"))
    if chosen == expected:
        return _ok(tr("α = {alpha} gives the more skewed splits (mean non-IID score {scores})").format(
            alpha=f"{expected:g}", scores=table))
    return _no(tr("α = {alpha} gives the less skewed splits (mean non-IID score {scores})").format(
                   alpha=f"{chosen:g}", scores=table),
               tr("with a large α every client's share p ~ Dir(α) of a class is nearly equal, an IID-like split; "
                  "a small α puts most of each class on a few clients"))


def _score_variant(counts: np.ndarray, *, weighted: bool = True, base: float = 2.0, root: bool = True,
                   kullback_leibler: bool = False) -> float:
    """The non-IID score and its typical miscomputations (unweighted, natural log, no root, KL)."""
    counts = np.asarray(counts, dtype=np.float64)
    sizes = counts.sum(axis=1)
    mix = counts.sum(axis=0) / counts.sum()

    def divergence(a, b):
        mask = a > 0
        return float(np.sum(a[mask] * np.log(a[mask] / b[mask])) / np.log(base))

    values = []
    for row in counts:
        p = row / row.sum()
        if kullback_leibler:
            values.append(divergence(p, mix))
            continue
        middle = 0.5 * (p + mix)
        js = max(0.0, 0.5 * divergence(p, middle) + 0.5 * divergence(mix, middle))
        values.append(math.sqrt(js) if root else js)
    weights = sizes / sizes.sum() if weighted else np.full(len(values), 1.0 / len(values))
    return float(weights @ np.array(values))


_SCORE_CASES = (np.array([[80, 0, 0], [3, 4, 3], [10, 10, 12]]), np.array([[30, 0, 10], [5, 20, 5], [2, 2, 40]]))


@_checker
def check_non_iid_score(answer: Any, *, counts: Any = None) -> Verdict:
    """Notebook 02: the non-IID score, the size-weighted mean Jensen-Shannon distance (base 2)
    between each client's label mix and the global one.

    Parameters
    ----------
    answer : float (the score of ``counts``) or a function ``score(counts)`` you wrote
    counts : array (K, n_classes), needed for a number answer; a function is also tried on two
        built-in count matrices

    Returns
    -------
    Verdict, compared with ``fl.non_iid_score``.
    """
    variants = [(dict(weighted=False), tr("you averaged the clients' distances equally: weight each by its share "
                                          "n_k / n, so that a client of 3 examples counts less than one of 80")),
                (dict(base=math.e), tr("natural logarithm: the score uses log base 2, so each distance lies in "
                                       "[0, 1]")),
                (dict(root=False), tr("that is the Jensen-Shannon divergence: the distance is its square root")),
                (dict(kullback_leibler=True), tr("that is the Kullback-Leibler divergence of each client from the "
                                                 "global mix: the score uses the symmetric Jensen-Shannon distance"))]
    if callable(answer):
        cases = ([] if counts is None else [np.asarray(counts)]) + list(_SCORE_CASES)
    elif counts is None:
        return _no(tr("a score needs the counts it was computed from"), tr("pass counts=... (fl.label_distribution)"))
    else:
        cases = [np.asarray(counts)]
    for case in cases:
        if callable(answer):
            result, problem = _call(answer, tr("score function"), (case.copy(),))
            if problem is not None:
                return problem
        else:
            result = answer
        expected = non_iid_score(case)
        value, problem = _number(result, tr("your score"))
        if problem is not None:
            return problem
        tolerance = 1e-6 if callable(answer) else 5e-4      # a number worked out by hand: 3 decimals will do
        if _close(value, expected, 0.0, tolerance):
            continue
        measured = tr("your score is {score}, fl.non_iid_score gives {expected} for counts {counts}").format(
            score=f"{value:.4f}", expected=f"{expected:.4f}", counts=case.tolist())
        for options, hint in variants:
            if _close(value, _score_variant(case, **options), 0.0, tolerance):
                return _no(measured, hint)
        return _no(measured, tr("score = Σ_k (n_k / n) JS(p_k, p), with the Jensen-Shannon distance in base 2"))
    return _ok(tr("your score agrees with fl.non_iid_score on {count} label-count matrices").format(count=len(cases)))


# =============================================================================================
# 03 · The model and local training
# =============================================================================================
@_checker
def check_parameter_count(answer: Any, *, n_features: int = 20, hidden_units: Any = (64,),
                          n_classes: int = 3) -> Verdict:
    """Notebook 03: the trainable parameters of a Dense network (1539 for the article's 20 -> 64 -> 3).

    Parameters
    ----------
    answer : int, your P
    n_features, hidden_units, n_classes : the network
    """
    expected, kernels = _dense_parameters(n_features, hidden_units, n_classes)
    hidden = (int(hidden_units),) if np.isscalar(hidden_units) else tuple(int(h) for h in hidden_units)
    first = n_features * hidden[0] + hidden[0] if hidden else None
    return _compare_number(
        answer, expected, what=tr("parameter count"),
        because=tr("layer by layer, kernel (inputs × units) plus one bias per unit: {network}").format(
            network=f"{n_features} -> {' -> '.join(str(h) for h in hidden)} -> {n_classes}"),
        otherwise=tr("add kernel and bias of every Dense layer: d·h + h + h·C + C"),
        wrong=[(kernels, tr("you left out the biases: each Dense layer adds one per unit")),
               (first, tr("you counted only the hidden layer: the output layer has an (h, C) kernel and C biases "
                          "too")),
               (int(np.prod([n_features, *hidden, n_classes])),
                tr("parameters add up layer by layer (d·h + h + h·C + C); they do not multiply"))])


@_checker
def check_local_steps(answer: Any, *, n_examples: int, epochs: int, batch_size: int | None) -> Verdict:
    """Notebooks 03 and 06: the mini-batch steps of one client's local training, E × ceil(n_k / B).

    Parameters
    ----------
    answer : int, your step count
    n_examples : int, n_k
    epochs : int, E
    batch_size : int or None (B = ∞, one full batch per epoch)
    """
    expected = len(batch_plan(n_examples, epochs, batch_size)[0])
    b = n_examples if batch_size is None else min(int(batch_size), n_examples)
    return _compare_number(
        answer, expected, what=tr("step count"),
        because=f"E × ceil(n_k / B) = {epochs} × ceil({n_examples} / {b})",
        otherwise=tr("one step per mini-batch: ceil(n_k / B) batches in each of the E epochs"),
        wrong=[(epochs * (n_examples // b), tr("the last, smaller batch of each epoch is a step too: ceil, not "
                                               "floor")),
               (math.ceil(n_examples / b), tr("that is one epoch: there are E of them")),
               (epochs * n_examples / b, tr("steps are whole batches: round n_k / B up")),
               (epochs * n_examples, tr("SGD takes one step per mini-batch, not one per example"))])


def _local_problem(seed: int, n_examples: int = 10, n_features: int = 4, hidden: int = 5, n_classes: int = 3):
    """A tiny client (X, y) and the article's kind of network w = [W1, b1, W2, b2], float32."""
    rng = np.random.default_rng([seed, 303])
    X = rng.normal(size=(n_examples, n_features)).astype(np.float32)
    y = rng.permutation(np.arange(n_examples) % n_classes).astype(np.int64)
    w = [(0.5 * rng.normal(size=(n_features, hidden))).astype(np.float32), np.full(hidden, 0.1, np.float32),
         (0.5 * rng.normal(size=(hidden, n_classes))).astype(np.float32), np.zeros(n_classes, np.float32)]
    return X, y, w


def _sgd(w, X, y, order, *, epochs: int, batch_size: int | None, learning_rate: float, mu: float = 0.0,
         anchor_each_epoch: bool = False, summed: bool = False, drop_last: bool = False, ascent: bool = False):
    """Local SGD in NumPy, as ``reference.local_update`` (plus FedProx's mu), and its typical bugs."""
    w = [np.array(a, dtype=np.float32) for a in w]
    anchor = [a.copy() for a in w]
    n = len(y)
    full = n if batch_size is None else min(int(batch_size), n)
    starts, sizes = batch_plan(n, epochs, batch_size)
    for start, size in zip(starts, sizes, strict=True):
        if drop_last and size < full:
            continue
        if anchor_each_epoch and start % n == 0:
            anchor = [a.copy() for a in w]
        batch = order[start:start + size]
        for a, g, a0 in zip(w, reference.gradients(w, X[batch], y[batch]), anchor, strict=True):
            step = g * size if summed else g
            step = step + mu * (a - a0) if mu else step
            a -= np.float32(-learning_rate if ascent else learning_rate) * step.astype(np.float32)
    return w


_LOCAL_ALIASES = {"w": ("weights", "global_weights", "start_weights", "w_global", "model", "theta"),
                  "X": ("x", "X_k", "features", "inputs"), "y": ("labels", "y_k", "targets"),
                  "epochs": ("E", "local_epochs", "n_epochs"), "batch_size": ("B", "batch"),
                  "learning_rate": ("lr", "eta", "client_learning_rate", "step_size", "eta_l"),
                  "order": ("orders", "permutation", "indices", "idx"), "mu": ("prox_mu", "proximal", "mu_prox")}

_MUTATED_HINT = N_("copy the global model first (w = [a.copy() for a in w]): every client must start from the same, "
                    "untouched global model")


def _run_local(fn, what: str, mu: float | None, seed: int):
    """Call a student's local update on the tiny problem; (problem, result, passed-w, verdict)."""
    X, y, w = _local_problem(seed)
    setting = dict(epochs=2, batch_size=4, learning_rate=0.5)
    order = epoch_orders(len(y), setting["epochs"], seed, 0, 0).ravel()
    passed = [a.copy() for a in w]
    values = dict(w=passed, X=X.copy(), y=y.copy(), **setting, order=order.copy())
    if mu is not None:
        values["mu"] = mu
    result, problem = _call_named(fn, what, values, _LOCAL_ALIASES)
    return (X, y, w, order, setting), result, passed, problem


def _local_verdict(result, passed, problem_data, *, expected, variants, what: str) -> Verdict | None:
    w = problem_data[2]
    if _changed(passed, w):
        return _no(tr("your {what} changed the weights it was given (w[0] moved by {change})").format(
                       what=what, change=f"{np.max(np.abs(np.asarray(passed[0], np.float64) - w[0])):.3g}"),
                   tr(_MUTATED_HINT))
    got, problem = _weights(result, w, tr("what your {what} returned").format(what=what))
    if problem is not None:
        return problem
    if _same(got, expected):
        return None
    gap, layer = _max_gap(got, expected)
    measured = tr("your weights differ from the expected ones by up to {gap} (layer {layer})").format(
        gap=f"{gap:.3g}", layer=layer)
    for candidate, hint in variants:
        if _same(got, candidate):
            return _no(measured, hint)
    return _no(measured, tr("same batches (order[start:start + B]), the batch-mean gradient, w <- w - η g, "
                            "E epochs?"))


@_checker
def check_local_update(fn: Callable, *, seed: int = 0) -> Verdict:
    """Notebook 03: your from-scratch local update against ``fedlearn_edu.reference.local_update``.

    Your function is called as ``fn(w, X, y, epochs, batch_size, learning_rate, order)`` (by
    keyword when its parameter names are recognised: ``lr``, ``eta``, ``E``, ``B``, ...) on a
    tiny client: 10 examples, 4 features, a 4 -> 5 -> 3 ReLU/softmax network, E = 2, B = 4,
    learning rate 0.5. ``order`` holds the example positions of both epochs back to back (20
    entries): batch i is ``X[order[start:start + B]]``, with ``start`` from ``fl.batch_plan``.
    It must return the new weights, a list like ``w``, and leave ``w`` unchanged.

    Returns
    -------
    Verdict; diagnoses a changed input w, summed instead of averaged gradients, one epoch, the
    order ignored or reused, full-batch steps, a dropped last batch, gradient ascent.
    """
    data, result, passed, problem = _run_local(fn, "local_update", None, seed)
    if problem is not None:
        return problem
    X, y, w, order, s = data
    n, run = len(y), dict(epochs=s["epochs"], batch_size=s["batch_size"], learning_rate=s["learning_rate"])
    expected = reference.local_update(w, X, y, order=order, epochs=s["epochs"], batch_size=s["batch_size"],
                                      client_learning_rate=s["learning_rate"])
    variants = [
        (w, tr("your function returned the weights it was given: apply w <- w - η × gradient for every batch")),
        (_sgd(w, X, y, order, **run, summed=True), tr("each step is B times too big: you summed the batch's "
                                                      "gradients, but the loss is the batch MEAN (divide by the "
                                                      "batch size)")),
        (_sgd(w, X, y, order, **{**run, "epochs": 1}), tr("you made one pass over the data: E = 2 epochs were "
                                                          "asked")),
        (_sgd(w, X, y, np.tile(np.arange(n), s["epochs"]), **run),
         tr("you ignored `order`: batch i is X[order[start:start + B]], the batches the engines use")),
        (_sgd(w, X, y, np.tile(order[:n], s["epochs"]), **run),
         tr("you reused the first epoch's order: every epoch has its own, order[e * n_k:(e + 1) * n_k]")),
        (_sgd(w, X, y, order, **{**run, "batch_size": None}), tr("one full-batch step per epoch: with B = 4 "
                                                                 "each epoch takes ceil(n_k / B) steps")),
        (_sgd(w, X, y, order, **run, drop_last=True), tr("you dropped the last, smaller batch of each epoch: "
                                                         "it is a step too")),
        (_sgd(w, X, y, order, **run, ascent=True), tr("you stepped up the gradient: SGD subtracts it, "
                                                      "w <- w - η g"))]
    verdict = _local_verdict(result, passed, data, expected=expected, variants=variants, what="local_update")
    if verdict is not None:
        return verdict
    return _ok(tr("your local update matches fedlearn_edu.reference.local_update to 1e-5 (E = 2 epochs of "
                  "ceil({n} / 4) = 3 batches, learning rate 0.5), and it left w unchanged").format(n=n))


@_checker
def check_fedprox_update(fn: Callable, *, mu: float = 0.5, seed: int = 0) -> Verdict:
    """Notebooks 03 and 07: your local update with FedProx's proximal term, every step's gradient
    plus ``mu * (w - w_global)`` (the gradient of (mu/2)||w - w_global||^2), w_global = the weights received.

    Called as ``fn(w, X, y, epochs, batch_size, learning_rate, order, mu)`` on the tiny client of
    :func:`check_local_update`; compared with a NumPy FedProx that ``tests/test_exercises.py``
    checks against ``fl.client_update(..., mu=mu)``.

    Returns
    -------
    Verdict; diagnoses μ ignored, the pull's sign, a factor 2 or 1/2, an anchor that moves, a changed input w.
    """
    data, result, passed, problem = _run_local(fn, tr("FedProx update"), mu, seed)
    if problem is not None:
        return problem
    X, y, w, order, s = data
    run = dict(epochs=s["epochs"], batch_size=s["batch_size"], learning_rate=s["learning_rate"])
    expected = _sgd(w, X, y, order, **run, mu=mu)
    variants = [
        (_sgd(w, X, y, order, **run), tr("your update ignores μ: add μ (w - w_global) to every step's gradient, "
                                         "where w_global is the model received at the start of the round")),
        (_sgd(w, X, y, order, **run, mu=-mu), tr("the proximal pull points the wrong way: +μ (w - w_global) in the "
                                                 "gradient pulls w back towards w_global")),
        (_sgd(w, X, y, order, **run, mu=2 * mu), tr("twice the pull: the gradient of (μ/2)‖w - w_global‖² is "
                                                    "μ (w - w_global), no factor 2")),
        (_sgd(w, X, y, order, **run, mu=mu / 2), tr("half the pull: the 1/2 of (μ/2)‖w - w_global‖² cancels "
                                                    "against the square's 2")),
        (_sgd(w, X, y, order, **run, mu=mu, anchor_each_epoch=True),
         tr("your anchor moved: w_global stays the model received at the start of the round, not of each epoch"))]
    verdict = _local_verdict(result, passed, data, expected=expected, variants=variants, what=tr("FedProx update"))
    if verdict is not None:
        return verdict
    return _ok(tr("your FedProx update matches the proximal SGD (μ = {mu}) to 1e-5 and left w unchanged").format(
        mu=_fmt(mu)))


# =============================================================================================
# 04 · FedAvg step by step
# =============================================================================================
_HINT_INVERSE = N_("you weighted by 1/n_k, as the article does: the smallest client gets the most say; "
                    "FedAvg weighs by n_k/n")
_HINT_UNIFORM = N_("every client counted the same (1/m): that is the uniform objective, not FedAvg's n_k/n")
_HINT_UNNORMALISED = N_("the coefficients must sum to 1: you multiplied by n_k but did not divide by n = Σ n_k")
_HINT_LITERAL = N_("this is the article's Σ (1/n_k) w_k taken literally: inverted weights that do not even sum to "
                   "1; FedAvg's are n_k/n")
_HINT_SUM = N_("you added the models up: an average divides by the total weight, with coefficients n_k/n")


def _weighting_mistakes(n: np.ndarray) -> list[tuple[np.ndarray, str]]:
    inverse = 1.0 / n
    return [(inverse / inverse.sum(), tr(_HINT_INVERSE)), (np.full(len(n), 1.0 / len(n)), tr(_HINT_UNIFORM)),
            (n, tr(_HINT_UNNORMALISED)), (inverse, tr(_HINT_LITERAL)), (np.ones(len(n)), tr(_HINT_SUM))]


def _average_verdict(got: np.ndarray, models: np.ndarray, sizes: np.ndarray, what: str | None = None) -> Verdict:
    """Why ``got`` (P,) is not FedAvg's average of ``models`` (K, P): the coefficients it used."""
    what = tr("your average") if what is None else what
    n = np.asarray(sizes, dtype=np.float64)
    shares = n / n.sum()
    coefficients = np.linalg.lstsq(models.T, got, rcond=None)[0]
    j = int(np.argmin(n))
    if models.shape[0] <= models.shape[1] and np.allclose(coefficients @ models, got, atol=_TOLERANCE):
        measured = tr("{what} gives client {client} ({examples} examples) {coefficient} of the say, its coefficients "
                      "summing to {total}; FedAvg gives it n_k/n = {share}").format(
            what=what, client=j, examples=int(n[j]), coefficient=f"{coefficients[j]:.2f}",
            total=f"{coefficients.sum():.3f}", share=f"{shares[j]:.2f}")
    else:
        measured = tr("{what} is up to {gap} away from Σ_k (n_k/n) w_k").format(
            what=what, gap=f"{np.max(np.abs(got - shares @ models)):.3g}")
    for c, hint in _weighting_mistakes(n):
        if np.allclose(got, c @ models, rtol=_TOLERANCE, atol=_TOLERANCE):
            return _no(measured, hint)
    return _no(measured, tr("FedAvg's coefficients are n_k/n, each client's share of the round's examples"))


@_checker
def check_fedavg_weights(answer: Any, *, n_examples: Sequence[int]) -> Verdict:
    """Notebook 04, step 4a: the FedAvg coefficients n_k / n of the round's clients.

    Parameters
    ----------
    answer : array (K,), your coefficients (rounded to 3 decimals is fine)
    n_examples : the clients' n_k
    """
    n = np.asarray(n_examples, dtype=np.float64)
    expected = fedavg_coefficients(n)
    a, problem = _array(answer, tr("your coefficients"), expected.shape, tr("one coefficient per client"))
    if problem is not None:
        return problem
    if np.allclose(a, expected, atol=5e-4):
        return _ok(tr("n_k/n = {shares}: every example counts the same, and they sum to 1").format(
            shares=_fmt(expected)))
    j = int(np.argmin(n))
    measured = tr("your coefficients sum to {total} and give client {client} ({examples} examples) {coefficient} "
                  "of the say; FedAvg gives it n_k/n = {share}").format(
        total=f"{a.sum():.3f}", client=j, examples=int(n[j]), coefficient=f"{a[j]:.2f}", share=f"{expected[j]:.2f}")
    for c, hint in _weighting_mistakes(n):
        if np.allclose(a, c, rtol=1e-4, atol=5e-4):
            return _no(measured, hint)
    if not _close(a.sum(), 1.0, 0, 1e-3):
        return _no(measured, tr("the coefficients must sum to 1: they are shares of the round's examples"))
    return _no(measured, tr("coefficient k is n_k / n with n = Σ n_k over the round's clients"))


def _fedavg_cases(seed: int) -> list[tuple[list, np.ndarray]]:
    rng = np.random.default_rng([seed, 404])
    shapes = [(3, 2), (2,), (2, 2), (2,)]
    models = [[rng.normal(size=s).astype(np.float32) for s in shapes] for _ in range(3)]
    return [(models, np.array([9, 200, 40])), (models[:1], np.array([13]))]


@_checker
def check_fedavg(fn: Callable, *, seed: int = 0) -> Verdict:
    """Notebook 04: your ``fedavg(models, n_examples)`` against ``fedlearn_edu.reference.fedavg``.

    ``models`` is a list of K client models, each a list of arrays (layers); ``n_examples`` an
    int array (K,). It must return ONE model, sum_k (n_k / n) w_k layer by layer, and leave the
    client models unchanged. Tried on 3 clients of 9, 200 and 40 examples, and on 1 client.

    Returns
    -------
    Verdict; diagnoses 1/n_k weights, an unweighted mean, unnormalised weights, the article's
    formula literally, a plain sum, only the first layer averaged, the input list returned.
    """
    for models, sizes in _fedavg_cases(seed):
        passed = [[a.copy() for a in model] for model in models]
        result, problem = _call(fn, "fedavg", (passed, sizes.copy()))
        if problem is not None:
            return problem
        if any(_changed(p, m) for p, m in zip(passed, models, strict=True)):
            return _no(tr("your fedavg changed the client models it was given"),
                       tr("build a new model: the clients' models are the server's inputs, not scratch space"))
        if isinstance(result, (list, tuple)) and result and isinstance(result[0], (list, tuple)):
            return _no(tr("your fedavg returned {models} models").format(models=len(result)),
                       tr("return ONE model: the weighted average of the clients' models, layer by layer"))
        got, problem = _weights(result, models[0], tr("the model your fedavg returned"))
        if problem is not None:
            return problem
        expected = reference.fedavg(models, sizes)
        if _same(got, expected):
            continue
        if _same(got[:1], expected[:1]):
            return _no(tr("your layer 0 is the FedAvg average, but the other layers are not"),
                       tr("average every layer, kernels and biases alike, with the same n_k/n"))
        matrix = np.stack([_flatten(m) for m in models])
        return _average_verdict(_flatten(got), matrix, sizes)
    return _ok(tr("your fedavg gives Σ_k (n_k/n) w_k on every layer, for clients of 9, 200 and 40 examples and "
                  "for a single client"))


_ROUND_ALIASES = {**_LOCAL_ALIASES, "client_data": ("clients", "data", "datasets", "client_datasets"),
                  "orders": ("order", "client_orders")}


@_checker
def check_fedavg_round(fn: Callable, *, seed: int = 0) -> Verdict:
    """Notebook 04: one whole FedAvg round written out, local updates then the n_k/n average.

    Called as ``fn(w, client_data, orders, epochs, batch_size, learning_rate)`` with
    ``client_data`` a list of (X_k, y_k) for 3 clients of 3, 9 and 6 examples and ``orders`` the
    batch order of each (as in :func:`check_local_update`); E = 1, B = 4, learning rate 0.5. It
    must return the new global model (a list like ``w``) and leave ``w`` unchanged. Compared with
    ``reference.fedavg`` of ``reference.local_update``'s models.

    Returns
    -------
    Verdict; diagnoses a changed w, clients trained one after the other, an unweighted mean,
    1/n_k weights, the last client's model, the average update instead of the model.
    """
    rng = np.random.default_rng([seed, 405])
    _, _, w = _local_problem(seed)
    sizes = np.array([3, 9, 6])
    data = [(rng.normal(size=(k, 4)).astype(np.float32), rng.integers(0, 3, k).astype(np.int64)) for k in sizes]
    orders = [epoch_orders(k, 1, seed, 0, i).ravel() for i, k in enumerate(sizes)]
    s = dict(epochs=1, batch_size=4, client_learning_rate=0.5)
    passed = [a.copy() for a in w]
    values = dict(w=passed, client_data=[(X.copy(), y.copy()) for X, y in data], orders=[o.copy() for o in orders],
                  epochs=1, batch_size=4, learning_rate=0.5)
    result, problem = _call_named(fn, "fedavg_round", values, _ROUND_ALIASES)
    if problem is not None:
        return problem
    if _changed(passed, w):
        return _no(tr("your round changed the global model w it was given"), tr(_MUTATED_HINT))
    got, problem = _weights(result, w, tr("the model your round returned"))
    if problem is not None:
        return problem
    local = [reference.local_update(w, X, y, order=o, **s) for (X, y), o in zip(data, orders, strict=True)]
    expected = reference.fedavg(local, sizes)
    if _same(got, expected):
        return _ok(tr("your round equals reference.fedavg of the three clients' reference.local_update models "
                      "to 1e-5, and left w unchanged"))
    chained, current = [], w
    for (X, y), o in zip(data, orders, strict=True):
        current = reference.local_update(current, X, y, order=o, **s)
        chained.append(current)
    average = reference.fedavg(local, np.ones(len(sizes)))
    last = tr("you returned the last client's model, not the average of all of them")
    variants = [
        (reference.fedavg(chained, sizes), tr("client k started from client k-1's model: every client must start "
                                              "from the same global w")),
        (average, tr(_HINT_UNIFORM)),
        (reference.fedavg(local, 1.0 / sizes), tr(_HINT_INVERSE)),
        (local[-1], last),
        (chained[-1], last),
        ([e - a for e, a in zip(expected, w, strict=True)], tr("that is the average update Δ = Σ (n_k/n)(w_k - w): "
                                                               "the new global model is w + Δ"))]
    gap, layer = _max_gap(got, expected)
    measured = tr("your new global model differs from FedAvg's by up to {gap} (layer {layer})").format(
        gap=f"{gap:.3g}", layer=layer)
    hint = next((h for candidate, h in variants if _same(got, candidate)), None)
    return _no(measured, hint or tr("each client trains from w (E epochs, its own order), then the n_k/n average"))


_SERVER_ALIASES = {"theta": ("theta_t", "w", "global_weights", "current", "x", "weights"),
                   "theta_bar": ("average", "averaged", "theta_avg", "w_avg", "mean", "aggregate", "avg"),
                   "server_learning_rate": ("eta", "lr", "learning_rate", "server_lr", "eta_g"),
                   "velocity": ("v", "momentum_buffer", "v_prev", "buffer"),
                   "server_momentum": ("beta", "momentum", "b")}


@_checker
def check_server_update(fn: Callable, *, seed: int = 0) -> Verdict:
    """Notebook 04, find the bug: the server step with a server learning rate η,
    θ_{t+1} = θ_t - η (θ_t - θ̄) (``FedAvgServer``).

    Called as ``fn(theta, theta_bar, server_learning_rate)`` with vectors (6,) and η = 0.25, then 2.

    Returns
    -------
    Verdict; diagnoses a forgotten η, the sign, η θ̄, η and 1 - η swapped.
    """
    rng = np.random.default_rng([seed, 406])
    theta = rng.normal(size=6).astype(np.float32)
    theta_bar = (theta + 0.3 * rng.normal(size=6)).astype(np.float32)
    for eta in (0.25, 2.0):
        values = dict(theta=theta.copy(), theta_bar=theta_bar.copy(), server_learning_rate=eta)
        result, problem = _call_named(fn, tr("server update"), values, _SERVER_ALIASES)
        if problem is not None:
            return problem
        got, problem = _array(result, tr("your new global model"), theta.shape, tr("the new model has the shape of θ"))
        if problem is not None:
            return problem
        expected = FedAvgServer(eta).step(theta, theta_bar)
        if np.allclose(got, expected, rtol=_TOLERANCE, atol=_TOLERANCE):
            continue
        g = theta.astype(np.float64) - theta_bar
        hint = _first_match(got, [
            (theta_bar, tr("you forgot the server learning rate η: θ̄ is the new model only when η = 1; here "
                           "η = {eta}, so θ - η (θ - θ̄)").format(eta=_fmt(eta))),
            (theta + eta * g, tr("sign error: g = θ - θ̄ points away from the clients' average, so the server "
                                 "subtracts it: θ - η g")),
            (eta * theta_bar, tr("η θ̄ shrinks the model towards 0: η scales the step θ - θ̄, not the model")),
            (eta * theta + (1 - eta) * theta_bar, tr("you swapped η and 1 - η: θ - η (θ - θ̄) = (1 - η) θ + η θ̄"))])
        return _no(tr("with η = {eta} your θ_(t+1) is up to {gap} away from θ - η (θ - θ̄)").format(
                       eta=_fmt(eta), gap=f"{np.max(np.abs(got - expected)):.3g}"),
                   hint or tr("θ_(t+1) = θ_t - η (θ_t - θ̄): a step of η along the average update"))
    return _ok(tr("your server step equals fl.FedAvgServer(η).step for η = 0.25 and 2: θ - η (θ - θ̄)"))


_STOP_CASES = ([0.80, 0.60, 0.50, 0.497, 0.490, 0.488, 0.487, 0.486], [1.0, 0.9, 0.897, 0.894, 0.891, 0.888],
               [1.0, 0.8, 0.6, 0.4], [1.0, 0.999, 0.998, 0.997, 0.996], [1.0, 0.7, float("nan"), 0.5])


def _stop_previous(losses: Sequence[float], tolerance: float, patience: int) -> int | None:
    """The typical bug: compare each loss with the previous round's, not the best so far."""
    waiting = 0
    for r in range(2, len(losses) + 1):
        if not np.isfinite(losses[r - 1]):
            return r
        waiting = 0 if losses[r - 1] < losses[r - 2] - tolerance else waiting + 1
        if waiting >= patience:
            return r
    return None


def _stop_verdict(answer: Any, losses: Sequence[float], tolerance: float, patience: int) -> Verdict | None:
    """None when ``answer`` is the round the rule stops after (or None when it never does)."""
    expected = stopping_round(losses, tolerance, patience)
    shown = _fmt(np.asarray(losses))
    diverged = tr("a NaN or infinite loss stops the run at once: it diverged")
    tolerance_hint = tr("an improvement must beat the best by at least the tolerance: a loss 0.003 below does not "
                        "count")
    if answer is None:
        if expected is None:
            return None
        hint = (diverged if not np.all(np.isfinite(losses)) else
                tolerance_hint if stopping_round(losses, 0.0, patience) is None else
                tr("the rule does fire: stop after `patience` rounds in a row without a new best"))
        return _no(tr("you answered None for losses {losses}, the rule stops after round {expected}").format(
            losses=shown, expected=expected), hint)
    value, problem = _number(answer, tr("your round"))
    if problem is not None:
        return problem
    if value == expected:
        return None
    measured = (tr("you stop after round {round} for losses {losses}, the rule after round {expected}")
                if expected is not None else
                tr("you stop after round {round} for losses {losses}, the rule never fires (None)")).format(
        round=_fmt(value), losses=shown, expected=expected)
    if not np.all(np.isfinite(losses)):
        return _no(measured, diverged)
    mistakes = [(_stop_previous(losses, tolerance, patience), tr("you compared each loss with the previous round's; "
                                                                 "the rule compares with the best loss so far")),
                (None if expected is None else expected - 1, tr("rounds count from 1: you gave a 0-based index")),
                (stopping_round(losses, 0.0, patience), tolerance_hint)]
    hint = next((h for c, h in mistakes if c is not None and c != expected and c == value), None)
    if hint is None:
        hint = (tr("None means the rule never fires: count the non-improving rounds in a row") if expected is None
                else tr("count the rounds in a row whose loss is not below best - tolerance"))
    return _no(measured, hint)


@_checker
def check_stopping_round(answer: Any, *, losses: Sequence[float] | None = None, tolerance: float = 0.005,
                         patience: int = 3) -> Verdict:
    """Notebook 04: the stated convergence rule, stop after ``patience`` rounds in a row that fail
    to beat the best loss so far by ``tolerance`` (``fs.stopping_round``).

    Parameters
    ----------
    answer : int or None (the round, for ``losses``), or a function ``stopping_round(losses,
        tolerance, patience)`` you wrote, also tried on five built-in loss sequences
    losses : the test losses after rounds 1, 2, ... (needed for a number answer)
    tolerance, patience : the rule's settings

    Returns
    -------
    Verdict; diagnoses comparing with the previous round, a 0-based round, the tolerance ignored, NaN.
    """
    if callable(answer):
        cases = ([] if losses is None else [list(losses)]) + [list(c) for c in _STOP_CASES]
        for case in cases:
            values = dict(losses=list(case), tolerance=tolerance, patience=patience)
            result, problem = _call_named(answer, "stopping_round", values,
                                          {"losses": ("loss", "history", "values"), "tolerance": ("min_delta", "tol"),
                                           "patience": ("rounds", "wait")})
            verdict = problem if problem is not None else _stop_verdict(result, case, tolerance, patience)
            if verdict is not None:
                return verdict
        return _ok(tr("your rule stops where fs.stopping_round does on {count} loss sequences").format(
            count=len(cases)))
    if losses is None:
        return _no(tr("a round number needs the losses it was computed from"), tr("pass losses=[...] to the checker"))
    verdict = _stop_verdict(answer, list(losses), tolerance, patience)
    expected = stopping_round(losses, tolerance, patience)
    if verdict is not None:
        return verdict
    return _ok(tr("the rule stops after round {round} (tolerance {tolerance}, patience {patience})").format(
                   round=expected, tolerance=_fmt(tolerance), patience=patience)
               if expected else tr("None: the rule never fires on these losses"))


# =============================================================================================
# 05 · The math
# =============================================================================================
@_checker
def check_fedavg_vectors(fn: Callable, *, seed: int = 0) -> Verdict:
    """Notebook 05, exercise 2: ``fedavg(client_models, n_examples)`` on flattened models, rows
    of a (K, P) array, returning sum_k (n_k / n) w_k, shape (P,). Tried on three federations,
    one with a single client and one whose sizes differ a hundredfold.

    Returns
    -------
    Verdict; diagnoses 1/n_k weights (the article's trap), an unweighted mean, unnormalised
    weights, the article's formula literally, a plain sum, the coefficients or the input returned.
    """
    rng = np.random.default_rng([seed, 505])
    cases = [(rng.normal(size=(5, 7)), np.array([3, 40, 7, 120, 15])), (rng.normal(size=(1, 4)), np.array([13])),
             (rng.normal(size=(3, 6)), np.array([2, 200, 20]))]
    for models, sizes in cases:
        result, problem = _call(fn, "fedavg", (models.copy(), sizes.copy()))
        if problem is not None:
            return problem
        a, problem = _array(result, tr("your average"))
        if problem is not None:
            return problem
        if a.shape != (models.shape[1],):
            hint = (tr("you returned the coefficients, not the model: multiply them into the rows, "
                       "coefficients @ client_models") if a.shape == sizes.shape else
                    tr("you returned the client models: average the rows into one model") if a.shape == models.shape
                    else tr("one model: a vector as long as a row"))
            return _no(tr("your average has shape {shape}, expected ({length},)").format(shape=a.shape,
                                                                                         length=models.shape[1]),
                       hint)
        if np.allclose(a, fedavg_coefficients(sizes) @ models, rtol=_TOLERANCE, atol=_TOLERANCE):
            continue
        return _average_verdict(a, models, sizes)
    return _ok(tr("your fedavg gives Σ_k (n_k/n) w_k on all three federations (1, 3 and 5 clients)"))


@_checker
def check_article_weights(answer: Any, *, n_examples: Sequence[int], reading: str = "mean") -> Verdict:
    """Notebook 05, find the bug: each client's share of the say under the article's formula
    Σ_i (1/n_i) ∇L_i, normalised to sum to 1.

    Parameters
    ----------
    answer : array (K,), your shares
    n_examples : the clients' n_i
    reading : "mean" (L_i a client's mean loss: shares ∝ 1/n_i) or "sum" (L_i a sum: 1/N each)

    Returns
    -------
    Verdict, computed with ``widgets.math.formula_weights``.
    """
    shares = formula_weights(n_examples)
    key = {"mean": "article", "sum": "article_sum"}[reading]
    other = "article_sum" if key == "article" else "article"
    expected = shares[key]
    a, problem = _array(answer, tr("your shares"), expected.shape, tr("one share per client"))
    if problem is not None:
        return problem
    j = int(np.argmin(np.asarray(n_examples)))
    if np.allclose(a, expected, atol=5e-4):
        return _ok((tr("under the mean reading the smallest client ({examples} examples) gets {share} of the say, "
                       "against its data share {data_share}") if reading == "mean" else
                    tr("under the sum reading the smallest client ({examples} examples) gets {share} of the say, "
                       "against its data share {data_share}")).format(
            examples=int(n_examples[j]), share=f"{expected[j]:.2f}", data_share=f"{shares['fedavg'][j]:.2f}"))
    hint = _first_match(a, [
        (shares["fedavg"], tr("that is FedAvg's n_k/n, the correction, not what the article wrote: it weights "
                              "client i by 1/n_i")),
        (shares[other], tr("that is the sum reading (every client 1/N): with L_i a mean loss, ∇L_i is the client's "
                           "mean gradient, and 1/n_i is its weight") if reading == "mean" else
         tr("that is the mean reading: with L_i a sum of losses, ∇L_i = n_i g_i and the 1/n_i cancels, so every "
            "client gets 1/N")),
        (1.0 / np.asarray(n_examples, np.float64), tr("normalise to shares: divide each 1/n_i by Σ_j 1/n_j"))],
        atol=5e-4)
    return _no((tr("your shares give the smallest client {share}, the article's formula (mean reading) gives "
                   "{expected}") if reading == "mean" else
                tr("your shares give the smallest client {share}, the article's formula (sum reading) gives "
                   "{expected}")).format(share=f"{a[j]:.2f}", expected=f"{expected[j]:.2f}"),
               hint or tr("share of client i: its weight in the formula over the sum of all weights"))


@_checker
def check_formula_scaling(answer: Any, *, alpha: float = 0.1, new_alpha: float = 0.2) -> Verdict:
    """Notebook 05, exercise 1: by what factor does the article's θ_t grow when α goes from
    ``alpha`` to ``new_alpha``? Measured with ``fl.seed_formula`` on random gradients.

    Parameters
    ----------
    answer : float, your factor ‖θ_t(new_alpha)‖ / ‖θ_t(alpha)‖
    """
    rng = np.random.default_rng(505)
    gradients, theta = rng.normal(size=(4, 6)), rng.normal(size=6)
    n = [5, 50, 12, 30]
    old = seed_formula(theta, gradients, n, alpha, 0.9)[0]
    new = seed_formula(theta, gradients, n, new_alpha, 0.9)[0]
    expected = float(np.linalg.norm(new) / np.linalg.norm(old))
    return _compare_number(
        answer, expected, what=tr("factor"), rtol=0.005,
        because=tr("‖θ_t‖ with α = {new_alpha} over ‖θ_t‖ with α = {alpha}, from fl.seed_formula").format(
            new_alpha=_fmt(new_alpha), alpha=_fmt(alpha)),
        otherwise=tr("θ_t = α Σ (1/n_i) ∇L_i: what happens to it when α changes?"),
        wrong=[(1.0, tr("θ_t keeps nothing of θ_(t-1): it IS α Σ (1/n_i) ∇L_i, so the whole 'model' scales with "
                        "α")),
               (1.0 / expected, tr("inverted: the new θ_t over the old one"))])


@_checker
def check_objective_weights(answer: Any, *, n_examples: Sequence[int], client_weighting: str = "examples") -> Verdict:
    """Notebook 05 (and 11): the weights p_k of the objective F(w) = Σ p_k F_k(w), for
    ``client_weighting`` "examples" (p_k = n_k / n) or "uniform" (p_k = 1 / K).

    Parameters
    ----------
    answer : array (K,), your p_k
    n_examples : the clients' n_k
    client_weighting : "examples" or "uniform" (``fl.aggregate.client_weights``)
    """
    u = client_weights(n_examples, client_weighting)
    expected = u / u.sum()
    other = "uniform" if client_weighting == "examples" else "examples"
    u_other = client_weights(n_examples, other)
    a, problem = _array(answer, tr("your p_k"), expected.shape, tr("one weight per client"))
    if problem is not None:
        return problem
    if np.allclose(a, expected, atol=5e-4):
        return _ok(tr("p_k = {weights} for the '{weighting}' objective").format(weights=_fmt(expected),
                                                                              weighting=client_weighting))
    hint = _first_match(a, [
        (u_other / u_other.sum(), tr("that is the uniform objective (every client 1/K, as in Karimireddy et al.): "
                                     "'examples' weights each client by its share of the data, n_k / n")
         if client_weighting == "examples" else
         tr("that is the 'examples' objective (n_k / n): 'uniform' counts every client the same, 1/K, whatever its "
            "size")),
        (u, tr("normalise: p_k = u_k / Σ_j u_j, so that the weights sum to 1"))], atol=5e-4)
    return _no(tr("your p_k are {weights}, the '{weighting}' objective has {expected}").format(
                   weights=_fmt(a), weighting=client_weighting, expected=_fmt(expected)),
               hint or tr("p_k = u_k / Σ_j u_j with u_k = n_k ('examples') or 1 ('uniform')"))


@_checker
def check_fedsgd_step(fn: Callable, *, seed: int = 0) -> Verdict:
    """Notebook 05: one FedSGD step, θ_(t+1) = θ_t - η Σ_k (n_k/n) ∇L_k(θ_t), the correct
    version of the article's formula.

    Called as ``fn(theta, gradients, n_examples, learning_rate)`` with θ (6,), the clients'
    gradients (3, 6), n_k = 4, 40, 12 and η = 0.5; returns θ_(t+1), shape (6,).

    Returns
    -------
    Verdict; diagnoses the article's θ_t (a sum of gradients, no θ), uniform or 1/n_k weights,
    the step without θ, the sign, a forgotten η.
    """
    rng = np.random.default_rng([seed, 506])
    theta, gradients, n, eta = rng.normal(size=6), rng.normal(size=(3, 6)), np.array([4, 40, 12]), 0.5
    values = dict(theta=theta.copy(), gradients=gradients.copy(), n_examples=n.copy(), learning_rate=eta)
    result, problem = _call_named(fn, tr("FedSGD step"), values, {
        "theta": ("theta_t", "w", "weights", "theta_prev", "x"), "gradients": ("grads", "G", "client_gradients", "g"),
        "n_examples": ("n", "n_k", "sizes", "counts"), "learning_rate": ("eta", "lr", "alpha", "step_size")})
    if problem is not None:
        return problem
    got, problem = _array(result, tr("your θ_(t+1)"), theta.shape, tr("the new model has the shape of θ"))
    if problem is not None:
        return problem
    average = fedavg_coefficients(n) @ gradients
    expected = theta - eta * average
    if np.allclose(got, expected, rtol=_TOLERANCE, atol=_TOLERANCE):
        return _ok(tr("your FedSGD step equals θ - η Σ_k (n_k/n) ∇L_k: gradient descent on the pooled loss"))
    inverse = 1.0 / n
    hint = _first_match(got, [
        (seed_formula(theta, gradients, n, eta, 0.9)[0], tr("this is the article's θ_t = α Σ (1/n_i) ∇L_i: a scaled "
                                                            "sum of gradients, not a model; FedSGD starts from θ")),
        (theta - eta * gradients.mean(axis=0), tr("every client's gradient counted the same: FedSGD weights ∇L_k by "
                                                  "n_k/n, which makes it the gradient of the pooled loss")),
        (theta - eta * (inverse / inverse.sum()) @ gradients, tr(_HINT_INVERSE)),
        (-eta * average, tr("you returned the step, not the new model: θ_(t+1) = θ_t + step")),
        (theta + eta * average, tr("sign: gradient descent subtracts the gradient")),
        (theta - average, tr("you forgot the learning rate η"))])
    return _no(tr("your θ_(t+1) is up to {gap} away from θ - η Σ (n_k/n) ∇L_k").format(
                   gap=f"{np.max(np.abs(got - expected)):.3g}"),
               hint or tr("weight each client's gradient by n_k/n, sum, scale by η, subtract from θ"))


def _momentum_path(theta0: np.ndarray, updates: np.ndarray, eta: float, beta: float, variant: str) -> list:
    """θ after each round of FedAvgM and of its typical bugs (g_t = θ_t - θ̄_t = updates[t])."""
    theta, velocity, path = theta0.astype(np.float64), np.zeros_like(theta0, dtype=np.float64), []
    for g in updates:
        velocity = {"none": g, "damped": beta * velocity + (1 - beta) * g}.get(variant, beta * velocity + g)
        step = velocity if variant == "no_eta" else eta * velocity
        theta = theta + step if variant == "sign" else theta - step
        path.append(theta)
    return path


@_checker
def check_server_momentum(fn: Callable, *, seed: int = 0) -> Verdict:
    """Notebook 05: server momentum (FedAvgM), v_t = β v_(t-1) + g_t, θ_(t+1) = θ_t - η v_t with
    g_t = θ_t - θ̄, against ``fl.FedAvgMServer`` over three rounds.

    Called each round as ``fn(theta, theta_bar, velocity, server_learning_rate, server_momentum)``
    with η = 0.5, β = 0.9 and the velocity it returned the round before (zeros at first); it must
    return ``(theta_next, velocity_next)``.

    Returns
    -------
    Verdict; diagnoses no momentum (or a velocity that does not carry over), β v + (1 - β) g,
    the sign, a forgotten η.
    """
    rng = np.random.default_rng([seed, 507])
    eta, beta = 0.5, 0.9
    theta0 = rng.normal(size=5).astype(np.float32)
    updates = (0.2 * rng.normal(size=(3, 5)) + 0.1).astype(np.float32)
    server, expected_theta = FedAvgMServer(eta, beta), theta0.copy()
    theta, velocity = theta0.copy(), np.zeros(5, np.float32)
    for t, g in enumerate(updates):
        expected_theta = server.step(expected_theta, expected_theta - g)
        values = dict(theta=theta.copy(), theta_bar=(theta - g).astype(np.float32), velocity=velocity.copy(),
                      server_learning_rate=eta, server_momentum=beta)
        result, problem = _call_named(fn, tr("FedAvgM step"), values, _SERVER_ALIASES)
        if problem is not None:
            return problem
        if not (isinstance(result, (tuple, list)) and len(result) == 2):
            return _no(tr("your FedAvgM step returned {description}").format(description=_describe(result)),
                       tr("return two arrays: (theta_next, velocity_next); the velocity is the server's memory"))
        theta, problem = _array(result[0], tr("your θ_(t+1)"), (5,), tr("the new model has the shape of θ"))
        velocity, problem = (None, problem) if problem is not None else _array(result[1], tr("your velocity"), (5,))
        if problem is not None:
            return problem
        if np.allclose(theta, expected_theta, rtol=_TOLERANCE, atol=_TOLERANCE):
            continue
        hint = _first_match(theta, [(_momentum_path(theta0, updates, eta, beta, v)[t], h) for v, h in [
            ("none", tr("no momentum: v_t = β v_(t-1) + g_t keeps the past rounds' direction; use (and return) the "
                        "velocity passed in")),
            ("damped", tr("you damped g by (1 - β): FedAvgM adds the whole pseudo-gradient, v <- β v + g (Hsu et "
                          "al.)")),
            ("sign", tr("sign error: θ_(t+1) = θ_t - η v_t (g = θ - θ̄ points away from the clients)")),
            ("no_eta", tr("you forgot the server learning rate η: θ_(t+1) = θ_t - η v_t"))]])
        return _no(tr("in round {round} your θ is up to {gap} away from fl.FedAvgMServer's").format(
                       round=t + 1, gap=f"{np.max(np.abs(theta - expected_theta)):.3g}"),
                   hint or "v_t = β v_(t-1) + (θ_t - θ̄); θ_(t+1) = θ_t - η v_t")
    return _ok(tr("your FedAvgM step follows fl.FedAvgMServer (η = 0.5, β = 0.9) for three rounds"))


# =============================================================================================
# 06 · The interactive lab, 07 · Challenges, 08 · FAQ and applications
# =============================================================================================
@_checker
def check_server_share(answer: Any, *, server_learning_rate: float = 0.01, rounds: int = 10) -> Verdict:
    """Notebook 06, the article's listing: with server learning rate η, what share of the distance
    to the clients' average does the global model cover in ``rounds`` rounds (if that average
    stayed put)? Measured by stepping ``fl.FedAvgServer(η)``.

    Parameters
    ----------
    answer : float in [0, 1], your share
    server_learning_rate : η (the article's 0.01)
    rounds : R
    """
    server = FedAvgServer(server_learning_rate)
    theta, target = np.zeros(1, np.float32), np.ones(1, np.float32)
    for _ in range(int(rounds)):
        theta = server.step(theta, target)
    expected = float(theta[0])
    eta = float(server_learning_rate)
    return _compare_number(
        answer, expected, what=tr("share covered"), rtol=0.005, atol=1e-4,
        because=tr("{rounds} steps of fl.FedAvgServer with η = {eta}: 1 - (1 - η)^R").format(rounds=rounds,
                                                                                             eta=_fmt(eta)),
        otherwise=tr("each round the server moves η of the distance that is LEFT to the average"),
        wrong=[(eta * rounds, tr("each round moves η of the REMAINING distance, not of the original one: "
                                 "1 - (1 - η)^R, a little less than R η")),
               (eta, tr("that is one round; after R rounds: 1 - (1 - η)^R")),
               (1.0 - expected, tr("that is the share still left; the question asks for the share covered")),
               (1.0, tr("with η = 1 the model would land on the average in one round; η = {eta} moves only "
                        "a fraction of the way").format(eta=_fmt(eta)))])


@_checker
def check_run_bytes(answer: Any, *, n_parameters: int, rounds: int, n_clients: int, fraction: float = 1.0) -> Verdict:
    """Notebooks 01 and 07: the bytes a whole run moves, R × 2 × m × P × 4 (the model down to
    the m sampled clients and their models up, every round).

    Parameters
    ----------
    answer : int, your byte count (bytes, not MB)
    n_parameters : int, P
    rounds : int, R
    n_clients : int, K
    fraction : float, C (m = max(1, floor(C K)))
    """
    m = FLConfig(n_clients=n_clients, fraction=fraction).clients_per_round
    per_round = bytes_per_round(n_parameters, m)
    expected = rounds * per_round
    return _compare_number(
        answer, expected, what=tr("byte count for the run"),
        because=f"R × 2 m P × 4 = {rounds} × 2 × {m} × {n_parameters:,} × 4",
        otherwise=tr("each round: the model down to each of the m clients and one model up from each, 4 bytes a "
                     "number"),
        wrong=[(rounds * bytes_per_round(n_parameters, n_clients), tr("you counted all K clients in every round: "
                                                                      "only m = max(1, floor(C K)) take part")),
               (expected / 2, tr("you counted one direction only: the model goes down to the clients AND comes back "
                                 "up")),
               (expected / BYTES_PER_PARAMETER, tr("that counts numbers, not bytes: 4 bytes per float32")),
               (per_round, tr("that is one round; the run has R of them")),
               (expected / 1e6, tr("that is in MB: give bytes (1 MB = 10^6 bytes)")),
               (expected / 1e9, tr("that is in GB: give bytes (1 GB = 10^9 bytes)")),
               (expected * 8, tr("that is bits: a byte has 8"))])


@_checker
def check_reconstruction(fn: Callable, *, seed: int = 0) -> Verdict:
    """Notebook 08: read a client's single training example back from its update,
    x = ΔW1[:, j] / Δb1[j] for a hidden unit j that moved (and, optionally, its label).

    Called as ``fn(weights_before, weights_after)`` with the lists [W1 (6, 5), b1, W2 (5, 3), b2]
    of a ReLU network before and after one SGD step on one example; hidden unit 0 never fires.
    Return x (6,), or (x, label).

    Returns
    -------
    Verdict; diagnoses weights instead of their changes, a dead unit (0 / 0), the ratio upside
    down, the sign, the learning rate, a row instead of a column, the label's argmin.
    """
    rng = np.random.default_rng([seed, 808])
    before = [0.5 * rng.normal(size=(6, 5)), np.r_[-100.0, np.ones(4)], 0.5 * rng.normal(size=(5, 3)), np.zeros(3)]
    x, label, lr = rng.normal(size=6), 2, 0.1
    grads = reference.gradients(before, x[None, :], np.array([label]))
    after = [a - lr * g for a, g in zip(before, grads, strict=True)]
    result, problem = _call(fn, tr("reconstruction"), ([a.copy() for a in before], [a.copy() for a in after]))
    if problem is not None:
        return problem
    got_label = None
    if isinstance(result, (tuple, list)) and len(result) == 2 and np.ndim(result[1]) == 0:
        result, got_label = result
    problem = _not_a_value(result, tr("your x"))
    if problem is not None:
        return problem
    try:
        a = np.asarray(result, dtype=np.float64)
    except (TypeError, ValueError):
        return _no(tr("your x is {description}").format(description=_describe(result)),
                   tr("return the recovered example, an array (6,)"))
    if a.shape != x.shape:
        return _no(tr("your x has shape {shape}, expected {expected}").format(shape=a.shape, expected=x.shape),
                   tr("the kernel is (d, h) = (6, 5): unit j's column ΔW1[:, j] has one entry per feature")
                   if a.shape == (5,) else tr("one value per input feature"))
    if not np.all(np.isfinite(a)):
        return _no(tr("your x contains NaN or infinity"), tr("that unit did not fire (Δb1[j] = 0, so 0 / 0): pick the "
                                                             "unit whose bias moved most, argmax |Δb1|"))
    if not np.allclose(a, x, rtol=1e-5, atol=1e-6):
        ratios = [after[0][:, j] / after[1][j] for j in range(5)]
        changes = tr("divide the CHANGES: ΔW1 = W1_after - W1_before, Δb1 likewise")
        hint = _first_match(a, [*((r, changes) for r in ratios),
                                (1.0 / x, tr("upside down: x = ΔW1[:, j] / Δb1[j], the kernel's change over the "
                                             "bias's")),
                                (-x, tr("sign: both changes carry the same -η δ_j, so their ratio is +x")),
                                (lr * x, tr("the learning rate cancels in ΔW1[:, j] / Δb1[j]: do not multiply by it")),
                                (x / lr, tr("the learning rate cancels in ΔW1[:, j] / Δb1[j]: do not divide by it"))],
                            atol=1e-6)
        return _no(tr("your x is up to {gap} away from the client's example").format(
                       gap=f"{np.max(np.abs(a - x)):.3g}"),
                   hint or tr("for a unit j that fired, ΔW1[:, j] = -η x δ_j and Δb1[j] = -η δ_j"))
    if got_label is not None and got_label != label:
        d_out = after[3] - before[3]
        hint = (tr("the true class's output bias goes UP (Δb2 = -η (p - onehot(y))): take the argmax, not the argmin")
                if got_label == int(np.argmin(d_out)) else tr("the label is the class whose output bias went up"))
        return _no(tr("your label is {label}, the client's is {expected}").format(label=_fmt(got_label),
                                                                                 expected=label), hint)
    return _ok(tr("you read the client's example back exactly from one update and its label") if got_label is not None
               else tr("you read the client's example back exactly from one update"))


# =============================================================================================
# 09 · Privacy and security
# =============================================================================================
_CLIP_ALIASES = {"updates": ("update", "u", "x", "vectors", "deltas", "delta"),
                 "clip_norm": ("S", "norm", "max_norm", "clip", "c", "bound")}


@_checker
def check_clip_to_norm(fn: Callable, *, clip_norm: float = 1.0, seed: int = 0) -> Verdict:
    """Notebook 09: clip every client's update (a row) to L2 norm S, u · min(1, S / ‖u‖),
    against ``fedlearn_edu.privacy.clip_to_norm``.

    Called as ``fn(updates, clip_norm)`` with updates (4, 5) whose rows have norms 0.3 S, 0.8 S,
    2.5 S and 10 S; returns the clipped (4, 5).

    Returns
    -------
    Verdict; diagnoses clipping each coordinate, scaling small updates up, one norm for all
    rows, nothing clipped.
    """
    privacy, problem = _optional("privacy", "privacy")
    if problem is not None:
        return problem
    rng = np.random.default_rng([seed, 909])
    directions = rng.normal(size=(4, 5))
    updates = directions / np.linalg.norm(directions, axis=1, keepdims=True) * np.c_[[0.3, 0.8, 2.5, 10.0]] * clip_norm
    result, problem = _call_named(fn, tr("clip function"), dict(updates=updates.copy(), clip_norm=clip_norm),
                                  _CLIP_ALIASES)
    if problem is not None:
        return problem
    got, problem = _array(result, tr("your clipped updates"), updates.shape,
                          tr("clip each row (one client's update) and keep the shape (m, P)"))
    if problem is not None:
        return problem
    expected = privacy.clip_to_norm(updates, clip_norm)
    wanted = np.linalg.norm(expected, axis=1)
    if np.allclose(got, expected, rtol=_TOLERANCE, atol=_TOLERANCE):
        return _ok(tr("rows of norm {norms} come out with norm {clipped}: only updates longer than S = {clip} are "
                      "scaled down, directions kept").format(norms=_fmt(np.linalg.norm(updates, axis=1)),
                                                            clipped=_fmt(wanted), clip=_fmt(clip_norm)))
    norms = np.linalg.norm(updates, axis=1, keepdims=True)
    hint = _first_match(got, [
        (np.clip(updates, -clip_norm, clip_norm), tr("you clipped each coordinate to [-S, S]: clip the L2 norm of "
                                                     "the whole update, u · min(1, S / ‖u‖), which keeps its "
                                                     "direction")),
        (updates * clip_norm / norms, tr("you scaled every update to norm S, small ones up too: only updates longer "
                                         "than S change, by min(1, S / ‖u‖)")),
        (updates * min(1.0, clip_norm / np.linalg.norm(updates)), tr("you clipped the norm of all updates together: "
                                                                     "clip each client's row on its own (axis=-1)")),
        (updates, tr("nothing was clipped: the rows of norm 2.5 S and 10 S must come out with norm S"))])
    return _no(tr("your rows have norms {norms}, clipping to S = {clip} gives {expected}").format(
                   norms=_fmt(np.linalg.norm(got, axis=1)), clip=_fmt(clip_norm), expected=_fmt(wanted)),
               hint or tr("u · min(1, S / ‖u‖) for each row u"))


@_checker
def check_dp_noise_std(answer: Any, *, noise_multiplier: float, clip_norm: float, expected_clients: float,
                       realised_clients: int | None = None) -> Verdict:
    """Notebook 09: the per-coordinate noise std of DP-FedAvg's average, z S / m
    (``fedlearn_edu.privacy.dp_noise_std``).

    Parameters
    ----------
    answer : float, your std
    noise_multiplier : z
    clip_norm : S
    expected_clients : m = q K, the expected clients per round
    realised_clients : int, optional, the clients that showed up (to diagnose dividing by them)
    """
    privacy, problem = _optional("privacy", "privacy")
    if problem is not None:
        return problem
    z, s, m = float(noise_multiplier), float(clip_norm), float(expected_clients)
    expected = privacy.dp_noise_std(z, s, m)
    return _compare_number(
        answer, expected, what=tr("noise std"), rtol=1e-4,
        because=f"z S / m = {_fmt(z)} × {_fmt(s)} / {_fmt(m)}",
        otherwise=tr("noise N(0, (z S)^2) is added to the sum of the clipped updates, and the sum is divided by m"),
        wrong=[(z * s, tr("that is the noise on the SUM; the average divides it by m, so its std is z S / m")),
               (z / m, tr("the noise scales with the clip norm S: one client can move the sum by up to S")),
               (z * s / realised_clients if realised_clients else None,
                tr("divide by the EXPECTED number of clients m = q K, not by those who showed up: otherwise the "
                   "noise depends on who took part")),
               (z * s / math.sqrt(m), tr("divide by m, not √m: the whole sum, noise included, is divided by m")),
               (expected ** 2, tr("that is the variance; the standard deviation is z S / m")),
               (s / (z * m) if z else None, tr("z multiplies the noise: std = z S / m"))])


_CLIP_AFTER_NOISE = N_("you clipped after adding the noise: clip each client's update first, then add the noise to "
                       "the sum; clipping afterwards bounds the noise, not each client's influence")


@_checker
def check_dp_aggregate(fn: Callable, *, clip_norm: float = 1.0, noise_multiplier: float = 0.5,
                       expected_clients: float = 4.0, seed: int = 0) -> Verdict:
    """Notebook 09: DP-FedAvg's average, (Σ_k clip(u_k, S) + N(0, (z S)^2 I)) / m, against
    ``fedlearn_edu.privacy.dp_aggregate`` with the same random generator.

    Called as ``fn(updates, clip_norm, noise_multiplier, expected_clients, rng)`` with 3 updates
    (3, 6) of norms 0.5 S, 2 S and 5 S and a fresh ``np.random.default_rng(seed)``; draw the noise
    once, ``rng.normal(0, z S / m, P)``, as the kit does.

    Returns
    -------
    Verdict; diagnoses clipping after the noise, no clipping, dividing by the clients who showed
    up, no noise, noise m times too small or too big.
    """
    privacy, problem = _optional("privacy", "privacy")
    if problem is not None:
        return problem
    rng = np.random.default_rng([seed, 910])
    directions = rng.normal(size=(3, 6))
    updates = directions / np.linalg.norm(directions, axis=1, keepdims=True) * np.c_[[0.5, 2.0, 5.0]] * clip_norm
    s, z, m, n = float(clip_norm), float(noise_multiplier), float(expected_clients), len(updates)
    values = dict(updates=updates.copy(), clip_norm=s, noise_multiplier=z, expected_clients=m,
                  rng=np.random.default_rng(seed))
    result, problem = _call_named(fn, tr("DP average"), values, {
        **_CLIP_ALIASES, "noise_multiplier": ("z", "sigma", "noise"), "expected_clients": ("m", "expected", "qK"),
        "rng": ("generator", "random", "random_state")})
    if problem is not None:
        return problem
    got, problem = _array(result, tr("your DP average"), (updates.shape[1],), tr("one averaged update, shape (P,)"))
    if problem is not None:
        return problem
    expected = privacy.dp_aggregate(updates, s, z, m, np.random.default_rng(seed))
    if np.allclose(got, expected, rtol=_TOLERANCE, atol=_TOLERANCE):
        return _ok(tr("your DP average equals fl.privacy.dp_aggregate: clip to S = {clip}, sum, add noise of std "
                      "z S = {std}, divide by m = {m}").format(clip=_fmt(s), std=_fmt(z * s), m=_fmt(m)))
    noise = np.random.default_rng(seed).normal(0.0, privacy.dp_noise_std(z, s, m), updates.shape[1])
    total, raw = privacy.clip_to_norm(updates, s).sum(axis=0), updates.sum(axis=0)
    realised = tr("you divided by the n clients who showed up: DP-FedAvg divides by the expected m = q K, fixed in "
                  "advance, so the noise covers any one client")
    hint = _first_match(got, [
        (privacy.clip_to_norm(raw / m + noise, s), tr(_CLIP_AFTER_NOISE)),
        (privacy.clip_to_norm(raw + m * noise, s) / m, tr(_CLIP_AFTER_NOISE)),
        (raw / m + noise, tr("no clipping: without it one client can move the sum as far as it likes, and no noise "
                             "of a fixed size hides that")),
        (total / n + noise * m / n, realised),
        (total / n + noise, realised),
        (total / m, tr("no noise: clipping bounds each client's influence, the Gaussian noise hides it")),
        (total / m + noise / m, tr("your noise is m times too small: add N(0, (z S)^2) to the SUM, then divide by "
                                   "m")),
        (total / m + noise * m, tr("your noise is m times too big: std z S on the sum is z S / m on the average"))])
    return _no(tr("your DP average is up to {gap} away from fl.privacy.dp_aggregate's").format(
                   gap=f"{np.max(np.abs(got - expected)):.3g}"),
               hint or tr("clip each update, sum, add rng.normal(0, z S / m, P) after dividing by m (the kit's "
                          "order)"))


@_checker
def check_secure_masks(fn: Callable, *, seed: int = 0) -> Verdict:
    """Notebook 09: pairwise masking for secure aggregation, y_i = q_i + Σ_(j>i) r_ij - Σ_(j<i) r_ji
    (mod 2^32), so that the masks cancel in the server's sum.

    Called as ``fn(client_id, quantised, masks)`` for clients 0, 1, 2 with ``quantised`` the
    client's uint32 vector (``secure_aggregation.quantize``) and ``masks`` a dict
    {(i, j): r_ij for i < j} of uint32 vectors (``secure_aggregation.prg_uint32``). Needs the
    kit's [privacy] extra.

    Returns
    -------
    Verdict; diagnoses masks with the wrong sign (the sum is off), no modulo, an unmasked vector.
    """
    secagg, problem = _optional("secure_aggregation", "privacy")
    if problem is not None:
        return problem
    rng = np.random.default_rng([seed, 911])
    n, size, modulus = 3, 5, 2 ** 32
    updates = rng.uniform(-0.5, 0.5, size=(n, size))
    quantised = np.stack([secagg.quantize(u) for u in updates])
    masks = {(i, j): secagg.prg_uint32(rng.bytes(32), size) for i in range(n) for j in range(i + 1, n)}
    sent = []
    for i in range(n):
        values = dict(client_id=i, quantised=quantised[i].copy(), masks={k: v.copy() for k, v in masks.items()})
        result, problem = _call_named(fn, tr("masking function"), values, {
            "client_id": ("i", "client", "k", "index"), "quantised": ("q", "quantized", "update", "q_i"),
            "masks": ("pair_masks", "r", "pairwise_masks", "mask")})
        if problem is not None:
            return problem
        a, problem = _array(result, tr("client {client}'s masked vector").format(client=i), (size,),
                            tr("one uint32 per coordinate"))
        if problem is not None:
            return problem
        if np.any(a < 0) or np.any(a >= modulus) or np.any(a != np.round(a)):
            return _no(tr("client {client}'s masked vector holds {values}, outside the integers 0 … 2**32 - 1").format(
                           client=i, values=_fmt(a)),
                       tr("work modulo 2**32: (q + mask) % 2**32, or uint32 arithmetic, which wraps around"))
        sent.append(a.astype(np.int64))
    total = (np.sum(sent, axis=0) % modulus).astype(np.uint32)
    truth = (quantised.astype(np.int64).sum(axis=0) % modulus).astype(np.uint32)
    if np.array_equal(total, truth):
        unmasked = [i for i in range(n) if np.array_equal(sent[i], quantised[i])]
        if unmasked:
            return _no(tr("client {client} sent its quantised update unmasked").format(client=unmasked[0]),
                       tr("every client adds its masks: an unmasked vector shows the server that client's update"))
        return _ok(tr("the masks cancel: the server's sum decodes to {total}, the sum of the updates, while each "
                      "masked vector alone looks random").format(total=_fmt(secagg.dequantize(total))))
    pair_total = np.sum([r.astype(np.int64) for r in masks.values()], axis=0)
    measured = tr("the server's sum decodes to {total}, but the updates sum to {truth}").format(
        total=_fmt(secagg.dequantize(total)), truth=_fmt(secagg.dequantize(truth)))
    if any(np.array_equal(total, ((truth.astype(np.int64) + sign * pair_total) % modulus).astype(np.uint32))
           for sign in (2, -2)):
        return _no(measured, tr("the masks do not cancel, a sign is wrong: each r_ij must be added by one client of "
                                "the pair and subtracted by the other (client i adds r_ij for j > i, subtracts r_ji "
                                "for j < i)"))
    return _no(measured, tr("Σ_i y_i must equal Σ_i q_i modulo 2**32: every pair's mask once with + and once with "
                            "-"))


@_checker
def check_coordinate_median(fn: Callable, *, seed: int = 0) -> Verdict:
    """Notebook 09: robust aggregation, the coordinate-wise median of the client updates,
    against ``fl.coordinate_median``, with one attacker among six clients.

    Called as ``fn(updates)`` with updates (6, 4), the last row an attacker's 1000s; returns (4,).

    Returns
    -------
    Verdict; diagnoses the mean, one client's whole update, the median over the wrong axis or
    of everything, the lower or upper middle value.
    """
    rng = np.random.default_rng([seed, 912])
    updates = np.vstack([rng.normal(size=(5, 4)), np.full((1, 4), 1000.0)])
    result, problem = _call(fn, tr("median"), (updates.copy(),))
    if problem is not None:
        return problem
    got, problem = _array(result, tr("your median"))
    if problem is not None:
        return problem
    if got.shape != (4,):
        hint = (tr("you took each client's median over its coordinates: the median runs over the clients, per "
                   "coordinate (axis=0)") if got.shape == (6,) else
                tr("a single number is the median of all values together: take it per coordinate, axis=0")
                if got.size == 1 else tr("one value per coordinate"))
        return _no(tr("your median has shape {shape}, expected (4,)").format(shape=got.shape), hint)
    expected = np.asarray(coordinate_median(updates), dtype=np.float64)
    if np.allclose(got, expected, rtol=_TOLERANCE, atol=_TOLERANCE):
        return _ok(tr("your median equals fl.coordinate_median: the attacker's 1000s leave it inside the honest range "
                      "(the mean would move to {mean})").format(mean=_fmt(updates.mean(axis=0))))
    ordered = np.sort(updates, axis=0)
    by_norm = np.argsort(np.linalg.norm(updates, axis=1))
    whole = tr("you picked one client's whole update: the coordinate-wise median takes the median of each coordinate "
               "separately")
    hint = _first_match(got, [
        (updates.mean(axis=0), tr("that is the mean: one attacker sending 1000 drags it by 1000 / m; the median "
                                  "ignores the extremes")),
        *((updates[by_norm[i]], whole) for i in (2, 3)),
        (ordered[2], tr("with an even number of clients the median is the mean of the two middle values (you took "
                        "the lower one)")),
        (ordered[3], tr("with an even number of clients the median is the mean of the two middle values (you took "
                        "the upper one)"))])
    return _no(tr("your median is up to {gap} away from fl.coordinate_median").format(
                   gap=f"{np.max(np.abs(got - expected)):.3g}"),
               hint or "np.median(updates, axis=0)")


# =============================================================================================
# 11 · Non-IID data: FedProx and SCAFFOLD
# =============================================================================================
@_checker
def check_scaffold_control(fn: Callable, *, seed: int = 0) -> Verdict:
    """Notebook 11: SCAFFOLD's new client control variate (option II),
    c_k+ = c_k - c + (x - y_k) / (K η), as in ``Simulation.update_controls``.

    Called as ``fn(c_k, c, x, y_k, n_steps, learning_rate)`` with vectors (5,), K = 6 local steps
    and η = 0.1 (x the global model, y_k the client's model after its K steps).

    Returns
    -------
    Verdict; diagnoses the sign of x - y_k, a forgotten K or η, c_k - c left out or swapped.
    """
    rng = np.random.default_rng([seed, 1111])
    c_k, c, x, y_k = (rng.normal(size=5) for _ in range(4))
    steps, eta = 6, 0.1
    values = dict(c_k=c_k.copy(), c=c.copy(), x=x.copy(), y_k=y_k.copy(), n_steps=steps, learning_rate=eta)
    result, problem = _call_named(fn, tr("control update"), values, {
        "c_k": ("client_control", "ck", "c_i"), "c": ("server_control", "c_global"),
        "x": ("global_weights", "w", "x_global", "w_global"), "y_k": ("client_weights", "y", "local_weights", "w_k"),
        "n_steps": ("K", "steps", "K_k", "local_steps"),
        "learning_rate": ("lr", "eta", "eta_l", "client_learning_rate")})
    if problem is not None:
        return problem
    got, problem = _array(result, tr("your c_k+"), c_k.shape, tr("a control variate has the model's shape"))
    if problem is not None:
        return problem
    progress = x - y_k
    expected = c_k - c + progress / (steps * eta)
    if np.allclose(got, expected, rtol=_TOLERANCE, atol=_TOLERANCE):
        return _ok(tr("your c_k+ = c_k - c + (x - y_k) / (K η): the client's own mean gradient over its K steps"))
    hint = _first_match(got, [
        (c_k - c - progress / (steps * eta), tr("sign: x - y_k is the client's progress, which points along minus "
                                                "its mean gradient; divide (x - y_k), not (y_k - x)")),
        (c_k - c + progress / eta, tr("forgot K: (x - y_k) / η adds up K steps' gradients; divide by K η for one")),
        (c_k - c + progress / steps, tr("forgot η: the model moved η × gradient per step; divide by K η")),
        (progress / (steps * eta), tr("you left out c_k - c: the steps followed ∇F_k - c_k + c, so add c_k - c back "
                                      "to estimate ∇F_k")),
        (c - c_k + progress / (steps * eta), tr("c_k - c, not c - c_k: the steps' correction c - c_k is taken back "
                                                "out"))])
    return _no(tr("your c_k+ is up to {gap} away from c_k - c + (x - y_k) / (K η)").format(
                   gap=f"{np.max(np.abs(got - expected)):.3g}"),
               hint or "c_k+ = c_k - c + (x - y_k) / (K η)")


@_checker
def check_proximal_gradient(fn: Callable, *, seed: int = 0) -> Verdict:
    """Notebooks 07 and 11: the gradient of FedProx's term (μ/2)‖w - w_t‖², i.e. μ (w - w_t).

    Called as ``fn(w, w_global, mu)`` with vectors (6,) and μ = 0.3; returns the gradient (6,).

    Returns
    -------
    Verdict; diagnoses the sign, a factor 2 or 1/2, the term's value instead of its gradient,
    w_t left out (weight decay), μ left out.
    """
    rng = np.random.default_rng([seed, 1112])
    w, w_global, mu = rng.normal(size=6), rng.normal(size=6), 0.3
    values = dict(w=w.copy(), w_global=w_global.copy(), mu=mu)
    result, problem = _call_named(fn, tr("proximal gradient"), values, {
        "w": ("weights", "theta", "x", "w_local"), "w_global": ("global_weights", "w_t", "anchor", "w0", "theta_t"),
        "mu": ("prox_mu", "proximal")})
    if problem is not None:
        return problem
    got, problem = _array(result, tr("your gradient"))
    if problem is not None:
        return problem
    if got.size == 1 and w.size > 1:
        return _no(tr("your gradient is the single number {value}").format(value=_fmt(got)),
                   tr("that is the size of the term (μ/2)‖w - w_t‖²; its gradient is the vector μ (w - w_t)"))
    if got.shape != w.shape:
        return _no(tr("your gradient has shape {shape}, expected {expected}").format(shape=got.shape,
                                                                                     expected=w.shape),
                   tr("one entry per weight"))
    expected = mu * (w - w_global)
    if np.allclose(got, expected, rtol=_TOLERANCE, atol=_TOLERANCE):
        return _ok(tr("your gradient is μ (w - w_t): it pulls every weight back towards the global model"))
    hint = _first_match(got, [
        (mu * (w_global - w), tr("sign: the gradient μ (w - w_t) points away from w_t, so the step -η μ (w - w_t) "
                                 "pulls w back")),
        (2 * mu * (w - w_global), tr("a factor 2 too many: the 1/2 of (μ/2)‖w - w_t‖² cancels the square's 2")),
        (mu / 2 * (w - w_global), tr("half too small: d/dw (μ/2)‖w - w_t‖² = μ (w - w_t)")),
        (mu * w, tr("you left out w_t: the pull is towards the global model, not towards 0 (that is weight decay)")),
        (w - w_global, tr("you left out μ: it sets how strongly the client is pulled back"))])
    return _no(tr("your gradient is up to {gap} away from μ (w - w_t)").format(
                   gap=f"{np.max(np.abs(got - expected)):.3g}"),
               hint or tr("differentiate (μ/2) Σ_i (w_i - w_t,i)²"))


# =============================================================================================
# 12 · Communication cost
# =============================================================================================
@_checker
def check_upload_bytes(answer: Any, *, scheme: str, n_parameters: int, topk_fraction: float = 0.1) -> Verdict:
    """Notebook 12: the bytes of one compressed upload, ``Compressor(scheme).bytes_per_upload(P)``:
    none 4 P, int8 P + 8, int4 ceil(P / 2) + 8, top-k 8 k with k = max(1, round(f P)).

    Parameters
    ----------
    answer : int, your byte count
    scheme : "none", "int8", "int4" or "topk"
    n_parameters : int, P
    topk_fraction : float, f (for "topk")
    """
    compressor = Compressor(scheme, topk_fraction=topk_fraction)
    expected = compressor.bytes_per_upload(n_parameters)
    p, k = int(n_parameters), compressor.topk_count(n_parameters)
    range_hint = tr("the range travels too: the server needs the minimum and maximum (two float32, 8 bytes) to "
                    "decode")
    formulas = {"none": ("4 P", [(p, tr("that is P numbers; each float32 takes 4 bytes")),
                                 (32 * p, tr("that is bits: 32 bits make 4 bytes"))]),
                "int8": (tr("P + 8: one byte per code plus the range"), [
                    (p, range_hint), (4 * p, tr("that is the uncompressed float32 update: int8 is one byte per "
                                                "number")),
                    (8 * p + 64, tr("that is bits: 8 bits make a byte"))]),
                "int4": (tr("ceil(P / 2) + 8: two 4-bit codes per byte plus the range"), [
                    (math.ceil(p / 2), range_hint), (p + 8, tr("4 bits is half a byte: two codes fit in one byte")),
                    (p / 2 + 8, tr("round up: ceil(P / 2) bytes hold P codes of 4 bits"))]),
                "topk": (tr("8 k with k = max(1, round(f P)) = {k}").format(k=k), [
                    (4 * k, tr("the server must know WHICH coordinates were kept: each value travels with its int32 "
                               "index, 8 bytes per kept coordinate")),
                    (k, tr("k is how many coordinates are kept; each costs 8 bytes (index and value)")),
                    (8 * topk_fraction * p, tr("k = max(1, round(f P)) is a whole number of coordinates"))])}
    because, wrong = formulas[compressor.scheme]
    return _compare_number(answer, expected, what=tr("byte count for one {scheme} upload").format(scheme=scheme),
                           because=tr("{formula}, P = {parameters}").format(formula=because, parameters=f"{p:,}"),
                           otherwise=tr("count what travels: {formula}").format(formula=because), wrong=wrong)


@_checker
def check_error_feedback(fn: Callable, *, k: int = 3, seed: int = 0) -> Verdict:
    """Notebook 12: top-k with error feedback, over three rounds, against ``fl.compression.Compressor``.

    Called each round as ``fn(update, residual, k)`` with an update (10,), the residual it returned
    the round before (zeros at first) and k = 3; returns ``(sent, new_residual)``, where
    sent = top_k(update + residual) (dense, zeros elsewhere) and new_residual = what was not sent.

    Returns
    -------
    Verdict; diagnoses the residual not added, a residual from the update alone, its sign, no
    memory, the k largest values instead of magnitudes.
    """
    rng = np.random.default_rng([seed, 1212])
    size = 10
    updates = rng.normal(size=(3, size)).astype(np.float32)
    compressor = Compressor("topk", topk_fraction=k / size, error_feedback=True)
    residual = np.zeros(size, np.float32)
    for t, update in enumerate(updates):
        expected_sent, _ = compressor(update, client_id=0, round_index=t)
        expected_residual = compressor.residuals[0]
        result, problem = _call_named(fn, tr("error-feedback step"), dict(update=update.copy(),
                                                                          residual=residual.copy(), k=k),
                                      {"update": ("delta", "u", "g", "x"), "residual": ("error", "memory", "e"),
                                       "k": ("n_keep", "top_k", "count")})
        if problem is not None:
            return problem
        if not (isinstance(result, (tuple, list)) and len(result) == 2):
            return _no(tr("your step returned {description}").format(description=_describe(result)),
                       tr("return two arrays: (sent, new_residual)"))
        sent, problem = _array(result[0], tr("what you sent"), (size,),
                               tr("send a dense vector with zeros where nothing went"))
        new_residual, problem = ((None, problem) if problem is not None else
                                 _array(result[1], tr("your residual"), (size,)))
        if problem is not None:
            return problem
        if _same([sent, new_residual], [expected_sent, expected_residual]):
            residual = new_residual.astype(np.float32)
            continue
        carried = update + residual
        by_value = np.zeros(size, np.float32)
        by_value[np.argsort(-carried)[:k]] = carried[np.argsort(-carried)[:k]]
        kept = densify(top_k(update, k))
        hint = next((h for candidate, h in [
            ([kept, update - kept], tr("add the residual before compressing: carried = update + residual, "
                                       "so what was dropped last round gets another chance")),
            ([expected_sent, update - expected_sent], tr("the new residual is what you carried minus what you sent: "
                                                         "(update + residual) - sent")),
            ([expected_sent, -expected_residual], tr("sign: the residual is what was NOT sent, carried - sent")),
            ([expected_sent, np.zeros(size)], tr("your residual stays zero: keep what compression dropped, "
                                                 "carried - sent")),
            ([by_value, carried - by_value], tr("keep the k coordinates of largest MAGNITUDE |x|: negative ones "
                                                "count too"))]
            if _same([sent, new_residual], candidate)), None)
        return _no(tr("in round {round} your (sent, residual) differ from the Compressor's by up to {gap}").format(
                       round=t + 1, gap=f"{_max_gap([sent, new_residual], [expected_sent, expected_residual])[0]:.3g}"),
                   hint or tr("carried = update + residual; sent = top-k of carried; residual = carried - sent"))
    return _ok(tr("your error feedback matches fl.compression.Compressor('topk', error_feedback=True) for three "
                  "rounds: nothing the compression drops is lost for good"))


@_checker
def check_topk_breakeven(answer: Any, *, n_parameters: int, scheme: str = "int8") -> Verdict:
    """Notebook 12, exercise 2: the top-k fraction f at which top-k sends as many bytes as ``scheme``.

    Parameters
    ----------
    answer : float, your f
    n_parameters : int, P
    scheme : "int8" or "int4" (or "none")
    """
    target = Compressor(scheme).bytes_per_upload(n_parameters)
    per_coordinate = Compressor("topk", topk_fraction=1.0).bytes_per_upload(n_parameters) / n_parameters
    expected = target / (per_coordinate * n_parameters)
    others = [(Compressor(o).bytes_per_upload(n_parameters) / (per_coordinate * n_parameters),
               tr("that is the break-even with {other}, not {scheme}").format(other=o, scheme=scheme))
              for o in ("int8", "int4") if o != scheme]
    return _compare_number(
        answer, expected, what=tr("break-even fraction"), rtol=0.005, atol=1e-6,
        because=tr("8 f P = {scheme} bytes ({bytes}) with P = {parameters}").format(
            scheme=scheme, bytes=f"{target:,}", parameters=f"{int(n_parameters):,}"),
        otherwise=tr("set top-k's 8 k = 8 f P equal to the {scheme} upload and solve for f").format(scheme=scheme),
        wrong=[(2 * expected, tr("you forgot the indices: a kept coordinate costs 8 bytes (index and value), not 4")),
               (1.0 / expected, tr("inverted: f is the share of coordinates kept, below 1")), *others])


# =============================================================================================
# 13 · Devices and deadlines
# =============================================================================================
def _one_device(examples_per_second: float, bytes_per_second: float, batch_sizes, *, model_bytes: float,
                upload_bytes: float, deadline: float | None = None):
    return plan_round([DeviceProfile(float(examples_per_second), float(bytes_per_second))], [0],
                      batch_sizes={0: np.asarray(batch_sizes, dtype=np.float64)}, model_bytes=model_bytes,
                      upload_bytes=upload_bytes, deadline=deadline, policy="partial")


@_checker
def check_client_time(answer: Any, *, model_bytes: float, examples_trained: float, examples_per_second: float,
                      bytes_per_second: float) -> Verdict:
    """Notebook 13: one client's time in a round, t_k = model bytes / l_k + examples / s_k +
    update bytes / l_k (the update as big as the model), from ``fl.devices.plan_round``.

    Parameters
    ----------
    answer : float, your seconds
    model_bytes : bytes of the model (down) and of the update (up)
    examples_trained : examples the client trains on this round (E × n_k)
    examples_per_second : s_k
    bytes_per_second : l_k
    """
    expected = _one_device(examples_per_second, bytes_per_second, [examples_trained], model_bytes=model_bytes,
                           upload_bytes=model_bytes).seconds
    transfer, compute = model_bytes / bytes_per_second, examples_trained / examples_per_second
    return _compare_number(
        answer, expected, what=tr("client time in seconds"), rtol=1e-3,
        because=tr("2 × {bytes} B / {bandwidth} B/s + {examples} / {speed} examples/s").format(
            bytes=_fmt(model_bytes), bandwidth=_fmt(bytes_per_second), examples=_fmt(examples_trained),
            speed=_fmt(examples_per_second)),
        otherwise=tr("download, train, upload: t_k = bytes / l_k + examples / s_k + bytes / l_k"),
        wrong=[(transfer + compute, tr("you counted one transfer: the model comes down AND the update goes up")),
               (compute, tr("the transfers take time too: bytes / l_k each way")),
               (2 * transfer, tr("the training takes time too: examples / s_k"))])


@_checker
def check_partial_steps(answer: Any, *, n_examples: int, epochs: int, batch_size: int | None,
                        examples_per_second: float, bytes_per_second: float, model_bytes: float,
                        deadline: float) -> Verdict:
    """Notebooks 07 and 13: the local steps a straggler finishes before the deadline under
    "accept partial work" (download and upload take their time too), from ``fl.devices.plan_round``.

    Parameters
    ----------
    answer : int, your step count (0 if nothing fits)
    n_examples, epochs, batch_size : n_k, E, B (the batches come from ``fl.batch_plan``)
    examples_per_second, bytes_per_second : s_k, l_k
    model_bytes : bytes of the model (down) and of the update (up)
    deadline : seconds
    """
    sizes = batch_plan(n_examples, epochs, batch_size)[1]

    def steps(down: float, up: float) -> int:
        plan = _one_device(examples_per_second, bytes_per_second, sizes, model_bytes=down, upload_bytes=up,
                           deadline=deadline)
        cap = plan.max_steps.get(0, 0) if 0 in plan.clients else 0
        return len(sizes) if cap is None else int(cap)

    expected = steps(model_bytes, model_bytes)
    return _compare_number(
        answer, expected, what=tr("step count before the deadline"),
        because=tr("{planned} steps planned; (deadline - 2 transfers) leaves time for {steps}").format(
            planned=len(sizes), steps=expected),
        otherwise=tr("subtract both transfers from the deadline, then count the batches that finish in the time "
                     "left"),
        wrong=[(steps(0, 0), tr("the download and the upload eat into the deadline too: only deadline - transfers "
                                "is left for training")),
               (steps(model_bytes, 0), tr("you counted one transfer: the model comes down and the update goes up")),
               (expected + 1, tr("a step that is not finished at the deadline does not count")),
               (len(sizes), tr("the client cannot finish all its steps before the deadline: count those that "
                               "fit"))])


@_checker
def check_round_time(answer: Any, *, client_seconds: Sequence[float], deadline: float | None = None) -> Verdict:
    """Notebook 13: how long a round lasts, the slowest client's time (or the deadline, when a
    client would go over it), by the rule of ``fl.devices.plan_round``.

    Parameters
    ----------
    answer : float, your seconds
    client_seconds : each participating client's t_k
    deadline : seconds or None (wait for everybody)
    """
    times = np.asarray(client_seconds, dtype=np.float64)
    if times.ndim != 1 or times.size == 0:
        return _no(tr("client_seconds must be a list of the clients' times"),
                   tr("pass client_seconds=[t_1, t_2, ...]"))
    plan = plan_round([DeviceProfile(1.0, 1.0)] * len(times), list(range(len(times))),
                      batch_sizes={k: np.array([t]) for k, t in enumerate(times)}, model_bytes=0, upload_bytes=0,
                      deadline=deadline, policy="drop")
    over = deadline is not None and times.max() > deadline
    return _compare_number(
        answer, plan.seconds, what=tr("round time in seconds"), rtol=1e-6,
        because=(tr("the deadline: a client would go over it") if over else tr("the slowest client's time")),
        otherwise=tr("the clients work in parallel and the server waits for the last one (or until the deadline)"),
        wrong=[(times.mean(), tr("the round waits for the slowest client: max, not the mean")),
               (times.sum(), tr("clients train in parallel: the round lasts as long as the slowest, not the sum")),
               (times.min(), tr("that is the fastest client; the round ends when the slowest is done")),
               (times.max() if over else None, tr("the server stops waiting at the deadline: a round lasts at most "
                                                  "that"))])


# =============================================================================================
# 14 · The FedAvg paper
# =============================================================================================
@_checker
def check_speedup(answer: Any, *, rounds_fedsgd: int | None, rounds_fedavg: int | None) -> Verdict:
    """Notebook 14: the paper's speed-up, FedSGD's rounds to the target over FedAvg's (None when
    either run never reached it), as ``fl.paper.add_speedups`` computes it.

    Parameters
    ----------
    answer : float or None
    rounds_fedsgd, rounds_fedavg : int or None, rounds to the target
    """
    if rounds_fedsgd is None or rounds_fedavg is None:
        if answer is None:
            return _ok(tr("None: one of the runs never reached the target, so there is no speed-up to report"))
        return _no(tr("you answered {answer}, but a run never reached the target").format(answer=_fmt(answer)),
                   tr("the speed-up is undefined: answer None"))
    expected = rounds_fedsgd / rounds_fedavg
    if answer is None:
        return _no(tr("you answered None, but both runs reached the target ({fedsgd} and {fedavg} rounds)").format(
                       fedsgd=rounds_fedsgd, fedavg=rounds_fedavg),
                   tr("divide FedSGD's rounds by FedAvg's"))
    return _compare_number(
        answer, expected, what=tr("speed-up"), rtol=0.005, atol=0.05,
        because=tr("FedSGD's {fedsgd} rounds / FedAvg's {fedavg}").format(fedsgd=rounds_fedsgd, fedavg=rounds_fedavg),
        otherwise=tr("speed-up = rounds of FedSGD / rounds of FedAvg, to the same target"),
        wrong=[(1.0 / expected, tr("inverted: the speed-up is FedSGD's rounds over FedAvg's, above 1 when FedAvg "
                                   "needs fewer")),
               (rounds_fedsgd - rounds_fedavg, tr("that is the difference in rounds; the paper's speed-up is a "
                                                  "ratio")),
               (100 * (expected - 1), tr("that is a percentage gain; the paper writes the ratio, e.g. 2.5x"))])


# =============================================================================================
# The registry
# =============================================================================================
#: every checker: name -> (notebook, one-line description); the README's table is built from it
CHECKERS: dict[str, tuple[int, str]] = {
    "check_prediction": (1, "predict, then run: how far a guess was from the measured value, and which way"),
    "check_clients_per_round": (0, "clients per round m = max(1, floor(C K))"),
    "check_rounds_to_accuracy": (0, "the first round that reaches a target accuracy"),
    "check_config_field": (0, "which FLConfig field is an article symbol (N, C, E, B, ...)"),
    "check_model_upload_bytes": (1, "bytes of one model upload, 4 P"),
    "check_crossover_samples": (1, "examples per client n* = 8 P R C / b above which FedAvg moves fewer bytes"),
    "check_label_distribution": (2, "label counts per client of a partition"),
    "check_partition": (2, "a partition you wrote: every example on exactly one client"),
    "check_more_skewed_alpha": (2, "predict: which Dirichlet α gives the more skewed split"),
    "check_non_iid_score": (2, "the non-IID score: size-weighted Jensen-Shannon distance"),
    "check_parameter_count": (3, "trainable parameters of a Dense network"),
    "check_local_steps": (3, "local steps E × ceil(n_k / B)"),
    "check_local_update": (3, "write the local SGD update; checked against reference.local_update"),
    "check_fedprox_update": (3, "implement the variant: FedProx's proximal term in the local update"),
    "check_fedavg_weights": (4, "the FedAvg coefficients n_k / n"),
    "check_fedavg": (4, "write fedavg(models, n_examples); checked against reference.fedavg"),
    "check_fedavg_round": (4, "write one whole FedAvg round: local updates, then the n_k / n average"),
    "check_server_update": (4, "find the bug: the server step with a server learning rate"),
    "check_stopping_round": (4, "the stated convergence rule (patience and tolerance)"),
    "check_fedavg_vectors": (5, "write FedAvg's aggregation on flattened models"),
    "check_article_weights": (5, "find the bug: each client's say under the article's 1/n_i formula"),
    "check_formula_scaling": (5, "the article's θ_t scales with α: it is not a model"),
    "check_objective_weights": (5, "the objective's weights p_k, 'examples' or 'uniform'"),
    "check_fedsgd_step": (5, "write the correct formula: one FedSGD step"),
    "check_server_momentum": (5, "implement the variant: server momentum (FedAvgM)"),
    "check_server_share": (6, "how far a server learning rate of 0.01 moves the model in R rounds"),
    "check_run_bytes": (7, "bytes of a whole run, R × 2 m P × 4"),
    "check_reconstruction": (8, "read a training example back from a one-example update"),
    "check_clip_to_norm": (9, "clip each update to L2 norm S"),
    "check_dp_noise_std": (9, "DP-FedAvg's noise std z S / m"),
    "check_dp_aggregate": (9, "DP-FedAvg's average: clip, sum, noise, divide by the expected m"),
    "check_secure_masks": (9, "secure aggregation: pairwise masks that cancel"),
    "check_coordinate_median": (9, "robust aggregation: the coordinate-wise median against an attacker"),
    "check_scaffold_control": (11, "SCAFFOLD's client control variate update"),
    "check_proximal_gradient": (11, "the gradient of FedProx's proximal term, μ (w - w_t)"),
    "check_upload_bytes": (12, "bytes of an int8, int4 or top-k upload"),
    "check_error_feedback": (12, "top-k with error feedback over three rounds"),
    "check_topk_breakeven": (12, "the top-k fraction that sends as many bytes as int8 or int4"),
    "check_client_time": (13, "one client's round time: transfers and computation"),
    "check_partial_steps": (13, "a straggler's local steps before the deadline"),
    "check_round_time": (13, "a round lasts as long as its slowest client, or the deadline"),
    "check_speedup": (14, "the paper's speed-up, FedSGD's rounds over FedAvg's"),
}
