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
