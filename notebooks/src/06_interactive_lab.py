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
# # 06 · The interactive lab
#
# **What you will learn**
# - why the article's TensorFlow Federated listing cannot run, line by line, and what it was reaching for;
# - the working equivalent with this kit, side by side;
# - how every parameter of federated averaging changes the outcome, in one dashboard you can project in class.
#
# **Article section:** 4.3 *federated learning 训练* ("federated learning training"), the code listing
# that follows 4.1 *数据准备* and 4.2 *模型定义*.
#
# **Prerequisites:** [02](02_data_and_partitions.ipynb) (partitions), [04](04_fedavg_step_by_step.ipynb)
# (the FedAvg round), [05](05_the_math.ipynb) (server optimizers). Symbols as in the [glossary](GLOSSARY.md):
# η_l the client learning rate, η_g the server learning rate.
#
# **Time:** about 15 minutes, plus about 20 for the exercises · core path (notebooks 00–08).

# %%
# NBVAL_IGNORE_OUTPUT
import fedlearn_edu as fl
import matplotlib.pyplot as plt
import numpy as np
from IPython.display import display
from fedlearn_edu.widgets import lab

fl.set_seed(42)
fl.print_versions()

# %% [markdown]
# The knobs of this notebook: the article's listing, as it sets them. Change one, then run this cell and every cell
# below it (*Run › Run Selected Cell and All Below*); the ✔/✘ lines say which claims still hold.

# %% tags=["parameters"]
n_clients = 5                   # clients K of the listing: 2 .. 20
rounds = 10                     # rounds of iterative_process.next: 1 .. 50
client_learning_rate = 0.01     # the listing's client SGD learning rate η_l: 0.001 .. 1.0
server_learning_rate = 0.01     # the listing's server SGD learning rate η_g: 0.001 .. 2.0

# %% [markdown]
# ## The article's listing
#
# Section 4.3 trains with this code (abridged; the full listing is in the article):
#
# ```python
# import tff as tff
#
# class Dataset(tff.simulation.Dataset): ...
# def model_fn():
#     return model
# def loss_fn(model, batch):
#     return tf.nn.softmax_cross_entropy_with_logits_v2(labels=batch[1], logits=model(batch[0]))
# class Client(tff.simulation.Client):
#     def train_step(self, model):
#         with tf.GradientTape() as tape:
#             loss = loss_fn(model, self.X, self.y)
#         ...
# class Server(tff.simulation.FederatedServer): ...
# def client_data_generator():
#     X_list = [X.reshape(1, -1) for _ in range(5)]
#     y_list = [y for _ in range(5)]
#     return Dataset(X_list, y_list)
#
# iterative_process = tff.learning.build_federated_averaging_process(
#     model_fn=model_fn,
#     client_optimizer_fn=lambda: tf.keras.optimizers.SGD(learning_rate=0.01),
#     server_optimizer_fn=lambda: tf.keras.optimizers.SGD(learning_rate=0.01),
#     client_train_fn=Client(X, y).train_step, client_test_fn=Client(X, y).test_step,
#     server_train_fn=Server().train_fn, server_test_fn=Server().test_fn,
#     num_client_rounds=10)
# state = iterative_process.initialize()
# for _ in range(10):
#     state, metrics = iterative_process.next(state)
# ```
#
# Its first line already fails. There is no package called `tff`; TensorFlow Federated is imported as
# `import tensorflow_federated as tff`:

# %%
for module in ("tff", "tensorflow_federated"):
    try:
        __import__(module)
        print(f"import {module}: works")
    except ImportError as error:
        print(f"import {module}: {type(error).__name__}: {error}")

# %% [markdown]
# Even with the right name, TensorFlow Federated is not installable next to this kit: its latest release,
# 0.87.0, pins TensorFlow 2.14 and Python < 3.12 and pins `jaxlib` 0.4.14, which the package index no longer
# serves, so `pip install tensorflow-federated` fails on Python 3.11 today. And the rest of the listing would
# not run in any version:
#
# | line of the listing | what is wrong | what TFF really has |
# |---|---|---|
# | `tff.simulation.Dataset`, `tff.simulation.Client`, `tff.simulation.FederatedServer` | invented classes | client data are `tff.simulation.datasets.ClientData`; clients and server are not classes you subclass |
# | `model_fn` returns the global `model` | TFF calls `model_fn` to build a *new* model each time, wrapped for TFF | `tff.learning.models.from_keras_model(keras_model, input_spec=..., loss=...)` |
# | `tf.nn.softmax_cross_entropy_with_logits_v2` | TensorFlow 1 name, removed in TF 2; and the model already ends in softmax, so it would apply softmax twice | `keras.losses.SparseCategoricalCrossentropy()` |
# | `loss_fn(model, self.X, self.y)` | called with three arguments, defined with two | — |
# | `client_train_fn=`, `server_train_fn=`, `num_client_rounds=` … | not arguments of `build_federated_averaging_process` | `tff.learning.algorithms.build_weighted_fed_avg(model_fn, client_optimizer_fn, server_optimizer_fn)` |
# | `client_data_generator` gives 5 copies of *all* the data | every "client" holds the same 1,000 rows: nothing is federated | one partition per client (notebook 02) |
# | `iterative_process.next(state)` | `next` also needs the round's client data | `process.next(state, federated_train_data)` |
# | server SGD with learning rate 0.01 | the server moves 1% of the way to the clients' average each round | FedAvg is server learning rate 1 |

# %% [markdown]
# ## The working equivalent, side by side
#
# | the article meant | with this kit |
# |---|---|
# | `make_classification(...)` (fixed) | `fl.load_dataset("article")` |
# | the Keras model | `fl.build_article_model()` (the default model of a run) |
# | 5 clients | `fl.FLConfig(n_clients=5, partition="iid")` |
# | client SGD 0.01, server SGD 0.01 | `client_learning_rate=0.01, server_learning_rate=0.01` |
# | 10 rounds of `iterative_process.next` | `rounds=10`, `fl.run_experiment(config)` |
#
# First with the article's own numbers, then with FedAvg's usual ones:

# %%
article_like = fl.FLConfig(n_clients=n_clients, rounds=rounds, client_learning_rate=client_learning_rate,
                           server_learning_rate=server_learning_rate)
usual = article_like.replace(client_learning_rate=0.1, server_learning_rate=1.0)
h_article, h_usual = fl.run_experiment(article_like), fl.run_experiment(usual)
print(f"article's settings: test accuracy {h_article.final_accuracy:.3f}")
print(f"FedAvg's settings:  test accuracy {h_usual.final_accuracy:.3f}")
fl.check(h_article.final_accuracy < h_usual.final_accuracy - 0.2 and h_usual.final_accuracy >= 0.85,
         "the listing's server learning rate 0.01 barely moves the model; FedAvg's settings reach 85%",
         measured=f"{h_article.final_accuracy:.3f} vs {h_usual.final_accuracy:.3f}")

# %% [markdown]
# With a server learning rate of 0.01 the global model only creeps toward the clients' average, so ten
# rounds leave it close to its random start. Plain FedAvg uses a server learning rate of 1: the new
# global model *is* the weighted average.
#
# Move the two learning rates of the listing yourself: the panel runs the listing's settings and FedAvg's usual ones
# on the same clients and draws both curves (`lab.show_listing`, a plain function). Presets: FedAvg's server step,
# a larger client step, both as FedAvg, fifty rounds; *reset* returns to the listing as printed.

# %%
listing_controls = dict(
    n_clients=fl.widgets.client_slider(n_clients, min=2, max=20),
    rounds=fl.widgets.int_slider(rounds, 1, 50, "rounds R"),
    client_learning_rate=fl.widgets.log_value_slider(client_learning_rate, 0.001, 1.0, "client learning rate η_l"),
    server_learning_rate=fl.widgets.log_value_slider(server_learning_rate, 0.001, 2.0, "server learning rate η_g"))
display(fl.widgets.ControlPanel(lab.show_listing, listing_controls, presets=lab.LISTING_PRESETS, run_now=False))

# %% [markdown]
# ## The dashboard
#
# Every control of the article's method is on the left; on release of a slider the whole experiment
# re-runs (tens of milliseconds) and the figure follows. The top panels compare the federated model with
# a model trained centrally on the same data; the bottom panels show the clients' label mix and how well
# the global model fits each client's own data. The **preset** menu holds classroom demonstrations.
#
# To show it without code: `voila notebooks/06_interactive_lab.ipynb`.

# %%
dashboard = lab.FederatedLab()
dashboard

# %% [markdown]
# Reading this page without a kernel? This is the figure the dashboard shows for its default settings:

# %%
# extra code – the dashboard's default figure, drawn once for readers of the static page
default = lab.run_lab()
print(lab.lab_summary(default))
lab.draw_lab(default)
plt.show()

# %% [markdown]
# *Figure:* the dashboard at its defaults: test accuracy and test loss against the round for the federated and the
# centralised model, the label mix per client as a heat map, and the global model's accuracy on each client's own
# data.

# %% [markdown]
# ## What the presets show
#
# Each preset is a claim you can check; the cell below checks them.

# %%
results = {name: lab.run_lab(lab.LabSettings(**values)) for name, values in lab.PRESETS.items()}
for name, result in results.items():
    h = result.history
    print(f"{name:58s} accuracy {h.final_accuracy:.3f}  diverged: {h.diverged}")

# %%
acc = {name: r.history.final_accuracy for name, r in results.items()}
names = list(lab.PRESETS)
fedsgd, local_work = results[names[5]], results[names[6]]
print(f"rounds to 85%: FedSGD {fedsgd.target_round}, FedAvg E=5 B=8 {local_work.target_round}")
fl.check(results[names[3]].history.diverged and all(not r.history.diverged for n, r in results.items() if n != names[3]),
         "client learning rate 10 diverges, no other preset does")
fl.check(acc[names[4]] > acc[names[2]] + 0.02, "server momentum helps on pathological non-IID",
         measured=f"{acc[names[4]]:.3f} vs {acc[names[2]]:.3f}", expected="more than 0.02 better")
fl.check(fedsgd.target_round is not None and local_work.target_round is not None
         and fedsgd.target_round > 3 * local_work.target_round, "local work saves rounds: FedSGD needs over 3 times more",
         measured=(fedsgd.target_round, local_work.target_round))

# %% [markdown]
# ## Summary
# - The article's listing cannot run: wrong package name, invented classes and arguments, a TF 1 loss, and
#   every client holding the same data. TensorFlow Federated itself cannot be installed on Python 3.11 today.
# - `fl.run_experiment(fl.FLConfig(...))` is the working equivalent; with the article's server learning rate
#   of 0.01 it barely learns, with FedAvg's 1.0 it reaches the central baseline.
# - The dashboard re-runs the whole experiment on every slider release; the presets are classroom demonstrations.
#
# ## Exercises
# They go from predicting to fixing the listing's clients. Each has a solution; the dashboard's exercises have one
# that reruns the dashboard's own function (`lab.run_lab`), so you can compare your sliders with it.
#
# 1. **Predict, then run.** The article's listing sets *both* learning rates to 0.01. Keep its client learning rate
#    0.01 but give the server FedAvg's learning rate 1.0 (5 IID clients, 10 rounds). What test accuracy do you
#    expect? Write your guess below, then run the experiment.

# %%
guess_accuracy_server_1 = None   # your guess: a test accuracy between 0 and 1, e.g. 0.6

# %%
h_server_1 = fl.run_experiment(article_like.replace(server_learning_rate=1.0))
print(f"client lr 0.01, server lr 0.01: {h_article.final_accuracy:.3f}; client lr 0.01, server lr 1.0: "
      f"{h_server_1.final_accuracy:.3f}; client lr 0.1, server lr 1.0: {h_usual.final_accuracy:.3f}")
print(fl.exercises.check_prediction(guess_accuracy_server_1, h_server_1.final_accuracy, tolerance=0.05,
                                    what="the accuracy with server learning rate 1.0"))

# %% [markdown]
# <details><summary>Solution to exercise 1</summary>
#
# The server learning rate was the main brake: with 1.0 the global model becomes the clients' average each round,
# and the accuracy jumps most of the way towards FedAvg's usual setting. The small client learning rate still
# costs accuracy: every client takes small steps, so ten rounds cover less ground than with 0.1 (compare the three
# numbers above).
# </details>
#
# 2. **Compute.** With the listing's server learning rate η = 0.01, each round moves the global model η of the way
#    from where it is to the clients' average. If that average stayed put, what share of the distance would the
#    model cover in 10 rounds? Check it with `print(fl.exercises.check_server_share(share))`, then try η = 1
#    (`server_learning_rate=1.0`).
#
# <details><summary>Solution to exercise 2</summary>
#
# ```python
# share = 1 - (1 - 0.01) ** 10     # each round leaves (1 - eta) of the remaining distance
# print(f"share covered in 10 rounds: {share:.4f}")
# print(fl.exercises.check_server_share(share))
# print(fl.exercises.check_server_share(1.0, server_learning_rate=1.0))
# ```
# After one round $(1-\eta)$ of the distance remains, after $R$ rounds $(1-\eta)^R$, so the model covers
# $1 - (1 - 0.01)^{10}$, under a tenth of the way: it stays close to its random start. With η = 1 it reaches the average
# in one round, which is plain FedAvg.
# </details>
#
# 3. **Explore.** In the dashboard, choose the preset "too high a learning rate" (client learning rate 10). Lower the
#    client learning rate step by step: what is the largest value that does not diverge? Is it also a good one?

# %% jupyter={"source_hidden": true} tags=["solution"]
# Solution to exercise 3
for client_lr in (10.0, 5.0, 3.0, 2.0, 1.0):
    run = lab.run_lab(lab.LabSettings(client_learning_rate=client_lr))
    h = run.history
    print(f"client lr {client_lr:>4}: diverged {h.diverged!s:<5}  final accuracy {h.final_accuracy:.3f}")
# Above some value each local step overshoots the minimum by more than it started from, and the weights blow up
# (diverged = True). Just below it the run no longer blows up but still jumps around: "does not diverge" is not
# "learns well", which needs a learning rate a few times smaller.

# %% [markdown]
# 4. **Explore.** Set the partition to Dirichlet with α = 0.1 and compare the algorithms FedAvg, FedProx (μ = 0.1)
#    and FedAvgM (β = 0.9). Which helps most here?

# %% jupyter={"source_hidden": true} tags=["solution"]
# Solution to exercise 4
for algorithm in ("FedAvg", "FedProx", "FedAvgM"):
    run = lab.run_lab(lab.LabSettings(algorithm=algorithm, partition="dirichlet", alpha=0.1))
    print(f"{algorithm:<8} final accuracy {run.history.final_accuracy:.3f}, best {max(run.history.accuracy):.3f}, "
          f"85% reached in round {run.target_round}")
# On this easy data set, with one local epoch, label skew costs little and none of them helps much: FedProx's
# proximal term hardly acts on a few local steps, and FedAvgM gets ahead first but overshoots. The differences
# show on harder data (the "momentum rescues non-IID" preset on digits shards; notebook 11).

# %% [markdown]
# 5. **Explore.** Choose the preset FedSGD (B = full, E = 1: one full-batch step per round). How many rounds does it
#    need to reach 85%, compared with "more local work: E = 5, B = 8"? Why is that the main argument for FedAvg?
#
# <details><summary>Solution to exercise 5</summary>
#
# The presets cell above prints both ("rounds to 85%"). FedSGD takes one gradient step per round; with E = 5 and
# B = 8 each client takes 5 passes of 10 mini-batches, about 50 local steps per round, so FedAvg needs several
# times fewer communication rounds. Rounds are what is expensive in federated learning (slow, unreliable
# networks), while local computation on the devices is nearly free: trading computation for communication is
# FedAvg's whole idea.
# </details>
#
# 6. **Find the bug.** The listing's `client_data_generator` gives each of its 5 clients *all* the data. Here it is
#    with indices instead of copies:
#
#    ```python
#    def client_indices(n_examples, n_clients=5):
#        return [np.arange(n_examples) for _ in range(n_clients)]
#    ```
#    Run `print(fl.exercises.check_partition(client_indices(1000), n_examples=1000, n_clients=5))`, read the hint,
#    and fix it so that every example lives on exactly one client.
#
# <details><summary>Solution to exercise 6</summary>
#
# ```python
# def client_indices(n_examples, n_clients=5, seed=0):
#     rng = np.random.default_rng(seed)
#     return np.array_split(rng.permutation(n_examples), n_clients)   # shuffle once, then deal
#
# print(fl.exercises.check_partition(client_indices(1000), n_examples=1000, n_clients=5))
# ```
# Five copies of the same data make five identical clients: their models after a round are identical, the average
# is that model, and "federated" training is centralised training with extra steps. A partition gives each client
# its own examples; `fl.make_partition` does this for IID and non-IID splits (notebook 02).
# </details>
#
# **Next:** [07 · Challenges I: convergence on non-IID data](07_challenges.ipynb)
