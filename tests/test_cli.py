"""The command line: ``python -m fedlearn_edu run ...``.

Most cases call ``fedlearn_edu.cli.main`` in-process (a subprocess costs a TensorFlow
import); two run the real ``python -m fedlearn_edu`` to check the module entry point,
exit status and streams end to end.
"""
from __future__ import annotations

from pathlib import Path

import pytest
from helpers import run_python

from fedlearn_edu import cli

PROG = "python -m fedlearn_edu"


def _run_options():
    parser = cli.build_parser()
    sub = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    run = sub.choices["run"]
    return [s for a in run._actions for s in a.option_strings if s.startswith("--")]


# ---------------------------------------------------------------------------------------
# subprocess: the real entry point
@pytest.mark.slow      # a fresh Python process imports TensorFlow
def test_subprocess_run_prints_the_table():
    proc = run_python(["-m", "fedlearn_edu", "run", "--clients", "3", "--rounds", "2"])
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].split() == ["round", "clients", "loss", "accuracy", "MB"]
    assert lines[1].split()[:2] == ["1", "3"]
    assert lines[2].split()[:2] == ["2", "3"]
    assert "finished 2 rounds" in proc.stdout
    assert "final test accuracy" in proc.stdout
    assert "Traceback" not in proc.stderr


@pytest.mark.slow      # a fresh Python process imports TensorFlow
def test_subprocess_bad_value_exits_2_with_one_line():
    proc = run_python(["-m", "fedlearn_edu", "run", "--clients", "0"])
    assert proc.returncode == 2
    assert proc.stdout == ""
    err = proc.stderr.strip().splitlines()
    assert len(err) == 1, proc.stderr
    assert err[0].startswith(f"{PROG}: error:")
    assert "n_clients" in err[0] and "got 0" in err[0]
    assert "Traceback" not in proc.stderr


# ---------------------------------------------------------------------------------------
# in-process
def test_run_in_process(capsys):
    assert cli.main(["run", "--clients", "3", "--rounds", "2", "--seed", "1"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["round", "clients", "loss", "accuracy", "MB"]
    assert [line.split()[0] for line in out[1:3]] == ["1", "2"]
    assert out[3] == "finished 2 rounds"


def test_quiet_prints_only_the_summary(capsys):
    assert cli.main(["run", "--clients", "3", "--rounds", "2", "--quiet"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 2
    assert out[0] == "finished 2 rounds"
    assert out[1].startswith("final test accuracy")


def test_plot_writes_a_png(tmp_path, capsys):
    target = tmp_path / "curve.png"
    assert cli.main(["run", "--clients", "3", "--rounds", "2", "--plot", str(target)]) == 0
    assert target.is_file() and target.stat().st_size > 1000
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert f"learning curve written to {target}" in capsys.readouterr().out


def test_plot_into_missing_directory_is_a_clean_error(tmp_path, capsys):
    target = tmp_path / "no" / "such" / "dir" / "curve.png"
    assert cli.main(["run", "--clients", "2", "--rounds", "1", "--plot", str(target)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--plot could not write" in err[0]
    assert not target.exists()


@pytest.mark.parametrize("argv, name, shown", [
    (["--clients", "0"], "n_clients", "got 0"),
    (["--client-lr", "nan"], "client_learning_rate", "got nan"),
    (["--client-lr", "0"], "client_learning_rate", "got 0.0"),
    (["--fraction", "2"], "fraction", "got 2.0"),
    (["--rounds", "0"], "rounds", "got 0"),
    (["--batch-size", "0"], "batch_size", "got 0"),
    (["--alpha", "0", "--partition", "dirichlet"], "alpha", "got 0.0"),
    (["--hidden", "64", "0"], "hidden_units", "got 0"),
    (["--seed", "-1"], "seed", "got -1"),
    (["--clients", "900"], "n_clients", "got 900"),
    (["--target", "1.5"], "--target", "got 1.5"),
    (["--plot", "curve.jpg"], "--plot", "'curve.jpg'"),
])
def test_bad_values_exit_2_with_one_line(capsys, argv, name, shown):
    # "--rounds 1" first keeps the runs short; a later "--rounds" in argv wins
    assert cli.main(["run", "--rounds", "1", *argv]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    err = captured.err.strip().splitlines()
    assert len(err) == 1, captured.err
    assert err[0].startswith(f"{PROG}: error: ")
    assert name in err[0] and shown in err[0]
    assert "Traceback" not in captured.err


@pytest.mark.parametrize("argv", [
    ["run", "--batch-size", "abc"],
    ["run", "--server-optimizer", "sgd"],
    ["run", "--partition", "foo"],
    ["run", "--clients", "ten"],
    [],
])
def test_argparse_errors_exit_2(capsys, argv):
    with pytest.raises(SystemExit) as info:
        cli.main(argv)
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "error:" in err and "Traceback" not in err


def test_divergence_exits_1(capsys):
    assert cli.main(["run", "--client-lr", "10"]) == 1
    out = capsys.readouterr().out
    assert "DIVERGED" in out
    assert "client_learning_rate" in out


def test_full_batch_and_other_options(capsys):
    code = cli.main(["run", "--clients", "4", "--rounds", "2", "--batch-size", "inf", "--local-epochs", "2",
                     "--server-optimizer", "fedadam", "--partition", "shards", "--shards", "2",
                     "--dataset", "breast_cancer", "--hidden", "8", "4", "--client-momentum", "0.5",
                     "--mu", "0.01", "--server-lr", "0.05", "--fraction", "0.5", "--target", "0.5"])
    assert code == 0
    out = capsys.readouterr().out.splitlines()
    assert out[1].split()[:2] == ["1", "2"]            # fraction 0.5 of 4 clients
    assert out[3] == "finished 2 rounds"


def test_help_mentions_every_option(capsys):
    options = _run_options()
    assert {"--clients", "--rounds", "--fraction", "--client-lr", "--plot", "--quiet"} <= set(options)
    with pytest.raises(SystemExit) as info:
        cli.main(["run", "--help"])
    assert info.value.code == 0
    text = capsys.readouterr().out
    for option in options:
        assert option in text, option
    assert "exit status" in text
    with pytest.raises(SystemExit) as info:
        cli.main(["--help"])
    assert info.value.code == 0
    assert "run" in capsys.readouterr().out


def test_exercises_table_counts_exercises_solutions_and_checkers(capsys):
    from fedlearn_edu.cli import main
    notebook = Path(__file__).resolve().parents[1] / "notebooks" / "04_fedavg_step_by_step.ipynb"
    assert main(["exercises", str(notebook)]) == 0
    header, row = capsys.readouterr().out.splitlines()
    assert header.split() == ["notebook", "exercises", "solutions", "checkers"]
    name, exercises, solutions, checkers = row.split()
    assert name == notebook.name and exercises == solutions and int(checkers) >= 2


@pytest.mark.parametrize("argv, shown", [
    (["exercises", "--strip", "README.md"], "existing .ipynb file, got 'README.md'"),
    (["exercises", "missing.ipynb"], "existing .ipynb file, got 'missing.ipynb'"),
])
def test_exercises_bad_paths_exit_2_with_one_line(capsys, argv, shown):
    from fedlearn_edu.cli import main
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert shown in err and len(err.strip().splitlines()) == 1
