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
# # 10 · From the classroom to deployment
#
# **What you will learn**
# - what changes when the five steps leave one Python process: separate processes, a network, TLS
#   certificates, nodes that hold only their own data, nodes that may be away, logs in many places;
# - how the kit's client step and server step become a Flower **ClientApp** and **ServerApp** built from the
#   same `FLConfig`, and why Flower's simulation engine then gives *the same global model* as the kit;
# - how to start a real deployment on one machine (one SuperLink, two SuperNodes, `flwr run`) and read its logs.
#
# **Article section:** 3.1 算法原理 ("Algorithm principle": the five-step protocol) and, from
# 6. 附录常见问题与解答 ("Appendix: frequently asked questions and answers"), the question
# *federated learning 和传统分布式学习有什么区别？* ("How does federated learning differ from traditional
# distributed learning?").
#
# **Time:** about 20 minutes, plus about 25 for the exercises · going deeper (notebooks 09–14).
#
# **Prerequisites:** [04 · FedAvg step by step](04_fedavg_step_by_step.ipynb) (the five steps as functions),
# [07b · Challenges II](07b_communication_and_devices.ipynb) (partial participation and stragglers),
# [08 · FAQ and applications](08_faq_and_applications.ipynb) (FL versus distributed learning). Symbols as in
# the [glossary](GLOSSARY.md): K clients (here SuperNodes), R rounds, η_l the client learning rate, w the model.
# **Needs** the kit's `[flower]` extra (Flower and Ray; part of `requirements.txt`, or
# `pip install -e ".[notebooks,flower]"`): the first cell stops with the install command if it is missing.

# %%
# NBVAL_IGNORE_OUTPUT
import fedlearn_edu as fl
fl.require_extra("flower")
import inspect
from importlib.metadata import version
import numpy as np
from fedlearn_edu import flower as fl_flower
from fedlearn_edu.flower import client_app, report, server_app

plt = fl.style.pyplot()
fl.set_seed(42)
fl.print_versions()
print("flwr", version("flwr"))

# %% [markdown]
# The knobs of this notebook. Change one, then run this cell and every cell below it (in JupyterLab: *Run ›
# Run Selected Cell and All Below*). Every value in the stated ranges runs to the end; the ✔/✘ lines then say
# which of the notebook's claims still hold. Each SuperNode is a process and each round starts one more per node,
# so more nodes and rounds take minutes, not seconds.

# %% tags=["parameters"]
n_clients = 2                   # SuperNodes K (every one in every round): 2 .. 4
rounds = 3                      # rounds R: 1 .. 5
client_learning_rate = 0.1      # client learning rate η_l: 0.01 .. 1.0
seed = 0                        # seed of the partition, the model and the batch order: 0 .. 20

# %% [markdown]
# ## What changes between the classroom and a deployment
#
# The article's protocol has five steps: the server initialises and sends the global model (1), each edge
# device trains on its local data (2) and sends its model back (3), the server aggregates and redistributes (4),
# and the whole repeats until convergence (5). Until now one Python process played every role. In a deployment
# with [Flower](https://flower.ai), each role is its own program:
#
# | | the kit's simulation (classroom) | a Flower deployment |
# |---|---|---|
# | processes | one Python process, a `for` loop over clients | a **SuperLink** (the server's door), one **SuperNode** per device, a ServerApp process per run, a ClientApp process per message |
# | network | function calls | HTTPS between SuperNodes and SuperLink, and between `flwr` and the SuperLink |
# | certificates | none needed | a CA certificate, the SuperLink's certificate and key; every SuperNode checks the SuperLink with the CA certificate (TLS) |
# | data | every client's rows in one array | each SuperNode reads **only its own file**; the server sees weights, never rows |
# | availability | simulated (`dropout`, `deadline`, notebook 07b) | real: a node is connected or not; the server waits for replies up to a timeout |
# | logs | one `History` | one log per process (SuperLink, each SuperNode, the run) |
# | a round costs | milliseconds | seconds: process start-up, polling, TensorFlow imported by every ClientApp process |
#
# Two terms from the table: **TLS** (Transport Layer Security) is the encryption under HTTPS, and a **CA**
# (certificate authority) is whoever signs the certificates that let a SuperNode check it talks to the real
# SuperLink; here the kit makes a CA on the spot.
#
# This is also the article's FAQ, made concrete: *traditional* distributed learning moves the data to the
# workers of a data centre; in a federated deployment the data stays in the node's process and file, and only
# model weights cross the network.

# %% [markdown]
# ## One config for both
#
# Flower hands every ServerApp and ClientApp a *run config* (flat keys, set in the app's `pyproject.toml`
# and overridable with `flwr run --run-config`). `fl_flower.to_run_config` writes an `FLConfig` in that form;
# both apps read it back with `from_run_config`, so they run exactly the experiment the kit would run.

# %%
config = fl.FLConfig(n_clients=n_clients, rounds=rounds, client_learning_rate=client_learning_rate, seed=seed)
run_config = fl_flower.to_run_config(config)
print(len(run_config), "keys, e.g.", {k: run_config[k] for k in ("n-clients", "rounds", "batch-size",
                                                                   "client-learning-rate", "server-optimizer")})
fl.check(fl_flower.from_run_config(run_config) == config, "the apps read back exactly the kit's FLConfig")

# %% [markdown]
# ## The five steps as Flower code
#
# | step | the kit | Flower |
# |---|---|---|
# | 1 who trains, send the model | `sim.sample_clients`, `sim.global_weights` | `KitStrategy.configure_train` (the kit's `sample_clients`), a `Message` per node |
# | 2 local training | `fl.client_update` | the ClientApp's `@app.train()`: **the same** `client_update`, same batch order for (seed, round, client) |
# | 3 send the model back | a `ClientResult` | a reply `Message` with an `ArrayRecord` and `num-examples` |
# | 4 aggregate, server update | `fl.weighted_average`, `fl.server` optimizers | `KitStrategy.aggregate_train`: **the same** functions, clients in id order |
# | 5 repeat | `Simulation.run` | `strategy.start(...)` in the ServerApp's `@app.main()` |
#
# The heart of the ClientApp, step 2 (from `fedlearn_edu/flower/client_app.py`):

# %%
source = inspect.getsource(client_app.train)
print(source[source.index("    result ="):source.index("    metrics =")])

# %% [markdown]
# and the heart of the ServerApp's strategy, step 4 (from `fedlearn_edu/flower/server_app.py`):

# %%
source = inspect.getsource(server_app.KitStrategy.aggregate_train)
print(source[source.index("        counts ="):source.index("        metrics =")])

# %% [markdown]
# ## The reference: the kit's own simulation
#
# $K = 2$ clients, $R = 3$ rounds of FedAvg on the article's data (the parameters cell). This is the model the
# two Flower runs below must reproduce. (`engine="per_client"` trains one client after the other, as Flower does;
# the kit's engines are the subject of the appendix [15 · How the kit is built](15_how_the_kit_is_built.ipynb).)

# %%
kit = fl.run_experiment(config.replace(engine="per_client"), progress=False)
print(kit.summary())

# %% [markdown]
# ## Flower's simulation engine: the same model?
#
# Flower's simulation engine runs many SuperNodes inside one process with Ray; it is how one tests a Flower
# app before deploying it. `fl_flower.run_flower_simulation` starts a SuperLink in simulation mode (over TLS)
# and submits the app with `flwr run`. Ray alone takes tens of seconds to start on a small machine.

# %%
simulation_run = fl_flower.run_flower_simulation(config)
sim_comparison = report.compare_with_kit(simulation_run)
print(f"accuracy {simulation_run.final_accuracy:.3f}, equal to the kit's: {sim_comparison.equal()}")
fl.check(sim_comparison.max_difference["per_client"] == 0.0,
         "Flower's simulation engine gives the kit's global model, bit for bit",
         measured=sim_comparison.max_difference["per_client"], expected=0.0)

# %% [markdown]
# Equal to the kit's model bit for bit: the ClientApp calls the same training function on the same rows in the
# same order, and the strategy averages the replies in the order of the client ids. Floating-point sums depend on their order; a strategy
# that averaged replies in their order of arrival would differ in the last bits (and nobody would mind).
#
# ## A real deployment on this machine
#
# `fl_flower.deploy` does what a student would do in four terminals
# (the commands are in the README and printed by `python -m fedlearn_edu.flower.deploy --print-commands`):
#
# 1. cut the kit's partition into one file per node, make a CA and a certificate for 127.0.0.1/localhost, and one
#    P-384 key pair per node for SuperNode authentication;
# 2. start `flower-superlink` with `--ssl-ca-certfile`, `--ssl-certfile`, `--ssl-keyfile` and
#    `--enable-supernode-auth` on a free port, and admit the nodes' public keys with `flwr supernode register`;
# 3. start $K$ `flower-supernode`s with `--root-certificates ca.crt`, `--auth-supernode-private-key` (their own key)
#    and `--node-config` naming only their own file;
# 4. `flwr run <app directory> <connection>`, the connection holding the SuperLink's address and the CA certificate;
#
# then it waits for the run, collects the logs and the result, and stops every process by its id. (Here the
# server evaluates each global model on its held-out test set; `node_evaluation="last"`, the default of the
# script, would also let every node evaluate the final model on its own rows: one more message per node.)

# %%
deployment = fl_flower.deploy(config, node_evaluation="none")
print(f"{config.rounds} rounds on {config.n_clients} SuperNodes, final test accuracy {deployment.final_accuracy:.3f}")
fl.check(deployment.processes_left() == [], "every process of the deployment was stopped",
         measured=deployment.processes_left() or "none", expected="none")

# %% [markdown]
# ### The logs
#
# Each process wrote its own log. Here are the interesting lines, with ports, ids and timings replaced by
# placeholders. The SuperLink opened its HTTPS API:

# %%
print("\n".join(report.stable_log_lines(deployment, "superlink")))

# %% [markdown]
# A SuperNode registered (and received an id), then handled one message per round, each in a fresh
# ClientApp process:

# %%
print("\n".join(report.stable_log_lines(deployment, "supernode-0")))

# %% [markdown]
# The run, as `flwr run --stream` showed it: the ServerApp's strategy, round by round.

# %%
print("\n".join(report.stable_log_lines(deployment, "flwr run")))

# %% [markdown]
# ### Same model?
#
# The deployment's final global model against the kit's, weight by weight:

# %%
comparison = report.compare_with_kit(deployment)
print(f"{config.rounds} rounds, accuracy {deployment.final_accuracy:.3f}, equal to the kit's: {comparison.equal()}")
fl.check(comparison.max_difference["per_client"] == 0.0, "the deployment gives the kit's global model, bit for bit",
         measured=comparison.max_difference["per_client"], expected=0.0)
fl.check(abs(deployment.final_accuracy - kit.final_accuracy) < 1e-6, "and the kit's test accuracy",
         measured=f"{deployment.final_accuracy:.3f}", expected=f"{kit.final_accuracy:.3f}")

# %%
# extra code – test accuracy per round: the kit, Flower's simulation engine, the deployment
round_numbers = np.arange(1, config.rounds + 1)
fig, ax = plt.subplots(figsize=(6, 3.5))
ax.plot(round_numbers, kit.accuracy, "o-", lw=6, alpha=0.3, label="kit")
ax.plot(round_numbers, simulation_run.accuracy, "s--", label="Flower simulation engine")
ax.plot(round_numbers, deployment.accuracy, "x:", ms=10, label=f"Flower deployment (TLS, {config.n_clients} SuperNodes)")
ax.set(xlabel="round", ylabel="test accuracy", xticks=round_numbers)
ax.set_title("one model, three ways to train it")
ax.legend()
plt.show()

# %% [markdown]
# *Figure:* test accuracy against the round for the kit, Flower's simulation engine and the deployment; the three
# curves lie on top of each other.

# %% [markdown]
# ### What it cost
#
# The same rounds, timed on this machine (these numbers change from run to run):

# %%
# NBVAL_IGNORE_OUTPUT
for name, run in (("deployment", deployment), ("Flower simulation", simulation_run)):
    print(f"{name:18} start-up {run.startup_seconds:5.1f} s, per round "
          + ", ".join(f"{s:.1f}" for s in run.round_seconds) + f" s, total {run.total_seconds:.1f} s")
print(f"{'kit':18} per round {comparison.kit_seconds_per_round('per_client') * 1e3:.1f} ms")

# %% [markdown]
# A deployed round costs seconds where the kit's costs milliseconds: every message starts a ClientApp process
# that imports TensorFlow, and SuperNodes and ServerApp poll for messages every few seconds. On real devices the
# network and the devices' own speed add to that. This is why the kit simulates: a slider that needed a
# deployment per move would take minutes.

# %%
fl.check(deployment.round_seconds.mean() > 100 * comparison.kit_seconds_per_round("per_client"),
         "a deployed round takes over 100 times as long as a simulated one")

# %% [markdown]
# ## Partial availability, for real
#
# In notebook 07b clients dropped out because a random number said so. In a deployment a SuperNode is simply
# connected or not. The kit's strategy waits until all K nodes are connected before each round (Flower's
# `min_available_nodes`), samples the kit's clients for that round, and waits for replies up to the run config's
# `round-timeout`. Replies that do not come are missing: the round aggregates the ones that arrived, which is the
# kit's `straggler_policy="drop"`. With `fraction < 1` the server first asks each node which kit client it is
# (a `query` message), so that round t trains exactly the clients the kit samples for round t.
#
# ## What a production team adds
#
# Flower's documentation goes further than this classroom deployment: certificates issued by the organisation's
# CA instead of a CA made on the spot; node keys made on the device and registered by an administrator (here
# the script makes them, as it makes the certificates); a SuperLink database (`--database`) so that a restart keeps the state; log files with
# rotation (`--log-file`); and secure aggregation or differential privacy on top, since TLS protects the
# updates only on the wire (notebooks 09 and 09b).

# %% [markdown]
# ## Summary
# - The same `FLConfig` drives the kit's simulation, a Flower ClientApp/ServerApp on Flower's simulation engine,
#   and a real deployment; the apps call the kit's `client_update`, `weighted_average` and server optimizers.
# - With every client taking part, Flower's simulation engine and the TLS deployment gave the kit's global model
#   bit for bit.
# - Deployment adds processes (a SuperLink, one SuperNode per device, a ClientApp process per message), HTTPS with
#   locally made certificates, node-local files, real availability and one log per process.
# - A deployed round costs seconds, a simulated one milliseconds: simulate to learn and to tune, deploy to run.
#
# ## Exercises
#
# From predicting to writing code, easiest first. Each has a collapsed solution; the checkers say what is wrong,
# not only that something is. The deployments (exercises 3 to 6) take a minute or more and terminals; the others
# take seconds.
#
# 1. **Predict, then run.** Three hospitals share the breast-cancer data (`dataset="breast_cancer"`, Dirichlet
#    concentration $\alpha_D = 0.5$) and train for 3 rounds. What test accuracy does the global model reach
#    after round 3? The kit's simulation gives the same model as a deployment, so it answers in seconds. Write
#    your guess, then run.

# %%
guess_hospital_accuracy = None   # your guess: test accuracy after 3 rounds, e.g. 0.8

# %%
hospitals = fl.FLConfig(n_clients=3, rounds=3, dataset="breast_cancer", partition="dirichlet", alpha=0.5)
hospital_run = fl.run_experiment(hospitals, progress=False)
print(f"test accuracy per round: {np.round(hospital_run.accuracy, 3)}")
print(fl.exercises.check_prediction(guess_hospital_accuracy, hospital_run.final_accuracy, tolerance=0.03,
                                    what="the test accuracy after 3 rounds"))

# %% [markdown]
# <details><summary>Solution to exercise 1</summary>
#
# Above 0.9 already after the first round. The breast-cancer data are nearly linearly separable, so even a few
# local epochs on one hospital's patients give a good model, and three rounds of averaging add a little on top
# (notebook 08's hospital study gives the same picture with more hospitals).
# </details>
#
# 2. **Compute.** With the notebook's settings the deployment above ran 3 rounds on 2 SuperNodes, every node in
#    every round, with the article's model of 1539 parameters in float32. How many bytes did the models moving between the SuperLink and the
#    SuperNodes take (without TLS and message overhead)? Check it with
#    `print(fl.exercises.check_run_bytes(answer, n_parameters=1539, rounds=3, n_clients=2, fraction=1.0))`.
#
# <details><summary>Solution to exercise 2</summary>
#
# ```python
# answer = 3 * 2 * 2 * 1539 * 4        # R rounds x (down + up) x 2 nodes x P x 4 bytes
# print(answer)
# print(fl.exercises.check_run_bytes(answer, n_parameters=1539, rounds=3, n_clients=2, fraction=1.0))
# ```
# Each round the strategy sends the global model to both nodes and each replies with its trained model: the same
# $2 \cdot m \cdot P \cdot 4$ bytes per round as in notebook 07b. The kit's `History.bytes_down` and `bytes_up`
# count exactly these; on the wire, Flower's messages and TLS add their headers on top.
# </details>
#
# 3. **Explore.** Deploy the three hospitals of exercise 1 with `fl_flower.deploy(hospitals)` and check that the
#    result still equals the kit's simulation. *Hint:* `report.compare_with_kit(...)`.
#
# <details><summary>Solution to exercise 3</summary>
#
# ```python
# hospitals = fl.FLConfig(n_clients=3, rounds=3, dataset="breast_cancer", partition="dirichlet", alpha=0.5)
# run = fl_flower.deploy(hospitals)
# print(run.final_accuracy, report.compare_with_kit(run).equal())   # True: same partition, same steps
# ```
# The deployment cuts the kit's partition into one file per node and every ClientApp calls the kit's
# `client_update` with the same batch order, so three nodes give the kit's model just as two did, and the final
# accuracy is the one of exercise 1.
# </details>
#
# 4. **Think it through.** Run `python -m fedlearn_edu.flower.deploy --rounds 3 --nodes 2 --workdir deployment
#    --print-commands` in a terminal, then type the printed commands yourself in four terminals. Which process
#    prints its node id when it registers? What happens if you start a SuperNode *without*
#    `--root-certificates`?
#
# <details><summary>Solution to exercise 4</summary>
#
# Each SuperNode logs its id once the SuperLink has admitted its public key (the SuperLink assigns it; see the
# `supernode-0` log above). Without `--root-certificates` (and without `--insecure`), Flower's SuperNode logs
# "Using system certificates for TLS connection" and checks the SuperLink's certificate against the system's
# trusted CAs. Our CA was made on the spot and is not among them, so the TLS handshake fails and the node never
# connects: it keeps retrying. That is the point of TLS: a node trusts only the server whose certificate its CA
# signed.
# </details>
#
# 5. **Think it through.** In the hand-started deployment, stop one SuperNode (Ctrl-C) during the run. What does
#    the ServerApp log, and what happens to the round in progress? *Hint:* look for "Waiting for nodes to
#    connect" in the `flwr run --stream` output.
#
# <details><summary>Solution to exercise 5</summary>
#
# The round in progress waits for the missing reply up to the run config's `round-timeout`, then aggregates the
# replies that arrived (the kit's `straggler_policy="drop"`). Before the next round the strategy waits until all
# $K$ nodes are connected again (`min_available_nodes`) and logs "Waiting for nodes to connect: 1 of 2" until you
# restart the node. A production strategy would instead sample among the nodes that are there.
# </details>
#
# 6. **Think it through.** Deploy with `server_optimizer="fedadam"`. Adam's moments must survive from round to
#    round: where do they live in the Flower app? *Hint:* `server_app.KitStrategy.server_optimizer`.
#
# <details><summary>Solution to exercise 6</summary>
#
# In the ServerApp: `KitStrategy.__init__` builds the kit's server optimizer once (`make_server_optimizer`) and
# `aggregate_train` calls its `step` every round, so its moments stay in that object for the whole run. They
# could not live in the ClientApps: each message starts a fresh ClientApp process that forgets everything when it
# replies. Only the server sees every round.
# </details>
#
# 7. **Write the function.** `KitStrategy.aggregate_train` combines the replies with the kit's weighted average.
#    Write it yourself: `fedavg(models, n_examples)` takes a list of client models (each a list of arrays, one per
#    layer) and the clients' example counts, and returns $\sum_k (n_k / n)\, w_k$ layer by layer. Check it with
#    `print(fl.exercises.check_fedavg(fedavg))`.
#
# <details><summary>Solution to exercise 7</summary>
#
# ```python
# def fedavg(models, n_examples):
#     weights = np.asarray(n_examples, dtype=np.float64) / np.sum(n_examples)    # n_k / n
#     return [sum(w * model[layer] for w, model in zip(weights, models)) for layer in range(len(models[0]))]
#
# print(fl.exercises.check_fedavg(fedavg))
# ```
# Each reply carries `num-examples`, so the server can weight every client by its share of the data, exactly as
# the kit's simulation does; a client with more patients counts for more. The models are combined layer by layer
# and the clients' own arrays are left unchanged.
# </details>
#
# **Next:** [11 · Non-IID data and the algorithms for it](11_non_iid_algorithms.ipynb)
