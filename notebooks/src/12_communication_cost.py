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
# # 12 · Communication cost: exact bytes, compression and local work
#
# **What you will learn**
# - to count the bytes of a federation exactly: down (the model) and up (each client's update), round by round;
# - when federated learning actually moves *fewer* bytes than sending the data — and when it does not;
# - four ways to shrink an update (8-bit and 4-bit stochastic quantisation, top-k sparsification with and without
#   error feedback), measured as accuracy against megabytes;
# - why more local work per round (epochs $E$) is the biggest saving of all — the main point of the FedAvg paper.
#
# **Article section:** *5.未来发展趋势与挑战* ("5. Future trends and challenges") names **通信开销**
# ("communication overhead") as a challenge; *1.背景介绍* ("1. Background") and *2.3 federated learning* claim that
# federated learning *降低通信开销* ("lowers the communication overhead"). Here we measure both statements.
#
# **Prerequisites:** [07b · Challenges II](07b_communication_and_devices.ipynb) (bytes per round, $E$ and rounds) and
# [11 · Non-IID algorithms](11_non_iid_algorithms.ipynb) (rounds to a target). Symbols as in the
# [glossary](GLOSSARY.md).
#
# **Time:** about 20 minutes, plus about 30 for the exercises · going deeper (notebooks 09–14).

# %%
# NBVAL_IGNORE_OUTPUT
import fedlearn_edu as fl
import numpy as np
import matplotlib.pyplot as plt
import ipywidgets as widgets
from IPython.display import display
from fedlearn_edu.widgets import challenges, communication

fl.set_seed(42)
fl.print_versions()

# %% [markdown]
# The knobs of this notebook. Change one, then run this cell and every cell below it (*Run › Run Selected Cell
# and All Below*). Every value in the stated ranges runs to the end; the ✔/✘ lines say which claims still hold.

# %% tags=["parameters"]
n_clients = 10                  # clients K (all in every round): 2 .. 30
client_learning_rate = 0.1      # client learning rate η_l: 0.01 .. 1.0
topk_fraction = 0.05            # share f of the coordinates a top-k upload keeps: 0.005 .. 0.5
local_epochs = 1                # local epochs E: 1 .. 5

# %% [markdown]
# ## 1 · What one round costs
#
# The federation: digits, $K = 10$ clients with IID data, all of them in every round, $E = 1$ epoch of mini-batches
# of 32, client learning rate 0.1, 20 rounds. The model has $P = 64 \cdot 64 + 64 + 64 \cdot 10 + 10 = 4810$
# float32 parameters. Every `History` records the bytes of each round:

# %%
config = communication.base_config(n_clients, client_learning_rate, local_epochs)
run = communication.run_cached(config)
P = fl.count_parameters(run.final_weights)
print(f"P = {P} parameters; round 1: {run.bytes_down[0]} bytes down, {run.bytes_up[0]} bytes up "
      f"(= {config.n_clients} clients x {P} x 4 bytes each way)")

# %% [markdown]
# Does federated learning lower the communication overhead, as the article says? Compare with the simplest
# alternative: every client uploads its raw data once (64 float32 pixels and a label per image).

# %%
digits = fl.cached_dataset("digits")
raw_bytes = digits.X_train.astype(np.float32).nbytes + digits.y_train.size     # a byte per label is enough
one_round = int(run.bytes_down[0] + run.bytes_up[0])
print(f"all training data once: {raw_bytes / 1e6:.3f} MB; one round of FedAvg: {one_round / 1e6:.3f} MB; "
      f"{config.rounds} rounds: {run.total_bytes / 1e6:.3f} MB")
fl.check(one_round > raw_bytes, "one round of FedAvg moves more bytes than the whole training set",
         measured=f"{one_round / 1e6:.3f} MB", expected=f"more than {raw_bytes / 1e6:.3f} MB")

# %% [markdown]
# On digits, **one round** of FedAvg already moves more bytes than shipping the whole training set once. Federated
# learning saves bytes only when each client's data is much larger than (rounds × model): a phone's photo library
# against a small model, yes; 144 tiny images per client against a 4810-parameter model, no. Its first reason is
# that the data stay where they are (notebook 09), not the bytes. The rest of this notebook is about making the
# federated bytes smaller.
#
# ## 2 · Compressing the update
#
# A client sends its update $\Delta_k = w_k - w_t$ ($P$ numbers). Four schemes from `fl.compression`, each with an
# exact byte count:
#
# | scheme | what is sent | bytes per client |
# |---|---|---|
# | none | $P$ float32 | $4P$ |
# | int8 | each coordinate rounded *at random* to one of 255 steps between $\min\Delta$ and $\max\Delta$ (unbiased: $E[\hat\Delta] = \Delta$), plus the range; min/max stochastic rounding (Konečný et al. 2016, Suresh et al. 2017) | $P + 8$ |
# | int4 | the same with 15 steps, two codes per byte | $\lceil P/2 \rceil + 8$ |
# | top-k | the $k = fP$ largest $\lvert\Delta_i\rvert$ as (int32 index, float32 value) pairs | $8k$ |
# | top-k + EF | the same, and the client keeps what it did not send (the *error*) and adds it to its next update | $8k$ |
#
# The download stays the full float32 model. The formulas, checked against the bytes each run recorded:

# %%
default = communication.compute_communication(n_clients=n_clients, client_learning_rate=client_learning_rate,
                                              topk_fraction=topk_fraction, local_epochs=local_epochs)
formula = {scheme: communication.upload_bytes_per_client(scheme, P, topk_fraction=topk_fraction)
           for scheme in communication.SCHEMES}
for scheme, per_client in formula.items():
    print(f"{scheme:<11} {per_client:>6} bytes per client per round ({per_client / (4 * P):.3f} x none)")
fl.check(all(default.bytes_up_per_round[s] == config.n_clients * formula[s] for s in formula),
         "every run recorded exactly the bytes of its formula")

# %% [markdown]
# ### What top-k's positions cost
#
# Note the index: a kept coordinate costs 8 bytes, not 4. Top-k with $f = 0.5$ sends exactly as many bytes as no
# compression at all.

# %%
half = communication.upload_bytes_per_client("top-k", P, topk_fraction=0.5)
fl.check(half == 4 * P, "top-k keeping half the coordinates sends as many bytes as no compression", measured=half,
         expected=4 * P)

# %% [markdown]
# ## 3 · Accuracy against megabytes
#
# Left: test accuracy against the megabytes sent **up**; right: against everything sent, down and up. Top-k keeps 5%
# of the coordinates. The dotted line is the 90% target.

# %% [markdown]
# Every curve of that figure is one ordinary experiment. Here is the int8 curve's, written out: the settings of
# `communication.base_config()` with `compression="int8"`, seed 0. Read off the first round at 90% and the
# megabytes sent up until then.

# %%
one_cell = fl.FLConfig(dataset="digits", n_clients=n_clients, rounds=20, local_epochs=local_epochs,
                       client_learning_rate=client_learning_rate, seed=0, compression="int8")
history = fl.run_experiment(one_cell, progress=False)
int8_megabytes = history.megabytes_to_accuracy(0.9, up_only=True)
print(f"int8, seed 0: 90% first in round {history.rounds_to_accuracy(0.9)}, "
      f"after {int8_megabytes or float('nan'):.4f} MB up")

# %% [markdown]
# The helper below runs the same experiment once per scheme (`none`, `int8`, `int4`, `top-k + EF`, `top-k`: one
# seed, one setting) and draws the five curves:

# %%
default = communication.show_communication(n_clients=n_clients, client_learning_rate=client_learning_rate,
                                           topk_fraction=topk_fraction, local_epochs=local_epochs)

# %% [markdown]
# *Figure:* test accuracy against the megabytes sent up (left) and sent both ways (right) for the five compression
# schemes; the compressed schemes reach the target with far fewer megabytes up, and plain top-k falls short.

# %% [markdown]
# Its int8 row should be the experiment above, to the last digit:

# %%
fl.check(int8_megabytes == default.megabytes_up["int8"], "int8: the run by hand is the helper's",
         measured=f"{int8_megabytes or float('nan'):.4f} MB up to 90% by hand",
         expected=f"{default.megabytes_up['int8'] or float('nan'):.4f} in the helper's table")

# %% [markdown]
# - **int8 and int4** lie on top of the uncompressed curve in accuracy and reach 90% with a quarter and an eighth of
#   the upload. The rounding noise is unbiased and small next to the noise of SGD itself.
# - **top-k + EF** (a tenth of the upload) needs a few more rounds; **top-k without error feedback** settles
#   visibly lower: the small coordinates it never sends are lost for good, and they add up.
# - On the right the picture is less rosy: the download is not compressed, so the total falls by at most half.

# %% [markdown]
# ### Medians of three seeds
#
# One seed can flatter; here are the medians of three:

# %%
setting = dict(n_clients=n_clients, client_learning_rate=client_learning_rate, local_epochs=local_epochs)
seeds = communication.compute_seeds(seeds=(0, 1, 2), topk_fraction=topk_fraction, **setting)
print(seeds.table())

# %%
none_settled = seeds.median_settled("none")
fl.check(abs(seeds.median_settled("int8") - none_settled) < 0.02 and abs(seeds.median_settled("int4") - none_settled) < 0.02
         and seeds.median_megabytes_up("int8") < 0.3 * seeds.median_megabytes_up("none"),
         "int8 and int4 keep the accuracy (within 0.02) with a quarter and an eighth of the upload",
         measured=f"settled {seeds.median_settled('int8'):.3f} and {seeds.median_settled('int4'):.3f}",
         expected=f"{none_settled:.3f} ± 0.02")
fl.check(seeds.median_settled("top-k + EF") > seeds.median_settled("top-k") + 0.03,
         "error feedback matters at this fraction", measured=f"{seeds.median_settled('top-k + EF'):.3f} with EF, "
                                                            f"{seeds.median_settled('top-k'):.3f} without",
         expected="more than 0.03 apart")
fl.check(default.megabytes_total["int8"] > 0.5 * default.megabytes_total["none"],
         "counting the download too, int8 saves less than half", measured=default.megabytes_total["int8"],
         expected=f"more than half of {default.megabytes_total['none']:.3f} MB")

# %% [markdown]
# ### Error feedback and the kept fraction
#
# How much does error feedback matter? It depends on how much top-k throws away. One seed, three fractions:

# %% [markdown]
# The sweep's leftmost point without error feedback is again one experiment: top-k keeping 1% of the coordinates,
# `error_feedback=False`, seed 0. Its settled accuracy is the mean test accuracy of the last 5 rounds:

# %%
one_cell = one_cell.replace(compression="topk", topk_fraction=0.01, error_feedback=False)   # the sweep's first f
one_percent = fl.sweeps.settled_accuracy(fl.run_experiment(one_cell, progress=False), last=5)
print(f"top-k 1%, no error feedback, seed 0: settled accuracy {one_percent:.3f}")

# %% [markdown]
# The helper repeats it for each fraction (0.01, 0.05, 0.3) × {top-k + EF, top-k} (plus one uncompressed run):

# %%
topk = communication.show_topk_sweep(fractions=(0.01, 0.05, 0.3), **setting)

# %% [markdown]
# *Figure:* settled test accuracy against the fraction of coordinates sent, top-k with and without error feedback; at
# the smallest fraction error feedback keeps the model close to the uncompressed one, plain top-k does not.

# %%
fl.check(one_percent == topk.without_feedback[0], "top-k 1% without EF: the run by hand is the sweep's",
         measured=f"settled {one_percent:.3f} by hand", expected=f"{topk.without_feedback[0]:.3f} in the sweep")

# %% [markdown]
# ### What error feedback buys
#
# At 1% the update without error feedback loses most of its signal; with error feedback the dropped coordinates
# are sent later, once their accumulated size makes the top $k$, and the model still gets close. At 30% both
# versions keep nearly everything that matters.

# %%
fl.check(topk.gap(0.01) > topk.gap(0.05) > topk.gap(0.3) and topk.gap(0.01) > 0.1 and abs(topk.gap(0.3)) < 0.02,
         "the smaller the fraction, the more error feedback matters: above 0.1 at 1%, nothing at 30%",
         measured=[round(topk.gap(f), 3) for f in (0.01, 0.05, 0.3)])

# %% [markdown]
# ## 4 · The biggest lever: more local work
#
# McMahan et al. (2017) did not compress anything. Their point was that $E$ local epochs per round, instead of one
# gradient step, cut the **rounds** — and every round costs the same bytes whatever $E$ is. $E = 5$ against $E = 1$,
# uncompressed, three seeds:

# %%
more_work = communication.compute_seeds(seeds=(0, 1, 2), n_clients=n_clients, client_learning_rate=client_learning_rate,
                                        local_epochs=5, schemes=("none", "int8"))
print(more_work.table())
ratio = seeds.median_megabytes_up("none") / more_work.median_megabytes_up("none")
print(f"E=5 reaches 90% with {ratio:.1f}x fewer MB than E={local_epochs} (uncompressed); "
      f"with int8 on top: {seeds.median_megabytes_up('none') / more_work.median_megabytes_up('int8'):.0f}x fewer MB up")
fl.check(ratio >= 3 and more_work.median_megabytes_up("int8") < seeds.median_megabytes_up("int8") / 3,
         "E = 5 needs at least 3 times fewer megabytes to 90%, with or without int8", measured=round(ratio, 2),
         expected="≥ 3")

# %% [markdown]
# More local epochs cost device computation (five times the steps) and no bytes; compression costs a little
# accuracy and no computation worth mentioning; the two multiply. On non-IID data $E$ helps less (notebook 07b) and
# can make drift worse (notebook 11).
#
# ## Your turn
#
# Sliders: clients $K$, client learning rate η_l, the top-k fraction (log scale) and local epochs $E$. A slider acts
# when you release it; a change of the fraction re-runs only the two top-k curves, and every setting you return to is
# cached. The presets are the things to try: keep 0.5%; $E = 5$; a learning rate of 1 (which scheme breaks first?);
# 30 clients. *Reset* returns to the notebook's settings.

# %%
controls = dict(n_clients=fl.widgets.client_slider(n_clients, min=2, max=30),
                client_learning_rate=fl.widgets.log_value_slider(client_learning_rate, 0.01, 1.0,
                                                                 "client learning rate η_l"),
                topk_fraction=fl.widgets.log_value_slider(topk_fraction, 0.005, 0.5, "top-k fraction f"),
                local_epochs=fl.widgets.int_slider(local_epochs, 1, 5, "local epochs E"))
display(fl.widgets.ControlPanel(communication.show_communication, controls, presets=communication.PRESETS,
                                run_now=False))

# %% [markdown]
# The panel draws when you move a slider; it starts from the figure of section 3, whose rounds say: int8 reaches
# 90% in the same round as no compression, top-k without error feedback never does.

# %%
fl.check(default.rounds["int8"] == default.rounds["none"] and default.rounds["top-k"] is None,
         "int8 reaches 90% in the same round as no compression; top-k without error feedback never does",
         measured=default.rounds)

# %% [markdown]
# ## Summary
#
# - A round moves $m \cdot 4P$ bytes down and, uncompressed, as many up; `History.bytes_down` / `bytes_up` record
#   them exactly. On digits one round costs more than the whole training set: federated learning saves bytes only
#   when the data are much larger than rounds × model.
# - **int8 / int4** stochastic quantisation: the same accuracy (within 0.02, medians of 3 seeds) with 1/4 and 1/8 of
#   the upload.
# - **top-k**: an index costs as much as a value; without error feedback small fractions lose accuracy for good, with
#   error feedback the dropped part arrives later. The smaller the fraction, the more error feedback matters.
# - The download is uncompressed, so compressing uploads at best halves the total.
# - **More local work** ($E = 5$ instead of 1) cut the megabytes to 90% at least threefold on IID data, before any
#   compression, and combines with it.
#
# ## Exercises
#
# They go from predicting to writing code. Each has a collapsed solution; the checkers say what is wrong, not only
# that something is.
#
# 1. **Predict, then run.** On IID data, top-k without error feedback (5%) settles below the uncompressed run (the
#    table of section 3). On Dirichlet(0.1) data, where the client updates disagree (notebook 11), how much settled
#    accuracy does it lose against the uncompressed run? Write your guess (a difference of accuracies), then run.

# %%
guess_accuracy_lost = None   # your guess: uncompressed minus top-k settled accuracy, e.g. 0.05

# %%
skewed = communication.base_config().replace(partition="dirichlet", alpha=0.1)
settled = {s: fl.sweeps.settled_accuracy(communication.run_cached(
    skewed.replace(**communication.scheme_fields(s, 0.05))), last=5) for s in ("none", "top-k")}
lost = settled["none"] - settled["top-k"]
print(f"Dirichlet(0.1): settled {settled['none']:.3f} uncompressed, {settled['top-k']:.3f} top-k, {lost:.3f} lost "
      f"(IID: {default.settled['none'] - default.settled['top-k']:.3f} lost)")
print(fl.exercises.check_prediction(guess_accuracy_lost, lost, tolerance=0.02, relative=False,
                                    what="accuracy top-k loses on Dirichlet(0.1)"))

# %% [markdown]
# <details><summary>Solution to exercise 1</summary>
#
# Most people expect compression to hurt *more* when the updates disagree. With this seed it hurts less: 0.039 lost
# on Dirichlet(0.1) against 0.072 on IID data. The uncompressed run itself settles lower on skewed data, so there is
# less to lose. One seed is one seed: repeat the two runs with `seed=1` and `seed=2` in `skewed` before believing
# the direction.
# </details>
#
# 2. **Compute.** How many bytes does one int4 upload of the digits model (P = 4810 parameters) take? Work it out by
#    hand from the formula (the table of section 2 has it too), then check it with
#    `print(fl.exercises.check_upload_bytes(answer, scheme="int4", n_parameters=4810))`.
#
# <details><summary>Solution to exercise 2</summary>
#
# ```python
# answer = math.ceil(4810 / 2) + 8      # two 4-bit codes per byte, plus min and max as two float32
# print(fl.exercises.check_upload_bytes(answer, scheme="int4", n_parameters=4810))
# ```
# ceil(P/2) bytes of codes and 8 bytes of range: without the range the server could not turn the codes back into
# numbers.
# </details>
#
# 3. **Compute.** For which fraction f does top-k send exactly as many bytes as int8? As int4? Check each with
#    `print(fl.exercises.check_topk_breakeven(f, n_parameters=4810, scheme="int8"))` (and `scheme="int4"`).
#
# <details><summary>Solution to exercise 3</summary>
#
# ```python
# P = 4810
# print(fl.exercises.check_topk_breakeven((P + 8) / (8 * P), n_parameters=P, scheme="int8"))
# print(fl.exercises.check_topk_breakeven((math.ceil(P / 2) + 8) / (8 * P), n_parameters=P, scheme="int4"))
# ```
# Top-k sends 8 f P bytes (an int32 index with every float32 value), int8 P + 8 and int4 ceil(P/2) + 8, so f is about
# 1/8 for int8 and 1/16 for int4. At 5% top-k sends fewer bytes than int4, and in our runs reaches the target later:
# fewer bytes per round, more rounds.
# </details>
#
# 4. **Compute.** Suppose the server also sent int8 models down. How many MB, down and up, would the default run
#    need to reach 90% with int8 both ways? *Hint:* rounds to the target × m × (bytes down + bytes up), with the int8
#    bytes of `print(fl.exercises.check_upload_bytes(answer, scheme="int8", n_parameters=P))`. What would the server
#    have to do differently, given that every client needs the *same* model?

# %% jupyter={"source_hidden": true} tags=["solution"]
# Solution to exercise 4
int8_bytes = P + 8                                    # one int8 model or update, either way
print(fl.exercises.check_upload_bytes(int8_bytes, scheme="int8", n_parameters=P))
both_ways = default.rounds["int8"] * config.n_clients * 2 * int8_bytes / 1e6
print(f"{default.rounds['int8']} rounds: {both_ways:.4f} MB with int8 both ways, "
      f"{default.megabytes_total['int8']:.4f} MB with a float32 download")

# %% [markdown]
# The server has to quantise the model *once* and send the same codes to every client (a separate random rounding
# per client would give each one a different starting point), and the clients compute their update from the decoded
# model. The rounding error of the download is not averaged away by the clients: it lands in the model itself.
#
# 5. **Compute.** With the default run's bytes, how many images per client (64 float32 pixels and a one-byte label
#    each) must a client hold before uploading them once costs more than its share of the 20 rounds of FedAvg?
#    Check your number with `print(fl.exercises.check_crossover_samples(answer, n_parameters=P, rounds=20,
#    example_bytes=64 * 4 + 1, fraction=config.fraction))`.

# %% jupyter={"source_hidden": true} tags=["solution"]
# Solution to exercise 5
per_client = run.total_bytes / config.n_clients     # 20 rounds of a float32 model down and an update up
per_image = 64 * 4 + 1
fits = int(per_client // per_image)
print(f"{per_client:.0f} bytes per client / {per_image} bytes per image: more than {fits} images, "
      f"i.e. at least {fits + 1}")
print(f"each client here holds {len(digits.y_train) / config.n_clients:.0f} images")
print(fl.exercises.check_crossover_samples(fits + 1, n_parameters=P, rounds=20, example_bytes=per_image,
                                           fraction=config.fraction))

# %% [markdown]
# Each client here holds twenty times fewer: on digits the federation never saves bytes. A phone
# with a few thousand photos of a few megabytes each is another story.
#
# 6. **Find the bug.** This byte count is right for three schemes and wrong for one:
#
#    ```python
#    def upload_bytes(scheme, n_parameters, topk_fraction=0.05):
#        if scheme == "none":
#            return 4 * n_parameters
#        if scheme == "int8":
#            return n_parameters + 8
#        if scheme == "int4":
#            return math.ceil(n_parameters / 2) + 8
#        return 4 * max(1, round(topk_fraction * n_parameters))     # top-k
#    ```
#    Check all four with `for scheme in ("none", "int8", "int4", "topk"): print(fl.exercises.check_upload_bytes(
#    upload_bytes(scheme, 4810), scheme=scheme, n_parameters=4810, topk_fraction=0.05))`, read the hint, and fix it.
#
# <details><summary>Solution to exercise 6</summary>
#
# ```python
# def upload_bytes(scheme, n_parameters, topk_fraction=0.05):
#     if scheme == "none":
#         return 4 * n_parameters
#     if scheme == "int8":
#         return n_parameters + 8
#     if scheme == "int4":
#         return math.ceil(n_parameters / 2) + 8
#     return 8 * max(1, round(topk_fraction * n_parameters))     # an int32 index AND a float32 value
#
# for scheme in ("none", "int8", "int4", "topk"):
#     print(fl.exercises.check_upload_bytes(upload_bytes(scheme, 4810), scheme=scheme, n_parameters=4810,
#                                           topk_fraction=0.05))
# ```
# A sparse update is useless without the positions of its values: each kept coordinate travels with its index, so
# top-k costs twice what its values alone would.
# </details>
#
# 7. **Write the function.** Write top-k with error feedback, `ef_step(update, residual, k)`, which returns
#    `(sent, new_residual)`: add the residual to the update, send the k coordinates of largest magnitude (a dense
#    vector with zeros elsewhere), and keep what was not sent. Check it with
#    `print(fl.exercises.check_error_feedback(ef_step))`, which runs it for three rounds against `fl.compression`.
#
# <details><summary>Solution to exercise 7</summary>
#
# ```python
# def ef_step(update, residual, k):
#     carried = update + residual                      # this round's update and everything not sent before
#     keep = np.argsort(-np.abs(carried))[:k]          # the k largest |values|
#     sent = np.zeros_like(carried)
#     sent[keep] = carried[keep]
#     return sent, carried - sent                      # what stays behind is sent later
#
# print(fl.exercises.check_error_feedback(ef_step))
# ```
# Without the residual a coordinate that is always a little too small is never sent; with it, it grows round after
# round until it makes the top k. Nothing is lost, only delayed.
# </details>
#
# **Next:** [13 · Devices and deadlines](13_devices_and_deadlines.ipynb)
