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
# # 04 · FedAvg step by step
#
# **What you will learn**
# - the article's five steps, each as its own cell, with the very functions the simulation engine loops over;
# - what a client sends back (its weights and n_k) and how many bytes that is;
# - how the server aggregates: the coefficients n_k/n, the weighted average, the server update;
# - how to turn "repeat until the model converges" into a stated, testable stopping rule;
# - that a round done by hand is round 1 of the engine, to within 1e-5.
#
# **Article section:** 3.1 算法原理 ("Algorithm principle") and 3.2 具体操作步骤 ("Concrete steps").
# Both list the same five steps:
#
# 1. 在服务器端初始化一个全局模型，并将其分发到各个边缘设备上 — the server initialises a global model and sends it to the edge devices;
# 2. 边缘设备根据本地数据进行模型训练，并更新本地模型 — the devices train it on their local data;
# 3. 边缘设备将更新后的本地模型发送回服务器端 — the devices send their updated models back;
# 4. 服务器端将所有边缘设备的模型聚合成一个全局模型，并将其重新分发到各个边缘设备上 — the server aggregates them into a new global model and sends it out again;
# 5. 重复步骤1-4，直到模型收敛 — repeat steps 1–4 until the model converges.
#
# **Time:** about 30 minutes, plus about 45 for the exercises · core path (notebooks 00–08).
#
# **Prerequisites:** [02 · Data and partitions](02_data_and_partitions.ipynb),
# [03 · The model and local training](03_model_and_local_training.ipynb). Symbols as in the
# [glossary](GLOSSARY.md): K clients, n_k examples on client k, C, E, B, η_l (client learning rate), w the model.

# %%
# NBVAL_IGNORE_OUTPUT
import fedlearn_edu as fl
import numpy as np
import matplotlib.pyplot as plt
from IPython.display import display
from fedlearn_edu.widgets import fedavg_steps as fs

fl.set_seed(42)
fl.print_versions()

# %% [markdown]
# The knobs of this notebook. Change one, then run this cell and every cell below it (in JupyterLab: *Run ›
# Run Selected Cell and All Below*). Every value in the stated ranges runs to the end; the ✔/✘ lines then say
# which of the notebook's claims still hold.

# %% tags=["parameters"]
n_clients = 10                  # clients K: 2 .. 50
fraction = 0.5                  # fraction C of the clients in each round: 0.1 .. 1.0
local_epochs = 1                # local epochs E: 1 .. 20
batch_size = 32                 # local batch size B (None: the full batch): one of 8, 32, None
client_learning_rate = 0.1      # client learning rate η_l: 0.001 .. 10.0
dirichlet_concentration = 1.0   # label skew α_D (small: very different clients): 0.05 .. 100.0
seed = 0                        # seed: 0 .. 20

# %% [markdown]
# ![the five steps of the protocol: the server initialises and sends the model, clients train, send their models
# back, the server takes the weighted average, and steps 2 to 4 repeat](../assets/five_steps.png)
#
# **Why the diagram repeats steps 2–4 and the article 1–4.** The article's step 1 does two things: it
# *initialises* the global model and *sends* it to the devices. Only the sending happens every round, and the
# article's step 4 already ends with it (并将其重新分发到各个边缘设备上, "and redistributes it to the edge devices").
# Repeating the initialisation would throw away everything learned so far. So a round is steps 2–4, with the
# redistribution at the end of step 4, and step 1 happens once.
#
# ## The federation
#
# By default ten clients share the article's 800 training examples with a mild label skew (a Dirichlet split
# with concentration α_D = 1), so they hold different amounts of data. Each round the server picks half of them
# (fraction C = 0.5, as in McMahan et al.'s FedAvg: real federations never wait for every device). Local
# training is E = 1 epoch of SGD with batches of B = 32 at client learning rate η_l = 0.1.
#
# `fl.Simulation` holds the data, the partition and the model, and exposes each step as a method.
# `sim.run()` loops over exactly these methods.

# %%
config = fs.BASE_CONFIG.replace(n_clients=n_clients, fraction=fraction, local_epochs=local_epochs,
                                batch_size=batch_size, client_learning_rate=client_learning_rate,
                                alpha=dirichlet_concentration, seed=seed)
print(config.n_clients, "clients,", config.clients_per_round, "per round, E =", config.local_epochs,
      ", B =", config.batch_size, ", client learning rate", config.client_learning_rate)
sim = fl.Simulation(config)
print("n_k of each client:", sim.client_sizes.tolist())

# %% [markdown]
# ## Step 1 · Initialise the global model and send it out
#
# The global model is a list of weight arrays (the article's network, notebook 03). The server
# chooses the clients of round 0 and sends each of them a copy.

# %%
global_weights = [w.copy() for w in sim.global_weights]
print("global model:", [w.shape for w in global_weights], "=", sim.n_parameters, "parameters")
clients = sim.sample_clients(0)
print(f"clients of round 0: {clients.tolist()}, m = max(1, ⌊C K⌋) = {config.clients_per_round}")

# %% [markdown]
# The choice depends only on the seed and the round number, so every run picks
# the same clients. Before training, how good is the random initial model on the test set?

# %%
initial_loss, initial_accuracy = sim.evaluate(global_weights)
print(f"initial model: test loss {initial_loss:.3f}, accuracy {initial_accuracy:.3f}")

# %% [markdown]
# ## Step 2 · Each client trains on its local data
#
# `sim.train_client(k, round_index)` is `fl.client_update` (notebook 03) with the client's data and
# the configuration's E, B and learning rate. Each returns a `ClientResult`.

# %%
results = [sim.train_client(k, 0) for k in clients]
for r in results:
    print(f"client {r.client_id}: n_k = {r.n_examples:3d}, local loss {r.loss:.3f}, local accuracy {r.accuracy:.3f}")

# %% [markdown]
# The clients trained *copies*: the server's model has not changed yet.

# %%
fl.check(all(np.array_equal(a, b) for a, b in zip(sim.global_weights, global_weights))
         and all(not np.array_equal(r.weights[0], global_weights[0]) for r in results),
         "the clients trained copies: the server's model is unchanged, every client's model moved")

# %% [markdown]
# ## Step 3 · Send the local models back
#
# What travels is a `ClientResult`'s `weights` (1539 float32 numbers) and `n_examples` (n_k), which
# the server needs for the weighting. The local data never leaves the client. One model is
# 1539 × 4 bytes:

# %%
model_bytes = sim.n_parameters * 4
round_bytes_up = sum(fl.count_parameters(r.weights) * 4 for r in results)
print(f"one model: {model_bytes} bytes; this round's uploads: {round_bytes_up} bytes")
fl.check(round_bytes_up == len(results) * model_bytes, "each client uploads one model of 4P bytes",
         measured=round_bytes_up, expected=f"{len(results)} × {model_bytes}")

# %% [markdown]
# For comparison, client 0's raw data would be n_k × (20 features × 4 bytes + a 4-byte label):

# %%
n_0 = sim.client_sizes[0]
print(f"client 0: {n_0} examples = {n_0 * (20 * 4 + 4)} bytes of data vs {model_bytes} bytes of model")

# %% [markdown]
# With a data set this small the model is about as big as the data. What federated learning saves
# here is not bandwidth but *exposure*: the examples stay on the device (notebooks 01 and 07 measure
# the bytes over whole runs).
#
# ## Step 4 · Aggregate into a new global model
#
# ### 4a. The weights n_k/n
#
# FedAvg weighs each client by its share of the round's examples: n = Σ n_k over the sampled clients.

# %%
n_k = [r.n_examples for r in results]
coefficients = fl.fedavg_coefficients(n_k)
print("n_k:", n_k, " n =", sum(n_k))
print("n_k/n:", np.round(coefficients, 3).tolist())
fl.check(abs(coefficients.sum() - 1) < 1e-12 and np.argmax(coefficients) == np.argmax(n_k),
         "the coefficients sum to 1 and the largest client has the largest say", measured=coefficients.sum())

# %% [markdown]
# ### 4b. The weighted average
#
# First by hand on the flattened models, then with `sim.aggregate` (which calls `fl.weighted_average`):

# %%
client_vectors = np.stack([fl.flatten_weights(r.weights) for r in results])   # (5, 1539)
by_hand = coefficients @ client_vectors                                       # (1539,)
averaged = sim.aggregate(results)
gap = np.abs(fl.flatten_weights(averaged) - by_hand).max()
fl.check(gap < 1e-6, "sim.aggregate is the weighted average by hand", measured=gap, expected="< 1e-6")

# %% [markdown]
# ### 4c. The server update
#
# The server optimizer turns the average into the next global model. Plain FedAvg (server learning
# rate 1) simply takes the average; FedAvgM (notebook 05) and FedAdam (notebook 07) would not.

# %%
new_global = sim.server_update(averaged)
print(type(sim.server_optimizer).__name__, "with server learning rate", sim.server_optimizer.server_learning_rate)
fl.check(all(np.allclose(a, b) for a, b in zip(new_global, averaged)),
         "with server learning rate 1 the new global model is the average")

# %% [markdown]
# ### 4d. Inspect: what moved?
#
# Each client moved the model by Δ_k = w_k − w. The global model moves by the weighted average of
# those updates, which is never longer than their weighted average length (the updates partly
# cancel: the clients disagree).

# %%
w = fl.flatten_weights(global_weights)
update_norms = np.linalg.norm(client_vectors - w, axis=1)
global_step = np.linalg.norm(fl.flatten_weights(new_global) - w)
print("client update norms ||w_k - w||:", ", ".join(f"{x:.3f}" for x in update_norms))
print(f"global update norm: {global_step:.3f}  (weighted mean of client norms {coefficients @ update_norms:.3f})")

# %%
new_loss, new_accuracy = sim.evaluate(new_global)
print(f"global model before: loss {initial_loss:.3f}, accuracy {initial_accuracy:.3f}")
print(f"global model after:  loss {new_loss:.3f}, accuracy {new_accuracy:.3f}")
fl.check(new_loss < initial_loss, "one round lowered the test loss", measured=new_loss, expected=f"< {initial_loss:.3f}")

# %% [markdown]
# Finally the server keeps the new model; next round it is what gets sent out ("重新分发").

# %%
sim.global_weights = new_global
round1_weights = [x.copy() for x in new_global]

# %% [markdown]
# ## Is that really what the engine does?
#
# Run round 1 with the engine itself, `fl.run_experiment`: it starts from the same initial model, picks the
# same clients and uses the same batch order. (How the kit's two engines work, and why they agree, is in the
# appendix, [15 · How the kit is built](15_how_the_kit_is_built.ipynb).)

# %%
engine_round = fl.run_experiment(config.replace(rounds=1), progress=False)
gap = max(np.abs(a - b).max() for a, b in zip(engine_round.final_weights, round1_weights))
uploads = int(engine_round.bytes_up[0]) if len(engine_round.bytes_up) else 0     # a diverged round records no bytes
fl.check(gap < 1e-5 and uploads == round_bytes_up, "the engine's round 1 is the round by hand",
         measured=f"largest weight difference {'< 1e-5' if gap < 1e-5 else f'{gap:.2g}'}, uploads {uploads} bytes",
         expected=f"< 1e-5 and {round_bytes_up} bytes")

# %% [markdown]
# ## Step 5 · Repeat
#
# ### The round, assembled
#
# Steps 1–4 together are `sim.run_round(round_index)`, the one round body: `sim.run()` loops over it, and
# the variants of later notebooks (DP-FedAvg, poisoned clients) call it with hooks (the appendix prints it).
# `fs.fedavg_round(sim, r)` calls it and keeps what each step produced.

# %% [markdown]
# A few more rounds by hand (rounds 1 and 2, counted from 0; round 0 is the one we just did):

# %%
for r in (1, 2):
    record = fs.fedavg_round(sim, r)
    print(f"round {r}: clients {record.clients.tolist()}, test loss {record.loss:.3f}, accuracy {record.accuracy:.3f}")

# %% [markdown]
# ### The whole loop, from scratch
#
# Everything above, without the kit: McMahan et al.'s FedAvg (Algorithm 1) in plain NumPy. The local
# update is notebook 03's `local_update`, kept as `fl.reference.local_update`; the kit's `sample_clients`
# and `epoch_orders` pick the same clients and batches as the engines, so the numbers can be compared.
# Each line carries its step; η is the server learning rate (1 for FedAvg).

# %%
from fedlearn_edu import reference
from fedlearn_edu.rng import epoch_orders, sample_clients


def fedavg_from_scratch(X, y, parts, w0, *, rounds, fraction, epochs, batch_size, client_learning_rate,
                        server_learning_rate=1.0, seed=0):
    """FedAvg in NumPy; returns the global model after each round."""
    w = [layer.copy() for layer in w0]                                   # step 1: the initial global model
    K = len(parts)
    m = max(1, int(np.floor(fraction * K + 1e-9)))                       # m = max(1, floor(C K)) per round
    after_each_round = []
    for r in range(rounds):
        clients = sample_clients(K, m, seed, r)                          # step 1: who takes part in round r
        local_models, n_k = [], []
        for k in clients:                                                # step 2: each trains from w
            order = epoch_orders(len(parts[k]), epochs, seed, r, int(k)).ravel()
            local_models.append(reference.local_update(w, X[parts[k]], y[parts[k]], order=order, epochs=epochs,
                                                       batch_size=batch_size, client_learning_rate=client_learning_rate))
            n_k.append(len(parts[k]))                                    # step 3: it sends w_k and n_k back
        p = np.array(n_k) / np.sum(n_k)                                  # step 4a: p_k = n_k / n
        w_bar = [sum(p_k * model[i] for p_k, model in zip(p, local_models)).astype(np.float32)
                 for i in range(len(w))]                                 # step 4b: w_bar = sum_k p_k w_k
        w = [layer - np.float32(server_learning_rate) * (layer - average)    # step 4c: w <- w - eta (w - w_bar)
             for layer, average in zip(w, w_bar)]
        after_each_round.append(w)                                       # step 5: repeat from the new w
    return after_each_round


# %% [markdown]
# Three rounds of it, then three rounds of the kit's engine on the same federation. Look at the largest
# difference between the final weights, and at the test accuracy after each round.

# %%
d = sim.dataset
mine = fedavg_from_scratch(d.X_train, d.y_train, sim.partitions, sim.initial_weights, rounds=3,
                           fraction=config.fraction, epochs=config.local_epochs, batch_size=config.batch_size,
                           client_learning_rate=config.client_learning_rate, seed=config.seed)
print("from scratch, test accuracy per round:", [round(reference.evaluate(w, d.X_test, d.y_test)[1], 3) for w in mine])
h = fl.run_experiment(config.replace(rounds=3), progress=False)
gap = max(float(np.abs(a - b).max()) for a, b in zip(mine[-1], h.final_weights))
print(f"{'✔' if gap < 1e-5 else '✘'} the kit's engine: largest weight difference {gap:.1e} after 3 rounds "
      f"(expected below 1e-5); test accuracy per round {np.round(h.accuracy, 3).tolist()}")

# %% [markdown]
# ### "Until the model converges" — a stated criterion
#
# The article's "直到模型收敛" (until the model converges) is not something a program can check. We
# need a rule. Ours, implemented in `fs.stopping_round` and used by `fs.run_until_converged`:
#
# > **Stop after the first round in which the test loss has failed, 3 rounds in a row, to improve on its
# > best value so far by more than 0.005** (Keras' `EarlyStopping(min_delta=0.005, patience=3)`), or after
# > 100 rounds at most.
#
# (A careful study would watch a separate validation set rather than the test set; we keep one held-out
# set to stay small.) The rule on a made-up sequence of losses:

# %%
toy_losses = [0.80, 0.60, 0.50, 0.497, 0.490, 0.488, 0.487, 0.486]
print("stops after round", fs.stopping_round(toy_losses, tolerance=0.005, patience=3))

# %% [markdown]
# Round by round: the *gain* is how much a round's loss beats the best loss so far; a gain of more than 0.005 is a
# new best and resets the count, a smaller one adds 1 to it.

# %%
best, count = toy_losses[0], 0
for r, loss in enumerate(toy_losses[1:], start=2):
    gain = best - loss
    best, count = (loss, 0) if gain > 0.005 else (best, count + 1)
    print(f"round {r}: loss {loss:.3f}, gain {gain:.3f} on the best so far -> count {count}")

# %% [markdown]
# Round 4 (0.497) beats the best loss so far, 0.50, by only 0.003: count 1. Round 5 (0.490) beats it by
# 0.010: new best, count back to 0. Rounds 6, 7 and 8 beat 0.490 by less than 0.005: count 1, 2, 3 — stop.
#
# Now the whole loop, from the initial model:

# %%
run = fs.run_until_converged(sim, tolerance=0.005, patience=3, max_rounds=100)
print(run.reason)
print(f"{run.rounds} rounds, final test accuracy {run.final_accuracy:.3f}, loss {run.final_loss:.3f}")
fl.check(run.converged and run.final_accuracy >= 0.85, "the loop converges, to at least 85% test accuracy",
         measured=run.final_accuracy, expected="converged and ≥ 0.85")

# %% [markdown]
# #### Its first round is ours
#
# `run_until_converged` reset the simulation to the initial model and replayed round 0, so its first
# round must be the one we did by hand:

# %%
first_loss = run.loss[0] if run.rounds else float("nan")       # nan: round 1 diverged
print(f"round 1 of the loop: loss {first_loss:.3f} (by hand: {new_loss:.3f})")
fl.check(abs(first_loss - new_loss) < 1e-6, "the loop's round 1 is the round by hand", measured=first_loss,
         expected=new_loss)

# %% [markdown]
# #### The slider's curve stops in the same round
#
# The slider below draws its curves with `fs.compute_learning_curve`, which runs the same federation in one
# call of the engine; the same criterion applied to its losses must stop in the same round:

# %%
curve = fs.compute_learning_curve(n_clients, client_learning_rate, 100, config=config)
print("the slider's curve: the criterion stops after round", curve.stop_round)
fl.check(curve.stop_round == run.rounds and np.allclose(curve.loss[1:len(run.loss) + 1], run.loss, atol=1e-5),
         "the slider's curve has the same losses and stops in the same round", measured=curve.stop_round,
         expected=run.rounds)

# %% [markdown]
# ## Play with it
#
# Six sliders: the number of clients K, the fraction C of them in each round, the local epochs E and batch
# size B (B = ∞ is one full batch per epoch: with E = 1 and C = 1 that is FedSGD), the client learning rate
# η_l and the number of rounds. The figure shows the test loss and accuracy after each round, and where the
# stopping rule fires. Pick a preset to see a lesson at once, *reset* to come back to the notebook's
# defaults; the line under the buttons says what you changed. The callback is the plain function
# `fs.show_learning_curve`; it returns a `LearningCurve` (`fs.compute_learning_curve` computes it without
# drawing).

# %%
controls = dict(n_clients=fl.widgets.client_slider(n_clients, min=2, max=50),
                fraction=fl.widgets.float_slider(fraction, 0.1, 1.0, "fraction C", step=0.1),
                local_epochs=fl.widgets.int_slider(local_epochs, 1, 20, "local epochs E"),
                batch_size=fl.widgets.batch_size_slider(batch_size),
                client_learning_rate=fl.widgets.log_value_slider(client_learning_rate, 0.001, 10.0,
                                                                 "client learning rate η_l"),
                rounds=fl.widgets.int_slider(50, 5, 100, "rounds R", step=5))
display(fl.widgets.ControlPanel(fs.show_learning_curve, controls, presets=fs.PRESETS, run_now=False))

# %% [markdown]
# The panel draws when you move a slider. The same function at the notebook's settings (50 rounds), so the
# figure is also here when the notebook is read without a running kernel:

# %%
default = fs.show_learning_curve(n_clients, client_learning_rate, 50, fraction=fraction, local_epochs=local_epochs,
                                 batch_size=batch_size)

# %% [markdown]
# *Figure:* test loss (left) and test accuracy (right) against the round over 50 rounds, with a dashed line where the
# stopping rule fires; the loss falls fast at first and then flattens.

# %% [markdown]
# Two presets say the most. **FedSGD** (E = 1, B = ∞, every client) takes one gradient step per client per
# round; **more local work** (E = 5, B = 8) takes many. Count the rounds each needs before the rule stops:

# %%
fedsgd = fs.compute_learning_curve(n_clients, client_learning_rate, 100, config=config,
                                   **fs.PRESETS["FedSGD: E = 1, B = ∞, every client"])
local_work = fs.compute_learning_curve(n_clients, client_learning_rate, 100, config=config,
                                       **fs.PRESETS["more local work: E = 5, B = 8"])
for name, c in (("FedSGD", fedsgd), ("E = 5, B = 8", local_work)):
    print(f"{name:>12}: the rule stops after round {c.stop_round}, test accuracy {c.accuracy_at_stop:.3f}")
fl.check(local_work.stop_round is not None and (fedsgd.stop_round is None or local_work.stop_round < fedsgd.stop_round),
         "more local work per round needs fewer rounds", measured=(local_work.stop_round, fedsgd.stop_round),
         expected="first < second")

# %% [markdown]
# Fewer rounds means fewer uploads: what FedAvg saves is communication, paid for with computation on the
# clients (notebook 12 counts the bytes). Compare the accuracies too: more local work on skewed clients pulls
# their models apart (notebook 03's drift), and here the rule stops it at a lower accuracy than FedSGD.

# %% [markdown]
# ### The two ends of the learning-rate slider
#
# The two ends of the learning-rate slider, where the rule alone would mislead you. At 0.001 the
# loss falls so slowly but steadily that the rule never fires in 100 rounds. At 10 the loss *explodes*
# (the cell below prints it: many orders of magnitude above the initial loss), which also means "no improvement for 3 rounds": the rule fires
# after round 3, and a few rounds later the weights are NaN. So `run_until_converged` also checks that
# the loss went below its initial value before calling a stop "converged".

# %%
slow = fs.compute_learning_curve(n_clients, 0.001, 100, config=config)
fast = fs.compute_learning_curve(n_clients, 10.0, 100, config=config)
print(f"lr 0.001: stop round {slow.stop_round}, accuracy after 100 rounds {slow.accuracy[-1]:.3f}")
print(f"lr 10:    stop round {fast.stop_round}, loss there {fast.loss[fast.stop_round or -1]:.3g} "
      f"(initial {fast.loss[0]:.3f}), NaN in round {fast.diverged_at}")
failed_run = fs.run_until_converged(fl.Simulation(config.replace(client_learning_rate=10.0)))
print(failed_run.reason)
fl.check(slow.stop_round is None and fast.failed and not failed_run.converged,
         "neither end converges: 0.001 never stops, 10 stops on an exploding loss that the loop calls a failure")

# %% [markdown]
# ## Summary
# - The five steps are methods of `fl.Simulation`: `global_weights` + `sample_clients` (1), `train_client` (2),
#   the returned `ClientResult` with weights and n_k (3), `aggregate` + `server_update` (4); the loop repeats them (5).
# - Each upload is the model, 1539 × 4 = 6156 bytes, plus n_k; the data stays on the client.
# - FedAvg's aggregate is Σ_k (n_k/n) w_k; with server learning rate 1 it *is* the new global model.
# - "Until convergence" needs a stated rule; ours stops when the test loss fails to improve by more than 0.005 for
#   3 rounds in a row. It also fires on a run whose loss explodes, and never on one that crawls: check
#   that the loss actually went down.
# - A round by hand equals round 1 of the kit's engine, to 1e-5.
# - The whole of FedAvg without the kit's machinery, in plain NumPy and about 60 lines, is
#   `fedlearn_edu/reference.py`: sampling, local SGD by hand, and the FedAvg line
#   `w = fedavg(models, [len(partitions[k]) for k in clients])`.
#   The kit's engines give its weights (`tests/test_reference.py`).
#
# ## Exercises
# They go from predicting to writing the code. Each has a collapsed solution; the ones with a checker tell you
# what is wrong, not only that something is.
#
# 1. **Predict, then run.** With every client in every round (`fraction=1.0` instead of 0.5), how many rounds
#    does the federation need to reach a test accuracy of 0.85? Write your guess below, then run the experiment.

# %%
guess_rounds_all_clients = None   # your guess: a number of rounds, e.g. 10

# %%
everyone = fl.Simulation(config.replace(fraction=1.0))
to_target = {f: fs.run_until_converged(s, target_accuracy=0.85).rounds for f, s in ((0.5, sim), (1.0, everyone))}
to_plateau = {f: fs.run_until_converged(s).rounds for f, s in ((0.5, sim), (1.0, everyone))}
print(f"rounds to 0.85: {to_target}; rounds until the stopping rule fires: {to_plateau}")
print(fl.exercises.check_prediction(guess_rounds_all_clients, to_target[1.0], tolerance=0.25,
                                    what="rounds to 0.85 with every client"))

# %% [markdown]
# <details><summary>Solution to exercise 1</summary>
#
# Every client in every round reaches 0.85 in fewer rounds: the average of ten client models is less noisy than
# the average of five, and with a label skew it is closer to one step on all the data. It costs twice the bytes
# per round. The stopping rule, though, fires *later* with every client: the loss keeps improving by at least
# 0.005 for longer, down to a lower plateau. "Fewer rounds" depends on which rule counts the rounds.
# </details>
#
# 2. **Compute.** Write the FedAvg coefficients p_k = n_k/n of round 0's five clients (`n_k` above) as a list of
#    five numbers, by hand or with NumPy, and check them with
#    `print(fl.exercises.check_fedavg_weights(my_coefficients, n_examples=n_k))`.

# %% jupyter={"source_hidden": true} tags=["solution"]
# Solution to exercise 2
my_coefficients = np.array(n_k) / sum(n_k)          # p_k = n_k / n, n = the round's examples
print(np.round(my_coefficients, 3).tolist())
print(fl.exercises.check_fedavg_weights(my_coefficients, n_examples=n_k))

# %% [markdown]
# 3. **Compute.** Apply the stopping rule by hand to the losses `[0.9, 0.7, 0.69, 0.688, 0.70, 0.60, 0.598, 0.597,
#    0.599]` (tolerance 0.005, patience 3): after which round does it stop, or does it not stop (`None`)? Check
#    your number with `print(fl.exercises.check_stopping_round(answer, losses=[...]))`.
#
# <details><summary>Solution to exercise 3</summary>
#
# ```python
# losses = [0.9, 0.7, 0.69, 0.688, 0.70, 0.60, 0.598, 0.597, 0.599]
# print(fl.exercises.check_stopping_round(9, losses=losses))
# ```
# Best so far: 0.9, then 0.7 (round 2), 0.69 (round 3, a gain of 0.01). Rounds 4 (0.688, gain 0.002) and 5 (0.70)
# count 1 and 2; round 6 (0.60) is a new best and resets the count; rounds 7, 8 and 9 gain less than 0.005: count
# 3 after round 9. Compare every round with the *best* loss so far, not with the previous round.
# </details>
#
# 4. **Find the bug.** This server step is meant to be θ_{t+1} = θ_t − η (θ_t − θ̄), with the server learning
#    rate η (FedAvg's server is η = 1, where it returns θ̄):
#
#    ```python
#    def server_step(theta, theta_bar, server_learning_rate):
#        return theta_bar
#    ```
#    Run `print(fl.exercises.check_server_update(server_step))`, read the hint, and fix it.
#
# <details><summary>Solution to exercise 4</summary>
#
# ```python
# def server_step(theta, theta_bar, server_learning_rate):
#     return theta - server_learning_rate * (theta - theta_bar)    # θ - η (θ - θ̄)
#
# print(fl.exercises.check_server_update(server_step))
# ```
# The buggy step is right only at η = 1, so every experiment with the default server passes and the bug shows up
# only when someone tries η = 0.5. The checker tries η = 0.25 and η = 2.
# </details>
#
# 5. **Find the bug, then write the function.** The article's §3.3 weighs client i by 1/n_i, and
#    `fl.unweighted_average` weighs every client alike. Write `fedavg(models, n_examples)` that returns
#    Σ_k (n_k/n) w_k layer by layer (a list of arrays, like one client's model), and check it with
#    `print(fl.exercises.check_fedavg(fedavg))`. Then try a version that weighs by 1/n_k, and one that takes the
#    plain mean, and read what the checker says about each.
#
# <details><summary>Solution to exercise 5</summary>
#
# ```python
# def fedavg(models, n_examples):
#     p = np.asarray(n_examples, dtype=np.float64) / np.sum(n_examples)       # p_k = n_k / n
#     return [sum(p_k * model[i] for p_k, model in zip(p, models)).astype(np.float32)
#             for i in range(len(models[0]))]
#
# print(fl.exercises.check_fedavg(fedavg))
# ```
# With 1/n_k the smallest client gets the largest say; with the plain mean a client with 5 examples counts as much as
# one with 150. The checker names both.
# </details>
#
# 6. **Write the function.** Write `rounds_to_target(sim, target)` that returns the number of rounds
#    `run_until_converged` needs to reach a test accuracy of `target` (its `target_accuracy` argument), or None if
#    it never does. `rounds_to_target(sim, 0.85)` should be at most `run.rounds`.

# %% jupyter={"source_hidden": true} tags=["solution"]
# Solution to exercise 6
def rounds_to_target(sim, target):
    result = fs.run_until_converged(sim, target_accuracy=target, max_rounds=100)
    return result.rounds if result.final_accuracy >= target else None

reached = rounds_to_target(sim, 0.85)
print(f"{'✔' if reached is not None and reached <= run.rounds else '✘'} 0.85 reached after {reached} rounds "
      f"(expected at most the {run.rounds} rounds of the stopping rule)")

# %% [markdown]
# 7. **Implement the variant.** Server momentum (FedAvgM) keeps a velocity v: v ← β v + (w − w̄), then
#    w ← w − η v. Write `momentum_step(theta, theta_bar, velocity, server_learning_rate, server_momentum)` that
#    returns `(theta_next, velocity_next)` for flattened models, check it with
#    `print(fl.exercises.check_server_momentum(momentum_step))`, and use it in `fedavg_from_scratch` in place
#    of step 4c.
#
# <details><summary>Solution to exercise 7</summary>
#
# ```python
# def momentum_step(theta, theta_bar, velocity, server_learning_rate, server_momentum):
#     velocity = server_momentum * velocity + (theta - theta_bar)   # v <- beta v + g, g = w - w_bar
#     return theta - server_learning_rate * velocity, velocity       # w <- w - eta v
#
# print(fl.exercises.check_server_momentum(momentum_step))
# ```
# With β = 0 it is exercise 4's server step; the velocity remembers the direction of earlier rounds.
# </details>
#
# 8. **Write the function.** One whole round in one function: `fedavg_round(w, client_data, orders, epochs,
#    batch_size, learning_rate)` trains every client of `client_data` (a list of `(X_k, y_k)`) from the same global
#    model `w` with `reference.local_update` (its batch order in `orders`), then returns the n_k/n average. Check it
#    with `print(fl.exercises.check_fedavg_round(fedavg_round))`, then try a version in which each client starts
#    from the previous client's model.
#
# <details><summary>Solution to exercise 8</summary>
#
# ```python
# def fedavg_round(w, client_data, orders, epochs, batch_size, learning_rate):
#     models = [reference.local_update(w, X, y, order=order, epochs=epochs, batch_size=batch_size,
#                                      client_learning_rate=learning_rate)                  # step 2, from the same w
#               for (X, y), order in zip(client_data, orders)]
#     p = np.array([len(y) for _, y in client_data]) / sum(len(y) for _, y in client_data)   # p_k = n_k / n
#     return [sum(p_k * model[i] for p_k, model in zip(p, models)).astype(np.float32)   # sum_k p_k w_k
#             for i in range(len(w))]
#
# print(fl.exercises.check_fedavg_round(fedavg_round))
# ```
# Clients trained one after another from each other's models is sequential SGD over the clients, not FedAvg: the
# checker recognises it.
# </details>
#
# **Next:** [05 · The math](05_the_math.ipynb)
