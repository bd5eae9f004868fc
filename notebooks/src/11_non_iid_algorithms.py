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
# # 11 · Non-IID data: FedAvg, FedProx, FedAvgM and SCAFFOLD
#
# **What you will learn**
# - what *client drift* is: why local steps on skewed data pull the client models apart, measured as the
#   client models' test accuracy and the agreement of their updates;
# - how much label skew (Dirichlet $\alpha_D$) costs FedAvg in *rounds to a target accuracy*;
# - what FedProx, FedAvgM and SCAFFOLD each change (one equation each), and which of them actually helps on
#   this data, including the one that does not;
# - why SCAFFOLD's rounds are not free: it sends twice the bytes per round, so in megabytes it about breaks even;
# - which objective each algorithm minimises: all four here minimise the same $F(w) = \sum_k p_k F_k(w)$.
#
# **Article section:** *5.未来发展趋势与挑战* ("5. Future trends and challenges"):
# *federated learning 仍然存在一些挑战，比如模型收敛性、通信开销、设备资源有限等* ("federated learning still faces
# challenges such as **model convergence**, communication overhead and limited device resources"). Section 3.1's
# protocol ends with *重复步骤1-4，直到模型收敛* ("repeat steps 1–4 until the model converges"); this notebook asks
# how many repetitions that takes when the clients' data differ.
#
# **Prerequisites:** [02 · Data and partitions](02_data_and_partitions.ipynb) (Dirichlet $\alpha_D$),
# [05 · The math](05_the_math.ipynb) (FedAvg and FedAvgM) and [07 · Challenges](07_challenges.ipynb)
# (rounds to target, medians over seeds). Symbols as in the [glossary](GLOSSARY.md): $\alpha_D$ is the Dirichlet
# concentration, $\eta_l$ the client learning rate and $\eta_g$ the server learning rate.
#
# **Time:** about 25 minutes, plus about 25 for the exercises · going deeper (notebooks 09–14).

# %%
# NBVAL_IGNORE_OUTPUT
import fedlearn_edu as fl
import numpy as np
import matplotlib.pyplot as plt
import ipywidgets as widgets
from IPython.display import display
from fedlearn_edu.widgets import challenges, non_iid

fl.set_seed(42)
fl.print_versions()

# %% [markdown]
# The knobs of this notebook. Change one, then run this cell and every cell below it (*Run › Run Selected Cell
# and All Below*). Every value in the stated ranges runs to the end; the ✔/✘ lines say which claims still hold.

# %% tags=["parameters"]
n_clients = 10                  # clients K (all in every round): 4 .. 30
client_learning_rate = 0.3      # client learning rate η_l: 0.03 .. 1.0
mu = 0.01                       # FedProx's proximal coefficient μ: 0.0 .. 1.0
server_momentum = 0.5           # FedAvgM's server momentum β: 0.0 .. 0.9
server_learning_rate = 1.0      # FedAvgM's server learning rate η_g: 0.1 .. 2.0
seed = 0                        # seed of the single runs (the sweeps use seeds 0, 1, 2): 0 .. 20

# %% [markdown]
# ## The federation
#
# Digits (10 classes, 1437 training images of 8×8 pixels) split across $K = 10$ clients by a Dirichlet($\alpha_D$)
# label skew; every client takes part in every round and trains $E = 5$ local epochs of mini-batches of 64 at a
# client learning rate of 0.3; 20 rounds; the yardstick is the first round whose global model reaches **95%**
# test accuracy. Digits shows non-IID effects much more clearly than the article's 3-class data: with ten
# classes, a client can miss most of them. The shared settings:

# %%
print(non_iid.SETTINGS)
config = non_iid.base_config(0.1, n_clients, client_learning_rate, seed=seed)
print(f"K={config.n_clients}, E={config.local_epochs}, B={config.batch_size}, "
      f"client lr {config.client_learning_rate}, {config.rounds} rounds")

# %% [markdown]
# ## 1 · Client drift
#
# Start every client from the **same** global model (5 rounds of FedAvg on IID data) and let
# each train on its own data for $E$ epochs — no averaging yet. Two numbers per setting:
#
# - the client models' **test accuracy** on the balanced test set (weighted by client size);
# - the **agreement** of their updates $\Delta_k = w_k - w_t$:
#   $\lVert \sum_k p_k \Delta_k \rVert \,/\, \sum_k p_k \lVert \Delta_k \rVert$ with $p_k = n_k/n$.
#   It is 1 when all clients move the same way and near 0 when their moves cancel in the average.

# %%
drift = non_iid.show_drift(alphas=(0.05, 100.0), epochs=(1, 5, 20))

# %% [markdown]
# *Figure:* the client models' test accuracy and the agreement of their updates against the local epochs E, for
# Dirichlet 0.05 and 100; the skewed clients lose accuracy and agree less as E grows.

# %% [markdown]
# On $\mathrm{Dir}(0.05)$ a typical client holds three or four digits. The longer it trains, the more its model becomes a
# specialist in those digits: its accuracy on all ten digits falls as $E$ grows, while on near-IID data
# ($\alpha_D = 100$) it stays at the global model's level. And the skewed clients' updates agree less at every $E$:
# each pulls towards the optimum of *its own* loss $F_k$, and those optima differ. The average of updates that
# partly cancel is a short, bent step towards the optimum of the whole data. That is **client drift**. (Agreement
# grows with $E$ on both splits: after one epoch an update is mostly mini-batch noise, which cancels too.)

# %%
fl.check(drift.accuracy_of(0.05, 20) < drift.accuracy_of(0.05, 1) - 0.03
         and abs(drift.accuracy_of(100.0, 20) - drift.start_accuracy) < 0.02,
         "skewed clients forget the other digits as E grows; near-IID clients do not",
         measured=f"α 0.05: {drift.accuracy_of(0.05, 1):.3f} → {drift.accuracy_of(0.05, 20):.3f}; "
                  f"α 100: {drift.accuracy_of(100.0, 20):.3f} (start {drift.start_accuracy:.3f})")
fl.check(all(drift.agreement_of(0.05, e) < drift.agreement_of(100.0, e) - 0.03 for e in drift.epochs),
         "at every E the skewed clients' updates agree less")

# %% [markdown]
# ## 2 · Four algorithms, one equation each
#
# With $\eta_l$ the client learning rate, $w_t$ the global model, $F_k$ client $k$'s loss and $p_k = n_k/n$:
#
# | algorithm | the one change | equation | `FLConfig` |
# |---|---|---|---|
# | **FedAvg** (McMahan et al. 2017) | — | local $w \leftarrow w - \eta_l \nabla F_k(w)$; $\; w_{t+1} = \sum_k p_k w_k$ | default |
# | **FedProx** (Li et al. 2020) | a pull towards $w_t$ in every local step | $w \leftarrow w - \eta_l\,[\nabla F_k(w) + \mu (w - w_t)]$ | `mu` |
# | **FedAvgM** (Hsu et al. 2019) | momentum on the server | $v \leftarrow \beta v + (w_t - \bar w)$; $\; w_{t+1} = w_t - v$ | `server_optimizer="fedavgm"`, `server_momentum` |
# | **SCAFFOLD** (Karimireddy et al. 2020) | a drift correction in every local step | $w \leftarrow w - \eta_l\,[\nabla F_k(w) - c_k + c]$ | `scaffold=True` |
#
# In SCAFFOLD, $c_k$ estimates client $k$'s own gradient direction and $c$ the average one; after $K_k$ local steps
# the client sets $c_k \leftarrow c_k - c + (w_t - w_k)/(K_k \eta_l)$ from its own model $w_k$, and the server moves
# $c$ by $\sum_k p_k\,(c_k^{+} - c_k)$ over the round's clients, so that $c = \sum_k p_k c_k$ at all times.
# So each local step follows $\nabla F_k - c_k + c \approx \nabla F$, the gradient of the *whole* objective: the
# drift is subtracted, not just damped. The price: $c$ travels down and $\Delta c_k$ up with every model, **twice
# the bytes per round**.
#
# **One objective for all four.** Every algorithm here minimises $F(w) = \sum_k p_k F_k(w)$ with $p_k = n_k/n$,
# the mean loss over all examples, the loss centralised training minimises. SCAFFOLD must weight $c$ with the
# same $p_k$ as its average: if the model were averaged with $n_k/n$ but $c$ with $1/K$, the corrected steps would
# follow the gradient of the *uniform* objective $\frac{1}{K}\sum_k F_k$, and SCAFFOLD would converge to a
# different model from the one FedAvg and FedProx aim at. Karimireddy et al. (2020, Algorithm 1) use $1/K$ for
# both, the uniform objective; `client_weighting="uniform"` runs that form, for every algorithm.
#
# The settings used here: FedProx $\mu = 0.01$; FedAvgM $\beta = 0.5$ with server learning rate 1.
# `non_iid.algorithm_fields` gives each algorithm's `FLConfig` changes:

# %%
for name in non_iid.ALGORITHMS:
    print(f"{name:<9} {non_iid.algorithm_fields(name, mu=0.01, server_momentum=0.5)}")

# %% [markdown]
# ## 3 · Rounds to 95% against $\alpha_D$
#
# Each algorithm on three splits, from skewed ($\alpha_D = 0.1$) to near-IID ($\alpha_D = 100$), three seeds each
# (the seed changes the split, the initial model and the batch order); the table shows medians.
#
# Every point of that sweep rests on runs like this one, written out: FedAvg at $\alpha_D = 0.1$, seed 0, with the
# shared settings above. Read off the first round whose global model reaches 95%:

# %%
one_cell = fl.FLConfig(dataset="digits", n_clients=n_clients, partition="dirichlet", alpha=0.1, local_epochs=5,
                       batch_size=64, client_learning_rate=client_learning_rate, rounds=20, seed=0)
history = fl.run_experiment(one_cell, progress=False)
fedavg_rounds = history.rounds_to_accuracy(0.95)
print(f"FedAvg, alpha=0.1, seed 0: 95% first in round {fedavg_rounds}")

# %% [markdown]
# The helper repeats it for every $\alpha_D$ (0.1, 1, 100) × algorithm (FedAvg, FedProx, FedAvgM, SCAFFOLD, each with
# its `algorithm_fields`) × seed (0, 1, 2), 36 runs, and plots the median rounds of each algorithm against $\alpha_D$:

# %%
knobs = dict(n_clients=n_clients, client_learning_rate=client_learning_rate, mu=mu, server_momentum=server_momentum,
             server_learning_rate=server_learning_rate)
sweep = non_iid.show_alpha_sweep(alphas=(0.1, 1.0, 100.0), seeds=(0, 1, 2), **knobs)

# %% [markdown]
# *Figure:* median rounds to 95% against the Dirichlet concentration α_D for FedAvg, FedProx, FedAvgM and SCAFFOLD;
# every algorithm needs the most rounds at the smallest α_D, SCAFFOLD and FedAvgM the fewest.

# %% [markdown]
# Its seed-0 FedAvg run at $\alpha_D = 0.1$ is the one above:

# %%
in_sweep = sweep.per_seed[sweep.alphas.index(0.1), sweep.algorithms.index("FedAvg"), sweep.seeds.index(0)]
fl.check(fedavg_rounds == in_sweep or (fedavg_rounds is None and in_sweep == np.inf),
         "FedAvg, alpha=0.1, seed 0: the run by hand is the sweep's", measured=f"round {fedavg_rounds} by hand",
         expected=f"round {in_sweep:g} in the sweep")

# %% [markdown]
# ### The cost of drift
#
# Read the **FedAvg** column: at $\alpha_D = 0.1$ it needs more than twice the rounds it needs at $\alpha_D = 100$.
# That is the cost of client drift, in rounds.

# %%
print(f"FedAvg: {sweep.rounds_of(0.1):g} rounds at alpha=0.1, {sweep.rounds_of(100.0):g} at alpha=100")
fl.check(sweep.rounds_of(0.1, "FedAvg") >= 2 * sweep.rounds_of(100.0, "FedAvg"),
         "skewed data cost FedAvg at least twice the rounds", measured=sweep.rounds_of(0.1, "FedAvg"),
         expected=f"≥ 2 × {sweep.rounds_of(100.0, 'FedAvg'):g}")

# %% [markdown]
# ### The remedies, measured
#
# Now the remedies:
#
# - **SCAFFOLD** cuts the rounds at $\alpha_D = 0.1$ in every seed, and its gain shrinks to about a round on
#   near-IID data, where there is little drift to correct. That is what a drift correction should do.
# - **FedAvgM** ($\beta = 0.5$) helps at $\alpha_D = 0.1$ as much and ties FedAvg on near-IID data. It does
#   not correct drift: the update agreement above says that on skewed data the averaged update is *short*,
#   and momentum lengthens it (a steady direction is applied up to $1/(1-\beta) = 2$ times). A bigger step,
#   not a better direction — exercise 3 shows that a large $\beta$ overshoots.

# %%
fedavg_seeds = sweep.per_seed[0, sweep.algorithms.index("FedAvg")]
scaffold_seeds = sweep.per_seed[0, sweep.algorithms.index("SCAFFOLD")]
gain = {a: sweep.rounds_of(a, "FedAvg") - sweep.rounds_of(a, "SCAFFOLD") for a in (0.1, 100.0)}
fl.check(np.all(scaffold_seeds < fedavg_seeds) and gain[0.1] >= 3 and gain[0.1] >= gain[100.0] + 2,
         "SCAFFOLD saves rounds in every seed at α = 0.1, at least 3 in the median, and more than on near-IID data",
         measured=f"median gain {gain[0.1]:g} at α = 0.1, {gain[100.0]:g} at α = 100")
fl.check(sweep.rounds_of(0.1, "FedAvgM") <= sweep.rounds_of(0.1, "FedAvg") - 3
         and sweep.rounds_of(100.0, "FedAvgM") <= sweep.rounds_of(100.0, "FedAvg"),
         "FedAvgM saves at least 3 rounds at α = 0.1 and is no slower near IID",
         measured=f"{sweep.rounds_of(0.1, 'FedAvgM'):g} vs {sweep.rounds_of(0.1, 'FedAvg'):g} rounds")

# %% [markdown]
# ### FedProx, with a strong pull
#
# - **FedProx does not help here.** With $\mu = 0.01$ it behaves like FedAvg (the pull $\mu (w - w_t)$ is tiny),
#   and a strong pull ($\mu = 1$) makes it *slower*: the proximal term limits drift and limits progress alike.
#   In this federation drift slows FedAvg down but does not stop it, and every client does the same amount of
#   work. FedProx (Li et al. 2020) addresses two kinds of heterogeneity: *statistical* (non-IID data, where the
#   proximal term limits client drift; notebook 07 shows where that pays) and *systems* (devices that do unequal
#   amounts of local work, whose partial updates it accepts; notebook 13).

# %%
strong = non_iid.compute_algorithms(alpha=0.1, n_clients=n_clients, client_learning_rate=client_learning_rate,
                                    mu=1.0, algorithms=("FedAvg", "FedProx"))
print(strong.summary())
fl.check(abs(sweep.rounds_of(0.1, "FedProx") - sweep.rounds_of(0.1, "FedAvg")) <= 1
         and (strong.rounds["FedProx"] is None or (strong.rounds["FedAvg"] is not None
                                                   and strong.rounds["FedProx"] > strong.rounds["FedAvg"])),
         "a small μ changes nothing, μ = 1 is slower than FedAvg",
         measured=f"μ = {mu:g}: {sweep.rounds_of(0.1, 'FedProx'):g} rounds, μ = 1: {strong.rounds['FedProx']}",
         expected=f"{sweep.rounds_of(0.1, 'FedAvg'):g} ± 1, more than {strong.rounds['FedAvg']}")

# %% [markdown]
# ### Rounds are not bytes
#
# SCAFFOLD sends the model and a control variate each way, twice FedAvg's bytes per round. Does its saving in
# rounds survive in megabytes? Three seeds are too few to tell, so this cell runs ten, FedAvg and SCAFFOLD only
# (20 runs):

# %%
scaffold_run = non_iid.run_cached(config.replace(scaffold=True))
fedavg_run = non_iid.run_cached(config)
per_round = config.clients_per_round * 2 * 4 * fl.count_parameters(fedavg_run.final_weights) / 1e6   # m 2 (4P)
ten = non_iid.compute_alpha_sweep(alphas=(0.1,), algorithms=("FedAvg", "SCAFFOLD"), seeds=tuple(range(10)),
                                  n_clients=n_clients, client_learning_rate=client_learning_rate)
mb = {"FedAvg": ten.per_seed[0, 0] * per_round, "SCAFFOLD": ten.per_seed[0, 1] * 2 * per_round}
print(f"MB to 95% at alpha=0.1, FedAvg {per_round:.3f} MB per round, SCAFFOLD twice that (inf: not reached):")
for s in ten.seeds:
    print(f"  seed {s}: FedAvg {mb['FedAvg'][s]:5.2f}   SCAFFOLD {mb['SCAFFOLD'][s]:5.2f}")

# %%
cheaper = int(np.sum(mb["SCAFFOLD"] < mb["FedAvg"]))
dearer = int(np.sum(mb["SCAFFOLD"] > mb["FedAvg"]))
medians = {name: float(np.median(v)) for name, v in mb.items()}
print(f"SCAFFOLD cheaper in {cheaper} of 10 seeds, dearer in {dearer}; "
      f"medians FedAvg {medians['FedAvg']:.2f} MB, SCAFFOLD {medians['SCAFFOLD']:.2f} MB")
fl.check(cheaper >= 1 and dearer >= 1 and abs(medians["SCAFFOLD"] / medians["FedAvg"] - 1) < 0.25,
         "in megabytes SCAFFOLD neither always wins nor always loses, and the medians are within 25%",
         measured=f"ratio of medians {medians['SCAFFOLD'] / medians['FedAvg']:.2f}")

# %% [markdown]
# In megabytes SCAFFOLD about **breaks even** here: roughly half the rounds at twice the bytes per round. It is
# cheaper for most seeds and dearer for some, and the two medians are close. A saving in rounds is a saving in
# *latency* (fewer synchronisations), not automatically in traffic.

# %% [markdown]
# ## 4 · The four curves at $\alpha_D = 0.1$
#
# One seed, accuracy against rounds. Left the curves, right the rounds to 95% (a hatched bar: not reached in 20
# rounds). SCAFFOLD and FedAvgM climb faster; FedProx lies on top of FedAvg.
#
# Every run is computed once and kept: the figure below reuses the seed-0 runs of the sweep, and in the sliders
# further down a new $\mu$ or $\beta$ re-runs only FedProx or FedAvgM (how: [the appendix](15_how_the_kit_is_built.ipynb)).

# %%
curves = non_iid.show_algorithms(alpha=0.1, seed=seed, **knobs)

# %% [markdown]
# *Figure:* left, test accuracy against the round for the four algorithms at α_D = 0.1; right, bars of their rounds to
# 95%; SCAFFOLD and FedAvgM climb faster and FedProx lies on top of FedAvg.

# %%
def rounds_or_more(name):                     # a run that never reaches 95% counts as one round more than it had
    return curves.rounds[name] if curves.rounds[name] is not None else config.rounds + 1

fl.check(rounds_or_more("SCAFFOLD") < rounds_or_more("FedAvg") and rounds_or_more("FedAvgM") < rounds_or_more("FedAvg"),
         "SCAFFOLD and FedAvgM climb faster than FedAvg", measured=curves.rounds)
fl.check(curves.megabytes_per_round["SCAFFOLD"] == 2 * curves.megabytes_per_round["FedAvg"],
         "SCAFFOLD moves twice FedAvg's bytes per round", measured=curves.megabytes_per_round["SCAFFOLD"],
         expected=2 * curves.megabytes_per_round["FedAvg"])

# %% [markdown]
# ## Your turn
#
# Sliders: the skew $\alpha_D$ (log scale, 0.05 to 100), the number of clients $K$, the client learning rate, FedProx's
# $\mu$, FedAvgM's $\beta$ and server learning rate $\eta_g$, and the seed: one seed can mislead, so move it and
# watch the ranking change. A slider acts when you release it; a new $\alpha_D$, $K$, learning rate or seed re-runs
# all four algorithms together (one batched call of the engine), a new $\mu$, $\beta$ or $\eta_g$ only the one it
# belongs to. Presets: near-IID data, too much momentum, a half server step, a strong FedProx, another seed, more
# clients; *reset* returns to the notebook's settings. Also try a client learning rate of 3 (divergence).

# %%
controls = dict(alpha=fl.widgets.log_value_slider(0.1, 0.05, 100.0, "Dirichlet concentration α_D"),
                n_clients=fl.widgets.client_slider(n_clients, min=2, max=30),
                client_learning_rate=fl.widgets.log_value_slider(client_learning_rate, 0.01, 3.0,
                                                                 "client learning rate η_l"),
                mu=fl.widgets.log_value_slider(mu, 0.001, 1.0, "FedProx μ") if mu > 0
                else fl.widgets.float_slider(mu, 0.0, 1.0, "FedProx μ", step=0.01),
                server_momentum=fl.widgets.float_slider(server_momentum, 0.0, 0.95, "FedAvgM β"),
                server_learning_rate=fl.widgets.log_value_slider(server_learning_rate, 0.1, 2.0,
                                                                 "FedAvgM server learning rate η_g"),
                seed=fl.widgets.int_slider(seed, 0, 20, "seed"))
display(fl.widgets.ControlPanel(non_iid.show_algorithms, controls, presets=non_iid.PRESETS, run_now=False))

# %% [markdown]
# The panel draws when you move a slider; it starts from the figure of section 4.

# %% [markdown]
# ## Summary
#
# - **Client drift:** trained from the same model, clients on skewed data end up as specialists (lower test
#   accuracy) whose updates partly cancel in the average (lower agreement). More local epochs, more drift.
# - On digits with $K = 10$, $E = 5$, FedAvg needs more than **twice** the rounds to 95% at $\alpha_D = 0.1$ as at
#   $\alpha_D = 100$ (medians of 3 seeds).
# - **SCAFFOLD** corrects each local step by $c - c_k$; it saves rounds in every seed at $\alpha_D = 0.1$ and little on
#   near-IID data. It sends twice the bytes per round, so in megabytes it about breaks even here (cheaper for
#   some seeds, dearer for others). Its $c$ is weighted like its average, so it minimises the same objective as
#   FedAvg.
# - **FedAvgM** ($\beta = 0.5$) saves about as many rounds on skewed data by taking longer steps, not better ones.
# - **FedProx** does not help on this data: a small $\mu$ changes nothing, a large $\mu$ slows training. It
#   addresses statistical heterogeneity (drift, notebook 07) and systems heterogeneity (unequal local work,
#   notebook 13).
# - One seed can mislead; compare medians, and look at bytes as well as rounds.
#
# ## Exercises
#
# They go from predicting to writing code. Each has a collapsed solution; the checkers say what is wrong, not only
# that something is.
#
# 1. **Predict, then run.** With $K = 10$ clients at $\alpha_D = 0.1$, SCAFFOLD reaches 95% in the round shown in the
#    summary above. With $K = 30$ clients (each holds fewer examples and fewer classes), how many rounds does it
#    need? Write your guess, then run.

# %%
guess_scaffold_rounds = None   # your guess: SCAFFOLD's rounds to 95% with K = 30, e.g. 10

# %%
many = non_iid.compute_algorithms(alpha=0.1, n_clients=30)
print(f"K=30: {many.rounds} (K={n_clients}: {curves.rounds}); non-IID score {many.non_iid_score:.3f} "
      f"(K={n_clients}: {curves.non_iid_score:.3f})")
print(fl.exercises.check_prediction(guess_scaffold_rounds, many.rounds["SCAFFOLD"], tolerance=0.25,
                                    what="SCAFFOLD's rounds to 95% with K = 30"))

# %% [markdown]
# <details><summary>Solution to exercise 1</summary>
#
# SCAFFOLD needs 7 rounds with 30 clients against 5 with 10, while FedAvg and FedProx barely make it (round 20):
# SCAFFOLD gains most. At a fixed $\alpha_D$ a client with fewer examples draws its label mix from fewer images, so
# it holds fewer classes and its distribution is further from the whole: the non-IID score grows (0.693 against
# 0.626), the drift grows, and a drift correction has more to correct.
# </details>
#
# 2. **Compute.** With all control variates zero, a SCAFFOLD local step is a FedAvg local step. Which round of a
#    SCAFFOLD run is therefore identical to FedAvg's? Check your answer: compare
#    `non_iid.run_cached(config.replace(scaffold=True)).accuracy` with `non_iid.run_cached(config).accuracy`.
#    *Hint:* the control variates start at zero and change only after the first round.

# %% jupyter={"source_hidden": true} tags=["solution"]
# Solution to exercise 2
with_controls, without = non_iid.run_cached(config.replace(scaffold=True)), non_iid.run_cached(config)
print(f"round 1: {with_controls.accuracy[0]:.3f} and {without.accuracy[0]:.3f}; "
      f"round 2: {with_controls.accuracy[1]:.3f} and {without.accuracy[1]:.3f}")
same_first = with_controls.accuracy[0] == without.accuracy[0]
print(f"{'✔' if same_first else '✘'} round 1 is FedAvg's; the control variates act from round 2 on")

# %% [markdown]
# Round 1 only: its local steps use $c_k = c = 0$. After it every client sets $c_k$ from its own progress, so from
# round 2 on the steps are corrected and the curves part.
#
# 3. **Explore.** Too much momentum: compare FedAvgM with $\beta \in \{0, 0.5, 0.95\}$ at $\alpha_D = 0.1$ and at
#    $\alpha_D = 100$, with `non_iid.compute_algorithms(alpha=alpha, server_momentum=beta, algorithms=("FedAvgM",))`.
#    Which $\beta$ is best, and is it the same on both splits?
#
# <details><summary>Solution to exercise 3</summary>
#
# ```python
# for alpha in (0.1, 100.0):
#     for beta in (0.0, 0.5, 0.95):
#         r = non_iid.compute_algorithms(alpha=alpha, server_momentum=beta, algorithms=("FedAvgM",))
#         print(alpha, beta, r.rounds["FedAvgM"], f"{r.final_accuracy['FedAvgM']:.3f}")
# ```
# $\beta = 0$ is FedAvg exactly (13 rounds at $\alpha_D = 0.1$, 4 at $\alpha_D = 100$). $\beta = 0.5$ is best on both
# splits: 7 rounds at $\alpha_D = 0.1$ (the short averaged update gets longer), and at $\alpha_D = 100$ it ties FedAvg's
# 4 rounds but ends higher. With $\beta = 0.95$ the steps overshoot: 12 rounds at $\alpha_D = 0.1$, and on both
# splits the run ends *below* $\beta = 0.5$ (0.958 and 0.956 against 0.967 and 0.969). A server momentum is a
# hyper-parameter to tune per federation.
# </details>
#
# 4. **Explore.** More local work: does FedProx with $\mu = 0.1$ start to pay when the clients drift further, with
#    $E = 20$? `non_iid.compute_alpha_sweep` does not take $E$, so build the runs yourself with
#    `non_iid.run_cached(non_iid.base_config(0.1, local_epochs=20, seed=s).replace(mu=mu))` for seeds 0, 1, 2 and
#    $\mu \in \{0, 0.1\}$. *Hint:* compare rounds to 95% *and* final accuracy.

# %% jupyter={"source_hidden": true} tags=["solution"]
# Solution to exercise 4
for mu_e20 in (0.0, 0.1):
    runs_e20 = [non_iid.run_cached(non_iid.base_config(0.1, local_epochs=20, seed=s).replace(mu=mu_e20))
                for s in range(3)]
    print(f"E=20, mu={mu_e20}: rounds to 95% {[h.rounds_to_accuracy(0.95) for h in runs_e20]}, "
          f"final {[round(h.final_accuracy, 3) for h in runs_e20]}")

# %% [markdown]
# No: with $E = 20$ FedProx ($\mu = 0.1$) is *slower* than FedAvg in every seed and ends no higher. On this data
# more local work still helps FedAvg (compare its rounds at $E = 5$ in the sweep), and the proximal term mostly
# takes that progress back.
#
# 5. **Find the bug.** FedProx's local step is $w \leftarrow w - \eta_l\,[\nabla F_k(w) + \mu (w - w_t)]$, and this
#    gradient of its proximal term makes the clients drift *faster*:
#
#    ```python
#    def proximal_gradient(w, w_global, mu):
#        return mu * (w_global - w)
#    ```
#    Run `print(fl.exercises.check_proximal_gradient(proximal_gradient))`, read the hint, and fix it.
#
# <details><summary>Solution to exercise 5</summary>
#
# ```python
# def proximal_gradient(w, w_global, mu):
#     return mu * (w - w_global)          # the gradient of (mu/2) ||w - w_t||^2
#
# print(fl.exercises.check_proximal_gradient(proximal_gradient))
# ```
# The step *subtracts* the gradient, so the gradient must point away from $w_t$ for the step to pull $w$ back. With
# the sign flipped the term pushes every client away from the global model, the opposite of what FedProx wants.
# </details>
#
# 6. **Write the function.** Write SCAFFOLD's client control update,
#    `scaffold_control(c_k, c, x, y_k, n_steps, learning_rate)`, returning
#    $c_k^{+} = c_k - c + (x - y_k)/(K_k \eta_l)$ for flattened vectors ($x$ the global model, $y_k$ the client's model
#    after its $K_k$ = `n_steps` local steps). Check it with
#    `print(fl.exercises.check_scaffold_control(scaffold_control))`.
#
# <details><summary>Solution to exercise 6</summary>
#
# ```python
# def scaffold_control(c_k, c, x, y_k, n_steps, learning_rate):
#     return c_k - c + (x - y_k) / (n_steps * learning_rate)
#
# print(fl.exercises.check_scaffold_control(scaffold_control))
# ```
# $(x - y_k)/(K_k \eta_l)$ is the mean of the corrected steps $\nabla F_k - c_k + c$ the client took; adding $c_k - c$
# back leaves an estimate of its own gradient $\nabla F_k$. Forget $K_k$ and $c_k$ grows with the number of steps.
# </details>
#
# **Next:** [12 · Communication cost](12_communication_cost.ipynb)
