# ---
# jupyter:
#   jupytext:
#     formats: ipynb,src//py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 15 · Appendix: how the kit is built
#
# **What you will learn**
# - why the kit has two engines, a readable one that trains client after client and a fast one that trains all
#   clients of a round at once, and that they compute the same FedAvg and the same SCAFFOLD;
# - what "traced once" means for a compiled TensorFlow function, and why moving a slider does not trace again;
# - how a sweep avoids running the same experiment twice (a cache keyed on the frozen `FLConfig`);
# - where the one round body and its hooks are, and how bad input is refused with a readable message.
#
# **Article section:** *4. 具体代码实例和详细解释说明* ("4. Concrete code example and detailed explanation"). The
# article's listing does not run (notebook 06); this appendix shows how the code that replaces it is organised.
# None of it is needed for the lessons: read it when you want to change the kit, or wonder why a slider is fast.
#
# **Time:** about 10 minutes, plus about 10 for the exercises · appendix (after the course: notebooks 00–14).
#
# **Prerequisites:** [04 · FedAvg step by step](04_fedavg_step_by_step.ipynb) (one round by hand) and, for the
# SCAFFOLD section, [11 · Non-IID algorithms](11_non_iid_algorithms.ipynb). Symbols as in the
# [glossary](GLOSSARY.md): K clients, R rounds, η_l, α_D.

# %%
# NBVAL_IGNORE_OUTPUT
import inspect
import textwrap
import time

import fedlearn_edu as fl
import numpy as np
from fedlearn_edu.vectorized import Architecture, tracing_count
from fedlearn_edu.widgets import non_iid

fl.set_seed(42)
fl.print_versions()

# %% [markdown]
# The knobs of this notebook. Change one, then run this cell and every cell below it (in JupyterLab: *Run ›
# Run Selected Cell and All Below*). Every value in the stated ranges runs to the end; the ✔/✘ lines then say
# which of the notebook's claims still hold.

# %% tags=["parameters"]
n_clients = 10                  # clients K: 2 .. 50
rounds = 3                      # rounds R: 1 .. 10
client_learning_rate = 0.1      # client learning rate η_l: 0.01 .. 1.0
seed = 0                        # seed: 0 .. 20

# %% [markdown]
# ## 1 · Two engines, one FedAvg
#
# `fl.run_experiment` has two engines:
#
# - **per-client** (`engine="per_client"`): the loop of `Simulation.run`, one client after another, each trained
#   by a compiled local update (`fl.LocalTrainer`), the average in NumPy. Easy to read and to extend; slow when a
#   round has many clients, because it calls TensorFlow once per batch per client.
# - **vectorised** (the default): the whole run in one compiled TensorFlow function. The $m$ clients of a round
#   are stacked on a leading axis, shapes $(m, \text{fan-in}, \text{fan-out})$, so one matrix product trains them
#   all; clients of different sizes are padded and masked; all rounds run in one `tf.while_loop`.
#
# Both draw the clients and the batch order from the same counter-based random numbers (`fedlearn_edu.rng`), so
# they can be compared weight by weight:

# %%
config = fl.FLConfig(n_clients=n_clients, rounds=rounds, client_learning_rate=client_learning_rate, seed=seed)
per_client = fl.run_experiment(config.replace(engine="per_client"), progress=False)
vectorised = fl.run_experiment(config, progress=False)
gap = max(float(np.abs(a - b).max()) for a, b in zip(per_client.final_weights, vectorised.final_weights))
print(f"{per_client.engine} vs {vectorised.engine}: largest weight difference after {rounds} rounds {gap:.1e}")
fl.check(gap < 1e-5, "the two engines compute the same FedAvg", measured=f"{gap:.1e}", expected="< 1e-5")

# %% [markdown]
# Not exactly zero: float32 sums in a different order round differently, by about $10^{-7}$ per step. The
# engines' tests (`tests/test_engine.py`) hold them to $10^{-5}$ for every algorithm.
#
# ## 2 · One SCAFFOLD on both engines
#
# SCAFFOLD (notebook 11) keeps a control variate $c_k$ per client and $c$ on the server. The per-client engine
# updates them in NumPy between rounds (`Simulation.update_controls`); the vectorised engine keeps them inside
# its graph as a $(K, P)$ tensor, so a SCAFFOLD slider costs about what a FedAvg one does. Same algorithm? The
# federation of notebook 11, on both engines:

# %%
scaffold = non_iid.base_config(0.1, n_clients, 0.3, seed=seed).replace(scaffold=True, rounds=5 * rounds)
digits = fl.cached_dataset("digits")
curves = {engine: fl.run_experiment(scaffold.replace(engine=engine), dataset=digits, progress=False).accuracy
          for engine in ("per_client", "vectorized")}
largest = float(np.abs(curves["per_client"] - curves["vectorized"]).max())
print(f"SCAFFOLD, {scaffold.rounds} rounds: largest accuracy difference {largest:.4f} "
      f"({largest * len(digits.y_test):.0f} of {len(digits.y_test)} test images)")
fl.check(largest <= 0.003, "both engines run the same SCAFFOLD, at most one test image apart",
         measured=f"{largest:.4f}", expected="≤ 0.003")

# %% [markdown]
# ## 3 · Traced once
#
# A `tf.function` is *traced* the first time it is called: TensorFlow runs the Python code once to record a graph,
# then runs the graph. A new trace happens whenever an argument's shape or type no longer fits the recorded
# *input signature*. The vectorised run declares every size (clients, samples, rounds, $E$, $B$) as a dimension
# of unknown length and every hyper-parameter as a tensor, so one trace serves every experiment with the same
# layer widths. Watch the count while three very different federations run:

# %%
arch = Architecture((20, 64, 3), ("relu",))          # the article's model: 20 inputs, 64 ReLU units, 3 classes
before = tracing_count(arch)
for k, lr, r in ((2, 0.01, 1), (n_clients, client_learning_rate, rounds), (50, 1.0, 10)):
    fl.run_experiment(fl.FLConfig(n_clients=k, client_learning_rate=lr, rounds=r, seed=seed), progress=False)
print(f"traces of the article's architecture: {before} before, {tracing_count(arch)} after three runs")
fl.check(tracing_count(arch) == before == 1, "no new trace when K, η_l or R change",
         measured=f"{before} → {tracing_count(arch)}", expected="1 → 1")

# %% [markdown]
# That is why a slider in the lab answers at once: the first move pays for the trace (a few seconds), every
# later one only runs the graph. A new *architecture* (another hidden width, another data set's input width) is
# a new graph and traces once more.
#
# ## 4 · How fast
#
# One run of each engine on this federation, timed here (the numbers depend on the machine, so nbval ignores
# this output; `benchmarks/bench_engine.py` measures the engines properly and writes `benchmarks/results.md`):

# %%
# NBVAL_IGNORE_OUTPUT
seconds = {}
for engine in ("per_client", "vectorized"):
    start = time.perf_counter()
    fl.run_experiment(config.replace(engine=engine), progress=False)
    seconds[engine] = time.perf_counter() - start
print(", ".join(f"{e}: {s * 1000:.0f} ms" for e, s in seconds.items()),
      f"-> the vectorised engine is {seconds['per_client'] / seconds['vectorized']:.0f}x faster here")

# %% [markdown]
# ## 5 · A sweep runs together, and never twice
#
# The notebooks' sweeps (notebook 11's seeds × algorithms, for example) go through `fl.batch.run_cached`: every
# configuration it has not seen runs in one batched call of the engine, and every answer is remembered, keyed by the
# `FLConfig` itself: a *frozen* dataclass, so it cannot change after it is made and can be hashed. Two equal configs
# are one entry:

# %%
cached = non_iid.base_config(0.1, n_clients, 0.3, seed=seed).replace(rounds=rounds)
size = fl.batch.cache_info()["size"]
first, again = non_iid.run_cached(cached), non_iid.run_cached(cached.replace())   # .replace() makes a new, equal object
print(f"remembered runs: {size} before, {fl.batch.cache_info()['size']} after; the same History: {first is again}")
fl.check(first is again, "an equal FLConfig returns the remembered run", measured=first is again, expected=True)

# %% [markdown]
# ### Several experiments in one call
#
# `fl.run_experiments` puts the experiments of a sweep on one more axis, in front of the clients: their models are
# trained side by side by the same compiled function, each with its own learning rates, $\mu$, $\beta$ and seed.
# Each answer must equal the experiment run on its own (up to float rounding):

# %%
sweep = [cached.replace(seed=s, **non_iid.algorithm_fields(name, 0.01, 0.5)) for s in (0, 1)
         for name in non_iid.ALGORITHMS]
together = fl.run_experiments(sweep, progress=False)
alone = [fl.run_experiment(config, progress=False) for config in sweep]
gap = max(float(np.max(np.abs(a - b))) for x, y in zip(together, alone) for a, b in zip(x.final_weights, y.final_weights))
print(f"{len(sweep)} experiments in one call; largest weight difference to running them one by one: {gap:.1e}")
fl.check(gap < 1e-5, "each batched experiment equals its own run", measured=f"{gap:.1e}", expected="< 1e-5")

# %% [markdown]
# ## 6 · One round body, with hooks
#
# Every algorithm of the kit runs through one function, `Simulation.run_round`: the five steps of notebook 04 in a
# few lines, with two *hooks* (functions the caller may pass) where the variants differ: `transform_updates`
# (DP-FedAvg clips and adds noise, poisoned clients replace their update) and `aggregate` (robust averages). Its
# body, as the per-client engine runs it:

# %%
body = textwrap.dedent(inspect.getsource(fl.Simulation.run_round).split('"""')[-1]).strip()
print(body)

# %% [markdown]
# ## 7 · Bad input gets a readable error
#
# Every public function checks its inputs before TensorFlow sees them and names the parameter, the value and what
# is allowed (`fedlearn_edu/_validate.py`), instead of a deep traceback from inside a compiled graph:

# %%
for bad in (dict(n_clients=0), dict(client_learning_rate=-1.0), dict(fraction=1.5)):
    try:
        fl.FLConfig(**bad)
        message = "accepted"
    except ValueError as error:
        message = str(error)
    name = next(iter(bad))
    fl.check(message.startswith(name), f"FLConfig({name}={bad[name]}) is refused by name", measured=message,
             expected=f"'{name} must ...'")

# %% [markdown]
# ## Summary
#
# - Two engines: per-client (readable, extensible) and vectorised (all clients of a round in one compiled call);
#   they agree to $10^{-5}$ in the weights, for FedAvg and for SCAFFOLD.
# - The vectorised run is traced once per architecture; sizes and hyper-parameters are tensors, so a slider never
#   traces again.
# - A sweep runs its experiments together in one call (an experiment axis in front of the clients), each equal to
#   its own run, and remembers them by their frozen `FLConfig`; every algorithm shares one round body with hooks;
#   bad input is refused by name.
#
# ## Exercises
#
# 1. **Predict, then run.** A new data set with 64 input features (digits) needs a new graph. How many traces of
#    the digits architecture `Architecture((64, 64, 10), ("relu",))` will there be after two digits runs with
#    different client counts? Write your guess, then run.

# %%
guess_digits_traces = None   # your guess: traces of the digits architecture after two runs, e.g. 2

# %%
digits_arch = Architecture((64, 64, 10), ("relu",))
for k in (5, 20):
    fl.run_experiment(fl.FLConfig(dataset="digits", n_clients=k, rounds=1, seed=seed), dataset=digits, progress=False)
print(fl.exercises.check_prediction(guess_digits_traces, tracing_count(digits_arch),
                                    what="traces of the digits architecture after two runs"))

# %% [markdown]
# <details><summary>Solution to exercise 1</summary>
#
# One. The first digits run traces the graph for 64 inputs and 10 classes (notebook 11 may already have done so
# in the same process); the second run has another client count, which is only a different length along a
# dimension the signature leaves open, so the graph is reused.
# </details>
#
# 2. **Compute.** The vectorised engine pads every client's example indices to the largest client: with three
#    clients holding 5, 2 and 7 examples, what shape has the padded index matrix, and how many of its entries are
#    padding? Check the entry count with `print(fl.exercises.check_prediction(answer, 21 - 14,
#    what="padding entries"))`.
#
# <details><summary>Solution to exercise 2</summary>
#
# ```python
# from fedlearn_edu.vectorized import padded_client_index
# index, sizes = padded_client_index([np.arange(5), np.arange(2), np.arange(7)])
# answer = index.size - int(sizes.sum())            # (3, 7) = 21 entries, 14 of them real
# print(index.shape, answer)
# print(fl.exercises.check_prediction(answer, 21 - 14, what="padding entries"))
# ```
# Shape $(K, n_{\max}) = (3, 7)$; 7 entries are padding. A mask (the sizes) makes the padded entries contribute
# nothing: a client whose data is used up simply stops moving.
# </details>
#
# 3. **Think it through.** Why must `FLConfig` be frozen for the run cache (a dictionary keyed by the config) to
#    be safe? What would go wrong if a notebook changed `config.rounds` after a cached run?
#
# <details><summary>Solution to exercise 3</summary>
#
# The cache stores results under the config's hash. If a config could change after it was stored, the stored
# key would no longer describe the run it points to: a later call with the changed config could return the run of
# the old settings, or miss it and fill the cache with duplicates. A frozen dataclass cannot change (`replace`
# makes a new object), so equal configs are always the same experiment.
# </details>
#
# **Back to:** [00 · Start here](00_start_here.ipynb) for the map of the course.
