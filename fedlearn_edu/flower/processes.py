"""Start and stop Flower's processes on one machine, each with its own log file.

Every process starts in its own session (``start_new_session=True``), so its id is also
the id of its process group. :meth:`FlowerProcess.stop` first lists the helpers Flower
started underneath (the SuperExec, each ServerApp and ClientApp, Ray's workers in a
simulation; some in sessions of their own), then signals the group and each helper by its
id, so that no orphan is left. Nothing is stopped by name.
"""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

#: where ``flwr`` finds SuperLink connections (the Flower configuration file)
FLOWER_CONFIG_FILE = "config.toml"


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that is free on ``host`` right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def scripts_folder() -> Path:
    """Where the running Python's environment keeps its commands (``bin`` or ``Scripts``).

    A kernel registered from a virtual environment runs that environment's Python even
    when the environment is not activated, so Flower's commands are found here, not
    necessarily on PATH.
    """
    return Path(sys.executable).parent


def flower_executable(name: str) -> str:
    """The path of one of Flower's commands (``flwr``, ``flower-superlink``,
    ``flower-supernode``): beside the running Python first, then on PATH.

    Raises
    ------
    FileNotFoundError
        naming the command and the package that provides it, when it is in neither place.
    """
    folder = scripts_folder()
    for candidate in (folder / name, folder / f"{name}.exe", folder / "Scripts" / f"{name}.exe"):
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    found = shutil.which(name)
    if found:
        return found
    raise FileNotFoundError(
        f"{name} was found neither beside this Python ({folder}) nor on PATH; it comes with Flower: "
        f"{Path(sys.executable).name} -m pip install \"fedlearn_edu[flower]\" (or \"flwr[simulation]\")")


def flower_environment(flwr_home: Path) -> dict[str, str]:
    """The environment of every Flower process of a run.

    The running Python's command folder comes first on PATH, so that Flower's own helper
    processes (the SuperExec, ServerApp and ClientApp commands) come from the same
    environment as the kit. ``FLWR_HOME`` keeps this run's Flower configuration, installed app and state out of the
    user's ``~/.flwr``; telemetry and the update check are off (no network beyond 127.0.0.1);
    TensorFlow is quiet; each SuperExec looks for new tasks every 0.25 s (default 1 s).
    """
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(scripts_folder())] + ([env["PATH"]] if env.get("PATH") else []))
    env.update({"FLWR_HOME": str(flwr_home), "FLWR_TELEMETRY_ENABLED": "0", "FLWR_DISABLE_UPDATE_CHECK": "1",
                "TF_CPP_MIN_LOG_LEVEL": "3", "TF_ENABLE_ONEDNN_OPTS": "0", "PYTHONUNBUFFERED": "1",
                "RAY_DEDUP_LOGS": "0", "RAY_USAGE_STATS_ENABLED": "0",
                "FLWR_SUPEREXEC_TASK_POLL_INTERVAL": "0.25"})
    return env


def write_flower_config(flwr_home: Path, connection: str, address: str, root_certificates: Path) -> Path:
    """Write the Flower configuration file with one SuperLink connection over TLS.

    ``flwr run <app> <connection>`` then reaches the SuperLink at ``address`` and checks
    its certificate against ``root_certificates`` (no ``insecure``).
    """
    flwr_home.mkdir(parents=True, exist_ok=True)
    path = flwr_home / FLOWER_CONFIG_FILE
    path.write_text(f'[superlink]\ndefault = "{connection}"\n\n'
                    f'[superlink.{connection}]\naddress = "{address}"\n'
                    f'root-certificates = "{root_certificates}"\n', encoding="utf-8")
    return path


@dataclass
class FlowerProcess:
    """One started process: its name, command, log file and :class:`subprocess.Popen`."""

    name: str
    command: list[str]
    log_path: Path
    popen: subprocess.Popen = field(repr=False)
    started_at: float = 0.0
    helper_pids: list = field(default_factory=list)

    @classmethod
    def start(cls, name: str, command: list[str], log_path: Path, env: dict[str, str],
              cwd: Path | None = None) -> "FlowerProcess":
        """Start ``command`` in a new session, stdout and stderr into ``log_path``; a Flower
        command is looked up with :func:`flower_executable`."""
        command = [flower_executable(command[0]), *command[1:]]
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(log_path, "wb") as log:
            popen = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     env=env, cwd=cwd, start_new_session=True)
        return cls(name, command, log_path, popen, time.perf_counter())

    @property
    def pid(self) -> int:
        return self.popen.pid

    def running(self) -> bool:
        return self.popen.poll() is None

    def log_text(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace") if self.log_path.exists() else ""

    def _signal_group(self, sig: int) -> None:
        try:
            os.killpg(self.pid, sig)        # the group this process leads (new session)
        except (ProcessLookupError, PermissionError):
            pass

    def stop(self, grace: float = 5.0) -> int | None:
        """SIGTERM to the process group and to every helper, SIGKILL to what is left after
        ``grace`` seconds; the exit code."""
        self.helper_pids = sorted(set(self.helper_pids) | set(descendants(self.pid)))
        self._signal_group(signal.SIGTERM)
        _signal_pids(self.helper_pids, signal.SIGTERM)
        try:
            self.popen.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            pass
        deadline = time.perf_counter() + grace
        while any(pid_alive(p) for p in self.helper_pids) and time.perf_counter() < deadline:
            time.sleep(0.05)
        self._signal_group(signal.SIGKILL)  # whatever outlived the polite request
        _signal_pids([p for p in self.helper_pids if pid_alive(p)], signal.SIGKILL)
        try:
            code = self.popen.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            code = None
        deadline = time.perf_counter() + grace
        while self.alive() and time.perf_counter() < deadline:   # killed helpers being reaped
            time.sleep(0.05)
        return code

    def alive(self) -> bool:
        """True while this process's group or any helper it started is still running."""
        return group_alive(self.pid) or any(pid_alive(p) for p in self.helper_pids)


def descendants(pid: int) -> list[int]:
    """Ids of every process below ``pid`` (children, their children, ...), from /proc."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def pid_alive(pid: int) -> bool:
    """True while process ``pid`` exists and is not a zombie."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def _signal_pids(pids: list[int], sig: int) -> None:
    for pid in pids:
        try:
            os.kill(pid, sig)
        except (ProcessLookupError, PermissionError):
            pass


def group_alive(pgid: int) -> bool:
    """True while any process of the group ``pgid`` exists and is not a zombie."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            return True
    return False


def wait_for_log(process: FlowerProcess, text: str, timeout: float, count: int = 1) -> float:
    """Wait until ``text`` appears ``count`` times in the process's log; the seconds waited.

    Raises ``RuntimeError`` (with the log's tail) when the process exits first, and
    ``TimeoutError`` after ``timeout`` seconds.
    """
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < timeout:
        if process.log_text().count(text) >= count:
            return time.perf_counter() - t0
        if not process.running():
            raise RuntimeError(f"{process.name} exited with code {process.popen.returncode} before "
                               f"logging {text!r}; its log ends with:\n{process.log_text()[-2000:]}")
        time.sleep(0.1)
    raise TimeoutError(f"{process.name} did not log {text!r} within {timeout:.0f} s; its log ends with:\n"
                       f"{process.log_text()[-2000:]}")
