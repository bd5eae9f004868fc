"""Read the knobs of a notebook's ``parameters`` cell and the range each one is tested on.

Every notebook has one code cell tagged ``parameters`` (papermill's convention), right after
its set-up cell. Each knob is one line, its range in the comment after the last colon::

    n_clients = 10               # clients K: 2 .. 50
    client_learning_rate = 0.1   # client learning rate η_l: 0.001 .. 10
    partition = "dirichlet"      # how the data are split: one of "iid", "dirichlet", "shards"

``python tools/notebook_parameters.py NN`` prints them; ``tests/test_parameters.py`` runs each
notebook with papermill with the knobs moved to the ends of their ranges.
"""
from __future__ import annotations

import ast
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
TAG = "parameters"


@dataclass(frozen=True)
class Knob:
    """One line of a parameters cell: ``name = default  # what: low .. high`` or ``one of ...``."""

    name: str
    default: Any
    low: Any = None
    high: Any = None
    choices: tuple = ()

    @property
    def edges(self) -> tuple:
        """The values a test moves the knob to: both ends of the range, or every choice."""
        return self.choices if self.choices else (self.low, self.high)


def _typed(text: str, like: Any) -> Any:
    """``text`` as a Python value; an integer end of a float knob's range becomes a float."""
    value = ast.literal_eval(text.strip())
    return float(value) if isinstance(like, float) and isinstance(value, int) else value


def parse_line(line: str) -> Knob | None:
    """The knob a line defines, or None for a comment or a blank line.

    Raises
    ------
    ValueError
        If an assignment has no range in its comment, or a range that does not contain its default.
    """
    code, _, comment = line.partition("#")
    if not code.strip():
        return None
    name, equals, value = code.partition("=")
    if not equals or not name.strip().isidentifier():
        raise ValueError(f"not a knob: {line!r} (write: name = value  # what: low .. high)")
    name, default = name.strip(), ast.literal_eval(value.strip())
    spec = comment.rpartition(":")[2].strip()
    if spec.startswith("one of "):
        choices = tuple(ast.literal_eval(f"({spec[len('one of '):]},)"))
        if default not in choices:
            raise ValueError(f"{name} = {default!r} is not one of its choices {choices}")
        return Knob(name, default, choices=choices)
    low, dots, high = spec.partition("..")
    if not dots:
        raise ValueError(f"{name} has no range: end its comment with ': low .. high' or ': one of a, b'")
    knob = Knob(name, default, _typed(low, default), _typed(high, default))
    if default is not None and not knob.low <= default <= knob.high:
        raise ValueError(f"{name} = {default!r} lies outside its range {knob.low} .. {knob.high}")
    return knob


def read_knobs(notebook_path: Path) -> list[Knob]:
    """The knobs of the notebook's ``parameters`` cell (empty if it has none)."""
    cells = json.loads(Path(notebook_path).read_text(encoding="utf-8"))["cells"]
    tagged = [c for c in cells if TAG in c.get("metadata", {}).get("tags", [])]
    if not tagged:
        return []
    source = "".join(tagged[0]["source"])
    return [knob for knob in map(parse_line, source.splitlines()) if knob is not None]


def main(argv: list[str]) -> int:
    for stem in argv or [p.name.split("_")[0] for p in sorted((ROOT / "notebooks").glob("[0-9][0-9]*_*.ipynb"))]:
        path = next((ROOT / "notebooks").glob(f"{stem}_*.ipynb"))
        print(path.name)
        for knob in read_knobs(path):
            print(f"  {knob.name} = {knob.default!r}: edges {knob.edges}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
