"""Command line: ``python -m fedlearn_edu run --clients 10 --rounds 20 ...`` and
``python -m fedlearn_edu exercises --strip notebooks/04_fedavg_step_by_step.ipynb -o student/``.

A thin layer over :func:`fedlearn_edu.run_experiment`: bad values print one line and
exit with status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .data import DATASETS
from .i18n import LANGUAGES, set_language, tr
from .partition import PARTITIONS
from .server import SERVER_OPTIMIZERS


def _batch_size(text: str):
    if text.lower() in ("inf", "full", "none"):
        return None
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer >= 1 or 'inf', got {text!r}") from None


def _language(argv) -> str:
    """The language asked for by ``--language`` (before the parser is built, so its help is translated), else
    ``FEDLEARN_EDU_LANGUAGE``, else English."""
    import os

    first = argparse.ArgumentParser(add_help=False)
    first.add_argument("--language", choices=sorted(LANGUAGES), default=os.environ.get("FEDLEARN_EDU_LANGUAGE", "en"))
    language = first.parse_known_args(argv)[0].language
    return language if language in LANGUAGES else "en"


def _add_run_arguments(run: argparse.ArgumentParser) -> None:
    """The options of ``run``: the FLConfig fields, the target and the output."""
    run.add_argument(
        "--dataset",
        choices=DATASETS,
        default="article",
        help=tr("data set: the article's make_classification data, digits or breast cancer"),
    )
    run.add_argument(
        "--clients", type=int, default=10, help=tr("K, number of clients (1 .. number of training samples)")
    )
    run.add_argument("--rounds", type=int, default=20, help=tr("R, communication rounds (>= 1)"))
    run.add_argument("--fraction", type=float, default=1.0, help=tr("C, share of clients per round, in (0, 1]"))
    run.add_argument("--local-epochs", type=int, default=1, help=tr("E, local epochs per round (>= 1)"))
    run.add_argument(
        "--batch-size", type=_batch_size, default=32, help=tr("B, local batch size (>= 1) or 'inf' for full batch")
    )
    run.add_argument("--client-lr", type=float, default=0.1, help=tr("client learning rate (> 0)"))
    run.add_argument("--client-momentum", type=float, default=0.0, help=tr("local SGD momentum, in [0, 1)"))
    run.add_argument("--mu", type=float, default=0.0, help=tr("FedProx proximal coefficient (>= 0; 0 = FedAvg)"))
    run.add_argument("--server-optimizer", choices=SERVER_OPTIMIZERS, default="fedavg", help=tr("server update rule"))
    run.add_argument(
        "--server-lr",
        type=float,
        default=None,
        help=tr("server learning rate (> 0); default 1 for fedavg/fedavgm, 0.1 fedadagrad, 0.01 fedadam/fedyogi"),
    )
    run.add_argument("--server-momentum", type=float, default=0.9, help=tr("beta of fedavgm, in [0, 1)"))
    run.add_argument("--partition", choices=PARTITIONS, default="iid", help=tr("how the data are split across clients"))
    run.add_argument(
        "--alpha", type=float, default=0.5, help=tr("Dirichlet concentration for dirichlet/quantity (> 0)")
    )
    run.add_argument("--shards", type=int, default=2, help=tr("shards per client for the shards partition (>= 1)"))
    run.add_argument(
        "--devices", action="store_true", help=tr("simulate device speeds and print simulated seconds per round")
    )
    run.add_argument(
        "--dropout", type=float, default=0.0, help=tr("chance a device is unavailable in a round, in [0, 1]")
    )
    run.add_argument("--deadline", type=float, default=None, help=tr("simulated seconds to wait for clients (> 0)"))
    run.add_argument(
        "--straggler-policy",
        choices=("drop", "partial"),
        default="drop",
        help=tr("what happens to a client over the deadline"),
    )
    run.add_argument(
        "--client-weighting",
        choices=("examples", "uniform"),
        default="examples",
        help=tr("the objective: clients weighted by their examples n_k/n (FedAvg) or equally 1/K"),
    )
    run.add_argument(
        "--scaffold",
        action="store_true",
        help=tr("SCAFFOLD control variates against client drift (twice the bytes per round)"),
    )
    run.add_argument(
        "--compression",
        choices=("none", "int8", "int4", "topk"),
        default="none",
        help=tr("how clients compress their update (stochastic 8/4-bit quantisation or top-k)"),
    )
    run.add_argument("--topk-fraction", type=float, default=0.1, help=tr("share of coordinates topk sends, in (0, 1]"))
    run.add_argument("--hidden", type=int, nargs="+", default=[64], help=tr("hidden layer widths (each >= 1)"))
    run.add_argument("--seed", type=int, default=0, help=tr("seed (>= 0)"))
    run.add_argument("--target", type=float, default=0.85, help=tr("target accuracy for the summary, in [0, 1]"))
    run.add_argument("--plot", metavar="FILE.png", default=None, help=tr("write the learning curve to this PNG file"))
    run.add_argument("--quiet", action="store_true", help=tr("print only the summary"))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m fedlearn_edu",
        description=tr("Federated learning simulations from the teaching kit fedlearn_edu."),
        epilog=tr("exit status: 0 finished, 1 the run diverged (NaN or infinite values), 2 bad input"),
    )
    parser.add_argument(
        "--language",
        choices=sorted(LANGUAGES),
        default="en",
        help=tr("language of the help and the output: en or zh (also FEDLEARN_EDU_LANGUAGE)"),
    )
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser(
        "run",
        help=tr("run one federated experiment and print a per-round table"),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
        epilog=tr("exit status: 0 finished, 1 the run diverged (NaN or infinite values), 2 bad input"),
    )
    _add_run_arguments(run)
    exercises = sub.add_parser(
        "exercises",
        help=tr("count the exercises of notebooks, or write copies without their solutions"),
        description=tr(
            "Without --strip: a table of each notebook's exercises, solutions and checkers. "
            "With --strip: a copy of each notebook for students, without the solutions and without "
            "the outputs of its Exercises section; the checker cells stay."
        ),
    )
    exercises.add_argument("notebooks", nargs="+", metavar="NOTEBOOK.ipynb", help=tr("the notebooks to read"))
    exercises.add_argument("--strip", action="store_true", help=tr("write copies without the solutions"))
    exercises.add_argument("-o", "--output", default="student", help=tr("folder for the copies (created if missing)"))
    return parser


def _exercises(args, parser) -> int:
    """``exercises``: the inventory table, or the handouts with ``--strip``."""
    import json

    from .exercises import CHECKERS
    from .handout import exercise_inventory, write_handout

    try:
        if args.strip:
            for notebook in args.notebooks:
                print(
                    tr("wrote {path} (solutions removed, exercise outputs cleared)").format(
                        path=write_handout(notebook, args.output)
                    )
                )
            return 0
        print(f"{'notebook':<40} {'exercises':>9} {'solutions':>9} {'checkers':>8}")
        for notebook in args.notebooks:
            path = Path(notebook)
            if path.suffix != ".ipynb" or not path.is_file():
                raise ValueError(f"notebook must be an existing .ipynb file, got {notebook!r}")
            found = exercise_inventory(json.loads(path.read_text(encoding="utf-8")))
            checkers = found.checkers & set(CHECKERS)
            print(f"{path.name:<40} {len(found.exercises):>9} {len(found.solutions):>9} {len(checkers):>8}")
    except (ValueError, OSError) as exc:
        print(f"{parser.prog}: error: {exc}", file=sys.stderr)
        return 2
    return 0


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    set_language(_language(argv), figures=False)  # figures: only with --plot (fonts load matplotlib)
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "exercises":
        return _exercises(args, parser)
    from .batch import run_experiments  # heavy imports after parsing: --help stays fast
    from .simulation import FLConfig

    try:
        config = FLConfig(
            n_clients=args.clients,
            rounds=args.rounds,
            fraction=args.fraction,
            local_epochs=args.local_epochs,
            batch_size=args.batch_size,
            client_learning_rate=args.client_lr,
            client_momentum=args.client_momentum,
            mu=args.mu,
            server_optimizer=args.server_optimizer,
            server_learning_rate=args.server_lr,
            server_momentum=args.server_momentum,
            partition=args.partition,
            alpha=args.alpha,
            shards_per_client=args.shards,
            hidden_units=tuple(args.hidden),
            dataset=args.dataset,
            seed=args.seed,
            devices=args.devices,
            dropout=args.dropout,
            deadline=args.deadline,
            straggler_policy=args.straggler_policy,
            client_weighting=args.client_weighting,
            scaffold=args.scaffold,
            compression=args.compression,
            topk_fraction=args.topk_fraction,
        )
        if args.plot is not None and not args.plot.lower().endswith(".png"):
            raise ValueError(f"--plot must name a .png file, got {args.plot!r}")
        if not 0.0 <= args.target <= 1.0:
            raise ValueError(f"--target must be in [0, 1], got {args.target}")
        # a progress bar over the rounds in a terminal (the run then goes in parts: the same numbers)
        history = run_experiments([config], progress="auto")[0]
    except (ValueError, TypeError) as exc:
        print(f"{parser.prog}: error: {exc}", file=sys.stderr)
        return 2
    if not args.quiet:
        print(history.table())
    print(history.summary(args.target))
    if history.simulated_seconds is not None:
        print(
            tr("simulated wall clock: {total} s ({per_round} s per round)").format(
                total=f"{history.simulated_seconds.sum():.1f}", per_round=f"{history.simulated_seconds.mean():.2f}"
            )
        )
    if args.plot:
        import matplotlib

        matplotlib.use("Agg")
        set_language(args.language)  # and the figure's fonts
        from .plots import plot_history

        ax = plot_history(history, labels=[f"{config.server_optimizer}, {config.partition}"], target=args.target)
        try:
            ax.figure.savefig(args.plot, dpi=100, bbox_inches="tight")
        except OSError as exc:
            print(f"{parser.prog}: error: --plot could not write {args.plot!r}: {exc.strerror}", file=sys.stderr)
            return 2
        print(tr("learning curve written to {path}").format(path=args.plot))
    return 1 if history.diverged else 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
