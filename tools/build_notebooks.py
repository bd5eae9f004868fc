"""Build the numbered notebooks from their percent-format sources and run them.

    python tools/build_notebooks.py                 # every notebooks/src/NN_*.py
    python tools/build_notebooks.py 02 05           # only those numbers
    python tools/build_notebooks.py --check         # sources of notebooks/*.ipynb match src/?

Sources use the ``# %%`` / ``# %% [markdown]`` cell markers (the jupytext "percent"
format). Each notebook is executed top to bottom in a fresh kernel of this Python,
collecting outputs the way nbval does (every display_data, execute_result, stream
and error of the cell, streams coalesced), so that ``pytest --nbval`` re-runs them
and compares like with like. Widget state is not stored in the metadata.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import nbformat
from jupyter_client.manager import start_new_kernel

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
SOURCES = NOTEBOOKS / "src"
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}


def parse_percent(text: str) -> list[nbformat.NotebookNode]:
    """Cells of a percent-format script."""
    cells, kind, lines = [], None, []

    def flush():
        if kind is None:
            return
        while lines and not lines[-1].strip():
            lines.pop()
        while lines and not lines[0].strip():
            lines.pop(0)
        if kind == "markdown":
            body = "\n".join(line[2:] if line.startswith("# ") else line.lstrip("#") for line in lines)
            cells.append(nbformat.v4.new_markdown_cell(body))
        else:
            cells.append(nbformat.v4.new_code_cell("\n".join(lines)))

    for line in text.splitlines():
        if line.startswith("# %%"):
            flush()
            kind, lines = ("markdown" if "[markdown]" in line else "code"), []
        elif kind is not None:
            lines.append(line)
    flush()
    return cells


def execute(nb: nbformat.NotebookNode, cwd: Path, timeout: float = 600) -> float:
    """Run every code cell in a fresh kernel; store outputs and execution counts."""
    from nbval.plugin import coalesce_streams
    km, kc = start_new_kernel(kernel_name="python3", cwd=str(cwd))
    t0 = time.perf_counter()
    try:
        for cell in nb.cells:
            if cell.cell_type != "code":
                continue
            msg_id = kc.execute(cell.source, allow_stdin=False)
            outputs = []
            while True:
                msg = kc.get_iopub_msg(timeout=timeout)
                if msg["parent_header"].get("msg_id") != msg_id:
                    continue
                kind, content = msg["msg_type"], msg["content"]
                if kind == "status" and content["execution_state"] == "idle":
                    break
                if kind in ("display_data", "execute_result"):
                    out = nbformat.v4.new_output(kind, data=content["data"], metadata=content["metadata"])
                    if kind == "execute_result":
                        out.execution_count = content["execution_count"]
                    outputs.append(out)
                elif kind == "stream":
                    outputs.append(nbformat.v4.new_output("stream", name=content["name"], text=content["text"]))
                elif kind == "error":
                    raise RuntimeError(f"cell failed:\n{cell.source}\n\n{content['ename']}: {content['evalue']}")
            reply = kc.get_shell_msg(timeout=timeout)
            while reply["parent_header"].get("msg_id") != msg_id:
                reply = kc.get_shell_msg(timeout=timeout)
            cell.execution_count = reply["content"]["execution_count"]
            cell.outputs = coalesce_streams(outputs)
            for out in cell.outputs:
                if out.output_type == "execute_result":
                    out.execution_count = cell.execution_count
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    return time.perf_counter() - t0


def build(source: Path, run: bool = True) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.metadata = {"kernelspec": KERNELSPEC, "language_info": {"name": "python"}}
    nb.cells = parse_percent(source.read_text(encoding="utf-8"))
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"{source.stem[:2]}-{i:03d}"
    target = NOTEBOOKS / f"{source.stem}.ipynb"
    if run:
        seconds = execute(nb, NOTEBOOKS)
        print(f"{target.name}: ran in {seconds:.1f} s")
    nb.metadata.pop("widgets", None)
    nbformat.validate(nb)
    nbformat.write(nb, target)
    return target


def check() -> list[str]:
    """Names of notebooks whose cell sources differ from their percent source."""
    stale = []
    for source in sorted(SOURCES.glob("[0-9][0-9]_*.py")):
        target = NOTEBOOKS / f"{source.stem}.ipynb"
        want = [(c.cell_type, c.source) for c in parse_percent(source.read_text(encoding="utf-8"))]
        have = [(c.cell_type, c.source) for c in nbformat.read(target, 4).cells] if target.exists() else None
        if want != have:
            stale.append(target.name)
    return stale


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("numbers", nargs="*", help="two-digit notebook numbers (default: all)")
    parser.add_argument("--check", action="store_true", help="only check that notebooks match their sources")
    args = parser.parse_args(argv)
    if args.check:
        stale = check()
        print("stale: " + ", ".join(stale) if stale else "all notebooks match their sources")
        return 1 if stale else 0
    sources = sorted(SOURCES.glob("[0-9][0-9]_*.py"))
    if args.numbers:
        sources = [s for s in sources if s.name[:2] in args.numbers]
    for source in sources:
        build(source)
    return 0


if __name__ == "__main__":
    sys.exit(main())
