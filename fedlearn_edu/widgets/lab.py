"""The interactive lab of notebook 06: every parameter of the article's method on one screen.

Three layers, so that each can be tested on its own:

* :func:`run_lab` (plain function): settings in, numbers out (:class:`LabResult`);
* :func:`draw_lab` and :func:`lab_summary`: a LabResult in, a figure and a text out;
* :class:`FederatedLab`: the ipywidgets dashboard that reads its controls, calls the
  two and shows the result. It re-runs when a control is *released*
  (``continuous_update=False``), always from the current value of every control, so
  the figure on screen belongs to the last values even after fast repeated moves;
  a failing or diverging run shows a readable message in the output area.
"""
from __future__ import annotations

import dataclasses
import functools
import html
import time
import traceback
from dataclasses import dataclass

import numpy as np

from .._validate import check_choice, check_float, check_int, check_positive, check_seed
from ..algorithms import ALGORITHMS as REGISTRY
from ..algorithms import algorithm_changes
from ..batch import run_experiments
from ..data import DATASETS, cached_dataset
from ..i18n import N_, tr, tr_figure
from ..model import set_weights
from ..simulation import FLConfig, History, Simulation
from ..style import pyplot
from .classroom import describe_changes, log_value_slider, quietly, set_values

#: the lab's menu: the registry's algorithms without SCAFFOLD (notebook 11 has it)
ALGORITHMS = ("FedSGD", "FedAvg", "FedAvgM", "FedProx", "FedAdam", "FedYogi", "FedAdagrad")
LAB_PARTITIONS = ("iid", "dirichlet", "shards")
BATCH_SIZES = (1, 2, 4, 8, 16, 32, 64, 128, "full")
TARGET_ACCURACY = {"article": 0.85, "digits": 0.90, "breast_cancer": 0.95}


@dataclass(frozen=True)
class LabSettings:
    """The values of the lab's controls (defaults: the article's experiment with FedAvg)."""

    algorithm: str = "FedAvg"
    dataset: str = "article"
    n_clients: int = 10
    fraction: float = 1.0
    local_epochs: int = 1
    batch_size: int | str = 32
    client_learning_rate: float = 0.1
    server_learning_rate: float = 1.0
    server_momentum: float = 0.9
    mu: float = 0.1
    partition: str = "iid"
    alpha: float = 0.5
    rounds: int = 20
    seed: int = 0

    def __post_init__(self):
        check_choice("algorithm", self.algorithm, ALGORITHMS)
        check_choice("dataset", self.dataset, DATASETS)
        check_int("n_clients", self.n_clients, minimum=1, maximum=100)
        check_float("fraction", self.fraction, low=0.0, high=1.0, low_inclusive=False)
        check_int("local_epochs", self.local_epochs, minimum=1)
        if self.batch_size != "full":
            check_int("batch_size", self.batch_size, minimum=1)
        check_positive("client_learning_rate", self.client_learning_rate)
        check_positive("server_learning_rate", self.server_learning_rate)
        check_float("server_momentum", self.server_momentum, low=0.0, high=1.0, high_inclusive=False)
        check_float("mu", self.mu, low=0.0)
        check_choice("partition", self.partition, LAB_PARTITIONS)
        check_positive("alpha", self.alpha)
        check_int("rounds", self.rounds, minimum=1)
        check_seed("seed", self.seed)


def settings_to_config(settings: LabSettings) -> FLConfig:
    """Translate the lab's algorithm menu into an :class:`FLConfig` (the changes each
    algorithm makes come from :data:`fedlearn_edu.algorithms.ALGORITHMS`)."""
    s = settings
    batch = None if s.batch_size == "full" else int(s.batch_size)
    common = dict(n_clients=s.n_clients, rounds=s.rounds, fraction=s.fraction, local_epochs=s.local_epochs,
                  batch_size=batch, client_learning_rate=s.client_learning_rate,
                  server_learning_rate=s.server_learning_rate, partition=s.partition, alpha=s.alpha,
                  dataset=s.dataset, seed=s.seed)
    knobs = {"mu": s.mu, "server_momentum": s.server_momentum}
    changes = algorithm_changes(s.algorithm, **{k: v for k, v in knobs.items() if k in REGISTRY[s.algorithm].knobs})
    return FLConfig(**{**common, "server_momentum": s.server_momentum, **changes})


@dataclass
class LabResult:
    """Everything the dashboard shows for one setting.

    Attributes
    ----------
    settings : LabSettings
    config : FLConfig actually run
    history : History of the federated run
    baseline : History of centralised training (one client, same data, same client learning rate)
    client_accuracy : ndarray (K,), the final global model's accuracy on each client's own data
    target : float, the accuracy target of the summary
    seconds : float, compute time of the federated run
    """

    settings: LabSettings
    config: FLConfig
    history: History
    baseline: History
    client_accuracy: np.ndarray
    target: float
    seconds: float

    @property
    def target_round(self) -> int | None:
        return self.history.rounds_to_accuracy(self.target)


@functools.lru_cache(maxsize=64)
def _baseline(dataset: str, rounds: int, client_learning_rate: float, batch_size, seed: int) -> History:
    config = FLConfig(n_clients=1, rounds=rounds, client_learning_rate=client_learning_rate,
                      batch_size=batch_size, dataset=dataset, seed=seed)
    return Simulation(config, dataset=cached_dataset(dataset)).run()


def run_lab(settings: LabSettings | None = None, **changes) -> LabResult:
    """Run the lab's experiment for ``settings`` (or the defaults with ``changes``).

    The centrally trained baseline (all data on one machine, same learning rate and
    batch size, one epoch per round) is cached, so moving a federation slider does not
    retrain it.
    """
    settings = dataclasses.replace(settings or LabSettings(), **changes)
    config = settings_to_config(settings)
    dataset = cached_dataset(settings.dataset)
    t0 = time.perf_counter()
    simulation = Simulation(config, dataset=dataset)
    history = simulation.run()
    seconds = time.perf_counter() - t0
    set_weights(simulation.model, history.final_weights)
    predicted = np.argmax(simulation.model.predict_on_batch(dataset.X_train), axis=1)
    correct = predicted == dataset.y_train
    client_accuracy = np.array([correct[idx].mean() for idx in simulation.partitions])
    baseline = _baseline(settings.dataset, settings.rounds, settings.client_learning_rate,
                         config.batch_size, settings.seed)
    return LabResult(settings=settings, config=config, history=history, baseline=baseline,
                     client_accuracy=client_accuracy, target=TARGET_ACCURACY[settings.dataset], seconds=seconds)


def lab_summary(result: LabResult) -> str:
    """A short text: outcome, rounds to target, final accuracy, bytes, against the baseline."""
    h, s = result.history, result.settings
    reached = result.target_round
    split = s.partition + (f" alpha={s.alpha:g}" if s.partition == "dirichlet" else "")
    batch = tr("full") if h.config.batch_size is None else h.config.batch_size
    lines = [tr("{algorithm} on {dataset}: {clients} clients ({per_round} per round), {split}, E={epochs}, B={batch}, "
                "client lr={rate}, {rounds} rounds, seed {seed}").format(
        algorithm=s.algorithm, dataset=s.dataset, clients=s.n_clients, per_round=h.config.clients_per_round,
        split=split, epochs=h.config.local_epochs, batch=batch, rate=f"{s.client_learning_rate:.3g}",
        rounds=s.rounds, seed=s.seed)]
    if h.diverged:
        lines.append(tr("DIVERGED in round {round}: {message}").format(round=h.diverged_at, message=h.message))
    target = f"{result.target:.0%}"
    outcome = (tr("reached {target} in round {round}").format(target=target, round=reached) if reached
               else tr("did not reach {target}").format(target=target))
    lines.append(tr("final test accuracy {accuracy} (centralised baseline {baseline}); {outcome}").format(
        accuracy=f"{h.final_accuracy:.3f}", baseline=f"{result.baseline.final_accuracy:.3f}", outcome=outcome))
    lines.append(tr("clients' accuracy on their own data: min {low}, median {median}, max {high}; "
                    "{megabytes} MB communicated").format(
        low=f"{result.client_accuracy.min():.3f}", median=f"{np.median(result.client_accuracy):.3f}",
        high=f"{result.client_accuracy.max():.3f}", megabytes=f"{h.total_bytes / 1e6:.2f}"))
    return "\n".join(lines)


def draw_lab(result: LabResult, figsize=(10, 6.2), dpi: int = 100):
    """The dashboard's figure: learning curves vs baseline, client accuracy, labels, bytes.

    Drawn with a fixed layout (no ``tight_layout``) and no per-cell annotations: the
    lab redraws it on every slider release, so it must render in tens of milliseconds.
    """
    plt = pyplot()
    from matplotlib.ticker import MaxNLocator

    from ..partition import non_iid_score
    h, base = result.history, result.baseline
    fig, axes = plt.subplots(2, 2, figsize=figsize, dpi=dpi, layout="none")       # a fixed layout: fast
    fig.subplots_adjust(left=0.07, right=0.98, bottom=0.08, top=0.94, wspace=0.22, hspace=0.38)
    ax = axes[0, 0]
    rounds = np.arange(h.rounds_completed + 1)
    ax.plot(rounds, np.r_[h.initial_accuracy, h.accuracy], marker="o", markersize=3, label=tr_figure("federated"))
    ax.plot(np.arange(base.rounds_completed + 1), np.r_[base.initial_accuracy, base.accuracy],
            color="gray", linestyle="--", label=tr_figure("centralised"))
    ax.axhline(result.target, color="C2", linestyle=":", linewidth=1,
               label=tr_figure("target {target}").format(target=f"{result.target:.0%}"))
    if h.diverged:
        ax.axvline(h.diverged_at, color="C3", linewidth=1.5,
                   label=tr_figure("diverged (round {round})").format(round=h.diverged_at))
    ax.set(xlabel=tr_figure("round"), ylabel=tr_figure("test accuracy"), ylim=(0, 1.02),
           title=tr_figure("global model: test accuracy"))
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.legend(loc="lower right")
    ax = axes[0, 1]
    ax.plot(rounds, np.r_[h.initial_loss, h.loss], color="C1", marker="o", markersize=3, label=tr_figure("federated"))
    ax.plot(np.arange(base.rounds_completed + 1), np.r_[base.initial_loss, base.loss], color="gray",
            linestyle="--", label=tr_figure("centralised"))
    ax.set(xlabel=tr_figure("round"), ylabel=tr_figure("test loss"), title=tr_figure("global model: test loss"))
    ax.legend()
    ax = axes[1, 0]
    counts = h.label_counts
    share = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    ax.imshow(share.T, aspect="auto", cmap="Blues", vmin=0, vmax=1, interpolation="nearest")
    ax.set(xlabel=tr_figure("client"), ylabel=tr_figure("class"),
           title=tr_figure("label mix per client (non-IID score {score})").format(score=f"{non_iid_score(counts):.2f}"))
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax = axes[1, 1]
    ax.hist(result.client_accuracy, bins=np.linspace(0, 1, 21), color="C0", alpha=0.8)
    ax.axvline(h.final_accuracy, color="black", linestyle="--", linewidth=1, label=tr_figure("test accuracy"))
    ax.set(xlabel=tr_figure("global model's accuracy on a client's own data"), ylabel=tr_figure("clients"),
           title=tr_figure("spread across clients; {megabytes} MB sent").format(megabytes=f"{h.total_bytes / 1e6:.2f}"))
    ax.legend()
    return fig


def lab_svg(result: LabResult, width: int = 760, height: int = 470) -> str:
    """The same four panels as :func:`draw_lab`, as SVG text (a few ms; the live dashboard uses it)."""
    from ..partition import non_iid_score
    from .svg import PALETTE, Panel, svg_document
    h, base = result.history, result.baseline
    pw, ph = width / 2 - 95, height / 2 - 75
    col, row = (60, width / 2 + 55), (30, height / 2 + 35)
    rounds = np.arange(h.rounds_completed + 1)
    base_rounds = np.arange(base.rounds_completed + 1)
    n_rounds = max(h.config.rounds, 1)
    acc = Panel(col[0], row[0], pw, ph, xlim=(0, n_rounds), ylim=(0, 1), title=tr_figure("global model: test accuracy"),
                xlabel=tr_figure("round"), ylabel=tr_figure("accuracy"))
    acc.line(rounds, np.r_[h.initial_accuracy, h.accuracy], PALETTE[0], tr_figure("federated"), dots=True)
    acc.line(base_rounds, np.r_[base.initial_accuracy, base.accuracy], PALETTE[1], tr_figure("centralised"), dash="5,3")
    acc.hline(result.target, PALETTE[3], tr_figure("target {target}").format(target=f"{result.target:.0%}"))
    if h.diverged:
        acc.vline(h.diverged_at, PALETTE[4], tr_figure("diverged (round {round})").format(round=h.diverged_at))
    losses = np.r_[h.initial_loss, h.loss, base.initial_loss, base.loss]
    finite = losses[np.isfinite(losses)]
    top = float(min(np.max(finite), 10 * np.median(finite))) if finite.size else 1.0
    loss = Panel(col[1], row[0], pw, ph, xlim=(0, n_rounds), ylim=(0, max(top * 1.05, 1e-3)),
                 title=tr_figure("global model: test loss"), xlabel=tr_figure("round"), ylabel=tr_figure("loss"))
    loss.line(rounds, np.r_[h.initial_loss, h.loss], PALETTE[2], tr_figure("federated"), dots=True)
    loss.line(base_rounds, np.r_[base.initial_loss, base.loss], PALETTE[1], tr_figure("centralised"), dash="5,3")
    counts = h.label_counts
    share = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    labels = Panel(col[0], row[1], pw, ph, xlim=(0, counts.shape[0]), ylim=(counts.shape[1], 0),
                   title=tr_figure("label mix per client (non-IID score {score})").format(
                       score=f"{non_iid_score(counts):.2f}"), xlabel=tr_figure("client"), ylabel=tr_figure("class"))
    labels.heatmap(share.T)
    edges = np.linspace(0, 1, 21)
    heights, _ = np.histogram(result.client_accuracy, bins=edges)
    spread = Panel(col[1], row[1], pw, ph, xlim=(0, 1), ylim=(0, max(int(heights.max()), 1) * 1.1),
                   title=tr_figure("clients' accuracy on own data; {megabytes} MB sent").format(
                       megabytes=f"{h.total_bytes / 1e6:.2f}"),
                   xlabel=tr_figure("accuracy"), ylabel=tr_figure("clients"))
    spread.bars(edges, heights, PALETTE[0])
    spread.vline(h.final_accuracy, "#000", tr_figure("test accuracy"))
    class_ticks = [(c + 0.5, str(c)) for c in range(counts.shape[1])] if counts.shape[1] <= 10 else []
    return svg_document(width, height, [
        acc.render(), loss.render(),
        labels.render(xticks=[], yticks=class_ticks), spread.render()])


PRESETS: dict[str, dict] = {
    N_("article defaults: 10 IID clients, FedAvg"): {},
    N_("IID vs non-IID: Dirichlet α_D = 0.1"): dict(partition="dirichlet", alpha=0.1),
    N_("pathological non-IID: 2 shards per client (digits)"): dict(dataset="digits", partition="shards",
                                                               n_clients=50, fraction=0.2, rounds=40),
    N_("too high a learning rate: client lr = 10"): dict(client_learning_rate=10.0),
    N_("momentum rescues non-IID: FedAvgM beta = 0.9 on shards"): dict(
        algorithm="FedAvgM", dataset="digits", partition="shards", n_clients=50, fraction=0.2, rounds=40,
        server_momentum=0.9, server_learning_rate=1.0),
    N_("FedSGD: one full-batch step per round"): dict(algorithm="FedSGD", rounds=50),
    N_("more local work: E = 5, B = 8"): dict(local_epochs=5, batch_size=8),
    N_("hospitals: breast cancer, 5 sites, label skew"): dict(dataset="breast_cancer", n_clients=5,
                                                         partition="dirichlet", alpha=0.3),
    N_("adaptive server: FedAdam on non-IID digits"): dict(algorithm="FedAdam", dataset="digits",
                                                      partition="dirichlet", alpha=0.1, n_clients=30,
                                                      server_learning_rate=0.03, rounds=40),
}


class FederatedLab:
    """The dashboard. ``FederatedLab().ui`` is the widget to display.

    Attributes
    ----------
    controls : dict of name -> widget
    figure : ipywidgets.HTML with the four panels as SVG
    output : ipywidgets.Output for anything else
    summary : ipywidgets.HTML with the text summary
    generation : int, number of completed redraws (the browser tests watch it)
    last_result : LabResult or None
    """

    def __init__(self, settings: LabSettings | None = None):
        import ipywidgets as w

        from . import float_slider, int_slider
        settings = settings or LabSettings()
        self.defaults = dataclasses.asdict(settings)          # what *reset* returns to
        self.generation = 0
        self.last_result: LabResult | None = None
        self._suspended = False
        style = {"description_width": "140px"}
        layout = w.Layout(width="330px")
        c = self.controls = {
            "preset": w.Dropdown(options=[(tr(name), name) for name in ["(custom)", *PRESETS]], value="(custom)",
                                 description=tr("preset")),
            "algorithm": w.Dropdown(options=ALGORITHMS, value=settings.algorithm, description=tr("algorithm"),
                                    tooltip=REGISTRY[settings.algorithm].description),
            "dataset": w.Dropdown(options=DATASETS, value=settings.dataset, description=tr("data set")),
            "n_clients": int_slider(settings.n_clients, 1, 100, "clients K"),
            "fraction": float_slider(settings.fraction, 0.05, 1.0, "fraction C per round", step=0.05),
            "local_epochs": int_slider(settings.local_epochs, 1, 20, "local epochs E"),
            "batch_size": w.SelectionSlider(options=list(BATCH_SIZES), value=settings.batch_size,
                                            description=tr("batch size B"), continuous_update=False),
            # log sliders over 1-2-3-5 per decade that hold the default: they return to it exactly
            "client_learning_rate": log_value_slider(settings.client_learning_rate, 0.001, 10.0,
                                                     "client learning rate η_l"),
            "server_learning_rate": log_value_slider(settings.server_learning_rate, 0.001, 10.0,
                                                     "server learning rate η_g"),
            "server_momentum": float_slider(settings.server_momentum, 0.0, 0.99, "server momentum β", step=0.01),
            "mu": float_slider(settings.mu, 0.0, 1.0, "FedProx μ", step=0.01),
            "partition": w.Dropdown(options=LAB_PARTITIONS, value=settings.partition, description=tr("partition")),
            "alpha": log_value_slider(settings.alpha, 0.01, 100.0, "Dirichlet α_D"),
            "rounds": int_slider(settings.rounds, 1, 100, "rounds R"),
            "seed": int_slider(settings.seed, 0, 20, "seed"),
        }
        for widget in c.values():
            widget.style = style
            widget.layout = layout
        self.output = w.Output()          # error details and anything printed
        self.figure = w.HTML()            # the four panels, as SVG (see lab_svg)
        self.summary = w.HTML()
        self.status = w.HTML()
        self.changes = w.HTML()           # one line: what differs from the defaults
        self.reset_button = w.Button(description=tr("reset"), icon="undo", tooltip=tr("back to the defaults"))
        self.reset_button.on_click(lambda _button: self.reset())
        groups = [(tr("Algorithm"), ["preset", "algorithm"]),
                  (tr("Federation"), ["n_clients", "fraction", "rounds", "seed"]),
                  (tr("Local training"), ["local_epochs", "batch_size", "client_learning_rate", "mu"]),
                  (tr("Server"), ["server_learning_rate", "server_momentum"]),
                  (tr("Data"), ["dataset", "partition", "alpha"])]
        column = [self.reset_button]
        for title, names in groups:
            column.append(w.HTML(f"<b>{title}</b>"))
            column.extend(c[n] for n in names)
        self.ui = w.HBox([w.VBox(column, layout=w.Layout(min_width="340px")),
                          w.VBox([self.changes, self.summary, self.figure, self.status, self.output])])
        self.ui.add_class("fl-lab")       # the browser tests find the dashboard's own controls by it
        for name, widget in c.items():
            widget.observe(self._on_preset if name == "preset" else self._on_change, names="value")
        self._sync_enabled()
        self.update()

    def _repr_mimebundle_(self, **kwargs):
        """Display as the dashboard; the plain-text form is one short line."""
        bundle = self.ui._repr_mimebundle_(**kwargs)
        bundle["text/plain"] = f"FederatedLab({len(self.controls)} controls)"
        return bundle

    # -- reading and writing the controls ---------------------------------------------
    def settings(self) -> LabSettings:
        """The current values of all controls."""
        values = {name: widget.value for name, widget in self.controls.items() if name != "preset"}
        return LabSettings(**values)

    def apply(self, **values) -> None:
        """Set several controls at once and re-run once (used by presets and tests)."""
        set_values(self, self.controls, values)
        self._sync_enabled()
        self.update()

    def reset(self) -> None:
        """Every control back to the dashboard's defaults, the preset menu to "(custom)", and one run."""
        with quietly(self):
            self.controls["preset"].value = "(custom)"
        self.apply(**self.defaults)

    def _sync_enabled(self):
        algorithm = self.controls["algorithm"].value
        self.controls["algorithm"].tooltip = REGISTRY[algorithm].description
        self.controls["mu"].disabled = "mu" not in REGISTRY[algorithm].knobs
        self.controls["server_momentum"].disabled = "server_momentum" not in REGISTRY[algorithm].knobs
        self.controls["local_epochs"].disabled = "local_epochs" in REGISTRY[algorithm].changes
        self.controls["batch_size"].disabled = "batch_size" in REGISTRY[algorithm].changes
        self.controls["alpha"].disabled = self.controls["partition"].value != "dirichlet"

    def _on_preset(self, change):
        if change["new"] in PRESETS:
            values = dataclasses.asdict(LabSettings())
            values.update(PRESETS[change["new"]])
            self.apply(**values)

    def _on_change(self, change):
        if self._suspended:
            return
        if self.controls["preset"].value != "(custom)":
            with quietly(self):
                self.controls["preset"].value = "(custom)"
        self._sync_enabled()
        self.update()

    # -- running and drawing ----------------------------------------------------------
    def update(self) -> LabResult | None:
        """Run for the current controls and redraw; errors are shown, never raised."""
        values = {name: widget.value for name, widget in self.controls.items() if name != "preset"}
        labels = {name: widget.description for name, widget in self.controls.items()}
        self.changes.value = (f'<span class="fl-lab-changes">'
                              f'{html.escape(describe_changes(values, self.defaults, labels), quote=False)}</span>')
        running = tr("running…")
        self.status.value = (f'<span class="fl-lab-status" data-generation="{self.generation}">'
                             f"⏳ {html.escape(running)}</span>")
        try:
            settings = self.settings()
            result = run_lab(settings)
            svg = lab_svg(result)
        except (ValueError, TypeError) as exc:
            self._show_error(tr("These settings cannot run: {error}").format(error=exc))
            return None
        except Exception as exc:  # keep any other failure visible in the output area
            self._show_error(tr("The run failed: {error}").format(error=f"{type(exc).__name__}: {exc}"),
                             traceback.format_exc())
            return None
        self.generation += 1
        self.last_result = result
        text = html.escape(lab_summary(result)).replace("\n", "<br>")
        color = "#b00020" if result.history.diverged else "#1b5e20"
        self.summary.value = f'<div class="fl-lab-summary" style="color:{color}">{text}</div>'
        self.status.value = (f'<span class="fl-lab-status" data-generation="{self.generation}">'
                             + html.escape(tr("run {generation}: computed in {milliseconds} ms").format(
                                 generation=self.generation, milliseconds=f"{1e3 * result.seconds:.0f}"))
                             + "</span>")
        self.figure.value = svg.replace('class="fl-lab-figure"',
                                        f'class="fl-lab-figure" data-generation="{self.generation}"')
        if self.output.outputs:
            self.output.clear_output()
        return result

    def _show_error(self, message: str, details: str | None = None):
        self.generation += 1
        self.last_result = None
        extra = f"<pre>{html.escape(details)}</pre>" if details else ""
        self.summary.value = (f'<div class="fl-lab-error" style="color:#b00020"><b>{html.escape(message)}</b>'
                              f"{extra}</div>")
        self.status.value = (f'<span class="fl-lab-status" data-generation="{self.generation}">'
                             + html.escape(tr("run {generation}: error").format(generation=self.generation))
                             + "</span>")
        self.figure.value = ""
        if self.output.outputs:
            self.output.clear_output()


# -- the article's listing, made to run (the TFF-equivalent cell) -------------------------------------

#: classroom presets of the listing panel (each changes only what it names)
LISTING_PRESETS: dict[str, dict] = {
    N_("FedAvg's server step: η_g = 1"): dict(server_learning_rate=1.0),
    N_("a larger client step: η_l = 0.1"): dict(client_learning_rate=0.1),
    N_("both as FedAvg: η_l = 0.1, η_g = 1"): dict(client_learning_rate=0.1, server_learning_rate=1.0),
    N_("fifty rounds of the listing"): dict(rounds=50),
}


def show_listing(n_clients: int = 5, rounds: int = 10, client_learning_rate: float = 0.01,
                 server_learning_rate: float = 0.01) -> tuple[History, History]:
    """Slider callback of notebook 06's listing cell: the listing's learning rates against FedAvg's usual
    ones (η_l = 0.1, η_g = 1) on the same IID clients and rounds; prints both, draws both curves.

    Runs two experiments: ``FLConfig(n_clients, rounds, client_learning_rate, server_learning_rate)`` and the
    same with ``client_learning_rate=0.1, server_learning_rate=1.0``.

    Returns
    -------
    (History of the listing's settings, History of FedAvg's)
    """
    listing = FLConfig(n_clients=check_int("n_clients", n_clients, minimum=1),
                       rounds=check_int("rounds", rounds, minimum=1),
                       client_learning_rate=check_positive("client_learning_rate", client_learning_rate),
                       server_learning_rate=check_positive("server_learning_rate", server_learning_rate))
    usual = listing.replace(client_learning_rate=0.1, server_learning_rate=1.0)
    histories = run_experiments([listing, usual], progress=False)          # both in one batched call
    labels = (tr("listing: η_l = {client}, η_g = {server}").format(client=f"{client_learning_rate:g}",
                                                                   server=f"{server_learning_rate:g}"),
              "FedAvg: η_l = 0.1, η_g = 1")
    for label, h in zip(labels, histories, strict=True):
        state = (tr("diverged in round {round}").format(round=h.diverged_at) if h.diverged
                 else tr("test accuracy {accuracy}").format(accuracy=f"{h.final_accuracy:.3f}"))
        print(label + tr(": ") + state)
    plt = pyplot()
    _, ax = plt.subplots(figsize=(6, 3.2))
    figure_labels = (tr_figure("listing: η_l = {client}, η_g = {server}").format(
        client=f"{client_learning_rate:g}", server=f"{server_learning_rate:g}"), labels[1])
    for label, h in zip(figure_labels, histories, strict=True):
        ax.plot(np.arange(h.rounds_completed + 1), np.r_[h.initial_accuracy, h.accuracy], marker="o", markersize=3,
                label=label)
    ax.set(xlabel=tr_figure("round"), ylabel=tr_figure("test accuracy"), ylim=(0, 1),
           title=tr_figure("{clients} IID clients, {rounds} rounds").format(clients=n_clients, rounds=rounds))
    ax.legend()
    ax.grid(alpha=0.3)
    plt.show()
    return histories
