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
# # 09 · Privacy and security
#
# **What you will learn**
# - why "the data never leaves the device" is not privacy: a server reads a client's record off its update,
#   exactly, and an optimisation attack reads it where the closed form fails;
# - how much each defence helps, measured: bigger batches, several local steps, secure aggregation,
#   clipping with Gaussian noise;
# - differential privacy for FedAvg (DP-FedAvg): what ε means, how it is computed (Google's `dp_accounting`),
#   and what it costs in accuracy;
# - secure aggregation (pairwise masks that cancel), what the server sees, and how it survives a dropout;
# - poisoned clients, robust aggregation, and why secure aggregation makes poisoning harder to catch;
# - the threat models a security reviewer asks about first.
#
# **Article section:** *2.3 federated learning* and *6.附录常见问题与解答* ("6. Appendix: frequently asked
# questions and answers"), where the article claims twice that federated learning improves data security.
#
# **Prerequisites:** [04 · FedAvg step by step](04_fedavg_step_by_step.ipynb) (what a client sends back),
# [08 · FAQ and applications](08_faq_and_applications.ipynb) (the first reconstruction).
# **Needs** the kit's `[privacy]` extra (dp-accounting and cryptography; part of `requirements.txt`, or
# `pip install -e ".[notebooks,privacy]"`): the first cell stops with the install command if it is missing.

# %%
# NBVAL_IGNORE_OUTPUT
import fedlearn_edu as fl
fl.require_extra("privacy")
import numpy as np
import matplotlib.pyplot as plt
from ipywidgets import interact
from scipy.stats import chisquare
from fedlearn_edu import privacy, secure_aggregation as secagg, poisoning
from fedlearn_edu.widgets import privacy as privacy_widgets

fl.set_seed(42)
fl.print_versions()

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
# "Improves data security" against whom? A security reviewer first asks for the **threat model**:
#
# | attacker | sees | wants |
# |---|---|---|
# | honest-but-curious server | every client's update (or only their sum, with secure aggregation) | a client's records |
# | malicious server | the same, and can send clients any model it likes | the same, with more power |
# | malicious client(s) | the global models | to spoil or backdoor the model (poisoning) |
# | anyone with the final model | the model, its predictions | whether a person was in the training data |
#
# Federated learning by itself moves the raw data off the server's disk, nothing more. Below, each line of
# that table is measured.

# %% [markdown]
# ## 1 · The server reads a record off an update
#
# FedSGD with batch size 1: the client computes one gradient step on one record and sends its model back.
# For a Dense first layer with a bias, $\Delta W_1[:, j] = -\eta\, x\, \delta_j$ and $\Delta b_1[j] = -\eta\,\delta_j$,
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
assert label_read == y_private[0] and error < 1e-5, "the record comes back exactly (float32 rounding)"

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
labels = ["1 record", "batch of 4", "batch of 16", "batch of 64", "FedAvg, 20 steps", "secure sum of 10",
          "clip + noise"]
fig, axes = plt.subplots(1, len(rows), figsize=(9, 1.9))
for ax, row, label in zip(axes, rows, labels):
    ax.imshow(row.best_candidate.reshape(8, 8), cmap="gray_r")
    ax.set_title(f"{label}\nerror {row.error:.2f}", fontsize=7)
    ax.axis("off")
plt.show()

# %% [markdown]
# Read the table from the top:
# - one record: exact;
# - a batch of 4: still **several records exact**, because some units fired for one record only;
# - batches of 16 and 64, and FedAvg's 20 local steps: no record within 1%, but blends that still look like digits;
# - **secure aggregation** of 10 one-record clients: the server sees only the sum, and that sum *still* gives a
#   near-copy of one client's record — secure aggregation hides who sent what, not what the sum contains;
# - clipping to S = 0.1 and Gaussian noise of std 1·S per coordinate: nothing (error above 1).

# %%
assert rows[0].error < 1e-5 and rows[1].recovered >= 2, "one record, and a batch of 4, leak exactly"
assert min(rows[2].error, rows[3].error, rows[4].error) > 0.1, "16+ records or 20 local steps: no exact copy"
assert rows[5].error < 0.2 and rows[5].error < rows[2].error, "the secure sum of 10 clients leaks a near-copy"
assert rows[6].error > 0.9, "clipping + noise: the attack learns nothing"

# %% [markdown]
# How much noise does it take? The last row again, one record's update clipped to S = 0.1, for growing noise
# multipliers $z$ (noise std $zS$ per coordinate, the view of a server that receives a noised update):

# %%
noise_levels = [0.0, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0]
noise_errors = privacy.leakage_against_noise(x_private, y_private, trainer, sent, noise_levels, clip_norm=0.1)
print("z     :", noise_levels)
print("error :", np.round(noise_errors, 3).tolist())

# %%
# extra code – reconstruction error against the noise multiplier
fig, ax = plt.subplots(figsize=(6, 3))
ax.plot([max(z, 3e-4) for z in noise_levels], noise_errors, "o-")
ax.axhline(1.0, color="gray", linestyle=":", label="error 1: no better than guessing all zeros")
ax.set(xscale="log", xlabel="noise multiplier z (z = 0 drawn at the left edge)", ylabel="best-match error")
ax.legend(fontsize=7)
plt.show()

# %%
assert noise_errors[0] < 1e-5 and noise_errors[1] < 0.05, "a whisper of noise leaves the record readable"
assert noise_errors[3] > 0.1 and min(noise_errors[5:]) > 0.9, "z >= 0.1: nothing left to read"

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
# ## 3 · Where the closed form fails: Deep Leakage from Gradients
#
# With a smooth activation (tanh) every unit responds to every record, so with a batch of 4 each ratio is a blend.
# Zhu et al. (2019) instead *fit* dummy records and soft labels until their gradient matches the observed one
# (`privacy.deep_leakage`: Adam, 500 iterations, seeded). The server knows the model and the learning rate, so
# FedSGD's update gives it the gradient: $g = (w_\text{sent} - w_\text{returned}) / \eta$.

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
assert closed_form_error > 0.1 and dlg_errors.max() < 0.1, "DLG recovers all four records, the ratio none"
assert sorted(dlg.labels.tolist()) == sorted(y_batch.tolist()), "and their labels"

# %%
# extra code – the four private records (top) and DLG's dummies matched to them (bottom)
match = [int(np.argmin([np.linalg.norm(d - x) for d in dlg.x])) for x in X_batch]
fig, axes = plt.subplots(2, 4, figsize=(4.5, 2.5))
for i in range(4):
    axes[0, i].imshow(X_batch[i].reshape(8, 8), cmap="gray_r")
    axes[1, i].imshow(dlg.x[match[i]].reshape(8, 8), cmap="gray_r")
for ax in axes.ravel():
    ax.axis("off")
plt.show()

# %% [markdown]
# DLG gets harder as the batch grows (try 8 in the exercises) and with ReLU networks, but later attacks
# (Geiping et al. 2020) reach batches of dozens of images. Bigger batches are not a privacy guarantee.
#
# ## 4 · Differential privacy: DP-FedAvg
#
# Differential privacy bounds how much the *outputs* (here: every global model) can depend on any one client.
# DP-FedAvg (McMahan et al. 2018) changes the server's step:
#
# 1. each client takes part in a round independently with probability $q$ (so $m = qK$ clients on average);
# 2. each update $\Delta_k = w_k - w_t$ is **clipped** to norm $S$: one client can move the sum by at most $S$;
# 3. the server adds Gaussian noise to the sum and divides by the **expected** $m$, not by the number who showed
#    up (the paper's fixed-denominator estimator):
#    $\Delta = \big(\sum_k \mathrm{clip}(\Delta_k, S) + \mathcal N(0, z^2S^2 I)\big)/m$, i.e. noise of standard
#    deviation $zS/m$ per coordinate of the average; $z$ is the **noise multiplier**.
#
# The privacy spent, $(\varepsilon, \delta)$, follows from $q$, $z$ and the number of rounds alone. We do not
# derive it by hand: `privacy.dp_epsilon` asks Google's `dp_accounting` (RDP accountant,
# `PoissonSampledDpEvent(q, GaussianDpEvent(z))` composed over the rounds). First a check that it is the same
# accountant the DP literature uses: TensorFlow Privacy's test suite (`compute_dp_sgd_privacy_test.py`) states
# $\varepsilon = 0.724$ for DP-SGD on 60,000 examples, batch 150, $z = 1.3$, 15 epochs, $\delta = 10^{-5}$.

# %%
steps = int(np.ceil(15 * 60000 / 150))
epsilon_published = privacy.dp_epsilon(noise_multiplier=1.3, sampling_probability=150 / 60000, rounds=steps,
                                       delta=1e-5)
print(f"{steps} steps: epsilon = {epsilon_published:.3f} (TensorFlow Privacy: 0.724)")
assert abs(epsilon_published - 0.724) < 0.005

# %% [markdown]
# Our federation: the article's data over K = 50 clients, q = 0.2 (10 clients per round on average), 15 rounds,
# and $\delta = 10^{-5}$. $\delta$ is the probability that the ε guarantee fails outright, so it must be *much*
# smaller than $1/K$: with $\delta = 1/K$ a mechanism could publish one client's data in full and still claim it.

# %%
print(f"delta = {privacy_widgets.DP_DELTA:g}, 1/K = {1 / 50:g}, delta x K = {privacy_widgets.DP_DELTA * 50:g}")


# %% [markdown]
# The slider runs DP-FedAvg (`privacy.run_dp_fedavg`, built from
# `Simulation`'s steps) at your noise multiplier $z$ and clip norm $S$; the right panel places it on the
# accuracy-against-ε curve of the default setting. Accuracy is the mean over the last 5 rounds (under DP one
# round's accuracy is noisy).

# %%
@interact(noise_multiplier=fl.widgets.float_slider(1.0, 0.0, 8.0, "noise multiplier z", step=0.5),
          clip_norm=fl.widgets.float_slider(0.5, 0.1, 2.0, "clip norm S", step=0.1),
          n_clients=fl.widgets.client_slider(50, min=20, max=200),
          client_learning_rate=fl.widgets.learning_rate_slider(0.5, -1, 0))
def dp_tradeoff(noise_multiplier, clip_norm, n_clients, client_learning_rate):
    privacy_widgets.show_dp_tradeoff(noise_multiplier, clip_norm, n_clients, client_learning_rate)


# %% [markdown]
# The default setting as a plain cell, and the whole curve as numbers:

# %%
tradeoff = privacy_widgets.show_dp_tradeoff(noise_multiplier=1.0, clip_norm=0.5, n_clients=50,
                                            client_learning_rate=0.5)
for run in tradeoff.reference:
    print(f"z = {run.noise_multiplier:>3g}: epsilon = {run.epsilon:6.3f}, accuracy {run.late_accuracy:.3f}")
print(f"no DP:   epsilon =    inf, accuracy {tradeoff.non_private.late_accuracy:.3f}")

# %%
curve = {run.noise_multiplier: run for run in tradeoff.reference}
no_dp = tradeoff.non_private.late_accuracy
assert all(a.epsilon > b.epsilon for a, b in zip(tradeoff.reference, tradeoff.reference[1:])), "more noise, less ε"
assert curve[1.0].epsilon < 10 and curve[1.0].late_accuracy >= no_dp - 0.05, "ε < 10 for a few points"
assert curve[8.0].epsilon < 0.5 and curve[8.0].late_accuracy <= no_dp - 0.1, "ε < 0.5 costs over 10 points"

# %% [markdown]
# **What DP protects, and against whom.** ε bounds what *anyone who sees the global models* can learn about
# whether one client took part: other clients, the public, users of the final model (membership inference,
# memorised records). Here it is *user-level*: a client's whole data set is the unit. It does **not** protect
# against this server: the server saw the clipped updates before adding the noise (section 2's table is what it
# sees). For that, the noise must be added on the devices (local DP: far more noise) or combined with secure
# aggregation (distributed DP). **The cost**: accuracy (above), many clients per round (the noise is divided by
# $m$; real deployments use thousands), and a budget that runs out: ε grows with every round.
#
# A quick check of the mechanism itself: with all updates zero, what the server adds has the stated standard
# deviation $zS/m$.

# %%
rng = np.random.default_rng(0)
noise = np.concatenate([privacy.dp_aggregate(np.zeros((10, 1000)), clip_norm=0.5, noise_multiplier=1.0,
                                             expected_clients=10, rng=rng) for _ in range(20)])
print(f"empirical std {noise.std():.4f}, stated z*S/m = {privacy.dp_noise_std(1.0, 0.5, 10):.4f}")
assert abs(noise.std() / 0.05 - 1) < 0.03

# %% [markdown]
# ## 5 · Secure aggregation: the server sees only the sum
#
# Bonawitz et al. (2017), simplified (`fedlearn_edu.secure_aggregation`). Five clients of one FedAvg round:
# 1. each quantises its update to integers mod $2^{32}$ (clip to $[-1, 1]$, scale $2^{16}$);
# 2. each pair agrees on a secret seed by X25519 key agreement (the server relays only public keys);
# 3. a ChaCha20 stream expands each seed into a mask $r_{ij}$; client $i$ adds $r_{ij}$ for $j > i$ and
#    subtracts it for $j < i$. In the sum every mask appears once with each sign and cancels.

# %%
sim = fl.Simulation(fl.FLConfig(n_clients=5, engine="per_client"))
start = fl.flatten_weights(sim.global_weights).astype(np.float64)
updates = np.array([fl.flatten_weights(sim.train_client(k, 0).weights) - start for k in range(5)])
result = secagg.secure_sum(updates, seed=1)
print("client 0's update      :", np.round(updates[0, :4], 4))
print("quantised (uint32)     :", result.quantised[0, :4])
print("what the server receives:", result.masked[0, :4])
print("server's sum == sum of the quantised updates, bit for bit:", result.exact)

# %%
max_error = np.abs(result.decoded - updates.sum(axis=0)).max()
print(f"decoded sum vs the true float sum: largest difference {max_error:.1e} (rounding <= 5 x 0.5 / 2**16)")
assert result.exact and max_error <= 5 * 0.5 / 2 ** 16


# %% [markdown]
# One masked vector alone looks like uniform noise. A chi-square test on its bytes cannot tell any of the five
# from uniform (under uniformity a p-value is itself uniform, so values anywhere in (0, 1) are expected), while the
# same test flags every unmasked quantised update at once (small numbers: bytes 0x00 and 0xFF everywhere):

# %%
def byte_uniformity_p(vector):
    return chisquare(np.bincount(np.asarray(vector, np.uint32).view(np.uint8), minlength=256)).pvalue

p_masked = [byte_uniformity_p(v) for v in result.masked]
p_plain = [byte_uniformity_p(v) for v in result.quantised]
print("p-values, masked vectors     :", np.round(p_masked, 3).tolist())
print("p-values, unmasked quantised :", [f"{p:.1e}" for p in p_plain])
assert min(p_masked) > 0.01 and max(p_plain) < 1e-6

# %% [markdown]
# **Dropout.** Client 2 agrees on its masks, then loses its connection before sending. The survivors' masks towards
# client 2 no longer cancel, and the sum is garbage. The fix: at set-up each client split its X25519 private key into
# Shamir shares, $t$ of $n$ needed ($t = 3$ here), one per other client. Three survivors send their share of
# client 2's key; the server rebuilds the key, recomputes client 2's seeds with each survivor, and strips the masks.

# %%
dropped = secagg.secure_sum(updates, dropped=[2], threshold=3, seed=1)
naive = secagg.dequantize(dropped.naive_sum)
survivors_sum = updates[dropped.survivors].sum(axis=0)
print(f"without recovery: largest error {np.abs(naive - survivors_sum).max():.0f}")
print(f"after recovery: exact = {dropped.exact}, largest error {np.abs(dropped.decoded - survivors_sum).max():.1e}")
assert not np.array_equal(dropped.naive_sum, dropped.true_sum) and dropped.exact

# %% [markdown]
# With only $t - 1 = 2$ shares the key cannot be rebuilt (two points fit every degree-2 polynomial's constant
# term equally well), and the code refuses:

# %%
clients = secagg.make_clients(5, threshold=3, seed=1)
try:
    secagg.shamir_reconstruct([clients[0].shares_held[2], clients[1].shares_held[2]], threshold=3)
except ValueError as exc:
    print("refused:", exc)

# %% [markdown]
# **What the real protocol adds.** A client that was only *slow* could be unmasked by a server that claims it
# dropped and asks for its key shares. Bonawitz et al. add a **self-mask** $b_i$ (double masking): survivors
# reveal shares of $b_i$ for clients that delivered, shares of the key for clients that dropped, never both.
# They also **authenticate** keys and messages (otherwise a malicious server can pose as clients), encrypt the
# shares in transit, and abort when fewer than $t$ clients remain. Here everyone is honest and the server only curious.
#
# ## 6 · Poisoned clients
#
# A malicious client sends what it likes. One round of 10 honest updates, then client 0 replaced by an attacker
# who flips or scales its update. How far does one attacker move each aggregation rule
# (`poisoning.attacker_shift`: distance to the same round with an honest client in its place)?

# %%
sim10 = fl.Simulation(fl.FLConfig(n_clients=10, engine="per_client"))
start10 = fl.flatten_weights(sim10.global_weights).astype(np.float64)
honest = np.array([fl.flatten_weights(sim10.train_client(k, 0).weights) - start10 for k in range(10)])
attacks = {"sign flip x10": poisoning.sign_flipped_update(honest[0], 10),
           "scaled x10": poisoning.scaled_update(honest[0], 10),
           "scaled x100": poisoning.scaled_update(honest[0], 100)}
rules = dict(fedavg={}, median={}, trimmed_mean=dict(trim=1), clipped_mean=dict(clip_norm=0.5))
shifts = {a: {r: poisoning.attacker_shift(honest[1:], u, r, **kw) for r, kw in rules.items()} for a, u in attacks.items()}
print(f"honest update norms: {np.linalg.norm(honest, axis=1).min():.2f} to {np.linalg.norm(honest, axis=1).max():.2f}")
print(f"{'':14}" + "".join(f"{r:>14}" for r in rules))
for a, row in shifts.items():
    print(f"{a:14}" + "".join(f"{row[r]:>14.3f}" for r in rules))

# %%
honest_spread = np.linalg.norm(honest.max(axis=0) - honest.min(axis=0))
assert shifts["scaled x100"]["fedavg"] > 5 * shifts["scaled x10"]["fedavg"], "FedAvg follows the attacker"
assert all(shifts[a][r] <= honest_spread for a in attacks for r in ("median", "trimmed_mean"))
assert all(shifts[a]["clipped_mean"] <= 2 * 0.5 / 10 + 1e-12 for a in attacks), "clipping: at most 2S/m vs honest"


# %% [markdown]
# FedAvg's shift grows without bound with the attacker's factor; the median and trimmed mean stay inside the
# honest clients' range; clipping caps one client's pull at $2S/m$ against this table's baseline, an honest
# client in its place (the attacker's clipped update, at most $S$ long, replaces an honest one, also up to $S$).
# Against a client that sends nothing the bound is $S/m$. Over 15 training rounds, with client 0 always attacking (`poisoning.run_poisoned_fedavg`,
# built from `Simulation`'s steps). Move the sliders: the attack's strength, the number of clients, the learning rate.

# %%
@interact(factor=fl.widgets.float_slider(10.0, 1.0, 50.0, "attack factor", step=1.0),
          n_clients=fl.widgets.client_slider(10, min=3, max=20),
          client_learning_rate=fl.widgets.learning_rate_slider(0.1, -2, 0),
          attack=["sign_flip", "scaled", "label_flip"])
def poisoned(factor, n_clients, client_learning_rate, attack):
    privacy_widgets.show_poisoning(factor, n_clients, client_learning_rate, attack)


# %%
study = privacy_widgets.show_poisoning(factor=10.0, n_clients=10, client_learning_rate=0.1, attack="sign_flip")

# %%
clean = study.clean.final_accuracy
assert study.final_accuracy("fedavg") <= clean - 0.3, "one sign-flipping client wrecks FedAvg"
assert min(study.final_accuracy(r) for r in ("median", "trimmed_mean")) >= clean - 0.03, "robust rules hold"
assert study.final_accuracy("clipped_mean") >= clean - 0.1, "clipping limits the damage"

# %% [markdown]
# **Secure aggregation hides the attacker too.** The median, the trimmed mean and even a norm check all need the
# individual updates, and secure aggregation exists to hide them. Under secure aggregation the server gets exactly
# FedAvg's sum, attacker included, and has nothing to inspect. (Quantisation's clip range, $[-1, 1]$ per
# coordinate, is the only bound left, and a loose one.)

# %%
poisoned_updates = np.vstack([attacks["sign flip x10"], honest[1:]])
secure = secagg.secure_sum(poisoned_updates, seed=1)
secure_shift = np.linalg.norm(secure.decoded / 10 - honest.mean(axis=0))
print(f"the attacker moves the securely aggregated average by {secure_shift:.3f} "
      f"(plain FedAvg: {shifts['sign flip x10']['fedavg']:.3f}, median: {shifts['sign flip x10']['median']:.3f})")
assert secure.exact and secure_shift > 5 * shifts["sign flip x10"]["median"], "as far as plain FedAvg"

# %% [markdown]
# Defences that work with secure aggregation exist (each client proves in zero knowledge that its update's norm is
# bounded, e.g. Bell et al. 2023), but they are research-grade and costly.
#
# ## What a security reviewer wants you to remember
#
# | question | answer measured here |
# |---|---|
# | Does FL by itself keep data private? | No. One update gave one record back exactly; a batch of 4 gave several. |
# | Do big batches or local steps fix it? | They blur the closed form; optimisation attacks (DLG) still recover records. |
# | What does secure aggregation protect? | Individual updates from the server. Not the aggregate (a sum of 10 leaked a near-copy), not against poisoning. |
# | What does DP protect? | Each client against anyone who sees the models, with a number (ε) attached; not against the server that adds the noise, unless combined with secure aggregation or local noise. |
# | What does DP cost? | Accuracy (here 17 points at ε ≈ 0.6 and 28 at ε ≈ 0.2), many clients per round, a budget that each round spends. |
# | Which attacker? | Honest-but-curious server: secure aggregation + DP. Malicious server: also authentication, and distrust of the model it sends (a crafted model can make units fire for one record each: Fowl et al. 2022, *Robbing the Fed*). Malicious clients: robust aggregation, which conflicts with secure aggregation. |

# %% [markdown]
# ## Summary
# - The article's "improves data security" does not hold by itself: a FedSGD update with batch size 1 gives the
#   record back exactly, and a batch of 4 still gives several records exactly.
# - Defences measured: bigger batches and FedAvg's local steps blur the closed form, but Deep Leakage from
#   Gradients recovered all 4 records of a batch where the ratio trick failed; secure aggregation over 10 clients
#   still leaked a near-copy; clipping plus noise stopped the attack.
# - DP-FedAvg clips each update to S and adds noise of std zS/m to the fixed-denominator average; `dp_accounting`
#   turns (q, z, rounds, δ) into ε (and reproduces TensorFlow Privacy's published 0.724). Less ε, less accuracy.
# - Secure aggregation with pairwise X25519 masks gives the server the exact sum and nothing else (a masked vector
#   passes a uniformity test); Shamir shares of the keys recover the sum when a client drops.
# - One poisoned client moves FedAvg without bound; median, trimmed mean and clipping bound its influence, but they
#   need the individual updates that secure aggregation hides.
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
# 6. **Explore.** Two attackers: run `poisoning.run_poisoned_fedavg(config, attack="sign_flip",
#    rule="trimmed_mean", n_attackers=2, trim=1)` with `config = fl.FLConfig(n_clients=10, rounds=15,
#    engine="per_client")`, then with `trim=2`. Which holds, and why does the definition predict it?

# %% jupyter={"source_hidden": true} tags=["solution"]
# Solution to exercise 6
two_config = fl.FLConfig(n_clients=10, rounds=15, engine="per_client")
for trim in (1, 2):
    two = poisoning.run_poisoned_fedavg(two_config, attack="sign_flip", rule="trimmed_mean", n_attackers=2, trim=trim)
    print(f"trim={trim}: final test accuracy {two.final_accuracy:.3f}")

# %% [markdown]
# `trim=2` holds, `trim=1` does not. The trimmed mean drops the `trim` largest and `trim` smallest values of each
# coordinate before averaging. Two attackers pushing the same way fill the two extreme slots on one side: with
# `trim=1` one of them survives every coordinate, and its factor-10 flipped update still dominates the average.
# A trimmed mean tolerates at most `trim` attackers.
#
# 7. **Think it through.** Call `secagg.secure_sum(updates, dropped=[0, 1, 2], threshold=3)`. What happens, and
#    why must the protocol abort rather than continue?
#
# <details><summary>Solution to exercise 7</summary>
#
# ```python
# try:
#     secagg.secure_sum(updates, dropped=[0, 1, 2], threshold=3)
# except ValueError as exc:
#     print("refused:", exc)
# ```
# Only two of the five clients survive, fewer than the threshold of three: the survivors hold too few Shamir
# shares to rebuild the dropped clients' keys, so their masks cannot be removed and the sum would be garbage. And
# a server that could carry on with so few clients would learn the sum of two updates, which with one of them
# known is the other one. Abandoning the round is the only safe answer.
# </details>
#
# 8. **Find the bug, then write the function.** This DP average bounds the wrong thing:
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
# <details><summary>Solution to exercise 8</summary>
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
# 9. **Write the function.** Write `clip_to_norm(updates, clip_norm)`: every row of `updates` (one client's
#    update) scaled by $\min(1, S / \lVert u \rVert)$, so no row is longer than $S$. Check it with
#    `print(fl.exercises.check_clip_to_norm(clip_to_norm))`.
#
# <details><summary>Solution to exercise 9</summary>
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
# 10. **Write the function.** Write `masked_update(client_id, quantised, masks)` for secure aggregation: client
#     $i$ adds every pairwise mask $r_{ij}$ with $j > i$ and subtracts every $r_{ji}$ with $j < i$, modulo
#     $2^{32}$ (`quantised` and the masks in the dict `masks = {(i, j): r_ij}` are `uint32` arrays). Check it with
#     `print(fl.exercises.check_secure_masks(masked_update))`.
#
# <details><summary>Solution to exercise 10</summary>
#
# ```python
# def masked_update(client_id, quantised, masks):
#     masked = quantised.astype(np.uint32)
#     for (i, j), r in masks.items():
#         if i == client_id:
#             masked = masked + r            # uint32 arithmetic wraps around modulo 2**32
#         elif j == client_id:
#             masked = masked - r
#     return masked
#
# print(fl.exercises.check_secure_masks(masked_update))
# ```
# Each mask is added by one client of its pair and subtracted by the other, so in the server's sum every $r_{ij}$
# appears once with $+$ and once with $-$ and cancels. With the same sign for both, the sum is off by twice every
# mask. Working modulo $2^{32}$ makes each masked vector alone uniformly random.
# </details>
#
# 11. **Write the function.** Write `coordinate_median(updates)`, the robust aggregate of section 6: for each
#     coordinate, the median of the clients' values. Check it with
#     `print(fl.exercises.check_coordinate_median(coordinate_median))`.
#
# <details><summary>Solution to exercise 11</summary>
#
# ```python
# def coordinate_median(updates):
#     return np.median(updates, axis=0)        # over the clients, one value per coordinate
#
# print(fl.exercises.check_coordinate_median(coordinate_median))
# ```
# The median runs over the clients (axis 0), separately for each coordinate; with an even number of clients it is
# the mean of the two middle values. One attacker can move it at most to a neighbouring honest value, whereas the
# mean follows the attacker's 1000s.
# </details>
#
# **Next:** [10 · From the classroom to deployment](10_from_classroom_to_deployment.ipynb)
