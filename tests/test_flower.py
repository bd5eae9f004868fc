"""fedlearn_edu.flower: the kit's FedAvg as a Flower ClientApp and ServerApp.

Fast tests check the config codec, the certificates, the node files and the two apps in
this process. Two slow tests start real Flower processes (run side by side, since both
mostly wait): Flower's simulation engine must give the kit's global model to float
tolerance, and a TLS deployment of one SuperLink and two SuperNodes on 127.0.0.1 must
give the kit's accuracy and leave no process behind.
"""
from __future__ import annotations

import concurrent.futures
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import fedlearn_edu as fl

flwr = pytest.importorskip("flwr")

from cryptography import x509  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec  # noqa: E402
from flwr.app import ArrayRecord, Context, Message, Metadata, RecordDict  # noqa: E402
from flwr.serverapp import Grid  # noqa: E402

from fedlearn_edu.flower import config as fc  # noqa: E402
from fedlearn_edu.flower import node_data, report, runner  # noqa: E402
from fedlearn_edu.flower.certificates import generate_certificates, generate_node_auth_keys  # noqa: E402
from fedlearn_edu.flower.processes import (  # noqa: E402
    FlowerProcess,
    flower_environment,
    free_port,
    wait_for_log,
    write_flower_config,
)

ROOT = Path(__file__).resolve().parents[1]
RTOL = 1e-5


# -- config codec -------------------------------------------------------------------------
@pytest.mark.parametrize("config", [
    fl.FLConfig(),
    fl.FLConfig(n_clients=4, rounds=2, fraction=0.5, batch_size=None, local_steps=3, hidden_units=(16, 8),
                server_optimizer="fedadam", server_learning_rate=0.05, partition="dirichlet", alpha=0.3,
                mu=0.01, client_momentum=0.5, seed=7, dataset="digits"),
])
def test_run_config_round_trip(config):
    run_config = fc.to_run_config(config, result_dir="/tmp/x")
    assert all(isinstance(v, (bool, int, float, str)) for v in run_config.values())
    assert "engine" not in run_config and run_config["result-dir"] == "/tmp/x"
    assert fc.from_run_config(run_config) == config.replace(engine="auto")


def test_run_config_reads_flower_overrides():
    back = fc.from_run_config({"rounds": 3, "client-learning-rate": 1, "batch-size": "none", "hidden-units": "32"})
    assert back.rounds == 3 and back.client_learning_rate == 1.0 and back.batch_size is None
    assert back.hidden_units == (32,)
    with pytest.raises(ValueError, match="hidden-units"):
        fc.from_run_config({"hidden-units": "wide"})
    with pytest.raises(ValueError, match="batch-size"):
        fc.from_run_config({"batch-size": "big"})
    with pytest.raises(ValueError, match="node-evaluation"):
        fc.app_value({"node-evaluation": "sometimes"}, "node_evaluation")


@pytest.mark.parametrize("change, word", [({"scaffold": True}, "scaffold"), ({"compression": "int8"}, "compression"),
                                          ({"dropout": 0.2}, "devices"), ({"deadline": 1.0}, "devices")])
def test_features_flower_does_not_run_are_refused(change, word):
    with pytest.raises(ValueError, match=word):
        fc.to_run_config(fl.FLConfig(**change))


def test_app_pyproject_matches_the_config_defaults():
    text = (runner.APP_DIR / "pyproject.toml").read_text()
    assert fc.pyproject_config_table() in text
    assert 'serverapp = "fedlearn_edu.flower.server_app:app"' in text
    assert 'clientapp = "fedlearn_edu.flower.client_app:app"' in text


def test_flower_commands_are_found_beside_the_kernels_python(monkeypatch, tmp_path):
    """A kernel of a virtual environment that is not activated: PATH lacks its commands."""
    from fedlearn_edu.flower import processes
    monkeypatch.setenv("PATH", str(tmp_path))
    for name in ("flwr", "flower-superlink", "flower-supernode"):
        found = Path(processes.flower_executable(name))
        assert found.parent == Path(sys.executable).parent and found.name.startswith(name)
    env = flower_environment(tmp_path / "flwr-home")
    assert env["PATH"].split(os.pathsep)[0] == str(Path(sys.executable).parent)
    with pytest.raises(FileNotFoundError, match=r"flower-nonexistent .*pip install"):
        processes.flower_executable("flower-nonexistent")


@pytest.mark.slow      # a fresh Python process imports TensorFlow
def test_importing_the_kit_does_not_import_flower():
    code = ("import sys, fedlearn_edu, fedlearn_edu.flower; "
            "print(any(m == 'flwr' or m.startswith('flwr.') for m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert out.stdout.strip() == "False", out.stderr


# -- certificates and node files ------------------------------------------------------------
def test_certificates_chain_to_the_local_ca(tmp_path):
    certs = generate_certificates(tmp_path, n_nodes=2)
    ca = x509.load_pem_x509_certificate(certs.ca_certificate.read_bytes())
    for path in (certs.server_certificate, *certs.node_certificates):
        cert = x509.load_pem_x509_certificate(path.read_bytes())
        cert.verify_directly_issued_by(ca)
        names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        assert "localhost" in names.get_values_for_type(x509.DNSName)
        assert [str(ip) for ip in names.get_values_for_type(x509.IPAddress)] == ["127.0.0.1"]
    assert isinstance(ca.public_key(), ec.EllipticCurvePublicKey)
    assert (certs.server_key.stat().st_mode & 0o777) == 0o600


def test_each_node_file_holds_exactly_the_kits_partition(tmp_path):
    config = fl.FLConfig(n_clients=3, partition="dirichlet", alpha=0.5, seed=3)
    files, server_file = node_data.write_node_files(config, tmp_path)
    sim = fl.Simulation(config)
    for k, path in enumerate(files):
        data = node_data.load_node_data({"partition-id": k, "num-partitions": 3, "data-file": str(path)}, config)
        X, y = sim.client_data(k)
        assert np.array_equal(data.X, X) and np.array_equal(data.y, y) and data.partition_id == k
        simulated = node_data.load_node_data({"partition-id": k, "num-partitions": 3}, config)
        assert np.array_equal(simulated.X, X)
    X_test, y_test, n_classes = node_data.load_server_data(str(server_file), config)
    assert np.array_equal(X_test, sim.dataset.X_test) and n_classes == 3
    with pytest.raises(ValueError, match="partition 0"):
        node_data.load_node_data({"partition-id": 1, "num-partitions": 3, "data-file": str(files[0])}, config)
    with pytest.raises(ValueError, match="num-partitions"):
        node_data.load_node_data({"partition-id": 1, "num-partitions": 4}, config)


# -- the two apps in this process ------------------------------------------------------------
class InProcessGrid(Grid):
    """A Grid that hands each message straight to the ClientApp of its node (no network)."""

    def __init__(self, node_configs: dict[int, dict], run_config: dict):
        from fedlearn_edu.flower.client_app import app
        self.client_app, self.node_configs, self.run_config = app, node_configs, run_config
        self.delivered: list[tuple[int, str]] = []

    def set_run(self, run):
        pass

    @property
    def run(self):
        raise NotImplementedError

    def create_message(self, *args, **kwargs):
        raise NotImplementedError

    def get_node_ids(self):
        return list(self.node_configs)

    def push_messages(self, messages):
        raise NotImplementedError

    def pull_messages(self, message_ids):
        raise NotImplementedError

    def send_and_receive(self, messages, *, timeout=None):
        replies = []
        for m in messages:
            node = m.metadata.dst_node_id
            self.delivered.append((node, m.metadata.message_type))
            incoming = Message(m.content, metadata=Metadata(
                run_id=1, message_id=f"m{len(self.delivered)}", src_node_id=0, dst_node_id=node,
                reply_to_message_id="", group_id="", created_at=time.time(), ttl=3600.0,
                message_type=m.metadata.message_type))
            context = Context(run_id=1, node_id=node, node_config=self.node_configs[node], state=RecordDict(),
                              run_config=self.run_config)
            replies.append(self.client_app(incoming, context))
        return replies


@pytest.fixture
def task_identity(monkeypatch):
    """Messages built by a strategy take the run id of the running task (set by Flower's runtime)."""
    from flwr.supercore.task_identity import TaskIdentity
    monkeypatch.setattr(TaskIdentity, "_run_id", 1)
    monkeypatch.setattr(TaskIdentity, "_node_id", 0)
    monkeypatch.setattr(TaskIdentity, "_task_id", 0)


def _in_process_run(config: fl.FLConfig):
    from fedlearn_edu.flower.server_app import CentralEvaluation, KitStrategy, initial_arrays
    node_ids = [9001, 42, 777, 5][:config.n_clients]          # node ids are not partition ids
    grid = InProcessGrid({n: {"partition-id": k, "num-partitions": config.n_clients}
                          for k, n in enumerate(node_ids)}, fc.to_run_config(config))
    central = CentralEvaluation(config)
    strategy = KitStrategy(config, node_evaluation="none")
    result = strategy.start(grid=grid, initial_arrays=ArrayRecord(initial_arrays(config, 20, 3)),
                            num_rounds=config.rounds, evaluate_fn=central)
    return result, strategy, central, grid


@pytest.mark.parametrize("config", [
    fl.FLConfig(n_clients=3, rounds=2, server_optimizer="fedavgm", client_momentum=0.5),
    fl.FLConfig(n_clients=4, rounds=3, fraction=0.5, server_optimizer="fedadam", partition="dirichlet", seed=2),
    fl.FLConfig(n_clients=3, rounds=2, partition="dirichlet", alpha=0.1, client_weighting="uniform"),
])
def test_in_process_apps_give_the_kits_model(config, task_identity):
    result, strategy, central, grid = _in_process_run(config)
    history = fl.run_experiment(config.replace(engine="per_client"), progress=False)
    for a, b in zip(result.arrays.to_numpy_ndarrays(), history.final_weights, strict=True):
        np.testing.assert_allclose(a, b, rtol=RTOL, atol=1e-7)
    assert strategy.participants == [list(p) for p in history.participants]
    np.testing.assert_allclose(central.accuracy[1:], history.accuracy, atol=1e-6)
    if config.fraction < 1:     # the server asked each node once which kit client it is
        assert sum(kind == "query" for _, kind in grid.delivered) == config.n_clients
        assert sorted(strategy.node_of_client) == list(range(config.n_clients))


# -- real Flower processes ---------------------------------------------------------------
SIMULATION_CONFIG = fl.FLConfig(n_clients=3, rounds=3, server_optimizer="fedavgm", client_momentum=0.5, seed=1)
DEPLOYMENT_CONFIG = fl.FLConfig(n_clients=2, rounds=3)


@pytest.fixture(scope="module")
def flower_runs(tmp_path_factory):
    """Flower's simulation engine and a 2-node deployment, started side by side (each mostly waits
    for Ray, for processes to start and for its pollers); generous timeouts. PATH holds only the
    system's folders, as for a kernel whose environment is not activated: every Flower command
    must come from beside this Python."""
    path = os.environ.get("PATH", "")
    os.environ["PATH"] = os.pathsep.join(p for p in ("/usr/bin", "/bin") if os.path.isdir(p))
    try:
        return _start_flower_runs(tmp_path_factory)
    finally:
        os.environ["PATH"] = path


def _start_flower_runs(tmp_path_factory):
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        simulation = pool.submit(runner.run_flower_simulation, SIMULATION_CONFIG,
                                 workdir=tmp_path_factory.mktemp("simulation"), timeout=400)
        deployment = pool.submit(runner.deploy, DEPLOYMENT_CONFIG, workdir=tmp_path_factory.mktemp("deployment"),
                                 timeout=400)
        return {"simulation": simulation.result(), "deployment": deployment.result()}


def test_flower_simulation_engine_gives_the_kits_model(flower_runs):
    run = flower_runs["simulation"]
    comparison = report.compare_with_kit(run)
    for engine, history in comparison.histories.items():
        for a, b in zip(run.final_weights, history.final_weights, strict=True):
            np.testing.assert_allclose(a, b, rtol=RTOL, atol=1e-6, err_msg=engine)
    assert comparison.max_difference["per_client"] < 1e-6
    assert all(comparison.same_accuracy.values())
    assert run.participants == [[0, 1, 2]] * 3
    assert run.processes_left() == []


def test_deployment_over_tls_matches_the_kit_and_cleans_up(flower_runs):
    run = flower_runs["deployment"]
    comparison = report.compare_with_kit(run)
    assert comparison.equal(rtol=RTOL)
    assert abs(run.final_accuracy - comparison.histories["per_client"].final_accuracy) < 1e-6
    assert run.final_accuracy > 0.8
    assert run.processes_left() == []
    assert all(len(run.pids[name]) > 1 for name in ("superlink", "supernode-0", "supernode-1")), \
        "the SuperExec each of them started was found and stopped by its id"
    assert len(run.round_seconds) == 3 and run.startup_seconds > 0
    assert set(run.logs) == {"superlink", "supernode-0", "supernode-1", "flwr run"}
    for k in range(2):      # each SuperNode registered, trained 3 times, evaluated once
        lines = report.stable_log_lines(run, f"supernode-{k}")
        assert "INFO: SuperNode ID: ID" in lines
        assert sum("Receiving: train message" in line for line in lines) == 3
        assert sum("Receiving: evaluate message" in line for line in lines) == 1
    flwr_lines = report.stable_log_lines(run, "flwr run")
    assert sum("aggregate_train: Received 2 results and 0 failures" in line for line in flwr_lines) == 3
    # Flower warns "SuperNode authentication is disabled" unless the SuperLink admits registered keys only
    assert not any("authentication is disabled" in line for line in report.stable_log_lines(run, "superlink"))
    assert run.node_evaluation["3"]["num-examples"] == 800


def test_deployment_commands_use_tls_and_node_local_files(tmp_path):
    certs = generate_certificates(tmp_path, n_nodes=2)
    keys, _ = generate_node_auth_keys(tmp_path, n_nodes=2)
    commands = [runner.supernode_command(certs, 9093, k, runtime_port=9094 + k, n_nodes=2,
                                         data_file=tmp_path / f"node-{k}.npz", auth_key=keys[k])
                for k in range(2)]
    commands.append(runner._superlink_command(certs, 9093, simulation=False))
    assert not any("--insecure" in c for c in commands)
    assert "--enable-supernode-auth" in commands[2]
    for k in range(2):
        assert commands[k][commands[k].index("--auth-supernode-private-key") + 1] == str(keys[k])
    for k in range(2):
        node_config = commands[k][commands[k].index("--node-config") + 1]
        assert f"node-{k}.npz" in node_config and f"node-{1 - k}.npz" not in node_config
        assert commands[k][commands[k].index("--root-certificates") + 1] == str(certs.ca_certificate)
    from fedlearn_edu.flower.deploy import hand_commands
    by_hand = hand_commands(str(tmp_path), 2)
    assert "--insecure" not in by_hand
    # the run by hand uses the whole config the deployment wrote (not a fixed rounds=3), read back as Flower would
    run_line = by_hand.splitlines()[-1]
    assert run_line.endswith(f"--run-config {tmp_path.resolve()}/{runner.RUN_CONFIG_FILE}")
    run_config = runner._write_run_config(tmp_path / runner.RUN_CONFIG_FILE, fc.to_run_config(
        fl.FLConfig(n_clients=2, rounds=7, local_epochs=2), result_dir=str(tmp_path / "result")))
    written = run_config.read_text().splitlines()
    assert "rounds = 7" in written and "local-epochs = 2" in written


def test_node_auth_keys_load_as_flower_loads_them(tmp_path):
    from cryptography.hazmat.primitives.serialization import load_ssh_private_key
    from flwr.cli.supernode.register import try_load_public_key
    keys, public_keys = generate_node_auth_keys(tmp_path, n_nodes=2)
    for private, public in zip(keys, public_keys, strict=True):
        key = load_ssh_private_key(private.read_bytes(), password=None)
        assert isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.name == "secp384r1"
        assert try_load_public_key(public)                    # what `flwr supernode register` accepts
    assert keys[0].read_bytes() != keys[1].read_bytes()


def test_superlink_refuses_an_unregistered_supernode(tmp_path):
    """With --enable-supernode-auth a SuperNode whose key nobody registered cannot join."""
    env = flower_environment(tmp_path / "flwr-home")
    certs = generate_certificates(tmp_path / "certificates", n_nodes=1)
    keys, _ = generate_node_auth_keys(tmp_path / "certificates", n_nodes=1)
    port = free_port()
    write_flower_config(tmp_path / "flwr-home", runner.CONNECTION, f"{runner.HOST}:{port}", certs.ca_certificate)
    processes = []
    try:
        superlink = FlowerProcess.start("superlink", runner._superlink_command(certs, port, simulation=False),
                                        tmp_path / "superlink.log", env, cwd=tmp_path)
        processes.append(superlink)
        wait_for_log(superlink, runner.SUPERLINK_READY, timeout=120.0)
        node = FlowerProcess.start("supernode", runner.supernode_command(
            certs, port, 0, runtime_port=free_port(), n_nodes=1, data_file=tmp_path / "node-0.npz",
            auth_key=keys[0]), tmp_path / "node.log", env,
            cwd=tmp_path)
        processes.append(node)
        node.popen.wait(timeout=120)
        assert node.popen.returncode != 0
        assert "Failed to activate SuperNode" in node.log_text()
        assert runner.SUPERNODE_CONNECTED not in node.log_text()
    finally:
        for process in reversed(processes):
            process.stop()


def test_the_apps_call_the_kits_own_steps():
    """Notebook 10 prints these lines of the apps as 'the same client_update', 'the same functions'."""
    import inspect

    from fedlearn_edu.flower import client_app, server_app
    train = inspect.getsource(client_app.train)
    assert "client_update(" in train and "round_index=server_round - 1" in train
    aggregate = inspect.getsource(server_app.KitStrategy.aggregate_train)
    assert "weighted_average(" in aggregate and "server_optimizer.step(" in aggregate
    # the lines the notebook cuts out are still there
    assert "    result =" in train and "    metrics =" in train
    assert "        counts =" in aggregate and "        metrics =" in aggregate
