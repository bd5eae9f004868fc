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
# # 05 · The math
#
# **What you will learn**
# - what the article's update formula (section 3.3) computes when you run it literally on real gradients;
# - the three things wrong with it: the weights $1/n_i$, a sum of gradients used as a model, and a $\beta$ that cancels out;
# - the correct formulas: FedSGD, FedAvg, and why FedSGD is FedAvg with $E = 1$ and $B = \infty$;
# - FedAvgM (server momentum), the most likely intent of the article's "decay rate" $\beta$, and that $\beta$ then matters.
#
# **Article section:** *3.3 数学模型公式详细讲解* ("3.3 Detailed explanation of the mathematical model formulas").
#
# **Prerequisites:** [03 · Model and local training](03_model_and_local_training.ipynb) (a gradient step on one
# client) and [04 · FedAvg step by step](04_fedavg_step_by_step.ipynb) (the five steps of a round). This notebook
# keeps the article's letters where it quotes the article ($\theta$ for the model, $N$ devices, $\alpha$ its learning
# rate); the [glossary](GLOSSARY.md) maps them to the kit's ($w$, $K$, $\eta_l$).
#
# **Time:** about 25 minutes, plus about 45 for the exercises · core path (notebooks 00–08).

# %%
# NBVAL_IGNORE_OUTPUT
import fedlearn_edu as fl
import numpy as np
import matplotlib.pyplot as plt
from IPython.display import display
from fedlearn_edu.plots import plot_history
from fedlearn_edu.widgets import math as math_widgets

fl.set_seed(42)
fl.print_versions()

# %% [markdown]
# The knobs of this notebook. Change one, then run this cell and every cell below it (*Run › Run Selected Cell
# and All Below*). Every value in the stated ranges runs to the end; the ✔/✘ lines say which claims still hold.

# %% tags=["parameters"]
n_clients = 10                  # devices N (our K), quantity-skewed: 2 .. 30
article_alpha = 0.1             # the article's α, a learning rate (our η_l): 0.001 .. 1.0
article_beta = 0.9              # the article's β, its "decay rate": 0.0 .. 0.95
seed = 0                        # seed: 0 .. 20

# %% [markdown]
# ## The formula as the article prints it
#
# *federated learning 的数学模型可以表示为以下公式* ("the mathematical model of federated learning can be
# written as the following formulas"):
#
# $$
# \begin{aligned}
# \theta_t &= \alpha \sum_{i=1}^N \frac{1}{n_i} \nabla L_i(\theta_{t-1}) \\
# \theta_{t+1} &= \beta \theta_t + (1-\beta) \theta_t
# \end{aligned}
# $$
#
# | symbol | the article says | in English |
# |---|---|---|
# | $\theta_t$ | 当前全局模型 | the current global model |
# | $\theta_{t-1}$ | 上一轮全局模型 | the global model of the previous round |
# | $N$ | 边缘设备的数量 | the number of edge devices (clients) |
# | $n_i$ | 第 $i$ 个边缘设备的数据数量 | the number of examples on device $i$ |
# | $L_i(\theta_{t-1})$ | 第 $i$ 个边缘设备的损失函数 | the loss function of device $i$ |
# | $\alpha$ | 学习率 | the learning rate |
# | $\beta$ | 衰减率 | the "decay rate" |
#
# Before reading further, try to say what each line does. Then we run it.
# `fl.seed_formula` (in `fedlearn_edu/aggregate.py`) implements the two lines *literally*, nothing added.

# %% [markdown]
# ## Real gradients of the article's model on real client data
#
# We need $\nabla L_i(\theta_{t-1})$ for every client. Take the article's data and model, split over
# $N = 10$ clients with **quantity skew** (client sizes drawn from a Dirichlet distribution), and train
# five FedAvg rounds to get a sensible $\theta_{t-1}$.

# %%
config = fl.FLConfig(n_clients=n_clients, rounds=5, partition="quantity", alpha=0.5, seed=seed)
sim = fl.Simulation(config)
n = sim.client_sizes
print("client sizes n_i:", n.tolist())

# %%
history = fl.run_experiment(config)
theta_prev = history.final_weights
print(f"theta_(t-1) after 5 FedAvg rounds: test accuracy {history.final_accuracy:.3f}")

# %% [markdown]
# A client's full-batch gradient comes from the **FedSGD identity**: one local step of plain gradient descent
# on all its data with learning rate 1 moves it from $\theta$ to $\theta - \nabla L_i(\theta)$. So
# $\nabla L_i(\theta) = \theta - (\text{model after that step})$, computed by the engine's own compiled
# trainer. We check one client against TensorFlow's `GradientTape`.

# %%
G = math_widgets.client_gradients(sim, theta_prev)        # row i is grad L_i(theta_(t-1))
print("gradients: shape", G.shape, "(clients, parameters)")
X0, y0 = sim.client_data(0)
reference = math_widgets.tape_gradient(sim.model, theta_prev, X0, y0)
fl.check(np.allclose(G[0], reference, atol=1e-5), "client 0's gradient agrees with GradientTape to 1e-5",
         measured=np.abs(G[0] - reference).max())

# %% [markdown]
# ## The formula, run literally
#
# The article gives no value for $\alpha$ or $\beta$; we take $\alpha = 0.1$ (the kit's default learning rate)
# and $\beta = 0.9$.

# %%
theta_t, theta_next = fl.seed_formula(fl.flatten_weights(theta_prev), G, n, alpha=article_alpha, beta=article_beta)
print("theta_t:", theta_t.shape, " theta_(t+1):", theta_next.shape)

# %% [markdown]
# ### Problem 1: the weights $1/n_i$ give the wrong clients the say
#
# The article does not say what $L_i$ is. Write $g_i$ for client $i$'s **mean** gradient (the average over its
# $n_i$ examples). There are two readings:
#
# - $L_i$ is the client's **mean** loss (what Keras and this kit compute): $\nabla L_i = g_i$, so in
#   $\sum_i \frac{1}{n_i}\nabla L_i$ client $i$ counts in proportion to $1/n_i$: the *smallest* client counts most;
# - $L_i$ is the **sum** of the losses of its examples: $\nabla L_i = n_i\,g_i$, the $1/n_i$ cancels, and every
#   client counts $1/N$, whatever its size. Not inverted, but still not FedAvg's data share $n_i/n$.
#
# Compare each client's share of the say under both readings with its share of the data:

# %%
shares = math_widgets.formula_weights(n)
print("client   n_i   data share n_i/n   mean-loss reading (1/n_i)   sum reading (1/N)")
for i in np.argsort(n):
    print(f"{i:>6} {n[i]:>5} {shares['fedavg'][i]:>18.3f} {shares['article'][i]:>27.3f} "
          f"{shares['article_sum'][i]:>19.3f}")

# %%
smallest = int(np.argmin(n))
ratio = shares["article"][smallest] / shares["fedavg"][smallest]
print(f"client {smallest} holds {shares['fedavg'][smallest]:.3f} of the data; if L_i is a mean loss it gets "
      f"{shares['article'][smallest]:.3f} of the say ({ratio:.0f} times too much), "
      f"if L_i is a sum {shares['article_sum'][smallest]:.3f}")
fl.check(shares["article"][smallest] == shares["article"].max() and shares["fedavg"][smallest] < 0.01
         and shares["article"][smallest] > 0.4, "a client with under 1% of the data gets over 40% of the say",
         measured=f"{shares['fedavg'][smallest]:.3f} of the data, {shares['article'][smallest]:.3f} of the say")

# %%
# extra code – the three weightings side by side
order = np.argsort(n)
fig, ax = plt.subplots(figsize=(6, 3.2))
x = np.arange(len(n))
ax.bar(x - 0.27, shares["fedavg"][order], width=0.27, label="data share $n_i/n$ (FedAvg)")
ax.bar(x, shares["article"][order], width=0.27, label="article, $L_i$ a mean: $1/n_i$, normalised")
ax.bar(x + 0.27, shares["article_sum"][order], width=0.27, label="article, $L_i$ a sum: $1/N$")
ax.set_xticks(x, [str(n[i]) for i in order])
ax.set(xlabel="client size $n_i$ (smallest first)", ylabel="share", title="each client's say under three weightings")
ax.legend()
plt.show()

# %% [markdown]
# *Figure:* bars of each client's share of the say under three weightings: FedAvg's data share, the article's
# 1/n_i (normalised) if $L_i$ is a mean loss, and 1/N if it is a sum. The smallest client gets the largest share
# under the mean-loss reading.

# %% [markdown]
# Under the mean-loss reading, the few examples of a tiny client get almost as much say as all the other clients
# together. Its mean gradient is the noisiest of all (fewest examples), so the update is dominated by noise. Under
# the sum reading every client gets the same say, so each example of a small client still counts more than one of
# a large client. FedAvg weights by $n_i/n$, so that every *example* counts the same.
#
# ### Problem 2: the first line gives a sum of gradients, not a model
#
# $\theta_t$ is $\alpha$ times a sum of gradients. $\theta_{t-1}$ enters only *through* the gradients: there is
# no "$\theta_{t-1} - \ldots$". So the new "model" has the size of a gradient step, and no relation to the
# model we had:

# %%
theta_prev_vector = fl.flatten_weights(theta_prev)
norm_ratio = np.linalg.norm(theta_t) / np.linalg.norm(theta_prev_vector)
cosine = theta_t @ theta_prev_vector / (np.linalg.norm(theta_t) * np.linalg.norm(theta_prev_vector))
print(f"|theta_t| / |theta_(t-1)| = {norm_ratio:.3f},  cosine(theta_t, theta_(t-1)) = {cosine:.3f}")
fl.check(norm_ratio < 0.05 and abs(cosine) < 0.2, "theta_t is tiny and unrelated to the model we had",
         measured=f"norm ratio {norm_ratio:.3f}, cosine {cosine:.3f}", expected="below 0.05 and |cosine| below 0.2")

# %% [markdown]
# #### Used as a model, it scores chance
#
# Use it as the global model and evaluate it on the test set. With weights this small every output of the
# softmax is close to $1/3$: the loss is $\ln 3 \approx 1.099$ (a model that knows nothing) and the accuracy
# is chance, although $\theta_{t-1}$ was a good model (its accuracy is printed first).

# %%
loss_t, accuracy_t = sim.evaluate(fl.unflatten_weights(theta_next, theta_prev))
print(f"theta_(t-1): accuracy {history.final_accuracy:.3f}")
print(f"article's theta_(t+1): accuracy {accuracy_t:.3f}, loss {loss_t:.3f} (ln 3 = {np.log(3):.3f})")
fl.check(abs(accuracy_t - 1 / 3) < 0.05 and abs(loss_t - np.log(3)) < 0.01,
         "as a model it knows nothing: chance accuracy, loss ln 3", measured=f"{accuracy_t:.3f}, {loss_t:.3f}",
         expected=f"{1 / 3:.3f} ± 0.05, {np.log(3):.3f} ± 0.01")

# %% [markdown]
# ### Problem 3: the second line does nothing, whatever $\beta$ is
#
# $\beta\theta_t + (1-\beta)\theta_t = (\beta + 1 - \beta)\,\theta_t = \theta_t$. The "decay rate" cancels out.
# In floating point the two products are rounded separately, so for some $\beta$ the result can differ from
# $\theta_t$ in the last binary digit (relative $10^{-16}$); for $\beta \in \{0, 0.5, 1\}$ it is bit for bit
# $\theta_t$, and once stored as the model's float32 weights it is the same model for every $\beta$:

# %%
same_for_every_beta = True
for beta in [0.0, 0.1, 0.5, 0.9, 0.99, 1.0]:
    _, theta_beta = fl.seed_formula(theta_prev_vector, G, n, alpha=article_alpha, beta=beta)
    exact = np.array_equal(theta_beta, theta_t)
    same_model = np.array_equal(theta_beta.astype(np.float32), theta_t.astype(np.float32))
    same_for_every_beta &= same_model and (exact or beta not in (0.0, 0.5, 1.0))
    print(f"beta = {beta:<4}: theta_(t+1) == theta_t bit for bit: {exact!s:<5}  same float32 model: {same_model}")
fl.check(same_for_every_beta, "every β gives the same float32 model (bit for bit at 0, 0.5 and 1)")

# %% [markdown]
# ## What the formula should be
#
# **FedSGD** (McMahan et al. 2017): every client computes the full-batch gradient at the *current* model,
# the server averages the gradients weighted by data share and takes one step:
#
# $$w_{t+1} = w_t - \eta_l \sum_{k=1}^{K} \frac{n_k}{n} \nabla F_k(w_t), \qquad n = \sum_k n_k .$$
#
# Here $F_k(w)$ is client $k$'s **mean** loss over its $n_k$ examples (the article's $L_i$ read as a mean; the
# kit's notation from here on, as in the [glossary](GLOSSARY.md)).
#
# **FedAvg**: every client trains locally ($E$ epochs of mini-batch SGD, batch size $B$) from $w_t$ to
# $w_k^{t+1}$, and the server averages the *models*:
#
# $$w_{t+1} = \sum_{k=1}^{K} \frac{n_k}{n}\, w_k^{t+1} .$$
#
# With $E = 1$ and $B = \infty$ (one full-batch step, `batch_size=None`) each client returns
# $w_k^{t+1} = w_t - \eta_l \nabla F_k(w_t)$, and the average of those is exactly the FedSGD update.
# Check it: FedSGD by hand from the clients' gradients, against one round of the engine.

# %%
eta_l = 0.5                                   # the clients' learning rate η_l
w0 = sim.initial_weights
G0 = math_widgets.client_gradients(sim, w0)
fedsgd_by_hand = fl.flatten_weights(w0) - eta_l * fl.fedavg_coefficients(n) @ G0
one_round = fl.run_experiment(config.replace(rounds=1, local_epochs=1, batch_size=None,
                                             client_learning_rate=eta_l))
difference = np.max(np.abs(fedsgd_by_hand - fl.flatten_weights(one_round.final_weights)))
fl.check(difference < 1e-5, "FedSGD by hand is FedAvg with E = 1, B = ∞", measured=difference, expected="< 1e-5")

# %% [markdown]
# ### FedSGD is gradient descent on the pooled data
#
# The weighted sum of client gradients $\sum_k \frac{n_k}{n}\nabla F_k$ is the gradient of the loss on the
# *pooled* data: FedSGD is plain full-batch gradient descent, computed without pooling the data.

# %%
pooled = math_widgets.tape_gradient(sim.model, w0, sim.dataset.X_train, sim.dataset.y_train)
fl.check(np.allclose(fl.fedavg_coefficients(n) @ G0, pooled, atol=1e-5),
         "sum_k (n_k/n) grad F_k is the gradient on the pooled data",
         measured=np.abs(fl.fedavg_coefficients(n) @ G0 - pooled).max(), expected="< 1e-5")

# %% [markdown]
# ## FedAvgM: a $\beta$ that does something
#
# The article's $\beta$ is called a decay rate and mixes "the new model" with something. The likely intent is
# **server momentum** (FedAvgM, Hsu et al. 2019). In the notation of `fedlearn_edu/server.py`: $\bar w$ is
# the FedAvg average of the round's client models and $g_t = w_t - \bar w$ is the *pseudo-gradient*
# (minus the average client update). Then
#
# $$
# \begin{aligned}
# g_t &= w_t - \sum_k \frac{n_k}{n}w_k^{t+1}, \\
# v_t &= \beta\, v_{t-1} + g_t, \qquad v_{-1} = 0, \\
# w_{t+1} &= w_t - \eta_g\, v_t .
# \end{aligned}
# $$
#
# $\beta$ is the decay of the velocity $v$: how much of the past rounds' direction is kept. With $\beta = 0$ and
# $\eta_g = 1$ this is plain FedAvg. Three rounds by hand, with the simulation's own client step and
# aggregation, against the engine (`server_optimizer="fedavgm"`):

# %%
beta, eta_g = 0.9, 1.0
w, velocity = fl.flatten_weights(sim.initial_weights), 0.0
for t in range(3):
    clients = [sim.train_client(k, t, weights=fl.unflatten_weights(w, w0)) for k in range(config.n_clients)]
    g = w - fl.flatten_weights(sim.aggregate(clients))        # pseudo-gradient g_t
    velocity = beta * velocity + g                                  # v_t
    w = w - eta_g * velocity                                  # w_(t+1)
engine = fl.run_experiment(config.replace(rounds=3, server_optimizer="fedavgm", server_momentum=beta))
fl.check(np.allclose(w, fl.flatten_weights(engine.final_weights), atol=1e-5), "FedAvgM by hand is the engine's",
         measured=np.abs(w - fl.flatten_weights(engine.final_weights)).max(), expected="< 1e-5")

# %% [markdown]
# ### When β matters
#
# Now $\beta$ matters. On a non-IID split (Dirichlet label skew, $\alpha_D = 0.1$) with a small client learning
# rate, compare $\beta \in \{0, 0.5, 0.9\}$. Momentum keeps moving in the direction of past rounds, so the
# model gets further per round (roughly $\eta_g/(1-\beta)$ times the step):

# %%
momentum_runs = {b: fl.run_experiment(n_clients=n_clients, rounds=20, partition="dirichlet", alpha=0.1,
                                      client_learning_rate=0.01, server_optimizer="fedavgm",
                                      server_momentum=b, seed=seed) for b in (0.0, 0.5, 0.9)}
for b, h in momentum_runs.items():
    print(f"beta = {b}: accuracy after round 5 {h.accuracy[4]:.3f}, after round 20 {h.final_accuracy:.3f}")

# %%
# extra code – learning curves for the three betas
plot_history(list(momentum_runs.values()), labels=[f"FedAvgM, β = {b}" for b in momentum_runs],
             title="FedAvgM on skewed data: three server momenta β")
plt.show()

# %% [markdown]
# *Figure:* test accuracy against the round for FedAvgM with β = 0, 0.5 and 0.9 on label-skewed data with a small
# client learning rate; the larger β, the faster the climb.

# %%
after_5 = [h.accuracy[4] if len(h.accuracy) > 4 else float("nan") for h in momentum_runs.values()]
fl.check(after_5[0] < after_5[1] < after_5[2] and after_5[2] > after_5[0] + 0.15,
         "more momentum, faster progress at this learning rate", measured=after_5,
         expected="increasing, the last 0.15 above the first")


# %% [markdown]
# ## Try it: the literal formula against FedAvgM
#
# The sliders set the number of clients $N$, the article's $\alpha$ (used as the client learning rate $\eta_l$ of
# FedAvg/FedAvgM), its $\beta$ (used as FedAvgM's server momentum), FedAvgM's server learning rate $\eta_g$, and the
# local epochs $E$ and batch size $B$ of FedAvg/FedAvgM ($E = 1$, $B = \infty$ is FedSGD). The callback
# `math_widgets.show_formula_comparison` iterates the article's formula for 10 rounds from the initial model,
# runs FedAvg and FedAvgM for 10 rounds with the same values, and shows each client's say under $1/n_i$
# and under $n_i/n$ (quantity-skewed clients). Watch the article's curve: does any $\alpha$ or $\beta$ lift it
# off chance? (At $\alpha$ near 1 it can even fall *below* chance: its "model" points up the gradient.) Presets
# show FedSGD, more local work, no momentum, too much momentum, a half server step and α near 1; *reset* returns.

# %%
controls = dict(n_clients=fl.widgets.client_slider(n_clients, min=2, max=30, description="devices N"),
                learning_rate=fl.widgets.log_value_slider(0.03, 0.001, 1.0, "the article's α = η_l"),
                beta=fl.widgets.float_slider(article_beta, 0.0, 0.95, "β (decay / server momentum)", step=0.05),
                server_learning_rate=fl.widgets.log_value_slider(1.0, 0.1, 2.0, "server learning rate η_g"),
                local_epochs=fl.widgets.int_slider(1, 1, 10, "local epochs E"),
                batch_size=fl.widgets.batch_size_slider(32))
display(fl.widgets.ControlPanel(math_widgets.show_formula_comparison, controls, presets=math_widgets.PRESETS,
                                run_now=False))

# %% [markdown]
# The panel draws when you move a slider. The same function at its starting values ($N$ as set above,
# $\alpha = \eta_l = 0.03$, $\beta$ as set above), so the figure is also here without a running kernel:

# %%
comparison = math_widgets.show_formula_comparison(n_clients=n_clients, learning_rate=0.03, beta=article_beta)

# %% [markdown]
# *Figure:* left, test accuracy against the round for the article's formula, FedAvg and FedAvgM, with the formula flat
# at chance; right, each client's share of the say under n_i/n and under 1/n_i.

# %%
fl.check(abs(comparison.literal_accuracy[-1] - comparison.chance) < 0.05 and not comparison.beta_changes_literal,
         "the article's formula stays at chance, and β changes nothing in it",
         measured=comparison.literal_accuracy[-1], expected=f"{comparison.chance:.3f} ± 0.05")
fl.check(comparison.fedavgm_accuracy[-1] >= 0.85 and comparison.fedavgm_accuracy[3] > comparison.fedavg_accuracy[3],
         "FedAvgM reaches 85% and is ahead of FedAvg after 3 rounds",
         measured=f"{comparison.fedavgm_accuracy[-1]:.3f}; after 3 rounds {comparison.fedavgm_accuracy[3]:.3f} vs "
                  f"{comparison.fedavg_accuracy[3]:.3f}")

# %% [markdown]
# ## Summary
# - The article's first line, $\theta_t = \alpha\sum_i \frac{1}{n_i}\nabla L_i(\theta_{t-1})$, weights the clients
#   wrongly: if $L_i$ is a mean loss the **smallest** client counts most (here a client with under 1% of the data
#   got over 40% of the say); if $L_i$ is a sum, every client counts $1/N$ whatever its size. And it produces a
#   scaled **sum of gradients**, not a model: used as a model it scores chance, with loss $\ln 3$.
# - Its second line, $\beta\theta_t + (1-\beta)\theta_t$, **is** $\theta_t$ for every $\beta$: bit for bit at
#   $\beta \in \{0, 0.5, 1\}$, and the same float32 model for every $\beta$.
# - Correct: FedSGD $w_{t+1} = w_t - \eta_l\sum_k \frac{n_k}{n}\nabla F_k(w_t)$ (full-batch gradient
#   descent on the pooled loss, without pooling the data); FedAvg $w_{t+1} = \sum_k \frac{n_k}{n}w_k^{t+1}$.
#   FedSGD is FedAvg with $E = 1$, $B = \infty$ (checked to $10^{-5}$).
# - A $\beta$ that works is server momentum (FedAvgM): $v_t = \beta v_{t-1} + g_t$, $w_{t+1} = w_t - \eta_g v_t$,
#   $g_t = w_t - \bar w$. With a small client learning rate it speeds training up on non-IID data.
# - How non-IID data slows convergence, and what else helps, is measured in
#   [07 · Challenges I: convergence on non-IID data](07_challenges.ipynb); the article's FAQ is in [08 · FAQ and applications](08_faq_and_applications.ipynb).
#
# ## Exercises
# They go from predicting to writing the correct formula. Each has a collapsed solution; the checkers say what is
# wrong, not only that something is.
#
# 1. **Predict, then run.** Momentum can overshoot. Repeat FedAvgM with ten times the client learning rate
#    (`client_learning_rate=0.1`) and $\beta = 0.9$: what test accuracy does it reach after 20 rounds? Write your
#    guess below, then run the experiment (it also runs $\beta = 0$ for comparison).

# %%
guess_momentum_accuracy = None   # your guess: a test accuracy between 0 and 1, e.g. 0.9

# %%
fast_runs = {b: fl.run_experiment(n_clients=n_clients, rounds=20, partition="dirichlet", alpha=0.1,
                                  client_learning_rate=0.1, server_optimizer="fedavgm", server_momentum=b,
                                  seed=seed)
             for b in (0.0, 0.9)}
for b, h in fast_runs.items():
    print(f"beta = {b}: accuracy after round 5 {h.accuracy[4]:.3f}, best {max(h.accuracy):.3f}, "
          f"after round 20 {h.final_accuracy:.3f}")
print(fl.exercises.check_prediction(guess_momentum_accuracy, fast_runs[0.9].final_accuracy, tolerance=0.05,
                                    what="FedAvgM's accuracy after 20 rounds (beta = 0.9, client rate 0.1)"))

# %% [markdown]
# <details><summary>Solution to exercise 1</summary>
#
# With the larger client learning rate every round's pseudo-gradient is already large, and momentum adds about
# $1/(1-\beta)$ times it: the effective server step is about $\eta_g/(1-\beta)$, ten times the plain step. The model
# gets ahead early, then overshoots and oscillates, so after 20 rounds it can end *below* its own best and below
# $\beta = 0$ (compare the three columns above). Momentum helps when the steps are too small, as in the runs
# with `client_learning_rate=0.01`; with large steps, shrink the server step instead, e.g.
# `server_learning_rate=0.1` with $\beta = 0.9$ (an effective step of about 1, plain FedAvg's).
# </details>
#
# 2. **Compute.** The objective federated learning minimises is $F(w) = \sum_k p_k F_k(w)$. For three clients with
#    $n_k = 20, 30, 50$ examples, write the weights $p_k$ of FedAvg's objective ($p_k = n_k/n$) and of the uniform
#    objective ($p_k = 1/K$), and check them with
#    `print(fl.exercises.check_objective_weights(p, n_examples=[20, 30, 50]))` (add
#    `client_weighting="uniform"` for the second).
#
# <details><summary>Solution to exercise 2</summary>
#
# ```python
# n_k = np.array([20, 30, 50])
# p_examples = n_k / n_k.sum()                  # n_k / n: every example counts the same
# p_uniform = np.full(len(n_k), 1 / len(n_k))   # 1 / K: every client counts the same
# print(fl.exercises.check_objective_weights(p_examples, n_examples=n_k))
# print(fl.exercises.check_objective_weights(p_uniform, n_examples=n_k, client_weighting="uniform"))
# ```
# With $p_k = n_k/n$, $F$ is the mean loss over the pooled examples, the loss a central server would minimise;
# with $1/K$ a small client's examples count more than a large client's. Neither gives a client *more* say the
# smaller it is, which is what the article's $1/n_i$ does.
# </details>
#
# 3. **Compute.** FedAvg is not FedSGD when $E > 1$. Repeat the FedSGD check with `local_epochs=5` (still
#    `batch_size=None`, `client_learning_rate=eta_l` with `eta_l = 0.5`): how far (largest absolute difference) is the
#    engine's model after one round from one FedSGD step (`fedsgd_by_hand`)? And from five FedSGD steps (five
#    rounds with $E = 1$)?

# %% jupyter={"source_hidden": true} tags=["solution"]
# Solution to exercise 3
fedsgd_config = config.replace(local_epochs=1, batch_size=None, client_learning_rate=0.5)
fedavg_e5 = fl.flatten_weights(fl.run_experiment(fedsgd_config.replace(rounds=1, local_epochs=5)).final_weights)
five_fedsgd = fl.flatten_weights(fl.run_experiment(fedsgd_config.replace(rounds=5)).final_weights)
from_one, from_five = np.max(np.abs(fedavg_e5 - fedsgd_by_hand)), np.max(np.abs(fedavg_e5 - five_fedsgd))
print(f"{'✔' if 1e-5 < from_five < from_one else '✘'} FedAvg (E = 5) is {from_one:.3f} from one FedSGD step "
      f"and {from_five:.3f} from five: closer to five steps, equal to neither")
# Each client takes five steps on its OWN loss, from its own moving model; five FedSGD steps average the
# gradients at the global model before every step. The two agree only while the clients' gradients agree.

# %% [markdown]
# 4. **Find the bug.** The article's first line has no $\theta_{t-1}$ outside the gradients. Call `fl.seed_formula`
#    with `alpha=0.2` instead of 0.1: by what factor does $\|\theta_t\|$ grow? Check your factor with
#    `print(fl.exercises.check_formula_scaling(factor))`. Why can a learning rate not set the *scale of a
#    model*, and what is missing from the line?
#
# <details><summary>Solution to exercise 4</summary>
#
# ```python
# rng = np.random.default_rng(0)
# theta, G, n_i = rng.normal(size=6), rng.normal(size=(3, 6)), np.array([5, 50, 500])
# theta_01, _ = fl.seed_formula(theta, G, n_i, alpha=0.1, beta=0.9)
# theta_02, _ = fl.seed_formula(theta, G, n_i, alpha=0.2, beta=0.9)
# factor = np.linalg.norm(theta_02) / np.linalg.norm(theta_01)
# print(fl.exercises.check_formula_scaling(factor))
# ```
# $\theta_t = \alpha\sum_i \frac{1}{n_i}\nabla L_i$ is proportional to $\alpha$, so doubling $\alpha$ doubles the
# whole "model". A learning rate should set the size of a *step*: in $\theta_{t-1} - \alpha\sum_i \ldots$ doubling
# $\alpha$ doubles only the change, and the model stays close to $\theta_{t-1}$. The missing piece is
# "$\theta_{t-1} -$".
# </details>
#
# 5. **Find the bug.** A classmate says the article's formula gives each client its share of the data, and writes
#
#    ```python
#    def article_shares(n_examples):
#        n_examples = np.asarray(n_examples, dtype=float)
#        return n_examples / n_examples.sum()
#    ```
#    Check it with `print(fl.exercises.check_article_weights(article_shares([5, 50, 500]), n_examples=[5, 50, 500]))`,
#    then fix it so that it returns each client's share of the say under $\sum_i \frac{1}{n_i}\nabla L_i$ with
#    $L_i$ a mean loss (normalised to sum to 1). What share does the sum reading give (`reading="sum"`)?
#
# <details><summary>Solution to exercise 5</summary>
#
# ```python
# def article_shares(n_examples):
#     inverse = 1 / np.asarray(n_examples, dtype=float)   # the article's 1/n_i
#     return inverse / inverse.sum()
#
# print(fl.exercises.check_article_weights(article_shares([5, 50, 500]), n_examples=[5, 50, 500]))
# print(fl.exercises.check_article_weights(np.full(3, 1 / 3), n_examples=[5, 50, 500], reading="sum"))
# ```
# The classmate wrote FedAvg's $n_i/n$, the correction, not the article. With a mean loss the 1/n_i makes the
# smallest client (5 examples, under 1% of the data) the loudest; with a sum loss the $n_i$ cancels and every
# client gets $1/N$, whatever its size.
# </details>
#
# 6. **Write the function.** Complete `fedavg(client_models, n_examples)` below: the rows of `client_models` are
#    flattened models, and it returns $\sum_k \frac{n_k}{n} w_k$ (one flattened model). Check it with
#    `print(fl.exercises.check_fedavg_vectors(fedavg))`: it tells you if you fell into the article's $1/n_k$ trap.
#
#    ```python
#    def fedavg(client_models, n_examples):
#        ...
#    ```
#
# <details><summary>Solution to exercise 6</summary>
#
# ```python
# def fedavg(client_models, n_examples):
#     weights = np.asarray(n_examples, dtype=float) / np.sum(n_examples)   # n_k / n, summing to 1
#     return weights @ client_models                                        # sum_k (n_k / n) w_k
#
# print(fl.exercises.check_fedavg_vectors(fedavg))
# ```
# A matrix product with the weights does the weighted sum over the rows in one line. The weights are the data
# shares, so a client counts in proportion to its examples, and they sum to 1, so the average of
# identical models is that model.
# </details>
#
# 7. **Write the function.** Write the correct version of the article's formula, one FedSGD step
#    `fedsgd_step(theta, gradients, n_examples, learning_rate)` returning
#    $\theta_{t+1} = \theta_t - \eta_l\sum_k \frac{n_k}{n}\nabla F_k(\theta_t)$ (`gradients` has one client's gradient
#    per row), and check it with `print(fl.exercises.check_fedsgd_step(fedsgd_step))`.
#
# <details><summary>Solution to exercise 7</summary>
#
# ```python
# def fedsgd_step(theta, gradients, n_examples, learning_rate):
#     weights = np.asarray(n_examples, dtype=float) / np.sum(n_examples)   # n_k / n, not 1 / n_k
#     return theta - learning_rate * weights @ gradients                    # a step FROM theta
#
# print(fl.exercises.check_fedsgd_step(fedsgd_step))
# ```
# The two fixes to the article's first line: weights $n_k/n$ instead of $1/n_k$ (so the weighted gradient is the
# gradient of the pooled loss), and "$\theta_t -$" in front (so the article's $\alpha$ becomes $\eta_l$, the size
# of a step, not a scale of the model). No second line is needed.
# </details>
#
# 8. **Implement the variant.** Give the article's $\beta$ a job: write
#    `momentum_step(theta, theta_bar, velocity, server_learning_rate, server_momentum)` for FedAvgM on flattened
#    models ($g_t = \theta_t - \bar\theta$, $v_t = \beta v_{t-1} + g_t$, $\theta_{t+1} = \theta_t - \eta_g v_t$),
#    returning `(theta_next, velocity_next)`, and check it with
#    `print(fl.exercises.check_server_momentum(momentum_step))`.
#
# <details><summary>Solution to exercise 8</summary>
#
# ```python
# def momentum_step(theta, theta_bar, velocity, server_learning_rate, server_momentum):
#     velocity = server_momentum * velocity + (theta - theta_bar)   # v_t = beta v_(t-1) + g_t
#     return theta - server_learning_rate * velocity, velocity     # theta_(t+1) = theta_t - eta_g v_t
#
# print(fl.exercises.check_server_momentum(momentum_step))
# ```
# Unlike the article's $\beta\theta_t + (1-\beta)\theta_t$, the velocity carries the past rounds' direction into
# this round, so $\beta$ changes the model. With $\beta = 0$ and $\eta_g = 1$ it returns $\bar\theta$: plain FedAvg.
# </details>
#
# **Next:** [06 · Interactive lab](06_interactive_lab.ipynb)
