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
# # 03 · The model and local training
#
# **What you will learn**
# - the article's Keras model, what changed in Keras 3 (`input_shape=`), and how to count its 1539 parameters;
# - the local update (E epochs of mini-batch SGD) written out in NumPy, then the kit's fast version of it
#   (`fl.LocalTrainer` + `fl.client_update`);
# - why a client training alone on skewed data looks excellent locally and poor on everyone's data;
# - *client drift*: how the local models walk apart on non-IID data, and how local epochs E and the
#   client learning rate make it worse.
#
# **Article section:** 4.2 模型定义 ("Model definition") and step 2 of 3.1 算法原理 / 3.2 具体操作步骤
# ("Algorithm principle" / "Concrete steps"): 边缘设备根据本地数据进行模型训练，并更新本地模型
# ("the edge devices train the model on their local data and update their local models").
#
# **Time:** about 25 minutes, plus about 30 for the exercises · core path (notebooks 00–08).
#
# **Prerequisites:** [00 · Start here](00_start_here.ipynb), [02 · Data and partitions](02_data_and_partitions.ipynb)
# (IID and Dirichlet splits). Symbols as in the [glossary](GLOSSARY.md): K clients, n_k examples on client k,
# E local epochs, B batch size, η_l the client learning rate, α_D the Dirichlet concentration, w the model.

# %%
# NBVAL_IGNORE_OUTPUT
import fedlearn_edu as fl
import warnings
import numpy as np
import matplotlib.pyplot as plt
import tensorflow as tf
from IPython.display import display
from fedlearn_edu.widgets import local_training as lt

fl.set_seed(42)
fl.print_versions()

# %% [markdown]
# The knobs of this notebook. Change one, then run this cell and every cell below it (*Run › Run Selected Cell
# and All Below*). Every value in the stated ranges runs to the end; the ✔/✘ lines say which claims still hold.

# %% tags=["parameters"]
n_clients = 10                  # clients K: 2 .. 50
dirichlet_concentration = 0.1   # label skew α_D (small: very different clients): 0.01 .. 100.0
local_epochs = 5                # local epochs E for the drift experiments: 1 .. 20
client_learning_rate = 0.1      # client learning rate η_l: 0.001 .. 1.0
seed = 0                        # seed of the split: 0 .. 20

# %% [markdown]
# ## 1. The article's model (section 4.2)
#
# The article defines its network like this:
#
# ```python
# import tensorflow as tf
#
# model = tf.keras.Sequential([
#     tf.keras.layers.Dense(64, activation='relu', input_shape=(20,)),
#     tf.keras.layers.Dense(3, activation='softmax')
# ])
# ```
#
# 20 input features, one hidden layer of 64 ReLU units, and a softmax over 3 classes. Let us run it
# as printed. It still works in Keras 3, but passing `input_shape=` to a layer is deprecated: Keras
# warns (we catch the warning and print its message).

# %%
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    article_model = tf.keras.Sequential([
        tf.keras.layers.Dense(64, activation='relu', input_shape=(20,)),
        tf.keras.layers.Dense(3, activation='softmax')
    ])
for w in caught:
    print(f"{w.category.__name__}: {w.message}")

# %% [markdown]
# The kit builds the same network the Keras 3 way, with a `keras.Input(shape=(20,))` first
# (`fl.build_article_model`, seeded so that every run starts from the same weights).
#
# Why not `model.summary()`? Its table contains layer names such as `dense_7`, which change each time
# a model is built, so it is not stable output. We print the shapes ourselves instead.

# %%
model = fl.build_article_model(seed=0)
for layer in model.layers:
    kernel, bias = layer.get_weights()
    print(f"{type(layer).__name__}({layer.units}, {layer.activation.__name__}): "
          f"output {layer.output.shape}, kernel {kernel.shape}, bias {bias.shape}")
print("trainable parameters:", fl.count_parameters(model))

# %% [markdown]
# Count them by hand: the hidden layer has a 20 × 64 kernel plus 64 biases, the output layer a 64 × 3
# kernel plus 3 biases.

# %%
by_hand = 20 * 64 + 64 + 64 * 3 + 3
print("by hand:", by_hand)
fl.check(fl.count_parameters(model) == by_hand == fl.count_parameters(article_model)
         and [w.shape for w in article_model.get_weights()] == [w.shape for w in model.get_weights()],
         "the kit's model is the article's: same layers, same shapes", measured=fl.count_parameters(model),
         expected=by_hand)

# %% [markdown]
# In federated learning this number matters: **the model is what travels**. Every round each client
# downloads and uploads 1539 float32 numbers, 1539 × 4 = 6156 bytes (notebook 04 counts them).

# %% [markdown]
# ## 2. Step 2: a client trains on its own data
#
# A client receives the global weights and runs E epochs of mini-batch SGD on its local data.
# One could call `model.fit` once per client, but that builds Keras' training machinery again and
# again. The kit instead compiles **one** TensorFlow function for the model (`fl.LocalTrainer`)
# and calls it for every client with that client's data and the starting weights
# (`fl.client_update`). The weights go in and out as NumPy arrays, so the model itself is only
# scratch space.
#
# Our federation: the article's 800 training examples split across K = 10 clients with a Dirichlet
# label skew, α_D = 0.1 (notebook 02). Look at the label counts: many clients hold almost only one class.

# %%
data = fl.load_dataset("article")
parts = fl.dirichlet_partition(data.y_train, n_clients=n_clients, alpha=dirichlet_concentration, seed=seed)
counts = fl.label_distribution(data.y_train, parts, data.n_classes)
for k, row in enumerate(counts):
    print(f"client {k}: labels {row.tolist()}, n_k = {row.sum()}")

# %% [markdown]
# ### The local update, written out
#
# Before the kit's fast trainer, here is step 2 in plain NumPy, as McMahan et al. (2017) write it in
# Algorithm 1, ClientUpdate(k, w): for each of E epochs, go through the client's n_k examples in a
# shuffled order, in batches of B, and take one SGD step per batch,
#
# w ← w − η ∇ℓ(w; batch),
#
# where ℓ is the batch's mean cross-entropy and η the client learning rate. The gradient of the
# article's two layers, by backpropagation, is ten lines of its own (`fl.reference.gradients` in
# `fedlearn_edu/reference.py`); the loop around it is the lesson. `order` lists the example positions
# of every epoch, one epoch after the other (E × n_k entries).

# %%
from fedlearn_edu import reference


def local_update(w, X, y, epochs, batch_size, learning_rate, order):
    """ClientUpdate(k, w): E epochs of mini-batch SGD, starting from the global weights w."""
    w = [layer.copy() for layer in w]                        # the client's own copy: the server's stays as it is
    n = len(y)
    for epoch in range(epochs):
        for start in range(epoch * n, (epoch + 1) * n, batch_size):
            batch = order[start:min(start + batch_size, (epoch + 1) * n)]    # the last batch may be smaller
            grads = reference.gradients(w, X[batch], y[batch])             # gradient of the batch's mean loss
            for layer, g in zip(w, grads):
                layer -= np.float32(learning_rate) * g.astype(np.float32)  # w <- w - eta * gradient
    return w


# %% [markdown]
# Run it on client 0 of this federation and compare with the kit's `fl.client_update` on the same
# batches: `fedlearn_edu.rng.epoch_orders` gives the shuffled order the kit uses for (seed, round,
# client), one row per epoch.

# %%
from fedlearn_edu.rng import epoch_orders

trainer = fl.LocalTrainer(model)                 # the kit's compiled local training, for this model
start_weights = fl.get_weights(model)
X_0, y_0 = data.X_train[parts[0]], data.y_train[parts[0]]
E, B, eta = 2, 32, 0.1
order = epoch_orders(len(y_0), E, seed=0, round_index=0, client=0).ravel()     # E * n_k positions
mine = local_update(start_weights, X_0, y_0, epochs=E, batch_size=B, learning_rate=eta, order=order)
kit = fl.client_update(trainer, start_weights, X_0, y_0, epochs=E, batch_size=B, client_learning_rate=eta)
gap = max(float(np.abs(a - b).max()) for a, b in zip(mine, kit.weights))
print(f"client 0: n_k = {len(y_0)}, E = {E}, B = {B}, eta = {eta}")
print(f"{'✔' if gap < 1e-5 else '✘'} largest weight difference {gap:.1e} (expected below 1e-5): the same local update")

# %% [markdown]
# The same weights. `fl.client_update` does the same steps differently: the loop runs inside one
# compiled TensorFlow function (`fl.LocalTrainer`) that is traced once and reused for every client,
# Keras computes the gradient, and momentum, FedProx's μ and SCAFFOLD's correction are arguments.
# From here on we use it. (`fl.exercises.check_local_update` tries a function like yours on a tiny
# client of its own and says what went wrong, if anything.)

# %%
print(fl.exercises.check_local_update(local_update))

# %% [markdown]
# ### One skewed client, trained alone
#
# Pick the most skewed client (the largest share of a single label among clients with at least
# 20 examples) and train it **alone** for E = 20 epochs, starting from the initial model.

# %%
k = lt.most_skewed_client(counts, min_examples=min(20, counts.sum(axis=1).max()))   # fewer if no client has 20
X_k, y_k = data.X_train[parts[k]], data.y_train[parts[k]]
alone = fl.client_update(trainer, start_weights, X_k, y_k, epochs=20, batch_size=32,
                         client_learning_rate=0.1, client_id=k)
print(f"client {k}: labels {counts[k].tolist()}, sends back {len(alone.weights)} arrays and n_k = {alone.n_examples}")

# %% [markdown]
# `client_update` returns a `ClientResult`: the new weights, n_k, and the loss and accuracy **on the
# client's own data**. Now test the same model on the global test set, which holds all three classes.

# %%
test_loss, test_accuracy = trainer.evaluate(alone.weights, data.X_test, data.y_test)
print(f"accuracy on its own data:  {alone.accuracy:.3f}")
print(f"accuracy on the test set:  {test_accuracy:.3f}")
fl.check(alone.accuracy > test_accuracy + 0.3, "a skewed client looks far better at home than on everyone's data",
         measured=f"{alone.accuracy:.3f} vs {test_accuracy:.3f}", expected="a gap above 0.3")

# %% [markdown]
# ### The same with an IID client
#
# The client looks perfect at home: it holds only one label, so "always answer that label" is right
# every time. On everyone's data it is barely better than guessing one of three classes. The same
# experiment with an **IID** client (a random tenth of the data) shows only a small gap:

# %%
iid_parts = fl.iid_partition(data.y_train, n_clients=n_clients, seed=seed)
iid_alone = fl.client_update(trainer, start_weights, data.X_train[iid_parts[0]], data.y_train[iid_parts[0]],
                             epochs=20, client_learning_rate=0.1, client_id=0)
_, iid_test_accuracy = trainer.evaluate(iid_alone.weights, data.X_test, data.y_test)
print(f"IID client: own data {iid_alone.accuracy:.3f}, test set {iid_test_accuracy:.3f}")
fl.check(iid_alone.accuracy - iid_test_accuracy < (alone.accuracy - test_accuracy) - 0.3,
         "the IID client's gap is much smaller", measured=f"{iid_alone.accuracy - iid_test_accuracy:.3f}",
         expected=f"below {alone.accuracy - test_accuracy - 0.3:.3f}")

# %% [markdown]
# ### Every client alone
#
# Now train all the non-IID clients alone, each for E = 20 epochs from the same start.

# %%
alone_results = lt.train_clients(trainer, start_weights, data, parts, local_epochs=20, client_learning_rate=0.1)
alone_test = np.array([trainer.evaluate(r.weights, data.X_test, data.y_test)[1] for r in alone_results])
alone_local = np.array([r.accuracy for r in alone_results])
print("clients trained:", len(alone_results))

# %%
# extra code – local vs test accuracy of each client trained alone
fig, ax = plt.subplots(figsize=(6, 3.5))
ax.bar(np.arange(len(alone_local)) - 0.2, alone_local, width=0.4, label="own data")
ax.bar(np.arange(len(alone_test)) + 0.2, alone_test, width=0.4, label="global test set")
ax.set_xticks(range(len(alone_local)))
ax.set_xlabel("client")
ax.set_ylabel("accuracy")
ax.set_title(f"each client trained alone (Dirichlet α_D = {dirichlet_concentration:g})")
ax.set_ylim(0, 1.3)
ax.legend(ncol=2, loc="upper center")
plt.show()

# %% [markdown]
# *Figure:* bars of each client's accuracy on its own data and on the global test set after training alone; every
# client scores higher at home.

# %% [markdown]
# Every client is better at home than on the test set. And what if the same ten clients cooperate?
# Twenty rounds of FedAvg over exactly this partition (notebook 04 takes that loop apart):

# %%
fedavg = fl.run_experiment(fl.FLConfig(n_clients=n_clients, partition="dirichlet", alpha=dirichlet_concentration,
                                      rounds=20, seed=seed))
print(f"best client alone on the test set: {alone_test.max():.3f}")
print(f"FedAvg global model on the test set: {fedavg.final_accuracy:.3f}")
fl.check(np.all(alone_local > alone_test) and fedavg.final_accuracy > alone_test.max() + 0.1,
         "every client is better at home, and together they beat the best of them by more than 0.1",
         measured=f"FedAvg {fedavg.final_accuracy:.3f}, best alone {alone_test.max():.3f}")

# %% [markdown]
# ## 3. Client drift: local models walk apart
#
# In a real round all clients start from the **same** global weights w. After local training
# client k holds w_k, and the server will average them: w̄ = Σ_k (n_k/n) w_k. If the clients
# pulled in similar directions, the w_k lie close together and their average is a good model; if
# their data differ, each walks towards a model for *its own* labels and they spread apart.
# We measure the spread as
#
# **drift** = Σ_k (n_k/n) ‖w_k − w̄‖  (size-weighted mean distance of the client models to their average),
#
# and the agreement of the updates Δ_k = w_k − w as their mean pairwise cosine (1 = same direction).
# Here it is computed step by step for the non-IID clients, E = 5 epochs, client learning rate η_l = 0.1:

# %%
results = lt.train_clients(trainer, start_weights, data, parts, local_epochs=local_epochs,
                           client_learning_rate=client_learning_rate)
W = np.stack([fl.flatten_weights(r.weights) for r in results])        # (K, 1539)
n_k = np.array([r.n_examples for r in results])
w_bar = fl.weighted_average(W, n_k)                                     # (1539,)
drift = fl.fedavg_coefficients(n_k) @ np.linalg.norm(W - w_bar, axis=1)
print(f"non-IID drift: {drift:.3f}")

# %% [markdown]
# `lt.compute_client_drift` does the same (plus the cosines) for any partition. Compare IID clients with
# Dirichlet α_D = 0.1 clients under identical settings:

# %%
same = dict(n_clients=n_clients, local_epochs=local_epochs, client_learning_rate=client_learning_rate, seed=seed)
non_iid = lt.compute_client_drift(alpha=dirichlet_concentration, partition="dirichlet", **same)
iid = lt.compute_client_drift(partition="iid", **same)
print(f"drift:          IID {iid.drift:.3f}   non-IID {non_iid.drift:.3f}")
print(f"update cosine:  IID {iid.mean_cosine:.3f}   non-IID {non_iid.mean_cosine:.3f}")
fl.check(non_iid.drift > 1.5 * iid.drift and iid.mean_cosine > non_iid.mean_cosine + 0.3,
         "skewed clients end more than 1.5 times as far apart, and their updates agree less",
         measured=f"drift ratio {non_iid.drift / iid.drift:.2f}, cosines {iid.mean_cosine:.2f} vs {non_iid.mean_cosine:.2f}")

# %% [markdown]
# IID clients all push the model roughly the same way (cosine near 0.9); the skewed clients push in
# nearly unrelated directions and end more than twice as far apart.
#
# ### More local work means more drift
#
# FedAvg saves communication by letting clients do more local work per round: more epochs E, or
# bigger steps. The price is drift. Measure it over E (client learning rate 0.1) and over the
# client learning rate (E = 5):

# %%
epochs_grid = [1, 2, 5, 10, 20]
lr_grid = [0.001, 0.01, 0.1, 1.0]
split = dict(n_clients=n_clients, alpha=dirichlet_concentration, seed=seed)
by_epochs = {p: np.array([lt.compute_client_drift(local_epochs=E, partition=p, **split).drift for E in epochs_grid])
             for p in ("iid", "dirichlet")}
by_lr = {p: np.array([lt.compute_client_drift(client_learning_rate=lr, partition=p, **split).drift for lr in lr_grid])
         for p in ("iid", "dirichlet")}
for p in by_epochs:
    print(f"{p:>9}  by E {np.round(by_epochs[p], 3)}  by lr {np.round(by_lr[p], 3)}")
fl.check(all(np.all(np.diff(by_epochs[p]) > 0) and np.all(np.diff(by_lr[p]) > 0) for p in by_epochs),
         "drift grows with E and with the client learning rate, for both federations")

# %%
# extra code – drift against E and against the client learning rate
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(8, 3.5))
for p in ("iid", "dirichlet"):
    ax1.plot(epochs_grid, by_epochs[p], marker="o", label=p)
    ax2.plot(lr_grid, by_lr[p], marker="o", label=p)
ax1.set_xlabel("local epochs E (η_l = 0.1)")
ax2.set_xlabel("client learning rate η_l (E = 5)")
ax2.set_xscale("log")
ax1.set_ylabel("drift")
ax2.set_ylabel("drift")
ax1.set_title("drift against E")
ax2.set_title("drift against η_l")
ax1.legend()
plt.show()

# %% [markdown]
# *Figure:* client drift against the local epochs E (left) and against the client learning rate η_l (right), for the
# IID and the Dirichlet federation; drift grows with both, and the Dirichlet clients drift further.

# %% [markdown]
# ### Two sources of drift
#
# One honest caveat, which you will meet with the sliders: the IID clients drift too, because each
# follows its own random mini-batches, and with long, aggressive local training (E = 20 at learning
# rate 1) that noise alone spreads them as far as the label skew does. Drift has two sources —
# different data and noisy training — and the label skew shows most clearly at moderate settings.

# %%
aggressive = lt.compute_drift_comparison(n_clients=n_clients, alpha=dirichlet_concentration, local_epochs=20,
                                         client_learning_rate=1.0)
print(f"E=20, lr=1: drift IID {aggressive['drift_iid']:.3f}, non-IID {aggressive['drift_non_iid']:.3f}")
fl.check(aggressive["ratio"] < 1.2 < non_iid.drift / iid.drift,
         "with aggressive local training the label skew no longer stands out",
         measured=f"ratio {aggressive['ratio']:.2f} (moderate: {non_iid.drift / iid.drift:.2f})",
         expected="below 1.2 (moderate: above 1.2)")

# %% [markdown]
# ## 4. Play with it
#
# Move the sliders (the figure updates when you release one): number of clients K, the Dirichlet
# concentration α_D of the non-IID federation (small = skewed, 100 ≈ IID), local epochs E, and the client
# learning rate η_l. Left: every client model after local training, projected on the two main
# directions of the updates (the cross is the global model they all started from, stars are the
# FedAvg averages, dot size is n_k). Right: the drift of both federations. Presets show the lessons at once;
# *reset* returns to the notebook's settings. The callback is the plain function `lt.show_drift`;
# `lt.compute_drift_comparison` returns its numbers.

# %%
controls = dict(n_clients=fl.widgets.client_slider(n_clients, min=2, max=50),
                alpha=fl.widgets.log_value_slider(dirichlet_concentration, 0.01, 100.0, "Dirichlet concentration α_D"),
                local_epochs=fl.widgets.int_slider(local_epochs, 1, 20, "local epochs E"),
                client_learning_rate=fl.widgets.log_value_slider(client_learning_rate, 0.001, 1.0,
                                                                 "client learning rate η_l"))
display(fl.widgets.ControlPanel(lt.show_drift, controls, presets=lt.PRESETS, run_now=False))

# %% [markdown]
# The panel draws when you move a slider. The same function at the notebook's settings, so the figure is also
# here when the notebook is read without a running kernel:

# %%
default = lt.show_drift(n_clients=n_clients, alpha=dirichlet_concentration, local_epochs=local_epochs,
                        client_learning_rate=client_learning_rate)

# %% [markdown]
# *Figure:* left, the client models after E = 5 epochs projected onto two directions, IID clients bunched together and
# Dirichlet clients scattered around the start; right, bars of the drift, higher for the non-IID federation.

# %% [markdown]
# ## Summary
# - The article's model is Dense(64, ReLU) → Dense(3, softmax): 20·64 + 64 + 64·3 + 3 = 1539 parameters.
#   Keras 3 warns about `input_shape=`; `fl.build_article_model` uses `keras.Input` instead.
# - Step 2 (local training) is E epochs of mini-batch SGD from the global weights: a dozen lines of NumPy
#   (`local_update`), or `fl.client_update(trainer, global_weights, X_k, y_k, ...)`, the same steps compiled.
# - A client alone on skewed data scores near 100% on its own data and far less on the test set;
#   the same clients together (FedAvg) beat every one of them.
# - Client drift Σ_k (n_k/n)‖w_k − w̄‖ is larger on non-IID data and grows with the local epochs E and
#   the client learning rate: local work saves communication but pulls the clients apart.
#
# ## Exercises
# They go from predicting to writing the code. Each has a collapsed solution; the ones with a checker tell you
# what is wrong, not only that something is.
#
# 1. **Predict, then run.** Train the most skewed client `k` alone for E = 1 epoch instead of 20. What will its
#    accuracy on the global test set be? Write your guess (a number between 0 and 1) below, then run.

# %%
guess_test_accuracy_one_epoch = None   # your guess, e.g. 0.5

# %%
one_epoch = fl.client_update(trainer, start_weights, X_k, y_k, epochs=1, batch_size=32,
                             client_learning_rate=0.1, client_id=k)
_, one_epoch_test = trainer.evaluate(one_epoch.weights, data.X_test, data.y_test)
print(f"E = 1: own data {one_epoch.accuracy:.3f}, test set {one_epoch_test:.3f} (E = 20: {test_accuracy:.3f})")
print(fl.exercises.check_prediction(guess_test_accuracy_one_epoch, one_epoch_test, tolerance=0.05, relative=False,
                                    what="test accuracy after one epoch"))

# %% [markdown]
# <details><summary>Solution to exercise 1</summary>
#
# Compare the two lines above: one epoch is already enough to learn the easiest rule on a client that holds
# (almost) one label, "answer that label". More epochs make the client surer of it at home and do not teach it
# the classes it never sees, so its test accuracy stays far below what the federation reaches.
# </details>
#
# 2. **Compute.** How many trainable parameters P has a network 20 → 32 → 16 → 3 (two hidden Dense layers with
#    biases)? Check with `print(fl.exercises.check_parameter_count(P, hidden_units=(32, 16)))`.
#
# <details><summary>Solution to exercise 2</summary>
#
# ```python
# P = (20 * 32 + 32) + (32 * 16 + 16) + (16 * 3 + 3)      # each layer: inputs x units weights + units biases
# print(P, fl.exercises.check_parameter_count(P, hidden_units=(32, 16)))
# ```
# Fewer parameters than the article's 1539, although it has one layer more: the first layer, 20 × 64, is most
# of the article's model.
# </details>
#
# 3. **Compute.** A client holds n_k = 90 examples and trains E = 5 epochs with B = 32. How many SGD steps does
#    it take? And with B = ∞ (one full batch per epoch)? Check each with
#    `print(fl.exercises.check_local_steps(steps, n_examples=90, epochs=5, batch_size=32))` (`batch_size=None`
#    for B = ∞).
#
# <details><summary>Solution to exercise 3</summary>
#
# ```python
# steps = 5 * math.ceil(90 / 32)          # E x ceil(n_k / B): batches of 32, 32 and 26
# print(steps, fl.exercises.check_local_steps(steps, n_examples=90, epochs=5, batch_size=32))
# print(fl.exercises.check_local_steps(5, n_examples=90, epochs=5, batch_size=None))
# ```
# The last batch of each epoch is smaller, not dropped; with B = ∞ each epoch is one step on all 90 examples.
# </details>
#
# 4. **Read the chart.** Which client in the bar chart has the best test accuracy alone? Look at its label counts
#    and explain.

# %% jupyter={"source_hidden": true} tags=["solution"]
# Solution to exercise 4
best_alone = int(np.argmax(alone_test))
print(f"client {best_alone}: test accuracy {alone_test[best_alone]:.3f}, labels {counts[best_alone].tolist()}")
print("label counts of every client:", counts.tolist())
# The winner is not the least skewed client but one with many examples that sees every label at least a few
# times: a few examples of a class are enough to learn roughly where it lies; none are not.

# %% [markdown]
# 5. **Explore.** With the sliders, find a setting where the IID federation drifts *more* than the non-IID one.
#    What do E and the learning rate look like there?

# %% jupyter={"source_hidden": true} tags=["solution"]
# Solution to exercise 5
hard = dict(n_clients=10, local_epochs=20, client_learning_rate=1.0)
iid_drift = lt.compute_client_drift(partition="iid", **hard).drift
skewed_drift = lt.compute_client_drift(partition="dirichlet", alpha=0.1, **hard).drift
print(f"{'✔' if iid_drift > skewed_drift else '✘'} E = 20, learning rate 1: IID drift {iid_drift:.2f}, "
      f"non-IID {skewed_drift:.2f} (expected IID larger)")

# %% [markdown]
# 6. **Write the function.** Write `mean_update_norm(results, start_weights)` that returns Σ_k (n_k/n)‖w_k − w‖:
#    how far the clients moved from the start, rather than from each other. Compare it with the drift of the
#    non-IID `results` above. *Hint:* reuse `W` and `n_k`; which point is the weighted average w̄ closest to, on
#    average?

# %% jupyter={"source_hidden": true} tags=["solution"]
# Solution to exercise 6
def mean_update_norm(results, start_weights):
    W = np.stack([fl.flatten_weights(r.weights) for r in results])
    w = fl.flatten_weights(start_weights)
    n_k = np.array([r.n_examples for r in results])
    return fl.fedavg_coefficients(n_k) @ np.linalg.norm(W - w, axis=1)

moved = mean_update_norm(results, start_weights)
print(f"{'✔' if moved > drift else '✘'} moved from the start {moved:.3f}, drift {drift:.3f} (expected larger)")

# %% [markdown]
# 7. **Implement the variant.** FedProx adds (μ/2)‖w − w_global‖² to every local loss, so every step's gradient
#    gains μ (w − w_global), where w_global is the model the client received. Write
#    `fedprox_update(w, X, y, epochs, batch_size, learning_rate, order, mu)` from `local_update` above, then
#    run `print(fl.exercises.check_fedprox_update(fedprox_update))`.
#
# <details><summary>Solution to exercise 7</summary>
#
# ```python
# def fedprox_update(w, X, y, epochs, batch_size, learning_rate, order, mu):
#     anchor = [layer.copy() for layer in w]                  # w_global: the model received
#     w = [layer.copy() for layer in w]
#     n = len(y)
#     for epoch in range(epochs):
#         for start in range(epoch * n, (epoch + 1) * n, batch_size):
#             batch = order[start:min(start + batch_size, (epoch + 1) * n)]
#             grads = reference.gradients(w, X[batch], y[batch])
#             for layer, g, a in zip(w, grads, anchor):
#                 layer -= np.float32(learning_rate) * (g + mu * (layer - a)).astype(np.float32)
#     return w
#
# print(fl.exercises.check_fedprox_update(fedprox_update))
# ```
# With μ = 0 it is `local_update`. The anchor must be a copy made *before* the first step: anchoring to the moving w
# makes the term zero.
# </details>
#
# **Next:** [04 · FedAvg step by step](04_fedavg_step_by_step.ipynb)
