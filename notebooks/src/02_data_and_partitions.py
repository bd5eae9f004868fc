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
# # 02 · Data and partitions
#
# **What you will learn**
# - why the article's `make_classification` call raises `ValueError`, and the one-argument fix;
# - what the 20 features of the article's data are (2 informative, 10 redundant, 8 noise);
# - how to split into training and test data correctly: stratified, and standardised with statistics of the
#   training part only;
# - four ways to spread data over clients (IID, Dirichlet label skew, shards, quantity skew) and how to
#   measure how non-IID a split is;
# - whether the split changes what FedAvg learns on this data.
#
# **Article section:** 4.1 数据准备 ("Data preparation").
#
# **Time:** about 25 minutes, plus about 45 for the exercises · core path (notebooks 00–08).
#
# **Prerequisites:** [01 · Why federated learning](01_why_federated.ipynb). Symbols as in the
# [glossary](GLOSSARY.md): K clients, n_k examples on client k (n = Σ n_k), α_D the Dirichlet concentration,
# η_l the client learning rate.

# %%
# NBVAL_IGNORE_OUTPUT
import fedlearn_edu as fl
import numpy as np
import matplotlib.pyplot as plt
from IPython.display import display
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler
from fedlearn_edu.widgets import partitions

fl.set_seed(42)
fl.print_versions()

# %% [markdown]
# The knobs of this notebook. Change one, then run this cell and every cell below it (in JupyterLab: *Run ›
# Run Selected Cell and All Below*). Every value in the stated ranges runs to the end; the ✔/✘ lines then say
# which of the notebook's claims still hold.

# %% tags=["parameters"]
n_clients = 10                  # clients K: 2 .. 100
scheme = "dirichlet"            # how the data are spread: one of "iid", "dirichlet", "shards", "quantity"
dirichlet_concentration = 0.5   # label skew α_D (small: very different clients): 0.01 .. 1000.0
client_learning_rate = 0.1      # client learning rate η_l: 0.001 .. 10.0
seed = 0                        # seed of the split and of the training run: 0 .. 20

# %% [markdown]
# ## 1 · The article's code fails
#
# Section 4.1 of the article generates its data with scikit-learn:
#
# ```python
# from sklearn.datasets import make_classification
# X, y = make_classification(n_samples=1000, n_features=20, n_informative=2, n_redundant=10, n_classes=3, random_state=42)
# ```
#
# `fl.data.article_make_classification()` runs exactly this call. We catch the error and print its message.

# %%
try:
    fl.data.article_make_classification()
except ValueError as error:
    print("ValueError:", error)

# %% [markdown]
# **Why.** `make_classification` places every *cluster* of points around one corner of a hypercube
# in the space of the informative features. With `n_informative=2` that is a square: 2² = 4 corners.
# Each class gets `n_clusters_per_class` clusters, **2 by default**, so 3 classes need 3 × 2 = 6 corners.
# Six clusters do not fit on four corners.

# %%
n_classes, n_informative = 3, 2
corners = 2 ** n_informative
print(f"{corners} corners; default needs {n_classes * 2} clusters, the fix needs {n_classes * 1}")
fl.check(n_classes * 2 > corners, "the article's call needs more clusters than there are corners",
         measured=n_classes * 2, expected=f"> {corners}")
fl.check(n_classes * 1 <= corners, "one cluster per class fits", measured=n_classes, expected=f"<= {corners}")

# %% [markdown]
# **The fix** keeps every argument of the article and adds `n_clusters_per_class=1`.
# `fl.make_seed_arrays()` is that call.

# %%
X, y = fl.make_seed_arrays()
print("X:", X.shape, "y:", y.shape, "examples per class:", np.bincount(y))

# %% [markdown]
# ## 2 · What the 20 features are
#
# `make_classification` creates 2 informative features, 10 *redundant* ones (random linear combinations
# of the informative ones) and 8 features of pure noise, then shuffles the columns.
# `partitions.feature_roles` finds which column is which.

# %%
roles = partitions.feature_roles(X)
for role, columns in roles.items():
    print(f"{role:<12} columns {sorted(columns.tolist())}")
signal = np.concatenate([roles["informative"], roles["redundant"]])
rank = np.linalg.matrix_rank(X[:, signal])
fl.check(rank == 2, "12 columns carry the class, but they have only 2 independent directions",
         measured=int(rank), expected=2)

# %% [markdown]
# So the 12 columns that carry the class span a plane: the whole signal is 2-dimensional, and the
# classes can be drawn in it. Look at how the three clouds overlap; `make_classification` also flips
# 1% of the labels at random (`flip_y=0.01`). No model can be perfect on these data, which is why the
# test accuracies in notebook 01 stop near 0.89.

# %%
# extra code – the two informative features, one colour per class
ax = partitions.plot_informative_features(X, y, roles["informative"])
ax.set_title("the article's data in its two informative features")
plt.show()

# %% [markdown]
# *Figure:* the 1000 examples in the plane of the two informative features, one colour per class; the three
# clouds overlap at their edges.

# %% [markdown]
# ## 3 · Split, then standardise with the training part only
#
# A **stratified** split keeps the class proportions the same in the training and the test part
# (20% of the examples are held out for testing).

# %%
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=0, stratify=y)
train_share = np.bincount(y_train) / len(y_train)
test_share = np.bincount(y_test) / len(y_test)
print("class shares, train:", np.round(train_share, 3), " test:", np.round(test_share, 3))

# %% [markdown]
# Standardising (subtract the mean, divide by the standard deviation) helps SGD. The mean and the
# standard deviation must come from the **training part only**. If they are computed from all the data,
# the test set leaks into training: what the model is trained on then depends on the test examples.
# We check this directly: replace the test set by a different one and see whether the training inputs change.

# %%
proper = StandardScaler().fit(X_train)                         # statistics of the training part
leaky = StandardScaler().fit(np.vstack([X_train, X_test]))     # statistics of all the data
other_test = X_test + 3.0                                      # a different test set
leaky_other = StandardScaler().fit(np.vstack([X_train, other_test]))
moved = np.abs(leaky.transform(X_train) - leaky_other.transform(X_train)).max()
print(f"training inputs moved by up to {moved:.3f} when only the test set changed (leaky scaler)")
fl.check(np.abs(train_share - test_share).max() < 0.01, "a stratified split keeps the class shares (within 0.01)",
         measured=float(np.abs(train_share - test_share).max()), expected="< 0.01")
fl.check(moved > 0.5, "with the leaky scaler the training inputs depend on the test set", measured=round(moved, 3),
         expected="> 0.5")

# %% [markdown]
# With `proper`, the test set plays no part in training, whatever it holds. `fl.make_seed_dataset()`
# (which `fl.load_dataset("article")` calls) does exactly this: stratified 80/20 split, scaler fitted on
# the training part.

# %%
data = fl.make_seed_dataset()
print(data)

# %% [markdown]
# *A federated footnote:* in a real federation nobody holds all the training data, so even the scaler
# has to be computed federatedly (each client sends its count, sum and sum of squares; the server adds
# them up). This kit standardises in one place to keep the simulation simple.

# %% [markdown]
# ## 4 · Spreading the data over clients
#
# In federated learning each client keeps its own data. How the 800 training examples are spread
# decides how hard the problem is. The kit offers four schemes (`fl.make_partition`):
#
# | scheme | how | what it models |
# |---|---|---|
# | `"iid"` | shuffle and deal equal parts | the ideal: every client looks like the whole |
# | `"dirichlet"` | each class is split over the clients in proportions p ~ Dir(α_D) | label skew: a hospital with mostly one disease |
# | `"shards"` | sort by label, cut into 2K shards, give each client 2 (McMahan et al. 2017) | pathological label skew: mostly 1–2 classes per client |
# | `"quantity"` | labels IID, but client sizes proportional to q ~ Dir(α_D) | a few heavy users and many light ones |
#
# The **Dirichlet concentration α_D** sets the skew: small α_D means strong skew, large α_D approaches an even
# split. Here is one Dirichlet split of K = 10 clients with α_D = 0.5 (the parameters `n_clients`,
# `dirichlet_concentration` and `seed`): `counts[k, c]` is the number of examples of class c on client k.

# %%
parts = fl.make_partition(data.y_train, n_clients, "dirichlet", alpha=dirichlet_concentration, seed=seed)
counts = fl.label_distribution(data.y_train, parts, 3)
print(counts)
print(f"non-IID score {fl.non_iid_score(counts):.3f}")

# %% [markdown]
# The same matrix as a heatmap: each row is a client, darker is more examples.

# %%
fl.plots.plot_label_distribution(counts, title="labels per client: a Dirichlet split")
plt.show()

# %% [markdown]
# *Figure:* a heatmap of examples per class (columns) and client (rows); most clients are dark in one or two
# classes and pale in the rest.

# %% [markdown]
# The **Jensen–Shannon distance** between two distributions p and q is the square root of the mean of the
# Kullback–Leibler divergences of p and of q from their average (p + q) / 2: 0 when p = q, 1 when they share no
# class (base-2 logarithms; see the [glossary](GLOSSARY.md)). The **non-IID score** is the Jensen–Shannon distance
# between each client's label distribution and the global one, averaged with weights n_k / n: 0 when every client has the global mix, larger the more the
# mixes differ. It never reaches 1, because every client's mix overlaps the global one: the most extreme
# split of 3 balanced classes, one class per client, scores about 0.68.

# %%
one_class_each = np.diag([267, 267, 266])       # 3 clients, each holding a single class
extreme = fl.non_iid_score(one_class_each)
print(f"one class per client: score {extreme:.3f}")
fl.check(0.6 < extreme < 0.7, "one class per client scores about 0.68, not 1", measured=round(extreme, 3),
         expected="between 0.6 and 0.7")

# %% [markdown]
# ## 5 · The four schemes side by side
#
# The four schemes with K = 10 clients (and α_D = 0.5 for the two Dirichlet ones):

# %%
results = partitions.plot_schemes(n_clients=n_clients, alpha=dirichlet_concentration, seed=seed)
plt.gcf().suptitle("labels per client, four ways to split")
plt.show()
for r in results:
    print(r)

# %% [markdown]
# *Figure:* four heatmaps of examples per class and client; the IID and quantity-skew splits look even across
# classes, the Dirichlet split and the shards put most of a client's examples in one or two classes.
#
# Note that the IID split does not score exactly 0: 80 examples drawn at random never have exactly
# the global class mix. The smaller the clients, the larger this sampling noise. The ✔ lines check what the
# heatmaps show, and this noise with 100 clients of 8 examples.

# %%
iid, dirichlet, shards, quantity = results
iid_100 = partitions.compute_partition(n_clients=100, scheme="iid", seed=seed)
print(f"IID score with {n_clients} clients: {iid.score:.3f}; with 100 clients of 8: {iid_100.score:.3f}")
fl.check(lambda: iid.score < 0.1 and (iid.classes_per_client == 3).all(), "IID: every client holds all 3 classes, score near 0")
fl.check(lambda: dirichlet.score > 0.3 and shards.score > 0.4 and shards.classes_per_client.max() <= 2,
         "Dirichlet and shards are strongly skewed; shards give each client at most 2 classes",
         measured=(round(dirichlet.score, 3), round(shards.score, 3)))
fl.check(lambda: quantity.score < 0.1 and quantity.sizes.max() > 10 * quantity.sizes.min(),
         "quantity skew: label mix near IID, sizes very unequal", measured=(int(quantity.sizes.min()), int(quantity.sizes.max())))
fl.check(iid_100.score > 2 * iid.score, "smaller clients, more sampling noise: 100 clients score over twice as high",
         measured=round(iid_100.score, 3), expected=f"> {2 * iid.score:.3f}")

# %% [markdown]
# ## 6 · How α_D controls the skew
#
# The score of Dirichlet splits of K clients for α_D from 0.01 to 1000, averaged over 5 seeds (the band shows the
# smallest and the largest of the 5). The dotted line is the IID split, the dashed line the shards.

# %%
curve = partitions.show_score_vs_alpha(n_clients=n_clients)
print(curve)

# %% [markdown]
# *Figure:* the non-IID score against α_D on a log scale; the Dirichlet curve falls from near the shards' line at
# α_D = 0.01 to below the IID line at α_D = 1000.

# %%
fl.check(lambda: np.all(np.diff(curve.mean) < 0), "the score falls as α_D grows")
fl.check(lambda: curve.mean[0] > 0.6 and curve.mean[-1] < 0.05, "α_D = 0.01: strong skew; α_D = 1000: almost none",
         measured=(round(float(curve.mean[0]), 3), round(float(curve.mean[-1]), 3)))
fl.check(curve.iid < 0.1, "an IID split scores near 0", measured=round(curve.iid, 3), expected="< 0.1")
fl.check(lambda: curve.mean[-1] < curve.iid, "a very large α_D splits every class evenly: even closer to the global mix")

# %% [markdown]
# ## 7 · Try it: clients, split and α_D
#
# Choose a split and move the sliders (a slider acts when you release it; the busy line says when the panel is
# drawing). The presets show an IID baseline, extreme label skew, nearly IID data, McMahan et al.'s shards,
# quantity skew, small clients and another seed; *reset* returns to the notebook's parameters. Things to look for:
# with shards most clients hold one or two classes (a shard that straddles a class boundary can bring a third);
# with quantity skew and small α_D a few clients hold most of the data; with more clients the IID score rises
# (smaller clients, more sampling noise).

# %%
controls = dict(n_clients=fl.widgets.client_slider(n_clients, min=2, max=100),
                scheme=partitions.scheme_dropdown(scheme),
                alpha=fl.widgets.log_value_slider(dirichlet_concentration, 0.01, 1000.0, "Dirichlet concentration α_D"),
                seed=fl.widgets.int_slider(seed, 0, 20, "seed"))
display(fl.widgets.ControlPanel(partitions.show_partition, controls, presets=partitions.PRESETS, run_now=False))

# %% [markdown]
# The panel draws when you move a slider. At the notebook's parameters it shows the split of section 4
# (its counts are printed there), with the client sizes beside it:

# %%
default = partitions.show_partition(n_clients, scheme, dirichlet_concentration, seed, show_summary=False)
fl.check(lambda: np.array_equal(default.counts, counts) and default.score == fl.non_iid_score(counts),
         "the panel at the notebook's parameters is the Dirichlet split of section 4", measured=default.scheme)

# %% [markdown]
# *Figure:* left, the heatmap of section 4 (examples per class and client); right, each client's size as a bar
# split by class, so a client's share of the data and its label mix show at once.

# %% [markdown]
# ## 8 · Does the split matter for FedAvg here?
#
# Train FedAvg for 10 rounds on the split you choose; the same run on an IID split is drawn for reference.
# The client learning rate η_l is a slider too: try 0.1, then 1. Presets: the IID baseline, extreme label skew,
# shards, big local steps on skewed data, a too-large learning rate and another seed.

# %%
training_controls = dict(n_clients=fl.widgets.client_slider(n_clients, min=2, max=100),
                         scheme=partitions.scheme_dropdown(scheme),
                         alpha=fl.widgets.log_value_slider(dirichlet_concentration, 0.01, 1000.0,
                                                           "Dirichlet concentration α_D"),
                         client_learning_rate=fl.widgets.log_value_slider(client_learning_rate, 0.001, 10.0,
                                                                          "client learning rate η_l"),
                         seed=fl.widgets.int_slider(seed, 0, 20, "seed"))
display(fl.widgets.ControlPanel(partitions.show_fedavg_on_partition, training_controls,
                                presets=partitions.TRAINING_PRESETS, run_now=False))

# %% [markdown]
# The panel draws when you move a slider; at the notebook's parameters (Dirichlet, α_D = 0.5, 10 clients,
# η_l = 0.1) it shows:

# %%
trained = partitions.show_fedavg_on_partition(n_clients, scheme, dirichlet_concentration, client_learning_rate,
                                              seed=seed)

# %% [markdown]
# *Figure:* test accuracy against the round for FedAvg on the chosen split and on an IID split; the two curves
# end within 0.05 of each other.
#
# On this easy data set, at a moderate learning rate, label skew costs little. It starts to cost when the
# clients take big local steps: each client then moves its model far towards its own classes before
# the server averages. We compare strong skew (α_D = 0.1) with IID at learning rates 0.1 and 1, averaged over
# 3 seeds, on 10 clients.

# %%
def mean_gap(learning_rate, seeds=(0, 1, 2)):
    return np.mean([partitions.compute_fedavg_on_partition(10, "dirichlet", 0.1, learning_rate, seed=s).gap
                    for s in seeds])

gap_small, gap_large = mean_gap(0.1), mean_gap(1.0)
print(f"accuracy lost to label skew: {gap_small:.3f} at learning rate 0.1, {gap_large:.3f} at learning rate 1")
fl.check(lambda: trained.accuracy >= 0.83 and trained.gap < 0.05,
         "at the parameters FedAvg reaches 83% and loses less than 0.05 to the skew",
         measured=(round(trained.accuracy, 3), round(trained.gap, 3)))
fl.check(gap_small < 0.03 and gap_large > 0.03 and gap_large > 2 * gap_small,
         "label skew costs little at learning rate 0.1 and more than twice as much at 1",
         measured=(round(gap_small, 3), round(gap_large, 3)))

# %% [markdown]
# Notebook 07 measures this on harder problems, where non-IID data slows FedAvg down much more.

# %% [markdown]
# ## Summary
# - The article's `make_classification` call raises `ValueError`: 3 classes × 2 clusters per class need 6
#   corners, but 2 informative features give 2² = 4. Adding `n_clusters_per_class=1` fixes it.
# - The 20 features are 2 informative, 10 redundant (linear combinations of those 2) and 8 noise: the signal is 2-D.
# - Split stratified, and fit the scaler on the training part only; otherwise the test set leaks into training.
# - `fl.make_partition` spreads the data as IID, Dirichlet label skew, shards or quantity skew;
#   `fl.label_distribution` counts labels per client and `fl.non_iid_score` summarises them
#   (0 = the global mix; about 0.68 for one class per client with 3 classes).
# - The score falls steadily as α_D grows; an IID split scores near 0, but not exactly 0 (sampling noise).
# - On this data, FedAvg copes with label skew at learning rate 0.1; at learning rate 1 the skew costs accuracy.
#
# ## Exercises
# They go from predicting to writing a partition of your own. Each has a collapsed solution; the checkers say what
# is wrong, not only that something is.
#
# 1. **Predict, then run.** With shards, each client gets 2 shards of sorted labels, so at most 2 classes. Give
#    each client 3 shards instead (`shards_per_client=3`): what non-IID score do you expect for 10 clients? Write
#    your guess below, then run the experiment.

# %%
guess_shards_score = None   # your guess: a score between 0 and 0.68, e.g. 0.4

# %%
shard_scores = {}
for per_client in (2, 3):
    shard_parts = fl.make_partition(data.y_train, 10, "shards", shards_per_client=per_client, seed=0)
    shard_counts = fl.label_distribution(data.y_train, shard_parts, 3)
    shard_scores[per_client] = fl.non_iid_score(shard_counts)
    print(f"{per_client} shards per client: classes per client {(shard_counts > 0).sum(axis=1).tolist()}, "
          f"score {shard_scores[per_client]:.3f}")
print(fl.exercises.check_prediction(guess_shards_score, shard_scores[3], tolerance=0.2,
                                    what="the non-IID score with 3 shards per client"))

# %% [markdown]
# <details><summary>Solution to exercise 1</summary>
#
# The score falls, but stays far above an IID split. A third shard can bring a third class, so some clients now
# hold all three, and the others hold two classes in less lopsided amounts; every mix moves towards the global
# one. Shards are still strongly non-IID: with only 3 classes, a client with 3 shards can still have most of its
# examples from one class.
# </details>
#
# 2. **Predict, then run.** Which Dirichlet concentration gives the more skewed (more non-IID) split of 10 clients:
#    α_D = 0.1 or α_D = 10? Write it below, then run the cell after it: it measures both and
#    `fl.exercises.check_more_skewed_alpha` tells you whether you were right.

# %%
guess_more_skewed_alpha = None   # your guess: 0.1 or 10

# %%
skew = partitions.compute_score_vs_alpha([0.1, 10.0], n_clients=10, n_seeds=3)
print(skew)
print(fl.exercises.check_more_skewed_alpha(guess_more_skewed_alpha))

# %% [markdown]
# <details><summary>Solution to exercise 2</summary>
#
# α_D = 0.1. Each class is split over the clients in proportions $p \sim \mathrm{Dir}(\alpha_D)$: with a small α_D
# almost all of a class lands on one or two clients, so every client's label mix is far from the global one;
# with a large α_D every share is close to $1/K$ and the split looks IID (its score is close to the IID line).
# </details>
#
# 3. **Compute.** Eight examples with labels `y = [0, 0, 1, 2, 2, 2, 1, 0]` are split over three clients:
#    `parts = [[0, 1, 2], [3, 4], [5, 6, 7]]` (indices into `y`). Write the label counts `counts[k, c]` (a 3 × 3
#    array) by hand and check them with
#    `print(fl.exercises.check_label_distribution(counts, y=y, parts=parts))`.
#
# <details><summary>Solution to exercise 3</summary>
#
# ```python
# y = np.array([0, 0, 1, 2, 2, 2, 1, 0])
# parts = [np.array([0, 1, 2]), np.array([3, 4]), np.array([5, 6, 7])]
# counts = np.array([[2, 1, 0],     # client 0 holds labels 0, 0, 1
#                    [0, 0, 2],     # client 1 holds labels 2, 2
#                    [1, 1, 1]])    # client 2 holds labels 2, 1, 0
# print(fl.exercises.check_label_distribution(counts, y=y, parts=parts))
# ```
# One row per client, one column per class: look up the labels of the client's indices, then count each class.
# The rows add up to the client sizes and the whole matrix to the 8 examples; `fl.label_distribution(y, parts, 3)`
# does the same.
# </details>
#
# 4. **Explore.** With the split panel of section 7 (preset *IID baseline*), find the number of clients at which the
#    IID split scores above 0.15. *Hint:* the score of an IID split depends only on client size.

# %% jupyter={"source_hidden": true} tags=["solution"]
# Solution to exercise 4
for k in (10, 25, 50, 55, 60, 100):
    split = partitions.compute_partition(n_clients=k, scheme="iid")
    print(f"{k:>3} clients of about {len(data.y_train) // k:>2} examples: IID score {split.score:.3f}")
# The fewer examples per client, the further a random sample's class mix is from the global one (sampling noise):
# the IID score grows with the number of clients because the clients get smaller, not because the split changes.

# %% [markdown]
# 5. **Think it through.** Standardise each client's data with its **own** mean and standard deviation (what a
#    client could do alone). Why is this a problem when the split is non-IID? *Hint:* compare the means of two
#    clients that hold different classes.
#
# <details><summary>Solution to exercise 5</summary>
#
# The classes differ in their mean features; that difference is what the model learns from. A client that holds
# mostly one class subtracts that class's mean, so its examples end up centred at 0, and so do those of a client
# holding another class. After per-client standardisation the same input means different things on different
# clients, and the clients' models disagree more. Compute the statistics federatedly instead (each client sends
# its count, sum and sum of squares, as in the footnote of section 3), so that every client uses the global ones.
# </details>
#
# 6. **Find the bug.** This IID partition is meant to put every example on exactly one client:
#
#    ```python
#    def iid_partition(n_examples, n_clients, seed=0):
#        rng = np.random.default_rng(seed)
#        size = n_examples // n_clients
#        return [rng.integers(0, n_examples, size=size) for _ in range(n_clients)]
#    ```
#    Run `print(fl.exercises.check_partition(iid_partition(800, 10), n_examples=800, n_clients=10))`, read what it
#    says, fix the function, and check it again with 803 examples (`n_examples=803`).
#
# <details><summary>Solution to exercise 6</summary>
#
# ```python
# def iid_partition(n_examples, n_clients, seed=0):
#     rng = np.random.default_rng(seed)
#     return np.array_split(rng.permutation(n_examples), n_clients)   # deal a shuffled deck
#
# print(fl.exercises.check_partition(iid_partition(800, 10), n_examples=800, n_clients=10))
# print(fl.exercises.check_partition(iid_partition(803, 10), n_examples=803, n_clients=10))
# ```
# Two bugs: `rng.integers` draws *with replacement*, so some examples land on two clients (or twice on one) and
# others on none; and `n_examples // n_clients` drops the remainder when the clients cannot all be the same
# size. Shuffling once and cutting the permutation into parts fixes both.
# </details>
#
# 7. **Write the function.** Write `shard_partition(y, n_clients, shards_per_client=2, seed=0)` the way McMahan et
#    al. do it: sort the examples by label, cut them into `n_clients * shards_per_client` shards of consecutive
#    examples, and give each client `shards_per_client` shards at random. Check it with
#    `print(fl.exercises.check_partition(shard_partition(y, 10), n_examples=len(y), n_clients=10))` on
#    `y = data.y_train`, then look at its `fl.label_distribution`.
#
# <details><summary>Solution to exercise 7</summary>
#
# ```python
# def shard_partition(y, n_clients, shards_per_client=2, seed=0):
#     rng = np.random.default_rng(seed)
#     by_label = np.argsort(y, kind="stable")                      # indices, sorted by label
#     shards = np.array_split(by_label, n_clients * shards_per_client)
#     dealt = rng.permutation(len(shards)).reshape(n_clients, shards_per_client)
#     return [np.concatenate([shards[s] for s in row]) for row in dealt]
#
# y = fl.make_seed_dataset().y_train
# parts = shard_partition(y, 10)
# print(fl.exercises.check_partition(parts, n_examples=len(y), n_clients=10))
# print(fl.label_distribution(y, parts, 3))
# ```
# Sorting puts each class in one run of consecutive examples, so a shard holds one class (or two, where it
# straddles a class boundary), and a client with 2 shards usually holds 1 or 2 classes. Dealing a permutation
# of the shard numbers gives every shard to exactly one client.
# </details>
#
# 8. **Write the function.** Write `score(counts)`, the non-IID score: for each client the Jensen–Shannon distance
#    (base 2) between its label mix $p_k$ and the global mix $p$, averaged with weights $n_k/n$. With $m = (p_k + p)/2$,
#    $\mathrm{JS}(p_k, p) = \sqrt{\tfrac12 \mathrm{KL}(p_k\|m) + \tfrac12 \mathrm{KL}(p\|m)}$. Check it with
#    `print(fl.exercises.check_non_iid_score(score, counts=counts))` (`counts` from section 4).
#
# <details><summary>Solution to exercise 8</summary>
#
# ```python
# def score(counts):
#     counts = np.asarray(counts, dtype=float)
#     sizes = counts.sum(axis=1)
#     p_global, p_clients = counts.sum(axis=0) / counts.sum(), counts / sizes[:, None]
#
#     def kl(a, b):                         # base 2; a term with a = 0 contributes 0
#         mask = a > 0
#         return np.sum(a[mask] * np.log2(a[mask] / b[mask]))
#
#     distances = [np.sqrt(0.5 * kl(p_k, (p_k + p_global) / 2) + 0.5 * kl(p_global, (p_k + p_global) / 2))
#                  for p_k in p_clients]
#     return float(np.dot(sizes / sizes.sum(), distances))
#
# print(fl.exercises.check_non_iid_score(score, counts=np.array([[30, 5, 0], [2, 2, 40], [10, 10, 10]])))
# ```
# The square root turns the divergence into a distance, base 2 keeps it in [0, 1], and the weights $n_k/n$ make a
# client of 3 examples count less than one of 80. The mask skips classes a client does not have ($0 \log 0 = 0$).
# </details>
#
# 9. **Write the function.** Write `score_for(alpha)` that returns the mean non-IID score of 5 Dirichlet splits of
#    10 clients, and find the α_D at which the score crosses 0.2.
#
# <details><summary>Solution to exercise 9</summary>
#
# ```python
# def score_for(alpha):
#     return partitions.compute_score_vs_alpha([alpha], n_clients=10, n_seeds=5).mean[0]
#
# low, high = 0.1, 100.0             # score(low) > 0.2 > score(high)
# for _ in range(30):                # bisection on a log scale
#     middle = np.sqrt(low * high)
#     low, high = (middle, high) if score_for(middle) > 0.2 else (low, middle)
# print(f"alpha ~ {middle:.2f}")     # between 1 and 3.16 (see the table of section 6)
# ```
# The score falls steadily as α_D grows (section 6), so bisection works; on a log scale because α_D spans decades.
# </details>
#
# **Next:** [03 · Model and local training](03_model_and_local_training.ipynb)
