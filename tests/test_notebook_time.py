"""Every notebook states how long it takes, and the statement agrees with an estimate from its content
(tools/notebook_time.py: words read, code lines run, exercises by kind); no lesson asks more than 40 minutes."""
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import notebook_time  # noqa: E402

NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]*_*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_the_stated_time_agrees_with_the_estimate(path):
    e = notebook_time.estimate(path)
    suggestion = (f"**Time:** about {e.rounded(e.lesson_minutes)} minutes, "
                  f"plus about {e.rounded(e.exercise_minutes)} for the exercises")
    assert e.stated_lesson is not None, f"{path.name} states no time; its opening should say: {suggestion}"
    assert e.agrees(e.stated_lesson, e.lesson_minutes), (
        f"{path.name} states {e.stated_lesson} minutes of lesson, estimated {e.lesson_minutes:.0f}: {suggestion}")
    assert e.agrees(e.stated_exercises, e.exercise_minutes), (
        f"{path.name} states {e.stated_exercises} minutes of exercises, estimated {e.exercise_minutes:.0f}: "
        f"{suggestion}")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_no_lesson_asks_more_than_40_minutes(path):
    e = notebook_time.estimate(path)
    assert e.lesson_minutes <= notebook_time.LONGEST, (
        f"{path.name}: about {e.lesson_minutes:.0f} minutes of lesson; split it")


def test_the_estimate_counts_what_a_student_does(tmp_path):
    import json
    cells = [{"cell_type": "markdown", "metadata": {}, "source": "**Time:** about 5 minutes, plus about 10 for the "
              "exercises\n\n" + "word " * 260},
             {"cell_type": "code", "metadata": {}, "source": "x = 1\n# a comment\ny = 2\n", "outputs": []},
             {"cell_type": "code", "metadata": {"tags": ["solution"]}, "source": "z = 3\n" * 50, "outputs": []},
             {"cell_type": "markdown", "metadata": {}, "source": "## Exercises\n\n1. **Compute.** a\n\n"
              "<details><summary>Solution to exercise 1</summary>\n\n" + "hidden " * 500 + "\n</details>\n\n"
              "2. **Write the function.** b"}]
    path = tmp_path / "99_x.ipynb"
    path.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    e = notebook_time.estimate(path)
    assert e.code_lines == 2 and e.exercise_minutes == 3 + 8
    assert e.stated_lesson == 5 and e.stated_exercises == 10
    assert 260 <= e.words <= 280            # the collapsed solution is not read as lesson
    assert e.agrees(5, e.lesson_minutes) and not e.agrees(30, e.lesson_minutes)


def test_the_readme_pacing_table_is_what_the_notebooks_state():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for row in notebook_time.pacing_table(NOTEBOOKS):
        assert row in readme, f"README.md is stale: expected\n{row}\n(python tools/notebook_time.py --markdown)"
