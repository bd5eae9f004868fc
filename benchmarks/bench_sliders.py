"""How long every slider and menu of every notebook takes to answer: p50 and p95 per control.

    python benchmarks/bench_sliders.py                       # every notebook with controls
    python benchmarks/bench_sliders.py --notebooks 11 14     # some of them
    python benchmarks/bench_sliders.py --label after --write # also write the table into results.md
    python benchmarks/bench_sliders.py --package-root DIR    # measure another checkout (e.g. the code before a change)

For each notebook, a fresh Python process runs the notebook's cells (its jupytext source) up to
the last cell that makes a control panel, recording every ``fl.widgets.ControlPanel`` (and notebook
06's dashboard) it makes. Then, in that warm process, it times the panel's callback -- the plain
function the widget calls -- for every control: the default value, the low end and the high end
of the control's range (the other controls at their defaults), each ``--repeats`` times, with the
kit's result caches emptied before every call (so a call computes; a student returning to a value
would get it from the cache at once; data sets, initial weights and compiled trainers stay warm).
Every figure a callback shows (``plt.show()``) is rendered to PNG as the notebook's inline backend
renders it (``bbox_inches="tight"``), then closed. The first call of each panel is reported apart.
In the same process the lab's single run (``run_experiment(FLConfig())``,
median of 5) is timed, and every p50 is also given as a ratio to it.

Separately, in fresh processes: the first run after ``import fedlearn_edu`` (tracing included), and
``python -m fedlearn_edu run`` minus ``python -c "import fedlearn_edu"``, medians of 3.

Targets (issue 17): every control p95 <= 1 s and p50 <= 300 ms after the first call; the first run
in a fresh kernel <= 1.5 s beyond the import. A benchmark prints figures; it asserts nothing.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
P95_TARGET, P50_TARGET, FIRST_RUN_TARGET = 1.0, 0.3, 1.5
#: result caches a call may fill; data sets, initial weights and compiled trainers stay warm
KEEP_CACHES = {"cached_dataset", "initial_weights", "article_setup", "_trainer", "_evaluator", "_simulation",
               "compiled_run"}


# -- inside the worker process ---------------------------------------------------------------------

def _clear_result_caches() -> None:
    import fedlearn_edu
    import fedlearn_edu.memory
    for name, module in list(sys.modules.items()):
        if not name.startswith("fedlearn_edu") or module is None:
            continue
        for attr, value in list(vars(module).items()):
            if attr not in KEEP_CACHES and hasattr(value, "cache_clear") and getattr(value, "__module__", "") == name:
                value.cache_clear()
    fedlearn_edu.memory.forget_all()            # run_cached's and the panels' remembered runs


def _ends(widget, default):
    """The low and high end of what a control can be set to."""
    from fedlearn_edu.widgets.classroom import accepted_values
    allowed = accepted_values(widget)
    if allowed is None:
        return [not default] if isinstance(default, bool) else []
    if allowed[0] == "one of":
        options = list(allowed[1])
        return [options[0], options[-1]]
    low, high = allowed[1], allowed[2]
    if isinstance(default, int) and not isinstance(default, bool):
        low, high = int(round(low)), int(round(high))
    return [low, high]


def _show_as_inline(*args, **kwargs) -> None:
    """``plt.show()`` as the notebook's inline backend does it: each open figure to PNG, then closed."""
    import base64
    import io

    import matplotlib.pyplot as plt
    for number in plt.get_fignums():
        figure = plt.figure(number)
        buffer = io.BytesIO()
        figure.canvas.print_figure(buffer, format="png", dpi=figure.dpi, bbox_inches="tight",
                                   facecolor=figure.get_facecolor(), edgecolor=figure.get_edgecolor())
        base64.b64encode(buffer.getvalue())
    plt.close("all")


def _call(callback, values) -> tuple[float, str | None]:
    import contextlib
    import io

    import matplotlib.pyplot as plt
    _clear_result_caches()
    start = time.perf_counter()
    error = None
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            callback(**values)
    except (ValueError, TypeError) as exc:
        error = f"{type(exc).__name__}: {exc}"[:120]
    seconds = time.perf_counter() - start
    plt.close("all")
    return seconds, error


def worker(notebook: str, repeats: int) -> dict:
    """Run one notebook's cells up to its last panel, then time every control of every panel."""
    os.environ.setdefault("MPLBACKEND", "Agg")
    import jupytext
    source = next((ROOT_OF_PACKAGE / "notebooks" / "src").glob(f"{notebook}_*.py"))
    cells = [c for c in jupytext.read(source).cells if c.cell_type == "code"]
    last = max(i for i, c in enumerate(cells) if "ControlPanel(" in c.source or "FederatedLab(" in c.source)
    import IPython.display
    import matplotlib.pyplot as plt

    import fedlearn_edu
    from fedlearn_edu.widgets import classroom
    panels = []
    original_init = classroom.ControlPanel.__init__

    def recording_init(self, *args, **kwargs):
        original_init(self, *args, **kwargs)
        panels.append(("panel", self))

    classroom.ControlPanel.__init__ = recording_init
    IPython.display.display = lambda *a, **k: None
    plt.show = _show_as_inline
    namespace = {"__name__": "__main__", "display": IPython.display.display}
    os.chdir(source.parent.parent)
    import contextlib
    import io
    with contextlib.redirect_stdout(io.StringIO()):
        for cell in cells[:last + 1]:
            code = "\n".join(line for line in cell.source.splitlines() if not line.lstrip().startswith(("%", "!")))
            exec(compile(code, f"{source.name}", "exec"), namespace)
            plt.close("all")
    if notebook == "06":                      # the dashboard is not a ControlPanel: its callback is run_lab + SVG
        from fedlearn_edu.widgets import lab
        dashboard = lab.FederatedLab.__new__(lab.FederatedLab)
        real = lab.FederatedLab()
        controls = {k: w for k, w in real.controls.items() if k != "preset"}

        def dashboard_callback(**values):
            return lab.lab_svg(lab.run_lab(lab.LabSettings(**values)))
        dashboard.callback, dashboard.controls = dashboard_callback, controls
        dashboard.defaults = {k: w.value for k, w in controls.items()}
        panels.append(("lab dashboard", dashboard))
    # the lab's single run, in this process
    config = fedlearn_edu.FLConfig()
    fedlearn_edu.run_experiment(config, progress=False)
    singles = []
    for _ in range(5):
        start = time.perf_counter()
        fedlearn_edu.run_experiment(config, progress=False)
        singles.append(time.perf_counter() - start)
    one_run = statistics.median(singles)
    rows = []
    for kind, panel in panels:
        callback = panel.callback
        name = getattr(callback, "__name__", "callback")
        first, first_error = _call(callback, dict(panel.defaults))
        for control, widget in panel.controls.items():
            default = panel.defaults[control]
            values = [default] + [v for v in _ends(widget, default) if v != default]
            samples, errors = [], []
            for _ in range(repeats):
                for value in values:
                    seconds, error = _call(callback, {**panel.defaults, control: value})
                    samples.append(seconds)
                    if error:
                        errors.append(f"{value!r}: {error}")
            rows.append({"panel": f"{name}" if kind == "panel" else kind, "control": control,
                         "label": getattr(widget, "description", "") or control,
                         "values": [_short(v) for v in values], "first": first, "first_error": first_error,
                         "samples": samples, "errors": errors[:2]})
    return {"notebook": notebook, "package": str(Path(fedlearn_edu.__file__).resolve().parent), "one_run": one_run,
            "rows": rows}


def _short(value) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


# -- fresh-process figures --------------------------------------------------------------------------

def fresh_kernel_first_run(env: dict, repeats: int = 3) -> dict:
    # python -c and python -m put the working directory first on sys.path: run in the measured checkout,
    # or a checkout in the working directory would be imported instead of the one on PYTHONPATH
    cwd = str(ROOT_OF_PACKAGE)
    code = ("import time; t0 = time.perf_counter(); import fedlearn_edu as fl; t1 = time.perf_counter(); "
            "fl.run_experiment(fl.FLConfig(), progress=False); t2 = time.perf_counter(); "
            "print(fl.__file__); print(t1 - t0, t2 - t1)")
    imports, firsts, packages = [], [], set()
    for _ in range(repeats):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True,
                             cwd=cwd)
        a, b = map(float, out.stdout.split()[-2:])
        packages.add(str(Path(out.stdout.splitlines()[-2]).resolve().parent))
        imports.append(a)
        firsts.append(b)
    cli, bare = [], []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "fedlearn_edu", "run"], capture_output=True, env=env, check=True, cwd=cwd)
        cli.append(time.perf_counter() - start)
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import fedlearn_edu"], capture_output=True, env=env, check=True, cwd=cwd)
        bare.append(time.perf_counter() - start)
    return {"import": statistics.median(imports), "first_run": statistics.median(firsts),
            "cli_minus_import": statistics.median(cli) - statistics.median(bare), "cli": statistics.median(cli),
            "bare_import": statistics.median(bare), "package": ", ".join(sorted(packages))}


# -- the driver ------------------------------------------------------------------------------------

def _percentile(samples, q) -> float:
    ordered = sorted(samples)
    k = (len(ordered) - 1) * q / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def table(results: list[dict]) -> list[str]:
    lines = ["| notebook | control | values timed | first call (s) | p50 (ms) | p95 (ms) | p50 / one lab run | "
             "meets target |", "|---|---|---|---|---|---|---|---|"]
    for result in results:
        for row in result["rows"]:
            p50, p95 = _percentile(row["samples"], 50), _percentile(row["samples"], 95)
            ok = "yes" if p50 <= P50_TARGET and p95 <= P95_TARGET else "no"
            note = f" (errors: {'; '.join(row['errors'])})" if row["errors"] else ""
            lines.append(f"| {result['notebook']} {row['panel']} | {row['label']} | {', '.join(row['values'])} | "
                         f"{row['first']:.2f} | {p50 * 1000:.0f} | {p95 * 1000:.0f} | "
                         f"{p50 / result['one_run']:.1f}x | {ok}{note} |")
    return lines


def summary(results: list[dict], fresh: dict) -> list[str]:
    rows = [(r["notebook"], row) for r in results for row in r["rows"]]
    p50s = [_percentile(row["samples"], 50) for _, row in rows]
    p95s = [_percentile(row["samples"], 95) for _, row in rows]
    meets = sum(1 for a, b in zip(p50s, p95s, strict=True) if a <= P50_TARGET and b <= P95_TARGET)
    worst = max(rows, key=lambda nr: _percentile(nr[1]["samples"], 95)) if rows else None
    lines = [f"Controls: {len(rows)}; meeting both targets (p50 <= {P50_TARGET * 1000:.0f} ms, p95 <= "
             f"{P95_TARGET:g} s): {meets}. "
             f"Median of the p50s: {statistics.median(p50s or [float('nan')]) * 1000:.0f} ms."]
    if worst:
        nb, row = worst
        lines.append(f"Slowest control: {nb} {row['label']}, p95 {_percentile(row['samples'], 95):.2f} s.")
    one_runs = [r["one_run"] for r in results]
    lines.append(f"The lab's single run (run_experiment(FLConfig()), median of 5 per process): "
                 f"{statistics.median(one_runs or [float('nan')]) * 1000:.1f} ms (median over the processes).")
    lines.append(f"Fresh process (python -c): import {fresh['import']:.2f} s; first "
                 f"`run_experiment(FLConfig())` after the import {fresh['first_run']:.2f} s (target <= "
                 f"{FIRST_RUN_TARGET:g} s). `python -m fedlearn_edu run` {fresh['cli']:.2f} s minus "
                 f"`python -c \"import fedlearn_edu\"` {fresh['bare_import']:.2f} s = "
                 f"{fresh['cli_minus_import']:.2f} s. Medians of 3.")
    packages = sorted({r["package"] for r in results} | {fresh["package"]})
    lines.append(f"Package measured: {', '.join(packages)}.")
    return lines


def write_section(label: str, lines: list[str]) -> None:
    path = HERE / "results.md"
    text = path.read_text(encoding="utf-8")
    heading = f"## Sliders: every control's callback (bench_sliders.py) — {label}"
    section = heading + "\n\n" + "\n".join(lines) + "\n"
    pattern = re.compile(rf"^{re.escape(heading)}\n.*?(?=^## |\Z)", re.S | re.M)
    text = pattern.sub(lambda _: section + "\n", text) if pattern.search(text) else text.rstrip() + "\n\n" + section
    path.write_text(text, encoding="utf-8")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--notebooks", nargs="*", help="notebook numbers (default: every one with controls)")
    parser.add_argument("--repeats", type=int, default=3, help="calls per value and control (default 3)")
    parser.add_argument("--label", default="after", help="the results.md section's label")
    parser.add_argument("--write", action="store_true", help="write the table into benchmarks/results.md")
    parser.add_argument("--package-root", type=Path, default=ROOT, help="the checkout to measure (default: this one)")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    global ROOT_OF_PACKAGE
    ROOT_OF_PACKAGE = args.package_root.resolve()
    if args.worker:
        print("RESULT " + json.dumps(worker(args.worker, args.repeats)))
        return 0
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT_OF_PACKAGE), os.environ.get("PYTHONPATH", "")]),
           "TF_CPP_MIN_LOG_LEVEL": "3", "TF_ENABLE_ONEDNN_OPTS": "0", "MPLBACKEND": "Agg"}
    sources = sorted((ROOT_OF_PACKAGE / "notebooks" / "src").glob("[0-9][0-9]*_*.py"))
    numbers = [p.name.split("_")[0] for p in sources
               if "ControlPanel(" in p.read_text(encoding="utf-8") or "FederatedLab(" in p.read_text(encoding="utf-8")]
    if args.notebooks:
        numbers = [n for n in numbers if n in args.notebooks]
    started = time.perf_counter()
    commit = subprocess.run(["git", "-C", str(ROOT_OF_PACKAGE), "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True).stdout.strip()
    fresh = fresh_kernel_first_run(env)
    print(f"fresh process: first run {fresh['first_run']:.2f} s, CLI minus import {fresh['cli_minus_import']:.2f} s "
          f"({fresh['package']})", file=sys.stderr, flush=True)
    results, failed = [], []

    def report() -> list[str]:
        missing = [n for n in numbers if n not in {r["notebook"] for r in results}]
        lines = [f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}; "
                 f"{datetime.date.today()}; commit {commit}; {args.repeats} rounds of [default, low end, high end] "
                 f"per control; whole benchmark {time.perf_counter() - started:.0f} s.", ""]
        if missing:
            lines[0] += (f" Not measured: notebooks {', '.join(missing)}"
                         f"{' (failed: ' + ', '.join(failed) + ')' if failed else ''}.")
        return lines + summary(results, fresh) + [""] + table(results)

    for number in numbers:
        t0 = time.perf_counter()
        out = subprocess.run([sys.executable, __file__, "--worker", number, "--repeats", str(args.repeats),
                              "--package-root", str(ROOT_OF_PACKAGE)], capture_output=True, text=True, env=env)
        line = next((ln for ln in out.stdout.splitlines() if ln.startswith("RESULT ")), None)
        if line is None:
            failed.append(number)
            print(f"notebook {number}: failed\n{out.stderr[-2000:]}", file=sys.stderr)
            continue
        result = json.loads(line[len("RESULT "):])
        results.append(result)
        print(f"notebook {number}: {len(result['rows'])} controls in {time.perf_counter() - t0:.0f} s "
              f"({result['package']})", file=sys.stderr, flush=True)
        if args.write:                      # after every notebook: an interrupted run keeps what it measured
            write_section(args.label, report())
    lines = report()
    print("\n".join(lines))
    if args.write:
        write_section(args.label, lines)
    return 0


ROOT_OF_PACKAGE = ROOT

if __name__ == "__main__":
    sys.exit(main())
