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
# # 09 · Privacy: what an update reveals, and differential privacy
#
# **What you will learn**
# - why "the data never leaves the device" is not privacy: a server reads a client's record off its update,
#   exactly, and an optimisation attack reads it where the closed form fails;
# - how much each defence helps, measured: bigger batches, several local steps, secure aggregation,
#   clipping with Gaussian noise;
# - differential privacy for FedAvg (DP-FedAvg): what ε and δ mean, how the sampling rate, the rounds and the
#   noise set ε (Google's `dp_accounting`), and what it costs in accuracy.
#
# Secure aggregation and poisoned clients follow in [09b](09b_secure_aggregation_and_poisoning.ipynb).
#
# **Article section:** *2.3 federated learning* and *6.附录常见问题与解答* ("6. Appendix: frequently asked
# questions and answers"), where the article claims twice that federated learning improves data security.
#
# **Time:** about 30 minutes, plus about 30 for the exercises · going deeper (notebooks 09–14).
#
# **Prerequisites:** [04 · FedAvg step by step](04_fedavg_step_by_step.ipynb) (what a client sends back),
# [08 · FAQ and applications](08_faq_and_applications.ipynb) (the first reconstruction). Symbols as in the
# [glossary](GLOSSARY.md): K clients, w the model, P its parameters, η_l the client learning rate, S the clip
# norm, z the noise multiplier, q the sampling rate, (ε, δ) the privacy budget, the RDP accountant.
# **Needs** the kit's `[privacy]` extra (dp-accounting and cryptography; part of `requirements.txt`, or
# `pip install -e ".[notebooks,privacy]"`): the first cell stops with the install command if it is missing.

# %%
# NBVAL_IGNORE_OUTPUT
import fedlearn_edu as fl
fl.require_extra("privacy")
import numpy as np
import matplotlib.pyplot as plt
from IPython.display import display
from fedlearn_edu import privacy
from fedlearn_edu.widgets import privacy as privacy_widgets

fl.set_seed(42)
fl.print_versions()

# %% [markdown]
# The knobs of this notebook. Change one, then run this cell and every cell below it (in JupyterLab: *Run ›
# Run Selected Cell and All Below*). Every value in the stated ranges runs to the end; the ✔/✘ lines then say
# which of the notebook's claims still hold. The first four feed the ε accountant of section 6; z, S, K and η_l
# the DP-FedAvg runs of section 7.

# %% tags=["parameters"]
noise_multiplier = 1.0          # noise multiplier z: 0.0 .. 8.0
sampling_probability = 0.2      # sampling rate q, the fraction of clients in a round (for ε): 0.01 .. 1.0
rounds = 15                     # rounds R (for ε): 1 .. 500
delta = 1e-05                   # δ of the (ε, δ) guarantee: 1e-09 .. 0.001
clip_norm = 0.5                 # clip norm S of the DP-FedAvg runs: 0.1 .. 2.0
n_clients = 50                  # clients K of the DP-FedAvg runs: 20 .. 200
client_learning_rate = 0.5      # client learning rate η_l of the DP-FedAvg runs: 0.1 .. 1.0

# %% [markdown]
# ## The claim, and who the attacker is
#
# > federated learning 可以解决分布式学习中的一些问题，并且还可以利用边缘计算技术来提高数据安全性和降低通信开销。
# > (section 2.3)
# >
# > 这使得 federated learning 可以提高数据安全性和降低通信开销。 (section 6, first answer)
#
# *Federated learning can solve some of the problems of distributed learning, and can also use edge computing
# to improve data security and reduce communication overhead. — This lets federated learning improve data
# security and reduce communication overhead.*
#
# "Improves data security" against whom? A security reviewer first asks for the **threat model**: who the
# attacker is, what it sees and what it wants.
#
# | attacker | sees | wants |
# |---|---|---|
# | honest-but-curious server (follows the protocol, reads what it gets) | every client's update (or only their sum, with secure aggregation) | a client's records |
# | malicious server | the same, and can send clients any model it likes | the same, with more power |
# | malicious client(s) | the global models | to spoil or backdoor the model (poisoning) |
# | anyone with the final model | the model, its predictions | whether a person was in the training data |
#
# Federated learning by itself moves the raw data off the server's disk, nothing more. This notebook measures
# the first and the last line; [09b](09b_secure_aggregation_and_poisoning.ipynb) the malicious clients.

# %% [markdown]
# ## 1 · The server reads a record off an update
#
# FedSGD with batch size 1: the client computes one gradient step on one record and sends its model back.
# For a Dense first layer with a bias, $\Delta W_1[:, j] = -\eta_l\, x\, \delta_j$ and $\Delta b_1[j] = -\eta_l\,\delta_j$,
# so **$x = \Delta W_1[:, j] / \Delta b_1[j]$ for every hidden unit $j$ that moved**, and the output bias
# rises only for the true class (`privacy.reconstruct_single_example`). The data are handwritten digits.

# %%
digits = fl.load_dataset("digits")
model = fl.build_model(digits.n_features, digits.n_classes)
trainer, sent = fl.LocalTrainer(model), fl.get_weights(model)
x_private, y_private = digits.X_train[:1], digits.y_train[:1]
returned = fl.client_update(trainer, sent, x_private, y_private, batch_size=None, client_learning_rate=0.1)
x_read, label_read = privacy.reconstruct_single_example(sent, returned.weights)
error = np.linalg.norm(x_read - x_private[0]) / np.linalg.norm(x_private[0])
print(f"label read off the update: {label_read} (true {y_private[0]}); relative error of the image: {error:.1e}")

# %%
fl.check(label_read == y_private[0] and error < 1e-5,
         "the record comes back exactly (up to float32 rounding), and its label", measured=f"{error:.1e}",
         expected="< 1e-05")

# %% [markdown]
# ## 2 · How much do the defences help?
#
# The same attack against growing defences. With several examples each unit's ratio is a *blend* of the examples
# that unit responded to, but a ReLU unit that fired for only **one** example of the batch still returns that
# example exactly. The attacker tries every unit; we score its best candidate (relative error to the closest
# private record; 0 = exact, about 1 = nothing learnt) and count records recovered within 1%.

# %%
rows = privacy.leakage_under_defences(digits.X_train, digits.y_train, trainer, sent,
                                      clip_norm=0.1, noise_multiplier=1.0, n_secure_clients=10)
print(f"{'defence':48} {'records':>7} {'best error':>10} {'recovered':>9}")
for row in rows:
    print(f"{row.defence:48} {row.n_examples:>7} {row.error:>10.3f} {row.recovered:>9}")

# %%
# extra code – the attacker's best candidate under each defence
labels = ["1 record", "batch 4", "batch 16", "batch 64", "FedAvg", "secure sum", "clip+noise"]
fig, axes = plt.subplots(1, len(rows), figsize=(12, 2.6))
for ax, row, label in zip(axes, rows, labels):
    ax.imshow(row.best_candidate.reshape(8, 8), cmap="gray_r")
    ax.set(title=label, xlabel=f"error {row.error:.2f}", xticks=[], yticks=[])
axes[0].set_ylabel("best candidate")
fig.suptitle("What the attacker reads off the update, under each defence")
plt.show()

# %% [markdown]
# *Figure:* the attacker's best candidate image under each defence, from an exact digit (one record) through
# blurred blends (larger batches, FedAvg's local steps) to a near-copy (secure sum) and pure noise (clipping
# and noise).
#
# Read the table from the top:
# - one record: exact;
# - a batch of 4: still **several records exact**, because some units fired for one record only;
# - batches of 16 and 64, and FedAvg's 20 local steps: no record within 1%, but blends that still look like digits;
# - **secure aggregation** of 10 one-record clients: the server sees only the sum, and that sum *still* gives a
#   near-copy of one client's record — secure aggregation hides who sent what, not what the sum contains;
# - clipping to S = 0.1 and Gaussian noise of std 1·S per coordinate: nothing (error above 1).

# %%
fl.check(rows[0].error < 1e-5 and rows[1].recovered >= 2, "one record, and a batch of 4, leak exactly",
         measured=f"{rows[1].recovered} of 4 records of the batch recovered", expected="≥ 2")
fl.check(min(rows[2].error, rows[3].error, rows[4].error) > 0.1, "16+ records or 20 local steps: no exact copy",
         measured=min(rows[2].error, rows[3].error, rows[4].error), expected="> 0.1")
fl.check(rows[5].error < 0.2 and rows[5].error < rows[2].error, "the secure sum of 10 clients leaks a near-copy",
         measured=rows[5].error, expected="< 0.2")
fl.check(rows[6].error > 0.9, "clipping + noise: the attack learns nothing", measured=rows[6].error, expected="> 0.9")

# %% [markdown]
# ## 3 · How much noise does it take?
#
# The last row again, one record's update clipped to S = 0.1, for growing noise multipliers $z$ (noise std $zS$
# per coordinate, the view of a server that receives a noised update):

# %%
noise_levels = [0.0, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0]
noise_errors = privacy.leakage_against_noise(x_private, y_private, trainer, sent, noise_levels, clip_norm=0.1)
print("z     :", noise_levels)
print("error :", np.round(noise_errors, 3).tolist())

# %%
# extra code – reconstruction error against the noise multiplier
fig, ax = plt.subplots(figsize=(6, 3))
ax.plot([max(z, 3e-4) for z in noise_levels], noise_errors, "o-")
ax.axhline(1.0, color="gray", linestyle=":", label="error 1: no better than all zeros")
ax.set(xscale="log", xlabel="noise multiplier z (z = 0 drawn at the left edge)", ylabel="best-match error",
       title="Reconstruction error against the noise")
ax.legend()
plt.show()

# %% [markdown]
# *Figure:* the attacker's best-match error against the noise multiplier z on a log scale; it stays near 0 up to
# z = 0.003 and passes 1 (nothing learnt) from z = 0.1 on.

# %%
fl.check(noise_errors[0] < 1e-5 and noise_errors[1] < 0.05, "a whisper of noise leaves the record readable",
         measured=noise_errors[1], expected="< 0.05 at z = 0.001")
fl.check(noise_errors[3] > 0.1 and min(noise_errors[5:]) > 0.9, "z ≥ 0.1: nothing left to read",
         measured=min(noise_errors[5:]), expected="> 0.9")

# %% [markdown]
# Why so little noise is enough: the update has $P$ coordinates, so the noise's norm is about $zS\sqrt{P}$,
# while the clipped signal's norm is at most $S$. In units of $S$:

# %%
P = fl.count_parameters(sent)
print(f"P = {P:,} coordinates")
for z, error in zip(noise_levels, noise_errors):
    print(f"z = {z:<5g}: noise norm about {z * np.sqrt(P):5.2f} S, reconstruction error {error:.2f}")

# %% [markdown]
# With $P$ = 4,810 coordinates, $z = 0.03$ (three hundredths of $S$ per coordinate) already gives a noise norm
# about twice the signal's, and the error climbs to about 0.8; from $z = 0.1$ on, the noise is several times
# the signal and the error passes 1: nothing left to read. DP-FedAvg below uses $z \ge 0.5$ on the *average*;
# but note who adds that noise.

# %% [markdown]
# ## 4 · Where the closed form fails: Deep Leakage from Gradients
#
# With a smooth activation (tanh) every unit responds to every record, so with a batch of 4 each ratio is a blend.
# Zhu et al. (2019) instead *fit* dummy records and soft labels until their gradient matches the observed one
# (`privacy.deep_leakage`: Adam, 500 iterations, seeded). The server knows the model and the learning rate, so
# FedSGD's update gives it the gradient: $g = (w_\text{sent} - w_\text{returned}) / \eta_l$.

# %%
tanh_model = fl.build_model(digits.n_features, digits.n_classes, hidden_units=(32,), activation="tanh", seed=1)
tanh_trainer, tanh_sent = fl.LocalTrainer(tanh_model), fl.get_weights(tanh_model)
X_batch, y_batch = digits.X_train[:4], digits.y_train[:4]
back = fl.client_update(tanh_trainer, tanh_sent, X_batch, y_batch, batch_size=None, client_learning_rate=0.1)
closed_form_error = privacy.best_match_error(privacy.candidate_inputs(tanh_sent, back.weights), X_batch)
gradient = privacy.update_to_gradient(tanh_sent, back.weights, client_learning_rate=0.1)
dlg = privacy.deep_leakage(tanh_sent, gradient, n_examples=4, activation="tanh", iterations=500, seed=0)

# %%
dlg_errors = np.array([[np.linalg.norm(d - x) / np.linalg.norm(x) for x in X_batch] for d in dlg.x]).min(axis=0)
print(f"closed form, best candidate: error {closed_form_error:.2f}")
print(f"DLG: every private record has a dummy within error {dlg_errors.max():.2f}")
print(f"DLG labels {sorted(dlg.labels.tolist())}, true labels {sorted(y_batch.tolist())}")
fl.check(closed_form_error > 0.1 and dlg_errors.max() < 0.1, "DLG recovers all four records, the ratio none",
         measured=f"DLG {dlg_errors.max():.3f}, ratio {closed_form_error:.3f}", expected="DLG < 0.1 < ratio")
fl.check(sorted(dlg.labels.tolist()) == sorted(y_batch.tolist()), "and their labels")

# %%
# extra code – the four private records (top) and DLG's dummies matched to them (bottom)
match = [int(np.argmin([np.linalg.norm(d - x) for d in dlg.x])) for x in X_batch]
fig, axes = plt.subplots(2, 4, figsize=(6, 3.6))
for i in range(4):
    axes[0, i].imshow(X_batch[i].reshape(8, 8), cmap="gray_r")
    axes[1, i].imshow(dlg.x[match[i]].reshape(8, 8), cmap="gray_r")
    axes[1, i].set_xlabel(f"error {dlg_errors[i]:.2f}")
for ax in axes.ravel():
    ax.set(xticks=[], yticks=[])
axes[0, 0].set_ylabel("private")
axes[1, 0].set_ylabel("DLG")
fig.suptitle("Deep Leakage from Gradients, batch of 4")
plt.show()

# %% [markdown]
# *Figure:* the four private digits (top row) and the dummies DLG fitted to their gradient (bottom row), each
# dummy a near-copy of its record.
#
# DLG gets harder as the batch grows (try 8 in the exercises) and with ReLU networks, but later attacks
# (Geiping et al. 2020) reach batches of dozens of images. Bigger batches are not a privacy guarantee.
#
# ## 5 · Differential privacy: DP-FedAvg
#
# Differential privacy bounds how much the *outputs* (here: every global model) can depend on any one client.
# DP-FedAvg (McMahan et al. 2018) changes the server's step:
#
# 1. each client takes part in a round independently with probability $q$, the **sampling rate** (so $m = qK$
#    clients on average);
# 2. each update $\Delta_k = w_k - w_t$ is **clipped** to norm $S$: one client can move the sum by at most $S$;
# 3. the server adds Gaussian noise to the sum and divides by the **expected** $m$, not by the number who showed
#    up (the paper's fixed-denominator estimator):
#    $\Delta = \big(\sum_k \mathrm{clip}(\Delta_k, S) + \mathcal N(0, z^2S^2 I)\big)/m$, i.e. noise of standard
#    deviation $zS/m$ per coordinate of the average; $z$ is the **noise multiplier**.
#
# The privacy spent, $(\varepsilon, \delta)$, follows from $q$, $z$ and the number of rounds alone: no client
# changes the probability of any sequence of models by more than a factor $e^\varepsilon$, except with
# probability $\delta$. We do not derive it by hand: `privacy.dp_epsilon` asks Google's `dp_accounting` for it.
# Its **RDP accountant** ([glossary](GLOSSARY.md)) measures each round's privacy loss in Rényi divergence, where
# the losses of the rounds simply add up, and converts the total into $(\varepsilon, \delta)$ at the end. First
# a check that it is the accountant the DP literature uses: TensorFlow Privacy's test suite
# (`compute_dp_sgd_privacy_test.py`) states $\varepsilon = 0.724$ for DP-SGD on 60,000 examples, batch 150,
# $z = 1.3$, 15 epochs, $\delta = 10^{-5}$.

# %%
steps = int(np.ceil(15 * 60000 / 150))
epsilon_published = privacy.dp_epsilon(noise_multiplier=1.3, sampling_probability=150 / 60000, rounds=steps,
                                       delta=1e-5)
fl.check(abs(epsilon_published - 0.724) < 0.005, f"{steps} steps: our accountant gives TensorFlow Privacy's ε",
         measured=f"{epsilon_published:.3f}", expected="0.724")

# %% [markdown]
# ## 6 · How ε grows: the sampling rate, the rounds and δ
#
# Our federation: the article's data over K = 50 clients, q = 0.2 (10 clients per round on average), 15 rounds,
# and $\delta = 10^{-5}$. $\delta$ is the probability that the ε guarantee fails outright, so it must be *much*
# smaller than $1/K$: with $\delta = 1/K$ a mechanism could publish one randomly chosen client's data in full and
# still claim it.

# %%
print(f"δ = {delta:g}, 1/K = {1 / n_clients:g}, δ × K = {delta * n_clients:g}")

# %% [markdown]
# The panel below is the accountant alone, with no training, so it answers at once: move the sampling rate $q$,
# the rounds $R$, the noise multiplier $z$ and $\delta$, and read ε. Presets: the notebook's defaults, every
# client in every round ($q = 1$), 500 rounds, a stricter $\delta = 10^{-7}$, little noise ($z = 0.5$); *reset*
# returns to the parameters cell.

# %%
accounting = dict(
    sampling_probability=fl.widgets.log_value_slider(sampling_probability, 0.01, 1.0, "sampling rate q"),
    rounds=fl.widgets.int_slider(rounds, 1, 500, "rounds R"),
    noise_multiplier=fl.widgets.float_slider(noise_multiplier, 0.0, 8.0, "noise multiplier z", step=0.1),
    delta=fl.widgets.log_value_slider(delta, 1e-9, 1e-3, "δ"))
display(fl.widgets.ControlPanel(privacy_widgets.show_epsilon, accounting,
                                presets=privacy_widgets.EPSILON_PRESETS, run_now=False))

# %% [markdown]
# The panel draws when you move a slider. At the parameters cell's values:

# %%
budget = privacy_widgets.show_epsilon(sampling_probability, rounds, noise_multiplier, delta)

# %% [markdown]
# *Figure:* ε against the number of rounds on log scales; it grows with every round, but more slowly than the
# rounds themselves.
#
# Try the presets: sampling every client in every round ($q = 1$) costs several times the ε, because a client that
# takes part only with probability $q$ is hidden by the chance that it did not; 500 rounds cost far more, but not
# 500 times the first round's ε; a stricter δ costs a little; halving the noise costs a lot. ε depends on $q$,
# $z$, $R$ and δ only: not on $S$, not on the model, not on the data.

# %% [markdown]
# ## 7 · What DP costs in accuracy
#
# The panel runs DP-FedAvg (`privacy.run_dp_fedavg`, built from `Simulation`'s steps) at your noise multiplier
# $z$, clip norm $S$, number of clients $K$ and client learning rate $\eta_l$, always with $q = 0.2$, 15 rounds
# and $\delta = 10^{-5}$; the right panel places it on the accuracy-against-ε curve of the default setting.
# Accuracy is the mean over the last 5 rounds (under DP one round's accuracy is noisy). Presets: clipping
# without noise, strong privacy ($z = 8$), the same with many clients, tight clipping, small steps.

# %%
controls = dict(
    noise_multiplier=fl.widgets.float_slider(noise_multiplier, 0.0, 8.0, "noise multiplier z", step=0.1),
    clip_norm=fl.widgets.float_slider(clip_norm, 0.1, 2.0, "clip norm S", step=0.1),
    n_clients=fl.widgets.client_slider(n_clients, min=20, max=200),
    client_learning_rate=fl.widgets.log_value_slider(client_learning_rate, 0.1, 1.0, "client learning rate η_l"))
display(fl.widgets.ControlPanel(privacy_widgets.show_dp_tradeoff, controls, presets=privacy_widgets.DP_PRESETS,
                                run_now=False))

# %% [markdown]
# The panel draws when you move a slider: your setting, the run without DP and the reference curve train
# together in one call of the batched engine (`privacy.run_dp_experiments`; a setting seen before answers from
# memory). At the parameters cell's values:

# %%
tradeoff = privacy_widgets.show_dp_tradeoff(noise_multiplier, clip_norm, n_clients, client_learning_rate)

# %% [markdown]
# *Figure:* left, test accuracy per round with and without DP; right, accuracy against ε for the default setting
# at five noise multipliers, with your setting marked: the smaller ε, the lower the accuracy.
#
# The whole curve of the default setting as numbers:

# %%
for run in tradeoff.reference:
    print(f"z = {run.noise_multiplier:>3g}: epsilon = {run.epsilon:6.3f}, accuracy {run.late_accuracy:.3f}")
print(f"no DP:   epsilon =    inf, accuracy {tradeoff.non_private.late_accuracy:.3f}")

# %%
curve = {run.noise_multiplier: run for run in tradeoff.reference}
no_dp = tradeoff.non_private.late_accuracy
fl.check(all(a.epsilon > b.epsilon for a, b in zip(tradeoff.reference, tradeoff.reference[1:])), "more noise, less ε")
fl.check(curve[1.0].epsilon < 10 and curve[1.0].late_accuracy >= no_dp - 0.05,
         "at z = 1: ε < 10 for a few points of accuracy", measured=f"{no_dp - curve[1.0].late_accuracy:.3f} lost",
         expected="≤ 0.05")
fl.check(curve[8.0].epsilon < 0.5 and curve[8.0].late_accuracy <= no_dp - 0.1, "ε < 0.5 costs over 10 points",
         measured=f"{no_dp - curve[8.0].late_accuracy:.3f} lost", expected="≥ 0.1")

# %% [markdown]
# **What DP protects, and against whom.** ε bounds what *anyone who sees the global models* can learn about
# whether one client took part: other clients, the public, users of the final model (membership inference,
# memorised records). Here it is *user-level*: a client's whole data set is the unit. It does **not** protect
# against this server: the server saw the clipped updates before adding the noise (section 2's table is what it
# sees). For that, the noise must be added on the devices (local DP: far more noise) or combined with secure
# aggregation (distributed DP, [09b](09b_secure_aggregation_and_poisoning.ipynb)). **The cost**: accuracy (above),
# many clients per round (the noise is divided by $m$; real deployments use thousands), and a budget that runs
# out: ε grows with every round.
#
# The mechanism itself: with all updates zero, what the server adds has the stated standard deviation $zS/m$.

# %%
rng = np.random.default_rng(0)
noise = np.concatenate([privacy.dp_aggregate(np.zeros((10, 1000)), clip_norm=0.5, noise_multiplier=1.0,
                                             expected_clients=10, rng=rng) for _ in range(20)])
print(f"empirical std {noise.std():.4f}, stated z*S/m = {privacy.dp_noise_std(1.0, 0.5, 10):.4f}")

# %% [markdown]
# ## Summary
# - The article's "improves data security" does not hold by itself: a FedSGD update with batch size 1 gives the
#   record back exactly, and a batch of 4 still gives several records exactly.
# - Defences measured: bigger batches and FedAvg's local steps blur the closed form, but Deep Leakage from
#   Gradients recovered all 4 records of a batch where the ratio trick failed; secure aggregation over 10 clients
#   still leaked a near-copy; clipping plus noise stopped the attack.
# - DP-FedAvg clips each update to S and adds noise of std zS/m to the fixed-denominator average; the RDP
#   accountant of `dp_accounting` turns (q, z, rounds, δ) into ε (and reproduces TensorFlow Privacy's published
#   0.724). ε grows with the rounds and the sampling rate, and shrinks with the noise; δ must stay far below 1/K.
# - Less ε, less accuracy; many clients per round make the same noise cheaper.
#
# ## Exercises
#
# From predicting to writing code, easiest first. Each has a collapsed solution; the checkers say what is wrong,
# not only that something is.
#
# 1. **Predict, then run.** Our federation samples each client with probability $q = 0.2$ and adds noise with
#    $z = 1$. The cell below prints its ε after 15 rounds ($\delta = 10^{-5}$). What is ε after 60 rounds, four
#    times as many? Write your guess, then run.

# %%
guess_epsilon_60 = None   # your guess: ε after 60 rounds with q = 0.2, z = 1, e.g. 20

# %%
epsilon_15 = privacy.dp_epsilon(noise_multiplier=1.0, sampling_probability=0.2, rounds=15, delta=1e-5)
epsilon_60 = privacy.dp_epsilon(noise_multiplier=1.0, sampling_probability=0.2, rounds=60, delta=1e-5)
print(f"epsilon after 15 rounds {epsilon_15:.2f}, after 60 rounds {epsilon_60:.2f} "
      f"(ratio {epsilon_60 / epsilon_15:.2f})")
print(fl.exercises.check_prediction(guess_epsilon_60, epsilon_60, tolerance=0.15, what="ε after 60 rounds"))

# %% [markdown]
# <details><summary>Solution to exercise 1</summary>
#
# Four times the rounds costs only about twice the ε (the ratio printed above), not four times. The RDP accountant
# composes the rounds in Rényi divergence, where they add up, and converting back to $(\varepsilon, \delta)$ makes
# ε grow roughly like the square root of the number of rounds. Adding ε per round (basic composition) would
# overestimate the cost many times over.
# </details>
#
# 2. **Compute.** In DP-FedAvg with $K = 50$ clients, $q = 0.2$, clip norm $S = 0.5$ and $z = 1$, one round
#    happens to sample 8 clients. What is the standard deviation of the noise on each coordinate of the averaged
#    update? Check it with `print(fl.exercises.check_dp_noise_std(answer, noise_multiplier=1.0, clip_norm=0.5,
#    expected_clients=10, realised_clients=8))`.
#
# <details><summary>Solution to exercise 2</summary>
#
# ```python
# answer = 1.0 * 0.5 / (0.2 * 50)          # z S / m with the EXPECTED m = q K = 10
# print(answer)
# print(fl.exercises.check_dp_noise_std(answer, noise_multiplier=1.0, clip_norm=0.5,
#                                       expected_clients=10, realised_clients=8))
# ```
# The server adds noise of std $zS$ to the sum and divides by $m = qK$, fixed in advance, not by the 8 who came:
# dividing by the clients who showed up would make the noise depend on who took part, and the guarantee with it.
# It is the std measured above with all updates zero.
# </details>
#
# 3. **Explore.** Find the smallest noise multiplier $z$ (in steps of 0.1) that keeps ε below 2 after 60 rounds
#    with $q = 0.2$, using `privacy.dp_epsilon`. What does that noise cost in accuracy? Compare with the table of
#    the DP trade-off above.

# %% jupyter={"source_hidden": true} tags=["solution"]
# Solution to exercise 3
budget_z = next(z for z in np.arange(1.0, 10.0, 0.1)
                if privacy.dp_epsilon(z, 0.2, 60, delta=1e-5) < 2)
print(f"z = {budget_z:.1f}: epsilon after 60 rounds {privacy.dp_epsilon(budget_z, 0.2, 60, delta=1e-5):.2f}")

# %% [markdown]
# A noise multiplier several times larger than $z = 1$. The table of the DP trade-off shows what that costs: with 10
# clients per round, noise of that size takes many points of accuracy. Strong privacy over many rounds needs many
# clients per round, so that $zS/m$ stays small.
#
# 4. **Explore.** Run `privacy.leakage_under_defences` on a wider model,
#    `fl.build_model(digits.n_features, digits.n_classes, hidden_units=(256,))`. Do more records of a small batch
#    come back exactly? *Hint:* count the ReLU units that fire for exactly one record.

# %% jupyter={"source_hidden": true} tags=["solution"]
# Solution to exercise 4
wide = fl.build_model(digits.n_features, digits.n_classes, hidden_units=(256,))
wide_rows = privacy.leakage_under_defences(digits.X_train, digits.y_train, fl.LocalTrainer(wide),
                                           fl.get_weights(wide), clip_norm=0.1, noise_multiplier=1.0,
                                           n_secure_clients=10)
for narrow_row, wide_row in zip(rows[:4], wide_rows[:4], strict=True):
    print(f"{wide_row.defence:28} 64 units: {narrow_row.recovered:>2} recovered, error {narrow_row.error:.3f}; "
          f"256 units: {wide_row.recovered:>2} recovered, error {wide_row.error:.3f}")

# %% [markdown]
# Yes: the wider layer returns every record of the batch of 4 exactly, and its best candidate for a batch of 16
# is closer. Each unit that fires for exactly one record of the batch hands that record over; with more units,
# more records have such a unit of their own. Width helps the model and the attacker alike.
#
# 5. **Explore.** DLG's limits: rerun `privacy.deep_leakage` on the tanh model with a batch of 8
#    (`n_examples=8`), first with 500 iterations, then with 1500 iterations and `restarts=3`. How close does it get
#    to the private records?

# %% jupyter={"source_hidden": true} tags=["solution"]
# Solution to exercise 5
X_8, y_8 = digits.X_train[:8], digits.y_train[:8]
back_8 = fl.client_update(tanh_trainer, tanh_sent, X_8, y_8, batch_size=None, client_learning_rate=0.1)
gradient_8 = privacy.update_to_gradient(tanh_sent, back_8.weights, client_learning_rate=0.1)
for iterations, restarts in ((500, 1), (1500, 3)):
    fit = privacy.deep_leakage(tanh_sent, gradient_8, n_examples=8, activation="tanh", iterations=iterations,
                               restarts=restarts, seed=0)
    errors = np.array([[np.linalg.norm(d - x) / np.linalg.norm(x) for x in X_8] for d in fit.x]).min(axis=0)
    print(f"{iterations} iterations, {restarts} restart(s): errors {np.round(errors, 2)}")

# %% [markdown]
# With 8 records DLG no longer recovers them: with 500 iterations most errors are near or above 1 (nothing learnt), and
# three times the iterations with restarts brings them down, but none to the near-exact match it found for a batch
# of 4. The fit has 8 × 64 unknown pixels and soft labels against one gradient; the larger the batch, the harder
# the non-convex fit. Larger batches are a defence here, not a guarantee.
#
# 6. **Find the bug, then write the function.** This DP average bounds the wrong thing:
#
#    ```python
#    def dp_aggregate(updates, clip_norm, noise_multiplier, expected_clients, rng):
#        noise = rng.normal(0.0, noise_multiplier * clip_norm / expected_clients, updates.shape[1])
#        average = updates.sum(axis=0) / expected_clients + noise
#        return privacy.clip_to_norm(average, clip_norm)
#    ```
#    Run `print(fl.exercises.check_dp_aggregate(dp_aggregate))`, read the hint, and write it correctly (draw the
#    noise once, as here).
#
# <details><summary>Solution to exercise 6</summary>
#
# ```python
# def dp_aggregate(updates, clip_norm, noise_multiplier, expected_clients, rng):
#     norms = np.linalg.norm(updates, axis=1, keepdims=True)
#     clipped = updates * np.minimum(1.0, clip_norm / np.maximum(norms, 1e-12))     # each client first
#     noise = rng.normal(0.0, noise_multiplier * clip_norm / expected_clients, updates.shape[1])
#     return clipped.sum(axis=0) / expected_clients + noise
#
# print(fl.exercises.check_dp_aggregate(dp_aggregate))
# ```
# The guarantee rests on one client moving the sum by at most $S$, and only clipping each update *before*
# summing bounds that. Clipping the noisy average afterwards bounds the result, not any one client's influence: a
# client with a huge update still dominates it.
# </details>
#
# 7. **Write the function.** Write `clip_to_norm(updates, clip_norm)`: every row of `updates` (one client's
#    update) scaled by $\min(1, S / \lVert u \rVert)$, so no row is longer than $S$. Check it with
#    `print(fl.exercises.check_clip_to_norm(clip_to_norm))`.
#
# <details><summary>Solution to exercise 7</summary>
#
# ```python
# def clip_to_norm(updates, clip_norm):
#     norms = np.linalg.norm(updates, axis=-1, keepdims=True)        # one norm per client (row)
#     return updates * np.minimum(1.0, clip_norm / np.maximum(norms, 1e-12))
#
# print(fl.exercises.check_clip_to_norm(clip_to_norm))
# ```
# Scaling the whole row keeps the update's direction; only updates longer than $S$ shrink, shorter ones are left
# alone. Clipping each coordinate to $[-S, S]$ would change the direction and still allow a norm of $S\sqrt{P}$.
# </details>
#
#
# **Next:** [09b · Security: secure aggregation and poisoned clients](09b_secure_aggregation_and_poisoning.ipynb)
