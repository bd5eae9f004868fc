"""Static checks of the committed notebooks (nbval re-runs them; these check their shape)."""
import json
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import build_notebooks  # noqa: E402

NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]*_*.ipynb"))


def test_notebooks_match_their_sources():
    assert build_notebooks.check() == []


def test_every_source_has_a_notebook():
    sources = {p.stem for p in (ROOT / "notebooks" / "src").glob("[0-9][0-9]*_*.py")}
    assert sources == {p.stem for p in NOTEBOOKS}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_shape(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    assert re.fullmatch(r"\d\d[a-z]?_[a-z0-9_]+\.ipynb", path.name)
    assert "widgets" not in nb["metadata"], "widget state must be stripped"
    markdown = "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")
    first = "".join(nb["cells"][0]["source"])
    assert first.startswith(f"# {path.name.split('_')[0]} ")
    for heading in ("What you will learn", "Article section", "Prerequisites", "## Summary", "## Exercises"):
        assert heading in markdown, f"{path.name} lacks '{heading}'"
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert "set_seed(" in "".join(code[0]["source"]) and "print_versions()" in "".join(code[0]["source"])
    counts = [c["execution_count"] for c in code]
    assert counts == list(range(1, len(code) + 1)), "run top to bottom once, in a fresh kernel"
    for cell in code:
        assert all(o["output_type"] != "error" for o in cell["outputs"])
        assert not any(o.get("name") == "stderr" for o in cell["outputs"]), "no stderr (TF logs, warnings)"
    index = sorted(p.name for p in NOTEBOOKS)
    if path.name != index[-1]:
        nxt = index[index.index(path.name) + 1]
        assert f"({nxt})" in markdown, f"{path.name} must end with a link to {nxt}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_link_and_notebook_number_resolves(path):
    """Links to files (other notebooks, the glossary, assets) and "notebook NN" in the prose point at something
    that exists: a notebook renamed or split (07 -> 07/07b, 09 -> 09/09b) leaves no stale reference."""
    stale = []
    for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
        if cell["cell_type"] != "markdown":
            continue
        text = "".join(cell["source"])
        for match in re.finditer(r"\]\(([^)\s#]+)(?:#[^)]*)?\)", text):
            if not match.group(1).startswith(("http:", "https:")) and not (path.parent / match.group(1)).exists():
                stale.append(match.group(1))
        for match in re.finditer(r"\b[Nn]otebooks? (\d\d[a-z]?)\b", text):
            if not list(path.parent.glob(f"{match.group(1)}_*.ipynb")):
                stale.append(f"notebook {match.group(1)}")
    assert stale == [], f"{path.name} refers to what does not exist: {stale}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_sliders_come_with_classroom_controls(path):
    """Every slider a notebook shows sits in a panel with presets, reset and a busy line (fl.widgets.ControlPanel,
    or the lab's dashboard), never in a bare @interact / interactive_output."""
    bare = [line.strip() for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]
            if cell["cell_type"] == "code" for line in "".join(cell["source"]).splitlines()
            if re.match(r"\s*(@interact\b|.*\binteractive_output\(|.*\binteractive\()", line)]
    assert bare == [], f"{path.name} shows sliders without presets, reset and busy line: {bare}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_at_most_one_check_cell_per_section(path):
    """Issue 16: a section states its claim and checks it in one cell next to it, not in a scatter of verdicts.
    Sections are delimited by Markdown headings (# to ####); solution cells do not count."""
    counts: dict[str, int] = {}
    section = "(before the first heading)"
    for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
        source = "".join(cell["source"])
        if cell["cell_type"] == "markdown":
            headings = [line.strip() for line in source.splitlines() if re.match(r"#{1,4} ", line)]
            section = headings[-1] if headings else section
        elif "fl.check(" in source and "solution" not in cell.get("metadata", {}).get("tags", []):
            counts[section] = counts.get(section, 0) + 1
    crowded = {name: n for name, n in counts.items() if n > 1}
    assert crowded == {}, f"{path.name}: sections with more than one check cell: {crowded}"
