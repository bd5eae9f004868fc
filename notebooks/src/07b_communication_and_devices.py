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
# # 07b · Challenges II: communication and limited devices
#
# **What you will learn**
# - what one round costs in bytes ($2 \cdot m \cdot P \cdot 4$) and what a target accuracy costs in megabytes;
# - what more local computation (epochs $E$) buys in rounds and bytes, and where it stops helping;
# - what limited devices mean for the protocol: fewer clients per round (fraction $C$) and stragglers
#   (wait for them, drop them, or accept their partial work).
#
# **Article section:** *5. 未来发展趋势与挑战* ("5. Future trends and challenges"): the second and third of the
# challenges it names, *通信开销* ("communication overhead") and *设备资源有限* ("limited device resources");
# section 2.2 (*边缘计算*, "edge computing") adds *网络延迟* (network latency). The first, model convergence, is
# [07](07_challenges.ipynb).
#
# **Time:** about 20 minutes, plus about 30 for the exercises · core path (notebooks 00–08).
#
# **Prerequisites:** [07 · Challenges I](07_challenges.ipynb) (rounds to a target, medians over seeds, the
# shards split). Symbols as in the [glossary](GLOSSARY.md): K clients, m clients per round, C, E, B, R rounds,
# P parameters.

# %%
# NBVAL_IGNORE_OUTPUT
import fedlearn_edu as fl
import numpy as np
from IPython.display import display
from fedlearn_edu.widgets import challenges

fl.set_seed(42)
fl.print_versions()

# %% [markdown]
# The knobs of this notebook. Change one, then run this cell and every cell below it (in JupyterLab: *Run ›
# Run Selected Cell and All Below*). Every value in the stated ranges runs to the end; the ✔/✘ lines then say
# which of the notebook's claims still hold.

# %% tags=["parameters"]
n_clients = 20              # clients K: 10 .. 50
fraction = 0.5              # fraction C of the clients in each round: 0.2 .. 1.0
rounds = 25                 # rounds R: 10 .. 50
target = 0.9                # target test accuracy: 0.8 .. 0.95
straggler_share = 0.5       # share of the devices that are slow: 0.1 .. 0.9
slowdown = 3                # how many times slower a straggler is: 2 .. 6
seed = 0                    # the first of the three seeds: 0 .. 20

# %% [markdown]
# The federation of notebook 07: digits, $K = 20$ clients, $C = 0.5$, $E = 2$ local epochs of mini-batches of 32,
# 25 rounds, medians over 3 seeds.

# %%
digits = fl.cached_dataset("digits")
seeds = (seed, seed + 1, seed + 2)
base = fl.FLConfig(n_clients=n_clients, fraction=fraction, local_epochs=2, rounds=rounds, dataset="digits",
                   seed=seed)
print(f"digits: {len(digits.y_train)} training examples, K = {base.n_clients}, m = {base.clients_per_round} "
      f"clients per round")

# %% [markdown]
# ## 1 · Communication overhead (通信开销)
#
# In every round the server sends the global model to the $m$ sampled clients and each sends back a model
# (or update) of the same size. With $P$ parameters of 4 bytes (float32):
#
# $$\text{bytes per round} = 2 \cdot m \cdot P \cdot 4 .$$
#
# The engine counts the same bytes in `History.bytes_down` and `History.bytes_up`. One IID run:

# %%
run = fl.run_experiment(base, dataset=digits, progress=False)
P = fl.count_parameters(run.final_weights)
per_round = challenges.bytes_per_round(P, base.clients_per_round)
print(f"digits model: P = {P} parameters, m = {base.clients_per_round} clients: "
      f"{per_round / 1e6:.3f} MB per round; the engine counted {run.bytes_down[0] + run.bytes_up[0]} bytes")
print(f"the article's model: P = {20 * 64 + 64 + 64 * 3 + 3}: "
      f"{challenges.bytes_per_round(1539, 10) / 1e6:.3f} MB per round with 10 clients")

# %%
fl.check(run.bytes_down[0] + run.bytes_up[0] == per_round == 2 * base.clients_per_round * P * 4,
         "the engine's bytes in round 1 are 2 · m · P · 4", measured=int(run.bytes_down[0] + run.bytes_up[0]),
         expected=2 * base.clients_per_round * P * 4)

# %% [markdown]
# ### More local computation: E
#
# These models are tiny; a phone-sized vision model has millions of parameters, so a round costs hundreds of
# megabytes. With $m$ and $P$ fixed, the bytes to reach a target are (rounds to target) × (bytes per round):
# **the way to save bytes is to need fewer rounds.** The classic lever (McMahan et al., 2017) is more local
# computation per round: $E$ epochs instead of one. It costs no extra bytes per round, only device time.
#
# $E \in \{1, 2, 5, 10\}$ on IID digits and on shards, 3 seeds each:

# %%
epochs = challenges.show_local_epochs(digits, base, epochs=(1, 2, 5, 10), partitions=("iid", "shards"),
                                      seeds=seeds, target=target)

# %% [markdown]
# *Figure:* test accuracy against megabytes communicated for E = 1, 2, 5 and 10, IID digits (left) and shards
# (right); on IID data each larger E reaches the target with fewer megabytes, on shards the gains are smaller.
#
# On IID data each step up in $E$ cuts the rounds, and the megabytes with them. On shards $E$ helps far less:
# the extra local epochs are spent drifting towards each client's two classes. (On the article's skewed data
# in notebook 07, more local work even lowered the settled accuracy.)

# %%
print(f"E=1 -> E=10 cuts the rounds {epochs.speedup('iid'):.1f}x on IID, "
      f"{epochs.speedup('shards'):.1f}x on shards")
fl.check(lambda: epochs.megabytes_of("iid", 5) < 0.5 * epochs.megabytes_of("iid", 1),
         "IID: E = 5 needs under half the megabytes of E = 1",
         measured=f"{epochs.megabytes_of('iid', 5):.2f} vs {epochs.megabytes_of('iid', 1):.2f} MB", expected="< half")
fl.check(list(epochs.rounds[0]) == sorted(epochs.rounds[0], reverse=True), "IID: more E, fewer rounds",
         measured=list(epochs.rounds[0]), expected="decreasing")
fl.check(epochs.speedup("iid") > 1.5 * epochs.speedup("shards"), "E = 1 → 10 helps IID far more than shards",
         measured=f"{epochs.speedup('iid'):.1f}x vs {epochs.speedup('shards'):.1f}x", expected="over 1.5 times more")

# %% [markdown]
# ## 2 · Limited device resources (设备资源有限)
#
# Phones and sensors are not always available (charging, on Wi-Fi, idle), and they are slow. Two knobs of the
# protocol respond to this.
#
# ### Fewer clients per round: the fraction $C$
#
# Sampling $m = \max(1, \lfloor C K \rfloor)$ clients per round cuts the bytes per round in proportion. The price:
# each round sees fewer clients' data, so on non-IID data the average is noisier. Digits, $\mathrm{Dir}(0.3)$,
# $E = 2$. *Jitter* is the mean change of test accuracy from one round to the next over the second half of the
# run (how unsteady the progress is):

# %%
participation = challenges.show_participation(digits, base.replace(partition="dirichlet", alpha=0.3),
                                              fractions=(0.1, 0.2, 0.5, 1.0), seeds=seeds, target=target)

# %% [markdown]
# *Figure:* test accuracy against the round for C = 0.1, 0.2, 0.5 and 1 (first seed); the smaller C, the
# slower and more jagged the climb.

# %%
first, last = 0, len(participation.fractions) - 1            # C = 0.1 and C = 1.0
fl.check(np.allclose(participation.megabytes_per_round,
                     [challenges.bytes_per_round(P, m) / 1e6 for m in participation.clients_per_round]),
         "megabytes per round follow 2 · m · P · 4", measured=list(participation.megabytes_per_round),
         expected="2 m P 4 / 1e6")
fl.check(participation.rounds[first] > participation.rounds[last]
         and participation.megabytes[first] < participation.megabytes[last],
         "C = 0.1 needs more rounds but fewer megabytes than C = 1",
         measured=f"{participation.rounds[first]:g} vs {participation.rounds[last]:g} rounds, "
                  f"{participation.megabytes[first]:.2f} vs {participation.megabytes[last]:.2f} MB",
         expected="more rounds, fewer MB")
fl.check(participation.jitter[first] > 2 * participation.jitter[last], "C = 0.1 progresses less steadily",
         measured=f"jitter {participation.jitter[first]:.4f} vs {participation.jitter[last]:.4f}",
         expected="over twice")

# %% [markdown]
# Two clients per round reach 90% with the fewest megabytes but in the most rounds, and their progress jumps
# around (each round's average reflects two clients' classes). A full round of 20 is smooth but moves ten
# times the bytes per round. There is no free setting: $C$ trades bytes for rounds and stability.
#
# ### Stragglers: wait, drop, or accept partial work
#
# Suppose half the devices are 3× slower than the rest (a *straggler* is a device that finishes after the others).
# Full local work is $E = 5$ epochs. The server has three choices:
#
# - **wait for all**: every update arrives complete, but each round lasts as long as the slowest device
#   (3 time units);
# - **drop stragglers**: a deadline of 1 unit; only the fast half reports (modelled as $C = 0.5$);
# - **accept partial work**: a deadline of 1 unit; everybody reports what they finished (FedProx's
#   proposal, Li et al., 2020).
#
# *A light model, honestly:* the engine has one cap on local steps for all clients (`FLConfig.local_steps`),
# so "accept partial work" here caps **every** device at the steps a straggler finishes. That is the
# pessimistic end (as if all devices were slow); the real policy sits between it and "wait for all". And
# "drop" samples a random half each round, whereas in reality the *same* slow devices would always be missing.
# Notebook 13 simulates devices and deadlines one by one.
#
# One policy written out first: **accept partial work** on shards with $E = 5$. A client of average size holds
# $n/K$ examples, a few batches of 32 per epoch; a straggler finishes a third of its steps by the deadline, and
# every client reports each round ($C = 1$):

# %%
shards_e5 = base.replace(local_epochs=5, partition="shards")
full_steps = challenges.full_local_steps(shards_e5, len(digits.y_train))
partial_steps = max(1, int(full_steps // slowdown))
partial_work = shards_e5.replace(fraction=1.0, local_steps=partial_steps)
partial_rounds = [fl.run_experiment(partial_work.replace(seed=s), dataset=digits, progress=False)
                  .rounds_to_accuracy(target) for s in seeds]
print(f"n/K = {len(digits.y_train) // base.n_clients} examples; full work {full_steps} steps, a straggler finishes "
      f"{partial_steps}; accept partial work: rounds to {target:.0%} for seeds {seeds}: {partial_rounds}, "
      f"median {challenges.median_or_inf(partial_rounds):g}")

# %% [markdown]
# The helper runs the three policies × 3 seeds (9 runs) and converts rounds into time units. Shards, $E = 5$:

# %%
stragglers = challenges.show_stragglers(digits, shards_e5, straggler_share=straggler_share, slowdown=slowdown,
                                        seeds=seeds, target=target)

# %% [markdown]
# *Figure:* three bar charts, rounds, time units and megabytes to the target for the three policies; waiting
# needs the fewest rounds but the most time, dropping the stragglers is fastest and cheapest.

# %%
wait, drop, partial = challenges.STRAGGLER_POLICIES
fl.check(challenges.median_or_inf(partial_rounds) == stragglers.rounds[partial]
         and stragglers.partial_steps == partial_steps,
         "the 'accept partial work' row is the median of the three runs above (same steps, same seeds)",
         measured=challenges.median_or_inf(partial_rounds), expected=stragglers.rounds[partial])
fl.check(stragglers.rounds[wait] < stragglers.rounds[drop] < stragglers.rounds[partial],
         "in rounds: wait < drop < partial", measured=[stragglers.rounds[p] for p in (wait, drop, partial)],
         expected="increasing")
fl.check(stragglers.time[drop] < stragglers.time[wait] and stragglers.time[partial] < stragglers.time[wait],
         "in time, dropping and even capped partial work beat waiting",
         measured=[stragglers.time[p] for p in (wait, drop, partial)], expected="wait the slowest")

# %% [markdown]
# In **rounds**, waiting is best: every round carries full updates from every client. In **time**, waiting is
# worst: each round lasts as long as the slowest device. Dropping the stragglers is fastest and cheapest in
# bytes here, because a random half of the shards still covers the classes over a few rounds. That is the
# part our light model flatters: if the slow devices were always the same ones, their data (perhaps whole
# classes) would never reach the model, and no number of rounds would fix it. Accepting partial work keeps
# everybody's data in; even in its pessimistic form it beats waiting in time.
#
# ## Your turn
#
# The challenge lab of notebook 07, with the controls of this notebook: the skew $\alpha_D$, $E$, $C$, $K$ and
# η_l. Watch the right panel, accuracy per megabyte: which settings reach 90% with the fewest megabytes? Presets:
# more local work, few clients per round, near-IID and extreme non-IID data, a too-large η_l; *reset* returns to
# the notebook's settings.

# %%
lab_controls = dict(
    alpha=fl.widgets.log_value_slider(0.05, 0.01, 100.0, "Dirichlet concentration α_D"),
    local_epochs=fl.widgets.int_slider(2, 1, 10, "local epochs E"),
    fraction=fl.widgets.float_slider(fraction, 0.05, 1.0, "fraction C"),
    n_clients=fl.widgets.client_slider(n_clients, min=2, max=100),
    client_learning_rate=fl.widgets.log_value_slider(0.1, 0.001, 10.0, "client learning rate η_l"))
display(fl.widgets.ControlPanel(challenges.show_challenge_lab, lab_controls,
                                presets=challenges.presets_for(lab_controls), run_now=False))

# %% [markdown]
# The panel draws when you move a control; the lab at the notebook's settings is the last figure of notebook 07.
#
# ## Summary
#
# - **Communication.** A round moves $2 \cdot m \cdot P \cdot 4$ bytes; megabytes to a target = rounds × that.
#   More local epochs cut the rounds (and bytes) several-fold on IID data, much less on non-IID data, and can
#   lower the accuracy a skewed federation settles at.
# - **Limited devices.** A smaller fraction $C$ moves fewer bytes per round but needs more rounds and progresses
#   less steadily. With stragglers, waiting is best per round and worst per unit of time; dropping them is
#   cheap only while the dropped devices are a random sample.
#
# ## Exercises
#
# From predicting to writing code, easiest first. Each has a collapsed solution; the checkers say what is wrong,
# not only that something is.
#
# 1. **Predict, then run.** The table above went up to $E = 10$. How many rounds does $E = 20$ need to reach the
#    target on IID digits (median of 3 seeds)? Write your guess, then run.

# %%
guess_rounds_at_e20 = None   # your guess: rounds to the target with E = 20 on IID digits, e.g. 3

# %%
more_work = challenges.compute_local_epochs(digits, base, epochs=(20,), partitions=("iid",), seeds=seeds,
                                            target=target)
print(f"E = 20: {more_work.rounds_of('iid', 20):g} rounds; E = 10: {epochs.rounds_of('iid', 10):g}")
print(fl.exercises.check_prediction(guess_rounds_at_e20, more_work.rounds_of("iid", 20), tolerance=0.25,
                                    what="rounds to the target with E = 20 on IID digits"))

# %% [markdown]
# <details><summary>Solution to exercise 1</summary>
#
# Doubling $E$ from 10 to 20 saves little: the rounds can only fall towards the one or two a single client
# needs to fit its own data, and past that each extra epoch is spent fitting the client's own sample more
# closely rather than moving the average towards the optimum. More local work has diminishing returns even on
# IID data; on skewed data it turns into drift.
# </details>
#
# 2. **Compute.** The IID run above (`run`) ran 25 rounds with $K = 20$, $C = 0.5$ and the digits model of
#    $P$ = 4810 parameters. How many bytes did it move in total, down and up? Check your number with
#    `print(fl.exercises.check_run_bytes(answer, n_parameters=4810, rounds=25, n_clients=20, fraction=0.5))`.

# %% [markdown]
# <details><summary>Solution to exercise 2</summary>
#
# ```python
# m = 10                                    # max(1, floor(0.5 x 20))
# answer = 25 * 2 * m * 4810 * 4            # R rounds x (down + up) x m clients x P x 4 bytes
# print(answer)
# print(fl.exercises.check_run_bytes(answer, n_parameters=4810, rounds=25, n_clients=20, fraction=0.5))
# ```
# Each round sends the model to the 10 sampled clients and receives 10 models back,
# 4 bytes per float32 parameter. `run.bytes_down.sum() + run.bytes_up.sum()` counts the same.
# </details>
#
# 3. **Compute.** A real federation: 1000 phones, $C = 0.01$, a model of 1.2 million parameters, 500 rounds.
#    How many bytes cross the network? Check with `print(fl.exercises.check_run_bytes(answer,
#    n_parameters=1_200_000, rounds=500, n_clients=1000, fraction=0.01))`.
#
# <details><summary>Solution to exercise 3</summary>
#
# ```python
# per_round = 2 * 10 * 1_200_000 * 4        # m = C K = 0.01 x 1000 = 10 phones per round
# answer = 500 * per_round
# print(per_round / 1e6, "MB per round,", answer / 1e9, "GB in 500 rounds")
# print(fl.exercises.check_run_bytes(answer, n_parameters=1_200_000, rounds=500, n_clients=1000, fraction=0.01))
# ```
# 96 MB per round, 48 GB in total: 9.6 MB per participating phone per round, 4.8 MB down and 4.8 MB up. Only the
# 10 sampled phones communicate in a round, not all 1000.
# </details>
#
# 4. **Explore.** Slower stragglers: rerun `challenges.compute_stragglers` with `slowdown=2` and `slowdown=6`.
#    How do the three policies compare in time units now? Which one suffers most as the stragglers get slower?
#    *Hint:* the partial-work cap is `full_steps // slowdown`.

# %% jupyter={"source_hidden": true} tags=["solution"]
# Solution to exercise 4
for other_slowdown in (2, 6):
    result = challenges.compute_stragglers(digits, shards_e5, straggler_share=0.5, slowdown=other_slowdown,
                                           seeds=seeds, target=target)
    print(f"slowdown {other_slowdown}: partial work = {result.partial_steps} steps; time units to the target: "
          + ", ".join(f"{p} {result.time[p]:g}" for p in result.policies))

# %% [markdown]
# "Drop stragglers" does not change at all: it never waits and never caps the work. "Wait for all" pays the
# slowdown in every round, so its time grows in proportion to it. "Accept partial work" keeps rounds of one time
# unit, but each device does `full_steps // slowdown` steps, so with a large slowdown each round makes little
# progress and it needs more rounds. How the last two compare depends on the slowdown; the table shows it.
#
# 5. **Think it through.** Our "drop" samples a random half each round. Suppose instead the slow
#    devices are always the same five and hold all the 8s and 9s. What accuracy can the global model reach on
#    those classes? How would you measure it with `fl.run_experiment`?
#
# <details><summary>Solution to exercise 5</summary>
#
# Close to none: the model never sees an 8 or a 9, so it never predicts them, and about a fifth of the test
# set (two classes of ten) is lost for good, whatever the number of rounds. To measure it, build a `Dataset`
# whose training part leaves out the 8s and 9s (the examples of the always-dropped devices), keep the full test
# set, run `fl.run_experiment(config, dataset=...)` and look at the per-class accuracy: the other eight classes
# train normally, these two stay at 0. Overall accuracy hides it; that is why the bias of who takes part matters
# more than how many take part.
# </details>
#
# 6. **Find the bug.** This function should return the bytes a whole run moves, but its answer for exercise 3 is
#    wrong:
#
#    ```python
#    def run_bytes(n_parameters, rounds, n_clients, fraction):
#        m = max(1, int(fraction * n_clients))
#        return rounds * m * n_parameters * 4
#    ```
#    Run `print(fl.exercises.check_run_bytes(run_bytes(1_200_000, 500, 1000, 0.01), n_parameters=1_200_000,
#    rounds=500, n_clients=1000, fraction=0.01))`, read the hint, and fix it.
#
# <details><summary>Solution to exercise 6</summary>
#
# ```python
# def run_bytes(n_parameters, rounds, n_clients, fraction):
#     m = max(1, int(fraction * n_clients))
#     return rounds * 2 * m * n_parameters * 4       # the model goes down AND comes back up
#
# print(fl.exercises.check_run_bytes(run_bytes(1_200_000, 500, 1000, 0.01), n_parameters=1_200_000,
#                                    rounds=500, n_clients=1000, fraction=0.01))
# ```
# The function counted one direction only. Every round the server sends the global model to each sampled client
# and each sends a model of the same size back: the factor 2 in $2 \cdot m \cdot P \cdot 4$.
# </details>
#
# 7. **Write the function.** Write `megabytes_to_target(history, target)`: the megabytes a run had moved when it
#    first reached `target` (None if it never did), from `history.accuracy`, `history.bytes_down` and
#    `history.bytes_up` (one entry per round). Compare it with the kit's `history.megabytes_to_accuracy(target)`
#    on a shards run, and check the bytes with `fl.exercises.check_run_bytes`: with $m$ and $P$ fixed they
#    are those of a run of `rounds_to_accuracy(target)` rounds.

# %% jupyter={"source_hidden": true} tags=["solution"]
# Solution to exercise 7
def megabytes_to_target(history, target):
    reached = np.flatnonzero(np.asarray(history.accuracy) >= target - 1e-6)   # float32 rounding
    last = reached[0] + 1 if len(reached) else None         # rounds up to and including the first hit
    return None if last is None else float(np.sum(history.bytes_down[:last] + history.bytes_up[:last])) / 1e6


shards_run = fl.run_experiment(base.replace(partition="shards"), dataset=digits, progress=False)
mine, reached = megabytes_to_target(shards_run, 0.9), shards_run.rounds_to_accuracy(0.9)
print(f"mine {mine} MB, the kit's {shards_run.megabytes_to_accuracy(0.9)} MB")
if reached is not None:
    print(fl.exercises.check_run_bytes(round(mine * 1e6), n_parameters=P, rounds=reached,
                                       n_clients=base.n_clients, fraction=base.fraction))

# %% [markdown]
# Mind the float32 accuracies: a round at exactly 90% may be stored just below it, so a plain `>= target` can miss
# that round; allow a tiny tolerance, as the kit does. The bytes to a target are the bytes of the rounds up to
# and including the first round that reaches it: with the same $m$ and $P$ every round, that is
# (rounds to target) × $2 \cdot m \cdot P \cdot 4$, which is why saving rounds saves bytes.
#
# **Next:** [08 · FAQ and applications](08_faq_and_applications.ipynb)
