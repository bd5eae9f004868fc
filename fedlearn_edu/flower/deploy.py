"""A real Flower deployment on this machine, as a student would start it, then compared
with the kit's own simulation of the same config.

    python -m fedlearn_edu.flower.deploy --rounds 3 --nodes 2
    python -m fedlearn_edu.flower.deploy --rounds 3 --nodes 2 --workdir deployment --print-commands

What it does: writes each node's partition to its own file; makes a CA and a certificate
for 127.0.0.1/localhost; starts ``flower-superlink`` with TLS and one ``flower-supernode``
per node (``--root-certificates``, ``--node-config`` naming only its own file) on free
ports of 127.0.0.1; starts the run with ``flwr run <app> <connection>``; waits; reads the
logs and the final accuracy; stops every process by its id (also on failure); prints
start-up time, time per round, total time and accuracy next to the kit's simulation.
``--print-commands`` also prints the commands to type by hand (with ``--workdir``).
"""
from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from ..i18n import LANGUAGES, set_language, tr
from ..simulation import FLConfig
from .config import NODE_EVALUATION
from .report import compare_with_kit
from .runner import APP_DIR, CONNECTION, RUN_CONFIG_FILE, deploy


def build_parser() -> argparse.ArgumentParser:
    """The options, their help in the kit's language (``--language`` or ``FEDLEARN_EDU_LANGUAGE``, as in
    :mod:`fedlearn_edu.cli`)."""
    p = argparse.ArgumentParser(prog="python -m fedlearn_edu.flower.deploy",
                                description=tr("A real Flower deployment on this machine, as a student would start "
                                               "it, then compared with the kit's own simulation of the same config."))
    p.add_argument("--rounds", type=int, default=3, help=tr("communication rounds R (default 3)"))
    p.add_argument("--nodes", type=int, default=2, help=tr("SuperNodes = clients K (default 2)"))
    p.add_argument("--dataset", default="article", help=tr("article, digits or breast_cancer"))
    p.add_argument("--partition", default="iid", help=tr("iid, dirichlet, shards or quantity"))
    p.add_argument("--alpha", type=float, default=0.5, help=tr("Dirichlet concentration"))
    p.add_argument("--local-epochs", type=int, default=1, help="E")
    p.add_argument("--batch-size", type=int, default=32, help="B")
    p.add_argument("--client-learning-rate", type=float, default=0.1)
    p.add_argument("--server-optimizer", default="fedavg", help="fedavg, fedavgm, fedadagrad, fedadam, fedyogi")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--node-evaluation", default="last", choices=NODE_EVALUATION,
                   help=tr("rounds in which the nodes evaluate the global model on their own rows"))
    p.add_argument("--workdir", default=None, help=tr("keep certificates, node files, logs and results here"))
    p.add_argument("--timeout", type=float, default=600.0, help=tr("seconds for start-up and for the run, each"))
    p.add_argument("--print-commands", action="store_true", help=tr("also print the commands to type by hand"))
    p.add_argument("--language", choices=sorted(LANGUAGES), default="en",
                   help=tr("language of the help and the output: en or zh (also FEDLEARN_EDU_LANGUAGE)"))
    return p


def hand_commands(workdir: str, nodes: int) -> str:
    """The commands a student types in separate terminals for the same deployment
    (certificates and node files as this script writes them into ``workdir``)."""
    workdir = str(Path(workdir).resolve())
    w = shlex.quote(workdir)
    lines = [tr("# 1. SuperLink (terminal 1)"),
             f"flower-superlink --ssl-ca-certfile {w}/certificates/ca.crt \\",
             f"    --ssl-certfile {w}/certificates/server.pem --ssl-keyfile {w}/certificates/server.key \\",
             "    --host 127.0.0.1 --port 9093 --disable-runtime-dependency-installation --enable-supernode-auth"]
    lines += [tr("# 2. the SuperLink connection in $FLWR_HOME/config.toml (default ~/.flwr), then admit each node's "
                 "key"),
              "cat >> ~/.flwr/config.toml <<'EOF'",
              f"[superlink.{CONNECTION}]",
              'address = "127.0.0.1:9093"',
              f'root-certificates = "{workdir}/certificates/ca.crt"',
              "EOF"]
    lines += [f"flwr supernode register {w}/certificates/node-{k}-auth.pub {CONNECTION}" for k in range(nodes)]
    for k in range(nodes):
        lines += [tr("# {step}. SuperNode {node} (terminal {terminal}): only its own file, signed with its own "
                     "key").format(step=k + 3, node=k, terminal=k + 2),
                  f"flower-supernode --root-certificates {w}/certificates/ca.crt --superlink 127.0.0.1:9093 \\",
                  f"    --host 127.0.0.1 --port {9094 + k} --ssl-certfile {w}/certificates/node-{k}.pem \\",
                  f"    --ssl-keyfile {w}/certificates/node-{k}.key --ssl-ca-certfile {w}/certificates/ca.crt \\",
                  f"    --auth-supernode-private-key {w}/certificates/node-{k}-auth \\",
                  f"    --node-config 'partition-id={k} num-partitions={nodes} "
                  f"data-file=\"{workdir}/data/node-{k}.npz\"'"]
    # the run's whole config (rounds, data, E, B, learning rates, ...) is the file deploy() wrote and ran with
    lines += [tr("# {step}. the run").format(step=nodes + 3),
              f"flwr run {APP_DIR} {CONNECTION} --stream --run-config {w}/{RUN_CONFIG_FILE}"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    from ..cli import _language

    argv = sys.argv[1:] if argv is None else list(argv)
    set_language(_language(argv), figures=False)     # before the parser, so its help is translated too
    args = build_parser().parse_args(argv)
    try:
        config = FLConfig(n_clients=args.nodes, rounds=args.rounds, dataset=args.dataset, partition=args.partition,
                          alpha=args.alpha, local_epochs=args.local_epochs, batch_size=args.batch_size,
                          client_learning_rate=args.client_learning_rate, server_optimizer=args.server_optimizer,
                          seed=args.seed)
    except (TypeError, ValueError) as err:
        print(tr("error: {error}").format(error=err), file=sys.stderr)
        return 2
    print(tr("deploying: 1 SuperLink + {nodes} SuperNodes on 127.0.0.1 (TLS), {rounds} rounds ...").format(
        nodes=args.nodes, rounds=args.rounds), flush=True)
    run = deploy(config, workdir=args.workdir, node_evaluation=args.node_evaluation, timeout=args.timeout)
    comparison = compare_with_kit(run)
    _print_report(run, comparison, args)
    return 0 if comparison.equal() and not run.processes_left() else 1


def _print_report(run, comparison, args) -> None:
    """What the deployment measured, next to the kit's simulation of the same config."""
    kit = comparison.histories["per_client"]
    print(tr("start-up (SuperLink listening, {nodes} SuperNodes registered): {seconds} s").format(
        nodes=args.nodes, seconds=f"{run.startup_seconds:.1f}"))
    print(tr("time per round: {times} (mean {mean} s)").format(
        times=", ".join(f"{s:.1f} s" for s in run.round_seconds), mean=f"{run.round_seconds.mean():.1f}"))
    print(tr("total: {seconds} s").format(seconds=f"{run.total_seconds:.1f}"))
    print(tr("final test accuracy: {accuracy} (per round: {per_round})").format(
        accuracy=f"{run.final_accuracy:.3f}", per_round=", ".join(f"{a:.3f}" for a in run.accuracy)))
    print(tr("kit simulation, same config: accuracy {accuracy}; time per round {per_client} ms (per-client "
             "engine), {vectorized} ms (vectorised)").format(
        accuracy=f"{kit.final_accuracy:.3f}",
        per_client=f"{comparison.kit_seconds_per_round('per_client') * 1e3:.1f}",
        vectorized=f"{comparison.kit_seconds_per_round('vectorized') * 1e3:.2f}"))
    print(tr("largest |w_flower - w_kit|: {differences}; equal to the simulation: {equal}").format(
        differences=", ".join(f"{e} {d:.1e}" for e, d in comparison.max_difference.items()),
        equal=comparison.equal()))
    print(tr("processes left running: {processes}").format(processes=run.processes_left() or tr("none")))
    if args.workdir:
        print(tr("logs, certificates, node files and results kept in {workdir}").format(workdir=args.workdir))
        if args.print_commands:
            print("\n" + tr("the same deployment by hand:") + "\n" + hand_commands(args.workdir, args.nodes))


if __name__ == "__main__":
    sys.exit(main())
