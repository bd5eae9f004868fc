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
# **Prerequisites:** Python and a first course in machine learning (what a loss, a gradient and SGD are).

# %%
# NBVAL_IGNORE_OUTPUT
import fedlearn_edu as fl
from ipywidgets import interact

fl.set_seed(42)
fl.print_versions()

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
# ## A first federated run
#
# One call runs the article's experiment: 10 clients, 20 rounds of FedAvg on the article's data
# (fixed so that it runs; notebook 02 shows why it needed fixing). Look at the last line: the test
# accuracy the global model reaches, and how many bytes travelled.

# %%
history = fl.run_experiment(fl.FLConfig(n_clients=10, rounds=20))
print(history.summary())

# %%
assert history.final_accuracy >= 0.85, "FedAvg should reach 85% on the article's data"


# %% [markdown]
# ## Environment check: a slider must render
#
# Move the slider. If you see a slider and the sentence below it changes when you release it,
# widgets work in your JupyterLab. If you see `interactive(children=...` as text instead,
# ipywidgets is not installed in the environment of your kernel: run `pip install -r requirements.txt`
# again in that environment and reload the page.

# %%
@interact(clients=fl.widgets.client_slider(10))
def check_slider(clients):
    print(f"{clients} clients would each hold about {800 // clients} of the 800 training examples")

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
# | [09_privacy_and_security](09_privacy_and_security.ipynb) | 2.3, 6 | the "data security" claim tested: reading a record off an update, DP-FedAvg with ε, secure aggregation, poisoning |
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
# 1. Run `fl.run_experiment(fl.FLConfig(n_clients=50, rounds=20))`. Does the accuracy change much? Why might it not?
# 2. Print `history.table()` and find the first round above 85% accuracy. Check it with `history.rounds_to_accuracy(0.85)`.
# 3. Read the docstring of `fl.FLConfig` (`fl.FLConfig?`). Which field is the article's "number of edge devices" *N*?
#
# **Next:** [01 · Why federated learning](01_why_federated.ipynb)
