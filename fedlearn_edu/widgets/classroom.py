"""Classroom controls around any slider callback: presets, reset, a busy line and what changed.

``ControlPanel(callback, controls, presets=...)`` is what a notebook displays instead of
``interactive_output``. The callback stays a plain package function (tested by pytest over a
grid of values); the panel only

* calls it with the controls' values when a control is released, once per change;
* offers presets a lecturer can pick ("IID baseline", "too large a learning rate", ...) and a
  reset to the notebook's defaults;
* shows "⏳ running…" while the callback runs and the time it took after;
* prints one line that says what differs from the defaults ("changed: E 1 → 5");
* turns an error into one readable line (a bad combination of values), never a traceback.

Log-scale values that must come back exactly to their default (0.3, 0.5) use
:func:`log_value_slider`, a slider over a fixed list of round values that contains the default;
ipywidgets' ``FloatLogSlider`` steps in the exponent and cannot return to 0.3.
"""
from __future__ import annotations

import contextlib
import html
import math
import time
from typing import Any, Callable, Iterator, Mapping

import ipywidgets as widgets

from ..i18n import N_, tr

__all__ = ["accepted_values", "ControlPanel", "describe_changes", "log_values", "log_value_slider", "quietly",
           "set_values", "show_examples_per_client", "ENVIRONMENT_PRESETS"]

_STYLE = {"description_width": "initial"}
CUSTOM = N_("(custom)")


def log_values(low: float, high: float, *, include: tuple[float, ...] = ()) -> tuple[float, ...]:
    """Round values from ``low`` to ``high`` on a log scale: 1, 2, 3, 5 per decade, plus ``include``.

    Parameters
    ----------
    low, high : float, 0 < low <= high
    include : values that must be on the list (a notebook's defaults)

    Returns
    -------
    tuple of float, sorted, without duplicates
    """
    if not (0 < low <= high) or not all(math.isfinite(v) for v in (low, high)):
        raise ValueError(f"log_values needs 0 < low <= high, got low={low!r}, high={high!r}")
    values = set(include)
    for exponent in range(math.floor(math.log10(low)) - 1, math.ceil(math.log10(high)) + 1):
        for mantissa in (1, 2, 3, 5):
            value = float(f"{mantissa}e{exponent}")          # 3e-1 is exactly 0.3, unlike 3 * 10**-1
            if low * (1 - 1e-12) <= value <= high * (1 + 1e-12):
                values.add(value)
    return tuple(sorted(values))


def log_value_slider(value: float, low: float, high: float, description: str) -> widgets.SelectionSlider:
    """A released-value slider over :func:`log_values` (``low`` .. ``high``) that contains ``value``."""
    options = [(f"{v:g}", v) for v in log_values(low, high, include=(value,))]
    return widgets.SelectionSlider(options=options, value=value, description=tr(description),
                                   continuous_update=False, style=_STYLE)


@contextlib.contextmanager
def quietly(owner: Any) -> Iterator[None]:
    """While inside, ``owner._suspended`` is True, so ``owner``'s observers return at once: several
    controls change and the owner runs once afterwards (a preset, a reset)."""
    owner._suspended = True
    try:
        yield
    finally:
        owner._suspended = False


def set_values(owner: Any, controls: Mapping[str, Any], values: Mapping[str, Any]) -> None:
    """Set ``controls[name].value`` for every ``name`` in ``values`` without triggering ``owner``."""
    with quietly(owner):
        for name, value in values.items():
            controls[name].value = value


def accepted_values(widget: Any) -> tuple | None:
    """What a control can be set to: its option values (a selection), its (min, max) range (a slider),
    or None (anything, e.g. a text box). A log slider's range is in values, not exponents."""
    options = getattr(widget, "options", None)
    if options is not None:
        return ("one of", tuple(o[1] if isinstance(o, tuple) else o for o in options))
    if hasattr(widget, "min") and hasattr(widget, "max"):
        if hasattr(widget, "base"):                            # FloatLogSlider: min/max are exponents
            return ("between", widget.base ** widget.min, widget.base ** widget.max)
        return ("between", widget.min, widget.max)
    return None


def _accepts(allowed: tuple, value: Any) -> bool:
    if allowed[0] == "one of":
        return value in allowed[1]                 # what a selection widget itself compares with ==
    try:
        return allowed[1] - 1e-12 <= value <= allowed[2] + 1e-12
    except TypeError:
        return False


def _describe(allowed: tuple) -> str:
    if allowed[0] == "one of":
        return "one of " + ", ".join(_short(v) for v in allowed[1])
    return f"{_short(allowed[1])} .. {_short(allowed[2])}"


def _label(widget: Any, name: str) -> str:
    return getattr(widget, "description", "") or name


def _short(value: Any) -> str:
    if isinstance(value, float):
        return "∞" if value == float("inf") else f"{value:g}"
    return str(value)


def describe_changes(values: Mapping[str, Any], defaults: Mapping[str, Any],
                     labels: Mapping[str, str] | None = None) -> str:
    """One line: "the notebook's defaults", or "changed: E 1 → 5, client learning rate 0.1 → 1"."""
    labels = labels or {}
    changed = [f"{labels.get(name, name)} {_short(defaults[name])} → {_short(value)}"
               for name, value in values.items() if name in defaults and value != defaults[name]]
    return tr("changed: {changes}").format(changes=", ".join(changed)) if changed else tr("the notebook's defaults")


class ControlPanel:
    """Controls, presets, reset, a busy line and the callback's output, as one widget.

    Parameters
    ----------
    callback : function
        Called as ``callback(**values)`` with one keyword per control; what it prints or draws goes
        to the panel's output area.
    controls : dict of name -> ipywidgets widget with a ``value``
        Their values when the panel is made are the defaults that reset restores.
    presets : dict of preset name -> dict of control values, optional
        Each preset starts from the defaults and changes only what it names.
    run_now : bool
        Call the callback once at once (True), so the panel opens with its figure.

    Attributes
    ----------
    generation : int, completed calls of the callback (the browser tests watch it)
    last_result : what the last successful call returned
    seconds : float, how long the last call took
    """

    def __init__(self, callback: Callable[..., Any], controls: Mapping[str, widgets.Widget], *,
                 presets: Mapping[str, Mapping[str, Any]] | None = None, run_now: bool = True):
        self.callback = callback
        self.controls = dict(controls)
        self.presets = {name: dict(values) for name, values in (presets or {}).items()}
        self.defaults = {name: widget.value for name, widget in self.controls.items()}
        for name, values in self.presets.items():
            unknown = set(values) - set(self.controls)
            if unknown:
                raise ValueError(f"preset {name!r} sets {sorted(unknown)}, which are not controls: "
                                 f"{sorted(self.controls)}")
            for control, value in values.items():
                allowed = accepted_values(self.controls[control])
                if allowed is not None and not _accepts(allowed, value):
                    raise ValueError(f"preset {name!r} sets {control} = {value!r}, which its control cannot show: "
                                     f"allowed {_describe(allowed)}")
        for widget in self.controls.values():        # a menu made in a notebook's code shows translated too
            if getattr(widget, "description", ""):
                widget.description = tr(widget.description)
        self.generation, self.last_result, self.seconds = 0, None, 0.0
        self._suspended = False
        self.preset = widgets.Dropdown(options=[(tr(name), name) for name in [CUSTOM, *self.presets]], value=CUSTOM,
                                       description=tr("preset"),
                                       style=_STYLE, layout=widgets.Layout(width="max-content"))
        self.reset_button = widgets.Button(description=tr("reset"), icon="undo",
                                           tooltip=tr("back to the notebook's defaults"))
        self.preset.add_class("fl-panel-preset")          # the browser tests find them in either language
        self.reset_button.add_class("fl-panel-reset")
        self.busy = widgets.HTML()
        self.summary = widgets.HTML()
        self.output = widgets.Output()
        header = [self.preset] if self.presets else []
        self.ui = widgets.VBox([widgets.HBox(header + [self.reset_button, self.busy]),
                                widgets.VBox(list(self.controls.values())), self.summary, self.output])
        self.ui.add_class("fl-panel")           # the browser tests find every panel by it
        self.preset.observe(self._on_preset, names="value")
        self.reset_button.on_click(lambda _button: self.reset())
        for widget in self.controls.values():
            widget.observe(self._on_change, names="value")
        if run_now:
            self.update()

    def _repr_mimebundle_(self, **kwargs):
        """The widget in Jupyter; in a static viewer, a line that says what the controls are."""
        bundle = self.ui._repr_mimebundle_(**kwargs)
        names = ", ".join(_label(w, n) for n, w in self.controls.items())
        bundle["text/plain"] = tr("[sliders: {names}; they move when the notebook runs in Jupyter]").format(names=names)
        return bundle

    def values(self) -> dict[str, Any]:
        """The controls' current values."""
        return {name: widget.value for name, widget in self.controls.items()}

    def apply(self, **values: Any) -> None:
        """Set several controls at once, then call the callback once."""
        unknown = set(values) - set(self.controls)
        if unknown:
            raise ValueError(f"apply() got {sorted(unknown)}, which are not controls: {sorted(self.controls)}")
        set_values(self, self.controls, values)
        self.update()

    def reset(self) -> None:
        """Every control back to the notebook's default, and the preset menu to "(custom)"."""
        self._set_preset(CUSTOM)
        self.apply(**self.defaults)

    def _set_preset(self, name: str) -> None:
        with quietly(self):
            self.preset.value = name

    def _on_preset(self, change) -> None:
        if self._suspended or change["new"] not in self.presets:
            return
        self.apply(**{**self.defaults, **self.presets[change["new"]]})

    def _on_change(self, _change) -> None:
        if self._suspended:
            return
        self._set_preset(CUSTOM)
        self.update()

    def update(self) -> Any:
        """Call the callback with the current values; show busy, then the time or the error."""
        values = self.values()
        labels = {name: _label(widget, name) for name, widget in self.controls.items()}
        changes = html.escape(describe_changes(values, self.defaults, labels), quote=False)
        self.summary.value = f'<span class="fl-panel-summary">{changes}</span>'
        running = html.escape(tr("running…"))
        self.busy.value = f'<span class="fl-panel-busy">⏳ {running}</span>'
        start = time.perf_counter()
        self.output.clear_output(wait=True)
        error = None
        with self.output:
            try:
                result = self.callback(**values)
            except (ValueError, TypeError) as exc:        # a combination the method does not allow
                error, result = tr("These settings cannot run: {error}").format(error=exc), None
            except Exception as exc:                      # anything else: say what, keep the page alive
                error, result = tr("The run failed: {error}").format(error=f"{type(exc).__name__}: {exc}"), None
            if error:
                print(error)
        self.seconds = time.perf_counter() - start
        self.generation += 1
        if error is None:
            self.last_result = result
        state = tr("error") if error else tr("done in {seconds} s").format(seconds=f"{self.seconds:.2f}")
        self.busy.value = (f'<span class="fl-panel-busy" data-generation="{self.generation}">'
                           f"{html.escape(state)}</span>")
        return result


# -- notebook 00's environment check: the smallest panel there is --------------------------------------

#: presets of notebook 00's environment check
ENVIRONMENT_PRESETS = {N_("one client holds everything: K = 1"): {"clients": 1},
                       N_("a hundred clients: K = 100"): {"clients": 100}}


def show_examples_per_client(clients: int, n_train: int = 800) -> int:
    """Notebook 00's environment check: print how many of the ``n_train`` training examples each of
    ``clients`` clients would hold (an even split, rounded down) and return it."""
    if isinstance(clients, bool) or not isinstance(clients, int) or not 1 <= clients <= n_train:
        raise ValueError(f"clients must be an integer in 1 .. {n_train}, got {clients!r}")
    share = n_train // clients
    print(tr("{clients} clients would each hold about {share} of the {total} training examples").format(
        clients=clients, share=share, total=n_train))
    return share
