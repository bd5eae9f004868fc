"""Helpers shared by the test modules (imported as ``helpers``)."""
from __future__ import annotations

import os
import pathlib
import subprocess
import sys

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[1]

#: the article's network: Dense(64) on 20 inputs, then Dense(3)
ARTICLE_N_PARAMETERS = 20 * 64 + 64 + 64 * 3 + 3


def subprocess_env() -> dict:
    """The environment for a child ``python``: this checkout of the package first on the path."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT)] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
    return env


def run_python(args, cwd=None, timeout=180) -> subprocess.CompletedProcess:
    """Run ``python <args>`` with this checkout of the package importable."""
    return subprocess.run([sys.executable, *args], cwd=cwd or ROOT, env=subprocess_env(),
                          capture_output=True, text=True, timeout=timeout)


def js_distance_base2(p, q) -> float:
    """Reference Jensen-Shannon distance (base 2), written independently of the package."""
    p = np.asarray(p, dtype=float)
    q = np.asarray(q, dtype=float)
    m = (p + q) / 2

    def kl(a, b):
        total = 0.0
        for ai, bi in zip(a, b, strict=True):
            if ai > 0:
                total += ai * np.log2(ai / bi)
        return total

    return float(np.sqrt(0.5 * kl(p, m) + 0.5 * kl(q, m)))


def run_both_engines(config, **run_options):
    """Run ``config`` on the vectorised and on the per-client engine and check what must agree:
    final weights to 1e-5 relative, bytes down and up exactly. Returns (fast, slow) Histories."""
    import fedlearn_edu as fl
    fast = fl.run_experiment(config.replace(engine="vectorized"), **run_options)
    slow = fl.run_experiment(config.replace(engine="per_client"), **run_options)
    assert (fast.engine, slow.engine) == ("vectorized", "per_client")
    for a, b in zip(fast.final_weights, slow.final_weights, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5 * max(float(np.max(np.abs(b))), 1e-6))
    np.testing.assert_array_equal(fast.bytes_up, slow.bytes_up)
    np.testing.assert_array_equal(fast.bytes_down, slow.bytes_down)
    return fast, slow


def solution_text(stem: str, exercise: int) -> str:
    """The collapsed solution (``<details>`` block) of exercise ``exercise`` in the committed
    notebook ``notebooks/<stem>.ipynb``, as the student reads it."""
    import json
    import re
    notebook = json.loads((ROOT / "notebooks" / f"{stem}.ipynb").read_text(encoding="utf-8"))
    markdown = "\n".join("".join(c["source"]) for c in notebook["cells"] if c["cell_type"] == "markdown")
    exercises = markdown[markdown.index("## Exercises"):]
    separate = re.search(rf"<details><summary>Solution to exercise {exercise}</summary>(.*?)</details>",
                         exercises, flags=re.S)
    if separate:
        return separate.group(1)
    match = re.search(rf"(?m)^\s*{exercise}\. (.*?)(?=^\s*\d+\. |\*\*Next|\Z)", exercises, flags=re.S)
    assert match, f"{stem} has no exercise {exercise}"
    details = re.search(r"<details>(.*?)</details>", match.group(1), flags=re.S)
    assert details, f"{stem}, exercise {exercise} has no collapsed solution"
    return details.group(1)


def assert_states_in_order(text: str, numbers) -> None:
    """Every formatted number of ``numbers`` occurs in ``text`` as a whole token, in this order."""
    import re
    position = 0
    for number in numbers:
        match = re.compile(rf"(?<![\d.]){re.escape(str(number))}(?![\d])").search(text, position)
        assert match, f"the solution does not state {number} (after {text[max(0, position - 40):position]!r})"
        position = match.end()
