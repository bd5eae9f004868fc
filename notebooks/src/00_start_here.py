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
# # 00 · Start here
#
# **What you will learn**
# - how this kit is organised: numbered notebooks, one helper package (`fedlearn_edu`), sliders;
# - how to check that your environment works (versions, a slider that renders);
# - which notebook covers which part of the article.
#
# **Article section:** the whole article, *联邦学习：结合分布式学习与边缘计算的新型深度学习训练方法*
# ("Federated learning: a new deep-learning training method combining distributed learning and
# edge computing"). This kit follows it section by section, runs its code, and corrects it where it is wrong.
#
# **Time:** about 10 minutes, plus about 15 for the exercises · core path (notebooks 00–08).
#
# **Prerequisites:** Python and a first course in machine learning (what a loss, a gradient and SGD are).
# Symbols as in the [glossary](GLOSSARY.md): K clients, n_k examples on client k, w the model (see the
# notation table below).

# %%
# NBVAL_IGNORE_OUTPUT
import fedlearn_edu as fl
from IPython.display import display

fl.set_seed(42)
fl.print_versions()

# %% [markdown]
# The knobs of this notebook. Change one, then run this cell and every cell below it (in JupyterLab: *Run ›
# Run Selected Cell and All Below*). Every value in the stated ranges runs to the end; the ✔/✘ lines then say
# which of the notebook's claims still hold.

# %% tags=["parameters"]
n_clients = 10                  # clients K: 2 .. 50
seed = 0                        # seed: 0 .. 20

# %% [markdown]
# ## How the kit works
#
# Every notebook opens the same way (what you will learn, the article section, prerequisites,
# one set-up cell) and ends with a summary, exercises and a link to the next notebook.
# Cells stay short: the plumbing lives in the package `fedlearn_edu`, one concept per module:
#
# | module | what it does |
# |---|---|
# | `fl.data` | the article's data set (fixed), digits, breast cancer |
# | `fl.partition` | splitting the data across clients: IID, Dirichlet label skew, shards, quantity skew |
# | `fl.model` | the article's Keras model and helpers for its weights |
# | `fl.client` | step 2: local training on one client |
# | `fl.aggregate` | step 4: FedAvg's weighted average (and the article's formula, literally) |
# | `fl.server` | step 4: server optimizers (FedAvg, FedAvgM, FedAdam, FedYogi, FedAdagrad) |
# | `fl.simulation` | steps 1–5 together: `FLConfig`, `run_experiment`, `History` |
# | `fl.widgets` | the sliders' callbacks (plain functions, tested by pytest) |
#
# The architecture of federated learning that the article describes:
#
# ![server and edge devices](../assets/architecture.png)
#
# and its five-step protocol:
#
# ![the five steps](../assets/five_steps.png)

# %% [markdown]
# ## One notation
#
# The article and the papers it builds on use different letters for the same things. The kit uses one notation
# everywhere (the [glossary](GLOSSARY.md) lists every symbol); these are the ones you meet first:
#
# | the article | the kit | meaning | in the code |
# |---|---|---|---|
# | $N$ edge devices (边缘设备) | $K$ clients | devices that hold data and train | `n_clients` |
# | $n_i$ | $n_k$; $n = \sum_k n_k$ | examples on client $k$; all examples | `n_examples` |
# | $\theta$, "the model" | $w$ | the model's weights (one list of arrays) | `weights` |
# | $\alpha$ (学习率, a learning rate) | $\eta_l$ | the client learning rate of local SGD | `client_learning_rate` |
# | — | $\eta_g$ | the server learning rate (1 is plain FedAvg) | `server_learning_rate` |
# | — | $\alpha_D$ | the Dirichlet concentration of a non-IID split (small: very different clients); not the article's $\alpha$ | `alpha` |
# | — | $C$, $E$, $B$, $R$ | share of clients per round, local epochs, batch size, rounds | `fraction`, `local_epochs`, `batch_size`, `rounds` |

# %% [markdown]
# ## Terms in Chinese (术语表)
#
# The article is Chinese, and the kit has a Chinese edition (`notebooks/zh/`, the same notebooks). These are the
# terms both editions use, one Chinese word for each English one:
#
# | English | 中文 | English | 中文 |
# |---|---|---|---|
# | federated learning (FL) | 联邦学习 | Federated Averaging (FedAvg) | 联邦平均 |
# | client, server | 客户端，服务器 | edge device | 边缘设备 |
# | local training | 本地训练 | aggregation | 聚合 |
# | global model | 全局模型 | round | 轮 |
# | IID, non-IID | 独立同分布，非独立同分布 | client drift | 客户端漂移 |
# | straggler | 掉队者 | communication cost | 通信开销 |
# | differential privacy (DP) | 差分隐私 | secure aggregation | 安全聚合 |
# | poisoning attack | 投毒攻击 | learning rate | 学习率 |
#
# The full list, with notes for translators, is `notebooks/locale/zh/TERMS.md`.

# %% [markdown]
# ## A first federated run
#
# One call runs the article's experiment: K = 10 clients (the parameter `n_clients`), 20 rounds of FedAvg on the
# article's data (fixed so that it runs; notebook 02 shows why it needed fixing). Look at the last line: the test
# accuracy the global model reaches, and how many bytes travelled. The ✔ line under it checks the claim that
# FedAvg reaches 85% here.

# %%
history = fl.run_experiment(fl.FLConfig(n_clients=n_clients, rounds=20, seed=seed))
print(history.summary())
fl.check(lambda: history.final_accuracy >= 0.85, "FedAvg reaches 85% test accuracy on the article's data",
         measured=round(history.final_accuracy, 3), expected=">= 0.85")


# %% [markdown]
# ## Environment check: a slider must render
#
# Move the slider. If you see a slider and the sentence below it changes when you release it,
# widgets work in your JupyterLab.
#
# **Reading this page on GitHub or nbviewer?** A static viewer cannot run Python, so every panel of sliders in
# the kit shows there as one line of text, `[sliders: ...; they move when the notebook runs in Jupyter]`, with the
# figure of the default setting under it (a plain ipywidgets slider shows as `interactive(children=...`). That is
# normal, not a broken install.
# Only if you still see such text **in JupyterLab, after running the cell**, is ipywidgets missing from the
# environment of your kernel: run `pip install -r requirements.txt` again in that environment and reload the page.

# %%
display(fl.widgets.ControlPanel(fl.widgets.show_examples_per_client,
                                dict(clients=fl.widgets.client_slider(n_clients)),
                                presets=fl.widgets.ENVIRONMENT_PRESETS))

# %% [markdown]
# ## The map of notebooks
#
# | notebook | article section | what you do |
# |---|---|---|
# | [00_start_here](00_start_here.ipynb) | — | this page: how the kit works, environment check |
# | [01_why_federated](01_why_federated.ipynb) | 1, 2.1–2.3 | centralised training, distributed SGD and FedAvg side by side: accuracy and bytes moved |
# | [02_data_and_partitions](02_data_and_partitions.ipynb) | 4.1 | the article's `make_classification` error and its fix; IID and non-IID splits |
# | [03_model_and_local_training](03_model_and_local_training.ipynb) | 4.2, step 2 | the article's Keras model; one client training alone; local models drifting apart |
# | [04_fedavg_step_by_step](04_fedavg_step_by_step.ipynb) | 3.1, 3.2 | the five steps as separate cells, then the loop until convergence |
# | [05_the_math](05_the_math.ipynb) | 3.3 | the article's formula, shown to be wrong; FedSGD, FedAvg and FedAvgM instead |
# | [06_interactive_lab](06_interactive_lab.ipynb) | 4.3 | the article's TFF listing explained; the full dashboard |
# | [07_challenges](07_challenges.ipynb) | 5 | non-IID convergence, communication, limited devices — measured |
# | [08_faq_and_applications](08_faq_and_applications.ipynb) | 6 | FL vs distributed learning; hospitals sharing a model on breast-cancer data |
# | [09_privacy_and_security](09_privacy_and_security.ipynb) | 2.3, 6 | the "data security" claim tested: reading a record off an update, DP-FedAvg with ε |
# | [09b_secure_aggregation_and_poisoning](09b_secure_aggregation_and_poisoning.ipynb) | 2.3, 6 | secure aggregation (masks that cancel, dropouts), poisoned clients and robust aggregation |
# | [10_from_classroom_to_deployment](10_from_classroom_to_deployment.ipynb) | 3.2, 6 | the same client and server on Flower: simulation engine and a TLS deployment on this machine |
# | [11_non_iid_algorithms](11_non_iid_algorithms.ipynb) | 5 | client drift; rounds to target against α for FedAvg, FedProx, FedAvgM and SCAFFOLD |
# | [12_communication_cost](12_communication_cost.ipynb) | 5 | exact bytes; quantisation and top-k with error feedback: accuracy against megabytes |
# | [13_devices_and_deadlines](13_devices_and_deadlines.ipynb) | 5 | device speeds, dropouts, deadlines and stragglers: accuracy against simulated time |
# | [14_fedavg_paper_reproduced](14_fedavg_paper_reproduced.ipynb) | 3 | McMahan et al. 2017, Tables 1–2, rerun on digits beside the paper's numbers |
#
# Notebooks 00–08 follow the article from start to end; 09–14 go deeper where the article is thin or wrong.

# %% [markdown]
# ## Summary
# - `fedlearn_edu` does the plumbing; a notebook cell shows one idea.
# - `fl.run_experiment(fl.FLConfig(...))` runs a whole federated experiment and returns a `History`.
# - Sliders train on release (`continuous_update=False`), and each calls a plain function you can call yourself.
#
# ## Exercises
# Each exercise has a collapsed solution; the checkers (`fl.exercises.check_...`) say what is wrong, not only that
# something is. Every notebook's exercises follow this pattern, from predicting to writing code.
#
# 1. **Predict, then run.** Spread the same 800 training examples over 50 clients instead of 10 (20 rounds, every
#    client in every round). What test accuracy does FedAvg reach? Write your guess below, then run the experiment.

# %%
guess_accuracy_50_clients = None   # your guess: a test accuracy between 0 and 1, e.g. 0.8

# %%
history_50 = fl.run_experiment(fl.FLConfig(n_clients=50, rounds=20, seed=seed))
print(f"{n_clients} clients of about {800 // n_clients} examples: accuracy {history.final_accuracy:.3f}; "
      f"50 clients of {800 // 50}: accuracy {history_50.final_accuracy:.3f}")
print(fl.exercises.check_prediction(guess_accuracy_50_clients, history_50.final_accuracy, tolerance=0.05,
                                    what="the final accuracy with 50 clients"))

# %% [markdown]
# <details><summary>Solution to exercise 1</summary>
#
# The accuracy hardly changes. The split is IID, so every client's small sample looks like the whole data set,
# and every client takes part in every round: the server's weighted average still sees all 800 examples each
# round. Smaller clients mean noisier local models, but averaging 50 of them cancels most of the noise. On this
# easy data set the ceiling is set by the data (overlapping classes, flipped labels), not by the federation.
# </details>
#
# 2. **Compute.** A round trains only a fraction $C$ of the $K$ clients: $m = \max(1, \lfloor C K \rfloor)$. How many
#    clients train per round with $K = 50$ and $C = 0.3$? With $K = 10$ and $C = 0.05$? Check each number with
#    `print(fl.exercises.check_clients_per_round(m, n_clients=50, fraction=0.3))` (and the other $K$, $C$).
#
# <details><summary>Solution to exercise 2</summary>
#
# ```python
# print(fl.exercises.check_clients_per_round(15, n_clients=50, fraction=0.3))   # floor(0.3 * 50) = 15
# print(fl.exercises.check_clients_per_round(1, n_clients=10, fraction=0.05))   # floor(0.5) = 0, then max(1, 0)
# ```
# $\lfloor 0.05 \times 10 \rfloor = 0$ would be a round in which nobody trains, so the $\max(1, \cdot)$ keeps at
# least one client. `fl.FLConfig(n_clients=K, fraction=C).clients_per_round` computes the same.
# </details>
#
# 3. **Compute.** Print `history.table()` (the run of section "A first federated run") and find the first round whose test accuracy is
#    at least 0.85. Check your round with `print(fl.exercises.check_rounds_to_accuracy(answer, accuracy=history))`.

# %% jupyter={"source_hidden": true} tags=["solution"]
# Solution to exercise 3
first_round = history.rounds_to_accuracy(0.85)        # the first round with accuracy >= 0.85, counted from 1
print("accuracy after rounds 1-5:", ", ".join(f"{a:.3f}" for a in history.accuracy[:5]))
print(fl.exercises.check_rounds_to_accuracy(first_round, accuracy=history))
# Read the accuracy column from the top and stop at the first row that reaches the target: not the best round,
# and rounds count from 1 (history.accuracy[0] is round 1).

# %% [markdown]
# 4. **Explore.** Read the docstring of `fl.FLConfig` (type `fl.FLConfig?` in a cell). Which field is the article's
#    "number of edge devices" $N$? Check it with `print(fl.exercises.check_config_field("...", symbol="N"))`, then
#    find the fields of $C$ (the share of clients per round) and $E$ (local epochs) the same way.
#
# <details><summary>Solution to exercise 4</summary>
#
# ```python
# print(fl.exercises.check_config_field("n_clients", symbol="N"))
# print(fl.exercises.check_config_field("fraction", symbol="C"))
# print(fl.exercises.check_config_field("local_epochs", symbol="E"))
# ```
# The kit calls the number of clients $K$ (McMahan et al.'s letter), the article calls it $N$: both are
# `n_clients`. `notebooks/GLOSSARY.md` maps every symbol of the article to its name in the kit.
# </details>
#
# 5. **Find the bug.** A classmate computes the clients per round like this:
#
#    ```python
#    def clients_per_round(n_clients, fraction):
#        return int(fraction * n_clients)
#    ```
#    Run `print(fl.exercises.check_clients_per_round(clients_per_round(10, 0.05), n_clients=10, fraction=0.05))`,
#    read the hint, and fix the function.
#
# <details><summary>Solution to exercise 5</summary>
#
# ```python
# def clients_per_round(n_clients, fraction):
#     return max(1, int(fraction * n_clients))   # int() is floor for C K >= 0; at least one client per round
#
# print(fl.exercises.check_clients_per_round(clients_per_round(10, 0.05), n_clients=10, fraction=0.05))
# print(fl.exercises.check_clients_per_round(clients_per_round(50, 0.3), n_clients=50, fraction=0.3))
# ```
# `int` rounds towards zero, which is `floor` for positive numbers, so the bug is only the missing `max(1, ·)`: with
# a small federation and a small $C$ it returns 0, and a round with no client trains nothing.
# </details>
#
# **Next:** [01 · Why federated learning](01_why_federated.ipynb)
