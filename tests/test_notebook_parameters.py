"""The parser of the notebooks' ``parameters`` cells (tools/notebook_parameters.py)."""
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
from notebook_parameters import Knob, parse_line  # noqa: E402


@pytest.mark.parametrize("line, knob", [
    ("n_clients = 10               # clients K: 2 .. 50", Knob("n_clients", 10, 2, 50)),
    ("client_learning_rate = 0.1   # η_l: 0.001 .. 10", Knob("client_learning_rate", 0.1, 0.001, 10.0)),
    ('partition = "iid"  # split: one of "iid", "dirichlet"', Knob("partition", "iid", choices=("iid", "dirichlet"))),
    ("batch_size = 32  # B: one of 8, 32, None", Knob("batch_size", 32, choices=(8, 32, None))),
    ("# a comment", None),
    ("", None),
])
def test_lines_parse(line, knob):
    assert parse_line(line) == knob


def test_edges_are_the_ends_or_every_choice():
    assert parse_line("seed = 0  # seed: 0 .. 20").edges == (0, 20)
    assert parse_line('p = "a"  # x: one of "a", "b"').edges == ("a", "b")


@pytest.mark.parametrize("line, message", [
    ("rounds = 20  # rounds R", "rounds has no range"),
    ("rounds = 200  # rounds R: 1 .. 100", "outside its range 1 .. 100"),
    ('p = "c"  # x: one of "a", "b"', "is not one of its choices"),
    ("print(1)  # x: 1 .. 2", "not a knob"),
])
def test_bad_lines_say_what_is_wrong(line, message):
    with pytest.raises(ValueError, match=message):
        parse_line(line)
