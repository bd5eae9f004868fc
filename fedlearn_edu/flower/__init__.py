"""From the classroom to deployment: the kit's FedAvg as a Flower app (optional extra).

Install with ``pip install -e .[flower]`` (Flower with its Ray simulation engine).

- :mod:`~fedlearn_edu.flower.client_app`: the Flower ClientApp, the kit's
  :func:`~fedlearn_edu.client_update` on the node's own partition;
- :mod:`~fedlearn_edu.flower.server_app`: the Flower ServerApp, a FedAvg strategy with
  the kit's sampling, aggregation and server optimizer;
- :mod:`~fedlearn_edu.flower.config`: one :class:`~fedlearn_edu.FLConfig` as Flower's run config;
- :mod:`~fedlearn_edu.flower.node_data`: each node's partition, in its own file;
- :mod:`~fedlearn_edu.flower.certificates`: a local CA and TLS certificates;
- :mod:`~fedlearn_edu.flower.runner`: :func:`run_flower_simulation` (Flower's simulation
  engine) and :func:`deploy` (one SuperLink and K SuperNodes on 127.0.0.1);
- :mod:`~fedlearn_edu.flower.report`: compare with the kit, sanitise logs;
- ``python -m fedlearn_edu.flower.deploy --rounds 3 --nodes 2``: the deployment script.

Importing this package does not import Flower; the two app modules do.
"""
from .config import check_flower_config, from_run_config, to_run_config
from .report import Comparison, compare_with_kit, stable_log_lines
from .runner import APP_DIR, FlowerRun, deploy, run_flower_simulation

__all__ = ["APP_DIR", "Comparison", "FlowerRun", "check_flower_config", "compare_with_kit", "deploy",
           "from_run_config", "run_flower_simulation", "stable_log_lines", "to_run_config"]
