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
# # 09b · Security: secure aggregation and poisoned clients
#
# **What you will learn**
# - secure aggregation: pairwise masks that cancel in the sum, built from X25519 key agreement and a ChaCha20
#   stream, what the server sees, and how Shamir's secret sharing lets it survive a dropout;
# - poisoned clients: how far one attacker moves FedAvg, and how the median, the trimmed mean and clipping
#   bound it;
# - why secure aggregation makes poisoning harder to catch;
# - the threat models a security reviewer asks about first.
#
# **Article section:** *2.3 federated learning* and *6.附录常见问题与解答* ("6. Appendix: frequently asked
# questions and answers"), where the article claims twice that federated learning improves data security.
#
# **Time:** about 20 minutes, plus about 20 for the exercises · going deeper (notebooks 09–14).
#
# **Prerequisites:** [09 · Privacy: what an update reveals, and differential privacy](09_privacy_and_security.ipynb)
# (the threat model, what one update reveals, DP-FedAvg), [04 · FedAvg step by step](04_fedavg_step_by_step.ipynb)
# (what a client sends back). Symbols as in the [glossary](GLOSSARY.md): K clients, w the model, η_l the client
# learning rate, S the clip norm, m the clients per round.
# **Needs** the kit's `[privacy]` extra (cryptography; part of `requirements.txt`, or
# `pip install -e ".[notebooks,privacy]"`): the first cell stops with the install command if it is missing.

# %%
# NBVAL_IGNORE_OUTPUT
import fedlearn_edu as fl
fl.require_extra("privacy")
import numpy as np
import ipywidgets as widgets
from IPython.display import display
from scipy.stats import chisquare
from fedlearn_edu import secure_aggregation as secagg, poisoning
from fedlearn_edu.widgets import privacy as privacy_widgets

fl.set_seed(42)
fl.print_versions()

# %% [markdown]
# The knobs of this notebook. Change one, then run this cell and every cell below it (in JupyterLab: *Run ›
# Run Selected Cell and All Below*). Every value in the stated ranges runs to the end; the ✔/✘ lines then say
# which of the notebook's claims still hold.

# %% tags=["parameters"]
n_secure_clients = 5            # clients in the secure sum (threshold 3, one drops): 4 .. 20
n_clients = 10                  # clients K of the poisoning experiments: 3 .. 20
attack_factor = 10.0            # how much the attacker scales its update: 1.0 .. 50.0
attack = "sign_flip"            # the attack of the 15-round runs: one of "sign_flip", "scaled", "label_flip"
client_learning_rate = 0.1      # client learning rate η_l of the 15-round runs: 0.01 .. 1.0

# %% [markdown]
# ## 1 · Secure aggregation: the server sees only the sum
#
# Notebook 09 showed what one update reveals. **Secure aggregation** is a protocol that gives the server the sum
# of the clients' updates and nothing else. Bonawitz et al. (2017), simplified (`fedlearn_edu.secure_aggregation`),
# for the clients of one FedAvg round:
# 1. each quantises its update to integers mod $2^{32}$ (clip to $[-1, 1]$, scale $2^{16}$);
# 2. each pair agrees on a secret seed by **X25519** key agreement (Diffie–Hellman on an elliptic curve: each
#    side combines its private key with the other's public key and both get the same secret; the server relays
#    only public keys);
# 3. the **ChaCha20** stream cipher expands each seed into a long pseudo-random mask $r_{ij}$; client $i$ adds
#    $r_{ij}$ for $j > i$ and subtracts it for $j < i$. In the sum every mask appears once with each sign and cancels.

# %%
sim = fl.Simulation(fl.FLConfig(n_clients=n_secure_clients, engine="per_client"))
start = fl.flatten_weights(sim.global_weights).astype(np.float64)
updates = np.array([fl.flatten_weights(sim.train_client(k, 0).weights) - start for k in range(n_secure_clients)])
result = secagg.secure_sum(updates, seed=1)
print("client 0's update      :", np.round(updates[0, :4], 4))
print("quantised (uint32)     :", result.quantised[0, :4])
print("what the server receives:", result.masked[0, :4])
print("server's sum == sum of the quantised updates, bit for bit:", result.exact)

# %%
max_error = np.abs(result.decoded - updates.sum(axis=0)).max()
fl.check(result.exact and max_error <= n_secure_clients * 0.5 / 2 ** 16,
         "the decoded sum is the true sum up to rounding (K × half a quantisation step)",
         measured=f"{max_error:.1e}", expected=f"≤ {n_secure_clients * 0.5 / 2 ** 16:.1e}")

# %% [markdown]
# ## 2 · What one masked vector reveals
#
# One masked vector alone looks like uniform noise. A chi-square test on its bytes (does each of the 256 byte
# values occur about equally often?) cannot tell any of them from uniform (under uniformity a p-value is itself
# uniform, so values anywhere in (0, 1) are expected), while the same test flags every unmasked quantised update
# at once (small numbers: bytes 0x00 and 0xFF everywhere):

# %%
def byte_uniformity_p(vector):
    return chisquare(np.bincount(np.asarray(vector, np.uint32).view(np.uint8), minlength=256)).pvalue

p_masked = [byte_uniformity_p(v) for v in result.masked]
p_plain = [byte_uniformity_p(v) for v in result.quantised]
print("p-values, masked vectors     :", np.round(p_masked, 3).tolist())
print("p-values, unmasked quantised :", [f"{p:.1e}" for p in p_plain])

# %%
fl.check(min(p_masked) > 0.01, "no masked vector is told apart from uniform noise", measured=min(p_masked),
         expected="> 0.01")
fl.check(max(p_plain) < 1e-6, "every unmasked update is told apart at once", measured=max(p_plain), expected="< 1e-06")

# %% [markdown]
# ## 3 · A client drops out
#
# Client 2 agrees on its masks, then loses its connection before sending. The survivors' masks towards
# client 2 no longer cancel, and the sum is garbage. The fix: at set-up each client split its X25519 private key into
# **Shamir shares** (points of a random polynomial whose constant term is the key; any $t$ of them rebuild it,
# fewer say nothing), $t$ of $n$ needed ($t = 3$ here), one per other client. Three survivors send their share of
# client 2's key; the server rebuilds the key, recomputes client 2's seeds with each survivor, and strips the masks.

# %%
dropped = secagg.secure_sum(updates, dropped=[2], threshold=3, seed=1)
naive = secagg.dequantize(dropped.naive_sum)
survivors_sum = updates[dropped.survivors].sum(axis=0)
print(f"without recovery: largest error {np.abs(naive - survivors_sum).max():.0f}")
print(f"after recovery: exact = {dropped.exact}, largest error {np.abs(dropped.decoded - survivors_sum).max():.1e}")
fl.check(not np.array_equal(dropped.naive_sum, dropped.true_sum) and dropped.exact,
         "without the dropped client's key the sum is garbage; with it, exact")

# %% [markdown]
# With only $t - 1 = 2$ shares the key cannot be rebuilt (two points fit every degree-2 polynomial's constant
# term equally well), and the code refuses:

# %%
clients = secagg.make_clients(n_secure_clients, threshold=3, seed=1)
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
# ## 4 · Poisoned clients
#
# A malicious client sends what it likes. One round of $K$ honest updates, then client 0 replaced by an attacker
# who flips or scales its update. How far does one attacker move each aggregation rule
# (`poisoning.attacker_shift`: distance to the same round with an honest client in its place)? The rules: FedAvg's
# mean; the coordinate-wise **median**; the **trimmed mean** (drop the largest and the smallest value of each
# coordinate, average the rest); the **clipped mean** (each update clipped to norm $S = 0.5$, then averaged).

# %%
sim_k = fl.Simulation(fl.FLConfig(n_clients=n_clients, engine="per_client"))
start_k = fl.flatten_weights(sim_k.global_weights).astype(np.float64)
honest = np.array([fl.flatten_weights(sim_k.train_client(k, 0).weights) - start_k for k in range(n_clients)])
attacks = {"sign flip x10": poisoning.sign_flipped_update(honest[0], 10),
           "scaled x10": poisoning.scaled_update(honest[0], 10),
           "scaled x100": poisoning.scaled_update(honest[0], 100)}
rules = dict(fedavg={}, median={}, trimmed_mean=dict(trim=1), clipped_mean=dict(clip_norm=0.5))
shifts = {a: {r: poisoning.attacker_shift(honest[1:], u, r, **kw) for r, kw in rules.items()} for a, u in attacks.items()}

# %%
print(f"honest update norms: {np.linalg.norm(honest, axis=1).min():.2f} to {np.linalg.norm(honest, axis=1).max():.2f}")
print(f"{'':14}" + "".join(f"{r:>14}" for r in rules))
for a, row in shifts.items():
    print(f"{a:14}" + "".join(f"{row[r]:>14.3f}" for r in rules))

# %% [markdown]
# FedAvg's shift grows without bound with the attacker's factor; the median and trimmed mean stay inside the
# honest clients' range; clipping caps one client's pull at $2S/m$ against this table's baseline, an honest
# client in its place (the attacker's clipped update, at most $S$ long, replaces an honest one, also up to $S$).
# Against a client that sends nothing the bound is $S/m$.

# %%
honest_spread = np.linalg.norm(honest.max(axis=0) - honest.min(axis=0))
fl.check(shifts["scaled x100"]["fedavg"] > 5 * shifts["scaled x10"]["fedavg"], "FedAvg follows the attacker",
         measured=f"x100: {shifts['scaled x100']['fedavg']:.3f}, x10: {shifts['scaled x10']['fedavg']:.3f}")
fl.check(all(shifts[a][r] <= honest_spread for a in attacks for r in ("median", "trimmed_mean")),
         "the median and the trimmed mean stay inside the honest clients' range",
         measured=max(shifts[a][r] for a in attacks for r in ("median", "trimmed_mean")),
         expected=f"≤ {honest_spread:.3f}")
fl.check(all(shifts[a]["clipped_mean"] <= 2 * 0.5 / n_clients + 1e-12 for a in attacks), "clipping: at most 2S/m",
         measured=max(shifts[a]["clipped_mean"] for a in attacks), expected=f"≤ {2 * 0.5 / n_clients:.3f}")

# %% [markdown]
# ## 5 · Fifteen rounds with an attacker
#
# Over 15 training rounds, with client 0 always attacking (`poisoning.run_poisoned_fedavg`, built from
# `Simulation`'s steps). Move the sliders: the attack's strength, the number of clients, the learning rate, the
# attack. A flipped or scaled update is the attacker's honest update times −factor or factor; a *label flipper*
# trains honestly on wrong labels. Presets: a stronger attacker, a scaled update, a label flipper, few clients,
# a large learning rate; *reset* returns to the parameters cell.

# %%
controls = dict(factor=fl.widgets.float_slider(attack_factor, 1.0, 50.0, "attack factor", step=1.0),
                n_clients=fl.widgets.client_slider(n_clients, min=3, max=20),
                client_learning_rate=fl.widgets.log_value_slider(client_learning_rate, 0.01, 1.0,
                                                                 "client learning rate η_l"),
                attack=widgets.Dropdown(options=["sign_flip", "scaled", "label_flip"], value=attack,
                                        description="attack"))
display(fl.widgets.ControlPanel(privacy_widgets.show_poisoning, controls, presets=privacy_widgets.POISONING_PRESETS,
                                run_now=False))

# %% [markdown]
# The panel draws when you move a slider: the four rules under attack and the clean run train together in one
# call of the batched engine (`poisoning.run_poisoning_experiments`). At the parameters cell's values:

# %%
study = privacy_widgets.show_poisoning(attack_factor, n_clients, client_learning_rate, attack)

# %% [markdown]
# *Figure:* test accuracy per round under one attacker for each aggregation rule, against FedAvg without an
# attacker: FedAvg collapses, the median and the trimmed mean follow the clean run, the clipped mean stays close.

# %%
clean = study.clean.final_accuracy
fl.check(study.final_accuracy("fedavg") <= clean - 0.3, "one attacker wrecks FedAvg",
         measured=study.final_accuracy("fedavg"), expected=f"≤ {clean - 0.3:.3f}")
fl.check(min(study.final_accuracy(r) for r in ("median", "trimmed_mean")) >= clean - 0.03, "robust rules hold",
         measured=min(study.final_accuracy(r) for r in ("median", "trimmed_mean")), expected=f"≥ {clean - 0.03:.3f}")
fl.check(study.final_accuracy("clipped_mean") >= clean - 0.1, "clipping limits the damage",
         measured=study.final_accuracy("clipped_mean"), expected=f"≥ {clean - 0.1:.3f}")

# %% [markdown]
# ## 6 · Secure aggregation hides the attacker too
#
# The median, the trimmed mean and even a norm check all need the individual updates, and secure aggregation
# exists to hide them. Under secure aggregation the server gets exactly FedAvg's sum, attacker included, and has
# nothing to inspect. (Quantisation's clip range, $[-1, 1]$ per coordinate, is the only bound left, and a loose one.)

# %%
poisoned_updates = np.vstack([attacks["sign flip x10"], honest[1:]])
secure = secagg.secure_sum(poisoned_updates, seed=1)
secure_shift = np.linalg.norm(secure.decoded / n_clients - honest.mean(axis=0))
print(f"the attacker moves the securely aggregated average by {secure_shift:.3f} "
      f"(plain FedAvg: {shifts['sign flip x10']['fedavg']:.3f}, median: {shifts['sign flip x10']['median']:.3f})")
fl.check(secure.exact and secure_shift > 5 * shifts["sign flip x10"]["median"],
         "under secure aggregation the attacker moves the average as far as in plain FedAvg",
         measured=secure_shift, expected=f"> 5 × the median's {shifts['sign flip x10']['median']:.3f}")

# %% [markdown]
# Defences that work with secure aggregation exist (each client proves in zero knowledge that its update's norm is
# bounded, e.g. Bell et al. 2023), but they are research-grade and costly.
#
# ## What a security reviewer wants you to remember
#
# | question | answer measured in 09 and here |
# |---|---|
# | Does FL by itself keep data private? | No. One update gave one record back exactly; a batch of 4 gave several (09, sections 1–2). |
# | Do big batches or local steps fix it? | They blur the closed form; optimisation attacks (DLG) still recover records (09, section 4). |
# | What does secure aggregation protect? | Individual updates from the server. Not the aggregate (09: a sum of 10 leaked a near-copy), not against poisoning (section 6 here). |
# | What does DP protect? | Each client against anyone who sees the models, with a number (ε) attached; not against the server that adds the noise, unless combined with secure aggregation or local noise. |
# | What does DP cost? | Accuracy (09, section 7: the smaller ε, the more points lost), many clients per round, a budget that each round spends. |
# | Which attacker? | Honest-but-curious server: secure aggregation + DP. Malicious server: also authentication, and distrust of the model it sends (a crafted model can make units fire for one record each: Fowl et al. 2022, *Robbing the Fed*). Malicious clients: robust aggregation, which conflicts with secure aggregation. |

# %% [markdown]
# ## Summary
# - Secure aggregation with pairwise X25519 masks gives the server the exact sum and nothing else (a masked vector
#   passes a uniformity test); Shamir shares of the keys recover the sum when a client drops, and fewer than $t$
#   shares recover nothing.
# - One poisoned client moves FedAvg without bound; the median, the trimmed mean and clipping bound its influence,
#   but they need the individual updates that secure aggregation hides.
# - Privacy (09) and robustness (here) pull in opposite directions: the more the server is kept from seeing, the
#   less it can check.
#
# ## Exercises
#
# From exploring to writing code, easiest first. Each has a collapsed solution; the checkers say what is wrong,
# not only that something is.
#
# 1. **Explore.** Two attackers: run `poisoning.run_poisoned_fedavg(config, attack="sign_flip",
#    rule="trimmed_mean", n_attackers=2, trim=1)` with `config = fl.FLConfig(n_clients=10, rounds=15,
#    engine="per_client")`, then with `trim=2`. Which holds, and why does the definition predict it?

# %% jupyter={"source_hidden": true} tags=["solution"]
# Solution to exercise 1
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
# 2. **Think it through.** Call `secagg.secure_sum(updates, dropped=[0, 1, 2], threshold=3)`. What happens, and
#    why must the protocol abort rather than continue?
#
# <details><summary>Solution to exercise 2</summary>
#
# ```python
# try:
#     secagg.secure_sum(updates, dropped=[0, 1, 2], threshold=3)
# except ValueError as exc:
#     print("refused:", exc)
# ```
# Only two of the five clients (the default `n_secure_clients`) survive, fewer than the threshold of three: the survivors hold too few Shamir
# shares to rebuild the dropped clients' keys, so their masks cannot be removed and the sum would be garbage. And
# a server that could carry on with so few clients would learn the sum of two updates, which with one of them
# known is the other one. Abandoning the round is the only safe answer.
# </details>
#
# 3. **Write the function.** Write `masked_update(client_id, quantised, masks)` for secure aggregation: client
#    $i$ adds every pairwise mask $r_{ij}$ with $j > i$ and subtracts every $r_{ji}$ with $j < i$, modulo
#    $2^{32}$ (`quantised` and the masks in the dict `masks = {(i, j): r_ij}` are `uint32` arrays). Check it with
#    `print(fl.exercises.check_secure_masks(masked_update))`.
#
# <details><summary>Solution to exercise 3</summary>
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
# 4. **Write the function.** Write `coordinate_median(updates)`, the robust aggregate of section 4: for each
#    coordinate, the median of the clients' values. Check it with
#    `print(fl.exercises.check_coordinate_median(coordinate_median))`.
#
# <details><summary>Solution to exercise 4</summary>
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
#
# **Next:** [10 · From the classroom to deployment](10_from_classroom_to_deployment.ipynb)
