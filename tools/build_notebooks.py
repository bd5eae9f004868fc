"""Build the numbered notebooks from their paired sources and run them.

    python tools/build_notebooks.py                 # every notebook: read src/NN_*.py, execute, write NN_*.ipynb
    python tools/build_notebooks.py 02 05           # only those numbers
    python tools/build_notebooks.py --sync          # re-pair only (jupytext --sync), keep the outputs
    python tools/build_notebooks.py --no-execute 05 # .ipynb from the .py, outputs kept (no kernel)
    python tools/build_notebooks.py --check         # does every .ipynb match its .py?

Each ``notebooks/NN_*.ipynb`` is paired by jupytext with ``notebooks/src/NN_*.py`` in the
percent format (the notebook's metadata says ``formats: ipynb,src//py:percent``), so an
instructor may edit either one, in JupyterLab (with jupytext installed, saving writes both)
or in a text editor (then ``jupytext --sync`` or this script brings the other up to date).
Cell tags and metadata live in the ``# %%`` lines and survive the round trip.

Execution is nbclient's, in a fresh kernel of this Python, with no widget state, streams
coalesced and no timing metadata, so ``pytest --nbval`` re-runs every notebook and compares
like with like. What this script adds: deterministic cell ids (``NN-000``, ``NN-001``, ...)
so that a rebuild changes no id, and the ``--check`` used by the tests.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

import jupytext
import nbformat

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
SOURCES = NOTEBOOKS / "src"
#: the pairing every notebook carries in its metadata
FORMATS = "ipynb,src//py:percent"
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}


def read_source(source: Path) -> nbformat.NotebookNode:
    """The notebook that a paired ``.py`` describes (no outputs), with deterministic cell ids."""
    nb = jupytext.read(source, fmt="py:percent")
    nb.metadata["kernelspec"] = KERNELSPEC
    nb.metadata["language_info"] = {"name": "python"}
    nb.metadata.setdefault("jupytext", {})["formats"] = FORMATS
    for key in ("text_representation",):
        nb.metadata["jupytext"].pop(key, None)
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"{source.stem.split('_')[0]}-{i:03d}"
    return nb


def execute(nb: nbformat.NotebookNode, timeout: float = 600, cwd: Path = NOTEBOOKS) -> float:
    """Run every code cell in a fresh kernel (nbclient) started in ``cwd``; store outputs and execution counts."""
    from nbclient import NotebookClient

    class AsNbvalSees(NotebookClient):
        """nbclient, except that what an ipywidgets ``Output`` captures stays in the cell's
        outputs: nbval, which re-runs the notebooks, sees those messages there too."""

        def handle_comm_msg(self, outs, msg, cell_index):
            return None

    client = AsNbvalSees(nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(cwd)}},
                         store_widget_state=False, record_timing=False, coalesce_streams=True)
    t0 = time.perf_counter()
    client.execute()
    nb.metadata.pop("widgets", None)
    nb.metadata["language_info"] = {"name": "python"}      # no interpreter version in the committed file
    return time.perf_counter() - t0


def update(source: Path, target: Path) -> nbformat.NotebookNode:
    """The notebook that ``source`` describes, with the outputs that ``target`` holds, matched to the
    cells as ``jupytext --to ipynb --update`` matches them: an inserted cell has none, but an edited cell
    keeps its old outputs until the notebook is re-executed (nbval then tells that they are stale)."""
    from jupytext.combine import combine_inputs_with_outputs

    nb = read_source(source)
    if not target.exists():
        return nb
    nb = combine_inputs_with_outputs(nb, nbformat.read(target, as_version=4), fmt="py:percent")
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"{source.stem.split('_')[0]}-{i:03d}"
    nb.metadata["jupytext"] = {"formats": FORMATS}
    nb.metadata.pop("widgets", None)
    return nb


def build(source: Path, run: bool = True) -> Path:
    """Write ``notebooks/<stem>.ipynb`` from its source: executed, or (``run=False``) with the
    committed outputs (see :func:`update`)."""
    target = NOTEBOOKS / f"{source.stem}.ipynb"
    if run:
        nb = read_source(source)
        seconds = execute(nb)
        print(f"{target.name}: ran in {seconds:.1f} s")
    else:
        nb = update(source, target)
    nbformat.validate(nb)
    nbformat.write(nb, target)
    return target


def _cells(nb: nbformat.NotebookNode) -> list:
    return [(c.cell_type, c.source, c.metadata.get("tags", []), {k: v for k, v in c.metadata.items()
                                                               if k not in ("execution", "tags")})
            for c in nb.cells]


def check() -> list[str]:
    """Names of notebooks that are not what their paired source says: cells (type, source, tags,
    metadata) differ, the pairing is missing, or the source has no notebook."""
    stale = []
    for source in sorted(SOURCES.glob("[0-9][0-9]*_*.py")):
        target = NOTEBOOKS / f"{source.stem}.ipynb"
        if not target.exists():
            stale.append(target.name)
            continue
        have = nbformat.read(target, as_version=4)
        if (_cells(read_source(source)) != _cells(have)
                or have.metadata.get("jupytext", {}).get("formats") != FORMATS):
            stale.append(target.name)
    return stale


def sync(numbers: list[str]) -> None:
    """``jupytext --sync`` for the chosen notebooks: the newer file of each pair wins."""
    for target in sorted(NOTEBOOKS.glob("[0-9][0-9]*_*.ipynb")):
        if not numbers or target.name.split("_")[0] in numbers:
            subprocess.run([sys.executable, "-m", "jupytext", "--sync", str(target)], check=True)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("numbers", nargs="*", help="two-digit notebook numbers (default: all)")
    parser.add_argument("--check", action="store_true", help="only check that notebooks match their sources")
    parser.add_argument("--sync", action="store_true", help="re-pair with jupytext --sync, keep outputs")
    parser.add_argument("--no-execute", action="store_true",
                        help="write the .ipynb from its source, keep its outputs (jupytext update; no kernel)")
    args = parser.parse_args(argv)
    if args.check:
        stale = check()
        print("stale: " + ", ".join(stale) if stale else "all notebooks match their sources")
        return 1 if stale else 0
    if args.sync:
        sync(args.numbers)
        return 0
    sources = sorted(SOURCES.glob("[0-9][0-9]*_*.py"))
    if args.numbers:
        sources = [s for s in sources if s.name.split("_")[0] in args.numbers]
    for source in sources:
        build(source, run=not args.no_execute)
    return 0


if __name__ == "__main__":
    sys.exit(main())
