"""Run the kit's FLConfig on Flower: with Flower's simulation engine, or as a real
deployment of one SuperLink and K SuperNodes on 127.0.0.1, both over TLS.

>>> run = deploy(FLConfig(n_clients=2, rounds=3))             # doctest: +SKIP
>>> run.final_accuracy, run.startup_seconds, run.round_seconds  # doctest: +SKIP

Both functions start every process themselves (free ports chosen now, certificates made
now, a private ``FLWR_HOME``), start the run with ``flwr run <app> <connection>``, wait
for it, read the ServerApp's ``result.json`` and ``final_weights.npz``, and stop every
process by its id in a ``finally`` block, also after an error or a timeout.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..simulation import FLConfig
from .certificates import Certificates, generate_certificates, generate_node_auth_keys
from .config import check_flower_config, to_run_config
from .node_data import write_node_files
from .processes import (
    FlowerProcess,
    flower_environment,
    flower_executable,
    free_port,
    group_alive,
    pid_alive,
    wait_for_log,
    write_flower_config,
)

#: the Flower app directory (pyproject.toml with the ServerApp and ClientApp components)
APP_DIR = Path(__file__).resolve().parent / "app"
CONNECTION = "fedlearn-local"
#: the run's config, written into the work folder and passed to ``flwr run --run-config`` (also by hand)
RUN_CONFIG_FILE = "run-config.toml"
HOST = "127.0.0.1"
#: logged by ``flower-superlink`` when its HTTPS API listens, by ``flower-supernode`` once registered
SUPERLINK_READY = "Uvicorn running on https://"
SUPERNODE_CONNECTED = "SuperNode ID:"
#: what Ray says when its node did not start within its fixed 30 s
RAY_START_FAILED = "timed out during startup"


@dataclass
class FlowerRun:
    """What a Flower run gave back.

    Attributes
    ----------
    mode : "simulation" or "deployment"
    config : FLConfig
    accuracy, loss : ndarray (R,), the global model on the server's held-out test set
    initial_accuracy : float
    final_weights : list of ndarray, the last global model
    participants : list of R lists of client ids
    node_evaluation : dict round -> aggregated node-side metrics
    round_seconds : ndarray (R,), wall-clock seconds per round, measured in the ServerApp
    startup_seconds : float, from the first process start until every process was up
        (deployment: the SuperLink listening and all SuperNodes registered; simulation: the
        SuperLink listening, Ray then starts inside round 1)
    total_seconds : float, from the first process start until the run finished
    logs : dict process name -> log text
    pids : dict process name -> [process id (also its group's id), ids of the helpers it started]
    workdir : Path, certificates, node files, logs and results (None once deleted)
    """

    mode: str
    config: FLConfig
    accuracy: np.ndarray
    loss: np.ndarray
    initial_accuracy: float
    final_weights: list
    participants: list
    node_evaluation: dict
    round_seconds: np.ndarray
    startup_seconds: float
    total_seconds: float
    logs: dict = field(repr=False)
    pids: dict = field(default_factory=dict)
    workdir: Path | None = None

    @property
    def final_accuracy(self) -> float:
        return float(self.accuracy[-1])

    def max_weight_difference(self, weights) -> float:
        """Largest absolute difference between this run's final model and ``weights``."""
        return max(float(np.max(np.abs(np.asarray(a, np.float64) - np.asarray(b, np.float64))))
                   for a, b in zip(self.final_weights, weights, strict=True))

    def processes_left(self) -> list[str]:
        """Names of the processes of this run of which anything still runs: the process, its
        group, or a helper it started (none after a run)."""
        return [name for name, (pid, *helpers) in self.pids.items()
                if group_alive(pid) or any(pid_alive(h) for h in helpers)]

    def log_lines(self, process: str, contains: str) -> list[str]:
        """The lines of one process's log that contain ``contains`` (colour codes removed)."""
        text = self.logs.get(process, "")
        for code in ("\x1b[92m", "\x1b[93m", "\x1b[91m", "\x1b[0m", "\x1b[1m", "\x1b[32m", "\x1b[33m"):
            text = text.replace(code, "")
        return [line.rstrip() for line in text.splitlines() if contains in line]


def _read_result(result_dir: Path) -> dict:
    path = result_dir / "result.json"
    if not path.exists():
        raise RuntimeError(f"the ServerApp wrote no {path}; see the logs in {result_dir.parent}")
    summary = json.loads(path.read_text())
    with np.load(result_dir / "final_weights.npz") as f:
        summary["final_weights"] = [f[f"arr_{i}"] for i in range(len(f.files))]
    return summary


def _write_run_config(path: Path, run_config: dict) -> Path:
    import tomli_w  # installed with flwr
    path.write_text(tomli_w.dumps(run_config), encoding="utf-8")
    return path


def _flwr_run(workdir: Path, env: dict, run_config: Path, timeout: float,
              federation_config: str | None = None) -> FlowerProcess:
    """``flwr run <app> <connection> --run-config <file> --stream``, waited for; its process."""
    command = ["flwr", "run", str(APP_DIR), CONNECTION, "--run-config", str(run_config), "--stream"]
    if federation_config:
        command += ["--federation-config", federation_config]
    run = FlowerProcess.start("flwr run", command, workdir / "logs" / "flwr-run.log", env, cwd=workdir)
    try:
        run.popen.wait(timeout=timeout)
    except Exception:
        run.stop()
        raise TimeoutError(f"flwr run did not finish within {timeout:.0f} s; its log ends with:\n"
                           f"{run.log_text()[-3000:]}") from None
    if run.popen.returncode != 0:
        raise RuntimeError(f"flwr run exited with code {run.popen.returncode}:\n{run.log_text()[-3000:]}")
    return run


def _superlink_command(certs: Certificates, port: int, simulation: bool) -> list[str]:
    command = ["flower-superlink", "--ssl-ca-certfile", str(certs.ca_certificate),
               "--ssl-certfile", str(certs.server_certificate), "--ssl-keyfile", str(certs.server_key),
               "--host", HOST, "--port", str(port), "--disable-runtime-dependency-installation"]
    # a deployment admits only the SuperNodes whose public keys were registered with the CLI
    return command + ["--simulation"] if simulation else command + ["--enable-supernode-auth"]


def _register_supernode(public_key: Path, workdir: Path, env: dict, timeout: float) -> None:
    """``flwr supernode register <public key> <connection>``: admit one SuperNode."""
    command = [flower_executable("flwr"), "supernode", "register", str(public_key), CONNECTION]
    done = subprocess.run(command, cwd=workdir, env=env, capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        raise RuntimeError(f"flwr supernode register failed ({done.returncode}):\n{done.stdout}{done.stderr}")


def supernode_command(certs: Certificates, superlink_port: int, node: int, *, runtime_port: int,
                      n_nodes: int, data_file: Path, auth_key: Path | None = None) -> list[str]:
    """The ``flower-supernode`` command of node ``node``: TLS to the SuperLink (root
    certificate), TLS on its own Runtime API, a node config naming only its own file, and
    (``auth_key``) the private key it signs its requests with."""
    node_config = f'partition-id={node} num-partitions={n_nodes} data-file="{data_file}"'
    command = ["flower-supernode", "--root-certificates", str(certs.ca_certificate),
               "--superlink", f"{HOST}:{superlink_port}", "--host", HOST, "--port", str(runtime_port),
               "--ssl-certfile", str(certs.node_certificates[node]), "--ssl-keyfile", str(certs.node_keys[node]),
               "--ssl-ca-certfile", str(certs.ca_certificate), "--node-config", node_config]
    return command + ["--auth-supernode-private-key", str(auth_key)] if auth_key else command


def _stop_all(processes: list[FlowerProcess]) -> None:
    """Stop every process by its id (last started first), with the helpers in its group."""
    for process in reversed(processes):
        process.stop()


def _finish(mode: str, config: FLConfig, summary: dict, processes: list[FlowerProcess], *, t0: float,
            startup: float, workdir: Path, keep: bool) -> FlowerRun:
    run = FlowerRun(
        mode=mode, config=config, accuracy=np.asarray(summary["accuracy"], dtype=np.float64),
        loss=np.asarray(summary["loss"], dtype=np.float64), initial_accuracy=float(summary["initial_accuracy"]),
        final_weights=summary["final_weights"], participants=summary["participants"],
        node_evaluation=summary["node_evaluation"], round_seconds=np.asarray(summary["round_seconds"]),
        startup_seconds=startup, total_seconds=time.perf_counter() - t0,
        logs={p.name: p.log_text() for p in processes}, pids={p.name: [p.pid, *p.helper_pids] for p in processes},
        workdir=workdir if keep else None)
    return run


def _workdir(workdir: str | Path | None) -> tuple[Path, bool]:
    if workdir is None:
        return Path(tempfile.mkdtemp(prefix="fedlearn-flower-")), False
    path = Path(workdir).resolve()      # the processes run in it: every path they get is absolute
    path.mkdir(parents=True, exist_ok=True)
    return path, True


def run_flower_simulation(config: FLConfig, *, workdir: str | Path | None = None, cpus: int = 2,
                          timeout: float = 600.0, attempts: int = 2) -> FlowerRun:
    """Run ``config`` on Flower's simulation engine (Ray): K simulated SuperNodes in one
    process, started by ``flwr run`` on a SuperLink in simulation mode (over TLS).

    Parameters
    ----------
    config : FLConfig (devices, SCAFFOLD and compression are not available on Flower)
    workdir : keep certificates, logs and results here (default: a temporary directory, deleted)
    cpus : CPUs Ray may use; one ClientApp actor uses them all (one TensorFlow import, the
        simulated nodes take turns), which is fastest for the kit's small models
    timeout : seconds for the whole run
    attempts : int >= 1; Ray gives its node 30 s to start and fails on a busy machine, so a
        run whose simulation engine did not start is tried again (in a fresh directory)
    """
    check_flower_config(config)
    workdir, keep = _workdir(workdir)
    for attempt in range(1, attempts + 1):
        try:
            run = _simulate_once(config, workdir / f"attempt-{attempt}", cpus, timeout)
            break
        except RuntimeError as err:
            if attempt == attempts or RAY_START_FAILED not in str(err):
                raise
    run.workdir = run.workdir if keep else None
    if not keep:
        shutil.rmtree(workdir, ignore_errors=True)
    return run


def _simulate_once(config: FLConfig, workdir: Path, cpus: int, timeout: float) -> FlowerRun:
    workdir.mkdir(parents=True)
    env = flower_environment(workdir / "flwr-home")
    processes: list[FlowerProcess] = []
    t0 = time.perf_counter()
    try:
        certs = generate_certificates(workdir / "certificates")
        port = free_port()
        write_flower_config(workdir / "flwr-home", CONNECTION, f"{HOST}:{port}", certs.ca_certificate)
        processes.append(FlowerProcess.start("superlink", _superlink_command(certs, port, simulation=True),
                                             workdir / "logs" / "superlink.log", env, cwd=workdir))
        wait_for_log(processes[0], SUPERLINK_READY, timeout=60.0)
        startup = time.perf_counter() - t0
        run_config = _write_run_config(workdir / RUN_CONFIG_FILE,
                                       to_run_config(config, result_dir=str(workdir / "result")))
        federation = (f"num-supernodes={config.n_clients} client-resources-num-cpus={cpus} "
                      f"init-args-num-cpus={cpus}")
        processes.append(_flwr_run(workdir, env, run_config, timeout, federation))
        if not (workdir / "result" / "result.json").exists() and RAY_START_FAILED in processes[-1].log_text():
            raise RuntimeError(f"{RAY_START_FAILED}: Ray did not start in time (see {workdir / 'logs'})")
        summary = _read_result(workdir / "result")
    finally:
        _stop_all(processes)
    return _finish("simulation", config, summary, processes, t0=t0, startup=startup, workdir=workdir, keep=True)


def deploy(config: FLConfig, *, workdir: str | Path | None = None, node_evaluation: str = "last",
           timeout: float = 600.0) -> FlowerRun:
    """A real deployment on this machine: one SuperLink and K = ``config.n_clients``
    SuperNodes as separate processes on 127.0.0.1, TLS everywhere, each node holding only
    its own partition file; the run started with ``flwr run``; everything stopped at the end.

    Parameters
    ----------
    config : FLConfig (n_clients SuperNodes are started)
    workdir : keep certificates, node files, logs and results here (default: temporary, deleted)
    node_evaluation : "none", "last" or "every": rounds in which the nodes also evaluate
        the global model on their own rows (each is one more ClientApp process per node)
    timeout : seconds for the start-up and for the run, each
    """
    check_flower_config(config)
    workdir, keep = _workdir(workdir)
    env = flower_environment(workdir / "flwr-home")
    processes: list[FlowerProcess] = []
    t0 = time.perf_counter()
    try:
        k = config.n_clients
        certs = generate_certificates(workdir / "certificates", n_nodes=k)
        auth_keys, auth_public_keys = generate_node_auth_keys(workdir / "certificates", n_nodes=k)
        node_files, server_file = write_node_files(config, workdir / "data")
        port = free_port()
        write_flower_config(workdir / "flwr-home", CONNECTION, f"{HOST}:{port}", certs.ca_certificate)
        superlink = FlowerProcess.start("superlink", _superlink_command(certs, port, simulation=False),
                                        workdir / "logs" / "superlink.log", env, cwd=workdir)
        processes.append(superlink)
        wait_for_log(superlink, SUPERLINK_READY, timeout=timeout)
        for public_key in auth_public_keys:
            _register_supernode(public_key, workdir, env, timeout)
        for node in range(k):
            command = supernode_command(certs, port, node, runtime_port=free_port(), n_nodes=k,
                                        data_file=node_files[node], auth_key=auth_keys[node])
            processes.append(FlowerProcess.start(f"supernode-{node}", command,
                                                 workdir / "logs" / f"supernode-{node}.log", env, cwd=workdir))
        for node in processes[1:]:
            wait_for_log(node, SUPERNODE_CONNECTED, timeout=timeout)
        startup = time.perf_counter() - t0
        run_config = _write_run_config(workdir / RUN_CONFIG_FILE, to_run_config(
            config, result_dir=str(workdir / "result"), server_data_file=str(server_file),
            node_evaluation=node_evaluation))
        processes.append(_flwr_run(workdir, env, run_config, timeout))
        summary = _read_result(workdir / "result")
    finally:
        _stop_all(processes)
    run = _finish("deployment", config, summary, processes, t0=t0, startup=startup, workdir=workdir, keep=keep)
    if not keep:
        shutil.rmtree(workdir, ignore_errors=True)
    return run
