"""How fast does a whole federated experiment run? Four ways, one process.

    python benchmarks/bench_engine.py            # everything (the model.fit loop at 100 clients takes minutes)
    python benchmarks/bench_engine.py --quick    # skip the model.fit loop at 100 clients

Workload (the article's): 1,000 samples, 20 features, 3 classes, 80/20 split, the
article's Keras model, E = 1, B = 32, client learning rate 0.1, all clients every
round, 20 rounds; 10 and 100 IID clients. Prints a table and writes
benchmarks/results.md. Timings are wall-clock medians after one warm-up run;
ratios are taken within this one run, since the machine is noisy.
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

import fedlearn_edu as fl  # imported before Keras is used: it quiets TensorFlow
from fedlearn_edu.reference import run_fedavg  # the readable NumPy FedAvg, the speed yardstick
from fedlearn_edu.vectorized import Architecture, tracing_count

HERE = Path(__file__).resolve().parent

ROUNDS = 20


def timed(fn, repeats):
    fn()  # warm-up (tracing, caches)
    times, result = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


def fit_loop(ds, partitions, initial_weights, rounds=ROUNDS):
    """The slow classic: a Keras model.fit call per client per round."""
    import keras
    model = fl.build_article_model()
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="sparse_categorical_crossentropy")
    w_global = [w.copy() for w in initial_weights]
    acc = None
    for _ in range(rounds):
        models, sizes = [], []
        for idx in partitions:
            fl.set_weights(model, w_global)
            model.fit(ds.X_train[idx], ds.y_train[idx], epochs=1, batch_size=32, verbose=0)
            models.append(fl.get_weights(model))
            sizes.append(len(idx))
        w_global = fl.weighted_average(models, sizes)
    fl.set_weights(model, w_global)
    acc = float(np.mean(np.argmax(model.predict(ds.X_test, verbose=0), axis=1) == ds.y_test))
    return acc


def rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS"):
                return int(line.split()[1]) / 1024
    return float("nan")


def import_cost(repeats=3):
    def t(code):
        out = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)
            out.append(time.perf_counter() - t0)
        return statistics.median(out)
    env_code = "import os; os.environ['TF_CPP_MIN_LOG_LEVEL']='3'; os.environ['TF_ENABLE_ONEDNN_OPTS']='0'; "
    return t(env_code + "import tensorflow"), t("import fedlearn_edu")


SCALE_CODE = r"""
import resource, time
from sklearn.datasets import make_classification
import fedlearn_edu as fl
X, y = make_classification(n_samples=125000, n_features=20, n_informative=5, n_redundant=5,
                           n_classes=3, n_clusters_per_class=1, random_state=0)
ds = fl.split_and_standardise(X, y, test_size=0.2, name="generated-100k")
sim = fl.Simulation(fl.FLConfig(n_clients=1000, rounds=50), dataset=ds)
t0 = time.perf_counter(); h = sim.run(); first = time.perf_counter() - t0
t0 = time.perf_counter(); h = sim.run(); second = time.perf_counter() - t0
print(first, second, h.final_accuracy, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
"""


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="skip the model.fit loop at 100 clients")
    parser.add_argument("--repeats", type=int, default=11, help="timed repeats of the fast paths")
    args = parser.parse_args(argv)
    ds = fl.load_dataset("article")
    lines = ["# Engine benchmark\n", f"Machine: {os.cpu_count()} CPUs, Python {platform.python_version()}, "
             f"TensorFlow {fl.versions()['tensorflow']}. Workload: the article's data and model, E=1, B=32, "
             f"client lr 0.1, all clients, {ROUNDS} rounds. Medians after a warm-up run.\n"]
    table = ["| clients | path | wall time (s) | ms per round | final accuracy | time / vectorised |",
             "|---|---|---|---|---|---|"]
    for n_clients in (10, 100):
        config = fl.FLConfig(n_clients=n_clients, rounds=ROUNDS)
        vec = fl.Simulation(config.replace(engine="vectorized"), dataset=ds)
        per = fl.Simulation(config.replace(engine="per_client"), dataset=ds)
        rows = []
        t_vec, h_vec = timed(vec.run, args.repeats)
        rows.append(("vectorised engine (one compiled run)", t_vec, h_vec.final_accuracy))
        t_per, h_per = timed(per.run, max(1, args.repeats // 2))
        rows.append(("compiled step per client", t_per, h_per.final_accuracy))
        t_np, (_, acc_np) = timed(lambda sim=vec: run_fedavg(
            ds.X_train, ds.y_train, ds.X_test, ds.y_test, sim.partitions, sim.initial_weights,
            rounds=ROUNDS), args.repeats)
        rows.append(("plain NumPy reference", t_np, acc_np[-1]))
        if not (args.quick and n_clients == 100):
            t0 = time.perf_counter()
            acc_fit = fit_loop(ds, vec.partitions, vec.initial_weights)
            rows.append(("Keras model.fit per client per round", time.perf_counter() - t0, acc_fit))
        for name, seconds, acc in rows:
            table.append(f"| {n_clients} | {name} | {seconds:.4f} | {1e3 * seconds / ROUNDS:.2f} | "
                         f"{acc:.3f} | {seconds / t_vec:.1f}x |")
        print("\n".join(table[-len(rows):]), flush=True)
    lines += ["## Whole run, 20 rounds\n", *table, ""]

    # slider moves: change one parameter at a time and re-run (Simulation built anew, as a widget does)
    arch = Architecture((20, 64, 3), ("relu",))
    base = fl.FLConfig()
    fl.run_experiment(base, dataset=ds)
    traces_before = tracing_count(arch)
    changes = [dict(n_clients=100), dict(n_clients=1), dict(n_clients=37), dict(rounds=40), dict(local_epochs=3),
               dict(batch_size=8), dict(batch_size=None), dict(client_learning_rate=0.02),
               dict(server_learning_rate=0.5), dict(server_optimizer="fedavgm", server_momentum=0.5),
               dict(mu=0.1), dict(partition="dirichlet", alpha=0.1), dict(partition="dirichlet", alpha=5.0),
               dict(fraction=0.2), dict(seed=5), dict(server_optimizer="fedadam"), dict(scaffold=True),
               dict(dropout=0.3, deadline=2.0, straggler_policy="partial")]
    change_rows = ["| change | re-run (ms) |", "|---|---|"]
    for change in changes:
        t0 = time.perf_counter()
        fl.run_experiment(base.replace(**change), dataset=ds)
        ms = 1e3 * (time.perf_counter() - t0)
        change_rows.append(f"| {', '.join(f'{k}={v}' for k, v in change.items())} | {ms:.1f} |")
    new_traces = tracing_count(arch) - traces_before
    print("\n".join(change_rows), f"\nnew traces after all changes: {new_traces}", flush=True)
    lines += ["## Re-run after a slider move (new Simulation, no new trace)\n", *change_rows,
              f"\nNew traces after all {len(changes)} changes: {new_traces}.\n"]

    # memory over 200 back-to-back runs
    sim = fl.Simulation(base, dataset=ds)
    sim.run()
    rss1 = rss_mb()
    for _ in range(199):
        sim.run()
    rss200 = rss_mb()
    mem = f"Resident memory after run 1: {rss1:.0f} MB; after run 200: {rss200:.0f} MB."
    print(mem, flush=True)
    lines += ["## Memory\n", mem, ""]

    # sweeps: many experiments in one batched call (fl.run_experiments) against one after another
    lines += sweep_section(ds, args.repeats)

    # scale, in a fresh process so that its peak memory is its own
    out = subprocess.run([sys.executable, "-c", SCALE_CODE], check=True, capture_output=True, text=True)
    first, second, acc, peak = map(float, out.stdout.split())
    scale = (f"1,000 clients on 100,000 generated samples, 50 rounds: {second:.2f} s "
             f"(first run with tracing {first:.2f} s), final accuracy {acc:.3f}, peak memory {peak:.0f} MB.")
    print(scale, flush=True)
    lines += ["## Scale\n", scale, ""]

    tf_s, kit_s = import_cost()
    imp = f"Import: tensorflow {tf_s:.2f} s, fedlearn_edu {kit_s:.2f} s (difference {kit_s - tf_s:+.2f} s)."
    print(imp)
    lines += ["## Import cost\n", imp, ""]
    write_results(lines)
    print(f"written {HERE / 'results.md'}")


def write_results(lines: list[str]) -> None:
    """results.md: this benchmark's sections, then the slider benchmark's sections (bench_sliders.py) kept."""
    path = HERE / "results.md"
    old = path.read_text(encoding="utf-8") if path.exists() else ""
    cut = old.find("\n## Sliders")
    kept = old[cut:] if cut >= 0 else ""
    path.write_text("\n".join(lines) + "\n" + kept, encoding="utf-8")


#: the four algorithms of the sweep benchmark
SWEEP_ALGORITHMS = {"FedAvg": {}, "FedProx": dict(mu=0.1), "FedAvgM": dict(server_optimizer="fedavgm",
                                                                           server_momentum=0.9),
                    "SCAFFOLD": dict(scaffold=True)}


def sweep_section(ds, repeats: int) -> list[str]:
    """4 algorithms x 5 seeds x 20 rounds x 100 clients: one run, the sweep one run after another,
    and the sweep in one batched call; then the memory over 200 batched sweeps."""
    base = fl.FLConfig(n_clients=100, rounds=ROUNDS)
    configs = [base.replace(seed=s, **changes) for changes in SWEEP_ALGORITHMS.values() for s in range(5)]
    t_one, _ = timed(lambda: fl.run_experiment(base, dataset=ds, progress=False), repeats)
    t_seq, _ = timed(lambda: [fl.run_experiment(c, dataset=ds, progress=False) for c in configs], 3)
    t_bat, histories = timed(lambda: fl.run_experiments(configs, dataset=ds, progress=False), 3)
    gap = max(float(np.max(np.abs(a - b))) for c, h in zip(configs[::5], histories[::5], strict=True)
              for a, b in zip(h.final_weights, fl.run_experiment(c, dataset=ds, progress=False).final_weights,
                              strict=True))
    rows = ["| path | wall time (s) | time / one run |", "|---|---|---|",
            f"| one run (FedAvg, 100 clients) | {t_one:.3f} | 1.0x |",
            f"| the 20 runs one after another | {t_seq:.3f} | {t_seq / t_one:.1f}x |",
            f"| the 20 runs in one batched sweep (fl.run_experiments) | {t_bat:.3f} | {t_bat / t_one:.1f}x |"]
    small = [fl.FLConfig(seed=s, **changes) for changes in SWEEP_ALGORITHMS.values() for s in range(5)]
    fl.run_experiments(small, dataset=ds, progress=False)
    rss1 = rss_mb()
    for _ in range(199):
        fl.run_experiments(small, dataset=ds, progress=False)
    rss200 = rss_mb()
    text = [f"Target (issue 17): the sweep at most 20x one run. Measured: {t_bat / t_one:.1f}x "
            f"(one after another: {t_seq / t_one:.1f}x). A batched run's weights differ from its single run's by at "
            f"most {gap:.1e} (one run per algorithm here; tests/test_batch.py checks every run of mixed sweeps "
            f"against 1e-5).", "",
            f"Memory over 200 batched sweeps (4 algorithms x 5 seeds, 10 clients): resident memory after sweep 1 "
            f"{rss1:.0f} MB, after sweep 200 {rss200:.0f} MB."]
    print("\n".join(rows + text), flush=True)
    return ["## Sweeps: 4 algorithms x 5 seeds x 20 rounds x 100 clients\n", *rows, "", *text, ""]


if __name__ == "__main__":
    main()
