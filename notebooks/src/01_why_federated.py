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
# # 01 · Why federated learning
#
# **What you will learn**
# - why deep learning at scale led to distributed learning, then to edge computing, then to federated learning;
# - how to train the same model three ways on the same data: centrally, by data-parallel distributed SGD
#   and by FedAvg, and how to compare their test accuracy and the bytes each one moves;
# - when federated learning really lowers communication (and when it does not), with the crossover computed;
# - what "the data never leave the device" means, and why it is not a privacy guarantee.
#
# **Article section:** 1.背景介绍 ("Background"), 2.1 分布式学习 ("Distributed learning"),
# 2.2 边缘计算 ("Edge computing"), 2.3 联邦学习 ("Federated learning").
#
# **Time:** about 25 minutes, plus about 30 for the exercises · core path (notebooks 00–08).
#
# **Prerequisites:** [00 · Start here](00_start_here.ipynb). Symbols as in the [glossary](GLOSSARY.md):
# K clients, n_k examples on client k, η_l the client learning rate, P parameters, R rounds, C the fraction of
# clients per round.

# %%
# NBVAL_IGNORE_OUTPUT
import fedlearn_edu as fl
import matplotlib.pyplot as plt
from IPython.display import display
from fedlearn_edu.widgets import comparison

fl.set_seed(42)
fl.print_versions()

# %% [markdown]
# The knobs of this notebook. Change one, then run this cell and every cell below it (in JupyterLab: *Run ›
# Run Selected Cell and All Below*). Every value in the stated ranges runs to the end; the ✔/✘ lines then say
# which of the notebook's claims still hold.

# %% tags=["parameters"]
n_clients = 10                  # clients K (workers of distributed SGD): 2 .. 50
client_learning_rate = 0.1      # client learning rate η_l (all three methods): 0.001 .. 10.0
rounds = 20                     # passes over the data (FedAvg's rounds R): 1 .. 50
samples_per_client = 80         # examples per client n_k in the crossover of section 4: 10 .. 10000

# %% [markdown]
# ## 1 · Background: from one machine to many, from many to the edge
#
# The article's story (section 1) runs in three steps:
#
# 1. **Deep learning at scale.** Bigger data sets and bigger networks make training on one machine
#    too slow, so *distributed learning* (分布式学习) splits the work over many machines in a data centre.
#    In its most common form, *data-parallel SGD*, every worker holds a shard of the data, computes a
#    gradient on a mini-batch, the gradients are averaged, and every worker takes the same step.
#    The workers talk **after every step**, and the data must first be **collected in the data centre**.
# 2. **Edge computing** (边缘计算) moves computation to where the data are produced: phones, hospitals,
#    cars, sensors. The article says this "降低了数据传输开销，提高了数据安全性" (lowers data-transfer cost and
#    improves data security), but edge devices are small and their networks slow and unreliable.
# 3. **Federated learning** combines the two: the devices train the model on their own data, and
#    only the model travels. FedAvg lets each device take **many local steps between two exchanges**,
#    which is what saves communication compared with distributed SGD.
#
# ![a server and edge devices: the model travels, the data stay](../assets/architecture.png)
#
# Below we check these claims with numbers instead of taking them on trust.

# %% [markdown]
# ## 2 · One data set, three ways to train
#
# All three runs use the article's data (800 training and 200 test examples, 20 features, 3 classes;
# notebook 02 shows how it is made), the article's network (20 → 64 → 3), mini-batches of 32,
# learning rate η_l = 0.1 and the **same amount of computation**: 20 passes over the data (the parameters
# `client_learning_rate` and `rounds`).

# %%
data = fl.load_dataset("article")
print(data)
raw_bytes = fl.baselines.raw_data_bytes(data)
print(f"uploading the training data once: 800 x (20 x 4 + 4) bytes = {raw_bytes} bytes = {raw_bytes / 1e6:.3f} MB")

# %% [markdown]
# **(a) Centralised training**: upload all the data to one server, then train there for 20 epochs.

# %%
central = fl.baselines.train_centralised(data, epochs=rounds, learning_rate=client_learning_rate)
print(f"centralised: test accuracy {central.final_accuracy:.3f}")

# %% [markdown]
# **(b) Data-parallel distributed SGD** on K = 10 workers (the parameter `n_clients`). Each worker holds 80 examples, i.e.
# ceil(80 / 32) = 3 mini-batches per pass, so 20 passes are 60 synchronous steps, and after **every** step
# each worker receives the model and sends back its result. (In the engine this is FedAvg with
# `local_steps=1`: averaging models after one step is the same as averaging the gradients.)

# %%
steps = comparison.equal_compute_steps(n_clients=n_clients, rounds=rounds)
distributed = fl.baselines.distributed_sgd(data, n_workers=n_clients, steps=steps, learning_rate=client_learning_rate)
print(f"distributed SGD: {steps} steps, test accuracy {distributed.final_accuracy:.3f}, "
      f"{distributed.total_bytes / 1e6:.3f} MB moved")

# %% [markdown]
# **(c) FedAvg** with 10 clients: 20 rounds, in each round every client makes one pass (3 steps)
# over its own data, then sends its model back.

# %%
fedavg = fl.run_experiment(fl.FLConfig(n_clients=n_clients, rounds=rounds, client_learning_rate=client_learning_rate),
                           dataset=data)
print(f"FedAvg: test accuracy {fedavg.final_accuracy:.3f}, {fedavg.total_bytes / 1e6:.3f} MB moved, "
      f"{(fedavg.bytes_down[0] + fedavg.bytes_up[0]) / 1e6:.3f} MB per round")

# %% [markdown]
# The three side by side. "MB to 85%" counts the bytes moved until the test accuracy first reached 85%;
# "exchanges" counts how often the network was used (centralised training uses it once, for the upload).

# %%
result = comparison.summarise_methods(data, central, distributed, fedavg, target=0.85)
print(result.table())

# %% [markdown]
# Look at two things in the table. All three reach about the same accuracy: on this data set the
# way of training hardly matters for the result. And the bytes differ a lot. The ✔ lines check four claims.

# %%
def megabytes(n_bytes):                       # None: the run never reached 85%
    return "never" if n_bytes is None else f"{n_bytes / 1e6:.3f} MB"

print(f"to reach 85%: FedAvg {megabytes(result.fedavg.bytes_to_target)}, "
      f"distributed SGD {megabytes(result.distributed.bytes_to_target)}")
print(f"whole run: FedAvg moves {result.fedavg.bytes_moved / raw_bytes:.1f} times the raw data")
fl.check(lambda: all(m.accuracy >= 0.85 for m in result.methods), "all three reach 85% on the article's data",
         measured=[round(m.accuracy, 3) for m in result.methods], expected=">= 0.85 each")
fl.check(lambda: result.fedavg.bytes_to_target < result.distributed.bytes_to_target,
         "to reach 85%, FedAvg moves fewer bytes than distributed SGD",
         measured=result.fedavg.bytes_to_target, expected=f"< {result.distributed.bytes_to_target}")
fl.check(result.fedavg.bytes_moved < result.distributed.bytes_moved,
         "same computation, fewer exchanges: FedAvg moves fewer bytes in the whole run",
         measured=result.fedavg.bytes_moved, expected=f"< {result.distributed.bytes_moved}")
fl.check(raw_bytes < result.fedavg.bytes_moved, "on this tiny data set, uploading the data is cheapest",
         measured=raw_bytes, expected=f"< {result.fedavg.bytes_moved}")

# %% [markdown]
# The same numbers as a picture: test accuracy against megabytes moved so far. Centralised training is
# a single star: it pays for the upload before it takes its first step, and then never uses the network again.

# %%
# extra code – accuracy against bytes moved, one curve per method
ax = comparison.plot_accuracy_vs_bytes(result)
ax.set_title("accuracy against megabytes moved")
plt.show()

# %% [markdown]
# *Figure:* test accuracy against megabytes moved; centralised training is one star at 0.067 MB, distributed SGD
# and FedAvg reach the same accuracy, and FedAvg gets there with fewer megabytes.


# %% [markdown]
# **Be honest with the numbers.** The article claims that federated learning "降低通信开销"
# (lowers communication cost). Compared with **distributed SGD** that is true: FedAvg talks once per
# 3 local steps instead of once per step, so it needs fewer bytes for the same accuracy.
# Compared with simply **uploading the data**, it is false here: the whole training set is 0.067 MB,
# while the model (1539 parameters, 6156 bytes) travels down and up 10 × 20 times, about 2.5 MB.
# On a data set this small, shipping the data is about 37 times cheaper. Section 4 computes when the
# opposite holds.

# %% [markdown]
# ## 3 · Try it: clients and learning rate
#
# Move the sliders (the runs start when you release them; the busy line says when the panel is computing).
# Presets show the cases worth a look, and *reset* returns to the notebook's parameters. Things to look for:
# - with **25 or more clients** each client holds at most 800/25 = 32 examples, i.e. one mini-batch: a FedAvg round
#   is then a single SGD step, and FedAvg and distributed SGD become *the same algorithm* (same numbers);
# - bytes grow linearly with the number of clients, accuracy hardly changes;
# - a learning rate of **0.001** is too small for 20 passes, and around **10** the runs diverge.

# %%
controls = dict(n_clients=fl.widgets.client_slider(n_clients, min=2, max=50),
                client_learning_rate=fl.widgets.log_value_slider(client_learning_rate, 0.001, 10.0,
                                                                 "client learning rate η_l"),
                rounds=fl.widgets.int_slider(rounds, 1, 50, "passes over the data"))
display(fl.widgets.ControlPanel(comparison.show_comparison, controls, presets=comparison.PRESETS, run_now=False))

# %% [markdown]
# The panel draws when you move a slider. Its callback is a plain function: here it is at the notebook's
# parameters, i.e. the runs of section 2 (every run is seeded), with a bar chart of the bytes.

# %%
default = comparison.show_comparison(n_clients, client_learning_rate, rounds, show_table=False)

# %% [markdown]
# *Figure:* left, test accuracy against megabytes moved for the three methods; right, the megabytes each method
# moves in the whole run on a log scale, where FedAvg's bar is lower than distributed SGD's and higher than the raw
# data's.
#
# The preset *many clients with little data* spreads the data over 50 clients: each holds 800/50 = 16 examples,
# less than one mini-batch, so FedAvg and distributed SGD are the same algorithm. The ✔ lines check that, and that
# the figure above is the table of section 2.

# %%
many = comparison.compute_comparison(n_clients=50, client_learning_rate=client_learning_rate, rounds=rounds)
print(f"K = 50 clients of {800 // 50} examples: FedAvg {many.fedavg.bytes_moved} bytes, accuracy {many.fedavg.accuracy:.3f}; "
      f"distributed SGD {many.distributed.bytes_moved} bytes, accuracy {many.distributed.accuracy:.3f}")
fl.check(default.methods == result.methods, "the callback at the notebook's parameters is the run of section 2")
fl.check(lambda: many.fedavg.bytes_moved == many.distributed.bytes_moved
         and abs(many.fedavg.accuracy - many.distributed.accuracy) < 1e-6,
         "one mini-batch per client: FedAvg = distributed SGD (same bytes, same accuracy)",
         measured=(many.fedavg.accuracy, many.distributed.accuracy))

# %% [markdown]
# ## 4 · When do model updates cost less than the data?
#
# For one client with n_k examples of b bytes each, and a model of P parameters (4 bytes each):
#
# - uploading the raw data once costs **n_k × b** bytes;
# - FedAvg costs **2 × 4 × P × R × C** bytes: a model down and an update up in each of the C × R rounds
#   the client takes part in (C is the share of clients sampled per round).
#
# The two are equal at **n\* = 8 P R C / b** examples per client. The number of clients cancels out
# (both totals grow with K). For the article's data, b = 20 × 4 + 4 = 84 bytes, P = 1539, R = 20, C = 1, and a
# client of the article holds n_k = 800 / 10 = 80 examples (the parameters `samples_per_client` and `rounds`):

# %%
article = comparison.compute_bytes_crossover(samples_per_client=samples_per_client, rounds=rounds,
                                             n_parameters=1539, example_bytes=comparison.bytes_per_example(20))
print(article)

# %% [markdown]
# Check the formula against what the run of section 2 actually counted: K clients' update traffic is FedAvg's
# measured total. And is the article's client below the crossover?

# %%
n_star = article.crossover_samples
print(f"FedAvg moves less once a client holds more than {n_star:.0f} examples; this client holds {samples_per_client}")
fl.check(n_clients * article.update_bytes == fedavg.total_bytes,
         "the formula's update bytes, times K, are what FedAvg's run counted",
         measured=int(n_clients * article.update_bytes), expected=fedavg.total_bytes)
fl.check(samples_per_client < n_star, "the article's clients hold fewer examples than n*: uploading the data is cheaper",
         measured=samples_per_client, expected=f"< {n_star:.0f}")

# %% [markdown]
# Move the sliders: the number of examples per client, and the number of rounds. More rounds push the
# crossover to the right (more model traffic); more examples move your client along the black line.
# The presets jump to the article's clients, just past the crossover, big clients, long training and a single round.

# %%
crossover_controls = dict(samples_per_client=fl.widgets.int_slider(samples_per_client, 10, 10000,
                                                                   "examples per client", step=10),
                          rounds=fl.widgets.int_slider(rounds, 1, 200, "rounds R"))
display(fl.widgets.ControlPanel(comparison.show_bytes_crossover, crossover_controls,
                                presets=comparison.CROSSOVER_PRESETS, run_now=False))

# %% [markdown]
# The panel draws when you move a slider; at the notebook's parameters it shows:

# %%
shown = comparison.show_bytes_crossover(samples_per_client, rounds, show_summary=False)

# %% [markdown]
# *Figure:* megabytes per client against examples per client, both on log scales; the raw-data line rises with
# the examples, FedAvg's traffic is flat, and the two cross at n\* = 2931 examples, far right of the article's 80.


# %% [markdown]
# ### Where federated learning does save bytes: a phone full of photos
#
# Take a phone with 2000 photos,
# each fed to the model at 224 × 224 pixels × 3 colour bytes (224 × 224 × 3 = 150,528 bytes; the original JPEG files
# are larger still), and a small image model of one million parameters (4 MB). A **cross-device** federation has
# many small, unreliable clients (phones), of which only a small fraction C trains in each round; its opposite,
# **cross-silo**, has a few large, reliable clients (hospitals, banks) that usually all train in every round (both
# in the [glossary](GLOSSARY.md); notebook 08 compares them). In a cross-device federation, say 1000 rounds that
# each sample 1% of the phones, a phone takes part in about 10 rounds.
# (These are round illustrative numbers, not measurements of a real system.)

# %%
phone = comparison.show_bytes_crossover(samples_per_client=2000, rounds=1000, n_parameters=1_000_000,
                                        example_bytes=224 * 224 * 3 + 4, fraction=0.01)
fl.check(lambda: phone.federated_moves_less and phone.ratio > 3,
         "a phone full of photos: FedAvg moves more than 3 times fewer bytes than uploading the photos",
         measured=round(phone.ratio, 1), expected="> 3")

# %% [markdown]
# *Figure:* the same two byte counts for the phone, on log scales; the phone's 2000 photos lie right of the
# crossover, where FedAvg's flat line is below the raw-data line.
#
# So the article's claim holds **when the data are large relative to the model traffic**: many
# or big examples per device, a model that is small, and few rounds per device. It fails on the
# article's own toy data (tiny examples, every client in every round).

# %% [markdown]
# ## 5 · "The data never leave the device" — what does travel?
#
# In FedAvg, no raw example is sent. What a client sends is its trained model: here 4 arrays, the
# same shapes as the network's weights.

# %%
update = fedavg.final_weights
print("shapes:", [w.shape for w in update])
n_numbers = sum(w.size for w in update)
print(f"{n_numbers} float32 numbers = {4 * n_numbers} bytes per message")
fl.check(n_numbers == 1539 and fedavg.bytes_up[0] == n_clients * 4 * n_numbers,
         "a client sends 1539 numbers, 4 bytes each, and nothing else", measured=fedavg.bytes_up[0],
         expected=f"{n_clients} × 4 × 1539")

# %% [markdown]
# These 1539 numbers are **computed from the client's data**. That is not the same as privacy:
# for a single example x, the gradient of a Dense layer's kernel is the outer product of x with the
# error signal, so x can be read back from an update (a later notebook reconstructs a training
# record from one update). The article's claim (§2.3) that federated learning "可以利用边缘计算技术来提高数据安全性"
# (can use edge computing to improve data security) therefore needs a qualification: federated learning keeps the raw data
# where it is, but privacy needs more on top, such as secure aggregation (the server sees only the
# sum of many updates) and differential privacy (clipped, noised updates).

# %% [markdown]
# ## Summary
# - Distributed SGD splits training over workers but talks after every step and needs the data in one place;
#   edge computing keeps computation near the data; federated learning trains on the devices and sends only models.
# - On the article's data, centralised training, distributed SGD and FedAvg all reach about 88–89% test accuracy.
# - FedAvg needs fewer bytes than distributed SGD (it takes several local steps per exchange); with one
#   mini-batch per client the two are the same algorithm.
# - FedAvg moves **more** bytes than uploading the article's tiny data set (2.462 MB vs 0.067 MB);
#   it moves fewer only above n\* = 8 P R C / b examples per client (2931 here), e.g. phones full of photos.
# - Only model weights travel, but they are computed from the data: FL alone does not guarantee privacy.
#
# ## Exercises
# They go from predicting to finding a bug in a byte count. Each has a collapsed solution; the checkers say what
# is wrong, not only that something is.
#
# 1. **Predict, then run.** Set the client learning rate to 0.01 instead of 0.1 (same 10 clients, 20 passes over the
#    data). What test accuracy does FedAvg reach? Write your guess below, then run the comparison. Which method
#    loses most, and why? *Hint:* count the SGD steps each method takes in 20 passes (centralised: 25 per epoch on
#    batches of 32).

# %%
guess_fedavg_accuracy_slow = None   # your guess: a test accuracy between 0 and 1, e.g. 0.85

# %%
slow = comparison.compute_comparison(n_clients=10, client_learning_rate=0.01)
print(slow)
print(fl.exercises.check_prediction(guess_fedavg_accuracy_slow, slow.fedavg.accuracy, tolerance=0.05,
                                    what="FedAvg's test accuracy at learning rate 0.01"))

# %% [markdown]
# <details><summary>Solution to exercise 1</summary>
#
# Centralised training hardly loses anything; distributed SGD and FedAvg lose most. With a learning rate ten times
# smaller, what counts is the number of steps the model takes. Centralised training takes 25 steps per pass, 500 in
# all. Distributed SGD takes one averaged step per exchange, 3 per pass (the largest client holds 80 examples:
# 3 mini-batches). FedAvg's clients also take 3 steps per round, and averaging their models is about one averaged
# step of that length: both get about 60 small steps, not enough to reach the plateau.
# </details>
#
# 2. **Compute.** How many bytes does one model upload take for the digits network 64 → 64 → 10 (float32, 4 bytes
#    per number)? Count the parameters layer by layer (kernel and biases), then check your byte count with
#    `print(fl.exercises.check_model_upload_bytes(answer, n_features=64, n_classes=10))`.
#
# <details><summary>Solution to exercise 2</summary>
#
# ```python
# n_parameters = 64 * 64 + 64 + 64 * 10 + 10     # hidden kernel and biases, output kernel and biases: P = 4810
# print(fl.exercises.check_model_upload_bytes(4 * n_parameters, n_features=64, n_classes=10))
# ```
# Every Dense layer has an (inputs × units) kernel and one bias per unit; every float32 number is 4 bytes. The
# same count for the article's 20 → 64 → 3 gives the 1539 parameters of section 5.
# </details>
#
# 3. **Compute.** The digits data set (`fl.load_dataset("digits")`) has 64 features, 10 classes and 1437 training
#    images. With 10 clients and 20 rounds (every client in every round), how many examples per client $n^*$ would
#    make FedAvg's traffic equal to uploading the images? Does FedAvg move fewer bytes here? Check $n^*$ with
#    `print(fl.exercises.check_crossover_samples(n_star, n_parameters=4810, rounds=20, example_bytes=...))`.
#
# <details><summary>Solution to exercise 3</summary>
#
# ```python
# n_star = 8 * 4810 * 20 / (64 * 4 + 4)     # n* = 8 P R C / b with C = 1
# print(f"n* = {n_star:.0f} examples per client; each holds {1437 // 10}")   # n* = 2960; each holds 143
# print(fl.exercises.check_crossover_samples(n_star, n_parameters=4810, rounds=20, example_bytes=64 * 4 + 4))
# ```
# Each example is 64 × 4 + 4 = 260 bytes, so n\* = 8 × 4810 × 20 / 260 ≈ 2960, far above 143: uploading the
# images once is cheaper, as for the article's data.
# </details>
#
# 4. **Compute.** With `fraction` C = 0.1 (a tenth of the clients per round), how many examples per client does the
#    article's setting (P = 1539, R = 20, b = 84) need before FedAvg moves less? Predict it from the formula first,
#    then check it with `print(fl.exercises.check_crossover_samples(n_star, n_parameters=1539, rounds=20,
#    example_bytes=84, fraction=0.1))`.
#
# <details><summary>Solution to exercise 4</summary>
#
# ```python
# n_star = 8 * 1539 * 20 * 0.1 / 84     # 8 P R C / b
# print(f"n* = {n_star:.1f} examples per client")
# print(fl.exercises.check_crossover_samples(n_star, n_parameters=1539, rounds=20, example_bytes=84, fraction=0.1))
# ```
# A client now takes part in only C R of the R rounds, so its model traffic, and with it $n^*$, is ten times
# smaller than with C = 1. This is why cross-device federations, which sample a tiny share of the devices per
# round, can save bytes.
# </details>
#
# 5. **Explore.** With the sliders of section 3, find the smallest number of clients at which FedAvg and
#    distributed SGD give identical numbers, and explain it with `comparison.equal_compute_steps`.

# %% jupyter={"source_hidden": true} tags=["solution"]
# Solution to exercise 5
for k in (24, 25):
    largest = -(-800 // k)                            # ceil(800 / K) examples on the largest client
    steps = comparison.equal_compute_steps(k, rounds=20)
    print(f"{k} clients: largest client {largest} examples, distributed SGD needs {steps} steps "
          f"for 20 rounds ({steps // 20} per round)")
# From 25 clients on, every client holds at most 32 examples, one mini-batch: a FedAvg round is one step per
# client, averaged, which is exactly one step of distributed SGD. With 24 clients some hold 34: two local steps.

# %% [markdown]
# 6. **Find the bug.** This byte count for one upload of the article's model (20 → 64 → 3) is too small:
#
#    ```python
#    def upload_bytes(n_features, hidden_units, n_classes):
#        return 4 * (n_features * hidden_units + hidden_units * n_classes)
#    ```
#    Run `print(fl.exercises.check_model_upload_bytes(upload_bytes(20, 64, 3)))`, read the hint, and fix it.
#
# <details><summary>Solution to exercise 6</summary>
#
# ```python
# def upload_bytes(n_features, hidden_units, n_classes):
#     n_parameters = (n_features * hidden_units + hidden_units) + (hidden_units * n_classes + n_classes)
#     return 4 * n_parameters                              # float32: 4 bytes per parameter
#
# print(fl.exercises.check_model_upload_bytes(upload_bytes(20, 64, 3)))
# print(fl.exercises.check_model_upload_bytes(upload_bytes(64, 64, 10), n_features=64, n_classes=10))
# ```
# The kernels alone miss one bias per unit of each Dense layer (64 + 3 numbers here). Small next to the kernels,
# but a byte count that is wrong by a few percent makes every traffic comparison wrong by as much.
# </details>
#
# **Next:** [02 · Data and partitions](02_data_and_partitions.ipynb)
