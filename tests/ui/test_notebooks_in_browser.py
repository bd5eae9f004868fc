"""Every notebook, opened in a real JupyterLab in Chromium, runs clean and renders its widgets."""
import json
from pathlib import Path

import pytest

from .conftest import ARTIFACTS, ROOT
from .helpers import full_screenshot, open_notebook, run_all, shut_down_kernel, wait_for_widgets

NOTEBOOKS = sorted(p.name for p in (ROOT / "notebooks").glob("[0-9][0-9]*_*.ipynb"))
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"


def expected_widget_outputs(name: str) -> int:
    nb = json.loads((ROOT / "notebooks" / name).read_text())
    return sum(WIDGET_MIME in o.get("data", {}) for c in nb["cells"] if c["cell_type"] == "code"
               for o in c["outputs"])


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_runs_in_jupyterlab(lab_server, page, name):
    log_before = Path(lab_server["log"]).read_text()
    open_notebook(page, lab_server, name)
    seconds = run_all(page)
    widgets = wait_for_widgets(page)
    outputs = page.locator(".jp-OutputArea-output")
    text = "\n".join(outputs.all_inner_texts())
    ARTIFACTS.mkdir(exist_ok=True)
    full_screenshot(page, ARTIFACTS / f"{Path(name).stem}.png")
    shut_down_kernel(page)
    print(f"{name}: ran in the browser in {seconds:.1f} s, {widgets} widget views rendered")
    assert page.locator('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]').count() == 0, \
        f"stderr or error output in {name}:\n{text[-2000:]}"
    assert "Traceback" not in text
    assert "Error displaying widget" not in text
    assert page.get_by_text("Loading widget").count() == 0
    for raw in ("IntSlider(", "FloatSlider(", "FloatLogSlider(", "interactive(children", "HBox(children"):
        assert raw not in text, f"a widget was shown as text ({raw}) in {name}: is the widget manager missing?"
    assert widgets >= expected_widget_outputs(name), f"{name}: fewer widgets rendered than the notebook displays"
    new_log = Path(lab_server["log"]).read_text()[len(log_before):]
    assert "Traceback" not in new_log, new_log[-3000:]
