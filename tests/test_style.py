"""One plotting style for every figure of the kit: >= 11 pt, >= 100 dpi, Okabe-Ito colours."""
import matplotlib

matplotlib.use("Agg")

import fedlearn_edu as fl  # noqa: E402
from fedlearn_edu import style  # noqa: E402


def test_pyplot_applies_the_style():
    plt = style.pyplot()
    rc = matplotlib.rcParams
    assert rc["font.size"] >= 11 and rc["axes.labelsize"] >= 11 and rc["legend.fontsize"] >= 11
    assert rc["figure.dpi"] >= 100 and rc["savefig.dpi"] >= 100
    assert [c.upper() for c in rc["axes.prop_cycle"].by_key()["color"]] == list(style.OKABE_ITO)
    assert plt is matplotlib.pyplot


def test_a_kit_figure_uses_it():
    history = fl.run_experiment(fl.FLConfig(rounds=2, n_clients=3))
    fl.plots.plot_history(history)
    plt = style.pyplot()
    fig = plt.gcf()
    texts = [t for ax in fig.axes for t in (ax.xaxis.label, ax.yaxis.label, *ax.get_xticklabels()) if t.get_text()]
    assert texts and min(t.get_fontsize() for t in texts) >= 11
    line_colours = {matplotlib.colors.to_hex(line.get_color()).upper() for ax in fig.axes for line in ax.lines}
    assert line_colours <= set(style.OKABE_ITO), line_colours
    plt.close(fig)


def test_no_module_keeps_its_own_pyplot_import():
    from pathlib import Path
    root = Path(fl.__file__).parent
    offenders = [str(p.relative_to(root)) for p in root.rglob("*.py")
                 if p.name != "style.py" and "import matplotlib.pyplot" in p.read_text(encoding="utf-8")]
    assert offenders == []


def test_no_small_fonts_or_off_palette_colours_in_the_source():
    """Figures keep to the style: no font below 11 pt and no named colour outside Okabe-Ito, except
    the numbers written inside small cells (heatmap counts, bar labels), listed here with their reason."""
    import re
    from pathlib import Path
    small_allowed = {"plots.py": "counts inside heatmap cells", "applications.py": "counts under narrow bars"}
    root = Path(fl.__file__).parent
    small, colours = [], []
    for path in root.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        for match in re.finditer(r"fontsize=(\d+)", text):
            if int(match.group(1)) < 11 and path.name not in small_allowed:
                small.append(f"{path.name}: {match.group(0)}")
        named = re.finditer(r"color=\"(tab:\w+|red|green|blue|orange)\"", text)
        colours += [f"{path.name}: {m.group(0)}" for m in named]
    assert small == [] and colours == [], small + colours


# --- figures in the notebooks: alt text next to each, a title and labelled axes where a cell draws one ------------
import json  # noqa: E402
import re  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("[0-9][0-9]*_*.ipynb"))
ALT_TEXT = "*Figure:*"


def _text(cell):
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_figure_has_alt_text_next_to_it(path):
    """A screen reader (and a student on a slow connection) gets the figure's point as a sentence: the Markdown
    cell right after a cell that draws starts with '*Figure:*' and says what the figure shows."""
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    missing = []
    for index, cell in enumerate(cells):
        draws = any("image/png" in o.get("data", {}) for o in cell.get("outputs", []))
        if cell["cell_type"] != "code" or not draws:
            continue
        after = cells[index + 1] if index + 1 < len(cells) else None
        if after is None or after["cell_type"] != "markdown" or not _text(after).lstrip().startswith(ALT_TEXT):
            missing.append(f"cell {cell.get('id')}: {_text(cell).splitlines()[0][:60]!r}")
    assert missing == [], f"{path.name}: figures without a '{ALT_TEXT} ...' sentence right after them: {missing}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_a_figure_drawn_in_a_notebook_has_a_title_and_labelled_axes(path):
    """Figures the kit draws are titled and labelled by its functions (tested above and in the widget tests);
    a notebook cell that makes its own axes sets them itself."""
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    unlabelled = []
    for cell in cells:
        source = _text(cell)
        if cell["cell_type"] != "code" or not re.search(r"plt\.(subplots|figure)\(", source):
            continue
        titled = re.search(r"set_title\(|suptitle\(|title=", source)
        labelled = re.search(r"set_xlabel\(|xlabel=|set\(.*xlabel", source) and re.search(
            r"set_ylabel\(|ylabel=|set\(.*ylabel", source)
        if not (titled and labelled):
            unlabelled.append(f"cell {cell.get('id')}: {source.splitlines()[0][:60]!r}")
    assert unlabelled == [], f"{path.name}: figures without a title or an axis label: {unlabelled}"


def test_the_figure_audit_finds_a_missing_title_and_label():
    """tests/conftest.py checks every figure the kit shows during the tests; here, that the check can fail."""
    from conftest import figure_problems
    plt = style.pyplot()
    fig, (left, right) = plt.subplots(1, 2, sharey=True)
    left.plot([0, 1], [0, 1])
    right.bar(["a", "b"], [1, 2])
    left.set_ylabel("accuracy")
    assert figure_problems(fig) == ["axes 0 (untitled): no title", "axes 0 (untitled): no x label",
                                    "axes 1 (untitled): no title", "axes 1 (untitled): no x label"]
    fig.suptitle("two panels")
    left.set_xlabel("round")
    right.set_xlabel("method")
    assert figure_problems(fig) == []            # the y label is shared, the title is the figure's
    plt.close(fig)
