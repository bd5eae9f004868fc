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
# # 08 · FAQ and applications
#
# **What you will learn**
# - how federated learning really differs from traditional distributed learning, measured on the same data
#   (accuracy, communication rounds, bytes, computation), and where the article's answer is imprecise;
# - that "the data never leaves the device" is not privacy: one update can give a training example back;
# - the article's medical example, run: hospitals that train alone, together (FedAvg), or pool their records;
# - which notebook measures each of the challenges the article lists.
#
# **Article section:** 6. 附录常见问题与解答 ("Appendix: frequently asked questions and answers"),
# its three questions and answers.
#
# **Time:** about 25 minutes, plus about 35 for the exercises · core path (notebooks 00–08).
#
# **Prerequisites:** [01 · Why federated learning](01_why_federated.ipynb) (the two baselines),
# [04 · FedAvg step by step](04_fedavg_step_by_step.ipynb), [05 · The math](05_the_math.ipynb). Symbols as in
# the [glossary](GLOSSARY.md): K clients (here hospitals), η_l the client learning rate, E local epochs, B batch
# size, α_D the Dirichlet concentration of a label skew, w the model.

# %%
# NBVAL_IGNORE_OUTPUT
import fedlearn_edu as fl
import numpy as np
import ipywidgets as widgets
from IPython.display import display
from fedlearn_edu.plots import plot_history
from fedlearn_edu.widgets import applications as app_widgets

plt = fl.style.pyplot()
fl.set_seed(42)
fl.print_versions()

# %% [markdown]
# The knobs of this notebook: the hospital study of Q2. Change one, then run this cell and every cell below it
# (in JupyterLab: *Run › Run Selected Cell and All Below*). Every value in the stated ranges runs to the end;
# the ✔/✘ lines then say which of the notebook's claims still hold.

# %% tags=["parameters"]
n_hospitals = 5                   # hospitals K in the medical study: 2 .. 20
client_learning_rate = 0.1        # client learning rate η_l of the hospitals: 0.01 .. 10.0
dirichlet_concentration = 0.5     # label skew α_D of the hospitals (small: very different): 0.1 .. 5.0
hospital_partition = "dirichlet"  # how the patients are split: one of "dirichlet", "quantity", "iid"
seed = 0                          # seed of the hospital study: 0 .. 20

# %% [markdown]
# ## Q1 · How does federated learning differ from traditional distributed learning?
#
# > **Q:** federated learning 和传统分布式学习有什么区别？
# >
# > **A:** federated learning 和传统分布式学习的主要区别在于，federated learning 在边缘设备上进行模型训练，而传统分布式学习则在服务器端进行模型训练。这使得 federated learning 可以提高数据安全性和降低通信开销。
#
# *Q: What is the difference between federated learning and traditional distributed learning?
# A: The main difference is that federated learning trains the model on edge devices, while traditional
# distributed learning trains it on the server side. This lets federated learning improve data security and
# reduce communication overhead.*
#
# Half right. Traditional distributed learning does not train "on the server": it too spreads the training
# over many machines (workers in a data centre). The differences are elsewhere:
#
# - **who owns the data**: a data centre first collects all the data and deals it out to its workers;
#   in FL the data is born on the clients and stays there;
# - **IID or not**: the data centre shuffles, so every worker sees the same distribution; a client's data
#   is its own (one hospital's patients, one person's photos), so it is non-IID and unbalanced;
# - **reliability**: workers are dedicated machines; clients drop out, and only some take part in each round;
# - **communication**: workers on a fast network synchronise after *every* mini-batch step; clients on slow
#   links cannot, so FedAvg trains for several local epochs between rounds.
#
# ### Measured: rounds and bytes to 95%
#
# Let us measure it on one data set, the handwritten digits (1437 training images, 10 classes).
# **Distributed SGD** (`fl.baselines.distributed_sgd`): 10 workers, the data shuffled by the data centre (IID),
# the gradients averaged after every step. **FedAvg**: 10 clients whose data stays put and is non-IID
# (Dirichlet label skew with concentration $\alpha_D = 0.1$: each client holds mostly a few digits),
# $E = 5$ local epochs per round. Same model, same learning rate (0.1), same batch size (32).

# %%
digits = fl.load_dataset("digits")
dsgd = fl.baselines.distributed_sgd(digits, n_workers=10, steps=150, batch_size=32, learning_rate=0.1)
fedavg = fl.run_experiment(fl.FLConfig(dataset="digits", n_clients=10, rounds=30, local_epochs=5,
                                       partition="dirichlet", alpha=0.1))
fedavg_iid = fl.run_experiment(fl.FLConfig(dataset="digits", n_clients=10, rounds=30, local_epochs=5))

# %%
runs = {"distributed SGD (IID, sync every step)": dsgd, "FedAvg, IID clients, E=5": fedavg_iid,
        "FedAvg, non-IID clients (α_D = 0.1), E=5": fedavg}
print(f"{'':42} rounds to 95%   MB to 95%   final accuracy")
for name, h in runs.items():
    print(f"{name:42} {h.rounds_to_accuracy(0.95):>12} {h.bytes_to_accuracy(0.95) / 1e6:>11.2f} "
          f"{h.final_accuracy:>16.3f}")

# %%
# extra code – test accuracy against communication rounds
ax = plot_history(list(runs.values()), labels=list(runs), title="distributed SGD and FedAvg on the digits")
ax.set_xlabel("communication round (one synchronisation each)")
ax.set_ylim(0.5, 1.0)
plt.show()

# %% [markdown]
# *Figure:* test accuracy against the communication round for distributed SGD and two FedAvg runs; both FedAvg
# curves climb to 95% in far fewer rounds than distributed SGD.
#
# Each synchronisation of distributed SGD is one step; each FedAvg round is five local epochs. So FedAvg needs
# several times fewer rounds and bytes to reach 95%, even on non-IID data, and ends as accurate. Non-IID data
# costs it rounds compared with IID clients (the subject of
# [07 · Challenges I](07_challenges.ipynb)).

# %%
fl.check(lambda: 3 * fedavg.rounds_to_accuracy(0.95) < dsgd.rounds_to_accuracy(0.95),
         "FedAvg (non-IID) needs several times fewer rounds to 95% than distributed SGD",
         measured=fedavg.rounds_to_accuracy(0.95), expected=f"< {dsgd.rounds_to_accuracy(0.95)} / 3")
fl.check(lambda: fedavg_iid.rounds_to_accuracy(0.95) < fedavg.rounds_to_accuracy(0.95),
         "non-IID data costs FedAvg rounds", measured=fedavg.rounds_to_accuracy(0.95),
         expected=f"> {fedavg_iid.rounds_to_accuracy(0.95)} (IID)")
fl.check(fedavg.final_accuracy >= 0.94 and dsgd.final_accuracy >= 0.94, "FedAvg ends as accurate (both ≥ 0.94)",
         measured=f"{fedavg.final_accuracy:.3f} and {dsgd.final_accuracy:.3f}", expected="≥ 0.94")

# %% [markdown]
# ### The price: computation
#
# FedAvg saves communication by computing more on the clients between rounds.
# Count the passes over the training data each method made before it reached 95%:

# %%
n_train = len(digits.y_train)
dsgd_epochs = dsgd.rounds_to_accuracy(0.95) * 10 * 32 / n_train      # 10 workers x 32 examples per step
fedavg_epochs = fedavg.rounds_to_accuracy(0.95) * 5                   # every client: 5 epochs per round
print(f"epochs of data processed to reach 95%: distributed SGD {dsgd_epochs:.1f}, FedAvg {fedavg_epochs:.1f}")
fl.check(fedavg_epochs > 2 * dsgd_epochs, "FedAvg processes more than twice the epochs of data",
         measured=f"{fedavg_epochs:.1f}", expected=f"> 2 × {dsgd_epochs:.1f}")

# %% [markdown]
# Computing on the device is cheap; sending over a phone network is slow and expensive. That trade, not a
# different place of training, is what FedAvg is designed around. (On IID data the two algorithms even meet:
# FedAvg with IID workers is what the distributed-training literature calls *local SGD*.)

# %% [markdown]
# ### "Reduces communication overhead": compared with what?
#
# Against distributed SGD, yes. Against uploading
# the raw data to a data centre once, not here: the digits take 0.37 MB, less than FedAvg moved.

# %%
raw_bytes = fl.baselines.raw_data_bytes(digits)
fedavg_bytes = fedavg.bytes_to_accuracy(0.95)
print(f"upload the raw data once: {raw_bytes / 1e6:.2f} MB;  FedAvg to 95%: {fedavg_bytes / 1e6:.2f} MB")
fl.check(raw_bytes < fedavg_bytes, "uploading the raw data once moves fewer bytes than FedAvg to 95%",
         measured=f"{raw_bytes / 1e6:.2f} MB", expected=f"< {fedavg_bytes / 1e6:.2f} MB")

# %% [markdown]
# With a small model and a lot of data per client (photos, video, years of keyboard logs) the balance tips the
# other way. But the real reason for FL is that raw records never leave their owner, whatever the bytes.
#
# ### Unreliable clients
#
# Clients come and go. With only half of the clients taking part in each round
# (`fraction=0.5`, a different half each time), FedAvg still gets there:

# %%
half = fl.run_experiment(fedavg.config.replace(fraction=0.5))
print(f"half of the clients per round: 95% in round {half.rounds_to_accuracy(0.95)}, "
      f"final accuracy {half.final_accuracy:.3f}")
fl.check(half.rounds_to_accuracy(0.95) is not None and half.final_accuracy >= 0.94,
         "with half of the clients per round FedAvg still reaches 95% and ends at 0.94 or more",
         measured=f"{half.final_accuracy:.3f}", expected="≥ 0.94")

# %% [markdown]
# ### "Improves data security" — not by itself
#
# The data stays on the device, but the update leaves it, and
# an update can contain the data. Take the extreme case: a client holding one example takes one gradient
# step and sends its model back. The server subtracts the model it sent and divides two numbers
# (`app_widgets.reconstruct_single_example`: for a Dense first layer,
# $\Delta W_1[:, j] / \Delta b_1[j] = x$ for any hidden unit $j$ that moved):

# %%
model = fl.build_model(digits.n_features, digits.n_classes)
trainer, sent = fl.LocalTrainer(model), fl.get_weights(model)
x_private, y_private = digits.X_train[:1], digits.y_train[:1]
returned = fl.client_update(trainer, sent, x_private, y_private, batch_size=None, client_learning_rate=0.1)
x_recovered, label_recovered = app_widgets.reconstruct_single_example(sent, returned.weights)
fl.check(label_recovered == y_private[0], "the server reads the label off the update",
         measured=label_recovered, expected=y_private[0])
fl.check(lambda: np.allclose(x_recovered, x_private[0], atol=1e-4),
         "the server reads the image off the update, to within 1e-4",
         measured=f"{np.abs(x_recovered - x_private[0]).max():.1e}", expected="≤ 1e-4")

# %%
# extra code – the client's image and what the server read off its update
fig, axes = plt.subplots(1, 2, figsize=(5, 3))
for ax, image, title in zip(axes, [x_private[0], x_recovered], ["on the client", "read off the update"]):
    ax.imshow(image.reshape(8, 8), cmap="gray_r")
    ax.set_title(title)
    ax.set(xticks=[], yticks=[], xlabel="8 pixels", ylabel="8 pixels")
fig.suptitle("one private example, and the server's copy")
plt.show()


# %% [markdown]
# *Figure:* the client's private 8×8 digit next to the image the server computed from the update; the two are
# the same picture.
#
# With bigger batches and several local steps the inversion is no longer exact, but optimisation attacks still
# recover recognisable inputs (Zhu et al. 2019, *Deep Leakage from Gradients*; Geiping et al. 2020). Privacy
# needs more on top of FL: secure aggregation (the server sees only the sum of the updates) and differential
# privacy (clipped, noised updates). That is the subject of [09 · Privacy](09_privacy_and_security.ipynb) and
# [09b · Security](09b_secure_aggregation_and_poisoning.ipynb).
#
# **The corrected answer**
#
# | | traditional distributed learning | federated learning |
# |---|---|---|
# | where training runs | many workers in a data centre | many clients (phones, hospitals) |
# | who holds the data | the operator, after collecting it | each client, its own |
# | data across machines | shuffled, IID, balanced | non-IID, unbalanced |
# | machines | dedicated, reliable | come and go; a fraction per round |
# | synchronisation | every step (fast network) | every few local epochs (slow links) |
# | privacy | data is centralised | raw data stays, but updates leak without secure aggregation / DP |

# %% [markdown]
# ## Q2 · What are the applications?
#
# > **Q:** federated learning 有哪些应用场景？
# >
# > **A:** federated learning 可以应用于各种数据敏感性和通信开销高的场景，比如医疗诊断、金融风险评估、人脸识别等。
#
# *Q: What applications does federated learning have? A: Any setting where the data is sensitive and
# communication is expensive, such as medical diagnosis, financial risk assessment and face recognition.*
#
# We run the first one. The Wisconsin breast-cancer data (569 patients, 30 features of a cell sample,
# malignant or benign) is split across **5 hospitals** with label skew (Dirichlet concentration
# $\alpha_D = 0.5$: some hospitals see mostly one diagnosis) and unequal sizes. This is
# [**cross-silo**](GLOSSARY.md) FL: a few large, reliable clients (hospitals, banks), usually all of them in every
# round; its opposite, **cross-device** FL, has many small, unreliable clients (phones), only a fraction $C$ of
# them per round. Three ways to learn, judged on the same held-out patients:
#
# 1. **alone**: each hospital trains on its own patients only (20 epochs);
# 2. **FedAvg**: the hospitals train together, 20 rounds of one local epoch; no record leaves its hospital;
# 3. **pooled**: all records in one place (20 epochs), the upper reference that privacy rules usually forbid.
#
# The callback `app_widgets.show_hospital_study` does all three (`compute_hospital_study` returns the numbers
# without drawing). Sliders: the number of hospitals $K$, the client learning rate $\eta_l$ (log scale), the
# Dirichlet concentration $\alpha_D$ (small: very different hospitals), how the patients are split, and the
# seed. A slider acts when you release it. Presets: IID hospitals, very different hospitals, many small ones,
# sizes that differ, a too-large and a too-small learning rate, another seed; *reset* returns to the notebook's
# settings.

# %%
controls = dict(
    n_hospitals=fl.widgets.client_slider(n_hospitals, min=2, max=20, description="hospitals K"),
    client_learning_rate=fl.widgets.log_value_slider(client_learning_rate, 0.01, 10.0, "client learning rate η_l"),
    alpha=fl.widgets.log_value_slider(dirichlet_concentration, 0.1, 5.0, "Dirichlet concentration α_D"),
    partition=widgets.Dropdown(options=app_widgets.HOSPITAL_PARTITIONS, value=hospital_partition,
                               description="split"),
    seed=fl.widgets.int_slider(seed, 0, 20, "seed"))
display(fl.widgets.ControlPanel(app_widgets.show_hospital_study, controls, presets=app_widgets.PRESETS,
                                run_now=False))

# %% [markdown]
# The panel draws when you move a slider. The notebook's setting (the parameters cell), as a plain cell; the
# numbers under each bar are that hospital's malignant/benign patients.

# %%
study = app_widgets.show_hospital_study(n_hospitals, client_learning_rate, dirichlet_concentration,
                                        partition=hospital_partition, seed=seed)

# %% [markdown]
# *Figure:* test accuracy of each hospital trained alone (bars), against FedAvg across the hospitals and all
# records pooled (lines); the lone hospitals that saw mostly one diagnosis fall far below the FedAvg line.

# %%
fl.check(study.fedavg_accuracy >= study.mean_lone_accuracy + 0.05, "FedAvg beats the average lone hospital",
         measured=f"{study.fedavg_accuracy:.3f}", expected=f"≥ {study.mean_lone_accuracy:.3f} + 0.05")
fl.check(study.fedavg_accuracy >= study.worst_lone_accuracy + 0.2, "the worst-off hospital gains most",
         measured=f"{study.fedavg_accuracy:.3f}", expected=f"≥ {study.worst_lone_accuracy:.3f} + 0.2")
fl.check(study.fedavg_accuracy >= study.pooled_accuracy - 0.03, "FedAvg comes close to pooling",
         measured=f"{study.fedavg_accuracy:.3f}", expected=f"≥ {study.pooled_accuracy:.3f} - 0.03")

# %% [markdown]
# ### Quantity skew
#
# Hospitals whose patients are mostly of one kind cannot learn the other kind alone. Together they reach what
# pooling reaches, without pooling. With **quantity skew** instead (every hospital has the usual mix of
# diagnoses, but sizes differ a lot), the gains are smaller, and they go to the small hospitals:

# %%
sizes_study = app_widgets.compute_hospital_study(n_hospitals, client_learning_rate, alpha=0.5,
                                                 partition="quantity", seed=seed)
gains = sizes_study.fedavg_accuracy - sizes_study.lone_accuracy
for size, lone, gain in zip(sizes_study.hospital_sizes, sizes_study.lone_accuracy, gains):
    print(f"hospital with {size:>3} patients: alone {lone:.3f}, with FedAvg {sizes_study.fedavg_accuracy:.3f} "
          f"(gain {gain:+.3f})")

# %%
biggest_gain_size = sizes_study.hospital_sizes[np.argmax(gains)]
fl.check(gains.min() >= -0.01, "no hospital does better alone", measured=f"{gains.min():+.3f}", expected="≥ -0.01")
fl.check(biggest_gain_size < 0.1 * sizes_study.hospital_sizes.sum(), "the biggest gain is at a small hospital",
         measured=int(biggest_gain_size), expected=f"< 10% of {int(sizes_study.hospital_sizes.sum())} patients")
fl.check(sizes_study.fedavg_accuracy >= sizes_study.pooled_accuracy - 0.03, "FedAvg comes close to pooling",
         measured=f"{sizes_study.fedavg_accuracy:.3f}", expected=f"≥ {sizes_study.pooled_accuracy:.3f} - 0.03")

# %% [markdown]
# Two simplifications to keep in mind: every hospital was standardised with the statistics of the whole
# training set (a real federation would compute them with a secure sum, or standardise locally), and all models
# were judged on one shared test set (real hospitals would each evaluate on their own patients).
#
# **The other applications the article names**
#
# - **Financial risk assessment**: banks (or a bank and an online shop) would like to score credit or fraud risk
#   on more customers than any one of them holds, and may not share records. Also cross-silo; when the parties
#   hold *different features* of the *same* customers it is *vertical* FL, a different protocol from FedAvg.
# - **Face recognition**: cross-device FL on phones. Hard in a way the hospitals are not: each phone holds faces
#   of very few people, so a client's data is as non-IID as it gets, and the faces themselves are the most
#   sensitive data there is (see the reconstruction above).
# - Not in the article, but the best-known deployment: next-word prediction on mobile keyboards (Hard et al. 2018).

# %% [markdown]
# ## Q3 · What are the challenges?
#
# > **Q:** federated learning 有哪些挑战？
# >
# > **A:** federated learning 仍然存在一些挑战，比如模型收敛性、通信开销、设备资源有限等。未来，我们可以期待 federated learning 技术的不断发展和完善，以解决这些挑战，并且为人工智能领域的发展做出贡献。
#
# *Q: What challenges does federated learning face? A: Model convergence, communication overhead, limited
# device resources, and so on; we can expect the technology to keep improving.*
#
# | challenge | what it means | where it is measured |
# |---|---|---|
# | 模型收敛性 model convergence | non-IID clients pull the model different ways (client drift); more rounds, lower accuracy, possible divergence | [07 · Challenges I](07_challenges.ipynb); [11 · Non-IID algorithms](11_non_iid_algorithms.ipynb); server momentum in [05 · The math](05_the_math.ipynb); the splits in [02 · Data and partitions](02_data_and_partitions.ipynb) |
# | 通信开销 communication overhead | every round moves the whole model down and up, per client | [07b · Challenges II](07b_communication_and_devices.ipynb); [12 · Communication cost](12_communication_cost.ipynb); Q1 above; [01 · Why federated learning](01_why_federated.ipynb) |
# | 设备资源有限 limited device resources | small memory, battery, CPU: fewer local steps, smaller models, clients that drop out | [07b · Challenges II](07b_communication_and_devices.ipynb); [13 · Devices and deadlines](13_devices_and_deadlines.ipynb); partial participation in Q1 above |
# | privacy and security (not in the article's list) | updates leak data; malicious clients can poison the model | Q1 above; [09 · Privacy](09_privacy_and_security.ipynb); [09b · Security](09b_secure_aggregation_and_poisoning.ipynb) |
# | fairness (not in the article's list) | the global model can serve some clients worse than others | exercise 4 below |

# %% [markdown]
# ## Summary
# - Distributed learning also trains on many machines; what sets FL apart is that the data stays with its
#   owners, is non-IID and unbalanced, the clients are unreliable, and communication is the bottleneck.
# - Measured on the digits: FedAvg (5 local epochs, non-IID) needs several times fewer communication rounds
#   than distributed SGD that synchronises every step, at the price of more local computation; uploading the
#   raw data once would have moved fewer bytes still.
# - FL alone is not privacy: a one-example update gave the example back exactly. Secure aggregation and
#   differential privacy are needed on top.
# - Hospitals on breast-cancer data: FedAvg beats the average hospital training alone and comes within a few
#   points of pooling every record, with most gain for the hospitals with skewed or few patients.
#
# ## Exercises
#
# From predicting to writing code, easiest first. Each has a collapsed solution; the checkers say what is wrong,
# not only that something is.
#
# 1. **Predict, then run.** With half of the clients per round, the non-IID FedAvg run above reached 95% in the
#    round printed under "Unreliable clients". With only 3 of the 10 clients per round (`fraction=0.3`), in which
#    round does it reach 95%? Write your guess, then run.

# %%
guess_round_95 = None   # your guess: first round at 95% with fraction=0.3, e.g. 12

# %%
few = fl.run_experiment(fedavg.config.replace(fraction=0.3), progress=False)
print(f"3 clients per round: 95% in round {few.rounds_to_accuracy(0.95)} (5 per round: "
      f"{half.rounds_to_accuracy(0.95)}, all 10: {fedavg.rounds_to_accuracy(0.95)})")
print(fl.exercises.check_prediction(guess_round_95, few.rounds_to_accuracy(0.95), tolerance=0.2,
                                    what="the first round at 95% with 3 clients per round"))

# %% [markdown]
# <details><summary>Solution to exercise 1</summary>
#
# Later than with 5 clients per round. With $\alpha_D = 0.1$ each client holds few digits, so a round of 3 clients
# sees only part of the classes, and its average pulls the model towards them; it takes more rounds for every
# class to be seen often enough. Fewer clients per round also means fewer bytes per round: the trade of
# notebook 07b.
# </details>
#
# 2. **Explore.** A fairer race: give distributed SGD as much computation as FedAvg used (as many epochs of data
#    as FedAvg processed to reach 95%, printed above). Which reaches 95% with fewer *bytes*? With fewer epochs?
#    *Hint:* a step of 10 workers processes 10 × 32 examples.

# %% jupyter={"source_hidden": true} tags=["solution"]
# Solution to exercise 2
fair_steps = int(np.ceil(fedavg_epochs * n_train / (10 * 32)))
fair = fl.baselines.distributed_sgd(digits, n_workers=10, steps=fair_steps, batch_size=32, learning_rate=0.1)
print(f"distributed SGD, {fair_steps} steps: 95% at step {fair.rounds_to_accuracy(0.95)} "
      f"({fair.rounds_to_accuracy(0.95) * 10 * 32 / n_train:.1f} epochs), "
      f"{fair.bytes_to_accuracy(0.95) / 1e6:.2f} MB; FedAvg {fedavg_epochs:.0f} epochs, {fedavg_bytes / 1e6:.2f} MB")

# %% [markdown]
# More steps do not make distributed SGD get there sooner: it reaches 95% at the same step as before, with far
# fewer epochs than FedAvg but several times its bytes. The race has two prices, computation and communication;
# FedAvg pays in the cheap one.
#
# 3. **Explore.** Break the attack: repeat the reconstruction with a client holding 2 examples
#    (`digits.X_train[:2]`). What does `reconstruct_single_example` return now? *Hint:*
#    $\Delta W_1[:, j]/\Delta b_1[j]$ becomes a weighted mix of the two images.

# %% jupyter={"source_hidden": true} tags=["solution"]
# Solution to exercise 3
returned2 = fl.client_update(trainer, sent, digits.X_train[:2], digits.y_train[:2],
                             batch_size=None, client_learning_rate=0.1)
x_mix, _ = app_widgets.reconstruct_single_example(sent, returned2.weights)
x0, x1 = digits.X_train[0], digits.X_train[1]
c = float(np.linalg.lstsq((x0 - x1)[:, None], x_mix - x1, rcond=None)[0][0])
print(f"x_mix = {c:.3f} x_0 + {1 - c:.3f} x_1, up to {np.abs(x_mix - (c * x0 + (1 - c) * x1)).max():.1e}")

# %% [markdown]
# The returned "image" is exactly a weighted mix $c\,x_0 + (1 - c)\,x_1$ of the two private images (the weights
# depend on the hidden unit). Two examples blur the attack but do not stop it: the mix shows both digits, and an
# attacker who tries several units gets several mixes to separate them (notebook 09).
#
# 4. **Explore.** Fairness and personalisation: in the default hospital study, which hospital does the FedAvg
#    model serve worst *on its own patients*? Fine-tune the FedAvg model for 5 epochs on that hospital's data
#    (`fl.client_update` with `epochs=5`) and evaluate again. *Hint:* the hospitals' data sets are
#    `app_widgets.hospital_datasets(fl.Simulation(study.fedavg_history.config,
#    dataset=fl.load_dataset("breast_cancer")))`.

# %% jupyter={"source_hidden": true} tags=["solution"]
# Solution to exercise 4
hospital_data = app_widgets.hospital_datasets(fl.Simulation(study.fedavg_history.config,
                                                            dataset=fl.load_dataset("breast_cancer")))
judge = fl.LocalTrainer(fl.build_model(hospital_data[0].n_features, hospital_data[0].n_classes))
shared = study.fedavg_history.final_weights
own = [judge.evaluate(shared, h.X_train, h.y_train)[1] for h in hospital_data]
worst = hospital_data[int(np.argmin(own))]
tuned = fl.client_update(judge, shared, worst.X_train, worst.y_train, epochs=5).weights
print(f"on their own patients: {np.round(own, 3)}; hospital {int(np.argmin(own))} after fine-tuning "
      f"{judge.evaluate(tuned, worst.X_train, worst.y_train)[1]:.3f}, on the shared test set "
      f"{judge.evaluate(tuned, worst.X_test, worst.y_test)[1]:.3f} (FedAvg {study.fedavg_accuracy:.3f})")

# %% [markdown]
# Fine-tuning lifts the worst-served hospital on its own patients, and costs a little on everyone's patients:
# the model moves towards that hospital's mix. Personalisation trades the shared model's fairness for each
# client's fit. (Its own patients are here its training rows; a real study would hold some of them out.)
#
# 5. **Explore.** Many small hospitals: run `app_widgets.compute_hospital_study(n_hospitals=20,
#    client_learning_rate=0.1, alpha=0.1)`. Which gains more from federating, the average hospital or the worst
#    one?

# %% jupyter={"source_hidden": true} tags=["solution"]
# Solution to exercise 5
many = app_widgets.compute_hospital_study(n_hospitals=20, client_learning_rate=0.1, alpha=0.1)
print(f"alone: mean {many.mean_lone_accuracy:.3f}, worst {many.worst_lone_accuracy:.3f}; "
      f"FedAvg {many.fedavg_accuracy:.3f}")

# %% [markdown]
# The worst one, by far: a small hospital with patients of mostly one diagnosis learns almost nothing alone, and
# federating gives it the same model as everyone. The average hospital gains less, because many of them already
# did well alone.
#
# 6. **Find the bug.** This server tries to read the single example back from a client's update, but it returns
#    nonsense:
#
#    ```python
#    def reconstruct(weights_before, weights_after):
#        W1, b1 = weights_after[0], weights_after[1]
#        j = int(np.argmax(np.abs(b1)))
#        return W1[:, j] / b1[j]
#    ```
#    Run `print(fl.exercises.check_reconstruction(reconstruct))`, read the hint, and fix it.
#
# <details><summary>Solution to exercise 6</summary>
#
# ```python
# def reconstruct(weights_before, weights_after):
#     dW1 = weights_after[0] - weights_before[0]
#     db1 = weights_after[1] - weights_before[1]
#     j = int(np.argmax(np.abs(db1)))              # a unit that fired: its bias moved
#     return dW1[:, j] / db1[j]
#
# print(fl.exercises.check_reconstruction(reconstruct))
# ```
# The attack divides the *changes*: $\Delta W_1[:, j] = -\eta\,x\,\delta_j$ and $\Delta b_1[j] = -\eta\,\delta_j$,
# so their ratio is $x$. The weights themselves are mostly the initial random values; and the unit must be one
# whose bias moved, or the ratio is 0 / 0.
# </details>
#
# 7. **Implement the variant.** Extend `reconstruct` to return the label too, as `(x, label)`: the output bias
#    $b_2$ rises only for the true class. Check it with `print(fl.exercises.check_reconstruction(reconstruct))`.
#
# <details><summary>Solution to exercise 7</summary>
#
# ```python
# def reconstruct(weights_before, weights_after):
#     dW1 = weights_after[0] - weights_before[0]
#     db1 = weights_after[1] - weights_before[1]
#     j = int(np.argmax(np.abs(db1)))
#     label = int(np.argmax(weights_after[3] - weights_before[3]))   # only the true class's bias goes up
#     return dW1[:, j] / db1[j], label
#
# print(fl.exercises.check_reconstruction(reconstruct))
# ```
# The output bias changes by $-\eta\,(p - \mathrm{onehot}(y))$: every class with $p_c > 0$ goes down except the
# true one, whose $1 - p_y > 0$ makes it go up. The argmax of $\Delta b_2$ is the label.
# </details>
#
# **Next:** [09 · Privacy](09_privacy_and_security.ipynb) puts the article's claim that federated
# learning "improves data security" to the test: this notebook's one-example attack is where it starts.
