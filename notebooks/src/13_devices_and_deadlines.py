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
# # 13 · Devices and deadlines: stragglers, dropouts and simulated time
#
# **What you will learn**
# - how the kit simulates devices: a compute speed, a link speed and a chance of dropping out per client, and a
#   simulated wall clock per round (`History.simulated_seconds`);
# - why **the slowest device sets the round time**, and how a deadline cuts it;
# - the two answers to stragglers — drop their updates (production systems) or accept their partial work (FedProx) —
#   measured in accuracy against *simulated minutes*;
# - how dropping stragglers **biases the model** when device speed is correlated with the data, and how partial
#   work keeps part of the slow devices' contribution.
#
# **Article section:** *5.未来发展趋势与挑战* ("5. Future trends and challenges") names **设备资源有限**
# ("limited device resources"); *2.2 边缘计算* ("2.2 Edge computing") adds *设备资源有限、网络延迟等*
# ("limited device resources, network latency and so on"). Here both become numbers: compute speed and link speed
# per device, and what they do to a federation.
#
# **Time:** about 20 minutes, plus about 35 for the exercises · going deeper (notebooks 09–14).
#
# **Prerequisites:** [07b · Challenges II](07b_communication_and_devices.ipynb) (the light straggler model this notebook replaces) and
# [11 · Non-IID algorithms](11_non_iid_algorithms.ipynb) (FedProx). Symbols as in the [glossary](GLOSSARY.md).

# %%
# NBVAL_IGNORE_OUTPUT
import fedlearn_edu as fl
import numpy as np
import matplotlib.pyplot as plt
import ipywidgets as widgets
from IPython.display import display
from fedlearn_edu.widgets import stragglers

fl.set_seed(42)
fl.print_versions()

# %% [markdown]
# The knobs of this notebook. Change one, then run this cell and every cell below it (*Run › Run Selected Cell
# and All Below*). Every value in the stated ranges runs to the end; the ✔/✘ lines say which claims still hold.

# %% tags=["parameters"]
n_clients = 20                  # clients K (all of them in every round): 4 .. 50
client_learning_rate = 0.1      # client learning rate η_l: 0.01 .. 1.0
speed_spread = 1.0              # spread σ of the log-normal device speeds: 0.0 .. 2.0
deadline = 5.0                  # simulated seconds the server waits in a round: 2.5 .. 30.0
dropout = 0.3                   # chance p that a device does not answer (section 3): 0.0 .. 0.8

# %% [markdown]
# ## 1 · Devices and the round clock
#
# `FLConfig(devices=True)` gives client $k$ a compute speed $s_k$ (examples per second) and a link speed $l_k$
# (bytes per second). Both are *log-normal*: $\log s_k$ and $\log l_k$ are normally distributed, so speeds are
# positive, most devices are near the median and a few are many times slower or faster. The medians are
# 100 examples/s and 20 kB/s; the spread $\sigma$ (`speed_spread`) is the standard deviation of the logarithm. A
# client that takes part in a round needs
#
# $$t_k = \frac{\text{model bytes}}{l_k} + \frac{\text{examples it trains on}}{s_k} + \frac{\text{update bytes}}{l_k}.$$
#
# The federation: digits, $K = 20$ clients, the pathological *shards* split (each client holds two label shards of
# equal size, so a client's time depends only on its device), $E = 2$ local epochs, client learning rate 0.1, every
# client sampled in every round, 30 rounds.

# %%
config = stragglers.base_config(n_clients, client_learning_rate, speed_spread)
sizes = stragglers.make_simulation(config).client_sizes
print(f"median device: {fl.devices.MEDIAN_EXAMPLES_PER_SECOND:g} examples/s, "
      f"{fl.devices.MEDIAN_BYTES_PER_SECOND / 1000:g} kB/s; each client holds {sizes.min()}-{sizes.max()} examples")

# %% [markdown]
# One round, client by client:

# %%
times = stragglers.show_round_times(speed_spread=speed_spread, n_clients=n_clients)

# %% [markdown]
# *Figure:* bars of each device's simulated seconds in round 1, fastest to slowest, with the round duration as a
# dashed line at the slowest device.

# %% [markdown]
# Without a deadline the server waits for everybody: **the round lasts as long as the slowest device**, several
# times the median. The simulated clock of a real run agrees:

# %%
waiting, _ = stragglers.run_devices(config)
print(f"History.simulated_seconds of round 1: {waiting.simulated_seconds[0]:.1f} s; "
      f"slowest client: {times.seconds.max():.1f} s")
fl.check(waiting.simulated_seconds[0] == times.round_seconds == times.seconds.max()
         and times.seconds.max() > 3 * np.median(times.seconds),
         "the round lasts as long as the slowest device, more than 3 times the median",
         measured=f"{times.seconds.max():.1f} s, median {np.median(times.seconds):.1f} s")

# %% [markdown]
# ### A deadline
#
# Identical devices ($\sigma = 0$) would all finish together. A **deadline** instead caps the round: the server
# stops waiting after, say, 5 simulated seconds (about the median client). The clients over it are *stragglers*:

# %%
same = stragglers.compute_round_times(speed_spread=0.0, n_clients=n_clients)
cut = stragglers.show_round_times(speed_spread=speed_spread, n_clients=n_clients, deadline=deadline)
fl.check(same.seconds.max() - same.seconds.min() < 0.1 and cut.round_seconds == deadline and cut.stragglers >= 5,
         "identical devices finish together; the deadline ends the round and leaves at least 5 stragglers",
         measured=f"round {cut.round_seconds:.1f} s, {cut.stragglers} stragglers")

# %% [markdown]
# *Figure:* the same bars with a deadline: the devices over it are coloured as stragglers, and the round now ends at
# the deadline.

# %% [markdown]
# ## 2 · Three answers to stragglers
#
# | policy | `FLConfig` | a straggler's update | round lasts |
# |---|---|---|---|
# | wait for all | `deadline=None` | arrives, complete | the slowest device |
# | drop stragglers | `deadline=5, straggler_policy="drop"` | ignored (Bonawitz et al. 2019; the FedAvg baseline of Li et al. 2020) | the deadline |
# | accept partial work | `deadline=5, straggler_policy="partial"` | the local steps that fit before the deadline (Li et al. 2020, FedProx) | the deadline |
#
# A straggler whose download and upload alone exceed the deadline sends nothing under either policy.
#
# ### When speed is correlated with the data
#
# Devices are not slow at random. Older phones, a poorer region, one hospital's old servers: the slow devices often
# hold *different data*. To model it, `stragglers.correlate_profiles` deals the **same** 20 devices again so that
# the clients holding the most digits 5–9 get the slowest ones (`correlated=True`). The spread of speeds is unchanged;
# only who holds which device changes. Three seeds, deadline 5 s, target 90%:

#
# First one run written out: seed 0, deadline 5 s, drop stragglers. The devices are those of `FLConfig(devices=True)`,
# dealt again by `stragglers.correlate_profiles` before the run starts:

# %%
one_cell = fl.FLConfig(dataset="digits", n_clients=n_clients, partition="shards", local_epochs=2,
                       client_learning_rate=client_learning_rate, rounds=30, seed=0, devices=True,
                       speed_spread=speed_spread, deadline=deadline, straggler_policy="drop")
sim = fl.Simulation(one_cell)
sim.device_profiles = stragglers.correlate_profiles(sim.device_profiles, sim.label_counts)
dropped = sim.run(progress=False)
print(f"drop stragglers, seed 0: final accuracy {dropped.final_accuracy:.3f}, "
      f"{np.mean([len(ids) for ids in dropped.participants]):.1f} updates per round of {n_clients}")

# %% [markdown]
# The helper runs this for every seed (0, 1, 2) × policy (wait for all, drop stragglers, accept partial work), and
# also measures the final model on each digit:

# %%
settings = dict(deadline=deadline, speed_spread=speed_spread, n_clients=n_clients,
                client_learning_rate=client_learning_rate)
runs = stragglers.compute_over_seeds(seeds=(0, 1, 2), correlated=True, **settings)
print(stragglers.seeds_table(runs))

# %% [markdown]
# Its seed-0 "drop stragglers" run is the one above:

# %%
same = dropped.final_accuracy == runs[0].final_accuracy["drop stragglers"]
print(f"{'✔' if same else '✘'} drop stragglers, seed 0: final accuracy {dropped.final_accuracy:.3f} by hand, "
      f"{runs[0].final_accuracy['drop stragglers']:.3f} in the helper's result")

# %% [markdown]
# Look at the last column, the final test accuracy on digits 5–9:
#
# - **dropping stragglers** leaves digits 5–9 behind in every seed: the clients holding them rarely report, so the
#   global model is trained mostly on 0–4. Faster rounds, a **biased model**. No number of extra rounds fixes it:
#   the missing data never arrive.
# - **accepting partial work** keeps the slow devices in: their few steps still pull the model towards 5–9. It
#   recovers part of the loss (in seed 2 only a little: there the stragglers finish very few steps).
# - In simulated time, partial work reaches 90% well before waiting for everybody, in every seed.

# %%
wait, drop, partial = stragglers.POLICIES
median_slow = {p: float(np.median([r.slow_class_accuracy[p] for r in runs])) for p in stragglers.POLICIES}
print("median accuracy on digits 5-9:", {p: round(v, 3) for p, v in median_slow.items()})
fl.check(all(r.slow_class_accuracy[drop] < min(r.slow_class_accuracy[wait] - 0.04, r.fast_class_accuracy[drop])
             for r in runs), "in every seed, dropping stragglers leaves digits 5-9 behind")
fl.check(all(r.minutes[partial] is not None and (r.minutes[wait] is None or r.minutes[partial] < r.minutes[wait])
             for r in runs), "in every seed, partial work reaches 90% in fewer simulated minutes than waiting")
fl.check(median_slow[partial] > median_slow[drop] + 0.02, "partial work keeps part of digits 5-9",
         measured=f"{median_slow[partial]:.3f} vs {median_slow[drop]:.3f}", expected="more than 0.02 above")

# %% [markdown]
# The curves and the per-digit accuracy of seed 0 (left: accuracy against simulated minutes; right: final
# accuracy on digits 0–4 in grey and on 5–9 in colour):

# %%
biased = stragglers.show_devices(correlated=True, **settings)

# %% [markdown]
# *Figure:* left, test accuracy against simulated minutes for the three policies when speed goes with the data; right,
# the final accuracy per digit, where dropping stragglers loses the slow devices' digits.

# %% [markdown]
# ### When speed is independent of the data
#
# The same devices dealt at random (`correlated=False`, seed 0). Dropping stragglers still loses data — but whose
# is a matter of luck: here it is digits 0–4 that suffer. With random devices the damage moves around from federation
# to federation; with correlated devices it always hits the same people.

#
# With speed independent of the data there is nothing to deal again: the figure's partial-work curve is one plain
# `fl.run_experiment`. Read off the first round at 90% and the simulated minutes until then:

# %%
partial_cell = one_cell.replace(straggler_policy="partial")
history = fl.run_experiment(partial_cell, progress=False)
reached = history.rounds_to_accuracy(0.9)
partial_minutes = None if reached is None else history.simulated_seconds[:reached].sum() / 60   # None: never
print(f"accept partial work, seed 0: 90% first in round {reached}, after {partial_minutes or float('nan'):.2f} "
      f"simulated minutes")

# %% [markdown]
# The helper runs the three policies on this federation (one seed) and draws them:

# %%
unbiased = stragglers.show_devices(correlated=False, **settings)

# %% [markdown]
# *Figure:* the same two panels with devices dealt at random: dropping stragglers now loses a random part of the data
# instead of the same digits.

# %%
fl.check(unbiased.fast_class_accuracy[drop] < unbiased.fast_class_accuracy[wait] - 0.04,
         "this time dropping stragglers costs digits 0-4", measured=f"{unbiased.fast_class_accuracy[drop]:.3f}",
         expected=f"below {unbiased.fast_class_accuracy[wait] - 0.04:.3f}")
fl.check(partial_minutes == unbiased.minutes[partial], "accept partial work: the run by hand is the helper's",
         measured=f"{partial_minutes or float('nan'):.2f} simulated minutes to 90% by hand",
         expected=f"{unbiased.minutes[partial] or float('nan'):.2f} in the helper's table")

# %% [markdown]
# ## 3 · Dropouts
#
# A device that is not charging, not on Wi-Fi or simply switched off does not answer at all. With dropout probability
# $p$ each sampled device is unavailable in a round, so about $(1-p)K$ updates arrive. Waiting rounds even get
# shorter: the slowest device is sometimes among the missing.

# %%
dropouts = stragglers.compute_devices(dropout=dropout, correlated=True, policies=(wait,), **settings)
print(dropouts.summary())
fl.check(abs(dropouts.participants[wait] - (1 - dropout) * n_clients) < 2
         and dropouts.total_minutes[wait] < biased.total_minutes[wait],
         "about (1 - p) K updates arrive, and waiting rounds get shorter",
         measured=f"{dropouts.participants[wait]:.1f} updates, {dropouts.total_minutes[wait]:.1f} min",
         expected=f"{(1 - dropout) * n_clients:.1f} ± 2, below {biased.total_minutes[wait]:.1f} min")

# %% [markdown]
# ## Your turn
#
# Sliders: dropout probability, deadline (simulated seconds), speed spread $\sigma$, clients $K$ and the client
# learning rate η_l; the box makes device speed follow the data (slow devices hold digits 5–9). A slider acts when you
# release it; every setting is cached. The presets are the things to try: a deadline of 30 s (nobody is a
# straggler); 2.5 s (hardly anybody finishes); spread 0 (identical devices: no stragglers at any deadline above the
# common time); dropout 0.5; speed independent of the data. *Reset* returns to the notebook's settings.

# %%
controls = dict(dropout=fl.widgets.float_slider(0.0, 0.0, 0.8, "dropout probability p", step=0.05),
                deadline=fl.widgets.float_slider(deadline, 2.5, 30.0, "deadline (s)", step=0.5, readout_format=".1f"),
                speed_spread=fl.widgets.float_slider(speed_spread, 0.0, 2.0, "speed spread σ"),
                n_clients=fl.widgets.client_slider(n_clients, min=4, max=50),
                client_learning_rate=fl.widgets.log_value_slider(client_learning_rate, 0.01, 1.0,
                                                                 "client learning rate η_l"),
                correlated=widgets.Checkbox(value=True, description="slow devices hold digits 5-9"))
display(fl.widgets.ControlPanel(stragglers.show_devices, controls, presets=stragglers.PRESETS, run_now=False))

# %% [markdown]
# The panel draws when you move a control. Its starting point is the figure of section 2 (seed 0 of the table),
# whose main claim, once more:

# %%
fl.check(biased.slow_class_accuracy[partial] > biased.slow_class_accuracy[drop] + 0.1,
         "partial work keeps digits 5-9 more than 0.1 above dropping", measured=biased.slow_class_accuracy[partial],
         expected=f"above {biased.slow_class_accuracy[drop] + 0.1:.3f}")

# %% [markdown]
# ## Summary
#
# - Every client's round time is download + local computation + upload; **the slowest device sets the round time**
#   when the server waits for all (here over 3× the median client).
# - A **deadline** caps the round, so a federation reaches a target in fewer simulated minutes — at the price of the
#   stragglers' updates.
# - **Dropping stragglers** is harmless only if the stragglers are a random sample. When speed is correlated with
#   the data (slow devices hold digits 5–9), the model is biased against those digits in every seed we ran.
# - **Accepting partial work** (FedProx) keeps the slow devices' data in the model: it reached 90% before
#   "wait for all" in every seed and recovered part of the accuracy on the slow devices' digits.
# - **Dropouts** reduce the updates per round to about $(1-p)K$, and even shorten waiting rounds.
#
# ## Exercises
#
# They go from predicting to writing code. Each has a collapsed solution; the checkers say what is wrong, not only
# that something is.
#
# 1. **Predict, then run.** FedProx is two ideas: partial work is one, the proximal term $\mu$ is the other. In the
#    correlated federation, partial work alone ends at the accuracy on digits 5–9 of the table above. Add the
#    proximal term, $\mu = 0.1$: what accuracy on digits 5–9 do you expect? Write your guess, then run.

# %%
guess_slow_digits_accuracy = None   # your guess: final accuracy on digits 5-9 with mu = 0.1, e.g. 0.8

# %%
with_mu, per_digit = stragglers.run_devices(stragglers.base_config().replace(deadline=5.0, straggler_policy="partial",
                                                                             mu=0.1), True)
slow_digits = float(np.mean(per_digit[list(stragglers.SLOW_CLASSES)]))
print(f"digits 5-9: {slow_digits:.3f} with mu = 0.1, {biased.slow_class_accuracy[partial]:.3f} without")
print(fl.exercises.check_prediction(guess_slow_digits_accuracy, slow_digits, tolerance=0.03, relative=False,
                                    what="accuracy on digits 5-9 with partial work and mu = 0.1"))

# %% [markdown]
# <details><summary>Solution to exercise 1</summary>
#
# Nothing changes on digits 5–9: 0.904 with and without the proximal term. The term pulls each client back towards
# the global model during its local steps; a straggler that finishes only a few steps has barely moved away, so there
# is little to pull back. What helps the slow devices' digits is that their partial work arrives at all, the first
# of FedProx's two ideas.
# </details>
#
# 2. **Compute.** A median device (100 examples/s, 20 kB/s) downloads the 19240-byte model, trains 2 epochs on its
#    72 examples and uploads an update as big as the model. How many seconds does its round take? Check with
#    `print(fl.exercises.check_client_time(t, model_bytes=19240, examples_trained=144, examples_per_second=100,
#    bytes_per_second=20000))`.
#
# <details><summary>Solution to exercise 2</summary>
#
# ```python
# t = 19240 / 20000 + 144 / 100 + 19240 / 20000      # download + 2 x 72 examples + upload
# print(fl.exercises.check_client_time(t, model_bytes=19240, examples_trained=144, examples_per_second=100,
#                                      bytes_per_second=20000))
# ```
# The transfers take more time than the training here: a small model on a slow link. That is why a deadline of
# about 2 s leaves nothing for training (exercise 6).
# </details>
#
# 3. **Compute.** Four clients need 3.4, 2.1, 7.9 and 4.6 seconds. How long is the round without a deadline, and with
#    a deadline of 5 s? Check with `print(fl.exercises.check_round_time(answer, client_seconds=[3.4, 2.1, 7.9, 4.6]))`
#    and with `deadline=5.0` added.
#
# <details><summary>Solution to exercise 3</summary>
#
# ```python
# client_seconds = [3.4, 2.1, 7.9, 4.6]
# print(fl.exercises.check_round_time(max(client_seconds), client_seconds=client_seconds))
# print(fl.exercises.check_round_time(min(max(client_seconds), 5.0), client_seconds=client_seconds, deadline=5.0))
# ```
# The clients train in parallel, so the round lasts as long as the slowest one, not the sum or the mean; a deadline
# cuts it to the deadline when somebody would go over.
# </details>
#
# 4. **Compute.** A slow device (30 examples/s, 20 kB/s, the 19240-byte model both ways) holds 72 examples and
#    trains 2 epochs in mini-batches of 32 (batches of 32, 32 and 8 per epoch). With a deadline of 5 s and
#    "accept partial work", how many local steps does it finish? Check with
#    `print(fl.exercises.check_partial_steps(steps, n_examples=72, epochs=2, batch_size=32, examples_per_second=30,
#    bytes_per_second=20000, model_bytes=19240, deadline=5.0))`.
#
# <details><summary>Solution to exercise 4</summary>
#
# ```python
# left = 5.0 - 2 * 19240 / 20000                       # the deadline minus download and upload
# finished = np.cumsum([32, 32, 8, 32, 32, 8]) / 30    # when each step ends
# steps = int(np.sum(finished <= left))
# print(fl.exercises.check_partial_steps(steps, n_examples=72, epochs=2, batch_size=32, examples_per_second=30,
#                                        bytes_per_second=20000, model_bytes=19240, deadline=5.0))
# ```
# The transfers eat almost 2 s of the 5, and the third step is a short one (8 examples): it finishes in time, the
# fourth does not.
# </details>
#
# 5. **Compute.** In `stragglers.compute_round_times(speed_spread=1.0)`, which part of $t_k$ dominates for the
#    slowest client: the transfers or the computation? Compute both from
#    `stragglers.make_simulation(stragglers.base_config()).device_profiles` and check their sum with
#    `fl.exercises.check_client_time`.

# %% jupyter={"source_hidden": true} tags=["solution"]
# Solution to exercise 5
sim5 = stragglers.make_simulation(config)
k = int(np.argmax(times.seconds))                          # the slowest client of section 1
device, model_bytes = sim5.device_profiles[k], sim5.n_parameters * 4
transfer = 2 * model_bytes / device.bytes_per_second
compute = 2 * sizes[k] / device.examples_per_second        # E = 2 epochs over its examples
print(f"client {k}: transfers {transfer:.1f} s, computation {compute:.1f} s")
print(fl.exercises.check_client_time(transfer + compute, model_bytes=model_bytes, examples_trained=2 * sizes[k],
                                     examples_per_second=device.examples_per_second,
                                     bytes_per_second=device.bytes_per_second))

# %% [markdown]
# The slowest device is slow because of its link: its transfers take far longer than its training. A smaller update
# (notebook 12) would help it more than a faster processor.
#
# 6. **Explore.** Where should the deadline be? With the box ticked, move the deadline from 2.5 s to 30 s, or loop
#    over `stragglers.compute_devices(deadline=d, correlated=True)`, and compare the simulated minutes to 90% of
#    "accept partial work". Why is the best deadline neither the smallest nor the largest?
#
# <details><summary>Solution to exercise 6</summary>
#
# ```python
# deadlines = (3.0, 4.0, 5.0, 6.0, 8.0, 12.0, 20.0)
# minutes = [stragglers.compute_devices(deadline=d, correlated=True).minutes["accept partial work"]
#            for d in deadlines]
# print([None if m is None else round(m, 1) for m in minutes])
# ```
# Minutes to 90%: never at 3 and 4 s, then 1.8, 1.3, 1.6, 2.4 and 3.7 from 5 s to 20 s. A tiny deadline makes rounds
# short but nearly empty (most clients send only a few steps or nothing: transfers alone take about 2 s), so many
# rounds are needed or the target is never reached. A huge deadline is "wait for all": full updates but every round
# as slow as the slowest device. In between, rounds are short *and* carry most of the work.
# </details>
#
# 7. **Explore.** Fairness, measured: for the correlated federation (`biased`), report the *worst* per-digit accuracy
#    (`min(biased.per_class[policy])`) of each policy. Which policy would you deploy if every digit stood for a group
#    of users who must be served?

# %% jupyter={"source_hidden": true} tags=["solution"]
# Solution to exercise 7
worst = {policy: float(min(biased.per_class[policy])) for policy in stragglers.POLICIES}
print({policy: round(value, 3) for policy, value in worst.items()})

# %% [markdown]
# Waiting for everybody serves the worst-off digit best; dropping stragglers loses one digit entirely; partial work
# sits in between and is much faster than waiting. The mean accuracy hides this: always report the worst group too.
#
# 8. **Find the bug.** This round clock is meant to follow `fl.devices.plan_round`:
#
#    ```python
#    def round_seconds(client_seconds, deadline=None):
#        seconds = sum(client_seconds) / len(client_seconds)
#        return seconds if deadline is None else min(seconds, deadline)
#    ```
#    Run `print(fl.exercises.check_round_time(round_seconds([3.4, 2.1, 7.9, 4.6]), client_seconds=[3.4, 2.1, 7.9,
#    4.6]))`, read the hint, and fix it. Why do the tests that use identical devices never catch this bug?
#
# <details><summary>Solution to exercise 8</summary>
#
# ```python
# def round_seconds(client_seconds, deadline=None):
#     seconds = max(client_seconds)                    # the server waits for the slowest client
#     return seconds if deadline is None else min(seconds, deadline)
#
# print(fl.exercises.check_round_time(round_seconds([3.4, 2.1, 7.9, 4.6]), client_seconds=[3.4, 2.1, 7.9, 4.6]))
# print(fl.exercises.check_round_time(round_seconds([3.4, 2.1, 7.9, 4.6], 5.0), client_seconds=[3.4, 2.1, 7.9, 4.6],
#                                     deadline=5.0))
# ```
# With identical devices every client needs the same time, and then the mean *is* the maximum. Stragglers exist only
# when devices differ.
# </details>
#
# 9. **Write the function.** Write `partial_steps(batch_sizes, examples_per_second, bytes_per_second, model_bytes,
#    deadline)`: the number of local steps (batches of `batch_sizes`, in order) a client finishes before the deadline
#    when the model comes down and the update goes up within it. Try it on exercise 4's device and on a fast one
#    (300 examples/s), checking each with `fl.exercises.check_partial_steps`.
#
# <details><summary>Solution to exercise 9</summary>
#
# ```python
# def partial_steps(batch_sizes, examples_per_second, bytes_per_second, model_bytes, deadline):
#     left = deadline - 2 * model_bytes / bytes_per_second            # download and upload first
#     finished = np.cumsum(batch_sizes) / examples_per_second         # when each step ends
#     return int(np.sum(finished <= left))                             # 0 if even the transfers do not fit
#
# batches = fl.batch_plan(72, 2, 32)[1]                                # 32, 32, 8, 32, 32, 8
# for speed in (30, 300):
#     steps = partial_steps(batches, speed, 20000, 19240, 5.0)
#     print(fl.exercises.check_partial_steps(steps, n_examples=72, epochs=2, batch_size=32, examples_per_second=speed,
#                                            bytes_per_second=20000, model_bytes=19240, deadline=5.0))
# ```
# The fast device finishes all 6 steps with time to spare; the slow one 3. A step cut off by the deadline counts for
# nothing: its gradient was never applied.
# </details>
#
# **Next:** [14 · The FedAvg paper reproduced](14_fedavg_paper_reproduced.ipynb)
