"""How long a notebook asks of a student, estimated from what it contains, so that the time its opening
states ("**Time:** about 25 minutes, plus about 30 for the exercises") is a measurement and not a wish.

    python tools/notebook_time.py            # every notebook: the estimate, its parts, and the stated time
    python tools/notebook_time.py 07 09b     # some of them
    python tools/notebook_time.py --markdown # the README's pacing table, from the times the notebooks state

The lesson is what a student reads and runs; the exercises are counted apart, because a class may do them
later or as homework. Each part at a pace for a student who reads, runs and thinks:

* prose: the Markdown words a student reads (not the collapsed solutions), at 130 words a minute
  (careful technical reading, with formulas; casual reading is 200-250);
* code: the lines of visible code cells (not hidden solution cells), at 4 seconds a line
  (read it, run it, look at the output);
* exercises, by kind: 3 minutes to predict, compute, explore or think one through, 5 to find a bug,
  8 to write a function or implement a variant.

tests/test_notebook_time.py checks that every notebook states both times, each within 25% (or 5 minutes) of
this estimate, and that no lesson asks more than 40 minutes.
"""
from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"

WORDS_PER_MINUTE = 130
SECONDS_PER_CODE_LINE = 4
MINUTES_PER_EXERCISE = {"find the bug": 5, "write the function": 8, "implement the variant": 8,
                        "find the bug, then write the function": 8}
DEFAULT_EXERCISE_MINUTES = 3
LONGEST = 40          # minutes of lesson at most: "no notebook asks much more than 40 minutes"
TOLERANCE = 0.25      # a stated time may differ from the estimate by this fraction, or by 5 minutes

_DETAILS = re.compile(r"<details>.*?</details>", flags=re.S)
_KIND = re.compile(r"(?m)^\d+\. \*\*([^*]+?)\.?\*\*")
_STATED = re.compile(r"\*\*Time:\*\* about (\d+) minutes(?:, plus about (\d+) for the exercises)?")


@dataclass
class Estimate:
    notebook: str
    words: int
    code_lines: int
    exercise_minutes: float
    stated_lesson: int | None
    stated_exercises: int | None

    @property
    def lesson_minutes(self) -> float:
        return self.words / WORDS_PER_MINUTE + self.code_lines * SECONDS_PER_CODE_LINE / 60

    @staticmethod
    def rounded(minutes: float) -> int:
        """``minutes`` rounded to 5 minutes (at least 5)."""
        return max(5, 5 * round(minutes / 5))

    def agrees(self, stated: int | None, minutes: float) -> bool:
        """Whether a stated time is within the tolerance of an estimate."""
        return stated is not None and abs(stated - minutes) <= max(5.0, TOLERANCE * minutes)


def _source(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def estimate(path: Path) -> Estimate:
    """The estimate for one notebook (an ``.ipynb``)."""
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    words = code_lines = 0
    exercise_minutes = 0.0
    stated: tuple[int | None, int | None] = (None, None)
    for cell in cells:
        text = _source(cell)
        if cell["cell_type"] == "markdown":
            visible = _DETAILS.sub("", text)
            words += len(re.findall(r"[\w′'’.,:;+\-−=<>()/α-ωΑ-Ω]+", visible))
            for kind in _KIND.findall(visible):
                exercise_minutes += MINUTES_PER_EXERCISE.get(kind.strip().lower(), DEFAULT_EXERCISE_MINUTES)
            if stated == (None, None) and (match := _STATED.search(text)):
                stated = tuple(None if g is None else int(g) for g in match.groups())
        elif cell["cell_type"] == "code":
            metadata = cell.get("metadata", {})
            if "solution" in metadata.get("tags", []) or metadata.get("jupyter", {}).get("source_hidden"):
                continue
            code_lines += sum(1 for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#"))
    return Estimate(path.name, words, code_lines, exercise_minutes, *stated)


def _path_of(number: str) -> str:
    n = int(number[:2])
    return "core path" if n <= 8 else ("appendix" if n >= 15 else "going deeper")


def pacing_table(paths: list[Path]) -> list[str]:
    """Markdown rows: notebook, path, the stated lesson and exercise minutes, and a running total of the lesson."""
    rows = ["| notebook | path | lesson | exercises | lessons so far |", "|---|---|---|---|---|"]
    total = 0
    for path in paths:
        e = estimate(path)
        total += e.stated_lesson or 0
        rows.append(f"| [{path.stem}](notebooks/{path.name}) | {_path_of(path.name.split('_')[0])} | "
                    f"{e.stated_lesson} min | {e.stated_exercises} min | {total / 60:.1f} h |")
    return rows


def main(argv: list[str]) -> int:
    paths = sorted(NOTEBOOKS.glob("[0-9][0-9]*_*.ipynb"))
    if argv == ["--markdown"]:
        print("\n".join(pacing_table(paths)))
        return 0
    if argv:
        paths = [p for p in paths if p.name.split("_")[0] in argv]
    print(f"{'notebook':40} {'words':>6} {'code':>5} {'lesson':>7} {'stated':>7} {'exercises':>10} {'stated':>7}")
    for path in paths:
        e = estimate(path)
        print(f"{e.notebook:40} {e.words:6d} {e.code_lines:5d} {e.lesson_minutes:7.1f} {e.stated_lesson or '-':>7} "
              f"{e.exercise_minutes:10.0f} {e.stated_exercises or '-':>7}"
              f"   -> **Time:** about {e.rounded(e.lesson_minutes)} minutes, "
              f"plus about {e.rounded(e.exercise_minutes)} for the exercises")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
